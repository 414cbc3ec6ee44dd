/*
 * test_pending.c: the table of REGISTERs awaiting the proxy's answer
 * (pending.h).  A transaction is its Call-ID hash and CSeq number
 * together; a retransmission finds the entry its first copy made, with
 * what the engine wrote there (the ambiguity mark included); an entry
 * lives exactly `timeout' from its first copy (Timer F); when the table
 * is full the oldest goes, so a flood recycles its own entries; a 64-bit
 * key collision never hands one transaction another's entry.  Guarded
 * entries (answered challenges; a bound device's) go only for others of
 * their kind, each kind at most a quarter of the table and QUOTA_GUARDED
 * (8) per source, past which a source's next is an open entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hash.h"
#include "pending.h"
#include "sipguard.h"
#include "testlib.h"

#define CAP	16		/* tables.pending's minimum */
#define TIMEOUT	100

static int
setup(void **state)
{
	*state = pending_create(CAP, TIMEOUT);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	pending_destroy(*state);
	return 0;
}

static struct pending_stats
stats(const struct pending_table *pt)
{
	struct pending_stats	 st;

	pending_stats(pt, &st);
	return st;
}

/* A transaction not seen before. */
static struct pending *
add_new(struct pending_table *pt, uint64_t call_id_h, uint32_t cseq,
    uint64_t now)
{
	struct pending	*p;
	bool		 is_new = false;

	p = pending_add(pt, call_id_h, cseq, now, &is_new);
	assert_non_null(p);
	assert_true(is_new);
	return p;
}

/* A new entry holds its transaction and nothing else. */
static void
assert_fresh(const struct pending *p, uint64_t call_id_h, uint32_t cseq,
    uint64_t now)
{
	assert_int_equal(p->call_id_h, call_id_h);
	assert_int_equal(p->cseq, cseq);
	assert_int_equal(p->born, now);
	assert_int_equal(p->req_expires, -1);
	assert_false(p->has_contact);
	assert_false(p->contact_star);
	assert_false(p->has_auth);
	assert_false(p->challenged);
	assert_false(p->ambiguous);
	assert_false(p->auth_has_response);
	assert_int_equal(p->contact_uh, 0);
	assert_int_equal(p->contact_idh, 0);
	assert_int_equal(p->auth_h, 0);
	for (int k = 0; k < 4; k++)
		assert_int_equal(p->chal_nonce_h[k], 0);
	assert_int_equal(p->t.dh, 0);
	assert_false(p->t.has_m);
}

/* What the engine writes into an entry: all of it set. */
static void
scribble(struct pending *p)
{
	p->t.dh = 0xd;
	p->t.has_m = true;
	p->contact_uh = 0xc1;
	p->contact_idh = 0xc2;
	p->has_contact = true;
	p->contact_star = true;
	p->has_auth = true;
	p->challenged = true;
	p->ambiguous = true;
	p->auth_has_response = true;
	p->auth_h = 0xa;
	for (int k = 0; k < 4; k++)
		p->chal_nonce_h[k] = 0xc0u + (unsigned)k;
	p->req_expires = 3600;
}

static void
test_create(void **state)
{
	struct pending_table	*pt = *state;
	struct pending_stats	 st = stats(pt);

	assert_int_equal(st.capacity, CAP);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.answered, 0);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.expired, 0);
	assert_null(pending_find(pt, 1, 1, 0));
}

static void
test_add(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p = add_new(pt, 0x1234, 7, 1000);

	assert_fresh(p, 0x1234, 7, 1000);
	assert_ptr_equal(pending_find(pt, 0x1234, 7, 1000), p);
	assert_int_equal(stats(pt).in_use, 1);
	assert_int_equal(stats(pt).added, 1);
}

/*
 * A retransmission is the same entry, as the engine left it (the engine
 * tells a copy from another device by what it wrote there), and does not
 * restart the clock: Timer F runs from the first copy (RFC 3261
 * 17.1.2.2).
 */
