/*
 * test_htab.c: the blocks every fixed-size table is built from (htab.h).
 * hidx: each slot added is found once through its bucket, colliding slots
 * included, and removal from any place of a chain leaves the rest.  dlist:
 * FIFO order, removal anywhere.  ftab: lookup by key, an entry dead at
 * exactly its expiry, the oldest recycled when full and a freed slot used
 * before anything is recycled, insertion order kept; checked at the end
 * against a plain model over random operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "htab.h"
#include "sipguard.h"
#include "testlib.h"

/* ---- hidx ---------------------------------------------------------------- */

/* How many times `slot' is on the chain of hash value `hv'. */
static int
on_chain(const struct hidx *h, uint64_t hv, uint32_t slot)
{
	int	 n = 0;

	for (uint32_t s = hidx_first(h, hv); s != HNIL; s = hidx_next(h, s))
		if (s == slot)
			n++;
	return n;
}

static uint32_t
chain_len(const struct hidx *h, uint64_t hv)
{
	uint32_t	 n = 0;

	for (uint32_t s = hidx_first(h, hv); s != HNIL; s = hidx_next(h, s))
		n++;
	return n;
}

/* Slots on all chains together. */
static uint32_t
indexed(const struct hidx *h)
{
	uint32_t	 n = 0;

	for (uint64_t b = 0; b <= h->mask; b++)
		n += chain_len(h, b);
	return n;
}

static const struct size_case {
	const char	*name;
	uint32_t	 slots;
} sizes[] = {
	{ "1", 1 }, { "15", 15 }, { "16", 16 }, { "17", 17 },
	{ "1000", 1000 }, { "65536", 65536 }, { "65537", 65537 },
};

/* Buckets: a power of two, >= the slots (load <= 1), no more than the
 * next one; every chain empty; the memory is what hidx_memory() says. */
static void
test_hidx_size(void **state)
{
	const struct size_case	*c = *state;
	struct hidx		 h;
	uint32_t		 nb;

	assert_int_equal(hidx_init(&h, c->slots), 0);
	nb = h.mask + 1;
	assert_int_equal(nb & (nb - 1), 0);
	assert_true(nb >= c->slots);
	assert_true(nb <= 16 || nb / 2 < c->slots);
	assert_int_equal(indexed(&h), 0);
	assert_int_equal(hidx_memory(&h, c->slots),
	    (size_t)nb * sizeof(uint32_t) +
	    (size_t)c->slots * sizeof(struct hlink));
	hidx_fini(&h);
	assert_null(h.head);
	assert_null(h.link);
}

/* Every slot on one chain: removal from its two ends and its middle. */
static void
test_hidx_collisions(void **state)
{
	enum { N = 64 };
	struct hidx	 h;
	uint64_t	 hv[N];

	(void)state;
	assert_int_equal(hidx_init(&h, N), 0);
	for (uint32_t k = 0; k < N; k++) {
		/* Same low bits, different high bits: one bucket. */
		hv[k] = 5 + ((uint64_t)k << 40) + (uint64_t)k * (h.mask + 1);
		hidx_add(&h, k, hv[k]);
	}
	assert_int_equal(chain_len(&h, 5), N);
	assert_int_equal(indexed(&h), N);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(on_chain(&h, hv[k], k), 1);

	hidx_del(&h, 0, hv[0]);		/* added first */
	hidx_del(&h, N - 1, hv[N - 1]);	/* added last */
	hidx_del(&h, N / 2, hv[N / 2]);
	assert_int_equal(chain_len(&h, 5), N - 3);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(on_chain(&h, hv[k], k),
		    k == 0 || k == N - 1 || k == N / 2 ? 0 : 1);

	/* A removed slot goes back in, once. */
	hidx_add(&h, N / 2, hv[N / 2]);
	assert_int_equal(on_chain(&h, hv[N / 2], N / 2), 1);
	assert_int_equal(chain_len(&h, 5), N - 2);
	hidx_fini(&h);
}

/* Random hash values: each slot found on its own chain; removing half
 * leaves the other half; hidx_clear() empties every chain. */
