/*
 * test_detect.c: module II's detectors added by issue 11, driven through
 * the engine or module II directly: training ends by time whatever
 * reaches module II, the scan counter's accuracy at any threshold, brute
 * force per target identity, and the per-device rise detector; a proxy
 * outage (retransmissions, bindings lapsing, re-registration) raises no
 * alarm, and one request repeated at a high rate still does.
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

/* ---- brute force: a guard outlives a flush of its table ------------- */

static void
targets16(struct sg_conf *c, int arg)
{
	(void)arg;
	c->target_identities = 16;
}

/*
 * An attacker's review: an identity guarded after 20 failures was no
 * longer refreshed (its guesses are dropped before they count), so
 * failures for as many other identities as the table holds recycled its
 * row and lifted the guard while the guesser paused.  A row whose guard
 * holds is passed over.  A second review: when every row is guarded, a
 * new identity's failures must still count (a guarded row is recycled
 * after eight passed over), or guessing it goes unseen.
 */
static void
test_target_guard_kept(void **state)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	struct flood_stats	 st;
	uint64_t		 now = T0;
	bool			 alarmed = false;

	(void)state;
	fx_open(&f, targets16, 0);
	device(&t, 7);
	identity(&t, 1, 0);
	for (int k = 0; k < 20; k++, now += SEC(1))
		alarmed |= flood_target_failure(f.fl, &t, 401, now, &a) ==
		    FLOOD_ALARM;
	assert_true(alarmed);
	assert_true(flood_target_guarded(f.fl, &t, now));
	/* 64 other identities fail, 5 times each, from other devices. */
	for (unsigned id = 1; id <= 64; id++) {
		struct sg_tuple	 o;

		device(&o, 8 + id % 100);
		identity(&o, 2, id);
		for (int k = 0; k < 5; k++, now += SEC(1) / 10)
			(void)flood_target_failure(f.fl, &o, 401, now, &a);
	}
	assert_true(now < T0 + f.conf.target_guard);
	assert_true(flood_target_guarded(f.fl, &t, now));
	flood_stats(f.fl, now, &st);
	assert_int_equal(st.target_rows_short, 0);
	/* Every row guarded: 16 identities, 20 failures each ... */
	for (unsigned id = 100; id < 116; id++) {
		struct sg_tuple	 o;

		device(&o, 50);
		identity(&o, 3, id);
		for (int k = 0; k < 20; k++, now += SEC(1) / 100)
			(void)flood_target_failure(f.fl, &o, 401, now, &a);
	}
	/* ... and a new one's 20 failures still raise its alarm. */
	identity(&t, 4, 0);
	alarmed = false;
	for (int k = 0; k < 20; k++, now += SEC(1) / 100)
		alarmed |= flood_target_failure(f.fl, &t, 401, now, &a) ==
		    FLOOD_ALARM;
	assert_true(alarmed);
	assert_true(flood_target_guarded(f.fl, &t, now));
	flood_stats(f.fl, now, &st);
	assert_true(st.target_rows_short > 0);
	/* When its guard lapses, the row is anyone's again. */
	now = T0 + f.conf.target_guard + SEC(600);
	assert_false(flood_target_guarded(f.fl, &t, now));
	fx_close(&f);
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
 * The bindings lapse for good when they expire (bindings.grace 0): a new
 * binding in a new slot must still find the device's trained rate.
 * arg: the rise test without its margin (flood.rise_margin 0).
 */
static void
short_training_no_grace(struct sg_conf *c, int arg)
{
	short_training(c, arg);
	c->bind_grace = 0;
	if (arg)
		c->rise_margin = 0;
}

/*
 * 21 devices at one message a second (device 1 at `factor' x that after
 * training, from 700 s on) until `until'; the time of device 1's first
 * rise alarm (an ir alarm whose detail says rise), 0: none.  Device
 * 1's messages come in clusters of `cluster', 20 ms apart (1: evenly
 * spaced).  Device `burst' (0: none) sends 20 messages in 2 s at 800 s.
 * With dev1_busy, device 1 sends its one a second until 700 s as a busy
 * line does, in busy stretches: two a second for 30 s, then 30 s of
 * nothing (its rise-window count spreads: its trained spread is large).
 */
static bool	 dev1_busy;

