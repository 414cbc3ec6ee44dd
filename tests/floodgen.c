/*
 * floodgen.c: the population model behind test_flood.  Each UE's life is
 * drawn from its own random stream (registrations, calls, messages,
 * keep-alives); attacks are added on top; all events are sorted by time
 * and written as frames.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floodgen.h"
#include "pktgen.h"

#define T0		1764547200.0	/* 2025-12-01 00:00 UTC */

enum ev_kind {
	E_REG1, E_R401, E_REG2, E_R200,
	E_SUB, E_SUB200, E_NOTIFY, E_NOT200,
	E_OPT, E_OPT200, E_PING, E_PING200,
	E_INV, E_100, E_INVP, E_180C, E_180, E_200C, E_200I, E_ACK, E_ACKP,
	E_BYE, E_BYEP, E_BYE200, E_BYE200P,
	E_MSG, E_MSGP, E_MSG200, E_MSG200P,
	E_BLF, E_BLF200,	/* dialog-state NOTIFY to a watcher, its 200 */
	/* attacks */
	E_FLOOD, E_OREG, E_SREG, E_BF, E_BF401, E_SCAN, E_SCAN404,
};

struct ev {
	double		 t;
	uint8_t		 kind;
	uint8_t		 attack;
	int32_t		 ue, peer;
	uint32_t	 id, cseq;
	uint32_t	 aux;
};

struct gen {
	const struct fg_model	*m;
	struct ev		*ev;
	size_t			 n, cap;
	uint64_t		 rng;
	uint32_t		 ids;
	double			*train_count;	/* inbound per UE before t */
	double			 train_until;
	double			 factor;
};

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };

/* ---- randomness ---------------------------------------------------------- */

static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static double
unif(struct gen *g)
{
	return (double)(rnd(g) >> 11) / 9007199254740992.0;
}

static double
expo(struct gen *g, double mean)
{
	double	 u = unif(g);

	return -mean * log(u > 1e-12 ? u : 1e-12);
}

/* ---- addresses ------------------------------------------------------------ */

static void
ue_ep(int k, struct pg_ep *ep, char *ip, size_t iplen)
{
	pg_mac(ep->mac, 0x1000 + (unsigned)k);
	snprintf(ip, iplen, "198.18.%d.%d", k / 250, k % 250 + 1);
	ep->ip = ip;
	ep->port = 5060;
}

void
fg_ue_addr(int k, char *ip, size_t iplen, char *mac, size_t maclen)
{
	struct pg_ep	 ep;

	ue_ep(k, &ep, ip, iplen);
	snprintf(mac, maclen, "%02x:%02x:%02x:%02x:%02x:%02x", ep.mac[0],
	    ep.mac[1], ep.mac[2], ep.mac[3], ep.mac[4], ep.mac[5]);
}

void
fg_model_default(struct fg_model *m)
{
	memset(m, 0, sizeof(*m));
	m->nue = 300;
	m->nbusy = 50;
	m->busy_mult = 4;
	m->blf = 30;
	m->duration = 3600;
	m->reg_expires = 600;
	m->opt_interval = 120;
	m->ping_interval = 120;
	m->call_interval = 600;
	m->msg_interval = 1200;
	m->sub_interval = 600;
	m->busy_factor = 1;
	m->seed = 1;
}

/* ---- events ------------------------------------------------------------------ */

static struct ev *
add(struct gen *g, double t, int kind, int ue, int peer, uint32_t id,
    uint32_t cseq)
{
	struct ev	*e;

	if (t > g->m->duration || t < 0)
		return NULL;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 65536;
		g->ev = realloc(g->ev, g->cap * sizeof(*g->ev));
		if (g->ev == NULL)
			abort();
	}
	e = &g->ev[g->n++];
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->kind = (uint8_t)kind;
	e->ue = ue;
	e->peer = peer;
	e->id = id;
	e->cseq = cseq;
	return e;
}

static double
call_factor(const struct fg_model *m, double t)
{
	if (m->busy_factor <= 1 || t <= m->busy_from)
		return 1;
	if (t >= m->busy_to)
		return m->busy_factor;
	return 1 + (m->busy_factor - 1) * (t - m->busy_from) /
	    (m->busy_to - m->busy_from);
}

