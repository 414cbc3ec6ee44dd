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
 * callback only records.
 *   cluster REDIS [N]
 */
#include <sys/epoll.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "cluster.h"
#include "conf.h"
#include "enforce.h"
#include "log.h"

#define TICK		(SEC(1) / 10)	/* the daemon's timer */
#define PHASES		3

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
		const uint8_t	*a = m[k].key.i.a;
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
	bn.n[0] = bn.n[1] = 400;
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
	cluster_set_apply(bn.a, ignore, NULL, NULL);
	cluster_set_apply(bn.b, on_apply, NULL, &bn);
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

	printf("cluster: two nodes in one process, Redis at %s\n", argv[1]);
	report(&bn, 0, "propagation, worker's listing (wakes the loop)");
	report(&bn, 1, "propagation, operator's change (at once)");
	printf("%-48s %u listings in %.3f s: %.0f/s published and applied\n",
	    "rate, a burst offered at once", bn.got[2], (double)t / 1e9,
	    (double)bn.got[2] / ((double)t / 1e9));
	cluster_destroy(bn.a);
	cluster_destroy(bn.b);
	return bn.got[0] == bn.n[0] && bn.got[1] == bn.n[1] &&
	    bn.got[2] == bn.n[2] ? 0 : 1;
}
