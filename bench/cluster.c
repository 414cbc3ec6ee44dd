/*
 * bench/cluster.c: the shared blacklist measured (make bench-cluster,
 * through tools/bench-cluster.sh, which gives it a redis-server of its
 * own).  Two cluster instances in one process on one epoll set, as two
 * daemons' main loops would run them, so one clock times a listing from
 * its offer at node A (what a worker does) to its apply at node B (what
 * B's main loop hands its workers): the propagation time, p50 and p99,
 * from a worker (the first listing on an empty queue wakes the main
 * loop) and from an operator (flushed after the command); then the
 * rate: a burst of listings offered at once, until B has applied them
 * all.  The workers' locks and the enforcers are not in it: the
 * callback only records.  Then a binding's propagation (a worker's
 * learning, offered as the engine's hook offers it, to B's apply), and
 * what the cluster costs a packet: an engine judging REGISTERs, the
 * proxy's 200 OKs (each a binding learned, so a message queued when the
 * cluster is on) and INVITEs of bound phones, with the hook off and on,
 * rounds interleaved, the queue drained by the loop between rounds.
 *   cluster REDIS [N]
 */
#include <sys/epoll.h>

#include <inttypes.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <osipparser2/osip_parser.h>

#include "bind.h"
#include "clock.h"
#include "cluster.h"
#include "conf.h"
#include "enforce.h"
#include "engine.h"
#include "hash.h"
#include "log.h"
#include "pktgen.h"

#define TICK		(SEC(1) / 10)	/* the daemon's timer */
#define PHASES		4		/* the last: bindings */
#define PH_BIND		3
#define PHONES		2000		/* the per-packet cost's phones */
#define COST_ROUNDS	10

struct bench {
	struct cluster	*a, *b;
	int		 epfd;
	uint64_t	*sent[PHASES];	/* clock_mono() at the offer */
	uint64_t	*lat[PHASES];	/* ns, offer to apply */
	uint32_t	 n[PHASES], got[PHASES];
	uint64_t	 last_tick;
};

static void
on_apply(void *arg, const struct cluster_msg *m, const uint64_t *ttl,
    size_t n)
{
	struct bench	*bn = arg;
	uint64_t	 now = clock_mono();

	(void)ttl;
	for (size_t k = 0; k < n; k++) {
		const uint8_t	*a = m[k].kind == CLUSTER_BIND ? m[k].b.i.a :
				    m[k].key.i.a;
		unsigned	 ph = (unsigned)a[0] - 10;
		uint32_t	 i = (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 |
				    a[3];

		if (m[k].op != CLUSTER_ADD || ph >= PHASES || i >= bn->n[ph] ||
		    bn->lat[ph][i] != 0)
			continue;
		bn->lat[ph][i] = now - bn->sent[ph][i];
		bn->got[ph]++;
	}
}

static void
ignore(void *arg, const struct cluster_msg *m, const uint64_t *ttl,
    size_t n)
{
	(void)arg;
	(void)m;
	(void)ttl;
	(void)n;
}

/* One turn of the loop: events for up to `ms', the tick when due (or
 * always with `tick' 0). */
static void
turn(struct bench *bn, int ms, uint64_t tick)
{
	struct epoll_event	 ev[16];
	int			 n = epoll_wait(bn->epfd, ev, 16, ms);

	for (int k = 0; k < n; k++) {
		void	*p = ev[k].data.ptr;

		cluster_event(cluster_owns(bn->a, p) ? bn->a : bn->b, p,
		    ev[k].events);
	}
	if (clock_mono() - bn->last_tick >= tick) {
		bn->last_tick = clock_mono();
		cluster_tick(bn->a, clock_now());
		cluster_tick(bn->b, clock_now());
	}
}

static bool
up(struct cluster *c)
{
	struct cluster_status	 s;

	cluster_status(c, &s);
	return s.connected && !s.syncing;
}

static void
offer(struct bench *bn, unsigned ph, uint32_t i)
{
	struct bl_entry	 b;
	struct sg_tuple	 t;

	memset(&t, 0, sizeof(t));
	sg_mac_parse("02:00:5e:00:53:01", &t.m);
	t.has_m = true;
	t.i.family = SG_AF_INET;
	t.i.a[0] = (uint8_t)(10 + ph);
	t.i.a[1] = (uint8_t)(i >> 16);
	t.i.a[2] = (uint8_t)(i >> 8);
	t.i.a[3] = (uint8_t)i;
	memset(&b, 0, sizeof(b));
	enf_key_mi(&b.key, &t);
	b.added = clock_now();
	b.expires = b.added + SEC(600);
	snprintf(b.why, sizeof(b.why), "bench");
	bn->sent[ph][i] = clock_mono();
	cluster_offer(bn->a, &b);
}

/* A binding learned at A, as the engine's hook offers it. */
static void
offer_binding(struct bench *bn, uint32_t i)
{
	struct binding	 b;
	char		 d[SG_ID_MAX];

	memset(&b, 0, sizeof(b));
	sg_mac_parse("02:00:5e:00:53:01", &b.m);
	b.has_m = true;
	b.live = true;
	b.i.family = SG_AF_INET;
	b.i.a[0] = 10 + PH_BIND;
	b.i.a[1] = (uint8_t)(i >> 16);
	b.i.a[2] = (uint8_t)(i >> 8);
	b.i.a[3] = (uint8_t)i;
	b.s = b.i;
	b.port = 5060;
	snprintf(d, sizeof(d), "u%u@bench.example", i);
	b.dh = hash_bytes(d, strlen(d));
	b.contact_idh = 1;
	b.refreshed = clock_now();
	b.expires = b.refreshed + SEC(3600);
	bn->sent[PH_BIND][i] = clock_mono();
	cluster_offer_binding(bn->a, &b, d, "");
}

/* ---- per packet: the cluster on and off ---------------------------------- */

struct frame {
	uint8_t		 b[1400];
	size_t		 len;
};

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };

