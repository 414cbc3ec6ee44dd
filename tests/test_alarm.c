/*
 * test_alarm.c: the daemon's alarm log (alarm.h) against an attacker who
 * wants to flood syslog: spoofed alarms, each from a new source, which
 * per-key aggregation cannot fold.  The log's own lines are captured
 * (log.c writes to stderr, redirected to a file) and counted: lines per
 * (type, case) within the budget, summary counts exact, other types
 * still heard, summaries written with no further alarm, and repeats of
 * one key still aggregated as before.
 */
#include <sys/eventfd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarm.h"
#include "hash.h"
#include "log.h"
#include "sipguard.h"
#include "testlib.h"

#define T0		SEC(1700000000)
#define US(x)		((uint64_t)(x) * 1000ULL)
#define MS(x)		((uint64_t)(x) * 1000000ULL)
#define KEYS		4096
#define AGGREGATE	SEC(10)		/* log.aggregate's default */

/* alarm.c's defaults: 20 lines/s per (type, case), burst 40, 250/s in all. */
#define RATE		20
#define BURST		40
#define TOTAL_RATE	250
#define TOTAL_BURST	(2 * TOTAL_RATE)

/* ---- capturing the log ------------------------------------------------- */

struct cap {
	FILE		*f;
	int		 saved;
};

