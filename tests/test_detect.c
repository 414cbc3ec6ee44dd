/*
 * test_detect.c: module II's detectors added by issue 11, driven through
 * the engine or module II directly: training ends by time whatever
 * reaches module II, the scan counter's accuracy at any threshold, brute
 * force per target identity, and the per-device rise detector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bind.h"
#include "conf.h"
#include "engine.h"
#include "flood.h"
#include "hash.h"
#include "scenario.h"
#include "sipguard.h"
#include "testlib.h"

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };
static const struct pg_ep EVE = { { 2, 0, 0, 0, 0, 0x66 }, "203.0.113.66",
    5060 };
static const struct pg_ep ALICE = { { 2, 0, 0, 0, 0, 0x11 },
    "198.51.100.11", 5060 };

/* ---- training ends by time ------------------------------------------- */

/*
 * 55 s in which every packet is dropped before module II (not SIP), then
 * one REGISTER: training (60 s) ends at 60 s of the engine's time, not
 * 60 s after that REGISTER.
 */
static void
test_training_wall_time(void **state)
{
	static const char *const sets[] = {
		"proxy.addresses = [\"192.0.2.1\"]",
		"startup.learn = 0",
		"training.duration = 60",
		NULL,
	};
	struct scn		 s;
	struct flood_stats	 st;
	struct pg_msg		 m;
	const char		 junk[] = "not sip at all, dropped";

	(void)state;
	assert_int_equal(scn_init(&s, "training", sets, NULL, true), 0);
	for (int k = 0; k < 55; k++) {
		scn_send_payload(&s, &EVE, &PROXY, junk, sizeof(junk) - 1,
		    NULL);
		assert_int_equal(s.verdict, SG_DROP);
		scn_wait(&s, 1);
	}
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_true(st.training);
	assert_true(st.train_left > 4 && st.train_left < 6);
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.ruri = "sip:example.com";
	m.via = "198.51.100.11:5060";
	m.from = m.to = "sip:alice@example.com";
	m.call_id = "training-1";
	m.cseq = 1;
	m.contact = "<sip:alice@198.51.100.11:5060>";
	m.expires = 3600;
	scn_send(&s, &ALICE, &PROXY, &m);
	assert_int_equal(s.verdict, SG_ACCEPT);
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_true(st.training && st.train_left < 6);
	/* The timer ends it, with no message to module II. */
	scn_wait(&s, 6);
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_false(st.training);
	assert_true(flood_training(engine_flood(s.e), s.now) == false);
	scn_fini(&s);
}

/* ---- the scan counter -------------------------------------------------- */

#define T0	SEC(1700000000)

struct fx {
	struct sg_conf		 conf;
	struct bind_table	*bt;
	struct flood		*fl;
};

static void
fx_open(struct fx *f, void (*tune)(struct sg_conf *, int), int arg)
{
	memset(f, 0, sizeof(*f));
	conf_defaults(&f->conf);
	f->conf.tab_bindings = 256;
	f->conf.tab_sources = 256;
	if (tune != NULL)
		tune(&f->conf, arg);
	f->bt = bind_create(&f->conf);
	assert_non_null(f->bt);
	f->fl = flood_create(&f->conf, f->bt);
	assert_non_null(f->fl);
}

static void
fx_close(struct fx *f)
{
	flood_destroy(f->fl);
	bind_destroy(f->bt);
}

/* Device `n': MAC 02:00:00:00:01:n, 198.51.100.n. */
static void
device(struct sg_tuple *t, unsigned n)
{
	char	 ip[32];

	memset(t, 0, sizeof(*t));
	t->has_m = true;
	t->m.b[0] = 0x02;
	t->m.b[4] = 0x01;
	t->m.b[5] = (uint8_t)n;
	snprintf(ip, sizeof(ip), "198.51.100.%u", n);
	assert_int_equal(sg_addr_parse(ip, &t->i), 0);
	t->s = t->i;
	t->sport = 5060;
	t->a = SIPM_REGISTER;
}

