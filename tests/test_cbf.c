/*
 * test_cbf.c: the counting Bloom filter of cbf.h.  No false negatives,
 * ever (plain, after removals, with counters stuck at 255); removal
 * clears what it should; the measured false-positive rate stays within
 * 2x of cbf_fpr_theory() for several sizes, the default (16 cells per
 * element, 4 hashes) included, each measured over >= 1e6 absent keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include <cmocka.h>

#include "cbf.h"
#include "hash.h"
#include "sipguard.h"
#include "testlib.h"

/* Absent keys queried per false-positive measurement. */
#define FP_QUERIES	1000000u

/* Key spaces: present keys and absent keys never overlap. */
enum { NS_IN = 1, NS_OUT = 2, NS_MISC = 3 };

static void
mkkey(uint32_t ns, uint64_t n, struct cbf_key *k)
{
	uint8_t	 buf[12];

	memcpy(buf, &ns, sizeof(ns));
	memcpy(buf + 4, &n, sizeof(n));
	cbf_key(buf, sizeof(buf), k);
}

static void
add_range(struct cbf *f, uint32_t ns, uint64_t from, uint64_t to)
{
	struct cbf_key	 k;

	for (uint64_t n = from; n < to; n++) {
		mkkey(ns, n, &k);
		cbf_add(f, &k);
	}
}

static void
remove_range(struct cbf *f, uint32_t ns, uint64_t from, uint64_t to)
{
	struct cbf_key	 k;

	for (uint64_t n = from; n < to; n++) {
		mkkey(ns, n, &k);
		cbf_remove(f, &k);
	}
}

/* How many keys of [from, to) the filter says are present. */
static uint64_t
count_present(const struct cbf *f, uint32_t ns, uint64_t from, uint64_t to)
{
	struct cbf_key	 k;
	uint64_t	 hits = 0;

	for (uint64_t n = from; n < to; n++) {
		mkkey(ns, n, &k);
		if (cbf_query(f, &k))
			hits++;
	}
	return hits;
}

/* ---- construction and accessors ----------------------------------------- */

static void
test_create_rejects(void **state)
{
	(void)state;
	assert_null(cbf_create(0, 4));
	assert_null(cbf_create(1024, 0));
	assert_null(cbf_create(1024, -1));
	cbf_destroy(NULL);
}

static void
test_accessors(void **state)
{
	static const struct { uint32_t cells; int k; } rows[] = {
		{ 1, 1 }, { 7, 3 }, { 1000, 4 }, { 65536 * 16, 4 },
		{ 999983, 16 },
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct cbf	*f = cbf_create(rows[r].cells, rows[r].k);

		assert_non_null(f);
		assert_int_equal(cbf_cells(f), rows[r].cells);
		assert_int_equal(cbf_count(f), 0);
		assert_int_equal(cbf_saturated(f), 0);
		/* One byte per counter, plus a small fixed header. */
		assert_true(cbf_memory(f) >= rows[r].cells);
		assert_true(cbf_memory(f) <= (size_t)rows[r].cells + 256);
		add_range(f, NS_IN, 0, 10);
		assert_int_equal(cbf_count(f), 10);
		remove_range(f, NS_IN, 0, 4);
		assert_int_equal(cbf_count(f), 6);
		assert_int_equal(count_present(f, NS_IN, 4, 10), 6);
		cbf_reset(f);
		assert_int_equal(cbf_count(f), 0);
		assert_int_equal(cbf_saturated(f), 0);
		assert_int_equal(cbf_cells(f), rows[r].cells);
		if (rows[r].cells > 100)
			assert_int_equal(count_present(f, NS_IN, 0, 10), 0);
		cbf_destroy(f);
	}
}

static void
test_key_deterministic(void **state)
{
	struct cbf_key	 a, b, c;
	static const char s1[] = "alice@example.com";
	static const char s2[] = "alicf@example.com";

	(void)state;
	cbf_key(s1, sizeof(s1) - 1, &a);
	cbf_key(s1, sizeof(s1) - 1, &b);
	cbf_key(s2, sizeof(s2) - 1, &c);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_not_equal(&a, &c, sizeof(a));
	/* Both halves are used for double hashing: neither may be trivial. */
	assert_true(a.h[0] != a.h[1]);
	/* A prefix is a different key. */
	cbf_key(s1, sizeof(s1) - 2, &b);
	assert_memory_not_equal(&a, &b, sizeof(a));
}