static void
frame(struct frame *f, const struct pg_ep *src, const struct pg_ep *dst,
    const char *method, int status, const char *user, const char *via,
    const char *cid, const char *contact)
{
	char		 text[1200], a[64], v[64];
	struct pg_msg	 m;

	snprintf(a, sizeof(a), "sip:%s@example.com", user);
	snprintf(v, sizeof(v), "%s:5060", via);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.status = status;
	m.via = v;
	m.from = a;
	m.to = method != NULL && strcmp(method, "INVITE") == 0 ?
	    "sip:bob@example.com" : a;
	m.call_id = cid;
	m.cseq = 1;
	m.cseq_method = method ? NULL : "REGISTER";
	m.contact = contact;
	m.expires = -1;
	f->len = pg_frame(f->b, sizeof(f->b), src, dst, text,
	    pg_sip(text, sizeof(text), &m), NULL);
}

/* Per phone: its REGISTER, the proxy's 200 OK, an INVITE. */
static struct frame *
phones(void)
{
	struct frame	*f = calloc(3 * PHONES, sizeof(*f));
	char		 ip[32], user[32], cid[32], contact[96];
	struct pg_ep	 ep;

	for (unsigned k = 0; f != NULL && k < PHONES; k++) {
		pg_mac(ep.mac, 0x1000 + k);
		snprintf(ip, sizeof(ip), "44.1.%u.%u", k >> 8, k & 0xff);
		ep.ip = ip;
		ep.port = 5060;
		snprintf(user, sizeof(user), "u%u", k);
		snprintf(cid, sizeof(cid), "reg-%u", k);
		snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>", user,
		    ip);
		frame(&f[3 * k], &ep, &PROXY, "REGISTER", 0, user, ip, cid,
		    contact);
		snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>;"
		    "expires=3600", user, ip);
		frame(&f[3 * k + 1], &PROXY, &ep, NULL, 200, user, "192.0.2.1",
		    cid, contact);
		snprintf(cid, sizeof(cid), "inv-%u", k);
		frame(&f[3 * k + 2], &ep, &PROXY, "INVITE", 0, user, ip, cid,
		    contact);
	}
	return f;
}

static void
shared(void *arg, const struct bind_table *bt, const struct binding *b,
    const struct sg_tuple *gone, uint64_t now)
{
	struct cluster	*c = arg;
	char		 d[SG_ID_MAX], impi[SG_ID_MAX];

	if (b != NULL)
		cluster_offer_binding(c, b, bind_d(bt, b, d),
		    bind_impi(bt, b, impi));
	else
		cluster_binding_removed(c, gone, now);
}