static void
identity(struct sg_tuple *t, unsigned seed, unsigned k)
{
	snprintf(t->d, sizeof(t->d), "s%u-ext%u@example.com", seed, k);
	t->dh = hash_bytes(t->d, strlen(t->d));
}

static void
scan_threshold(struct sg_conf *c, int t)
{
	c->scan_identities = t;
	c->identities_per_device = t > 16 ? t * 5 / 6 - 1 : t - 1;
}

/*
 * REGISTERs from one device for `n' distinct identities, each sent
 * twice (all once, then all again); the number of distinct identities
 * seen when the first scan alarm fired (0: none).
 */
static unsigned
probe(int threshold, unsigned seed, unsigned n)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	uint64_t		 now = T0;
	unsigned		 first = 0;

	fx_open(&f, scan_threshold, threshold);
	device(&t, 7);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned k = 0; k < n; k++) {
			identity(&t, seed, k);
			now += 1000;
			if (flood_register_probe(f.fl, &t, false, now, &a) ==
			    FLOOD_ALARM && first == 0) {
				assert_int_equal(a.type, ALARM_SCAN);
				first = k + 1;
				/* Only the first pass can reach it. */
				assert_int_equal(pass, 0);
			}
		}
	fx_close(&f);
	return first;
}

/*
 * At thresholds 10 to 100000 and eight seeds each: 0.85 x the threshold
 * in distinct identities never alarms, 1.15 x always does; repeats never
 * count twice.  The first alarm's count / threshold is printed.
 */
static void
test_scan_accuracy(void **state)
{
	static const int	 thr[] = { 10, 16, 17, 100, 1000, 10000,
				    100000 };

	(void)state;
	for (size_t i = 0; i < nitems(thr); i++) {
		unsigned	 lo = (unsigned)(thr[i] * 0.85);
		unsigned	 hi = (unsigned)(thr[i] * 1.15 + 0.999);
		double		 rmin = 1e9, rmax = 0;

		for (unsigned seed = 1; seed <= 8; seed++) {
			unsigned	 at;

			if (probe(thr[i], seed, lo) != 0)
				fail_msg("threshold %d: %u identities alarmed",
				    thr[i], lo);
			if ((at = probe(thr[i], seed, hi)) == 0)
				fail_msg("threshold %d: %u identities not "
				    "alarmed", thr[i], hi);
			if ((double)at / thr[i] < rmin)
				rmin = (double)at / thr[i];
			if ((double)at / thr[i] > rmax)
				rmax = (double)at / thr[i];
		}
		print_message("scan threshold %d: first alarm at %.3f to "
		    "%.3f x the threshold\n", thr[i], rmin, rmax);
		/* Exact where it promises to be. */
		if (thr[i] <= 16)
			assert_true(rmin == 1.0 && rmax == 1.0);
	}
}

/* A PBX re-registering its lines, every one many times: no alarm. */
static void
test_scan_pbx(void **state)
{
	(void)state;
	assert_int_equal(probe(10, 1, 9), 0);
	assert_int_equal(probe(240, 2, 200), 0);
}

static void
two_sketches(struct sg_conf *c, int arg)
{
	(void)arg;
	c->scan_identities = 40;
	c->scan_sketches = 2;
}

/*
 * The pool: two sketches, three devices past 16 identities.  The third
 * finds none (counted, stays at 16), gets one once a window ended.
 */
static void
test_scan_pool(void **state)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	struct flood_stats	 st;
	uint64_t		 now = T0;
	int			 alarms = 0;

	(void)state;
	fx_open(&f, two_sketches, 0);
	for (unsigned dev = 1; dev <= 3; dev++) {
		device(&t, dev);
		for (unsigned k = 0; k < 20; k++) {
			identity(&t, dev, k);
			now += 1000;
			flood_register_probe(f.fl, &t, false, now, &a);
		}
	}
	flood_stats(f.fl, now, &st);
	assert_int_equal(st.scan_sketches, 2);
	assert_true(st.scan_sketches_short >= 1);
	/* A window later, the third device counts to the alarm. */
	now += f.conf.bf_window + SEC(1);
	device(&t, 3);
	for (unsigned k = 0; k < 60; k++) {
		identity(&t, 9, k);
		now += 1000;
		if (flood_register_probe(f.fl, &t, false, now, &a) ==
		    FLOOD_ALARM)
			alarms++;
	}
	assert_int_equal(alarms, 1);
	fx_close(&f);
}