static void
cap_start(struct cap *c)
{
	fflush(stderr);
	c->f = tmpfile();
	assert_non_null(c->f);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* What the log said, by (type, case). */
struct tally {
	char		 type[16], kase[16];
	uint64_t	 own;		/* alarms with their own line */
	uint64_t	 keyed;		/* counted in "(N more suppressed)" */
	uint64_t	 budget;	/* counted in the budget's summary */
	uint64_t	 summaries;	/* budget summary lines */
};

struct said {
	uint64_t	 lines;
	int		 n;
	struct tally	 t[64];
};

static void
field(const char *line, const char *key, char *out, size_t len)
{
	const char	*p = strstr(line, key);
	size_t		 n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	n = strcspn(p, " ");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static struct tally *
tally_of(struct said *s, const char *type, const char *kase)
{
	for (int k = 0; k < s->n; k++)
		if (strcmp(s->t[k].type, type) == 0 &&
		    strcmp(s->t[k].kase, kase) == 0)
			return &s->t[k];
	assert_true(s->n < (int)nitems(s->t));
	memset(&s->t[s->n], 0, sizeof(s->t[0]));
	snprintf(s->t[s->n].type, sizeof(s->t[0].type), "%s", type);
	snprintf(s->t[s->n].kase, sizeof(s->t[0].kase), "%s", kase);
	return &s->t[s->n++];
}

/* Stop capturing; add what was logged to `s'. */
static void
cap_stop(struct cap *c, struct said *s)
{
	char		 line[1024], type[16], kase[16], n[32];
	const char	*p;

	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	rewind(c->f);
	while (fgets(line, sizeof(line), c->f) != NULL) {
		struct tally	*t;

		assert_true(strncmp(line, "alarm type=", 11) == 0);
		s->lines++;
		field(line, "type=", type, sizeof(type));
		field(line, " case=", kase, sizeof(kase));
		t = tally_of(s, type, kase);
		if (strstr(line, " action=summary ") != NULL) {
			field(line, " suppressed=", n, sizeof(n));
			t->budget += strtoull(n, NULL, 10);
			t->summaries++;
		} else if ((p = strstr(line, " more suppressed)")) != NULL) {
			while (p > line && p[-1] != '(')
				p--;
			t->keyed += strtoull(p, NULL, 10);
		} else
			t->own++;
	}
	fclose(c->f);
}

static struct tally *
said_of(struct said *s, const char *type, const char *kase)
{
	return tally_of(s, type, kase);
}

/* ---- alarms ------------------------------------------------------------- */

/* A spoof alarm from source number `src' (its own IP and MAC). */
static void
spoofed(struct alarm *a, enum alarm_type type, const char *kase,
    uint32_t src, uint64_t now)
{
	static struct sg_addr	 ip;
	char			 buf[32];

	snprintf(buf, sizeof(buf), "10.%u.%u.%u", (src >> 16) & 0xff,
	    (src >> 8) & 0xff, src & 0xff);
	assert_int_equal(sg_addr_parse(buf, &ip), 0);
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->kase = kase;
	a->action = ACT_BLOCK;
	a->has_m = true;
	a->m.b[0] = 0x02;
	a->m.b[3] = (uint8_t)(src >> 16);
	a->m.b[4] = (uint8_t)(src >> 8);
	a->m.b[5] = (uint8_t)src;
	a->i = ip;
	a->s = ip;
	a->identity = "alice@example.com";
	a->method = "BYE";
	a->call_id = "forged-bye";
	a->rate = -1;
	a->now = now;
}

static void
emit(struct alarm_log *l, enum alarm_type type, const char *kase,
    uint32_t src, uint64_t now)
{
	struct alarm	 a;

	spoofed(&a, type, kase, src, now);
	alarm_log_emit(l, &a);
}

static int
setup(void **state)
{
	*state = alarm_log_create(KEYS, AGGREGATE);
	assert_non_null(*state);
	return 0;
}

static int
teardown(void **state)
{
	struct cap	 c;
	struct said	 s;

	/* Destroying flushes: keep its lines out of the test's output. */
	memset(&s, 0, sizeof(s));
	cap_start(&c);
	alarm_log_destroy(*state);
	cap_stop(&c, &s);
	return 0;
}

/* ---- tests ------------------------------------------------------------- */

/*
 * Issue 9: 100,000 spoofed alarms from distinct sources within one
 * second (a forged-BYE flood), an SS alarm in the middle of it.
 */
static void
test_spoofed_flood(void **state)
{
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	struct tally		*b, *ss;
	uint32_t		 n = 100000;

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (uint32_t k = 0; k < n; k++) {
		emit(l, ALARM_SPOOF, "b", k, T0 + US(10) * k);
		if (k == n / 2)
			emit(l, ALARM_SS, NULL, 1, T0 + US(10) * k);
	}
	/* The daemon's next tick, no alarm since. */
	alarm_log_flush(l, T0 + SEC(1));
	cap_stop(&c, &s);

	b = said_of(&s, "spoof", "b");
	ss = said_of(&s, "ss", "-");
	print_message("%u spoofed alarms in 1 s: %llu lines (%llu alarms, "
	    "%llu summary), summary count %llu\n", n,
	    (unsigned long long)s.lines, (unsigned long long)b->own,
	    (unsigned long long)b->summaries, (unsigned long long)b->budget);
	assert_true(b->own <= BURST + RATE);
	assert_true(b->own >= BURST);
	assert_int_equal(b->summaries, 1);
	assert_int_equal(b->keyed, 0);
	/* Exact: every alarm has its line or is in the summary's count. */
	assert_int_equal(b->own + b->budget, n);
	/* Another type, during the flood: heard. */
	assert_int_equal(ss->own, 1);
	assert_int_equal(s.lines, b->own + 1 + 1);
	assert_int_equal(alarm_log_suppressed(l), b->budget);
	assert_int_equal(alarm_log_over_budget(l, ALARM_SPOOF, "b"),
	    b->budget);
	assert_int_equal(alarm_log_over_budget(l, ALARM_SS, NULL), 0);

	/* Said once: the next ticks have nothing to add. */
	memset(&s, 0, sizeof(s));
	cap_start(&c);
	alarm_log_flush(l, T0 + SEC(2));
	alarm_log_flush(l, T0 + SEC(3));
	cap_stop(&c, &s);
	assert_int_equal(s.lines, 0);
}

/*
 * A sustained flood, ten seconds at 20,000 alarms/s of three spoof cases
 * and malformed packets, the daemon's tick each second: the rate of
 * each, one summary line a second for each, counts exact by case.
 */
static void
test_sustained_by_case(void **state)
{
	static const char *const cases[] = { "b", "ix", "masquerade" };
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	uint64_t		 sent[4] = { 0 };
	uint64_t		 now = T0;
	uint32_t		 src = 0;

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (int sec = 0; sec < 10; sec++) {
		for (int k = 0; k < 20000; k++) {
			int	 w = k % 4;

			now = T0 + SEC(sec) + US(50) * (uint64_t)k;
			if (w < 3)
				emit(l, ALARM_SPOOF, cases[w], src++, now);
			else
				emit(l, ALARM_MALFORMED, NULL, src++, now);
			sent[w]++;
		}
		alarm_log_flush(l, T0 + SEC(sec + 1));
	}
	cap_stop(&c, &s);
	for (int w = 0; w < 4; w++) {
		struct tally	*t = w < 3 ? said_of(&s, "spoof", cases[w]) :
				    said_of(&s, "malformed", "-");

		print_message("%s/%s: %llu sent, %llu lines, %llu summaries "
		    "counting %llu\n", t->type, t->kase,
		    (unsigned long long)sent[w], (unsigned long long)t->own,
		    (unsigned long long)t->summaries,
		    (unsigned long long)t->budget);
		assert_true(t->own <= BURST + RATE * 10);
		assert_true(t->own >= RATE * 10);
		assert_int_equal(t->summaries, 10);
		assert_int_equal(t->own + t->budget, sent[w]);
	}
	assert_int_equal(s.n, 4);
}

/*
 * Varied cases at once (an attacker who makes every flag pattern): the
 * total budget holds the sum under journald's rate limit, the counts
 * stay exact, and another type still gets its line past the drained
 * total.
 */
static void
test_total_budget(void **state)
{
	static const char *const cases[] = { "b", "i", "ii", "iv", "v", "vi",
	    "viii", "ix", "xi", "masquerade", "reflection", "spoof", "replay",
	    "x", "iii", "vii", "ds-admission", "flood", "a", "c" };
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	uint64_t		 own = 0, held = 0;
	uint32_t		 n = 200000, k;
	int			 spoof = 0;

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (k = 0; k < n; k++) {
		emit(l, ALARM_SPOOF, cases[k % nitems(cases)], k,
		    T0 + US(5) * k);
		if (k == n - n / 4)
			emit(l, ALARM_BRUTEFORCE, NULL, 1, T0 + US(5) * k);
	}
	alarm_log_flush(l, T0 + SEC(1));
	cap_stop(&c, &s);
	assert_int_equal(said_of(&s, "bruteforce", "-")->own, 1);
	for (int j = 0; j < s.n; j++) {
		if (strcmp(s.t[j].type, "spoof") != 0)
			continue;
		spoof++;
		own += s.t[j].own;
		held += s.t[j].budget;
		assert_int_equal(s.t[j].own + s.t[j].budget, n / nitems(cases));
	}
	print_message("%u alarms of %zu cases in 1 s: %llu lines, %llu "
	    "counted in %d summaries\n", n, nitems(cases),
	    (unsigned long long)s.lines, (unsigned long long)held, spoof);
	assert_int_equal(spoof, (int)nitems(cases));
	assert_int_equal(s.n, spoof + 1);
	/* The total, plus one line a second each past it. */
	assert_true(own <= TOTAL_BURST + TOTAL_RATE + nitems(cases));
	assert_int_equal(own + held, n);
	assert_true(s.lines <= TOTAL_BURST + TOTAL_RATE + 2 * nitems(cases) +
	    1);
}

/*
 * As before: one offender's repeats within log.aggregate give one line,
 * then "(N more suppressed)" when the window closes; they spend nothing
 * of the budget.
 */
static void
test_repeats_aggregated(void **state)
{
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	struct tally		*t;

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (int k = 0; k < 1000; k++)
		emit(l, ALARM_SPOOF, "ix", 7, T0 + MS(1) * (uint64_t)k);
	/* The budget is untouched: BURST new sources still get lines. */
	for (uint32_t k = 0; k < BURST; k++)
		emit(l, ALARM_SPOOF, "ix", 100 + k, T0 + SEC(1));
	alarm_log_flush(l, T0 + SEC(5));	/* window still open */
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "ix");
	assert_int_equal(t->own, 1 + BURST);
	assert_int_equal(t->keyed, 0);
	assert_int_equal(t->budget, 0);

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	alarm_log_flush(l, T0 + AGGREGATE);
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "ix");
	assert_int_equal(s.lines, 1);
	assert_int_equal(t->keyed, 999);
	assert_int_equal(alarm_log_suppressed(l), 999);
}