static void
test_retransmission(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p = add_new(pt, 0x1234, 7, 1000), *q;
	bool			 is_new = true;

	scribble(p);
	q = pending_add(pt, 0x1234, 7, 1000 + TIMEOUT - 1, &is_new);
	assert_ptr_equal(q, p);
	assert_false(is_new);
	assert_true(q->ambiguous);
	assert_true(q->challenged);
	assert_int_equal(q->req_expires, 3600);
	assert_int_equal(q->auth_h, 0xa);
	assert_int_equal(q->t.dh, 0xd);
	assert_int_equal(q->born, 1000);
	assert_int_equal(stats(pt).added, 1);
	assert_int_equal(stats(pt).in_use, 1);
	assert_null(pending_find(pt, 0x1234, 7, 1000 + TIMEOUT));
}

/* Call-ID and CSeq both make the key. */
static void
test_key(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*a1 = add_new(pt, 0xa, 1, 0);
	struct pending		*a2 = add_new(pt, 0xa, 2, 0);
	struct pending		*b1 = add_new(pt, 0xb, 1, 0);

	assert_ptr_not_equal(a1, a2);
	assert_ptr_not_equal(a1, b1);
	assert_ptr_not_equal(a2, b1);
	assert_ptr_equal(pending_find(pt, 0xa, 1, 0), a1);
	assert_ptr_equal(pending_find(pt, 0xa, 2, 0), a2);
	assert_ptr_equal(pending_find(pt, 0xb, 1, 0), b1);
	assert_null(pending_find(pt, 0xb, 2, 0));
	assert_null(pending_find(pt, 0xa, 3, 0));
	assert_null(pending_find(pt, 0xc, 1, 0));
	assert_int_equal(stats(pt).in_use, 3);
}

/*
 * Two transactions whose keys collide in 64 bits: the newer one wins, and
 * neither is ever found under the other's Call-ID and CSeq (a 200 for one
 * must not teach what the other asked for).
 */
static void
test_collision(void **state)
{
	struct pending_table	*pt = *state;
	const uint32_t		 c1 = 1u << 31, c2 = (1u << 31) - 65;
	struct pending		*p, *q;

	/* hash_mix(a, b) begins with a ^ (b + C + (a << 6) + (a >> 2)),
	 * C odd: (0, 2^31) and (1, 2^31 - 65) meet there. */
	if (hash_mix(0, c1) != hash_mix(1, c2))
		fail_msg("hash_mix changed: find another colliding pair");
	p = add_new(pt, 0, c1, 0);
	scribble(p);
	assert_null(pending_find(pt, 1, c2, 0));
	assert_ptr_equal(pending_find(pt, 0, c1, 0), p);
	q = add_new(pt, 1, c2, 1);
	assert_fresh(q, 1, c2, 1);
	assert_null(pending_find(pt, 0, c1, 1));
	assert_ptr_equal(pending_find(pt, 1, c2, 1), q);
	assert_int_equal(stats(pt).in_use, 1);
}

/* Alive until just before born + timeout; gone at exactly that time. */
static void
test_find_boundary(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p = add_new(pt, 0xa, 1, 1000);

	scribble(p);
	assert_ptr_equal(pending_find(pt, 0xa, 1, 1000 + TIMEOUT - 1), p);
	assert_null(pending_find(pt, 0xa, 1, 1000 + TIMEOUT));
	assert_int_equal(stats(pt).in_use, 0);
	assert_int_equal(stats(pt).expired, 1);
	/* The same Call-ID and CSeq later: a transaction of its own. */
	p = add_new(pt, 0xa, 1, 1000 + TIMEOUT);
	assert_fresh(p, 0xa, 1, 1000 + TIMEOUT);
	assert_int_equal(stats(pt).added, 2);
}

/* pending_add() at exactly the timeout starts over too. */
static void
test_add_boundary(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p = add_new(pt, 0xa, 1, 1000);
	bool			 is_new = true;

	scribble(p);
	assert_ptr_equal(pending_add(pt, 0xa, 1, 1000 + TIMEOUT - 1,
	    &is_new), p);
	assert_false(is_new);
	p = add_new(pt, 0xa, 1, 1000 + TIMEOUT);
	assert_fresh(p, 0xa, 1, 1000 + TIMEOUT);
	assert_int_equal(stats(pt).expired, 1);
	assert_int_equal(stats(pt).in_use, 1);
}