static void
test_hidx_spread(void **state)
{
	enum { N = 1000 };
	struct hidx	 h;
	uint64_t	 hv[N];

	(void)state;
	rng_seed(11);
	assert_int_equal(hidx_init(&h, N), 0);
	for (uint32_t k = 0; k < N; k++) {
		hv[k] = rng();
		hidx_add(&h, k, hv[k]);
	}
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(on_chain(&h, hv[k], k), 1);
	for (uint32_t k = 0; k < N; k += 2)
		hidx_del(&h, k, hv[k]);
	assert_int_equal(indexed(&h), N / 2);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(on_chain(&h, hv[k], k), k % 2);
	hidx_clear(&h, N);
	assert_int_equal(indexed(&h), 0);
	hidx_fini(&h);
}

/* ---- flist --------------------------------------------------------------- */

/*
 * The free list and the index share their links: slots go back and forth
 * between chains and the list, in FIFO order, against a model; every
 * chain holds exactly its slots and the list exactly the free ones.
 */
static void
test_flist_borrowed_links(void **state)
{
	enum { N = 64 };
	struct sidx	 h;
	struct flist	 fl;
	uint64_t	 key[N];
	bool		 used[N];
	uint32_t	 fifo[4 * N + N], fh = 0, ft = 0, seed = 7;

	(void)state;
	assert_int_equal(sidx_init(&h, N), 0);
	flist_init(&fl, &h);
	assert_int_equal(flist_pop_head(&fl), HNIL);
	flist_fill(&fl, N);
	for (uint32_t k = 0; k < N; k++) {
		fifo[ft++] = k;
		used[k] = false;
	}
	for (int step = 0; step < 4 * N; step++) {
		uint32_t	 s;

		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 2 == 0 && fl.count > 0) {
			s = flist_pop_head(&fl);
			assert_int_equal(s, fifo[fh++]);
			key[s] = (seed >> 8) % 5;	/* shared chains */
			sidx_add(&h, s, key[s]);
			used[s] = true;
		} else {
			s = (seed >> 20) % N;
			if (!used[s])
				continue;
			sidx_del(&h, s, key[s]);
			flist_push_tail(&fl, s);
			fifo[ft++] = s;
			used[s] = false;
		}
		assert_int_equal(fl.count, ft - fh);
		/* The list, head to tail, is the model's queue. */
		{
			uint32_t	 n = 0, q = fl.head, last = HNIL;

			for (; q != HNIL; q = h.next[q], n++) {
				assert_int_equal(q, fifo[fh + n]);
				last = q;
			}
			assert_int_equal(n, fl.count);
			assert_int_equal(fl.tail, last);
		}
		/* Each chain: exactly the used slots of its key. */
		for (uint64_t k = 0; k < 5; k++) {
			uint32_t	 n = 0, want = 0;

			for (uint32_t q = sidx_first(&h, k); q != HNIL;
			    q = sidx_next(&h, q))
				if (key[q] == k) {
					assert_true(used[q]);
					n++;
				}
			for (uint32_t q = 0; q < N; q++)
				want += used[q] && key[q] == k;
			assert_int_equal(n, want);
		}
	}
	sidx_fini(&h);
}

/*
 * An sidx keeps its chains in the order an hidx keeps them (the newest
 * first, a removal leaving the others in place): the same operations on
 * both, from any place of any chain, give the same walks.
 */
