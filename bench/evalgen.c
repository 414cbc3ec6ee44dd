/*
 * evalgen.c: the populations and stress profiles of the module II
 * evaluation.  Each device's life is drawn from random streams of its own
 * (one per kind of activity, so the length of the run and the profile
 * never shift what came before); the profile's stress and the attack
 * are laid on top; the events are sorted and rendered on demand with
 * tests/pktgen.c, the way tests/floodgen.c writes its captures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evalgen.h"
#include "pktgen.h"

#define FMAX		4.0	/* largest call-rate factor of a profile */
#define OUTAGE		480.0	/* s the proxy is down (EGP_STORM) */
#define REBOOT_EVERY	45.0	/* s between boots (EGP_REBOOT) */
#define MAXDEV		512

enum ev_kind {
	E_REG1, E_REG1R, E_R401, E_REG2, E_REG2R, E_R200, E_UNREG, E_UNREG200,
	E_SUB, E_SUB200, E_NOTIFY, E_NOT200,
	E_OPT, E_OPT200, E_PING, E_PING200, E_CRLF,
	E_INV, E_100, E_INVP, E_180C, E_180, E_200C, E_200I, E_ACK, E_ACKP,
	E_BYE, E_BYEP, E_BYE200, E_BYE200P,
	E_MSG, E_MSGP, E_MSG200, E_MSG200P,
	E_BLF, E_BLF200,	/* dialog-state NOTIFY to a watcher, its 200 */
	E_FLOOD,
};

/* Random streams of one device (a stream per activity). */
enum { S_REG, S_SUB, S_OPT, S_PING, S_KA, S_CALL, S_MSG, S_PROF, S_BLF,
    S__N };
#define MAXWATCH	64	/* watchers of one extension, at most */

struct ev {
	double		 t;
	uint64_t	 id;		/* unique, stable: device, stream, n */
	int32_t		 dev, peer;
	uint32_t	 cseq;
	uint8_t		 kind;
	uint8_t		 attack;
	uint8_t		 aux;		/* BYE: 1, the callee hangs up */
	uint8_t		 boot;		/* REBOOT: a boot's own Call-ID */
};

struct dev {
	uint8_t		 mac[6];
	char		 ip[40];	/* source address */
	char		 sip[40];	/* Via and Contact host */
	uint16_t	 port;
	double		 call_iv, talk, msg_iv, opt_iv, ping_iv, ka_iv;
	double		 sub_iv, reg_exp;
	double		 on_from, on_to;	/* switched on in [from, to) */
	double		 treg;		/* registered from (just after) */
	double		 new_port_at;	/* EGP_NAT_KA: port + 1000 from */
	int		 blf;		/* extensions it watches */
	int		 nwatchers;
	int16_t		 watchers[MAXWATCH];
	double		 rate;		/* trained inbound msgs/s */
	bool		 extra;		/* exists only in some profiles */
	bool		 attacker;
};

struct eg {
	int		 pop, profile;
	double		 t_train, t_start, t_end;
	struct eg_attack a;
	struct dev	*dev;
	int		 ndev, nbase;
	int		 reboot_dev;
	struct ev	*ev;
	size_t		 n, cap;
	uint64_t	 rng;
	double		 global, extra_rate;
	/* rendering */
	char		 text[4096];
	char		 sbuf[12][160];
};

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };

/* ---- randomness ---- */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double
unif(uint64_t *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static double
expo(uint64_t *s, double mean)
{
	double	 u = unif(s);

	return -mean * log(u > 1e-12 ? u : 1e-12);
}

static uint64_t
stream(unsigned seed, int pop, int dev, int which)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL * (uint64_t)(dev + 1) ^
	    (uint64_t)seed * 0x2545f4914f6cdd1dULL ^
	    (uint64_t)(pop * S__N + which + 1) * 0xbf58476d1ce4e5b9ULL;

	if (s == 0)
		s = 1;
	for (int k = 0; k < 4; k++)
		(void)rnd(&s);
	return s;
}

/* ---- names ---- */

const char *
eg_pop_name(int p)
{
	static const char *const n[] = { "ue300", "callcentre", "nat-office",
	    "gw-mix" };

	return p >= 0 && p < EG__NPOP ? n[p] : "?";
}

const char *
eg_profile_name(int p)
{
	static const char *const n[] = { "none", "busy-hour", "morning-ramp",
	    "shift-change", "rereg-storm", "nat-keepalive", "reboot-loop" };

	return p >= 0 && p < EGP__N ? n[p] : "?";
}

const char *
eg_pattern_name(int p)
{
	static const char *const n[] = { "steady", "jitter", "ramp",
	    "on/off" };

	return p >= 0 && p < EGA__N ? n[p] : "?";
}

/* ---- populations ---- */