/* The sweep takes what has expired, at exactly its time, and no more. */
static void
test_expire(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*b;

	add_new(pt, 0xa, 1, 1000);
	b = add_new(pt, 0xb, 1, 1010);
	pending_expire(pt, 1000 + TIMEOUT - 1);
	assert_int_equal(stats(pt).in_use, 2);
	pending_expire(pt, 1000 + TIMEOUT);
	assert_int_equal(stats(pt).in_use, 1);
	assert_int_equal(stats(pt).expired, 1);
	assert_ptr_equal(pending_find(pt, 0xb, 1, 1000 + TIMEOUT), b);
	pending_expire(pt, 1010 + TIMEOUT);
	assert_int_equal(stats(pt).in_use, 0);
	assert_int_equal(stats(pt).expired, 2);
	assert_int_equal(stats(pt).evicted, 0);
}

/* However many expire at once, each sweep makes progress and the sweeps
 * empty the table. */
static void
test_expire_many(void **state)
{
	struct pending_table	*pt;
	uint32_t		 left = 1000, calls = 0;

	(void)state;
	assert_non_null(pt = pending_create(1000, TIMEOUT));
	for (uint64_t k = 0; k < 1000; k++)
		add_new(pt, k, 1, k);
	while (left > 0 && calls++ < 1000) {
		pending_expire(pt, 5000);
		assert_true(stats(pt).in_use < left);
		left = stats(pt).in_use;
	}
	assert_int_equal(left, 0);
	assert_int_equal(stats(pt).expired, 1000);
	pending_destroy(pt);
}

/* Answered: gone, counted, its slot free for the next one. */
static void
test_del(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p;

	for (uint64_t k = 0; k < CAP; k++)
		add_new(pt, k, 1, k);
	p = pending_find(pt, 5, 1, CAP);
	pending_del(pt, p);
	assert_null(pending_find(pt, 5, 1, CAP));
	assert_int_equal(stats(pt).in_use, CAP - 1);
	assert_int_equal(stats(pt).answered, 1);
	p = add_new(pt, 100, 1, CAP);
	assert_fresh(p, 100, 1, CAP);
	assert_int_equal(stats(pt).evicted, 0);
	assert_non_null(pending_find(pt, 0, 1, CAP));
}

/* Full: the oldest goes, its slot comes back clean; the others stay. */
static void
test_full(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p;
	bool			 is_new = true;

	for (uint64_t k = 0; k < CAP; k++)
		scribble(add_new(pt, k, 1, k));
	p = add_new(pt, CAP, 1, CAP);
	assert_fresh(p, CAP, 1, CAP);
	assert_null(pending_find(pt, 0, 1, CAP));
	for (uint64_t k = 1; k <= CAP; k++)
		assert_non_null(pending_find(pt, k, 1, CAP));
	assert_int_equal(stats(pt).evicted, 1);
	assert_int_equal(stats(pt).in_use, CAP);
	assert_int_equal(stats(pt).added, CAP + 1);
	/* A retransmission takes no room. */
	assert_ptr_equal(pending_add(pt, 1, 1, CAP + 1, &is_new),
	    pending_find(pt, 1, 1, CAP + 1));
	assert_false(is_new);
	assert_int_equal(stats(pt).evicted, 1);
}

/*
 * A table full of a flood's REGISTERs: a legitimate one added now
 * outlives the flood's next CAP - 1, each of which recycles one of the
 * flood's own.
 */
static void
test_flood_recycles_its_own(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*legit;
	uint64_t		 now = 0;

	for (uint64_t k = 0; k < CAP; k++)
		add_new(pt, 1000 + k, 1, now++);
	legit = add_new(pt, 0x1e917, 1, now++);
	for (uint64_t k = CAP; k < 2 * CAP - 1; k++) {
		add_new(pt, 1000 + k, 1, now++);
		assert_ptr_equal(pending_find(pt, 0x1e917, 1, now), legit);
	}
	assert_int_equal(stats(pt).evicted, CAP);
	pending_del(pt, legit);
	assert_int_equal(stats(pt).answered, 1);
}