static void
test_sidx_as_hidx(void **state)
{
	enum { N = 200 };
	struct sidx	 a;
	struct hidx	 b;
	uint64_t	 key[N];
	bool		 used[N];
	uint32_t	 seed = 99;

	(void)state;
	assert_int_equal(sidx_init(&a, N), 0);
	assert_int_equal(hidx_init(&b, N), 0);
	memset(used, 0, sizeof(used));
	for (int step = 0; step < 20000; step++) {
		uint32_t	 s;

		seed = seed * 1103515245u + 12345u;
		s = (seed >> 8) % N;
		if (used[s]) {
			sidx_del(&a, s, key[s]);
			hidx_del(&b, s, key[s]);
			used[s] = false;
		} else {
			/* Few keys, and keys sharing a bucket. */
			key[s] = (seed >> 20) % 7 + ((seed >> 24) % 2) * 256;
			sidx_add(&a, s, key[s]);
			hidx_add(&b, s, key[s]);
			used[s] = true;
		}
		for (uint64_t k = 0; k < 7; k++) {
			uint32_t	 p = sidx_first(&a, k);
			uint32_t	 q = hidx_first(&b, k);

			for (; p != HNIL && q != HNIL; p = sidx_next(&a, p),
			    q = hidx_next(&b, q))
				assert_int_equal(p, q);
			assert_int_equal(p, HNIL);
			assert_int_equal(q, HNIL);
		}
	}
	assert_true(sidx_memory(&a, N) < hidx_memory(&b, N));
	sidx_fini(&a);
	hidx_fini(&b);
}

/* ---- dlist --------------------------------------------------------------- */

/* The list head to tail, checked against its links backwards. */
static uint32_t
walk(const struct dlist *d, uint32_t *out, uint32_t max)
{
	uint32_t	 n = 0, prev = HNIL;

	for (uint32_t s = d->head; s != HNIL; s = d->link[s].next) {
		assert_true(n < max);
		assert_int_equal(d->link[s].prev, prev);
		out[n++] = s;
		prev = s;
	}
	assert_int_equal(d->tail, prev);
	assert_int_equal(d->count, n);
	return n;
}

static void
test_dlist_fill_fifo(void **state)
{
	struct dlist	 d;
	uint32_t	 got[8];

	(void)state;
	assert_int_equal(dlist_init(&d, 8), 0);
	assert_int_equal(dlist_pop_head(&d), HNIL);
	dlist_fill(&d, 8);
	assert_int_equal(walk(&d, got, 8), 8);
	for (uint32_t k = 0; k < 8; k++)
		assert_int_equal(got[k], k);
	for (uint32_t k = 0; k < 8; k++)
		assert_int_equal(dlist_pop_head(&d), k);
	assert_int_equal(dlist_pop_head(&d), HNIL);
	assert_int_equal(d.count, 0);
	assert_int_equal(d.head, HNIL);
	assert_int_equal(d.tail, HNIL);
	/* Filling again starts afresh. */
	dlist_push_tail(&d, 5);
	dlist_fill(&d, 3);
	assert_int_equal(walk(&d, got, 8), 3);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[2], 2);
	dlist_fini(&d);
	assert_null(d.link);
}

static void
test_dlist_del_anywhere(void **state)
{
	struct dlist	 d;
	uint32_t	 got[8];

	(void)state;
	assert_int_equal(dlist_init(&d, 8), 0);
	dlist_fill(&d, 5);
	dlist_del(&d, 0);		/* head */
	dlist_del(&d, 4);		/* tail */
	dlist_del(&d, 2);		/* middle */
	assert_int_equal(walk(&d, got, 8), 2);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 3);
	dlist_push_tail(&d, 2);
	dlist_push_tail(&d, 0);
	assert_int_equal(walk(&d, got, 8), 4);
	assert_int_equal(got[2], 2);
	assert_int_equal(got[3], 0);
	/* The only one: head and tail at once. */
	dlist_clear(&d);
	assert_int_equal(d.count, 0);
	dlist_push_tail(&d, 7);
	assert_int_equal(d.head, 7);
	assert_int_equal(d.tail, 7);
	dlist_del(&d, 7);
	assert_int_equal(walk(&d, got, 8), 0);
	dlist_fini(&d);
}

static void
test_dlist_insert_after(void **state)
{
	struct dlist	 d;
	uint32_t	 got[8];

	(void)state;
	assert_int_equal(dlist_init(&d, 8), 0);
	dlist_insert_after(&d, HNIL, 3);	/* into an empty list */
	assert_int_equal(d.head, 3);
	assert_int_equal(d.tail, 3);
	dlist_insert_after(&d, HNIL, 1);	/* at the head */
	dlist_insert_after(&d, 3, 5);		/* after the tail */
	dlist_insert_after(&d, 1, 2);		/* in the middle */
	assert_int_equal(walk(&d, got, 8), 4);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
	assert_int_equal(got[3], 5);
	dlist_del(&d, 5);
	dlist_insert_after(&d, 1, 5);
	assert_int_equal(walk(&d, got, 8), 4);
	assert_int_equal(got[1], 5);
	assert_int_equal(got[3], 3);
	dlist_fini(&d);
}