static void
test_empty_and_single(void **state)
{
	struct cbf	*f = cbf_create(1 << 16, 4);
	struct cbf_key	 k;

	(void)state;
	assert_non_null(f);
	assert_int_equal(count_present(f, NS_OUT, 0, 10000), 0);
	mkkey(NS_IN, 42, &k);
	cbf_add(f, &k);
	assert_true(cbf_query(f, &k));
	cbf_remove(f, &k);
	assert_false(cbf_query(f, &k));
	assert_int_equal(cbf_count(f), 0);
	/* Added twice, removed once: still there. */
	cbf_add(f, &k);
	cbf_add(f, &k);
	cbf_remove(f, &k);
	assert_true(cbf_query(f, &k));
	cbf_remove(f, &k);
	assert_false(cbf_query(f, &k));
	cbf_destroy(f);
}

/* ---- no false negatives, removal ---------------------------------------- */

static void
test_no_false_negatives(void **state)
{
	static const struct { uint32_t n, cpk; int k; } rows[] = {
		{ 100000, 16, 4 },	/* the default */
		{ 100000, 2, 1 },	/* overloaded */
		{ 100000, 1, 8 },	/* far overloaded: many counters high */
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct cbf	*f = cbf_create(rows[r].n * rows[r].cpk,
				    rows[r].k);

		assert_non_null(f);
		add_range(f, NS_IN, 0, rows[r].n);
		assert_int_equal(cbf_count(f), rows[r].n);
		assert_int_equal(count_present(f, NS_IN, 0, rows[r].n),
		    rows[r].n);
		cbf_destroy(f);
	}
}

static void
test_remove_half(void **state)
{
	const uint32_t	 n = 100000;
	struct cbf	*f = cbf_create(n * 16, 4);
	uint64_t	 still, rest;
	double		 rate, theory;

	(void)state;
	assert_non_null(f);
	add_range(f, NS_IN, 0, n);
	/* Remove the even half. */
	for (uint32_t i = 0; i < n; i += 2)
		remove_range(f, NS_IN, i, i + 1);
	assert_int_equal(cbf_count(f), n / 2);
	still = 0;
	rest = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t p = count_present(f, NS_IN, i, i + 1);

		if (i % 2 == 0)
			still += p;
		else
			rest += p;
	}
	/* Every key not removed is present. */
	assert_int_equal(rest, n / 2);
	/* A removed key now answers like an absent one: false positives. */
	rate = (double)still / (n / 2);
	theory = cbf_fpr_theory(n * 16, 4, n / 2);
	print_message("removed keys still reported: %" PRIu64 " of %u "
	    "(%.5f%%, theory %.5f%%)\n", still, n / 2, rate * 100,
	    theory * 100);
	assert_true(rate <= 2 * theory + 10.0 / (n / 2));
	/* Remove the rest: back to empty, every cell at zero. */
	for (uint32_t i = 1; i < n; i += 2)
		remove_range(f, NS_IN, i, i + 1);
	assert_int_equal(cbf_count(f), 0);
	assert_int_equal(count_present(f, NS_IN, 0, n), 0);
	assert_int_equal(count_present(f, NS_OUT, 0, 100000), 0);
	cbf_destroy(f);
}

/* Churn: keys come and go, as bindings do; the live set is always found. */
static void
test_churn(void **state)
{
	const uint32_t	 live = 5000, rounds = 20;
	struct cbf	*f = cbf_create(live * 16, 4);

	(void)state;
	assert_non_null(f);
	add_range(f, NS_IN, 0, live);
	for (uint32_t r = 1; r <= rounds; r++) {
		/* Slide the window of live keys by half its width. */
		remove_range(f, NS_IN, (r - 1) * live / 2,
		    r * live / 2);
		add_range(f, NS_IN, (r - 1) * live / 2 + live,
		    r * live / 2 + live);
		assert_int_equal(cbf_count(f), live);
		assert_int_equal(count_present(f, NS_IN, r * live / 2,
		    r * live / 2 + live), live);
	}
	/* Long gone keys answer as absent ones do. */
	assert_true(count_present(f, NS_IN, 0, live) < live / 50);
	cbf_destroy(f);
}