/* A guarded transaction not seen before, of source `src'. */
static struct pending *
add_guarded(struct pending_table *pt, uint64_t call_id_h, uint64_t src,
    uint64_t now)
{
	struct pending	*p;
	bool		 is_new = false;

	p = pending_add_guarded(pt, call_id_h, 1, PENDING_ANSWERED, src, now,
	    &is_new);
	assert_non_null(p);
	assert_true(is_new);
	assert_int_equal(pending_guard(pt, p), PENDING_ANSWERED);
	return p;
}

/*
 * The finding: a flood of CAP new transactions (spoofed sources) inside
 * one round trip pushed out a subscriber's answered challenge.  A guarded
 * entry outlives any number of unguarded ones; they recycle their own.
 */
static void
test_guarded_outlives_flood(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*g;
	uint64_t		 now = 0;

	g = add_guarded(pt, 0xa11ce, 0x5a, now++);
	scribble(g);
	for (uint64_t k = 0; k < 4 * CAP; k++) {
		struct pending	*p = add_new(pt, 1000 + k, 1, now++);

		assert_int_equal(pending_guard(pt, p), PENDING_OPEN);
	}
	assert_ptr_equal(pending_find(pt, 0xa11ce, 1, now), g);
	assert_true(g->challenged);
	assert_int_equal(stats(pt).in_use, CAP);
	assert_int_equal(stats(pt).evicted, 3 * CAP + 1);
	assert_int_equal(stats(pt).evicted_guarded, 0);
	assert_int_equal(stats(pt).guarded, 1);
}

/*
 * Guarded entries hold at most CAP / 4: the next one recycles the oldest
 * guarded, never an unguarded one, and the unguarded keep the rest.
 */
static void
test_guarded_tier_full(void **state)
{
	struct pending_table	*pt = *state;
	uint64_t		 now = 0;

	assert_int_equal(stats(pt).guarded_cap, 2 * (CAP / 4));
	for (uint64_t k = 0; k < CAP - CAP / 4; k++)
		add_new(pt, 1000 + k, 1, now++);
	for (uint64_t k = 0; k < CAP / 4; k++)
		add_guarded(pt, 0x900 + k, 0x100 + k, now++);
	assert_int_equal(stats(pt).in_use, CAP);
	add_guarded(pt, 0x9ff, 0x1ff, now++);
	assert_null(pending_find(pt, 0x900, 1, now));
	for (uint64_t k = 1; k < CAP / 4; k++)
		assert_non_null(pending_find(pt, 0x900 + k, 1, now));
	for (uint64_t k = 0; k < CAP - CAP / 4; k++)
		assert_non_null(pending_find(pt, 1000 + k, 1, now));
	assert_int_equal(stats(pt).evicted_guarded, 1);
	assert_int_equal(stats(pt).evicted, 1);
	assert_int_equal(stats(pt).guarded, CAP / 4);
	/* An unguarded one now recycles the oldest unguarded. */
	add_new(pt, 2000, 1, now++);
	assert_null(pending_find(pt, 1000, 1, now));
	assert_non_null(pending_find(pt, 0x901, 1, now));
	assert_int_equal(stats(pt).evicted_guarded, 1);
	/* Guarded entries take the room of unguarded ones when full. */
	assert_int_equal(stats(pt).in_use, CAP);
}

/*
 * A bound device's entries (known) are a tier of their own: filling it
 * (tuples of bound devices forged) recycles only its own, never an
 * answered challenge, and floods of open entries recycle neither.
 */