/* ---- ftab ---------------------------------------------------------------- */

#define FAR	UINT64_MAX	/* an expiry never reached */

/* The table and a payload array beside it, as its users keep one. */
struct fx {
	struct ftab	 f;
	uint64_t	*pay;		/* the key, per slot */
	bool		 live;
	const void	*row;		/* the test's initial state */
};

static int
fx_setup(void **state)
{
	struct fx	*x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	x->row = *state;
	*state = x;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*x = *state;

	if (x->live)
		ftab_fini(&x->f);
	free(x->pay);
	free(x);
	return 0;
}

static struct ftab *
fx_init(void **state, uint32_t cap)
{
	struct fx	*x = *state;

	assert_int_equal(ftab_init(&x->f, cap), 0);
	x->live = true;
	assert_non_null(x->pay = calloc(cap, sizeof(*x->pay)));
	return &x->f;
}

/* Insert an absent key; returns its slot. */
static uint32_t
put(struct ftab *f, uint64_t key, uint64_t expires, bool want_evicted)
{
	uint32_t	 s;
	bool		 evicted = !want_evicted;

	s = ftab_insert(f, key, expires, &evicted);
	assert_true(s < f->cap);
	assert_int_equal(evicted, want_evicted);
	return s;
}

/* The keys in insertion order, as the order list holds them. */
static uint32_t
order(const struct ftab *f, uint64_t *out, uint32_t max)
{
	uint32_t	 n = 0;

	for (uint32_t s = f->order.head; s != HNIL;
	    s = f->order.link[s].next) {
		assert_true(n < max);
		out[n++] = f->key[s];
	}
	assert_int_equal(n, ftab_count(f));
	return n;
}

static void
test_ftab_find(void **state)
{
	struct ftab	*f = fx_init(state, 8);
	uint32_t	 slot[5];

	assert_int_equal(ftab_count(f), 0);
	assert_int_equal(ftab_find(f, 101, 0), HNIL);
	for (uint32_t k = 0; k < 5; k++) {
		slot[k] = put(f, 101 + k, 1000, false);
		for (uint32_t j = 0; j < k; j++)
			assert_int_not_equal(slot[j], slot[k]);
	}
	assert_int_equal(ftab_count(f), 5);
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(ftab_find(f, 101 + k, 0), slot[k]);
	assert_int_equal(ftab_find(f, 999, 0), HNIL);
	/* A key is the whole 64 bits: one bit off is another key. */
	assert_int_equal(ftab_find(f, 101 ^ (1ULL << 63), 0), HNIL);
	assert_int_equal(f->evicted, 0);
	assert_int_equal(f->expired, 0);
}

/* Alive before its expiry, gone at exactly it, and removed, not hidden. */
static void
test_ftab_expiry_boundary(void **state)
{
	struct ftab	*f = fx_init(state, 4);
	uint32_t	 s = put(f, 7, 100, false);

	assert_int_equal(ftab_find(f, 7, 99), s);
	assert_int_equal(ftab_count(f), 1);
	assert_int_equal(ftab_find(f, 7, 100), HNIL);
	assert_int_equal(ftab_count(f), 0);
	assert_int_equal(f->expired, 1);
	assert_int_equal(ftab_find(f, 7, 50), HNIL);
	assert_int_equal(f->expired, 1);
	/* The same key again is a new entry with its own expiry. */
	s = put(f, 7, 200, false);
	assert_int_equal(ftab_find(f, 7, 199), s);
	assert_int_equal(ftab_find(f, 7, 200), HNIL);
	assert_int_equal(f->expired, 2);
}