static void
ue_life(struct gen *g, int k)
{
	const struct fg_model	*m = g->m;
	double			 mult = k < m->nbusy ? m->busy_mult : 1;
	double			 t, treg = unif(g) * 60, fmax;
	double			 line_free = 0;
	uint32_t		 cseq = 1, scseq = 1;

	/* Registration and its refreshes at about half the expiry. */
	for (t = treg; t < m->duration; t += m->reg_expires / 2 *
	    (0.9 + 0.1 * unif(g))) {
		uint32_t id = ++g->ids;

		add(g, t, E_REG1, k, -1, id, cseq);
		add(g, t + 0.01, E_R401, k, -1, id, cseq);
		add(g, t + 0.03, E_REG2, k, -1, id, cseq + 1);
		add(g, t + 0.04, E_R200, k, -1, id, cseq + 1);
		cseq += 2;
	}
	/* SUBSCRIBE (message waiting) and its NOTIFY. */
	for (t = treg + 1 + unif(g); t < m->duration; t += m->sub_interval *
	    (0.9 + 0.1 * unif(g))) {
		add(g, t, E_SUB, k, -1, 0, scseq);
		add(g, t + 0.01, E_SUB200, k, -1, 0, scseq);
		add(g, t + 0.05, E_NOTIFY, k, -1, 0, scseq);
		add(g, t + 0.07, E_NOT200, k, -1, 0, scseq);
		scseq++;
	}
	/* Keep-alives both ways. */
	for (t = treg + 2 + unif(g) * m->opt_interval; t < m->duration;
	    t += m->opt_interval * (0.8 + 0.4 * unif(g))) {
		uint32_t id = ++g->ids;

		add(g, t, E_OPT, k, -1, id, 1);
		add(g, t + 0.01, E_OPT200, k, -1, id, 1);
	}
	for (t = treg + 2 + unif(g) * m->ping_interval; t < m->duration;
	    t += m->ping_interval * (0.8 + 0.4 * unif(g))) {
		uint32_t id = ++g->ids;

		add(g, t, E_PING, k, -1, id, 1);
		add(g, t + 0.02, E_PING200, k, -1, id, 1);
	}
	/* Calls: Poisson, thinned for the busy-hour ramp. */
	fmax = m->busy_factor > 1 ? m->busy_factor : 1;
	/* Calls and messages once everyone is registered (after 65 s). */
	for (t = 65 + expo(g, m->call_interval / mult / fmax);
	    t < m->duration; t += expo(g, m->call_interval / mult / fmax)) {
		int		 peer;
		uint32_t	 id;
		double		 ring, talk, end;
		struct ev	*e;

		if (unif(g) * fmax > call_factor(m, t) || t < line_free)
			continue;
		peer = (int)(rnd(g) % (uint64_t)(m->nue - 1));
		if (peer >= k)
			peer++;
		id = ++g->ids;
		ring = 1 + unif(g) * 5;
		talk = expo(g, 90);
		if (talk > 600)
			talk = 600;
		if (mult > 1 && talk > 120)
			talk = 120;	/* a call-centre line keeps it short */
		add(g, t, E_INV, k, peer, id, 1);
		add(g, t + 0.005, E_100, k, peer, id, 1);
		add(g, t + 0.01, E_INVP, k, peer, id, 1);
		add(g, t + 0.06, E_180C, k, peer, id, 1);
		add(g, t + 0.065, E_180, k, peer, id, 1);
		add(g, t + ring, E_200C, k, peer, id, 1);
		add(g, t + ring + 0.005, E_200I, k, peer, id, 1);
		add(g, t + ring + 0.05, E_ACK, k, peer, id, 1);
		add(g, t + ring + 0.055, E_ACKP, k, peer, id, 1);
		end = t + ring + talk;
		line_free = end + 0.1;
		/* aux: 0, the caller hangs up; 1, the callee. */
		e = add(g, end, E_BYE, k, peer, id, 2);
		if (e != NULL) {
			uint32_t who = (uint32_t)(rnd(g) & 1);

			e->aux = who;
			if ((e = add(g, end + 0.005, E_BYEP, k, peer, id, 2)))
				e->aux = who;
			if ((e = add(g, end + 0.05, E_BYE200, k, peer, id, 2)))
				e->aux = who;
			if ((e = add(g, end + 0.055, E_BYE200P, k, peer, id,
			    2)))
				e->aux = who;
		}
	}
	for (t = 65 + expo(g, m->msg_interval / mult); t < m->duration;
	    t += expo(g, m->msg_interval / mult)) {
		int		 peer = (int)(rnd(g) % (uint64_t)(m->nue - 1));
		uint32_t	 id = ++g->ids;

		if (peer >= k)
			peer++;
		add(g, t, E_MSG, k, peer, id, 1);
		add(g, t + 0.005, E_MSGP, k, peer, id, 1);
		add(g, t + 0.05, E_MSG200, k, peer, id, 1);
		add(g, t + 0.055, E_MSG200P, k, peer, id, 1);
	}
}