static void
dev_plain(struct dev *d, double call_iv, double msg_iv)
{
	d->call_iv = call_iv;
	d->talk = 90;
	d->msg_iv = msg_iv;
	d->opt_iv = 120;
	d->ping_iv = 120;
	d->ka_iv = 0;
	d->sub_iv = 600;
	d->reg_exp = 600;
	d->on_from = 0;
	d->on_to = 1e18;
	d->new_port_at = 1e18;
	d->port = 5060;
}

/* Base devices first, then the extras some profiles bring online. */
static void
populate(struct eg *g)
{
	int	 nbase, nextra;

	switch (g->pop) {
	case EG_UE300:
		nbase = 300;
		nextra = 150;
		break;
	case EG_CALLCENTRE:
		nbase = 40;
		nextra = 40;
		break;
	case EG_NAT:
		nbase = 60;
		nextra = 30;
		break;
	default:
		nbase = 240;
		nextra = 120;
		break;
	}
	g->nbase = nbase;
	g->ndev = nbase + nextra;
	for (int k = 0; k < g->ndev; k++) {
		struct dev	*d = &g->dev[k];

		d->extra = k >= nbase;
		switch (g->pop) {
		case EG_UE300:
			/* tests/floodgen.c's model: 50 busy lines at 4x. */
			if (k < 50) {
				dev_plain(d, 150, 300);
				d->blf = 30;
			} else
				dev_plain(d, 600, 1200);
			pg_mac(d->mac, 0x1000 + (unsigned)k);
			snprintf(d->ip, sizeof(d->ip), "198.18.%d.%d", k / 250,
			    k % 250 + 1);
			break;
		case EG_CALLCENTRE:
			dev_plain(d, 60, 600);
			d->talk = 40;
			d->blf = 10;
			d->opt_iv = 30;
			d->ping_iv = 60;
			d->sub_iv = 300;
			d->reg_exp = 300;
			pg_mac(d->mac, 0x2000 + (unsigned)k);
			snprintf(d->ip, sizeof(d->ip), "198.18.10.%d", k + 1);
			break;
		case EG_NAT:
			/* One router: one MAC, one public address; the phones
			 * differ by port and private Via (SPEC 2, tolerant). */
			dev_plain(d, 900, 1800);
			d->opt_iv = 30;
			d->ping_iv = 0;
			d->ka_iv = 15;
			d->reg_exp = 120;
			pg_mac(d->mac, 0xaa01);
			snprintf(d->ip, sizeof(d->ip), "203.0.113.10");
			snprintf(d->sip, sizeof(d->sip), "10.1.%d.%d", k / 200,
			    k % 200 + 10);
			d->port = (uint16_t)(20000 + k);
			break;
		default:
			/* Half with their own MAC, half behind 6 routers of
			 * 20 addresses each (gateway MACs, SPEC 2). */
			if (k % 6 == 0) {
				dev_plain(d, 150, 300);
				d->blf = 20;
			} else
				dev_plain(d, 600, 1200);
			if (k < nbase / 2 || k >= nbase) {
				pg_mac(d->mac, 0x3000 + (unsigned)k);
				snprintf(d->ip, sizeof(d->ip), "198.18.%d.%d",
				    20 + k / 250, k % 250 + 1);
			} else {
				int	 j = k - nbase / 2;

				pg_mac(d->mac, 0x3100 + (unsigned)(j / 20));
				snprintf(d->ip, sizeof(d->ip),
				    "198.51.100.%d", j + 1);
			}
			break;
		}
		if (d->sip[0] == '\0')
			snprintf(d->sip, sizeof(d->sip), "%s", d->ip);
		if (d->extra)
			d->on_from = d->on_to = 1e18;	/* never, by default */
	}
}

/* ---- events ---- */

static struct ev *
add(struct eg *g, double t, int kind, int dev, int peer, uint64_t id,
    uint32_t cseq)
{
	struct ev	*e;

	if (t >= g->t_end || t < 0)
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
	e->dev = dev;
	e->peer = peer;
	e->id = id;
	e->cseq = cseq;
	return e;
}

static uint64_t
mkid(int dev, int which, uint32_t n)
{
	return (uint64_t)(dev + 2) << 40 | (uint64_t)which << 32 | n;
}

static double
factor(const struct eg *g, double t)
{
	double	 x = t - g->t_start;

	if (x <= 0)
		return 1;
	if (g->profile == EGP_BUSY_HOUR)
		return 1 + (x < 1200 ? x / 1200 : 1);
	if (g->profile == EGP_MORNING)
		return 1 + (x < 1200 ? x / 1200 : 1);
	return 1;
}

static bool
outage(const struct eg *g, double t)
{
	return g->profile == EGP_STORM && t >= g->t_start &&
	    t < g->t_start + OUTAGE;
}

static bool
online(const struct eg *g, int k, double t)
{
	const struct dev *d = &g->dev[k];

	if (t < d->treg + 0.1 || t >= d->on_to - 0.2)
		return false;
	return !(g->profile == EGP_REBOOT && k == g->reboot_dev &&
	    t >= g->t_start);
}