static uint64_t
population_cl(double factor, unsigned cluster, uint64_t until,
    unsigned burst, uint64_t flood_at, uint64_t *blocked)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	uint64_t		 first = 0;
	uint64_t		 next[22];
	unsigned		 sent = 0;

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
			if (blocked != NULL && d == 1 && !a.notice) {
				if (*blocked == 0)
					*blocked = next[d] - T0;
			} else if (d != 1 || a.type != ALARM_IR ||
			    strncmp(a.detail, "rise", 4) != 0 || !a.notice)
				fail_msg("device %u: alarm %d %s", d, a.type,
				    a.detail);
			else if (first == 0)
				first = next[d] - T0;
		}
		gap = SEC(1);
		if (d == 1 && dev1_busy && next[d] < T0 + SEC(700)) {
			uint64_t	 at = next[d] - T0;
			uint64_t	 m = at / SEC(60) * SEC(60);

			gap = SEC(1) / 2;
			if (at + gap - m >= SEC(30))
				gap = m + SEC(60) - at;
		}
		if (d == 1 && next[d] >= T0 + SEC(700)) {
			/* In clusters of `cluster', 20 ms apart. */
			gap = (uint64_t)(1e9 * cluster / factor) -
			    (cluster - 1) * SEC(1) / 50;
			if (++sent % cluster != 0)
				gap = SEC(1) / 50;
		}
		if (d == 1 && flood_at != 0 && next[d] >= T0 + flood_at)
			gap = SEC(1) / 50;
		if (d == burst && next[d] >= T0 + SEC(800) &&
		    next[d] < T0 + SEC(801))
			gap = SEC(1) / 10;
		next[d] += gap;
	}
	fx_close(&f);
	return first;
}

static uint64_t
population_ex(double factor, uint64_t until, unsigned burst,
    uint64_t flood_at, uint64_t *blocked)
{
	return population_cl(factor, 1, until, burst, flood_at, blocked);
}

static uint64_t
population(double factor, uint64_t until, unsigned burst)
{
	return population_ex(factor, until, burst, 0, NULL);
}

/*
 * Against its own trained rate: 4x sustained is named within the window
 * (45 s) and a few seconds; 3x (flood.rise_factor, but under its margin)
 * never; a burst of 20 in 2 s is not a rise.
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
 * The rise test judges the newest third on its time so far, with a
 * margin of flood.rise_margin x the square root of the count it
 * expects, times the row's trained spread (issue 11).  A steady 4x is
 * named within 40 s of its onset (before: the whole window and more,
 * 45 s).  A busy line (trained in busy stretches) answering busy-lamp
 * notifications in pairs at 3.55x its trained rate for a minute (the
 * busy hour's busy lines reach 3.5x-4.8x over 30-45 s, bench/eval.md) is
 * not named: 160 messages where 170 are asked (before the margin: named
 * at the window's end, over flood.rise_factor's 3.5x).  In pairs at
 * 4.5x: named.
 */
static void
test_rise_margin(void **state)
{
	uint64_t	 at;

	(void)state;
	at = population(4, SEC(1000), 0);
	print_message("steady 4x from 700 s: rise alarm at %.1f s\n",
	    (double)at / 1e9);
	assert_true(at > SEC(700) && at <= SEC(700 + 40));
	dev1_busy = true;
	at = population_cl(3.55, 2, SEC(760), 0, 0, NULL);
	print_message("busy line, pairs at 3.55x from 700 s to 760 s: %s\n",
	    at == 0 ? "not named" : "named");
	assert_int_equal(at, 0);
	at = population_cl(4.5, 2, SEC(760), 0, 0, NULL);
	dev1_busy = false;
	assert_true(at > SEC(720) && at <= SEC(720 + 40));
}

/*
 * The margin follows the row's own trained spread (flood.rise_spread_min
 * and _max): a device whose count never varied in training is judged
 * closely, a busy line as before.  Both at a steady 3.5x from 700 s, for
 * five minutes: the steady device is named within 40 s (before, with
 * one margin for every row: never, 158 messages in 45 s where 170 were
 * asked), the busy line never.
 */
static void
test_rise_spread(void **state)
{
	uint64_t	 at;

	(void)state;
	at = population(3.5, SEC(1000), 0);
	print_message("steady device, 3.5x from 700 s: %s at %.1f s\n",
	    at == 0 ? "not named" : "named", (double)at / 1e9);
	assert_true(at > SEC(700) && at <= SEC(700 + 40));
	dev1_busy = true;
	at = population(3.5, SEC(1000), 0);
	dev1_busy = false;
	print_message("busy line, 3.5x from 720 s: %s\n",
	    at == 0 ? "not named" : "named");
	assert_int_equal(at, 0);
}