static void
test_ftab_expire_sweep(void **state)
{
	struct ftab	*f = fx_init(state, 8);

	for (uint64_t k = 1; k <= 5; k++)
		put(f, k, k * 10, false);
	ftab_expire(f, 29, 100);
	assert_int_equal(ftab_count(f), 3);
	ftab_expire(f, 30, 100);	/* expiry 30 is reached at 30 */
	assert_int_equal(ftab_count(f), 2);
	assert_int_equal(f->expired, 3);
	assert_int_not_equal(ftab_find(f, 4, 30), HNIL);
	assert_int_equal(ftab_find(f, 3, 0), HNIL);
	/* At most `budget' a call. */
	ftab_expire(f, 100, 0);
	assert_int_equal(ftab_count(f), 2);
	ftab_expire(f, 100, 1);
	assert_int_equal(ftab_count(f), 1);
	ftab_expire(f, 100, 100);
	assert_int_equal(ftab_count(f), 0);
	assert_int_equal(f->expired, 5);
	ftab_expire(f, 100, 100);
	assert_int_equal(f->expired, 5);
}

/*
 * From the old end only: behind a live entry an expired one stays until
 * it is looked up.  Its users rely on it staying cheap, so a table whose
 * entries do not expire in insertion order must not lean on ftab_expire.
 */
static void
test_ftab_expire_old_end(void **state)
{
	struct ftab	*f = fx_init(state, 4);

	put(f, 1, 50, false);
	put(f, 2, 10, false);
	ftab_expire(f, 20, 100);
	assert_int_equal(ftab_count(f), 2);
	assert_int_equal(ftab_find(f, 2, 20), HNIL);
	assert_int_equal(ftab_count(f), 1);
	assert_int_not_equal(ftab_find(f, 1, 20), HNIL);
}

static const struct cap_case {
	const char	*name;
	uint32_t	 cap;
} caps[] = {
	{ "1", 1 }, { "2", 2 }, { "5", 5 }, { "16", 16 }, { "17", 17 },
	{ "1000", 1000 },
};

/*
 * Full: every insert recycles the oldest entry, in insertion order, in
 * the slot it frees; the others stay.  Nothing is recycled before the
 * table holds `cap' entries.
 */
static void
test_ftab_full(void **state)
{
	const struct cap_case	*c = ((struct fx *)*state)->row;
	uint32_t		 n = c->cap, *slot;
	struct ftab		*f = fx_init(state, n);

	assert_non_null(slot = calloc(2 * (size_t)n, sizeof(*slot)));
	for (uint32_t k = 0; k < n; k++)
		slot[k] = put(f, k, FAR, false);
	assert_int_equal(ftab_count(f), n);
	assert_int_equal(f->evicted, 0);
	for (uint32_t k = n; k < 2 * n; k++) {
		slot[k] = put(f, k, FAR, true);
		assert_int_equal(slot[k], slot[k - n]);
		assert_int_equal(f->evicted, k - n + 1);
		assert_int_equal(ftab_count(f), n);
		assert_int_equal(ftab_find(f, k - n, 0), HNIL);
		if (k - n + 1 < n)
			assert_int_equal(ftab_find(f, k - n + 1, 0),
			    slot[k - n + 1]);
		assert_int_equal(ftab_find(f, k, 0), slot[k]);
	}
	for (uint32_t k = n; k < 2 * n; k++)
		assert_int_equal(ftab_find(f, k, 0), slot[k]);
	free(slot);
}

/* A slot freed by a delete or by a lookup that found its entry expired
 * is used before anything is recycled. */
static void
test_ftab_freed_slot_reused(void **state)
{
	struct ftab	*f = fx_init(state, 8);
	uint32_t	 slot[8], s;

	for (uint32_t k = 0; k < 8; k++)
		slot[k] = put(f, k, k == 5 ? 10 : FAR, false);
	ftab_del(f, slot[3]);
	assert_int_equal(ftab_count(f), 7);
	assert_int_equal(ftab_find(f, 3, 0), HNIL);
	s = put(f, 100, FAR, false);
	assert_int_equal(s, slot[3]);
	assert_int_equal(f->evicted, 0);
	assert_int_equal(ftab_find(f, 0, 0), slot[0]);

	assert_int_equal(ftab_find(f, 5, 10), HNIL);
	s = put(f, 101, FAR, false);
	assert_int_equal(s, slot[5]);
	assert_int_equal(f->evicted, 0);

	/* Full again: now the oldest goes. */
	s = put(f, 102, FAR, true);
	assert_int_equal(s, slot[0]);
	assert_int_equal(ftab_find(f, 0, 0), HNIL);
	assert_int_equal(ftab_find(f, 1, 0), slot[1]);
}