/*
 * A non-INVITE request nobody answers (the proxy is down), as RFC 3261
 * 17.1.2.2 sends it over UDP: again after T1 = 0.5 s, the interval
 * doubling up to T2 = 4 s, until Timer F (64 T1 = 32 s): 11 copies, the
 * same Via branch and CSeq each.  No random draw: nothing shifts.
 */
static void
unanswered(struct eg *g, double t, int kind, int k, uint64_t id,
    uint32_t cseq)
{
	double	 iv = 0.5, at = 0;

	while (at < 32) {
		add(g, t + at, kind, k, -1, id, cseq);
		at += iv;
		iv = iv * 2 < 4 ? iv * 2 : 4;
	}
}

static void
registration(struct eg *g, int k, double t, uint64_t id, uint32_t cseq,
    bool retries, uint64_t *s)
{
	double	 r1 = 0.01, r2 = 0.04;

	add(g, t, E_REG1, k, -1, id, cseq);
	if (retries && unif(s) < 0.1) {
		/* The first answer is lost: Timer E, 0.5 s. */
		add(g, t + 0.5, E_REG1R, k, -1, id, cseq);
		r1 = 0.51;
	}
	add(g, t + r1, E_R401, k, -1, id, cseq);
	add(g, t + r1 + 0.02, E_REG2, k, -1, id, cseq + 1);
	if (retries && unif(s) < 0.1) {
		/* The registrar is slow: one retransmission. */
		add(g, t + r1 + 0.52, E_REG2R, k, -1, id, cseq + 1);
		r2 = 1.2;
	}
	add(g, t + r1 + r2, E_R200, k, -1, id, cseq + 1);
}

static void
life(struct eg *g, unsigned seed, int k)
{
	const struct dev	*d = &g->dev[k];
	uint64_t		 s;
	double			 t, treg, line_free = 0;
	uint32_t		 n, cseq = 1;

	if (d->on_from >= g->t_end)
		return;
	/* Registration and refreshes at about half the expiry. */
	s = stream(seed, g->pop, k, S_REG);
	treg = d->on_from + unif(&s) * 60;	/* as in eg_create() */
	for (t = treg, n = 0; t < g->t_end; t += d->reg_exp / 2 *
	    (0.9 + 0.1 * unif(&s)), n++, cseq += 2)
		if (online(g, k, t + 0.1) && !outage(g, t))
			registration(g, k, t, mkid(k, S_REG, n), cseq, false,
			    &s);
	s = stream(seed, g->pop, k, S_SUB);
	for (t = treg + 1 + unif(&s), n = 0; t < g->t_end; t += d->sub_iv *
	    (0.9 + 0.1 * unif(&s)), n++) {
		uint64_t id = mkid(k, S_SUB, 0);

		if (!online(g, k, t))
			continue;
		if (outage(g, t)) {
			/* The refresh goes out, unanswered. */
			unanswered(g, t, E_SUB, k, id, n + 1);
			continue;
		}
		add(g, t, E_SUB, k, -1, id, n + 1);
		add(g, t + 0.01, E_SUB200, k, -1, id, n + 1);
		add(g, t + 0.05, E_NOTIFY, k, -1, id, n + 1);
		add(g, t + 0.07, E_NOT200, k, -1, id, n + 1);
	}
	if (d->opt_iv > 0) {
		s = stream(seed, g->pop, k, S_OPT);
		for (t = treg + 2 + unif(&s) * d->opt_iv, n = 0; t < g->t_end;
		    t += d->opt_iv * (0.8 + 0.4 * unif(&s)), n++) {
			if (!online(g, k, t))
				continue;
			/* In an outage the keep-alives go on, unanswered
			 * and retransmitted. */
			if (outage(g, t)) {
				unanswered(g, t, E_OPT, k, mkid(k, S_OPT, n),
				    1);
				continue;
			}
			add(g, t, E_OPT, k, -1, mkid(k, S_OPT, n), 1);
			add(g, t + 0.01, E_OPT200, k, -1, mkid(k, S_OPT, n),
			    1);
		}
	}
	if (d->ping_iv > 0) {
		s = stream(seed, g->pop, k, S_PING);
		for (t = treg + 2 + unif(&s) * d->ping_iv, n = 0; t < g->t_end;
		    t += d->ping_iv * (0.8 + 0.4 * unif(&s)), n++) {
			if (!online(g, k, t) || outage(g, t))
				continue;
			add(g, t, E_PING, k, -1, mkid(k, S_PING, n), 1);
			add(g, t + 0.02, E_PING200, k, -1, mkid(k, S_PING, n),
			    1);
		}
	}
	if (d->ka_iv > 0) {
		s = stream(seed, g->pop, k, S_KA);
		for (t = treg + unif(&s) * d->ka_iv; t < g->t_end;
		    t += d->ka_iv)
			if (online(g, k, t))
				add(g, t, E_CRLF, k, -1, 0, 0);
	}
	/* Calls: Poisson thinned by the profile's factor (draws fixed). */
	s = stream(seed, g->pop, k, S_CALL);
	for (t = treg + 65 + expo(&s, d->call_iv / FMAX), n = 0;
	    t < g->t_end; t += expo(&s, d->call_iv / FMAX), n++) {
		int		 peer;
		uint64_t	 id = mkid(k, S_CALL, n);
		double		 ring, talk, end;
		struct ev	*e;
		uint8_t		 who;

		if (unif(&s) * FMAX > factor(g, t) || t < line_free)
			continue;
		peer = (int)(rnd(&s) % (uint64_t)(g->nbase - 1));
		if (peer >= k)
			peer++;
		ring = 1 + unif(&s) * 5;
		talk = expo(&s, d->talk);
		if (talk > 600)
			talk = 600;
		who = (uint8_t)(rnd(&s) & 1);
		end = t + ring + talk;
		/* Judged by its set-up (7 s) only, so that nothing before
		 * a profile's change depends on it; a call that outlives its
		 * phone or the proxy ends without a BYE. */
		if (!online(g, k, t) || !online(g, peer, t) || outage(g, t) ||
		    !online(g, k, t + 7) || !online(g, peer, t + 7) ||
		    outage(g, t + 7))
			continue;
		line_free = end + 0.1;
		add(g, t, E_INV, k, peer, id, 1);
		add(g, t + 0.005, E_100, k, peer, id, 1);
		add(g, t + 0.01, E_INVP, k, peer, id, 1);
		add(g, t + 0.06, E_180C, k, peer, id, 1);
		add(g, t + 0.065, E_180, k, peer, id, 1);
		add(g, t + ring, E_200C, k, peer, id, 1);
		add(g, t + ring + 0.005, E_200I, k, peer, id, 1);
		add(g, t + ring + 0.05, E_ACK, k, peer, id, 1);
		add(g, t + ring + 0.055, E_ACKP, k, peer, id, 1);
		if (!online(g, k, end) || !online(g, peer, end) ||
		    outage(g, end))
			continue;
		if ((e = add(g, end, E_BYE, k, peer, id, 2)))
			e->aux = who;
		if ((e = add(g, end + 0.005, E_BYEP, k, peer, id, 2)))
			e->aux = who;
		if ((e = add(g, end + 0.05, E_BYE200, k, peer, id, 2)))
			e->aux = who;
		if ((e = add(g, end + 0.055, E_BYE200P, k, peer, id, 2)))
			e->aux = who;
	}
	s = stream(seed, g->pop, k, S_MSG);
	for (t = treg + 65 + expo(&s, d->msg_iv / FMAX), n = 0;
	    t < g->t_end; t += expo(&s, d->msg_iv / FMAX), n++) {
		int		 peer;
		uint64_t	 id = mkid(k, S_MSG, n);

		if (unif(&s) * FMAX > factor(g, t))
			continue;
		peer = (int)(rnd(&s) % (uint64_t)(g->nbase - 1));
		if (peer >= k)
			peer++;
		if (!online(g, k, t) || !online(g, peer, t) || outage(g, t))
			continue;
		add(g, t, E_MSG, k, peer, id, 1);
		add(g, t + 0.005, E_MSGP, k, peer, id, 1);
		add(g, t + 0.05, E_MSG200, k, peer, id, 1);
		add(g, t + 0.055, E_MSG200P, k, peer, id, 1);
	}
}