/*
 * Busy lines are receptionist and agent sets with busy-lamp fields: each
 * watches `blf' extensions and gets a dialog-state NOTIFY (and answers
 * 200) whenever one of them starts, answers or ends a call.
 */
static void
blf(struct gen *g, int watch)
{
	const struct fg_model	*m = g->m;
	int			*nw = calloc((size_t)m->nue, sizeof(int));
	int			(*w)[64] = calloc((size_t)m->nue, sizeof(*w));
	size_t			 n = g->n;

	for (int k = 0; k < m->nbusy; k++)
		for (int j = 0; j < watch; j++) {
			int	 ext = (int)(rnd(g) % (uint64_t)m->nue), dup = 0;

			for (int x = 0; x < nw[ext]; x++)
				dup |= w[ext][x] == k;
			if (ext != k && !dup && nw[ext] < 64)
				w[ext][nw[ext]++] = k;
		}
	for (size_t i = 0; i < n; i++) {
		const struct ev	*e = &g->ev[i];
		int		 party[2] = { e->ue, e->peer };

		if (e->kind != E_INV && e->kind != E_200C && e->kind != E_BYE)
			continue;
		for (int p = 0; p < 2; p++) {
			if (party[p] < 0)
				continue;
			for (int j = 0; j < nw[party[p]]; j++) {
				uint32_t id = ++g->ids;
				double	 t = g->ev[i].t;

				add(g, t + 0.02 + 0.01 * j, E_BLF, w[party[p]][j],
				    party[p], id, 1);
				add(g, t + 0.04 + 0.01 * j, E_BLF200,
				    w[party[p]][j], party[p], id, 1);
			}
		}
	}
	free(nw);
	free(w);
}

/* The re-registration storm of fg_model.storm_at. */
static void
storm(struct gen *g)
{
	const struct fg_model	*m = g->m;

	for (int k = 0; k < m->nue; k++) {
		double		 t = m->storm_at + unif(g) * 60;
		uint32_t	 id = ++g->ids, cseq = 5001;
		int		 nsub = k < m->nbusy && m->storm_blf ? m->blf :
				    0;

		add(g, t, E_REG1, k, -1, id, cseq);
		add(g, t + 0.5, E_REG1, k, -1, id, cseq);	/* resent */
		add(g, t + 0.51, E_R401, k, -1, id, cseq);
		add(g, t + 0.53, E_REG2, k, -1, id, cseq + 1);
		add(g, t + 0.54, E_R200, k, -1, id, cseq + 1);
		for (int j = 0; j <= nsub; j++) {
			double	 ts = t + 1 + 0.05 * j;

			add(g, ts, E_SUB, k, -1, 0, 5000 + (uint32_t)j);
			add(g, ts + 0.01, E_SUB200, k, -1, 0,
			    5000 + (uint32_t)j);
			add(g, ts + 0.03, E_NOTIFY, k, -1, 0,
			    5000 + (uint32_t)j);
			add(g, ts + 0.04, E_NOT200, k, -1, 0,
			    5000 + (uint32_t)j);
		}
	}
}

/* Inbound messages sent by UE k (for its trained rate). */
static int
inbound_of(const struct ev *e)
{
	switch (e->kind) {
	case E_REG1: case E_REG2: case E_SUB: case E_NOT200: case E_OPT:
	case E_PING200: case E_MSG: case E_FLOOD: case E_BLF200:
		return e->ue;
	case E_INV: case E_ACK:
		return e->ue;
	case E_180C: case E_200C: case E_MSG200:
		return e->peer;
	case E_BYE:
		return e->aux ? e->peer : e->ue;
	case E_BYE200:
		return e->aux ? e->ue : e->peer;
	default:
		return -1;
	}
}