/*
 * Spoofed sources that each repeat: the keys that got a line aggregate
 * their repeats; the rest, and any key summary over the budget, land in
 * the budget's summary.  Nothing is lost, nothing counted twice.
 */
static void
test_repeating_sources_exact(void **state)
{
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	struct tally		*t;
	uint32_t		 sources = 5000, rounds = 4;

	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (uint32_t r = 0; r < rounds; r++)
		for (uint32_t k = 0; k < sources; k++)
			emit(l, ALARM_SPOOF, "viii", k, T0 + MS(100) * r +
			    US(10) * k);
	for (int sec = 1; sec <= 12; sec++)
		alarm_log_flush(l, T0 + SEC(sec));
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "viii");
	print_message("%u sources x %u: %llu lines, %llu in key summaries, "
	    "%llu in %llu budget summaries\n", sources, rounds,
	    (unsigned long long)s.lines, (unsigned long long)t->keyed,
	    (unsigned long long)t->budget, (unsigned long long)t->summaries);
	assert_int_equal(t->own + t->keyed + t->budget, sources * rounds);
	assert_true(t->own <= BURST + RATE);
	assert_true(s.lines <= BURST + RATE * 12 + 12);
	assert_int_equal(alarm_log_suppressed(l), t->keyed + t->budget);
}

