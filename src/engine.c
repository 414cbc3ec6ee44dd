/*
 * engine.c: owns the order of the pipeline (SPEC 1):
 *   decode -> (reassembly) -> direction -> whitelist -> blacklist (m, i)
 *   -> classify/parse -> blacklist (K) -> module I -> module II -> verdict
 * Outbound traffic from the proxy is always accepted but read: its answers
 * to REGISTER are how bindings are learned (SPEC 3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bind.h"
#include "engine.h"
#include "enforce.h"
#include "flood.h"
#include "hash.h"
#include "pending.h"
#include "register.h"
#include "sipmsg.h"
#include "spoof.h"
#include "stream.h"
#include "whitelist.h"

/* Slots of the binding table the expiry sweep examines per tick. */
#define SWEEP_PER_TICK		4096

struct engine {
	struct sg_conf		 conf;
	struct frag_table	*frag;
	struct stream_table	*streams;
	struct sipm_parser	*sp;
	struct bind_table	*bt;
	struct pending_table	*pt;
	struct spoof		*spoof;
	struct enforcer		*enf;
	struct flood		*flood;
	struct whitelist	*wl;
	engine_observer		 observer;
	void			*observer_arg;
	engine_bound		 bound;		/* a binding learned, pinned */
	void			*bound_arg;
	engine_shared		 shared;	/* learned or removed: cluster */
	void			*shared_arg;
	alarm_sink		 sink;
	void			*sink_arg;
	bool			 report_fields;
	struct engine_stats	 st;
	struct sipm		 msg;	/* per-message scratch, not on stack */
	struct stream_res	 sres;	/* per-segment scratch */
	/* SPEC 1: the proxy's MAC, learned from its first answer and
	 * pinned, when proxy.macs does not list them. */
	bool			 pinned;
	bool			 pinned_has_mac;
	struct sg_mac		 pinned_mac;
	/* The start-up learning window (startup.learn): armed at a cold
	 * start, open from the first packet for that long. */
	bool			 learn_armed;
	uint64_t		 learn_until;
	struct forgery_slot	*forgeries;	/* FORGERY_SLOTS */
};

/* Linux keeps fragments 30 s (IPv4) and 60 s (IPv6): at least that. */
#define FRAG_TIMEOUT		SEC(60)

/*
 * A source's forgeries (messages module I drops, or that name a listed
 * identity) against blacklist.forgery_rate: a table keyed by what would
 * list the source, one slot a key's hash, a newcomer taking the slot
 * (a source forgotten counts from nothing again: its listing comes
 * later, never sooner).
 */
#define FORGERY_SLOTS		4096
#define FORGERY_BURST_S		2

struct forgery_slot {
	uint64_t	 key;
	uint64_t	 tat;		/* GCRA's theoretical arrival, ns */
};

static void	 ds1_check(struct engine *, uint64_t);

/*
 * An entry of the configuration or the file: it outranks a runtime entry
 * of its prefix and, when the table is full, the oldest runtime entry
 * gives way (conf.c and the file's reader keep those two within the
 * table).  1 when a runtime entry went.
 */
static int
whitelist_put(struct engine *e, const struct wl_entry *x)
{
	int	 was, rc = wl_add(e->wl, x, &was);

	if (rc == -2 && wl_evict_runtime(e->wl) == 0)
		return wl_add(e->wl, x, &was) >= 0 ? 1 : 0;
	return rc == 1 && was == WL_RUNTIME;
}

/* The configuration's whitelist replaces the one it had. */
static uint32_t
whitelist_conf(struct engine *e)
{
	uint32_t	 lost = 0;

	wl_drop(e->wl, WL_CONF);
	for (int k = 0; k < e->conf.nwhitelist; k++) {
		struct wl_entry	 x = { .spec = e->conf.whitelist[k],
				    .origin = WL_CONF };

		lost += (uint32_t)whitelist_put(e, &x);
	}
	enf_lift_whitelisted(e->enf, NULL);
	return lost;
}

/* The stream and fragment tables' question: is (m, i) a bound device? */
static bool
source_known(void *arg, const struct sg_mac *m, const struct sg_addr *i)
{
	struct engine	*e = arg;
	struct sg_tuple	 t;

	memset(&t, 0, offsetof(struct sg_tuple, d));
	if ((t.has_m = m != NULL))
		t.m = *m;
	t.i = *i;
	return bind_has_source(e->bt, &t);
}

struct engine *
engine_create(const struct sg_conf *conf)
{
	struct engine	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->conf = *conf;
	e->frag = frag_create(conf->tab_fragments, FRAG_TIMEOUT);
	e->streams = stream_create(conf);
	e->sp = sipm_parser_create();
	e->bt = bind_create(&e->conf);
	e->pt = pending_create((uint32_t)conf->tab_pending,
	    conf->register_timeout);
	e->spoof = spoof_create(&e->conf);
	e->enf = enf_create(&e->conf);
	e->flood = e->bt ? flood_create(&e->conf, e->bt) : NULL;
	e->wl = wl_create((uint32_t)conf->tab_whitelist);
	e->forgeries = sg_table_alloc(FORGERY_SLOTS, sizeof(*e->forgeries));
	e->learn_armed = conf->startup_learn > 0;
	if (e->frag == NULL || e->streams == NULL || e->sp == NULL || e->bt == NULL ||
	    e->pt == NULL || e->spoof == NULL || e->enf == NULL ||
	    e->flood == NULL || e->wl == NULL || e->forgeries == NULL) {
		engine_destroy(e);
		return NULL;
	}
	enf_set_whitelist(e->enf, e->wl);
	stream_set_known(e->streams, source_known, e);
	frag_set_known(e->frag, source_known, e);
	whitelist_conf(e);
	return e;
}

void
engine_destroy(struct engine *e)
{
	if (e == NULL)
		return;
	frag_destroy(e->frag);
	stream_destroy(e->streams);
	sipm_parser_destroy(e->sp);
	bind_destroy(e->bt);
	pending_destroy(e->pt);
	spoof_destroy(e->spoof);
	enf_destroy(e->enf);
	flood_destroy(e->flood);
	wl_destroy(e->wl);
	free(e->forgeries);
	free(e);
}

int
engine_reload(struct engine *e, const struct sg_conf *conf)
{
	struct sg_conf	 next = *conf;
	int		 ignored = 0;

	/* Sizes are fixed at start: keep the running ones. */
#define KEEP(f)	do { if (next.f != e->conf.f) { next.f = e->conf.f; \
		ignored = 1; } } while (0)
	KEEP(tab_bindings);
	KEEP(tab_identity_bytes);
	KEEP(tab_pending);
	KEEP(tab_nonces);
	KEEP(tab_sources);
	KEEP(scan_sketches);
	KEEP(target_identities);
	KEEP(tab_fragments);
	KEEP(tab_streams);
	KEEP(tab_stream_buffers);
	KEEP(blacklist_size);
	KEEP(bloom_cells);
	KEEP(bloom_hashes);
	KEEP(tab_whitelist);