/*
 * A rise is a notice (flood.rise_block false) and leaves the device's
 * other tests alone: a device named for rising at 4x and then flooding
 * at 50x its rate is blocked by SS within seconds (a notice that quieted
 * the row's tests for the blacklist's TTL would have let it through).
 */
static void
test_rise_notice_then_flood(void **state)
{
	uint64_t	 blocked = 0, at;

	(void)state;
	at = population_ex(4, SEC(800), 0, SEC(760), &blocked);
	print_message("rise notice at %.1f s, flood from 760 s blocked at "
	    "%.1f s\n", (double)at / 1e9, (double)blocked / 1e9);
	assert_true(at > SEC(700) && at < SEC(760));
	assert_true(blocked >= SEC(760) && blocked < SEC(765));
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

/*
 * A proxy outage (issue 11's rereg-storm), at module II's door.  21 bound
 * devices, device 1 a busy line (a message a second), the others one
 * every 10 s (T.Dist_Avg some 9.6 s).  After training the proxy is down
 * for 480 s: every device opens a REGISTER and a SUBSCRIBE transaction
 * each minute and, unanswered, sends each as RFC 3261 17.1.2.2 does
 * over UDP (11 copies in 31.5 s, one branch and CSeq); the bindings
 * expire meanwhile (reclaimed by the timer, as in the engine).  Then
 * every device re-registers (the REGISTER and its retry with
 * credentials, two transactions) into a new binding and resumes its
 * trained pace for 220 s.  `txn_copies': every copy of a transaction
 * gets the same key (0: each copy a message of its own, as before).
 * Returns the alarms raised; the first's type and device in *type, *dev.
 */
#define OUT_DEVS	21
#define OUT_START	SEC(700)
#define OUT_END		SEC(1180)

static uint64_t
txn_of(unsigned d, unsigned n)
{
	return hash_mix(0x5eed0000u + d, n);
}

/* RFC 3261's schedule for a non-INVITE request over UDP, ms. */
static const unsigned timer_e[11] = { 0, 500, 1500, 3500, 7500, 11500,
    15500, 19500, 23500, 27500, 31500 };

/*
 * In the outage, `in' after its start: is device d sending a copy?  Each
 * minute k it opens a REGISTER (+d/2 s), a SUBSCRIBE (20 s later) and an
 * OPTIONS keep-alive (40 s later), each sent 11 times.  Returns which
 * (0, 1, 2; -1: none), and its transaction's key.
 */
static int
outage_copy(uint64_t in, unsigned d, uint64_t *key)
{
	uint64_t	 minute = in / SEC(60);

	for (uint64_t k = minute > 0 ? minute - 1 : 0; k <= minute; k++)
		for (int which = 0; which < 3; which++) {
			uint64_t start = k * SEC(60) + (uint64_t)which *
			    SEC(20) + SEC(d) / 2;

			if (in < start)
				continue;
			for (int c = 0; c < 11; c++)
				if (in - start ==
				    (uint64_t)timer_e[c] * 1000000) {
					*key = txn_of(d, 100000 +
					    (unsigned)k * 3 + (unsigned)which);
					return which;
				}
		}
	return -1;
}

static int
outage(bool txn_copies, enum alarm_type *type, unsigned *dev)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	const struct binding	*b;
	uint64_t		 next[OUT_DEVS + 1], gap[OUT_DEVS + 1];
	unsigned		 n[OUT_DEVS + 1];
	int			 alarms = 0;

	fx_open(&f, short_training_no_grace, !txn_copies);
	for (unsigned d = 1; d <= OUT_DEVS; d++) {
		device(&t, d);
		identity(&t, 99, d);
		assert_int_equal(bind_learn(f.bt, &t, 0, T0 + SEC(1000), T0,
		    &b), BIND_NEW);
		gap[d] = d == 1 ? SEC(1) : SEC(30);
		next[d] = T0 + gap[d] * d / (OUT_DEVS + 1);
		n[d] = 0;
	}
	/* Ordinary traffic, except in the outage; then the outage's. */
	for (uint64_t now = T0; now < T0 + SEC(1400); now += SEC(1) / 100) {
		bind_expire(f.bt, now, UINT32_MAX);
		for (unsigned d = 1; d <= OUT_DEVS; d++) {
			uint64_t	 since = now - T0;
			enum sip_method	 m = SIPM_OPTIONS;
			uint64_t	 key;

			device(&t, d);
			identity(&t, 99, d);
			if (since >= OUT_START && since < OUT_END) {
				int	 which;

				which = outage_copy(since - OUT_START, d,
				    &key);
				if (which < 0)
					continue;
				m = which == 0 ? SIPM_REGISTER : which == 1 ?
				    SIPM_SUBSCRIBE : SIPM_OPTIONS;
				if (!txn_copies)
					key = 0;
			} else if (since == OUT_END + SEC(d)) {
				/* Back: REGISTER, 401, REGISTER with
				 * credentials, 200 (a new binding). */
				t.a = SIPM_REGISTER;
				flood_message(f.fl, &t, NULL, SIPM_REGISTER,
				    txn_copies ? txn_of(d, 200000) : 0, now,
				    &a);
				assert_int_equal(bind_learn(f.bt, &t, 0,
				    now + SEC(3600), now, &b), BIND_NEW);
				m = SIPM_REGISTER;
				key = txn_copies ? txn_of(d, 200001) : 0;
				next[d] = now + gap[d];
			} else {
				if (now < next[d] || (since >= OUT_START &&
				    since < OUT_END + SEC(d)))
					continue;
				key = txn_copies ? txn_of(d, n[d]++) : 0;
				next[d] += gap[d];
			}
			t.a = m;
			b = bind_find(f.bt, &t, now);
			if (flood_message(f.fl, &t, b, m, key, now, &a) ==
			    FLOOD_ALARM) {
				if (alarms++ == 0) {
					*type = a.type;
					*dev = d;
				}
			}
		}
	}
	fx_close(&f);
	return alarms;
}