/* An operator's budget (alarm_log_set_budget); 0: no budget at all. */
static void
test_set_budget(void **state)
{
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	struct tally		*t;

	alarm_log_set_budget(l, 5, 5, 0);
	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (uint32_t k = 0; k < 1000; k++)
		emit(l, ALARM_SPOOF, "b", k, T0 + US(100) * k);
	alarm_log_flush(l, T0 + SEC(1));
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "b");
	assert_int_equal(t->own, 5);
	assert_int_equal(t->budget, 995);

	alarm_log_set_budget(l, 0, 0, 0);
	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (uint32_t k = 0; k < 1000; k++)
		emit(l, ALARM_SPOOF, "b", 2000 + k, T0 + SEC(2) + US(100) * k);
	alarm_log_flush(l, T0 + SEC(3));
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "b");
	assert_int_equal(t->own, 1000);
	assert_int_equal(s.lines, 1000);
}

/*
 * The daemon's writer (alarm_log_set_writer()): a worker's alarm only
 * queues its line and wakes the main loop once, which writes the lines
 * (alarm_log_write()) exactly as they were; a full queue writes at once,
 * after what it holds, so nothing is lost or reordered.
 */
static void
test_queued_lines(void **state)
{
	struct alarm_log	*l = *state;
	struct cap		 c;
	struct said		 s;
	struct tally		*t;
	uint64_t		 x = 0;
	int			 efd = eventfd(0, EFD_NONBLOCK);
	char			 line[1024], ip[32];
	unsigned		 prev = 0, n = 0;

	assert_true(efd >= 0);
	assert_int_equal(alarm_log_set_writer(l, efd), 0);
	memset(&s, 0, sizeof(s));
	cap_start(&c);
	for (uint32_t k = 0; k < 100; k++)
		emit(l, ALARM_SPOOF, "b", k, T0 + US(100) * k);
	fflush(stderr);
	/* Queued, not written; one wake-up for the lot. */
	assert_int_equal(ftell(c.f), 0);
	assert_int_equal(read(efd, &x, sizeof(x)), sizeof(x));
	assert_int_equal(x, 1);
	alarm_log_write(l);
	alarm_log_flush(l, T0 + SEC(1));
	alarm_log_write(l);
	cap_stop(&c, &s);
	t = said_of(&s, "spoof", "b");
	assert_int_equal(t->own, BURST);
	assert_int_equal(t->own + t->budget, 100);

	/* Past the queue's room: every line, in the order raised. */
	alarm_log_set_budget(l, 0, 0, 0);
	cap_start(&c);
	for (uint32_t k = 0; k < 3000; k++)
		emit(l, ALARM_SPOOF, "c", 1000 + k, T0 + SEC(2) + US(10) * k);
	alarm_log_write(l);
	fflush(stderr);
	assert_true(dup2(c.saved, STDERR_FILENO) >= 0);
	close(c.saved);
	rewind(c.f);
	while (fgets(line, sizeof(line), c.f) != NULL) {
		unsigned	 a, b, d;

		field(line, " ip=", ip, sizeof(ip));
		assert_int_equal(sscanf(ip, "10.%u.%u.%u", &a, &b, &d), 3);
		assert_true((a << 16 | b << 8 | d) > prev);
		prev = a << 16 | b << 8 | d;
		n++;
	}
	fclose(c.f);
	assert_int_equal(n, 3000);
	close(efd);
}

int
main(void)
{
	static const uint8_t	 key[16] = {
		0x61, 0x6c, 0x61, 0x72, 0x6d, 0x2d, 0x74, 0x65,
		0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x31,
	};

	if (hash_init() == -1)
		return 1;
	hash_set_key(key);
	log_init("test_alarm", 1, LOG_USER);
	log_set_syslog(0);
	treg_fixture(setup, teardown);
	TREG("alarm", spoofed_flood);
	TREG("alarm", sustained_by_case);
	TREG("alarm", total_budget);
	TREG("alarm", repeats_aggregated);
	TREG("alarm", repeating_sources_exact);
	TREG("alarm", set_budget);
	TREG("alarm", queued_lines);
	return treg_run("alarm");
}
