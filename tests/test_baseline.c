/*
 * test_baseline.c: module II's learned baseline (training.baseline_file,
 * flood.h) as a file: what flood_save_baseline() writes,
 * flood_load_baseline() reads back unchanged, down to the last bit, and
 * what it must refuse.
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
#include "flood.h"
#include "hash.h"
#include "sipguard.h"
#include "testlib.h"

#define T0	SEC(1700000000)
#define LATER	(T0 + SEC(3600))

/* ---- fixture: a binding table and module II over it ------------------- */

struct fx {
	struct sg_conf		 conf;
	struct bind_table	*bt;
	struct flood		*fl;
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	conf_defaults(&f->conf);
	f->conf.tab_bindings = 64;
	f->conf.tab_sources = 64;
	f->bt = bind_create(&f->conf);
	assert_non_null(f->bt);
	f->fl = flood_create(&f->conf, f->bt);
	assert_non_null(f->fl);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	flood_destroy(f->fl);
	bind_destroy(f->bt);
	free(f);
	return 0;
}

/* UE `n': MAC 02:00:00:00:00:n, 198.51.100.n, user<n>@example.com. */
static void
tup(struct sg_tuple *t, unsigned n)
{
	char	 ip[32];

	memset(t, 0, sizeof(*t));
	t->has_m = true;
	t->m.b[0] = 0x02;
	t->m.b[5] = (uint8_t)n;
	snprintf(ip, sizeof(ip), "198.51.100.%u", n);
	assert_int_equal(sg_addr_parse(ip, &t->i), 0);
	t->s = t->i;
	t->sport = 5060;
	t->a = SIPM_OPTIONS;
	snprintf(t->d, sizeof(t->d), "user%u@example.com", n);
	t->dh = hash_bytes(t->d, strlen(t->d));
}

static const struct binding *
learn(struct fx *f, const struct sg_tuple *t)
{
	const struct binding	*b = NULL;

	assert_int_equal(bind_learn(f->bt, t, 0, LATER, T0, &b), BIND_NEW);
	assert_non_null(b);
	return b;
}

/* `n' messages from UE `ue', `gap' ns apart, from `*now' on. */
static void
send(struct fx *f, unsigned ue, int n, uint64_t gap, uint64_t *now)
{
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	const struct binding	*b;

	tup(&t, ue);
	b = bind_find(f->bt, &t, *now);
	assert_non_null(b);
	for (int k = 0; k < n; k++) {
		flood_message(f->fl, &t, b, SIPM_OPTIONS, 0, *now, &a);
		*now += gap;
	}
}