/*
 * The outage raises no alarm: retransmissions are counted once per
 * transaction, and the busy line's new binding is judged against its
 * own trained rate, not the population's (10 times slower).  Counted
 * copy by copy, the same outage alarms the rise test without its
 * margin (flood.rise_margin 0; with the margin, these copies stay just
 * under the bar: the margin is not what keeps an outage quiet).
 */
static void
test_outage_storm(void **state)
{
	enum alarm_type	 type = ALARM__COUNT;
	unsigned	 dev = 0;
	int		 n;

	(void)state;
	n = outage(true, &type, &dev);
	if (n != 0)
		fail_msg("%d alarms, the first %s on device %u", n,
		    alarm_type_str(type), dev);
	n = outage(false, &type, &dev);
	print_message("copies counted one by one: %d alarms, the first %s "
	    "on device %u\n", n, alarm_type_str(type), dev);
	assert_true(n > 0);
}

/*
 * OUT_DEVS bound devices (identities 98/d), trained at a message every
 * 10 s: their first message's time in next[], none sent yet.
 */
static void
bound_devices(struct fx *f, uint64_t *next, unsigned *n)
{
	struct sg_tuple		 t;
	const struct binding	*b;

	fx_open(f, short_training, 0);
	for (unsigned d = 1; d <= OUT_DEVS; d++) {
		device(&t, d);
		identity(&t, 98, d);
		assert_int_equal(bind_learn(f->bt, &t, 0, T0 + SEC(7200), T0,
		    &b), BIND_NEW);
		next[d] = T0 + SEC(10) * d / (OUT_DEVS + 1);
		n[d] = 0;
	}
}

/*
 * What a retransmission may not hide: one bound device (trained at a
 * message every 10 s) sending one request over and over, the same
 * transaction key every time: at 20 a second (faster than RFC 3261's
 * schedule), and at its pace (a copy every 0.5 s, 2 a second) for long
 * past Timer F.  Both alarmed; the time from onset in *at.
 */
static int
same_request(uint64_t every, uint64_t *at)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	const struct binding	*b;
	uint64_t		 now, next[OUT_DEVS + 1];
	unsigned		 n[OUT_DEVS + 1];
	int			 type = -1;

	bound_devices(&f, next, n);
	for (now = T0; now < T0 + SEC(900) && type < 0; now += SEC(1) / 100) {
		for (unsigned d = 1; d <= OUT_DEVS && type < 0; d++) {
			uint64_t	 key = txn_of(d, n[d]);

			if (d == 1 && now >= T0 + SEC(700)) {
				if ((now - T0 - SEC(700)) % every != 0)
					continue;
				key = txn_of(1, 999999);
			} else if (now < next[d])
				continue;
			else {
				n[d]++;
				next[d] += SEC(10);
			}
			device(&t, d);
			identity(&t, 98, d);
			t.a = SIPM_INVITE;
			b = bind_find(f.bt, &t, now);
			if (flood_message(f.fl, &t, b, SIPM_INVITE, key, now,
			    &a) == FLOOD_ALARM) {
				if (d != 1)
					fail_msg("device %u alarmed", d);
				type = (int)a.type;
				*at = now - T0 - SEC(700);
			}
		}
	}
	fx_close(&f);
	return type;
}