static void
test_known_tier(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p;
	uint64_t		 now = 0;
	bool			 is_new;

	for (uint64_t k = 0; k < CAP / 4; k++)
		add_guarded(pt, 0x900 + k, 0x100 + k, now++);
	for (uint64_t k = 0; k < CAP / 4 + 3; k++) {
		p = pending_add_guarded(pt, 0x500 + k, 1, PENDING_KNOWN,
		    0x100 + k, now++, &is_new);
		assert_true(is_new);
		assert_int_equal(pending_guard(pt, p), PENDING_KNOWN);
	}
	for (uint64_t k = 0; k < 2 * CAP; k++)
		add_new(pt, 1000 + k, 1, now++);
	for (uint64_t k = 0; k < CAP / 4; k++)
		assert_non_null(pending_find(pt, 0x900 + k, 1, now));
	for (uint64_t k = 0; k < 3; k++)
		assert_null(pending_find(pt, 0x500 + k, 1, now));
	for (uint64_t k = 3; k < CAP / 4 + 3; k++)
		assert_non_null(pending_find(pt, 0x500 + k, 1, now));
	assert_int_equal(stats(pt).evicted_guarded, 3);
	assert_int_equal(stats(pt).guarded, 2 * (CAP / 4));
	assert_int_equal(stats(pt).in_use, CAP);
}

/*
 * One source holds at most 8 guarded entries of a kind: its ninth is an
 * open entry (twenty phones behind one NAT address lose no transaction),
 * its eight stay, other sources keep theirs, and the other kind has its
 * own eight.
 */
static void
test_guarded_quota(void **state)
{
	struct pending_table	*pt = pending_create(64, TIMEOUT);
	struct pending		*p;
	uint64_t		 now = 0;
	bool			 is_new;

	(void)state;
	assert_non_null(pt);
	add_guarded(pt, 0xb0b, 0x2, now++);
	for (uint64_t k = 0; k < 8; k++)
		add_guarded(pt, 0x700 + k, 0x1, now++);
	p = pending_add_guarded(pt, 0x708, 1, PENDING_ANSWERED, 0x1, now++,
	    &is_new);
	assert_true(is_new);
	assert_int_equal(pending_guard(pt, p), PENDING_OPEN);
	for (uint64_t k = 0; k < 9; k++)
		assert_non_null(pending_find(pt, 0x700 + k, 1, now));
	assert_non_null(pending_find(pt, 0xb0b, 1, now));
	assert_int_equal(stats(pt).quota_open, 1);
	assert_int_equal(stats(pt).evicted_guarded, 0);
	assert_int_equal(stats(pt).guarded, 9);
	/* Its quota in one kind is not spent in the other. */
	for (uint64_t k = 0; k < 8; k++) {
		p = pending_add_guarded(pt, 0x600 + k, 1, PENDING_KNOWN, 0x1,
		    now++, &is_new);
		assert_int_equal(pending_guard(pt, p), PENDING_KNOWN);
	}
	assert_int_equal(stats(pt).quota_open, 1);
	/* One of its entries gone, the source has a guard back. */
	pending_del(pt, pending_find(pt, 0x700, 1, now));
	add_guarded(pt, 0x800, 0x1, now++);
	assert_int_equal(stats(pt).quota_open, 1);
	pending_destroy(pt);
}

static void
test_guarded_expire(void **state)
{
	struct pending_table	*pt = *state;
	struct pending		*p;
	bool			 is_new = true;

	add_guarded(pt, 0xa, 0x1, 0);
	add_new(pt, 0xb, 1, 1);
	p = pending_add(pt, 0xa, 1, 2, &is_new);
	assert_false(is_new);
	assert_int_equal(pending_guard(pt, p), PENDING_ANSWERED);
	p = pending_add_guarded(pt, 0xb, 1, PENDING_ANSWERED, 0x1, 3,
	    &is_new);
	assert_false(is_new);
	assert_int_equal(pending_guard(pt, p), PENDING_OPEN);
	assert_non_null(pending_find(pt, 0xa, 1, TIMEOUT - 1));
	pending_expire(pt, TIMEOUT + 1);
	assert_int_equal(stats(pt).in_use, 0);
	assert_int_equal(stats(pt).expired, 2);
	assert_int_equal(stats(pt).guarded, 0);
	assert_null(pending_find(pt, 0xa, 1, TIMEOUT + 1));
	for (uint64_t k = 0; k < CAP; k++)
		assert_int_equal(pending_guard(pt, add_new(pt, 0x100 + k, 1,
		    TIMEOUT + 2)), PENDING_OPEN);
}