/*
 * Busy-lamp fields: a watcher gets a dialog-state NOTIFY (and answers
 * 200) whenever a watched extension starts, answers or ends a call.
 */
static void
blf(struct eg *g, unsigned seed)
{
	size_t	 n = g->n;

	for (int k = 0; k < g->ndev; k++) {
		uint64_t s = stream(seed, g->pop, k, S_BLF);

		for (int j = 0; j < g->dev[k].blf; j++) {
			int	 ext = (int)(rnd(&s) % (uint64_t)g->nbase);
			struct dev *x = &g->dev[ext];
			bool	 dup = ext == k;

			for (int w = 0; w < x->nwatchers; w++)
				dup |= x->watchers[w] == k;
			if (!dup && x->nwatchers < MAXWATCH)
				x->watchers[x->nwatchers++] = (int16_t)k;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ev	 e = g->ev[i];
		int		 party[2] = { e.dev, e.peer };

		if (e.kind != E_INV && e.kind != E_200C && e.kind != E_BYE)
			continue;
		for (int p = 0; p < 2; p++) {
			const struct dev *x = &g->dev[party[p]];

			for (int j = 0; j < x->nwatchers; j++) {
				int	 w = x->watchers[j];
				double	 t = e.t + 0.02 + 0.01 * j;
				uint64_t id = e.id ^ (uint64_t)(p * 64 + j + 1)
				    << 24 ^ (uint64_t)e.kind << 20;

				if (!online(g, w, t) || outage(g, t))
					continue;
				add(g, t, E_BLF, w, party[p], id, 1);
				add(g, t + 0.02, E_BLF200, w, party[p], id, 1);
			}
		}
	}
}

/* The profile's own events (besides what online() and outage() cut). */
static void
stress(struct eg *g, unsigned seed)
{
	uint64_t	 s;
	double		 ts = g->t_start, t;

	for (int k = 0; k < g->ndev; k++) {
		struct dev	*d = &g->dev[k];

		s = stream(seed, g->pop, k, S_PROF);
		switch (g->profile) {
		case EGP_SHIFT:
			if (!d->extra) {
				/* The old shift signs off: Expires 0. */
				d->on_to = ts + 300 + unif(&s) * 120;
				add(g, d->on_to - 0.1, E_UNREG, k, -1,
				    mkid(k, S_PROF, 0), 90001);
				add(g, d->on_to - 0.05, E_UNREG200, k, -1,
				    mkid(k, S_PROF, 0), 90001);
			} else
				d->on_from = ts + 300 + unif(&s) * 120;
			break;
		case EGP_MORNING:
			if (d->extra && k < g->nbase + g->nbase / 2)
				d->on_from = ts + unif(&s) * 1200;
			break;
		case EGP_STORM:
			if (d->extra)
				break;
			/* Unanswered retries in the outage (each a new
			 * transaction retransmitted until Timer F), then
			 * everyone within a minute of the proxy's return. */
			for (t = ts + unif(&s) * 60; t < ts + OUTAGE; t += 60)
				unanswered(g, t, E_REG1, k, mkid(k, S_PROF,
				    (uint32_t)(t - ts)), 80001);
			registration(g, k, ts + OUTAGE + unif(&s) * 60,
			    mkid(k, S_PROF, 9999), 80003, true, &s);
			break;
		case EGP_NAT_KA:
			if (d->extra)
				break;
			d->new_port_at = ts + 60 + unif(&s) * 30;
			registration(g, k, d->new_port_at, mkid(k, S_PROF, 0),
			    80001, true, &s);
			break;
		default:
			break;
		}
	}
	if (g->profile == EGP_REBOOT) {
		int	 k = g->reboot_dev;
		uint32_t b = 0;

		for (t = ts; t < g->t_end; t += REBOOT_EVERY, b++) {
			struct ev	*e;
			size_t		 from = g->n;

			registration(g, k, t, mkid(k, S_PROF, b), 1, false,
			    &s);
			add(g, t + 1, E_SUB, k, -1, mkid(k, S_PROF, b), 1);
			add(g, t + 1.01, E_SUB200, k, -1, mkid(k, S_PROF, b),
			    1);
			add(g, t + 2, E_OPT, k, -1, mkid(k, S_PROF, b), 1);
			add(g, t + 2.01, E_OPT200, k, -1, mkid(k, S_PROF, b),
			    1);
			for (size_t j = from; j < g->n; j++) {
				e = &g->ev[j];
				e->boot = 1;
			}
		}
	}
}

static int
by_rate(const void *a, const void *b, void *arg)
{
	const struct eg	*g = arg;
	int		 x = *(const int *)a, y = *(const int *)b;

	if (g->dev[x].rate != g->dev[y].rate)
		return g->dev[x].rate > g->dev[y].rate ? -1 : 1;
	return x - y;
}

/* Inbound messages sent by the event's device, for trained rates. */
static int
inbound_of(const struct ev *e)
{
	switch (e->kind) {
	case E_REG1: case E_REG1R: case E_REG2: case E_REG2R: case E_UNREG:
	case E_SUB: case E_NOT200: case E_OPT: case E_PING200: case E_MSG:
	case E_FLOOD: case E_INV: case E_ACK: case E_BLF200:
		return e->dev;
	case E_180C: case E_200C: case E_MSG200:
		return e->peer;
	case E_BYE:
		return e->aux ? e->peer : e->dev;
	case E_BYE200:
		return e->aux ? e->dev : e->peer;
	default:
		return -1;
	}
}

static void
attack(struct eg *g, unsigned seed)
{
	const struct eg_attack	*a = &g->a;
	int			 order[MAXDEV], n = a->n;
	uint64_t		 s = stream(seed, g->pop, MAXDEV, S_PROF);
	double			 t0 = g->t_start, t1 = g->t_start + a->dur;

	for (int k = 0; k < g->nbase; k++)
		order[k] = k;
	if (a->random_pick)
		for (int k = g->nbase - 1; k > 0; k--) {
			int	 j = (int)(rnd(&s) % (uint64_t)(k + 1));
			int	 x = order[k];

			order[k] = order[j];
			order[j] = x;
		}
	else
		qsort_r(order, (size_t)g->nbase, sizeof(int), by_rate, g);
	if (n > g->nbase)
		n = g->nbase;
	g->a.n = n;
	for (int j = 0; j < n; j++) {
		int		 k = order[j];
		double		 b = g->dev[k].rate, x = (a->factor - 1) * b;
		double		 t;
		uint32_t	 m = 0;

		g->dev[k].attacker = true;
		g->extra_rate += x;
		if (x <= 0)
			continue;
		t = t0 + (a->pattern == EGA_STEADY ? unif(&s) / x :
		    expo(&s, 1 / x));
		while (t < t1) {
			bool	 keep = true;

			if (a->pattern == EGA_RAMP)
				keep = unif(&s) < (t - t0) / a->dur;
			else if (a->pattern == EGA_ONOFF)
				keep = fmod(t - t0, 20) < 10;
			if (keep) {
				struct ev *e = add(g, t, E_FLOOD, k,
				    (k + 1) % g->nbase, mkid(k, S__N, m++), 1);

				if (e)
					e->attack = 1;
			}
			if (a->pattern == EGA_STEADY)
				t += 1 / x;
			else
				t += expo(&s, 1 / x);
		}
	}
}

static int
cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

struct eg *
eg_create(int pop, unsigned seed, int profile, const struct eg_attack *a,
    double t_train, double t_start, double t_end)
{
	struct eg	*g;
	double		 from = 65, to = t_train;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->dev = calloc(MAXDEV, sizeof(*g->dev))) == NULL) {
		free(g);
		return NULL;
	}
	g->pop = pop;
	g->profile = profile;
	g->t_train = t_train;
	g->t_start = t_start;
	g->t_end = t_end;
	if (a != NULL)
		g->a = *a;
	populate(g);
	g->reboot_dev = 0;
	stress(g, seed);
	for (int k = 0; k < g->ndev; k++) {
		uint64_t s = stream(seed, pop, k, S_REG);

		g->dev[k].treg = g->dev[k].on_from + unif(&s) * 60;
	}
	for (int k = 0; k < g->ndev; k++)
		life(g, seed, k);
	blf(g, seed);
	/* Each device's rate over training: its own baseline. */
	for (size_t j = 0; j < g->n; j++) {
		int	 u = inbound_of(&g->ev[j]);

		if (u >= 0 && g->ev[j].t >= from && g->ev[j].t < to)
			g->dev[u].rate += 1.0 / (to - from);
	}
	for (int k = 0; k < g->nbase; k++)
		g->global += g->dev[k].rate;
	if (g->a.n > 0)
		attack(g, seed);
	qsort(g->ev, g->n, sizeof(*g->ev), cmp_ev);
	return g;
}