/* ---- saturation --------------------------------------------------------- */

static void
test_saturation_one_key(void **state)
{
	struct cbf	*f = cbf_create(1 << 20, 4);
	struct cbf_key	 a, b;
	uint32_t	 sat;

	(void)state;
	assert_non_null(f);
	mkkey(NS_MISC, 1, &a);
	mkkey(NS_MISC, 2, &b);
	for (int n = 0; n < 254; n++)
		cbf_add(f, &a);
	assert_int_equal(cbf_saturated(f), 0);
	cbf_add(f, &a);			/* the 255th: counters stick */
	sat = cbf_saturated(f);
	assert_true(sat >= 1 && sat <= 4);
	for (int n = 0; n < 300; n++)
		cbf_add(f, &a);
	/* A stuck counter is counted once, never wraps. */
	assert_int_equal(cbf_saturated(f), sat);
	assert_true(cbf_query(f, &a));
	cbf_add(f, &b);
	for (int n = 0; n < 555; n++)
		cbf_remove(f, &a);
	/* A stuck counter is never decremented: a may stay (a false
	 * positive, allowed), b must stay (a false negative, never). */
	assert_true(cbf_query(f, &b));
	assert_true(cbf_query(f, &a));
	assert_int_equal(cbf_count(f), 1);
	assert_int_equal(cbf_saturated(f), sat);
	cbf_remove(f, &b);
	assert_int_equal(cbf_count(f), 0);
	cbf_reset(f);
	assert_int_equal(cbf_saturated(f), 0);
	assert_false(cbf_query(f, &a));
	cbf_destroy(f);
}

/*
 * A tiny filter, so every counter goes far past 255; then almost all keys
 * are removed.  Counters that wrapped or were decremented from 255 would
 * reach zero under the survivors: a false negative.
 */
static void
test_saturation_no_false_negative(void **state)
{
	static const struct {
		uint32_t	 cells;
		int		 k;
		uint32_t	 n, keep;
	} rows[] = {
		{ 64, 3, 20000, 10 },
		{ 256, 4, 100000, 50 },
		{ 1000, 1, 300000, 100 },
		{ 4096, 8, 200000, 1000 },
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct cbf	*f = cbf_create(rows[r].cells, rows[r].k);
		uint32_t	 n = rows[r].n, keep = rows[r].keep;

		assert_non_null(f);
		add_range(f, NS_IN, 0, n);
		assert_true(cbf_saturated(f) > 0);
		assert_true(cbf_saturated(f) <= rows[r].cells);
		remove_range(f, NS_IN, keep, n);
		assert_int_equal(cbf_count(f), keep);
		assert_int_equal(count_present(f, NS_IN, 0, keep), keep);
		/* Add a fresh batch over the stuck cells, remove it again. */
		add_range(f, NS_MISC, 0, keep);
		remove_range(f, NS_MISC, 0, keep);
		assert_int_equal(count_present(f, NS_IN, 0, keep), keep);
		cbf_destroy(f);
	}
}

/*
 * Counters climbing to exactly 255 and beyond while keys are removed in
 * between: the order of adds and removes must not matter.
 */
static void
test_saturation_interleaved(void **state)
{
	struct cbf	*f = cbf_create(32, 2);
	uint32_t	 base = 0;

	(void)state;
	assert_non_null(f);
	/* Live set of 200 keys on 32 cells: about 12 per cell, plus waves. */
	add_range(f, NS_IN, 0, 200);
	for (int wave = 0; wave < 40; wave++) {
		add_range(f, NS_MISC, base, base + 500);
		assert_int_equal(count_present(f, NS_IN, 0, 200), 200);
		remove_range(f, NS_MISC, base, base + 500);
		assert_int_equal(count_present(f, NS_IN, 0, 200), 200);
		base += 500;
	}
	assert_int_equal(cbf_count(f), 200);
	cbf_destroy(f);
}

/* ---- false-positive rate ------------------------------------------------ */