/*
 * Copies held back and sent at once (an attacker's review): every 30 s
 * device 1 opens 4 transactions, then 23.7 s later sends the 10 copies of
 * each, 40 messages in 0.4 s.  Timed from the first copy each was late
 * enough, and none counted; timed from the copy before it, they are a
 * burst, counted, and SS names it.  The time of the first alarm after
 * 700 s, or -1.
 */
static int
held_back_copies(uint64_t *at)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	const struct binding	*b;
	uint64_t		 now, next[OUT_DEVS + 1];
	unsigned		 n[OUT_DEVS + 1];
	int			 type = -1;

	bound_devices(&f, next, n);
	for (now = T0; now < T0 + SEC(900) && type < 0; now += SEC(1) / 100) {
		for (unsigned d = 1; d <= OUT_DEVS && type < 0; d++) {
			uint64_t	 key = txn_of(d, n[d]);

			if (d == 1 && now >= T0 + SEC(700)) {
				uint64_t	 in = now - T0 - SEC(700);
				uint64_t	 cycle = in / SEC(30);
				uint64_t	 tick = in % SEC(30) /
						    (SEC(1) / 100);

				/* Ticks 0-3: the 4 originals; from 23.7 s,
				 * 40 ticks: 10 copies of each in turn. */
				if (tick < 4)
					key = txn_of(1, 1000 + (unsigned)
					    (cycle * 4 + tick));
				else if (tick >= 2370 && tick < 2410)
					key = txn_of(1, 1000 + (unsigned)
					    (cycle * 4 + (tick - 2370) % 4));
				else
					continue;
			} else if (now < next[d])
				continue;
			else {
				n[d]++;
				next[d] += SEC(10);
			}
			device(&t, d);
			identity(&t, 98, d);
			t.a = SIPM_INVITE;
			b = bind_find(f.bt, &t, now);
			if (flood_message(f.fl, &t, b, SIPM_INVITE, key, now,
			    &a) == FLOOD_ALARM) {
				if (d != 1)
					fail_msg("device %u alarmed", d);
				type = (int)a.type;
				*at = now - T0 - SEC(700);
			}
		}
	}
	fx_close(&f);
	return type;
}

static void
test_held_back_copies(void **state)
{
	uint64_t	 at = 0;
	int		 type;

	(void)state;
	type = held_back_copies(&at);
	print_message("10 copies of 4 transactions at once, every 30 s: %s "
	    "after %.2f s\n", type < 0 ? "none" :
	    alarm_type_str((enum alarm_type)type), (double)at / 1e9);
	assert_int_equal(type, ALARM_SS);
	assert_true(at < SEC(30));
}

static void
test_same_request_flood(void **state)
{
	uint64_t	 at = 0;
	int		 type;

	(void)state;
	type = same_request(SEC(1) / 20, &at);
	print_message("one request 20 times a second: %s after %.2f s\n",
	    type < 0 ? "none" : alarm_type_str((enum alarm_type)type),
	    (double)at / 1e9);
	assert_int_equal(type, ALARM_SS);
	assert_true(at < SEC(5));
	type = same_request(SEC(1) / 2, &at);
	print_message("one request twice a second: %s after %.2f s\n",
	    type < 0 ? "none" : alarm_type_str((enum alarm_type)type),
	    (double)at / 1e9);
	assert_true(type >= 0);
	assert_true(at < SEC(90));
}

/* ---- a source that cannot be blocked ------------------------------------ */

static void
gateway_one(struct sg_conf *c, int arg)
{
	struct sg_tuple	 t;

	(void)arg;
	c->training_duration = SEC(10);
	c->blacklist_ttl = SEC(30);
	device(&t, 1);
	c->gateway_macs[0] = t.m;
	c->ngateway_macs = 1;
}

/*
 * Device 1 behind a configured gateway MAC, never seen answering: its
 * flood is alarmed but not blockable, so module II rate-limits it
 * (FLOOD_THROTTLE) for the blacklist's TTL, then judges it afresh.  Once
 * it has answered a challenge its next alarm is blockable, and no limit
 * of the earlier alarm outlives it: quiet (FLOOD_PASS), not throttled.
 */