/*
 * A longer timeout applies to transactions from then on; one already
 * pending keeps the time it was given.
 */
static void
test_longer_timeout(void **state)
{
	struct pending_table	*pt = *state;

	add_new(pt, 0xa, 1, 0);
	pending_set_timeout(pt, 10 * TIMEOUT);
	add_new(pt, 0xb, 1, 10);
	assert_non_null(pending_find(pt, 0xa, 1, TIMEOUT - 1));
	assert_null(pending_find(pt, 0xa, 1, TIMEOUT));
	assert_non_null(pending_find(pt, 0xb, 1, 10 + 10 * TIMEOUT - 1));
	assert_null(pending_find(pt, 0xb, 1, 10 + 10 * TIMEOUT));
}

/* Transactions in use that a lookup at `now' still finds. */
static uint32_t
live(struct pending_table *pt, const uint64_t *call_id_h, size_t n,
    uint64_t now)
{
	uint32_t	 k = 0;

	for (size_t j = 0; j < n; j++)
		if (pending_find(pt, call_id_h[j], 1, now) != NULL)
			k++;
	return k;
}

/*
 * A shorter timeout (a reload lowering register.timeout) must leave no
 * expired transaction in the table after a sweep, though those added from
 * then on expire before the older ones and the sweep works from the old
 * end.  Whether the older ones keep their time or get the new one is the
 * table's choice: the sweep must agree with the lookup.
 */
static void
test_shorter_timeout_sweep(void **state)
{
	struct pending_table	*pt = *state;
	static const uint64_t	 ids[] = { 0xa, 0xb };
	uint32_t		 in_use;

	add_new(pt, 0xa, 1, 0);
	pending_set_timeout(pt, TIMEOUT / 10);
	add_new(pt, 0xb, 1, 1);			/* till 1 + TIMEOUT / 10 */
	assert_non_null(pending_find(pt, 0xb, 1, TIMEOUT / 10));
	pending_expire(pt, TIMEOUT / 2);
	in_use = stats(pt).in_use;
	assert_int_equal(in_use, live(pt, ids, nitems(ids), TIMEOUT / 2));
}

/*
 * ... nor, once the table fills, recycle a live transaction while expired
 * ones hold the other slots (the proxy's answer to it would then teach
 * nothing).
 */
static void
test_shorter_timeout_full(void **state)
{
	struct pending_table	*pt = *state;
	uint64_t		 ids[CAP + 1];
	uint32_t		 in_use;

	ids[0] = 0xa;
	add_new(pt, 0xa, 1, 0);
	pending_set_timeout(pt, TIMEOUT / 10);
	for (uint64_t k = 1; k < CAP; k++) {	/* till k + TIMEOUT / 10 */
		ids[k] = 0xb0 + k;
		add_new(pt, ids[k], 1, k);
	}
	pending_expire(pt, TIMEOUT / 2);
	ids[CAP] = 0xc;
	add_new(pt, 0xc, 1, TIMEOUT / 2);
	assert_int_equal(stats(pt).evicted, 0);
	in_use = stats(pt).in_use;
	assert_int_equal(in_use, live(pt, ids, nitems(ids), TIMEOUT / 2));
}

int
main(void)
{
	treg_fixture(setup, teardown);
	TREG("pending", create);
	TREG("pending", add);
	TREG("pending", retransmission);
	TREG("pending", key);
	TREG("pending", collision);
	TREG("pending", find_boundary);
	TREG("pending", add_boundary);
	TREG("pending", expire);
	TREG("pending", del);
	TREG("pending", full);
	TREG("pending", flood_recycles_its_own);
	TREG("pending", guarded_outlives_flood);
	TREG("pending", guarded_tier_full);
	TREG("pending", known_tier);
	TREG("pending", guarded_quota);
	TREG("pending", guarded_expire);
	TREG("pending", longer_timeout);
	TREG("pending", shorter_timeout_sweep);
	TREG("pending", shorter_timeout_full);
	treg_fixture(NULL, NULL);
	TREG("pending", expire_many);
	return treg_run("pending");
}