/* ---- the rise detector ------------------------------------------------- */

static void
short_training(struct sg_conf *c, int arg)
{
	(void)arg;
	c->training_duration = SEC(600);
}

/*
 * 21 devices at one message a second (device 1 at `factor' x that after
 * training, from 700 s on) until `until'; the time of device 1's first
 * rise alarm (an ir alarm whose detail says rise), 0: none.  Device
 * `burst' (0: none) sends 20 messages in 2 s at 800 s.
 */
static uint64_t
population(double factor, uint64_t until, unsigned burst)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	uint64_t		 first = 0;
	uint64_t		 next[22];

	fx_open(&f, short_training, 0);
	for (unsigned d = 1; d <= 21; d++)
		next[d] = T0 + SEC(1) * d / 22;
	for (;;) {
		unsigned	 d = 1;
		uint64_t	 gap;

		for (unsigned k = 2; k <= 21; k++)
			if (next[k] < next[d])
				d = k;
		if (next[d] >= T0 + until)
			break;
		device(&t, d);
		t.a = SIPM_OPTIONS;
		if (flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, next[d],
		    &a) == FLOOD_ALARM) {
			if (d != 1 || a.type != ALARM_IR ||
			    strncmp(a.detail, "rise", 4) != 0)
				fail_msg("device %u: alarm %d %s", d, a.type,
				    a.detail);
			if (first == 0)
				first = next[d] - T0;
		}
		gap = SEC(1);
		if (d == 1 && next[d] >= T0 + SEC(700))
			gap = (uint64_t)(1e9 / factor);
		if (d == burst && next[d] >= T0 + SEC(800) &&
		    next[d] < T0 + SEC(801))
			gap = SEC(1) / 10;
		next[d] += gap;
	}
	fx_close(&f);
	return first;
}

/*
 * Against its own trained rate: 4x sustained is named within the window
 * (45 s) and a few seconds; 3x (under flood.rise_factor, 3.5) never; a
 * burst of 20 in 2 s is not a rise.
 */
static void
test_rise(void **state)
{
	uint64_t	 at;

	(void)state;
	at = population(4, SEC(1000), 0);
	print_message("4x from 700 s: rise alarm at %.1f s\n",
	    (double)at / 1e9);
	assert_true(at > SEC(700) && at <= SEC(700 + 50));
	assert_int_equal(population(3, SEC(1000), 0), 0);
	assert_int_equal(population(1, SEC(1000), 1), 0);
}

/*
 * A device trained at one REGISTER an hour (no rate of its own: too few
 * gaps) that sends three in a minute after an outage, and a dozen after
 * that: not judged.
 */
static void
test_rise_sparse(void **state)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	uint64_t		 now = T0;

	(void)state;
	fx_open(&f, short_training, 0);
	device(&t, 5);
	flood_message(f.fl, &t, NULL, SIPM_REGISTER, 0, now, &a);
	now += SEC(3600);
	for (int k = 0; k < 15; k++) {
		now += SEC(4);
		assert_int_equal(flood_message(f.fl, &t, NULL, SIPM_REGISTER,
		    0, now, &a), FLOOD_PASS);
	}
	fx_close(&f);
}

int
main(void)
{
	TREG("detect", training_wall_time);
	TREG("detect", scan_accuracy);
	TREG("detect", scan_pbx);
	TREG("detect", scan_pool);
	TREG("detect", rise);
	TREG("detect", rise_sparse);
	return treg_run("detect");
}