static void
attacks(struct gen *g, const struct fg_attack *a, double *ue_rate)
{
	double		 t;
	uint32_t	 n = 0;

	switch (a->kind) {
	case FG_NONE:
		break;
	case FG_CONSTANT:
		for (t = a->start; t < a->start + a->dur; t += 1 / a->rate) {
			struct ev *e = add(g, t, E_FLOOD, a->ue, -1, ++g->ids,
			    1);

			if (e)
				e->attack = 1;
		}
		break;
	case FG_OUTSIDER_REG:
		for (t = a->start; t < a->start + a->dur; t += 1 / a->rate) {
			struct ev *e = add(g, t, E_OREG, -1, -1, ++g->ids, 1);

			if (e) {
				e->attack = 1;
				e->aux = n++;
			}
		}
		break;
	case FG_SPOOFED_REG:
		for (t = a->start; t < a->start + a->dur; t += 1 / a->rate) {
			struct ev *e = add(g, t, E_SREG, -1, -1, ++g->ids, 1);

			if (e) {
				e->attack = 1;
				e->aux = (uint32_t)rnd(g);
			}
		}
		break;
	case FG_DISTRIBUTED: {
		/*
		 * The first `count' UEs (the busiest) raise their rate to
		 * `factor' x their own baseline; factor 0: the least factor,
		 * at least 3, that brings the total to 3x the global rate.
		 */
		double	 all = 0, part = 0, factor = a->factor;

		for (int k = 0; k < g->m->nue; k++) {
			all += ue_rate[k];
			if (k < a->count)
				part += ue_rate[k];
		}
		if (factor <= 0)
			factor = part > 0 ? 1.05 * (1 + 2 * all / part) : 3;
		if (factor < 3)
			factor = 3;
		g->factor = factor;
		for (int k = 0; k < a->count; k++) {
			double extra = ue_rate[k] * (factor - 1);

			if (extra <= 0)
				continue;
			for (t = a->start + expo(g, 1 / extra);
			    t < a->start + a->dur; t += expo(g, 1 / extra)) {
				struct ev *e = add(g, t, E_FLOOD, k, -1,
				    ++g->ids, 1);

				if (e)
					e->attack = 1;
			}
		}
		break;
	}
	case FG_INCREASING: {
		/*
		 * Extra rate r0 (2^(t/period) - 1), so the UE's total is
		 * r0 2^(t/period): drawn by thinning at the final rate.
		 */
		double	 r0 = ue_rate[a->ue];
		double	 rmax = r0 * pow(2, a->dur / a->period);

		if (r0 <= 0)
			break;
		for (t = a->start + expo(g, 1 / rmax); t < a->start + a->dur;
		    t += expo(g, 1 / rmax)) {
			double	 rate = r0 * (pow(2, (t - a->start) /
				    a->period) - 1);
			struct ev *e;

			if (unif(g) * rmax > rate)
				continue;
			if ((e = add(g, t, E_FLOOD, a->ue, -1, ++g->ids, 1)))
				e->attack = 1;
		}
		break;
	}
	case FG_BRUTEFORCE:
		for (int k = 0; k < a->count; k++) {
			double		 tt = a->start + a->dur * k / a->count;
			struct ev	*e = add(g, tt, E_BF, -1, a->ue, ++g->ids,
					    1);

			if (e)
				e->attack = 1;
			if ((e = add(g, tt + 0.01, E_BF401, -1, a->ue, g->ids,
			    1)))
				e->attack = 1;
		}
		break;
	case FG_SCAN:
		for (int k = 0; k < a->count; k++) {
			double		 tt = a->start + a->dur * k / a->count;
			struct ev	*e = add(g, tt, E_SCAN, -1, -1, ++g->ids,
					    1);

			if (e) {
				e->attack = 1;
				e->aux = (uint32_t)k;
			}
			if ((e = add(g, tt + 0.01, E_SCAN404, -1, -1, g->ids,
			    1))) {
				e->attack = 1;
				e->aux = (uint32_t)k;
			}
		}
		break;
	}
}

static int
cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* Same time: keep generation order (ids grow). */
	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- rendering ------------------------------------------------------------------ */

struct render {
	char		 text[4096];
	struct pg_msg	 m;
	const struct pg_ep *src, *dst;
	struct pg_ep	 a, b;
	char		 aip[32], bip[32];
	char		 from[64], to[64], via[64], cid[48], contact[96];
	char		 branch[64];
	char		 auth[256], extra[160], c200[128];
	const char	*flood_method;
};

static const char *
aor(char *buf, size_t len, int k)
{
	snprintf(buf, len, "sip:ue%03d@example.com", k);
	return buf;
}

/* Fill `r' for event `e'; returns 0, or -1 for nothing to send. */
/* From `ue' to the proxy (up: the judged direction) or back. */
static bool
route(struct render *r, const struct pg_ep *ue, bool up)
{
	r->src = up ? ue : &PROXY;
	r->dst = up ? &PROXY : ue;
	return up;
}