#undef KEEP
	/* A MAC pinned from traffic yields to the operator's list. */
	if (next.nproxy_macs != e->conf.nproxy_macs ||
	    memcmp(next.proxy_macs, e->conf.proxy_macs,
	    sizeof(next.proxy_macs)) != 0)
		e->pinned = false;
	e->conf = next;
	whitelist_conf(e);
	stream_set_idle(e->streams, e->conf.tcp_idle);
	pending_set_timeout(e->pt, e->conf.register_timeout);
	return ignored;
}

void
engine_warm_start(struct engine *e)
{
	e->learn_armed = false;
	e->learn_until = 0;
}

/* Is the start-up learning window open? */
static bool
learning(const struct engine *e, uint64_t now)
{
	return now < e->learn_until;
}

void
engine_set_observer(struct engine *e, engine_observer fn, void *arg)
{
	e->observer = fn;
	e->observer_arg = arg;
}

void
engine_set_alarm_sink(struct engine *e, alarm_sink fn, void *arg)
{
	e->sink = fn;
	e->sink_arg = arg;
}

void
engine_set_report_fields(struct engine *e, bool on)
{
	e->report_fields = on;
}

/*
 * A linear search of the slots in use: a handful in practice (the cases
 * an attack hits), each a byte compare or two before the strcmp.
 */
void
engine_cases_add(struct engine_cases *c, enum alarm_type type,
    const char *kase, enum alarm_action act, uint64_t n)
{
	struct engine_case	*x;

	if (kase == NULL)
		kase = "";
	if ((unsigned)type >= ALARM__COUNT ||
	    (unsigned)act >= ENGINE_CASE_ACTIONS || n == 0)
		return;
	for (uint32_t k = 0; k < c->used; k++) {
		x = &c->slot[k];
		/* A label past the slot's bytes matches its cut copy. */
		if (x->type == type && x->action == act &&
		    strncmp(x->kase, kase, sizeof(x->kase) - 1) == 0) {
			x->n += n;
			return;
		}
	}
	if (c->used == ENGINE_CASES) {
		c->other[type][act] += n;
		return;
	}
	x = &c->slot[c->used++];
	x->type = (uint8_t)type;
	x->action = (uint8_t)act;
	snprintf(x->kase, sizeof(x->kase), "%s", kase);
	x->n = n;
}

void
engine_stats(const struct engine *e, struct engine_stats *st)
{
	*st = e->st;
}

void
engine_tables(const struct engine *e, uint64_t now, struct engine_tables *t)
{
	struct bind_stats	 bs;
	struct pending_stats	 ps;
	struct flood_stats	 fs;
	struct enf_stats	 es;
	struct spoof_stats	 ss;
	struct frag_stats	 gs;
	struct stream_stats	 ts;

	bind_stats(e->bt, &bs);
	pending_stats(e->pt, &ps);
	flood_stats(e->flood, now, &fs);
	enf_stats(e->enf, &es);
	spoof_stats(e->spoof, &ss);
	frag_stats(e->frag, &gs);
	stream_stats(e->streams, &ts);
	memset(t, 0, sizeof(*t));
	t->bindings = bs.live;
	t->bindings_cap = bs.capacity;
	t->id_cells = bs.id_cells_used;
	t->id_cells_cap = bs.id_cells;
	t->bindings_refused = bs.full + bs.id_full;
	t->pending = ps.in_use;
	t->pending_cap = ps.capacity;
	t->pending_evicted = ps.evicted;
	t->pending_guarded = ps.guarded;
	t->pending_guarded_cap = ps.guarded_cap;
	t->pending_guarded_evicted = ps.evicted_guarded;
	t->sources = fs.sources_in_use;
	t->sources_cap = fs.sources_capacity;
	t->sources_recycled = fs.sources_recycled;
	t->blacklist = es.entries;
	t->blacklist_cap = es.capacity;
	t->blacklist_evicted = es.evicted;
	t->nonces = ss.nonces;
	t->nonces_cap = ss.capacity;
	t->nonces_evicted = ss.evicted;
	t->frags = gs.in_use;
	t->frags_cap = gs.capacity;
	t->streams = ts.in_use;
	t->streams_cap = ts.capacity;
	t->stream_buffers = ts.buffers_in_use;
	t->stream_buffers_cap = ts.buffers;
	t->streams_refused = ts.refused;
	t->whitelist = wl_count(e->wl);
	t->whitelist_cap = wl_capacity(e->wl);
	t->memory = bs.memory + fs.memory + ts.memory;
}

struct bind_table *
engine_bindings(struct engine *e)
{
	return e->bt;
}

struct enforcer *
engine_enforcer(struct engine *e)
{
	return e->enf;
}

struct flood *
engine_flood(struct engine *e)
{
	return e->flood;
}

void
engine_set_bound(struct engine *e, engine_bound fn, void *arg)
{
	e->bound = fn;
	e->bound_arg = arg;
}

void
engine_set_shared(struct engine *e, engine_shared fn, void *arg)
{
	e->shared = fn;
	e->shared_arg = arg;
}

struct whitelist *
engine_whitelist(struct engine *e)
{
	return e->wl;
}

uint32_t
engine_whitelist_file(struct engine *e, const struct wl_entry *x, uint32_t n)
{
	uint32_t	 lost = 0;

	wl_drop(e->wl, WL_FILE);
	for (uint32_t k = 0; k < n; k++)
		lost += (uint32_t)whitelist_put(e, &x[k]);
	enf_lift_whitelisted(e->enf, NULL);
	return lost;
}

void
engine_tick(struct engine *e, uint64_t now)
{
	bind_expire(e->bt, now, SWEEP_PER_TICK);
	pending_expire(e->pt, now);
	enf_expire(e->enf, now);
	stream_expire(e->streams, now);
	flood_tick(e->flood, now);
	ds1_check(e, now);
}

/* ---- helpers ------------------------------------------------------------- */

/*
 * Every stage decides as prevent mode would.  Whether a drop reaches the
 * packet is decided here, once: in detect mode the message goes through
 * (so the proxy sees it, and what follows from that, such as learning a
 * REGISTER's answer, follows too) and its alarm says "notice".
 */
static bool
delivered(const struct engine *e, enum sg_verdict v)
{
	return v == SG_ACCEPT || e->conf.mode == MODE_DETECT;
}

/* The counters every verdict updates. */
static void
count(struct engine *e, enum sg_verdict v, enum sg_reason r)
{
	e->st.verdict[v]++;
	if (v == SG_ACCEPT)
		e->st.accept[r]++;
	else
		e->st.drop[r]++;
}

/*
 * A verdict leaves the engine: the mode applied, counted, shown to the
 * observer (the replay's output).  Returns the verdict the packet gets.
 */
static enum sg_verdict
emit(struct engine *e, bool inbound, enum sg_verdict v, enum sg_reason r,
    enum sipm_kind kind, const struct dec_pkt *pkt, const struct sipm *msg)
{
	struct sg_result	 res;