/* Recycled by age of insertion, whatever the expiries say. */
static void
test_ftab_evicts_oldest_inserted(void **state)
{
	struct ftab	*f = fx_init(state, 2);

	put(f, 1, 1000, false);
	put(f, 2, 10, false);
	put(f, 3, 1000, true);
	assert_int_equal(ftab_find(f, 1, 0), HNIL);
	assert_int_not_equal(ftab_find(f, 2, 0), HNIL);
	assert_int_not_equal(ftab_find(f, 3, 0), HNIL);
}

/* The order list is insertion order; a key put back goes to the end. */
static void
test_ftab_order(void **state)
{
	struct ftab	*f = fx_init(state, 8);
	uint64_t	 got[8];
	static const uint64_t	 want1[] = { 10, 12, 13, 14, 15 };
	static const uint64_t	 want2[] = { 12, 13, 14, 15, 10 };

	for (uint64_t k = 10; k < 15; k++)
		put(f, k, FAR, false);
	ftab_del(f, ftab_find(f, 11, 0));
	put(f, 15, FAR, false);
	assert_int_equal(order(f, got, 8), nitems(want1));
	assert_memory_equal(got, want1, sizeof(want1));
	ftab_del(f, ftab_find(f, 10, 0));
	put(f, 10, FAR, false);
	assert_int_equal(order(f, got, 8), nitems(want2));
	assert_memory_equal(got, want2, sizeof(want2));
}

/* Keys that share a bucket are told apart by the whole key; an expired
 * entry on the chain hides none of the others. */
static void
test_ftab_collisions(void **state)
{
	struct ftab	*f = fx_init(state, 16);
	uint64_t	 nb = (uint64_t)f->ix.mask + 1;
	uint32_t	 slot[16];

	for (uint32_t k = 0; k < 16; k++)
		slot[k] = put(f, 3 + k * nb, k == 0 || k == 9 ? 10 : FAR,
		    false);
	assert_int_equal(chain_len(&f->ix, 3), 16);
	for (uint32_t k = 0; k < 16; k++)
		assert_int_equal(ftab_find(f, 3 + k * nb, 0), slot[k]);
	assert_int_equal(ftab_find(f, 3 + 16 * nb, 0), HNIL);
	ftab_del(f, slot[7]);
	assert_int_equal(ftab_find(f, 3 + 9 * nb, 10), HNIL);
	assert_int_equal(ftab_find(f, 3, 10), HNIL);
	for (uint32_t k = 1; k < 16; k++)
		if (k != 7 && k != 9)
			assert_int_equal(ftab_find(f, 3 + k * nb, 10),
			    slot[k]);
	assert_int_equal(ftab_count(f), 13);
	assert_int_equal(chain_len(&f->ix, 3), 13);
}

/* Cleared: empty, every slot free again. */
static void
test_ftab_clear(void **state)
{
	struct ftab	*f = fx_init(state, 4);

	for (uint64_t k = 0; k < 5; k++)
		put(f, k, FAR, k == 4);
	ftab_clear(f);
	assert_int_equal(ftab_count(f), 0);
	assert_int_equal(indexed(&f->ix), 0);
	for (uint64_t k = 0; k < 5; k++)
		assert_int_equal(ftab_find(f, k, 0), HNIL);
	for (uint64_t k = 10; k < 14; k++)
		put(f, k, FAR, false);
	assert_int_equal(ftab_count(f), 4);
}

/*
 * Random finds, inserts, deletes and sweeps on a small table with few
 * keys (so collisions, recycling and re-inserts are common), against a
 * model: an array in insertion order.
 */