void
eg_destroy(struct eg *g)
{
	if (g == NULL)
		return;
	free(g->ev);
	free(g->dev);
	free(g);
}

size_t
eg_count(const struct eg *g)
{
	return g->n;
}

double
eg_time(const struct eg *g, size_t k)
{
	return g->ev[k].t;
}

int
eg_ndev(const struct eg *g)
{
	return g->ndev;
}

bool
eg_is_attacker(const struct eg *g, int k)
{
	return k >= 0 && k < g->ndev && g->dev[k].attacker;
}

double
eg_base_rate(const struct eg *g, int k)
{
	return g->dev[k].rate;
}

double
eg_global_rate(const struct eg *g)
{
	return g->global;
}

double
eg_global_rise(const struct eg *g)
{
	return g->global > 0 ? (g->global + g->extra_rate) / g->global : 1;
}

int
eg_dev_of_identity(const struct eg *g, const char *id)
{
	int	 k;
	char	 c;

	if (id == NULL || sscanf(id, "u%5d%c", &k, &c) != 2 || c != '@' ||
	    k < 0 || k >= g->ndev)
		return -1;
	return k;
}

/* ---- rendering ---- */

static void
ep_of(const struct eg *g, int k, double t, struct pg_ep *ep)
{
	const struct dev *d = &g->dev[k];

	memcpy(ep->mac, d->mac, 6);
	ep->ip = d->ip;
	ep->port = (uint16_t)(d->port + (t >= d->new_port_at ? 1000 : 0));
}