static int
render(struct render *r, const struct ev *e)
{
	struct pg_msg	*m = &r->m;
	bool		 in;
	int		 caller = e->ue, callee = e->peer;
	int		 ender = e->aux ? callee : caller;
	int		 other = e->aux ? caller : callee;

	memset(m, 0, sizeof(*m));
	m->expires = -1;
	if (e->ue >= 0)
		ue_ep(e->ue, &r->a, r->aip, sizeof(r->aip));
	if (e->peer >= 0)
		ue_ep(e->peer, &r->b, r->bip, sizeof(r->bip));
	snprintf(r->cid, sizeof(r->cid), "fg-%u@example.com", e->id);
	m->call_id = r->cid;
	m->cseq = e->cseq;
	/*
	 * A branch per transaction (RFC 3261 8.1.1.7; module II counts a
	 * retransmission once): a resent REGISTER repeats its own, every
	 * other event is a transaction of its own.
	 */
	if (e->kind == E_REG1 || e->kind == E_REG2)
		snprintf(r->branch, sizeof(r->branch), "z9hG4bK-fg-r%u-%u",
		    e->id, e->cseq);
	else
		snprintf(r->branch, sizeof(r->branch), "z9hG4bK-fg-%d-%u-%.0f",
		    e->ue, (unsigned)e->kind, e->t * 1e6);
	m->branch = r->branch;

	switch (e->kind) {
	case E_REG1:
	case E_REG2:
		m->method = "REGISTER";
		m->ruri = "sip:example.com";
		m->from = m->to = aor(r->from, sizeof(r->from), e->ue);
		snprintf(r->cid, sizeof(r->cid), "reg-%d@example.com", e->ue);
		snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
		m->via = r->via;
		snprintf(r->contact, sizeof(r->contact),
		    "<sip:ue%03d@%s:5060>", e->ue, r->aip);
		m->contact = r->contact;
		m->expires = 600;
		if (e->kind == E_REG2) {
			snprintf(r->auth, sizeof(r->auth), "Digest username="
			    "\"ue%03d\", realm=\"example.com\", nonce=\"n%u\", "
			    "uri=\"sip:example.com\", response=\"%08x%08x\"",
			    e->ue, e->id, e->id * 2654435761u,
			    (unsigned)e->ue * 40503u + e->cseq);
			m->auth = r->auth;
		}
		in = route(r, &r->a, true);
		break;
	case E_R401:
	case E_R200:
		m->status = e->kind == E_R401 ? 401 : 200;
		m->from = m->to = aor(r->from, sizeof(r->from), e->ue);
		m->to_tag = "reg";
		snprintf(r->cid, sizeof(r->cid), "reg-%d@example.com", e->ue);
		snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
		m->via = r->via;
		m->cseq_method = "REGISTER";
		if (e->kind == E_R401) {
			snprintf(r->extra, sizeof(r->extra), "WWW-Authenticate"
			    ": Digest realm=\"example.com\", nonce=\"n%u\"\r\n",
			    e->id);
			m->raw_headers = r->extra;
		} else {
			snprintf(r->c200, sizeof(r->c200),
			    "<sip:ue%03d@%s:5060>;expires=600", e->ue, r->aip);
			m->contact = r->c200;
		}
		in = route(r, &r->a, false);
		break;
	case E_SUB:
	case E_SUB200:
	case E_NOTIFY:
	case E_NOT200:
		snprintf(r->cid, sizeof(r->cid), "sub-%d@example.com", e->ue);
		m->from = m->to = aor(r->from, sizeof(r->from), e->ue);
		snprintf(r->contact, sizeof(r->contact),
		    "<sip:ue%03d@%s:5060>", e->ue, r->aip);
		if (e->kind == E_SUB) {
			m->method = "SUBSCRIBE";
			snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
			m->contact = r->contact;
			m->expires = 600;
			m->raw_headers = "Event: message-summary\r\n";
			in = route(r, &r->a, true);
		} else if (e->kind == E_SUB200) {
			m->status = 200;
			m->cseq_method = "SUBSCRIBE";
			m->to_tag = "sub";
			snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
			in = route(r, &r->a, false);
		} else if (e->kind == E_NOTIFY) {
			m->method = "NOTIFY";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			m->raw_headers = "Event: message-summary\r\n"
			    "Subscription-State: active\r\n";
			in = route(r, &r->a, false);
		} else {
			m->status = 200;
			m->cseq_method = "NOTIFY";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			in = route(r, &r->a, true);
		}
		m->via = r->via;
		break;
	case E_OPT:
	case E_OPT200:
		m->from = m->to = aor(r->from, sizeof(r->from), e->ue);
		snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
		m->via = r->via;
		if (e->kind == E_OPT) {
			m->method = "OPTIONS";
			in = route(r, &r->a, true);
		} else {
			m->status = 200;
			m->cseq_method = "OPTIONS";
			in = route(r, &r->a, false);
		}
		break;
	case E_PING:
	case E_PING200:
		/* nathelper style: To is the registered Contact. */
		m->from = "sip:pinger@example.com";
		snprintf(r->to, sizeof(r->to), "sip:ue%03d@%s:5060", e->ue,
		    r->aip);
		m->to = r->to;
		snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
		m->via = r->via;
		if (e->kind == E_PING) {
			m->method = "OPTIONS";
			m->ruri = r->to;
			in = route(r, &r->a, false);
		} else {
			m->status = 200;
			m->cseq_method = "OPTIONS";
			in = route(r, &r->a, true);
		}
		break;
	case E_INV: case E_100: case E_INVP: case E_180C: case E_180:
	case E_200C: case E_200I: case E_ACK: case E_ACKP:
		aor(r->from, sizeof(r->from), caller);
		aor(r->to, sizeof(r->to), callee);
		m->from = r->from;
		m->to = r->to;
		switch (e->kind) {
		case E_INV:
		case E_ACK:
			m->method = e->kind == E_INV ? "INVITE" : "ACK";
			snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
			snprintf(r->contact, sizeof(r->contact),
			    "<sip:ue%03d@%s:5060>", caller, r->aip);
			m->contact = r->contact;
			in = route(r, &r->a, true);
			break;
		case E_INVP:
		case E_ACKP:
			m->method = e->kind == E_INVP ? "INVITE" : "ACK";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			in = route(r, &r->b, false);
			break;
		case E_180C:
		case E_200C:
			m->status = e->kind == E_180C ? 180 : 200;
			m->cseq_method = "INVITE";
			m->to_tag = "callee";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			snprintf(r->contact, sizeof(r->contact),
			    "<sip:ue%03d@%s:5060>", callee, r->bip);
			m->contact = r->contact;
			in = route(r, &r->b, true);
			break;
		default:	/* 100, 180, 200 relayed to the caller */
			m->status = e->kind == E_100 ? 100 :
			    e->kind == E_180 ? 180 : 200;
			m->cseq_method = "INVITE";
			snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
			in = route(r, &r->a, false);
			break;
		}
		m->via = r->via;
		break;
	case E_BYE: case E_BYEP: case E_BYE200: case E_BYE200P: {
		struct pg_ep	*eend = e->aux ? &r->b : &r->a;
		struct pg_ep	*eoth = e->aux ? &r->a : &r->b;
		const char	*endip = e->aux ? r->bip : r->aip;
		const char	*othip = e->aux ? r->aip : r->bip;

		aor(r->from, sizeof(r->from), ender);
		aor(r->to, sizeof(r->to), other);
		m->from = r->from;
		m->to = r->to;
		m->to_tag = "dlg";
		if (e->kind == E_BYE) {
			m->method = "BYE";
			snprintf(r->via, sizeof(r->via), "%s:5060", endip);
			in = route(r, eend, true);
		} else if (e->kind == E_BYEP) {
			m->method = "BYE";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			in = route(r, eoth, false);
		} else if (e->kind == E_BYE200) {
			m->status = 200;
			m->cseq_method = "BYE";
			snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
			snprintf(r->contact, sizeof(r->contact),
			    "<sip:ue%03d@%s:5060>", other, othip);
			m->contact = r->contact;
			in = route(r, eoth, true);
		} else {
			m->status = 200;
			m->cseq_method = "BYE";
			snprintf(r->via, sizeof(r->via), "%s:5060", endip);
			in = route(r, eend, false);
		}
		m->via = r->via;
		break;
	}
	case E_MSG: case E_MSGP: case E_MSG200: case E_MSG200P:
		aor(r->from, sizeof(r->from), e->ue);
		aor(r->to, sizeof(r->to), e->peer);
		m->from = r->from;
		m->to = r->to;
		if (e->kind == E_MSG || e->kind == E_MSGP) {
			m->method = "MESSAGE";
			m->body = "see you at six";
			m->content_type = "text/plain";
			if (e->kind == E_MSG) {
				snprintf(r->via, sizeof(r->via), "%s:5060",
				    r->aip);
				in = route(r, &r->a, true);
			} else {
				snprintf(r->via, sizeof(r->via),
				    "192.0.2.1:5060");
				in = route(r, &r->b, false);
			}
		} else {
			m->status = 200;
			m->cseq_method = "MESSAGE";
			m->to_tag = "msg";
			if (e->kind == E_MSG200) {
				snprintf(r->via, sizeof(r->via),
				    "192.0.2.1:5060");
				in = route(r, &r->b, true);
			} else {
				snprintf(r->via, sizeof(r->via), "%s:5060",
				    r->aip);
				in = route(r, &r->a, false);
			}
		}
		m->via = r->via;
		break;
	case E_BLF:
	case E_BLF200:
		/* NOTIFY for extension `peer' to watcher `ue'. */
		aor(r->from, sizeof(r->from), e->peer);
		aor(r->to, sizeof(r->to), e->ue);
		m->from = r->from;
		m->to = r->to;
		m->to_tag = "blf";
		snprintf(r->cid, sizeof(r->cid), "blf-%d-%d@example.com",
		    e->ue, e->peer);
		snprintf(r->via, sizeof(r->via), "192.0.2.1:5060");
		m->via = r->via;
		if (e->kind == E_BLF) {
			m->method = "NOTIFY";
			m->raw_headers = "Event: dialog\r\n"
			    "Subscription-State: active\r\n";
			in = route(r, &r->a, false);
		} else {
			m->status = 200;
			m->cseq_method = "NOTIFY";
			in = route(r, &r->a, true);
		}
		break;
	case E_FLOOD:
		m->method = r->flood_method;
		aor(r->from, sizeof(r->from), e->ue);
		aor(r->to, sizeof(r->to), (e->ue + 1) % 300);
		m->from = r->from;
		m->to = r->to;
		snprintf(r->via, sizeof(r->via), "%s:5060", r->aip);
		m->via = r->via;
		snprintf(r->contact, sizeof(r->contact),
		    "<sip:ue%03d@%s:5060>", e->ue, r->aip);
		m->contact = r->contact;
		if (strcmp(m->method, "SUBSCRIBE") == 0)
			m->raw_headers = "Event: presence\r\n";
		if (strcmp(m->method, "MESSAGE") == 0) {
			m->body = "spam";
			m->content_type = "text/plain";
		}
		in = route(r, &r->a, true);
		break;
	case E_OREG:
	case E_BF:
	case E_BF401:
	case E_SCAN:
	case E_SCAN404:
		/* One outsider: 203.0.113.66, MAC 02:66:..:66. */
		memset(&r->a, 0, sizeof(r->a));
		r->a.mac[0] = 2;
		r->a.mac[1] = 0x66;
		r->a.mac[5] = 0x66;
		r->a.ip = "203.0.113.66";
		r->a.port = 5060;
		if (e->kind == E_OREG)
			snprintf(r->from, sizeof(r->from),
			    "sip:u%u@example.com", e->aux % 5);
		else if (e->kind == E_SCAN || e->kind == E_SCAN404)
			snprintf(r->from, sizeof(r->from),
			    "sip:%u@example.com", 100 + e->aux);
		else
			aor(r->from, sizeof(r->from), e->peer);
		m->from = m->to = r->from;
		m->via = "203.0.113.66:5060";
		m->contact = "<sip:x@203.0.113.66:5060>";
		if (e->kind == E_BF401 || e->kind == E_SCAN404) {
			m->status = e->kind == E_BF401 ? 401 :
			    (e->aux % 3 == 0 ? 401 : 404);
			m->cseq_method = "REGISTER";
			m->contact = NULL;
			in = route(r, &r->a, false);
		} else {
			m->method = "REGISTER";
			m->ruri = "sip:example.com";
			m->expires = 600;
			if (e->kind == E_BF) {
				snprintf(r->auth, sizeof(r->auth), "Digest "
				    "username=\"ue%03d\", realm=\"example.com\""
				    ", nonce=\"bf%u\", uri=\"sip:example.com\","
				    " response=\"%08x\"", e->peer, e->id,
				    e->id * 2654435761u);
				m->auth = r->auth;
			}
			in = route(r, &r->a, true);
		}
		if (e->kind == E_BF || e->kind == E_BF401)
			snprintf(r->cid, sizeof(r->cid), "bf-%u", e->id);
		break;
	case E_SREG: {
		/* Random source in 198.19.0.0/16, random identity, Via = src */
		uint32_t	 x = e->aux;

		memset(&r->a, 0, sizeof(r->a));
		r->a.mac[0] = 2;
		r->a.mac[1] = 0x77;
		r->a.mac[5] = 0x77;
		snprintf(r->aip, sizeof(r->aip), "198.19.%u.%u",
		    (x >> 8) & 0xff, (x & 0xff) | 1);
		r->a.ip = r->aip;
		r->a.port = (uint16_t)(1024 + (x >> 16) % 60000);
		snprintf(r->from, sizeof(r->from), "sip:%u@example.com",
		    x % 100000);
		m->from = m->to = r->from;
		snprintf(r->via, sizeof(r->via), "%s:%u", r->aip, r->a.port);
		m->via = r->via;
		snprintf(r->contact, sizeof(r->contact), "<sip:%u@%s:%u>",
		    x % 100000, r->aip, r->a.port);
		m->contact = r->contact;
		m->method = "REGISTER";
		m->ruri = "sip:example.com";
		m->expires = 600;
		in = route(r, &r->a, true);
		break;
	}
	default:
		return -1;
	}
	return in ? 1 : 0;
}