static void
test_fpr_theory_formula(void **state)
{
	(void)state;
	assert_true(cbf_fpr_theory(1000, 4, 0) == 0.0);
	/* (1 - e^(-kn/m))^k with k n / m = 1/4. */
	assert_true(fabs(cbf_fpr_theory(1600000, 4, 100000) -
	    pow(1 - exp(-0.25), 4)) < 1e-12);
	assert_true(fabs(cbf_fpr_theory(16, 4, 1) - 0.0023934) < 1e-6);
	assert_true(fabs(cbf_fpr_theory(1000, 1, 1000) -
	    (1 - exp(-1.0))) < 1e-12);
	/* More keys never lower the rate; a full filter tends to 1. */
	assert_true(cbf_fpr_theory(1000, 4, 500) <
	    cbf_fpr_theory(1000, 4, 501));
	assert_true(cbf_fpr_theory(1000, 4, 1000000) > 0.999);
}

struct fpr_case {
	const char	*name;
	uint32_t	 n;		/* keys inserted */
	uint32_t	 cells;
	int		 hashes;
};

/*
 * Rates from ~2e-4 up: at 1e6 queries every row sees >= ~200 false
 * positives, so a 2x bound is over ten standard deviations wide of any
 * honest filter and still catches a broken index function.
 */
static const struct fpr_case fpr_cases[] = {
	{ "default_full_16c_4h", 65536, 65536 * 16, 4 },
	{ "default_200k_16c_4h", 200000, 200000 * 16, 4 },
	{ "default_half_16c_4h", 50000, 100000 * 16, 4 },
	{ "default_odd_16c_4h", 99991, 1599859, 4 },
	{ "12c_4h", 50000, 50000 * 12, 4 },
	{ "20c_5h", 50000, 50000 * 20, 5 },
	{ "10c_7h", 50000, 50000 * 10, 7 },
	{ "8c_3h", 50000, 50000 * 8, 3 },
	{ "4c_2h", 50000, 50000 * 4, 2 },
	{ "2c_1h", 50000, 50000 * 2, 1 },
	{ "small_16c_4h", 2000, 2000 * 16, 4 },
};

static void
test_fpr(void **state)
{
	const struct fpr_case	*c = *state;
	struct cbf		*f = cbf_create(c->cells, c->hashes);
	uint64_t		 fp;
	double			 rate, theory;

	assert_non_null(f);
	add_range(f, NS_IN, 0, c->n);
	assert_int_equal(count_present(f, NS_IN, 0, c->n), c->n);
	fp = count_present(f, NS_OUT, 0, FP_QUERIES);
	rate = (double)fp / FP_QUERIES;
	theory = cbf_fpr_theory(c->cells, c->hashes, c->n);
	print_message("fpr %-22s n=%-6u cells=%-8u k=%-2d measured %.5f%% "
	    "theory %.5f%% ratio %.3f (%" PRIu64 " of %u)\n", c->name, c->n,
	    c->cells, c->hashes, rate * 100, theory * 100, rate / theory, fp,
	    FP_QUERIES);
	assert_true(rate <= 2 * theory);
	assert_true(rate >= theory / 2);
	cbf_destroy(f);
}

int
main(void)
{
	static const uint8_t	 key[16] = {
		0x73, 0x69, 0x70, 0x67, 0x75, 0x61, 0x72, 0x64,
		0x2d, 0x63, 0x62, 0x66, 0x2d, 0x74, 0x73, 0x74,
	};

	if (hash_init() == -1)
		return 1;
	/* A fixed key: the printed rates are the same on every run. */
	hash_set_key(key);
	TREG("cbf", create_rejects);
	TREG("cbf", accessors);
	TREG("cbf", key_deterministic);
	TREG("cbf", empty_and_single);
	TREG("cbf", no_false_negatives);
	TREG("cbf", remove_half);
	TREG("cbf", churn);
	TREG("cbf", saturation_one_key);
	TREG("cbf", saturation_no_false_negative);
	TREG("cbf", saturation_interleaved);
	TREG("cbf", fpr_theory_formula);
	TREG_ROWS("fpr", test_fpr, fpr_cases);
	return treg_run("cbf");
}