static void
test_gateway_throttle(void **state)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	uint64_t		 now = T0, alarmed = 0;
	unsigned		 throttled = 0, passed = 0, alarms = 0;
	enum flood_verdict	 v;

	(void)state;
	fx_open(&f, gateway_one, 0);
	device(&t, 1);
	t.a = SIPM_OPTIONS;
	/* Trained at a message a second. */
	for (int k = 0; k < 20; k++, now += SEC(1))
		assert_int_equal(flood_message(f.fl, &t, NULL, SIPM_OPTIONS,
		    0, now, &a), FLOOD_PASS);
	/* 100 a second for 10 s: one alarm, not blockable, then limits. */
	for (int k = 0; k < 1000; k++, now += SEC(1) / 100) {
		v = flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, now, &a);
		if (v == FLOOD_ALARM) {
			assert_false(a.blockable);
			alarms++;
			alarmed = now;
		} else if (v == FLOOD_THROTTLE)
			throttled++;
	}
	assert_int_equal(alarms, 1);
	assert_true(throttled > 900);
	/* Past the TTL: judged afresh, alarmed again, limited again. */
	now = alarmed + SEC(31);
	alarms = throttled = 0;
	for (int k = 0; k < 500; k++, now += SEC(1) / 100) {
		v = flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, now, &a);
		alarms += v == FLOOD_ALARM;
		throttled += v == FLOOD_THROTTLE;
	}
	assert_int_equal(alarms, 1);
	assert_true(throttled > 400);
	/* Answered: the next alarm is blockable, and then only quiet. */
	flood_answered(f.fl, &t);
	now += SEC(31);
	alarms = throttled = 0;
	for (int k = 0; k < 500; k++, now += SEC(1) / 100) {
		v = flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, now, &a);
		if (v == FLOOD_ALARM) {
			assert_true(a.blockable);
			alarms++;
		}
		throttled += v == FLOOD_THROTTLE;
		passed += alarms > 0 && v == FLOOD_PASS;
	}
	assert_int_equal(alarms, 1);
	assert_int_equal(throttled, 0);
	assert_true(passed > 400);
	fx_close(&f);
}

/*
 * What module II knows of unbound sources (trained rows, rows that
 * answered a challenge) is what admits them while DS1 holds.  A flood of
 * spoofed sources fills the device table: before, it recycled the
 * trained rows first (least recently seen), and a source an attacker
 * wrote 17 Via hosts for counted as known (past 16 rows).  Now a full
 * table recycles unknown rows first, and only known rows are looked at.
 */
static void
small_sources(struct sg_conf *c, int arg)
{
	short_training(c, arg);
	c->tab_sources = 64;
}

static void
test_known_sources_kept(void **state)
{
	struct fx		 f;
	struct sg_tuple		 t, x;
	struct flood_alarm	 a;
	uint64_t		 now = T0;
	int			 raised = 0;

	(void)state;
	fx_open(&f, small_sources, 0);
	/* Training: device 1 (a trunk with no binding) at one a second, and
	 * device 2, whose credentials the proxy accepts after it, and device 4,
 * which only answers a challenge (junk credentials will do). */
	for (; now < T0 + SEC(700); now += SEC(1)) {
		device(&t, 1);
		identity(&t, 7, 1);
		flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, now, &a);
	}
	flood_tick(f.fl, now);
	device(&t, 2);
	identity(&t, 7, 2);
	flood_granted(f.fl, &t);
	device(&t, 4);
	identity(&t, 7, 4);
	flood_answered(f.fl, &t);
	/* 2,000 spoofed sources in 2 s, one message each: DS1. */
	for (unsigned k = 0; k < 2000; k++, now += SEC(1) / 1000) {
		memset(&x, 0, sizeof(x));
		x.has_m = true;
		x.m.b[0] = 0x02;
		x.m.b[3] = (uint8_t)(k >> 8);
		x.m.b[4] = (uint8_t)k;
		x.m.b[5] = 0x66;
		x.i.family = SG_AF_INET;
		x.i.a[0] = 203;
		x.i.a[1] = 0;
		x.i.a[2] = (uint8_t)(k >> 8);
		x.i.a[3] = (uint8_t)k;
		x.s = x.i;
		identity(&x, 9, k);
		flood_message(f.fl, &x, NULL, SIPM_REGISTER, 0, now, &a);
		if (flood_ds1_edge(f.fl, now, &a) == 1)
			raised = 1;
	}
	assert_true(raised);
	assert_true(flood_ds1(f.fl));
	/* The admission's tokens spent on an unknown source. */
	for (int k = 0; k < 100000 && flood_admission(f.fl, &x, false, now);
	    k++)
		;
	assert_false(flood_admission(f.fl, &x, false, now));
	/* The trained trunk and the device whose credentials were accepted
	 * are still known: admitted without a token; the one that only
	 * answered a challenge is not. */
	device(&t, 1);
	assert_true(flood_admission(f.fl, &t, false, now));
	device(&t, 2);
	assert_true(flood_admission(f.fl, &t, false, now));
	device(&t, 4);
	assert_false(flood_admission(f.fl, &t, false, now));
	/* An attacker's own source behind 20 rows (a Via host each) is not
	 * known for that. */
	{
		int	 refused = 0;

		device(&x, 3);
		for (unsigned k = 0; k < 20; k++) {
			char	 via[32];

			snprintf(via, sizeof(via), "10.9.0.%u", k + 1);
			assert_int_equal(sg_addr_parse(via, &x.s), 0);
			x.nat = true;
			identity(&x, 11, k);
			flood_message(f.fl, &x, NULL, SIPM_REGISTER, 0, now,
			    &a);
		}
		x.s = x.i;
		x.nat = false;
		for (int k = 0; k < 10; k++)
			if (!flood_admission(f.fl, &x, false, now))
				refused++;
		assert_int_equal(refused, 10);
	}
	fx_close(&f);
}