int
fg_generate(const struct fg_model *m, const struct fg_attack *a,
    const char *path, struct fg_result *res)
{
	struct gen	 g;
	struct pg_pcap	*w;
	static uint8_t	 frame[8192];
	struct render	 r;
	struct fg_model	 full;
	double		*rate;
	const char	*method = a && a->method ? a->method : "INVITE";

	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	/*
	 * Generate at least 30 minutes, so each UE's baseline is its rate
	 * over the same span the detector trains on; frames beyond the
	 * capture's own duration are not written.
	 */
	full = *m;
	if (full.duration < 1800)
		full.duration = 1800;
	g.m = &full;
	rate = calloc((size_t)m->nue, sizeof(*rate));
	for (int k = 0; k < m->nue; k++) {
		g.rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1) ^
		    (uint64_t)m->seed * 0x2545f4914f6cdd1dULL;
		(void)rnd(&g);
		ue_life(&g, k);
	}
	if (m->blf > 0)
		blf(&g, m->blf);
	if (m->storm_at > 0) {
		g.rng ^= 0x5deece66dULL;
		storm(&g);
	}
	/* Each UE's inbound rate after registration: its baseline. */
	{
		double	 from = 65, to = 1800;

		for (size_t k = 0; k < g.n; k++) {
			int	 u = inbound_of(&g.ev[k]);

			if (u >= 0 && g.ev[k].t >= from && g.ev[k].t < to)
				rate[u] += 1.0 / (to - from);
		}
	}
	if (a != NULL) {
		g.rng ^= 0xa5a5a5a5ULL + (uint64_t)a->kind;
		attacks(&g, a, rate);
		if (a->ue >= 0 && a->ue < m->nue)
			res->ue_rate = rate[a->ue];
		res->factor = g.factor;
	}
	free(rate);
	qsort(g.ev, g.n, sizeof(*g.ev), cmp_ev);

	if ((w = pg_pcap_open(path)) == NULL) {
		free(g.ev);
		return -1;
	}
	res->frame = calloc(g.n + 1, sizeof(*res->frame));
	res->t0 = T0;
	r.flood_method = method;
	for (size_t k = 0; k < g.n; k++) {
		const struct ev	*e = &g.ev[k];
		int		 in;
		size_t		 len, flen;

		if (e->t > m->duration)
			break;
		if ((in = render(&r, e)) < 0)
			continue;
		len = pg_sip(r.text, sizeof(r.text), &r.m);
		flen = pg_frame(frame, sizeof(frame), r.src, r.dst, r.text,
		    len, NULL);
		pg_pcap_write(w, (uint64_t)((T0 + e->t) * 1e9), frame, flen);
		res->frame[res->nframes].t = e->t;
		res->frame[res->nframes].inbound = (uint8_t)in;
		res->frame[res->nframes].attack = e->attack;
		res->frame[res->nframes].ue = e->attack &&
		    (e->kind == E_OREG || e->kind == E_SREG || e->kind == E_BF ||
		    e->kind == E_SCAN || e->kind == E_BF401 ||
		    e->kind == E_SCAN404) ? -1 : in ? inbound_of(e) : -1;
		res->nframes++;
	}
	pg_pcap_close(w);
	free(g.ev);
	snprintf(res->attacker_mac, sizeof(res->attacker_mac),
	    "02:66:00:00:00:66");
	snprintf(res->attacker_ip, sizeof(res->attacker_ip), "203.0.113.66");
	return 0;
}

void
fg_result_free(struct fg_result *res)
{
	free(res->frame);
	res->frame = NULL;
}