/* ns a packet over every phone's three, the cluster's hook on or off. */
static double
cost(struct engine *e, const struct frame *f, struct cluster *c,
    uint64_t *now, unsigned *vii)
{
	uint64_t	 t0;

	engine_set_shared(e, c != NULL ? shared : NULL, c);
	t0 = clock_mono();
	for (unsigned k = 0; k < 3 * PHONES; k++)
		if (engine_packet(e, LINK_ETHERNET, f[k].b, f[k].len, NULL,
		    DIR_UNKNOWN, (*now += 1000000)) == SG_ACCEPT && k % 3 == 2)
			(*vii)++;
	return (double)(clock_mono() - t0) / (3 * PHONES);
}

static int
cmp(const void *x, const void *y)
{
	uint64_t	 a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void
report(struct bench *bn, unsigned ph, const char *what)
{
	uint64_t	*l = bn->lat[ph];
	uint32_t	 n = bn->n[ph];

	qsort(l, n, sizeof(*l), cmp);
	if (bn->got[ph] < n) {
		printf("%-48s %u of %u arrived\n", what, bn->got[ph], n);
		return;
	}
	printf("%-48s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%u)\n",
	    what, (double)l[n / 2] / 1e6, (double)l[n * 99 / 100] / 1e6,
	    (double)l[n - 1] / 1e6, n);
}

int
main(int argc, char *argv[])
{
	struct bench	 bn;
	struct sg_conf	 ca, cb;
	char		 err[512], name[CONF_NAME_MAX];
	uint32_t	 n = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) :
			    20000;
	uint64_t	 t0, t;

	if (argc < 2) {
		fprintf(stderr, "usage: cluster REDIS [N]\n");
		return 2;
	}
	log_init("bench-cluster", 1, LOG_DAEMON);
	memset(&bn, 0, sizeof(bn));
	bn.n[0] = bn.n[1] = bn.n[PH_BIND] = 400;
	bn.n[2] = n;
	for (int k = 0; k < PHASES; k++) {
		bn.sent[k] = calloc(bn.n[k], sizeof(uint64_t));
		bn.lat[k] = calloc(bn.n[k], sizeof(uint64_t));
		if (bn.sent[k] == NULL || bn.lat[k] == NULL)
			return 1;
	}
	snprintf(name, sizeof(name), "sgbench%lu",
	    (unsigned long)(clock_now() % 1000000));
	conf_defaults(&ca);
	snprintf(ca.cluster_redis, sizeof(ca.cluster_redis), "%s", argv[1]);
	snprintf(ca.cluster_name, sizeof(ca.cluster_name), "%s", name);
	ca.cluster_queue = (int)(n + 1024);
	cb = ca;
	snprintf(ca.cluster_node, sizeof(ca.cluster_node), "bench-a");
	snprintf(cb.cluster_node, sizeof(cb.cluster_node), "bench-b");
	bn.epfd = epoll_create1(0);
	if ((bn.a = cluster_create(&ca, bn.epfd, NULL, err, sizeof(err))) ==
	    NULL || (bn.b = cluster_create(&cb, bn.epfd, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "bench-cluster: %s\n", err);
		return 1;
	}
	cluster_set_apply(bn.a, ignore, NULL);
	cluster_set_apply(bn.b, on_apply, &bn);
	t0 = clock_mono();
	while (!(up(bn.a) && up(bn.b))) {
		if (clock_mono() - t0 > SEC(5)) {
			fprintf(stderr, "bench-cluster: no Redis at %s\n",
			    argv[1]);
			return 1;
		}
		turn(&bn, 10, 0);
	}

	/* 1: a worker's listing: it wakes the loop (the tick runs too). */
	for (uint32_t i = 0; i < bn.n[0]; i++) {
		offer(&bn, 0, i);
		t = clock_mono();
		/* 7 ms apart: the offers fall anywhere in the tick. */
		while (clock_mono() - t < SEC(7) / 1000)
			turn(&bn, 1, TICK);
	}
	for (t = clock_mono(); bn.got[0] < bn.n[0] && clock_mono() - t <
	    SEC(2);)
		turn(&bn, 5, TICK);
	/* 2: an operator's change, flushed at once. */
	for (uint32_t i = 0; i < bn.n[1]; i++) {
		offer(&bn, 1, i);
		cluster_flush(bn.a, clock_now());
		for (t = clock_mono(); bn.got[1] <= i && clock_mono() - t <
		    SEC(1);)
			turn(&bn, 1, TICK);
	}
	/* 3: a burst, flushed as fast as the in-flight bound allows. */
	t0 = clock_mono();
	for (uint32_t i = 0; i < bn.n[2]; i++)
		offer(&bn, 2, i);
	while (bn.got[2] < bn.n[2] && clock_mono() - t0 < SEC(30)) {
		cluster_flush(bn.a, clock_now());
		turn(&bn, 1, TICK);
	}
	t = clock_mono() - t0;

	/* 4: a binding learned by a worker at A, to B's apply. */
	for (uint32_t i = 0; i < bn.n[PH_BIND]; i++) {
		offer_binding(&bn, i);
		for (uint64_t w = clock_mono(); clock_mono() - w < SEC(7) /
		    1000;)
			turn(&bn, 1, TICK);
	}
	for (uint64_t w = clock_mono(); bn.got[PH_BIND] < bn.n[PH_BIND] &&
	    clock_mono() - w < SEC(2);)
		turn(&bn, 5, TICK);

	/* 5: per packet, the hook off and on, interleaved. */
	{
		static const char *sets[] = {
			"proxy.addresses = [\"192.0.2.1\"]",
			"tables.bindings = 8192",
			"startup.learn = 0",
		};
		struct sg_conf		 ce;
		struct conf_errors	 errs;
		struct engine		*e;
		struct frame		*f = phones();
		struct cluster_status	 st;
		uint64_t		 pnow = clock_now();
		double			 off = 0, on = 0;
		unsigned		 vii_off = 0, vii_on = 0;

		parser_init();
		if (f == NULL || conf_load(NULL, sets, (int)nitems(sets), &ce,
		    &errs) == -1 || (e = engine_create(&ce)) == NULL) {
			fprintf(stderr, "bench-cluster: engine: %s\n",
			    errs.buf);
			return 1;
		}
		cluster_set_apply(bn.b, ignore, NULL);
		(void)cost(e, f, NULL, &pnow, &vii_off);	/* warm */
		vii_off = 0;
		for (int r = 0; r < COST_ROUNDS; r++) {
			off += cost(e, f, NULL, &pnow, &vii_off);
			on += cost(e, f, bn.a, &pnow, &vii_on);
			/* What the main loop does between, untimed. */
			for (uint64_t w = clock_mono(); clock_mono() - w <
			    SEC(5);) {
				cluster_status(bn.a, &st);
				if (st.queued == 0 && st.pending == 0)
					break;
				cluster_flush(bn.a, clock_now());
				turn(&bn, 1, TICK);
			}
		}
		cluster_status(bn.a, &st);
		printf("cluster: two nodes in one process, Redis at %s\n",
		    argv[1]);
		report(&bn, 0, "propagation, worker's listing (wakes the loop)");
		report(&bn, 1, "propagation, operator's change (at once)");
		report(&bn, PH_BIND, "propagation, a binding learned (worker)");
		printf("%-48s %u listings in %.3f s: %.0f/s published and "
		    "applied\n", "rate, a burst offered at once", bn.got[2],
		    (double)t / 1e9, (double)bn.got[2] / ((double)t / 1e9));
		printf("%-48s off %6.0f ns  on %6.0f ns  on/off %.3f\n",
		    "per packet (REGISTER, 200 OK, INVITE)", off / COST_ROUNDS,
		    on / COST_ROUNDS, on / off);
		printf("%-48s %u INVITEs accepted of %u each way; %" PRIu64
		    " bindings published, %" PRIu64 " lost\n",
		    "  (judged the same, the hook's messages out)", vii_on,
		    COST_ROUNDS * PHONES, st.binds_out, st.overflow);
		engine_destroy(e);
		free(f);
		if (vii_on != vii_off)
			return 1;
	}
	cluster_destroy(bn.a);
	cluster_destroy(bn.b);
	return bn.got[0] == bn.n[0] && bn.got[1] == bn.n[1] &&
	    bn.got[2] == bn.n[2] && bn.got[PH_BIND] == bn.n[PH_BIND] ? 0 : 1;
}