static const char *
aor(char *buf, int k)
{
	snprintf(buf, 160, "sip:u%05d@example.com", k);
	return buf;
}

static const char *
contact(const struct eg *g, char *buf, int k, const char *param)
{
	snprintf(buf, 160, "<sip:u%05d@%s:5060>%s", k, g->dev[k].sip,
	    param ? param : "");
	return buf;
}

static const char *
via(const struct eg *g, char *buf, int k)
{
	snprintf(buf, 160, "%s:5060", k < 0 ? "192.0.2.1" : g->dev[k].sip);
	return buf;
}

size_t
eg_frame(struct eg *g, size_t j, uint8_t *buf, size_t sz,
    struct eg_meta *meta)
{
	const struct ev	*e = &g->ev[j];
	struct pg_msg	 m;
	struct pg_ep	 a, b;
	const struct pg_ep *src, *dst;
	char		(*sb)[160] = g->sbuf;
	int		 k = e->dev, peer = e->peer;
	int		 ender = e->aux ? peer : k, other = e->aux ? k : peer;
	bool		 up = true;
	size_t		 len;

	memset(&m, 0, sizeof(m));
	memset(meta, 0, sizeof(*meta));
	meta->t = e->t;
	meta->dev = -1;
	m.expires = -1;
	ep_of(g, k, e->t, &a);
	if (peer >= 0)
		ep_of(g, peer, e->t, &b);
	snprintf(sb[0], 160, "ev-%llx@example.com",
	    (unsigned long long)e->id);
	m.call_id = sb[0];
	snprintf(sb[7], 160, ";expires=%.0f", g->dev[k].reg_exp);
	snprintf(sb[1], 160, "z9hG4bK-%llx-%u", (unsigned long long)e->id,
	    (unsigned)e->kind);
	m.branch = sb[1];
	m.cseq = e->cseq;
	if (e->kind == E_CRLF) {
		meta->dev = k;
		meta->inbound = true;
		return pg_frame(buf, sz, &a, &PROXY, "\r\n\r\n", 4, NULL);
	}
	switch (e->kind) {
	case E_REG1: case E_REG1R: case E_REG2: case E_REG2R: case E_UNREG:
	case E_R401: case E_R200: case E_UNREG200:
		m.from = m.to = aor(sb[2], k);
		if (e->boot)
			snprintf(sb[0], 160, "boot-%llx@example.com",
			    (unsigned long long)e->id);
		else
			snprintf(sb[0], 160, "reg-%d@example.com", k);
		m.via = via(g, sb[3], k);
		snprintf(sb[1], 160, "z9hG4bK-r%llx-%u",
		    (unsigned long long)e->id, e->cseq);
		if (e->kind == E_R401 || e->kind == E_R200 ||
		    e->kind == E_UNREG200) {
			m.status = e->kind == E_R401 ? 401 : 200;
			m.to_tag = "reg";
			m.cseq_method = "REGISTER";
			if (e->kind == E_R401) {
				snprintf(sb[4], 160, "WWW-Authenticate: Digest"
				    " realm=\"example.com\", nonce=\"n%llx\""
				    "\r\n", (unsigned long long)e->id);
				m.raw_headers = sb[4];
			} else
				m.contact = contact(g, sb[5], k,
				    e->kind == E_R200 ? sb[7] : ";expires=0");
			up = false;
			break;
		}
		m.method = "REGISTER";
		m.ruri = "sip:example.com";
		m.contact = contact(g, sb[5], k, NULL);
		m.expires = e->kind == E_UNREG ? 0 : (int)g->dev[k].reg_exp;
		if (e->kind != E_REG1 && e->kind != E_REG1R) {
			snprintf(sb[6], 160, "Digest username=\"u%05d\", "
			    "realm=\"example.com\", nonce=\"n%llx\", uri=\"sip:"
			    "example.com\", response=\"%016llx\"", k,
			    (unsigned long long)e->id,
			    (unsigned long long)(e->id * 0x9e3779b97f4a7c15ULL
			    + e->cseq));
			m.auth = sb[6];
		}
		break;
	case E_SUB: case E_SUB200: case E_NOTIFY: case E_NOT200:
		snprintf(sb[0], 160, "sub-%d-%llx@example.com", k,
		    (unsigned long long)e->id);
		m.from = m.to = aor(sb[2], k);
		if (e->kind == E_SUB) {
			m.method = "SUBSCRIBE";
			m.via = via(g, sb[3], k);
			m.contact = contact(g, sb[5], k, NULL);
			m.expires = 600;
			m.raw_headers = "Event: message-summary\r\n";
		} else if (e->kind == E_SUB200) {
			m.status = 200;
			m.cseq_method = "SUBSCRIBE";
			m.to_tag = "sub";
			m.via = via(g, sb[3], k);
			up = false;
		} else if (e->kind == E_NOTIFY) {
			m.method = "NOTIFY";
			m.via = via(g, sb[3], -1);
			m.raw_headers = "Event: message-summary\r\n"
			    "Subscription-State: active\r\n";
			up = false;
		} else {
			m.status = 200;
			m.cseq_method = "NOTIFY";
			m.via = via(g, sb[3], -1);
			m.contact = contact(g, sb[5], k, NULL);
		}
		break;
	case E_OPT: case E_OPT200:
		m.from = m.to = aor(sb[2], k);
		m.via = via(g, sb[3], k);
		if (e->kind == E_OPT)
			m.method = "OPTIONS";
		else {
			m.status = 200;
			m.cseq_method = "OPTIONS";
			up = false;
		}
		break;
	case E_PING: case E_PING200:
		m.from = "sip:pinger@example.com";
		m.to = aor(sb[2], k);
		m.via = via(g, sb[3], -1);
		if (e->kind == E_PING) {
			m.method = "OPTIONS";
			snprintf(sb[4], 160, "sip:u%05d@%s:5060", k,
			    g->dev[k].sip);
			m.ruri = sb[4];
			up = false;
		} else {
			m.status = 200;
			m.cseq_method = "OPTIONS";
			m.contact = contact(g, sb[5], k, NULL);
		}
		break;
	case E_INV: case E_100: case E_INVP: case E_180C: case E_180:
	case E_200C: case E_200I: case E_ACK: case E_ACKP:
		m.from = aor(sb[2], k);
		m.to = aor(sb[4], peer);
		switch (e->kind) {
		case E_INV:
		case E_ACK:
			m.method = e->kind == E_INV ? "INVITE" : "ACK";
			m.via = via(g, sb[3], k);
			m.contact = contact(g, sb[5], k, NULL);
			break;
		case E_INVP:
		case E_ACKP:
			m.method = e->kind == E_INVP ? "INVITE" : "ACK";
			m.via = via(g, sb[3], -1);
			up = false;
			a = b;
			break;
		case E_180C:
		case E_200C:
			m.status = e->kind == E_180C ? 180 : 200;
			m.cseq_method = "INVITE";
			m.to_tag = "callee";
			m.via = via(g, sb[3], -1);
			m.contact = contact(g, sb[5], peer, NULL);
			a = b;
			break;
		default:
			m.status = e->kind == E_100 ? 100 :
			    e->kind == E_180 ? 180 : 200;
			m.cseq_method = "INVITE";
			m.via = via(g, sb[3], k);
			up = false;
			break;
		}
		break;
	case E_BYE: case E_BYEP: case E_BYE200: case E_BYE200P: {
		struct pg_ep	 eend = e->aux ? b : a, eoth = e->aux ? a : b;

		m.from = aor(sb[2], ender);
		m.to = aor(sb[4], other);
		m.to_tag = "dlg";
		if (e->kind == E_BYE) {
			m.method = "BYE";
			m.via = via(g, sb[3], ender);
			a = eend;
		} else if (e->kind == E_BYEP) {
			m.method = "BYE";
			m.via = via(g, sb[3], -1);
			a = eoth;
			up = false;
		} else if (e->kind == E_BYE200) {
			m.status = 200;
			m.cseq_method = "BYE";
			m.via = via(g, sb[3], -1);
			m.contact = contact(g, sb[5], other, NULL);
			a = eoth;
		} else {
			m.status = 200;
			m.cseq_method = "BYE";
			m.via = via(g, sb[3], ender);
			a = eend;
			up = false;
		}
		break;
	}
	case E_MSG: case E_MSGP: case E_MSG200: case E_MSG200P:
		m.from = aor(sb[2], k);
		m.to = aor(sb[4], peer);
		if (e->kind == E_MSG || e->kind == E_MSGP) {
			m.method = "MESSAGE";
			m.body = "see you at six";
			m.content_type = "text/plain";
			m.via = via(g, sb[3], e->kind == E_MSG ? k : -1);
			if (e->kind == E_MSGP) {
				a = b;
				up = false;
			}
		} else {
			m.status = 200;
			m.cseq_method = "MESSAGE";
			m.to_tag = "msg";
			if (e->kind == E_MSG200) {
				m.via = via(g, sb[3], -1);
				m.contact = contact(g, sb[5], peer, NULL);
				a = b;
			} else {
				m.via = via(g, sb[3], k);
				up = false;
			}
		}
		break;
	case E_BLF:
	case E_BLF200:
		/* NOTIFY about extension `peer' to watcher `k'. */
		m.from = aor(sb[2], peer);
		m.to = aor(sb[4], k);
		m.to_tag = "blf";
		snprintf(sb[0], 160, "blf-%d-%d@example.com", k, peer);
		m.via = via(g, sb[3], -1);
		if (e->kind == E_BLF) {
			m.method = "NOTIFY";
			m.raw_headers = "Event: dialog\r\n"
			    "Subscription-State: active\r\n";
			up = false;
		} else {
			m.status = 200;
			m.cseq_method = "NOTIFY";
			m.contact = contact(g, sb[5], k, NULL);
		}
		break;
	case E_FLOOD:
		m.method = g->a.method ? g->a.method : "INVITE";
		m.from = aor(sb[2], k);
		m.to = strcmp(m.method, "REGISTER") == 0 ? m.from :
		    aor(sb[4], peer);
		m.via = via(g, sb[3], k);
		m.contact = contact(g, sb[5], k, NULL);
		if (strcmp(m.method, "REGISTER") == 0) {
			m.ruri = "sip:example.com";
			m.expires = 600;
		} else if (strcmp(m.method, "SUBSCRIBE") == 0)
			m.raw_headers = "Event: presence\r\n";
		else if (strcmp(m.method, "MESSAGE") == 0) {
			m.body = "spam";
			m.content_type = "text/plain";
		}
		break;
	default:
		return 0;
	}
	if ((len = pg_sip(g->text, sizeof(g->text), &m)) == 0)
		return 0;
	src = up ? &a : &PROXY;
	dst = up ? &PROXY : &a;
	meta->inbound = up;
	meta->attack = e->attack;
	if (up)
		meta->dev = inbound_of(e) >= 0 ? inbound_of(e) : k;
	return pg_frame(buf, sz, src, dst, g->text, len, NULL);
}