static void
test_ftab_model(void **state)
{
	enum { CAP = 13, KEYS = 40, STEPS = 200000 };
	struct fx	*x = *state;
	struct ftab	*f = fx_init(state, CAP);
	uint64_t	 mkey[CAP], mexp[CAP], got[CAP];
	uint64_t	 now = 0, evicted = 0, expired = 0;
	uint32_t	 n = 0;

	rng_seed(2026);
	for (uint32_t step = 0; step < STEPS; step++) {
		uint64_t	 r = rng(), key = (r >> 8) % KEYS;
		uint32_t	 op = r % 8, at = n, s;

		now += (r >> 20) % 3;
		for (uint32_t k = 0; k < n; k++)
			if (mkey[k] == key)
				at = k;
		/* What a lookup would do to the model. */
		if (op != 7 && at < n && mexp[at] <= now) {
			memmove(&mkey[at], &mkey[at + 1],
			    (n - at - 1) * sizeof(*mkey));
			memmove(&mexp[at], &mexp[at + 1],
			    (n - at - 1) * sizeof(*mexp));
			n--;
			at = n;
			expired++;
		}
		if (op == 7) {				/* sweep */
			uint32_t	 budget = (uint32_t)(r >> 40) % 5;

			ftab_expire(f, now, budget);
			while (budget-- > 0 && n > 0 && mexp[0] <= now) {
				memmove(&mkey[0], &mkey[1],
				    (n - 1) * sizeof(*mkey));
				memmove(&mexp[0], &mexp[1],
				    (n - 1) * sizeof(*mexp));
				n--;
				expired++;
			}
		} else if ((s = ftab_find(f, key, now)) != HNIL) {
			assert_true(at < n);
			assert_int_equal(x->pay[s], key);
			if (op < 2) {			/* delete */
				ftab_del(f, s);
				memmove(&mkey[at], &mkey[at + 1],
				    (n - at - 1) * sizeof(*mkey));
				memmove(&mexp[at], &mexp[at + 1],
				    (n - at - 1) * sizeof(*mexp));
				n--;
			}
		} else {
			assert_int_equal(at, n);
			if (op >= 4) {			/* insert */
				uint64_t	 exp = now + 1 + (r >> 32) % 40;
				bool		 ev;

				s = ftab_insert(f, key, exp, &ev);
				x->pay[s] = key;
				assert_int_equal(ev, n == CAP);
				if (n == CAP) {
					memmove(&mkey[0], &mkey[1],
					    (n - 1) * sizeof(*mkey));
					memmove(&mexp[0], &mexp[1],
					    (n - 1) * sizeof(*mexp));
					n--;
					evicted++;
				}
				mkey[n] = key;
				mexp[n++] = exp;
			}
		}
		assert_int_equal(ftab_count(f), n);
		assert_int_equal(f->evicted, evicted);
		assert_int_equal(f->expired, expired);
		if (step % 64 == 0) {
			assert_int_equal(order(f, got, CAP), n);
			assert_memory_equal(got, mkey, n * sizeof(*mkey));
		}
	}
	/* The walk covered everything that can happen. */
	assert_true(evicted > 1000);
	assert_true(expired > 1000);
}

int
main(void)
{
	TREG_ROWS("hidx_size", test_hidx_size, sizes);
	TREG("htab", hidx_collisions);
	TREG("htab", hidx_spread);
	TREG("htab", dlist_fill_fifo);
	TREG("htab", flist_borrowed_links);
	TREG("htab", sidx_as_hidx);
	TREG("htab", dlist_del_anywhere);
	TREG("htab", dlist_insert_after);
	treg_fixture(fx_setup, fx_teardown);
	TREG("htab", ftab_find);
	TREG("htab", ftab_expiry_boundary);
	TREG("htab", ftab_expire_sweep);
	TREG("htab", ftab_expire_old_end);
	TREG("htab", ftab_freed_slot_reused);
	TREG("htab", ftab_evicts_oldest_inserted);
	TREG("htab", ftab_order);
	TREG("htab", ftab_collisions);
	TREG("htab", ftab_clear);
	TREG("htab", ftab_model);
	TREG_ROWS("ftab_full", test_ftab_full, caps);
	return treg_run("htab");
}