/*
 * An attacker's review: the device table primed with rows of one real
 * source (a private Via host each) that answered a challenge with junk
 * credentials, or even had them accepted (his own account), kept them
 * all, so every unknown source shared the one row left: two unknown
 * sources taking turns recycled each other's row, and a scanner's count
 * never grew.  Answering makes no row known now, one source holds at
 * most 16 known rows, and unknown rows keep a quarter of the table.
 */
static unsigned
primed_scan(int prime)
{
	struct fx		 f;
	struct sg_tuple		 t, o, x;
	struct flood_alarm	 a;
	uint64_t		 now = T0;
	unsigned		 first = 0;

	fx_open(&f, small_sources, 0);
	device(&x, 3);
	x.nat = true;
	for (unsigned k = 0; prime != 0 && k < 64; k++) {
		char	 via[32];

		snprintf(via, sizeof(via), "10.9.%u.%u", k >> 8,
		    (k & 255) + 1);
		assert_int_equal(sg_addr_parse(via, &x.s), 0);
		if (prime == 1)
			flood_answered(f.fl, &x);
		else
			flood_granted(f.fl, &x);
	}
	device(&t, 5);		/* the scanner: no NAT, s = i */
	device(&o, 6);		/* any other unknown source */
	for (unsigned k = 0; k < 40; k++) {
		now += SEC(1) / 10;
		identity(&t, 13, k);
		if (flood_register_probe(f.fl, &t, false, now, &a) ==
		    FLOOD_ALARM && first == 0)
			first = k + 1;
		identity(&o, 14, 0);
		(void)flood_register_probe(f.fl, &o, false, now, &a);
	}
	fx_close(&f);
	return first;
}

static void
test_primed_table_hides_scan(void **state)
{
	unsigned	 plain;

	(void)state;
	plain = primed_scan(0);
	assert_int_not_equal(plain, 0);
	assert_int_equal(primed_scan(1), plain);
	assert_int_equal(primed_scan(2), plain);
}

/* ---- DS2 against the typical row's rise -------------------------------- */

#define PD_MAX	320

/* Device `n' of a population of up to PD_MAX: 198.51.(100 + n / 256).x. */
static void
pdevice(struct sg_tuple *t, unsigned n)
{
	char	 ip[32];

	memset(t, 0, sizeof(*t));
	t->has_m = true;
	t->m.b[0] = 0x02;
	t->m.b[3] = 0x02;
	t->m.b[4] = (uint8_t)(n >> 8);
	t->m.b[5] = (uint8_t)n;
	snprintf(ip, sizeof(ip), "198.51.%u.%u", 100 + n / 256, n % 256);
	assert_int_equal(sg_addr_parse(ip, &t->i), 0);
	t->s = t->i;
	t->sport = 5060;
	t->a = SIPM_OPTIONS;
}

static void
ds2_tune(struct sg_conf *c, int lift)
{
	c->training_duration = SEC(600);
	c->tab_sources = 1024;
	if (lift > 0)
		c->ds2_lift = lift;
}

/*
 * n devices; device d sends every gap[d] (s) until 650 s, then every
 * gap[d] / rise[d] (0: silent before 650 s, a phone coming online), each
 * gap jittered by up to +-30 % (a fixed sequence), until 800 s.  DS2
 * alarms counted in *ds2 (on devices d < n_attack in *hit); returns
 * whether DS1 rose.  lift: flood.ds2_lift (0: the default).
 */