	v = delivered(e, v) ? SG_ACCEPT : SG_DROP;
	count(e, v, r);
	if (e->observer == NULL)
		return v;
	res.inbound = inbound;
	res.verdict = v;
	res.reason = r;
	res.kind = kind;
	res.pkt = pkt;
	res.msg = kind == SIPM_K_SIP ? msg : NULL;
	e->observer(e->observer_arg, &res);
	return v;
}

static void
raise_alarm_full(struct engine *e, enum alarm_type type, const char *kase,
    enum alarm_action act, const struct sg_tuple *t,
    const struct dec_pkt *pkt, const struct sipm *msg, const char *detail,
    double rate, const char *cls, uint64_t now)
{
	struct alarm	 a;

	/* Detect mode: what would have been dropped goes through. */
	if (act == ACT_DROP && delivered(e, SG_DROP))
		act = ACT_NOTICE;
	if (act != ACT_CLEAR) {
		e->st.alarms[type]++;
		engine_cases_add(&e->st.alarm_cases, type, kase, act, 1);
	}
	if (e->sink == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.type = type;
	a.kase = kase;
	a.action = act;
	a.rate = rate;
	a.cls = cls;
	a.detail = detail;
	a.now = now;
	if (t != NULL) {
		a.m = t->m;
		a.has_m = t->has_m;
		a.i = t->i;
		a.s = t->s;
		a.identity = t->d;
	} else if (pkt != NULL) {
		a.m = pkt->smac;
		a.has_m = pkt->has_mac;
		a.i = pkt->src;
	}
	if (msg != NULL) {
		a.method = msg->request ? msg->method_str : NULL;
		a.call_id = msg->call_id;
	}
	e->sink(e->sink_arg, &a);
}

/* DS1 is a state of the whole population: raised and cleared notices. */
static void
ds1_check(struct engine *e, uint64_t now)
{
	struct flood_alarm	 fa;
	int			 edge = flood_ds1_edge(e->flood, now, &fa);

	if (edge == 0)
		return;
	raise_alarm_full(e, ALARM_DS1, NULL, edge > 0 ? ACT_NOTICE : ACT_CLEAR,
	    NULL, NULL, NULL, fa.detail, fa.rate, fa.cls, now);
}

static void
raise_alarm(struct engine *e, enum alarm_type type, const char *kase,
    enum alarm_action act, const struct sg_tuple *t,
    const struct dec_pkt *pkt, const struct sipm *msg, const char *detail,
    uint64_t now)
{
	raise_alarm_full(e, type, kase, act, t, pkt, msg, detail, -1, NULL,
	    now);
}

/*
 * SPEC 6: list a flood offender under a key it cannot forge cheaply:
 * (m, i), or (m, i, port) behind NAT; not at all when the source may be
 * forged (behind a gateway MAC and never seen answering).
 */
static enum alarm_action
block_offender(struct engine *e, const struct sg_tuple *t, bool blockable,
    const char *why, uint64_t now)
{
	struct bl_key	 k;

	if (!blockable)
		return ACT_DROP;
	if (t->nat)
		enf_key_mip(&k, t);
	else
		enf_key_mi(&k, t);
	return enf_add(e->enf, &k, why, t->d, 0, now);
}

/*
 * A message module I dropped, one naming a listed identity, or a
 * malformed one dropped: each was parsed in full, and a crafted one (16
 * Contact values, URIs full of parameters) costs 12.8 INVITEs; an
 * attacker's review sent 100,000 from one address, each dropped, none
 * listed, none in any rate.  They count
 * in DS1's rate (a flood of them from many sources raises it, admission
 * then refuses unknown sources before the parse), and past
 * blacklist.forgery_rate a second (bursts of two seconds' worth) a
 * source that is its own is listed under (m, i): its next packets cost
 * a lookup.  Its own: a MAC that is no gateway's (a host on the proxy's
 * link, which forges no other MAC without being that link's attacker),
 * and no binding there: drops are no evidence about their source, and
 * a forger on the internet named a bound customer's address through the
 * gateway's MAC 101 times and got the customer listed, REGISTERs and
 * all (an attacker's review; test_attack forgeries_spare_customer).  The
 * count is by (m, i), whatever port or Via: counted by port behind a
 * private Via, a source rotating its ports was never listed.  The rest
 * is left to DS1.
 */
static void
forgery(struct engine *e, const struct sg_tuple *t, const struct dec_pkt *pkt,
    const struct sipm *msg, uint64_t now)
{
	struct forgery_slot	*s;
	struct bl_key		 k;
	enum alarm_action	 act;
	uint64_t		 h, step, burst;
	char			 detail[96];

	flood_count_dropped(e->flood, now);
	ds1_check(e, now);
	if (!(e->conf.forgery_rate > 0) || !t->has_m ||
	    bind_is_gateway(e->bt, &t->m, true) || bind_has_source(e->bt, t))
		return;
	enf_key_mi(&k, t);
	h = hash_bytes(&k, sizeof(k));
	s = &e->forgeries[h & (FORGERY_SLOTS - 1)];
	step = (uint64_t)(NS_PER_SEC / e->conf.forgery_rate);
	burst = step * (uint64_t)(e->conf.forgery_rate * FORGERY_BURST_S);
	if (burst < step)		/* under one in two seconds */
		burst = step;
	if (s->key != h || s->tat < now) {
		s->key = h;
		s->tat = now;
	}
	s->tat += step;
	if (s->tat - now <= burst)
		return;
	s->tat = now;
	act = enf_add(e->enf, &k, "source", t->d, 0, now);
	snprintf(detail, sizeof(detail), "more than %g forged, listed or "
	    "malformed messages a second from one source",
	    e->conf.forgery_rate);
	raise_alarm(e, ALARM_SPOOF, "source", act, t, pkt, msg, detail, now);
}

static void
flood_alarm(struct engine *e, const struct flood_alarm *fa,
    const struct sg_tuple *t, const struct dec_pkt *pkt,
    const struct sipm *msg, uint64_t now)
{
	enum alarm_action	 act;

	act = block_offender(e, t, fa->blockable, alarm_type_str(fa->type),
	    now);
	raise_alarm_full(e, fa->type, NULL, act, t, pkt, msg,
	    fa->detail[0] ? fa->detail : NULL, fa->rate, fa->cls, now);
}

/*
 * d and impi, most of a tuple, are its last fields, and tuple_sip()
 * copies both whole: tuple_l3() need not clear them first.
 */
_Static_assert(offsetof(struct sg_tuple, impi) ==
    offsetof(struct sg_tuple, d) + SG_ID_MAX &&
    sizeof(struct sg_tuple) == offsetof(struct sg_tuple, impi) + SG_ID_MAX,
    "d and impi end struct sg_tuple");

/*
 * The L3 part of E, before parsing: enough for the (m, i) blacklist.
 * Nothing reads d or impi before tuple_sip() writes them (a flood the
 * blacklist or admission refuses never gets there).
 */
static void
tuple_l3(struct sg_tuple *t, const struct dec_pkt *pkt)
{
	memset(t, 0, offsetof(struct sg_tuple, d));
	t->m = pkt->smac;
	t->has_m = pkt->has_mac;
	t->i = pkt->src;
	t->sport = pkt->sport;
}

/* SPEC 2: the rest of E from the message. */
static void
tuple_sip(struct engine *e, struct sg_tuple *t, const struct sipm *msg)
{
	const char	*d;

	if (msg->request) {
		t->s = msg->via_host;
		t->a = msg->method;
	} else {
		t->s = msg->contact_host;	/* none: not checked */
		t->a = SIPM_NONE;
	}
	if (!msg->request || msg->method == SIPM_REGISTER) {
		d = msg->to;
		t->dh = msg->to_h;
	} else {
		d = msg->from;
		t->dh = msg->from_h;
	}
	memcpy(t->d, d, sizeof(t->d));
	t->impih = msg->impi_h;
	memcpy(t->impi, msg->impi, sizeof(t->impi));
	t->nat = e->conf.nat != NAT_STRICT && sg_addr_is_ip(&t->s) &&
	    !sg_addr_eq(&t->s, &t->i) && sg_addr_private(&t->s);
}

/* ---- outbound: learning from the proxy's answers (SPEC 3) --------------- */

/*
 * Contact: * with expires 0: every binding of the identity this table
 * holds (its own and those other nodes shared) is told gone, each its F:
 * the first 64 (devices_per_identity is 8 by default; past 64, a peer's
 * copy of the rest lives until it expires).
 */
static void
shared_identity(struct engine *e, const struct sg_tuple *who, uint64_t now)
{
	const struct binding	*rows[64];
	int			 n;

	n = bind_identity_rows(e->bt, who->dh, 0, rows, (int)nitems(rows));
	for (int k = 0; k < n && k < (int)nitems(rows); k++) {
		struct sg_tuple	 t = *who;

		/* An imported row waiting for its MAC: the sender's. */
		if (rows[k]->has_m)
			t.m = rows[k]->m;
		t.i = rows[k]->i;
		t.s = rows[k]->s;
		e->shared(e->shared_arg, e->bt, NULL, &t, now);
	}
}

/* A 2xx to a REGISTER: the bindings it grants or removes. */
static void
bind_granted(struct engine *e, const struct reg_answer *a,
    const struct sipm *msg, uint64_t now)
{
	const struct binding	*b;

	switch (a->bind) {
	case REG_BIND_NOTHING:
		return;
	case REG_BIND_REMOVE_ALL:
		if (e->shared != NULL)
			shared_identity(e, &a->t, now);
		bind_remove_identity(e->bt, a->t.dh);
		return;
	case REG_BIND_REMOVE:
		if (e->shared != NULL)
			e->shared(e->shared_arg, e->bt, NULL, &a->t, now);
		bind_remove(e->bt, &a->t);
		return;
	case REG_BIND_LEARN:
		break;
	}
	switch (bind_learn(e->bt, &a->t, a->contact_idh, now + SEC(a->expires),
	    now, &b)) {
	case BIND_FULL:
		raise_alarm(e, ALARM_TABLE_FULL, "bindings", ACT_NOTICE, &a->t,
		    NULL, msg, "binding refused: table full", now);
		break;
	case BIND_POOL_FULL:
		raise_alarm(e, ALARM_TABLE_FULL, "identities", ACT_NOTICE,
		    &a->t, NULL, msg, "binding refused: identity texts' pool "
		    "full (tables.identity_bytes)", now);
		break;
	case BIND_QUOTA:
		/* REGISTERs in flight together: the proxy said 200 to one
		 * identity too many for this device. */
		raise_alarm(e, ALARM_SPOOF, "vi", ACT_NOTICE, &a->t, NULL, msg,
		    "binding refused: identities_per_device", now);
		break;
	default:
		/* The proxy vouched for K: forget spoof entries. */
		enf_forgive(e->enf, &a->t);
		if (e->bound != NULL && b != NULL && b->has_m)
			e->bound(e->bound_arg, &b->m, &b->i, b->expires +
			    e->conf.bind_grace);
		if (e->shared != NULL && b != NULL)
			e->shared(e->shared_arg, e->bt, b, NULL, now);
		break;
	}
}

/* The proxy's answer to a REGISTER (register.c reads it). */
static void
learn(struct engine *e, const struct sipm *msg, const struct dec_pkt *pkt,
    uint64_t now)
{
	struct reg_answer	 a;
	struct flood_alarm	 fa;
	enum reg_event		 ev;

	ev = reg_answer(e->pt, msg, &pkt->dst,
	    (int64_t)(e->conf.default_expires / NS_PER_SEC), learning(e, now),
	    now, &a);
	if (ev == REG_NONE)
		return;
	if (ev == REG_UNMATCHED) {
		e->st.register_unmatched++;
		return;
	}
	e->st.register_answers++;
	if (a.failure && flood_failure(e->flood, &a.t,
	    bind_find_device(e->bt, &a.t, now) != NULL, msg->status, now,
	    &fa) == FLOOD_ALARM)
		flood_alarm(e, &fa, &a.t, pkt, msg, now);
	if (a.failure && flood_target_failure(e->flood, &a.t, msg->status,
	    now, &fa) == FLOOD_ALARM) {
		struct sg_tuple	 id;

		/* No source named: each guess came from another. */
		memset(&id, 0, sizeof(id));
		memcpy(id.d, a.t.d, sizeof(id.d));
		id.dh = a.t.dh;
		raise_alarm_full(e, ALARM_BRUTEFORCE, "identity", ACT_NOTICE,
		    &id, NULL, msg, fa.detail, fa.rate, fa.cls, now);
	}
	switch (ev) {
	case REG_AMBIGUOUS:
		raise_alarm(e, ALARM_SPOOF, "ambiguous", ACT_NOTICE, &a.t,
		    NULL, msg, "two devices sent this REGISTER: nothing "
		    "learned from its answer", now);
		break;
	case REG_GRANTED:
		/* The proxy accepted these credentials: the replay memory
		 * keeps them for the whole window (spoof.c). */
		if (a.confirm)
			spoof_confirm(e->spoof, a.auth_h, &a.t, now);
		flood_granted(e->flood, &a.t);
		bind_granted(e, &a, msg, now);
		break;
	default:
		break;
	}
}

/* ---- inbound ------------------------------------------------------------- */

/*
 * A transaction's name for module II: every copy of a retransmitted
 * request, or of the answer repeated to it, has the same top Via branch,
 * Call-ID, CSeq and method (RFC 3261 17.1.3, 17.2.3); an answer adds its
 * status (a 180 and the 200 after it are two messages).
 */
static uint64_t
txn_key(const struct sipm *msg)
{
	uint64_t	 h, a, b;

	/* No RFC 3261 branch: no transaction named, no copy discounted. */
	if (msg->via_branch_h == 0)
		return 0;
	/*
	 * A retransmission repeats the message: whatever the proxy reads to
	 * tell a new request (Request-URI, sent-by, tags and identities, the
	 * credentials, the length of it all) is in the key, so a "copy"
	 * that differs is a new message, counted.
	 */
	memcpy(&a, msg->via_host.a, 8);
	memcpy(&b, msg->via_host.a + 8, 8);
	h = hash_mix(msg->via_branch_h, msg->call_id_h);
	h = hash_mix(h, msg->req_uri_h);
	h = hash_mix(h, hash_mix(a, b));
	h = hash_mix(h, msg->from_h ^ msg->to_h << 1 ^ msg->to_tag);
	h = hash_mix(h, msg->contact_uh ^ msg->auth_h);
	h = hash_mix(h, (uint64_t)msg->msg_len);
	h = hash_mix(h, (uint64_t)msg->cseq << 24 |
	    (uint64_t)(msg->request ? msg->method : msg->cseq_method) << 12 |
	    (uint64_t)(msg->request ? 0 : msg->status));
	return h != 0 ? h : 1;
}

/* Module II (SPEC 5) for a message module I accepted. */
static enum sg_verdict
module2(struct engine *e, const struct sg_tuple *t, const struct sipm *msg,
    const struct binding *b, const struct dec_pkt *pkt, uint64_t now,
    enum sg_reason *reason)
{
	struct flood_alarm	 fa;
	enum flood_verdict	 fv;
	bool			 reg = msg->request &&
				    msg->method == SIPM_REGISTER;

	fv = flood_message(e->flood, t, b, msg->method, txn_key(msg), now,
	    &fa);
	ds1_check(e, now);
	/*
	 * An identity under a distributed password guess: credentials for
	 * it from a source not bound to it wait until the guard ends.  Its
	 * own bound devices (b, the exact binding) and every first
	 * REGISTER (no credentials: the proxy's challenge) pass.
	 */
	if (fv == FLOOD_PASS && reg && b == NULL && msg->has_auth &&
	    flood_target_guarded(e->flood, t, now)) {
		*reason = SG_R_FLOOD;
		return SG_DROP;
	}
	if (fv == FLOOD_PASS && reg) {
		if (flood_register_probe(e->flood, t, b != NULL, now, &fa) ==
		    FLOOD_ALARM)
			fv = FLOOD_ALARM;
	}
	switch (fv) {
	case FLOOD_PASS:
		return SG_ACCEPT;
	case FLOOD_ALARM:
		if (fa.notice) {
			raise_alarm_full(e, fa.type, NULL, ACT_NOTICE, t, pkt,
			    msg, fa.detail, fa.rate, fa.cls, now);
			return SG_ACCEPT;
		}
		flood_alarm(e, &fa, t, pkt, msg, now);
		*reason = SG_R_FLOOD;
		break;
	case FLOOD_THROTTLE:
		*reason = SG_R_FLOOD;
		break;
	}
	return SG_DROP;
}

/*
 * In the start-up window, a 2xx teaches a binding only when the proxy
 * checked the sender's password to give it: an initial INVITE (inside
 * a dialog a proxy asks for none, and a forger could add junk
 * credentials to a BYE the callee answers 200), with a digest response,
 * whose username is the identity's own (user, or user@host), and
 * challenged first (register.c).  An INVITE only: a proxy decides
 * whether to ask credentials by the Request-URI too, and Kamailio's
 * default configuration challenges an OPTIONS to a user but answers one
 * to itself 200 before any check, so a challenged OPTIONS and a junk
 * one on the same Call-ID taught a binding in any name; an INVITE from
 * a local identity it always challenges, and its 2xx is the callee's,
 * after the check.
 */
static bool
window_credentials(const struct sipm *msg, const struct sg_tuple *t)
{
	const char	*at = strchr(t->d, '@');
	size_t		 ul = at != NULL ? (size_t)(at - t->d) : strlen(t->d);

	if (msg->method != SIPM_INVITE || !msg->has_auth ||
	    !msg->auth_has_response || msg->to_tag || msg->impi[0] == '\0')
		return false;
	return strcasecmp(msg->impi, t->d) == 0 ||
	    (strlen(msg->impi) == ul && strncasecmp(msg->impi, t->d, ul) == 0);
}

static enum sg_verdict
judge_sip(struct engine *e, struct sg_tuple *t, const struct sipm *msg,
    const struct dec_pkt *pkt, uint64_t now, enum sg_reason *reason)
{
	struct spoof_result	 r;
	const struct binding	*b;
	enum alarm_action	 act;
	enum sg_verdict		 v;
	bool			 reg = msg->request &&
				    msg->method == SIPM_REGISTER;

	tuple_sip(e, t, msg);
	/* SPEC 6: K entries never stop a REGISTER, the way back to trust. */
	if (!reg && enf_check_k(e->enf, t, now)) {
		forgery(e, t, pkt, msg, now);
		*reason = SG_R_BLACKLISTED;
		return SG_DROP;
	}
	if (reg)
		spoof_register(e->spoof, e->bt, t, msg, now, &r);
	else
		spoof_check(e->spoof, e->bt, t, msg, now, &r);
	*reason = r.reason;
	if (r.lapsed)
		e->st.lapsed++;
	if (r.pinned && e->bound != NULL)
		e->bound(e->bound_arg, &r.ec.b->m, &r.ec.b->i,
		    r.ec.b->expires + e->conf.bind_grace);
	if (r.verdict == SG_DROP && r.reason == SG_R_CASE_B && !reg &&
	    learning(e, now)) {
		/*
		 * The start-up window: a device with no binding may have
		 * registered before sipguard knew (a cold start): a notice,
		 * and if the proxy answers its credentials with a 2xx, its
		 * binding.  Every other case stays as it is.
		 */
		e->st.learn_window++;
		raise_alarm(e, ALARM_SPOOF, sg_reason_str(r.reason),
		    ACT_NOTICE, t, pkt, msg, "start-up window", now);
		if (window_credentials(msg, t))
			reg_request_window(e->pt, t, msg, now);
		return SG_ACCEPT;
	}
	if (r.verdict == SG_DROP) {
		if (reg) {
			act = ACT_DROP;
		} else {
			struct bl_key	 k;

			enf_key_k(&k, t);
			act = enf_add(e->enf, &k, sg_reason_str(r.reason),
			    t->d, 0, now);
		}
		raise_alarm(e, ALARM_SPOOF, sg_reason_str(r.reason), act, t,
		    pkt, msg, NULL, now);
		forgery(e, t, pkt, msg, now);
		return SG_DROP;
	}
	/*
	 * A REGISTER's exact binding: spoof_register() looked F up already
	 * (bind_match()), and nothing since has touched the table.
	 */
	b = reg ? r.ec.f : r.ec.b;
	v = module2(e, t, msg, b, pkt, now, reason);
	/* The proxy will see it: its answer may teach a binding. */
	if (reg && delivered(e, v) && reg_request(e->pt, t, msg, b, now))
		flood_answered(e->flood, t);
	return v;
}

/* Drop under a policy key, unless it says accept. */
static enum sg_verdict
policy_verdict(int policy)
{
	return policy == POLICY_ACCEPT ? SG_ACCEPT : SG_DROP;
}

static enum alarm_action
alarm_action_for(enum sg_verdict v)
{
	return v == SG_DROP ? ACT_DROP : ACT_NOTICE;
}

static enum sg_verdict
malformed(struct engine *e, const struct dec_pkt *pkt, const char *why,
    uint64_t now)
{
	enum sg_verdict	 v = policy_verdict(e->conf.malformed);

	e->st.malformed++;
	raise_alarm(e, ALARM_MALFORMED, NULL, alarm_action_for(v), NULL, pkt,
	    NULL, why, now);
	return emit(e, true, v, SG_R_MALFORMED, SIPM_K_MALFORMED, pkt, NULL);
}

/*
 * Certainly a request, from its first line: an upper-case letter, not
 * "SIP/" in any case (a response's start), and the line ending in
 * "SIP/2.0" (so that a payload of the proxy's that is no SIP is not
 * counted as SIP).  Anything else, leading white space or a keep-alive
 * included, goes to the parser.
 */
static bool
request_start(const uint8_t *p, size_t len)
{
	const uint8_t	*lf;
	size_t		 n;

	if (len < 4 || p[0] < 'A' || p[0] > 'Z' || ((p[0] | 0x20) == 's' &&
	    (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' && p[3] == '/') ||
	    (lf = memchr(p, '\n', len)) == NULL)
		return false;
	n = (size_t)(lf - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n >= 8 && p[n - 8] == ' ' &&
	    strncasecmp((const char *)p + n - 7, "SIP/2.0", 7) == 0;
}

/* One SIP payload (a datagram, or one message framed out of TCP). */
static enum sg_verdict
handle_payload(struct engine *e, const struct dec_pkt *pkt,
    const uint8_t *p, size_t len, bool stream, bool inbound, uint64_t now)
{
	struct sipm	*msg = &e->msg;
	struct sg_tuple	 t;
	enum sipm_kind	 kind;
	enum sg_reason	 reason;
	enum sg_verdict	 v;
	bool		 listed = false, ds1;
	uint64_t	 skey = 0;

	if (!inbound) {
		/*
		 * SPEC 3: only the proxy's final answers teach (reg_answer());
		 * a request it sends is accepted unread unless a report wants
		 * its fields.  A round trip through the queue is two passes:
		 * this saves the parse of one of them.
		 */
		if (!e->report_fields && request_start(p, len)) {
			e->st.sip++;
			return emit(e, false, SG_ACCEPT, SG_R_OUTBOUND, SIPM_K_SIP,
			    pkt, NULL);
		}
		kind = sipm_parse(e->sp, p, len, stream, msg);
		if (kind == SIPM_K_SIP) {
			e->st.sip++;
			learn(e, msg, pkt, now);
		} else if (kind == SIPM_K_NOT_SIP)
			return SG_ACCEPT;
		return emit(e, false, SG_ACCEPT, SG_R_OUTBOUND, kind, pkt, msg);
	}

	tuple_l3(&t, pkt);
	/*
	 * While DS1 holds, admission below looks the source up in two tables
	 * where a spoofed one is in neither: two cache misses a packet of the
	 * flood.  Their buckets are fetched now, while the whitelist and the
	 * blacklist are looked at.  Both file a source under one key.
	 */
	if ((ds1 = flood_ds1(e->flood))) {
		skey = bind_source_key(e->bt, &t);
		flood_source_prefetch(e->flood, skey);
	}
	switch (wl_check(e->wl, &pkt->src, &pkt->smac, pkt->has_mac)) {
	case WL_PASS:
		kind = sipm_parse(e->sp, p, len, stream, msg);
		if (kind == SIPM_K_NOT_SIP)
			return SG_ACCEPT;
		return emit(e, true, SG_ACCEPT, SG_R_WHITELISTED, kind, pkt,
		    msg);
	case WL_WRONG_MAC:
		/* Judged like anyone: the entry names another MAC. */
		e->st.wl_wrong_mac++;
		break;
	case WL_NO:
		break;
	}
	/* SPEC 6: the blacklist first, before any parsing. */
	if (enf_check_l3(e->enf, &t, now)) {
		listed = true;
		if (!e->report_fields)
			return emit(e, true, SG_DROP, SG_R_BLACKLISTED,
			    SIPM_K_NOT_SIP, pkt, NULL);
	}
	/*
	 * SPEC 5: while DS1 holds, a source module II does not know waits
	 * for admission, decided before the parse: a flood of spoofed
	 * sources costs a lookup each, not a parse.
	 */
	if (!listed && ds1 && !flood_admission_key(e->flood, skey,
	    bind_has_source_key(e->bt, skey), now)) {
		ds1_check(e, now);
		return emit(e, true, SG_DROP, SG_R_DS_ADMISSION, SIPM_K_NOT_SIP,
		    pkt, NULL);
	}

	kind = sipm_parse(e->sp, p, len, stream, msg);
	if (kind == SIPM_K_NOT_SIP) {
		/*
		 * SPEC 1: neither SIP, a keep-alive, STUN nor empty.  The
		 * proxy would not act on it as SIP, but nothing on the SIP
		 * path passes unjudged: dropped unless not_sip = accept.
		 */
		e->st.not_sip++;
		v = listed ? SG_DROP : policy_verdict(e->conf.not_sip);
		return emit(e, true, v, listed ? SG_R_BLACKLISTED :
		    SG_R_NOT_SIP, kind, pkt, NULL);
	}
	if (listed)
		return emit(e, true, SG_DROP, SG_R_BLACKLISTED, kind, pkt, msg);
	switch (kind) {
	case SIPM_K_EMPTY:
	case SIPM_K_KEEPALIVE:
	case SIPM_K_STUN:
		e->st.keepalive++;
		return emit(e, true, SG_ACCEPT, SG_R_KEEPALIVE, kind, pkt, msg);
	case SIPM_K_MALFORMED:
		/* Parsed to its fault, which may be near its end: counted as
		 * a forgery (a crafted one costs up to 4.7 INVITEs). */
		if ((v = malformed(e, pkt, msg->why, now)) == SG_DROP) {
			t.d[0] = '\0';
			forgery(e, &t, pkt, NULL, now);
		}
		return v;
	case SIPM_K_NOT_SIP:
	case SIPM_K_SIP:
		break;
	}
	e->st.sip++;
	v = judge_sip(e, &t, msg, pkt, now, &reason);
	return emit(e, true, v, reason, kind, pkt, msg);
}

/*
 * TCP (SPEC 1): the stream stage says which whole messages this segment
 * completes; each is judged once, and the segment carries the verdict
 * (drop if any of them is dropped).  Segments the stream stage refuses
 * (a poisoned connection, a conflicting retransmission, a hole, no
 * state) are dropped with their own reason.
 */
static enum sg_verdict
handle_stream(struct engine *e, const struct dec_pkt *pkt, bool inbound,
    uint64_t now)
{
	struct stream_res	*r = &e->sres;
	enum sg_verdict		 v = SG_ACCEPT;

	stream_input(e->streams, pkt, inbound, now, r);
	switch (r->action) {
	case STREAM_ACCEPT:
		count(e, SG_ACCEPT, r->reason);
		if (r->reason == SG_R_TCP)
			e->st.tcp_partial++;
		return SG_ACCEPT;
	case STREAM_DROP:
		e->st.tcp_dropped++;
		if (r->alarm)
			raise_alarm(e, ALARM_MALFORMED, sg_reason_str(r->reason),
			    ACT_DROP, NULL, pkt, NULL, r->why, now);
		return emit(e, inbound, SG_DROP, r->reason, SIPM_K_NOT_SIP, pkt,
		    NULL);
	case STREAM_JUDGE:
		break;
	}
	for (int k = 0; k < r->nmsg; k++) {
		enum sg_verdict	 mv;

		if (k == r->nmsg - 1 && r->unframed && inbound) {
			/* Cannot be framed: malformed, whatever it says. */
			mv = malformed(e, pkt, "cannot be framed", now);
		} else
			mv = handle_payload(e, pkt, r->msg[k].p,
			    r->msg[k].len, true, inbound, now);
		/*
		 * One message dropped drops the segment and poisons the
		 * stream: the ones after it are not judged (a segment of
		 * many forgeries cost a judgment each, an attacker's review).
		 */
		if (mv == SG_DROP) {
			v = SG_DROP;
			if (inbound)
				break;
		}
	}
	stream_commit(e->streams, r, v);
	return v;
}

static enum sg_verdict
undecodable(struct engine *e, const struct dec_pkt *pkt, enum dec_result dr,
    uint64_t now)
{
	enum sg_verdict	 v = policy_verdict(e->conf.malformed);

	e->st.undecodable++;
	raise_alarm(e, ALARM_MALFORMED, "undecodable", alarm_action_for(v),
	    NULL, pkt, NULL, dec_result_str(dr), now);
	return emit(e, true, v, SG_R_UNDECODABLE, SIPM_K_NOT_SIP, pkt, NULL);
}

/*
 * SCTP carries SIP (RFC 4168), and a proxy may listen on it while the
 * queue rules cover UDP and TCP only (Kamailio does, for a `listen'
 * without a protocol, unless disable_sctp).  sipguard does not read SCTP
 * (its chunks, their streams and reassembly), so what the rules queue of
 * it towards the proxy would reach it unjudged: dropped, with an alarm,
 * unless the source is whitelisted or not_sip = accept.  The proxy's own
 * is let out, as its requests are.
 */
static enum sg_verdict
sctp_unread(struct engine *e, const struct dec_pkt *pkt, bool inbound,
    uint64_t now)
{
	enum sg_verdict	 v;

	if (!inbound)
		return emit(e, false, SG_ACCEPT, SG_R_OUTBOUND,
		    SIPM_K_NOT_SIP, pkt, NULL);
	if (wl_check(e->wl, &pkt->src, &pkt->smac, pkt->has_mac) == WL_PASS)
		return emit(e, true, SG_ACCEPT, SG_R_WHITELISTED,
		    SIPM_K_NOT_SIP, pkt, NULL);
	e->st.not_sip++;
	e->st.sctp++;
	v = policy_verdict(e->conf.not_sip);
	raise_alarm(e, ALARM_MALFORMED, "sctp", alarm_action_for(v), NULL,
	    pkt, NULL, "SIP over SCTP is not read (not_sip)", now);
	return emit(e, true, v, SG_R_NOT_SIP, SIPM_K_NOT_SIP, pkt, NULL);
}

int
engine_proxy_mac(const struct engine *e, struct sg_mac *mac, bool *has_mac)
{
	if (e->conf.nproxy_macs > 0)
		return 2;
	if (!e->pinned)
		return 0;
	*mac = e->pinned_mac;
	*has_mac = e->pinned_has_mac;
	return 1;
}

/*
 * A packet from a proxy address, taken where the hook does not say (a
 * gateway, a capture): it is the proxy's only from the proxy's MAC,
 * listed in proxy.macs or pinned.  Where frames carry their destination
 * MAC (an Ethernet capture), the pin is the MAC the phones address the
 * proxy's packets to, which a forger cannot choose: their frames would
 * not reach it; a packet from the proxy's address before that is taken
 * as outbound (there is nothing pending yet it could teach).  Without
 * destination MACs (NFQUEUE on FORWARD), the first such packet's source
 * MAC is pinned: list proxy.macs there.
 */
static bool
from_proxy_mac(struct engine *e, const struct dec_pkt *pkt)
{
	if (e->conf.nproxy_macs > 0)
		return pkt->has_mac && conf_is_proxy_mac(&e->conf, &pkt->smac);
	if (e->pinned)
		return pkt->has_mac == e->pinned_has_mac && (!pkt->has_mac ||
		    memcmp(&pkt->smac, &e->pinned_mac, sizeof(pkt->smac)) ==
		    0);
	if (pkt->has_dmac)
		return true;
	e->pinned = true;
	e->pinned_has_mac = pkt->has_mac;
	e->pinned_mac = pkt->smac;
	return true;
}

/* A frame to a proxy address names the proxy's MAC as its destination. */
static void
pin_from_destination(struct engine *e, const struct dec_pkt *pkt)
{
	if (e->pinned || e->conf.nproxy_macs > 0 || !pkt->has_dmac)
		return;
	e->pinned = true;
	e->pinned_has_mac = true;
	e->pinned_mac = pkt->dmac;
}

/*
 * Direction (SPEC 1), from what an attacker cannot forge.  Returns
 * SG_R_NONE with *inbound set, SG_R_TRANSIT (not ours), or
 * SG_R_FORGED_PROXY.
 */
static enum sg_reason
direction(struct engine *e, const struct dec_pkt *pkt, enum engine_dir dir,
    bool *inbound)
{
	bool	 src_proxy = conf_is_proxy(&e->conf, &pkt->src);

	*inbound = true;
	switch (dir) {
	case DIR_OUT:
		*inbound = false;
		return SG_R_NONE;
	case DIR_LOCAL:
		*inbound = !src_proxy;
		return SG_R_NONE;
	case DIR_IN:
		/* On the proxy host the proxy's own address never comes in
		 * from the network (IPv6 has no martian check for it). */
		return src_proxy ? SG_R_FORGED_PROXY : SG_R_NONE;
	case DIR_UNKNOWN:
		break;
	}
	if (src_proxy) {
		if (!from_proxy_mac(e, pkt))
			return SG_R_FORGED_PROXY;
		*inbound = false;
		return SG_R_NONE;
	}
	/* A capture from a span port, a sloppy queue rule: traffic
	 * between two other hosts is not ours to judge. */
	if (e->conf.nproxy > 0 && !conf_is_proxy(&e->conf, &pkt->dst))
		return SG_R_TRANSIT;
	if (e->conf.nproxy > 0)
		pin_from_destination(e, pkt);
	return SG_R_NONE;
}

enum sg_verdict
engine_packet(struct engine *e, enum dec_link link, const uint8_t *frame,
    size_t len, const struct sg_mac *hwmac, enum engine_dir dir, uint64_t now)
{
	return engine_packet_flags(e, link, frame, len, hwmac, dir, 0, now);
}

/*
 * Fragments (SPEC 1): each is held (accepted: the end host cannot use a
 * datagram before its last piece) until the datagram is whole, which is
 * then judged as one packet; a late copy gets the datagram's verdict, a
 * conflicting one is dropped.  Returns true, with *pkt and *dr those of
 * the whole datagram, when it is complete; false, with *v the fragment's
 * verdict, otherwise.
 */
static bool
reassemble(struct engine *e, struct dec_pkt *pkt, enum dec_result *dr,
    uint64_t now, enum sg_verdict *v)
{
	const uint8_t		*data;
	size_t			 dlen;
	struct frag_stats	 fs0, fs1;

	e->st.decode[DEC_FRAGMENT]++;
	frag_stats(e->frag, &fs0);
	switch (frag_add(e->frag, pkt, now, &data, &dlen)) {
	case FRAG_LATE:
		e->st.frag_late++;
		/* FALLTHROUGH */
	case FRAG_HELD:
		count(e, SG_ACCEPT, SG_R_FRAGMENT);
		*v = SG_ACCEPT;
		return false;
	case FRAG_BAD:
		/* One alarm per datagram: when it goes bad. */
		frag_stats(e->frag, &fs1);
		e->st.frag_bad++;
		*v = policy_verdict(e->conf.fragments);
		if (fs1.overlap + fs1.oversize + fs1.full !=
		    fs0.overlap + fs0.oversize + fs0.full)
			raise_alarm(e, ALARM_MALFORMED, "fragment",
			    alarm_action_for(*v), NULL, pkt, NULL,
			    fs1.full != fs0.full ? "reassembly table full" :
			    "overlapping or conflicting fragment", now);
		*v = emit(e, true, *v, SG_R_FRAG_DROP, SIPM_K_NOT_SIP, pkt,
		    NULL);
		return false;
	case FRAG_DONE:
		break;
	}
	*dr = dec_reassembled(frag_last_proto(e->frag), data, dlen, pkt);
	/* A fragment inside a reassembled packet (IP-in-IP): not followed
	 * further, so undecodable. */
	if (*dr == DEC_FRAGMENT)
		*dr = DEC_MALFORMED;
	return true;
}

/*
 * A TCP segment whose checksum the kernel has not verified, or any RST
 * (the stream acts on it): the proxy's stack drops a bad one, so the
 * stream must not take it in either.
 */
static bool
bad_checksum(const struct dec_pkt *pkt, unsigned flags)
{
	if (pkt->proto != DEC_PROTO_TCP || (flags & ENGINE_CSUM_PARTIAL))
		return false;
	if (!(flags & ENGINE_CSUM_UNVERIFIED) &&
	    !(pkt->tcp_flags & TCP_F_RST))
		return false;
	return !dec_l4_csum_ok(pkt);
}

/* A whole packet (a frame, or a reassembled datagram). */
static enum sg_verdict
judge_packet(struct engine *e, struct dec_pkt *pkt, enum dec_result dr,
    enum engine_dir dir, unsigned flags, bool reassembled, uint64_t now)
{
	enum sg_reason	 why;
	bool		 inbound;

	e->st.decode[dr]++;
	switch (dr) {
	case DEC_OK:
		break;
	case DEC_TRUNCATED:
	case DEC_MALFORMED:
		/* SPEC 1: on the SIP path and unreadable: never accepted
		 * unjudged. */
		return undecodable(e, pkt, dr, now);
	case DEC_OTHER_L4:
		if (pkt->proto == DEC_PROTO_SCTP)
			break;		/* SIP may be in it: sctp_unread() */
		/* FALLTHROUGH */
	default:
		/* ARP, ICMP, ...: nothing SIP in it. */
		count(e, SG_ACCEPT, SG_R_NOT_SIP);
		return SG_ACCEPT;
	}
	switch ((why = direction(e, pkt, dir, &inbound))) {
	case SG_R_TRANSIT:
		e->st.transit++;
		count(e, SG_ACCEPT, SG_R_TRANSIT);
		return SG_ACCEPT;
	case SG_R_FORGED_PROXY:
		e->st.forged_proxy++;
		raise_alarm(e, ALARM_SPOOF, "forged-proxy", ACT_DROP, NULL, pkt,
		    NULL, "the proxy's address from the network", now);
		return emit(e, true, SG_DROP, why, SIPM_K_NOT_SIP, pkt, NULL);
	default:
		break;
	}
	if (inbound)
		e->st.inbound++;
	else
		e->st.outbound++;
	if (pkt->proto == DEC_PROTO_SCTP)
		return sctp_unread(e, pkt, inbound, now);
	if (inbound && !reassembled && bad_checksum(pkt, flags)) {
		e->st.bad_csum++;
		return emit(e, true, SG_DROP, SG_R_BAD_CSUM, SIPM_K_NOT_SIP,
		    pkt, NULL);
	}
	if (pkt->proto == DEC_PROTO_TCP)
		return handle_stream(e, pkt, inbound, now);
	return handle_payload(e, pkt, pkt->payload, pkt->plen, false, inbound,
	    now);
}

/* SPEC 1: decode -> reassembly -> direction -> the payload's stages. */
enum sg_verdict
engine_packet_flags(struct engine *e, enum dec_link link,
    const uint8_t *frame, size_t len, const struct sg_mac *hwmac,
    enum engine_dir dir, unsigned flags, uint64_t now)
{
	struct dec_pkt	 pkt;
	enum dec_result	 dr;
	enum sg_verdict	 v;
	bool		 reassembled = false;

	if (e->learn_armed) {
		e->learn_armed = false;
		e->learn_until = now + e->conf.startup_learn;
	}
	/* SPEC 5: training runs from the first packet, whatever its fate. */
	flood_clock(e->flood, now);
	e->st.packets++;
	e->st.bytes += len;
	/* Expired bindings are skipped (and reclaimed) lazily on lookup;
	 * engine_tick() sweeps the rest.  Pending entries sit in FIFO
	 * order, so this looks at the oldest only. */
	pending_expire(e->pt, now);

	/* dec_frame() clears the rest of pkt itself: what it keeps of these
	 * two is a link without a MAC of its own. */
	memset(&pkt.smac, 0, sizeof(pkt.smac));
	pkt.has_mac = false;
	if (hwmac != NULL) {
		pkt.smac = *hwmac;
		pkt.has_mac = true;
	}
	dr = dec_frame(link, frame, len, &pkt);
	if (dr == DEC_FRAGMENT) {
		if (!reassemble(e, &pkt, &dr, now, &v))
			return v;
		reassembled = true;
	}
	v = judge_packet(e, &pkt, dr, dir, flags, reassembled, now);
	if (reassembled)
		frag_judged(e->frag, v == SG_DROP);
	return v;
}