/* The baseline as text. */
static char *
save(struct fx *f)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(flood_save_baseline(f->fl, fp), 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* Load `text' into a fresh module II over the same bindings. */
static int
load(struct fx *f, const char *text, char *err, size_t errlen)
{
	FILE	*fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int	 rc;

	assert_non_null(fp);
	flood_destroy(f->fl);
	f->fl = flood_create(&f->conf, f->bt);
	assert_non_null(f->fl);
	err[0] = '\0';
	rc = flood_load_baseline(f->fl, fp, err, errlen);
	fclose(fp);
	return rc;
}

/*
 * Train: UE 1 at `gap1' ns, UE 2 at `gap2' ns (enough samples for each
 * its own Init.D_Avg), then end training.
 */
static void
train(struct fx *f, uint64_t gap1, uint64_t gap2)
{
	struct sg_tuple	 t;
	uint64_t	 now = T0;

	tup(&t, 1);
	learn(f, &t);
	tup(&t, 2);
	learn(f, &t);
	send(f, 1, 8, gap1, &now);
	send(f, 2, 8, gap2, &now);
	flood_finish_training(f->fl, now + SEC(1));
}

/*
 * Save, load, touch each binding (its row takes the saved Init.D_Avg),
 * save again: the same text, and the same T.Dist_Avg to the bit.
 */
static void
round_trip(struct fx *f)
{
	struct flood_stats	 st1, st2;
	char			*text1, *text2, err[128];
	uint64_t		 now = T0 + SEC(100);

	flood_stats(f->fl, now, &st1);
	text1 = save(f);
	if (load(f, text1, err, sizeof(err)) != 0)
		fail_msg("own baseline refused: %s\n%s", err, text1);
	flood_stats(f->fl, now, &st2);
	assert_false(st2.training);
	assert_memory_equal(&st1.tdist_avg, &st2.tdist_avg,
	    sizeof(st1.tdist_avg));
	assert_memory_equal(&st1.init_c_avg, &st2.init_c_avg,
	    sizeof(st1.init_c_avg));
	assert_memory_equal(&st1.unbound_rate, &st2.unbound_rate,
	    sizeof(st1.unbound_rate));
	send(f, 1, 1, 0, &now);
	send(f, 2, 1, 0, &now);
	text2 = save(f);
	assert_string_equal(text1, text2);
	free(text1);
	free(text2);
}

/*
 * A binding's row follows it by generation alone (no call from the
 * binding table): UE 1 trained, its binding removed, its slot reused by
 * a new device.  The new device's row starts afresh (no Init.D_Avg of
 * UE 1's), and UE 1's row is never saved for it.
 */
static void
test_slot_reuse(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t;
	struct flood_alarm	 a;
	const struct binding	*b = NULL;
	uint32_t		 slot;
	uint64_t		 now = T0 + SEC(100);
	char			*text, want[256];

	train(f, SEC(1), SEC(2));
	tup(&t, 1);
	slot = bind_slot(f->bt, bind_find(f->bt, &t, T0));
	assert_int_equal(bind_remove(f->bt, &t), 1);
	/* The freed slot goes to the back of the free list. */
	for (unsigned n = 3; b == NULL || bind_slot(f->bt, b) != slot; n++) {
		assert_true(n < 3 + 64);
		tup(&t, n);
		b = learn(f, &t);
	}
	snprintf(want, sizeof(want), "row 02:00:00:00:00:02 198.51.100.2 ");
	for (int round = 0; round < 2; round++) {
		/* Before and after the new device's first messages. */
		if (round == 1)
			for (int k = 0; k < 16; k++)
				flood_message(f->fl, &t, b, SIPM_OPTIONS,
				    0, now + SEC(k), &a);
		text = save(f);
		/* One row: UE 2's. */
		assert_non_null(strstr(text, want));
		assert_ptr_equal(strstr(text, "\nrow "), strstr(text, want) - 1);
		assert_null(strstr(strstr(text, want) + 1, "\nrow "));
		free(text);
	}
}

/*
 * Regression (issue 9, point 7): the baseline was written with six
 * decimals, so a gap under 0.5 us was saved as 0 and the file refused at
 * the next start ("not a baseline line"), and every value lost bits.
 */
static void
test_tiny_gaps(void **state)
{
	struct fx	*f = *state;

	/* 100 ns and 300 ns between messages: 1e-7 s, 3e-7 s. */
	train(f, 100, 300);
	round_trip(f);
}

/* Ordinary gaps keep every bit as well (1/3 s has no short decimal). */
static void
test_plain_gaps(void **state)
{
	struct fx	*f = *state;

	train(f, SEC(1) / 3, SEC(7) + 1);
	round_trip(f);
}

/*
 * Messages in the same nanosecond: T.Dist_Avg is learned as 0 and the
 * rows keep the population's; what was saved is loaded back.
 */
static void
test_zero_gaps(void **state)
{
	struct fx		*f = *state;
	struct flood_stats	 st;

	train(f, 0, 0);
	flood_stats(f->fl, T0, &st);
	assert_true(st.tdist_avg == 0);
	round_trip(f);
}

/* What the saver never writes is still refused, with its line. */
static void
test_refused(void **state)
{
	static const struct {
		const char	*text, *err;
	} bad[] = {
		{ "", "truncated (no end line)" },
		{ "sipguard-baseline 2\nend\n", "line 1: not a baseline line" },
		{ "sipguard-baseline 1\nend\n", "no tdist_avg line" },
		{ "sipguard-baseline 1\ntdist_avg 0.5\n",
		    "truncated (no end line)" },
		{ "sipguard-baseline 1\ntdist_avg -1\nend\n",
		    "line 2: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg nan\nend\n",
		    "line 2: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg inf\nend\n",
		    "line 2: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg 0.5\ninit_c_avg -1\nend\n",
		    "line 3: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg 0.5\n"
		    "row 02:00:00:00:00:01 198.51.100.1 0 user1@example.com\n"
		    "end\n", "line 3: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg 0.5\n"
		    "row 02:00:00:00:00:01 198.51.100.1 -1e-9 "
		    "user1@example.com\nend\n",
		    "line 3: not a baseline line" },
		{ "sipguard-baseline 1\ntdist_avg 0.5\nbogus\nend\n",
		    "line 3: not a baseline line" },
	};
	struct fx	*f = *state;
	char		 err[128];

	for (size_t n = 0; n < nitems(bad); n++) {
		if (load(f, bad[n].text, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[n].text);
		assert_string_equal(err, bad[n].err);
	}
	/* Hex floats and the saver's own form both read. */
	assert_int_equal(load(f, "sipguard-baseline 1\ntdist_avg 0x1p-24\n"
	    "init_c_avg 0\nunbound_rate 0\n"
	    "row 02:00:00:00:00:01 198.51.100.1 1.0000000000000001e-07 "
	    "user1@example.com\nend\n", err, sizeof(err)), 0);
}

int
main(void)
{
	if (hash_init() == -1)
		return 1;
	treg_fixture(setup, teardown);
	TREG("baseline", tiny_gaps);
	TREG("baseline", plain_gaps);
	TREG("baseline", zero_gaps);
	TREG("baseline", refused);
	TREG("baseline", slot_reuse);
	return treg_run("baseline");
}