static bool
ds2_population(unsigned n, const double *gap, const double *rise,
    unsigned n_attack, int lift, unsigned *ds2, unsigned *hit)
{
	struct fx		 f;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	struct flood_stats	 st;
	uint64_t		 next[PD_MAX], end = T0 + SEC(800);
	uint32_t		 lcg = 12345;
	bool			 ds1 = false;

	assert_true(n <= PD_MAX);
	*ds2 = *hit = 0;
	fx_open(&f, ds2_tune, lift);
	for (unsigned d = 0; d < n; d++)
		next[d] = T0 + (gap[d] > 0 ? SEC(1) * d / n :
		    SEC(650) + SEC(1) * d / n);
	for (;;) {
		unsigned	 d = 0;
		double		 g, u;

		for (unsigned k = 1; k < n; k++)
			if (next[k] < next[d])
				d = k;
		if (next[d] >= end)
			break;
		pdevice(&t, d);
		if (flood_message(f.fl, &t, NULL, SIPM_OPTIONS, 0, next[d],
		    &a) == FLOOD_ALARM && !a.notice) {
			assert_int_equal(a.type, ALARM_DS2);
			(*ds2)++;
			*hit += d < n_attack;
		}
		flood_ds1_edge(f.fl, next[d], &a);
		flood_stats(f.fl, next[d], &st);
		ds1 |= st.ds1;
		lcg = lcg * 1103515245u + 12345u;
		u = ((lcg >> 8) & 0xffff) / 65535.0 * 0.6 - 0.3;
		g = gap[d] > 0 ? gap[d] : 1;
		if (next[d] >= T0 + SEC(650))
			g /= rise[d];
		next[d] += (uint64_t)(g * (1 + u) * 1e9);
	}
	fx_close(&f);
	return ds1;
}

/*
 * A morning ramp: 60 trained phones at a message a second each rise
 * 1.6x to 2.8x (noise takes some past DS2's 2.5-fold), 60 more come
 * online at 1.5 a second; the global rate passes DS1's tolerance.
 * Every row rose with the typical one: DS2 blocks nobody (as it did
 * with flood.ds2_lift = 1, judging each row by x alone).
 */
static void
test_ds2_ramp(void **state)
{
	double		 gap[120], rise[120];
	unsigned	 ds2, hit;

	(void)state;
	for (unsigned d = 0; d < 120; d++) {
		gap[d] = d < 60 ? 1 : 0;
		rise[d] = d < 60 ? 1.6 + 1.2 * ((d * 7) % 60) / 59.0 : 1.5;
	}
	assert_true(ds2_population(120, gap, rise, 0, 1, &ds2, &hit));
	print_message("morning ramp, flood.ds2_lift = 1: %u DS2 alarms\n",
	    ds2);
	assert_true(ds2 > 0);
	assert_true(ds2_population(120, gap, rise, 0, 0, &ds2, &hit));
	assert_int_equal(ds2, 0);
}

/*
 * 50 busy lines (2 messages a second) of 300 devices (the others one
 * every 5 s) rise to 4x: the global rate some 3x, DS1 rises, the
 * typical row does not move, and DS2 blocks every one of the 50.
 */
static void
test_ds2_minority(void **state)
{
	double		 gap[300], rise[300];
	unsigned	 ds2, hit;

	(void)state;
	for (unsigned d = 0; d < 300; d++) {
		gap[d] = d < 50 ? 0.5 : 5;
		rise[d] = d < 50 ? 4 : 1;
	}
	assert_true(ds2_population(300, gap, rise, 50, 0, &ds2, &hit));
	assert_int_equal(hit, 50);
	assert_int_equal(ds2, 50);
}

int
main(void)
{
	TREG("detect", training_wall_time);
	TREG("detect", scan_accuracy);
	TREG("detect", scan_pbx);
	TREG("detect", scan_pool);
	TREG("detect", rise);
	TREG("detect", rise_margin);
	TREG("detect", rise_spread);
	TREG("detect", rise_notice_then_flood);
	TREG("detect", rise_sparse);
	TREG("detect", outage_storm);
	TREG("detect", known_sources_kept);
	TREG("detect", primed_table_hides_scan);
	TREG("detect", target_guard_kept);
	TREG("detect", same_request_flood);
	TREG("detect", held_back_copies);
	TREG("detect", gateway_throttle);
	TREG("detect", ds2_ramp);
	TREG("detect", ds2_minority);
	return treg_run("detect");
}
