/*
 * test_bind.c: the binding table W of SPEC 3 and 4 (bind.h).  Tuples are
 * built directly; identities are arbitrary nonzero 64-bit values.  Covers
 * exact lookup through the Bloom filter, the best partial match for every
 * flag pattern of SPEC 4's table with deterministic ties, gateway MACs,
 * devices behind NAT, REGISTER rules 3 and 4, learning until full,
 * removal, expiry (swept and lazy), restore, statistics, the removal hook
 * and slot reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <cmocka.h>

#include "bind.h"
#include "cbf.h"
#include "conf.h"
#include "hash.h"
#include "sipguard.h"
#include "spoof.h"
#include "testlib.h"

#define T0		SEC(1700000000)		/* any start time */
#define LATER		(T0 + SEC(3600))	/* a far expiry */
#define FULLMATCH	(BM_M | BM_I | BM_S | BM_D)

/* Identity hashes: arbitrary, nonzero, distinct per id. */
#define DH(id)		(0xd15c000000000000ULL | (uint64_t)(id))
#define IMPIH(id)	(0x1a91000000000000ULL | (uint64_t)(id))
#define CONTACT(id)	(0xc0c0000000000000ULL | (uint64_t)(id))

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct sg_conf		 conf;
	struct bind_table	*bt;
};

/* Fixtures a test made and has not freed: reaped when it fails. */
static struct fx	*open_fx[4];
static struct bind_table *own_bt;

static struct fx *
fx_new(int cap)
{
	struct fx	*f = calloc(1, sizeof(*f));
	size_t		 k;

	assert_non_null(f);
	conf_defaults(&f->conf);
	f->conf.tab_bindings = cap;
	/* SPEC 3's expiry; the grace (test_lapsed) sets its own. */
	f->conf.bind_grace = 0;
	f->bt = bind_create(&f->conf);
	assert_non_null(f->bt);
	for (k = 0; k < nitems(open_fx) && open_fx[k] != NULL; k++)
		;
	assert_true(k < nitems(open_fx));
	open_fx[k] = f;
	return f;
}

static void
fx_free(struct fx *f)
{
	for (size_t k = 0; k < nitems(open_fx); k++)
		if (open_fx[k] == f)
			open_fx[k] = NULL;
	bind_destroy(f->bt);
	free(f);
}

static int
setup64(void **state)
{
	*state = fx_new(64);
	return 0;
}

static int
reap(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(open_fx); k++)
		if (open_fx[k] != NULL)
			fx_free(open_fx[k]);
	bind_destroy(own_bt);
	own_bt = NULL;
	return 0;
}

/* ---- tuples ------------------------------------------------------------- */

static struct sg_addr
ip(const char *s)
{
	struct sg_addr	 a;

	if (sg_addr_parse(s, &a) == -1)
		fail_msg("bad test address %s", s);
	return a;
}

static struct sg_addr
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a, b, c, d);
	return ip(buf);
}

static struct sg_addr
none(void)
{
	struct sg_addr	 a;

	memset(&a, 0, sizeof(a));
	return a;
}

/* MAC 02:00:00:xx:xx:xx for mac != 0; mac 0: no layer 2 at all. */
static void
tup(struct sg_tuple *t, unsigned mac, struct sg_addr i, struct sg_addr s,
    unsigned id)
{
	memset(t, 0, sizeof(*t));
	if (mac != 0) {
		t->has_m = true;
		t->m.b[0] = 0x02;
		t->m.b[3] = (uint8_t)(mac >> 16);
		t->m.b[4] = (uint8_t)(mac >> 8);
		t->m.b[5] = (uint8_t)mac;
	}
	t->i = i;
	t->s = s;
	/* SPEC 2: nat means s is a private SIP-IP different from i. */
	t->nat = sg_addr_private(&s) && !sg_addr_eq(&s, &i);
	t->sport = 5060;
	t->a = SIPM_INVITE;
	t->dh = DH(id);
	snprintf(t->d, sizeof(t->d), "user%u@example.com", id);
}

static struct sg_mac
mac_of(unsigned mac)
{
	struct sg_tuple	 t;

	tup(&t, mac, none(), none(), 1);
	return t.m;
}

static const struct binding *
learn_until(struct fx *f, const struct sg_tuple *t, uint64_t expires,
    uint64_t now)
{
	const struct binding	*b = NULL;

	assert_int_equal(bind_learn(f->bt, t, 0, expires, now, &b), BIND_NEW);
	assert_non_null(b);
	return b;
}

static const struct binding *
learn(struct fx *f, const struct sg_tuple *t)
{
	return learn_until(f, t, LATER, T0);
}

static unsigned
match(struct fx *f, const struct sg_tuple *t, bool response, uint64_t now,
    const struct binding **b)
{
	struct bind_match	 bm;

	memset(&bm, 0xa5, sizeof(bm));
	bind_match(f->bt, t, response, now, &bm);
	if (b != NULL)
		*b = bm.b;
	if (bm.b == NULL)
		assert_int_equal(bm.flags, 0);
	return bm.flags;
}

static struct bind_stats
stats(struct fx *f)
{
	struct bind_stats	 st;

	bind_stats(f->bt, &st);
	return st;
}

/*
 * Bindings gone so far (removed, expired, replaced by the identity's
 * quota): each frees its slot, and the slot's generation moves on, which
 * is how module II's row for it starts afresh (flood.c).
 */
static uint64_t
gone(struct fx *f)
{
	struct bind_stats	 st = stats(f);

	return st.removed + st.expired + st.quota_replaced;
}

/* ---- creation, learning, exact lookup ----------------------------------- */

static void
test_create(void **state)
{
	struct fx		*f = *state;
	struct bind_stats	 st = stats(f);

	assert_int_equal(bind_capacity(f->bt), 64);
	assert_int_equal(st.capacity, 64);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.learned + st.refreshed + st.removed + st.expired +
	    st.full, 0);
	assert_int_equal(st.gateway_macs, 0);
	assert_true(st.memory >= 64 * sizeof(struct binding) + 64 * 16);
	assert_null(bind_at(f->bt, 0));
	assert_null(bind_at(f->bt, 63));
	assert_null(bind_at(f->bt, 64));
	assert_null(bind_at(f->bt, UINT32_MAX));
}

static void
test_learn_find(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b;
	struct bind_stats	 st;
	uint64_t		 probes;
	char			 buf[SG_ID_MAX];

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	t.sport = 5070;
	t.impih = IMPIH(1);
	snprintf(t.impi, sizeof(t.impi), "impi1@example.com");
	assert_int_equal(bind_learn(f->bt, &t, CONTACT(1), LATER, T0, &b),
	    BIND_NEW);
	assert_non_null(b);
	assert_true(b->live);
	assert_true(b->has_m);
	assert_memory_equal(&b->m, &t.m, sizeof(b->m));
	assert_false(b->nat);
	assert_int_equal(b->port, 5070);
	assert_true(sg_addr_eq(&b->i, &t.i));
	assert_true(sg_addr_eq(&b->s, &t.s));
	assert_true(b->dh == DH(1));
	assert_true(b->impih == IMPIH(1));
	assert_true(b->contact_idh == CONTACT(1));
	assert_true(b->created == T0);
	assert_true(b->refreshed == T0);
	assert_true(b->expires == LATER);
	assert_true(b->seq > 0);
	assert_string_equal(bind_d(f->bt, b, buf), "user1@example.com");
	assert_string_equal(bind_impi(f->bt, b, buf), "impi1@example.com");
	assert_ptr_equal(bind_at(f->bt, bind_slot(f->bt, b)), b);

	bind_stats(f->bt, &st);
	probes = st.bloom_probes;
	/* F = {m, d, i}: s, the method and the port do not matter. */
	assert_ptr_equal(bind_find(f->bt, &t, T0 + 1), b);
	q = t;
	q.s = ip("198.51.100.99");
	q.a = SIPM_BYE;
	q.sport = 1;
	q.impih = 0;
	assert_ptr_equal(bind_find(f->bt, &q, T0 + 1), b);
	/* Any element of F different: not this binding. */
	tup(&q, 2, t.i, t.s, 1);
	assert_null(bind_find(f->bt, &q, T0 + 1));
	tup(&q, 1, ip("203.0.113.11"), t.s, 1);
	assert_null(bind_find(f->bt, &q, T0 + 1));
	tup(&q, 1, t.i, t.s, 2);
	assert_null(bind_find(f->bt, &q, T0 + 1));
	tup(&q, 0, t.i, t.s, 1);
	assert_null(bind_find(f->bt, &q, T0 + 1));

	bind_stats(f->bt, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.learned, 1);
	/* One Bloom probe per exact lookup, hits only for the binding. */
	assert_int_equal(st.bloom_probes - probes, 6);
	assert_true(st.bloom_hits >= 2);
	assert_int_equal(gone(f), 0);
}

static void
test_refresh(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b, *r;
	uint32_t		 slot, gen;
	uint64_t		 seq;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	t.impih = IMPIH(1);
	b = learn(f, &t);
	slot = bind_slot(f->bt, b);
	gen = b->gen;
	seq = b->seq;

	/* Same F again: refreshed in place. */
	t.sport = 6000;
	t.impih = IMPIH(2);
	assert_int_equal(bind_learn(f->bt, &t, 0, LATER + SEC(10), T0 + SEC(5),
	    &r), BIND_REFRESHED);
	assert_ptr_equal(r, b);
	assert_int_equal(bind_slot(f->bt, r), slot);
	assert_int_equal(r->gen, gen);
	assert_true(r->seq == seq);
	assert_true(r->created == T0);
	assert_true(r->refreshed == T0 + SEC(5));
	assert_true(r->expires == LATER + SEC(10));
	assert_int_equal(r->port, 6000);
	assert_true(r->impih == IMPIH(2));
	/* No IMPI this time: the known one is kept. */
	t.impih = 0;
	assert_int_equal(bind_learn(f->bt, &t, 0, LATER, T0 + SEC(6), &r),
	    BIND_REFRESHED);
	assert_true(r->impih == IMPIH(2));

	/* The SIP-IP changes: the row is relinked, same slot and gen. */
	t.s = ip("198.51.100.77");
	assert_int_equal(bind_learn(f->bt, &t, CONTACT(9), LATER, T0 + SEC(7),
	    &r), BIND_REFRESHED);
	assert_int_equal(bind_slot(f->bt, r), slot);
	assert_int_equal(r->gen, gen);
	assert_true(sg_addr_eq(&r->s, &t.s));
	assert_true(r->contact_idh == CONTACT(9));
	/* The new s is an index lead now (pattern 0010), the old one not. */
	tup(&q, 7, ip("192.0.2.7"), ip("198.51.100.77"), 7);
	assert_int_equal(match(f, &q, false, T0 + SEC(8), &r), BM_S);
	assert_ptr_equal(r, b);
	tup(&q, 7, ip("192.0.2.7"), ip("203.0.113.10"), 7);
	assert_int_equal(match(f, &q, false, T0 + SEC(8), NULL), 0);
	/* The new Contact identity matches a response, the old one not. */
	tup(&q, 1, t.i, t.s, 0);
	q.dh = CONTACT(9);
	assert_int_equal(match(f, &q, true, T0 + SEC(8), NULL), FULLMATCH);

	/* Now behind NAT: a private s makes (m, i, s) the device. */
	t.s = ip("192.168.1.20");
	t.nat = true;
	assert_int_equal(bind_learn(f->bt, &t, 0, LATER, T0 + SEC(9), &r),
	    BIND_REFRESHED);
	assert_true(r->nat);
	tup(&q, 1, t.i, ip("192.168.1.20"), 5);
	assert_ptr_equal(bind_find_device(f->bt, &q, T0 + SEC(9)), b);

	assert_int_equal(stats(f).live, 1);
	assert_int_equal(stats(f).learned, 1);
	assert_int_equal(stats(f).refreshed, 4);
	/* A refresh is not a binding going away. */
	assert_int_equal(gone(f), 0);
	assert_ptr_equal(bind_find(f->bt, &t, T0 + SEC(10)), b);
}

/* F distinguishes each of its elements, and "no MAC" from any MAC. */
static void
test_f_distinct(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t[6];
	const struct binding	*b[6];

	tup(&t[0], 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	tup(&t[1], 1, ip("203.0.113.11"), ip("203.0.113.11"), 1);
	tup(&t[2], 1, ip("203.0.113.10"), ip("203.0.113.10"), 2);
	tup(&t[3], 0, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	tup(&t[4], 1, ip("2001:db8::10"), ip("2001:db8::10"), 1);
	/* 00:00:00:00:00:00 is a MAC, not "none". */
	tup(&t[5], 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	memset(&t[5].m, 0, sizeof(t[5].m));
	for (int k = 0; k < 6; k++)
		b[k] = learn(f, &t[k]);
	assert_int_equal(stats(f).live, 6);
	for (int k = 0; k < 6; k++) {
		assert_ptr_equal(bind_find(f->bt, &t[k], T0), b[k]);
		for (int j = 0; j < k; j++)
			assert_ptr_not_equal(b[j], b[k]);
	}
}

/* ---- best partial match: SPEC 4's table --------------------------------- */

struct pattern_case {
	const char	*name;
	unsigned	 flags;		/* m i s d */
	const char	*label;		/* spoof_case() of the flags */
};

static const struct pattern_case patterns[] = {
	{ "vii_1111", 0xf, "vii" },
	{ "b_0000", 0x0, "b" },
	{ "i_1000", 0x8, "i" },
	{ "ii_1001", 0x9, "ii" },
	{ "iv_1010", 0xa, "iv" },
	{ "v_1100", 0xc, "v" },
	{ "vi_1110", 0xe, "vi" },
	{ "viii_0100", 0x4, "viii" },
	{ "ix_0111", 0x7, "ix" },
	{ "xi_0010", 0x2, "xi" },
	{ "masquerade_0001", 0x1, "masquerade" },
	{ "reflection_1101", 0xd, "reflection" },
	{ "spoof_0011", 0x3, "spoof" },
	{ "spoof_0101", 0x5, "spoof" },
	{ "spoof_0110", 0x6, "spoof" },
	{ "spoof_1011", 0xb, "spoof" },
};

/*
 * One registered binding B; the message takes each of B's elements or a
 * different value, per the pattern.  Every element that matches is a
 * lead (d, i, host m, public s), so every pattern must come back whole,
 * for IPv4 and IPv6, as a request and as a response.
 */
static void
test_pattern(void **state)
{
	const struct pattern_case	*pc = *state;
	static const char *const	 fam[2][4] = {
		{ "203.0.113.10", "198.51.100.20", "203.0.113.11",
		    "198.51.100.21" },
		{ "2001:db8::10", "2001:db8:1::20", "2001:db8::11",
		    "2001:db8:1::21" },
	};

	for (int v = 0; v < 2; v++) {
		struct fx		*f = fx_new(64);
		struct sg_tuple		 bt, t;
		const struct binding	*b, *got;
		unsigned		 p = pc->flags;

		/* B's s differs from its i (both public), so each counts. */
		tup(&bt, 1, ip(fam[v][0]), ip(fam[v][2]), 1);
		b = learn(f, &bt);
		tup(&t, p & BM_M ? 1 : 2, ip(p & BM_I ? fam[v][0] : fam[v][1]),
		    ip(p & BM_S ? fam[v][2] : fam[v][3]), p & BM_D ? 1 : 2);
		for (int resp = 0; resp < 2; resp++) {
			assert_int_equal(match(f, &t, resp, T0 + 1, &got), p);
			if (p == 0)
				assert_null(got);
			else
				assert_ptr_equal(got, b);
			assert_string_equal(sg_reason_str(spoof_case(p)),
			    pc->label);
		}
		fx_free(f);
	}
}

/* A response: d may also name the Contact registered with the binding. */
static void
test_match_contact(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b, *got;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_int_equal(bind_learn(f->bt, &t, CONTACT(1), LATER, T0, &b),
	    BIND_NEW);
	q = t;
	q.dh = CONTACT(1);
	assert_int_equal(match(f, &q, true, T0, &got), FULLMATCH);
	assert_ptr_equal(got, b);
	/* A request naming the Contact is not the AOR: d differs. */
	assert_int_equal(match(f, &q, false, T0, &got), BM_M | BM_I | BM_S);
	assert_ptr_equal(got, b);
	/* The AOR itself matches either way. */
	assert_int_equal(match(f, &t, true, T0, NULL), FULLMATCH);
	assert_int_equal(match(f, &t, false, T0, NULL), FULLMATCH);
}

/* The IMPI is checked whenever both sides have one (SPEC 2). */
static void
test_match_impi(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 t, q;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	t.impih = IMPIH(1);
	learn(f, &t);
	q = t;
	assert_int_equal(match(f, &q, false, T0, NULL), FULLMATCH);
	q.impih = IMPIH(2);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_M | BM_I | BM_S);
	q.impih = 0;
	assert_int_equal(match(f, &q, false, T0, NULL), FULLMATCH);
	/* A binding without IMPI accepts any. */
	tup(&t, 2, ip("203.0.113.20"), ip("203.0.113.20"), 2);
	learn(f, &t);
	t.impih = IMPIH(7);
	assert_int_equal(match(f, &t, false, T0, NULL), FULLMATCH);
}

/* SPEC 2: a message that states no SIP-IP is not checked on s. */
static void
test_match_no_s(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 t, q;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	learn(f, &t);
	q = t;
	q.s = none();
	assert_int_equal(match(f, &q, true, T0, NULL), FULLMATCH);
	tup(&q, 1, ip("203.0.113.99"), none(), 9);
	assert_int_equal(match(f, &q, true, T0, NULL), BM_M | BM_S);
	tup(&q, 9, ip("203.0.113.99"), none(), 9);
	assert_int_equal(match(f, &q, true, T0, NULL), 0);
}

/* SPEC 4: private SIP-IPs are no lead (many homes share 192.168.1.x). */
static void
test_match_private_s(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b, *got;

	tup(&t, 1, ip("203.0.113.10"), ip("192.168.1.10"), 1);
	assert_true(t.nat);
	b = learn(f, &t);
	assert_true(b->nat);
	tup(&q, 2, ip("198.51.100.5"), ip("192.168.1.10"), 2);
	assert_int_equal(match(f, &q, false, T0, &got), 0);
	assert_null(got);
	/* Found through i instead: i and s shared. */
	tup(&q, 2, ip("203.0.113.10"), ip("192.168.1.10"), 2);
	assert_int_equal(match(f, &q, false, T0, &got), BM_I | BM_S);
	assert_ptr_equal(got, b);
	/* The same for IPv6 ULA. */
	tup(&t, 3, ip("2001:db8::3"), ip("fd00::3"), 3);
	assert_true(t.nat);
	learn(f, &t);
	tup(&q, 4, ip("2001:db8::4"), ip("fd00::3"), 4);
	assert_int_equal(match(f, &q, false, T0, NULL), 0);
}

/*
 * Ties: the result must not depend on insertion order.  Each row holds
 * two bindings sharing `a' and `b' elements with the query; the winner is
 * the one sharing most, then the strongest evidence (m, i, s, d: the flag
 * value), then the oldest binding.
 */
struct tie_case {
	const char	*name;
	unsigned	 a, b, want;
};

static const struct tie_case ties[] = {
	{ "m_over_i", 0x8, 0x4, 0x8 },
	{ "i_over_s", 0x4, 0x2, 0x4 },
	{ "s_over_d", 0x2, 0x1, 0x2 },
	{ "md_over_is", 0x9, 0x6, 0x9 },
	{ "ms_over_id", 0xa, 0x5, 0xa },
	{ "mi_over_sd", 0xc, 0x3, 0xc },
	{ "mis_over_isd", 0xe, 0x7, 0xe },
	{ "mid_over_msd", 0xd, 0xb, 0xd },
	{ "mis_over_mid", 0xe, 0xd, 0xe },
	{ "two_over_one", 0x3, 0x8, 0x3 },
	{ "three_over_two", 0x7, 0xc, 0x7 },
	{ "same_i", 0x4, 0x4, 0x4 },
	{ "same_md", 0x9, 0x9, 0x9 },
	{ "same_d", 0x1, 0x1, 0x1 },
	{ "same_misd_minus_d", 0xe, 0xe, 0xe },
};

/* A binding sharing pattern p with the query Q; `u' keeps the rest apart. */
static void
tie_tuple(struct sg_tuple *t, unsigned p, unsigned u)
{
	tup(t, p & BM_M ? 1 : 100 + u,
	    p & BM_I ? ip("203.0.113.1") : ip4(198, 51, 100, u),
	    p & BM_S ? ip("203.0.113.2") : ip4(198, 18, 0, u),
	    p & BM_D ? 1 : 100 + u);
}

static void
test_tie(void **state)
{
	const struct tie_case	*tc = *state;
	struct sg_tuple		 q, ta, tb;
	const struct binding	*first[2], *got[2];
	unsigned		 flags[2];

	tup(&q, 1, ip("203.0.113.1"), ip("203.0.113.2"), 1);
	tie_tuple(&ta, tc->a, 1);
	tie_tuple(&tb, tc->b, 2);
	for (int order = 0; order < 2; order++) {
		struct fx		*f = fx_new(64);
		const struct binding	*ba, *bb;

		if (order == 0) {
			ba = learn(f, &ta);
			bb = learn(f, &tb);
			first[order] = ba;
		} else {
			bb = learn(f, &tb);
			ba = learn(f, &ta);
			first[order] = bb;
		}
		flags[order] = match(f, &q, false, T0, &got[order]);
		assert_int_equal(flags[order], tc->want);
		if (tc->a != tc->b) {
			/* The pattern decides, so the binding is fixed. */
			assert_ptr_equal(got[order], tc->want == tc->a ?
			    ba : bb);
		} else {
			/* Same pattern: the older binding, whichever it is. */
			assert_ptr_equal(got[order], first[order]);
			assert_true(got[order]->seq < (got[order] == ba ?
			    bb : ba)->seq);
		}
		/* Stable: asking again gives the same answer. */
		assert_int_equal(match(f, &q, false, T0, NULL), flags[order]);
		fx_free(f);
	}
	assert_int_equal(flags[0], flags[1]);
}

/* ---- gateway MACs ------------------------------------------------------- */

static void
test_gateway_learned(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	struct sg_mac		 g = mac_of(0x60);
	const struct binding	*b9, *got;

	assert_int_equal(f->conf.gateway_mac_ips, 8);
	/* Eight distinct IPs behind one MAC: still a host MAC. */
	for (unsigned k = 1; k <= 8; k++) {
		tup(&t, 0x60, ip4(198, 51, 100, k), ip4(198, 51, 100, k), k);
		learn(f, &t);
	}
	/* More identities on a known IP add no IP. */
	tup(&t, 0x60, ip4(198, 51, 100, 1), ip4(198, 51, 100, 1), 100);
	learn(f, &t);
	assert_false(bind_is_gateway(f->bt, &g, true));
	assert_int_equal(stats(f).gateway_macs, 0);
	/* As a host MAC, m leads to its bindings: case i. */
	tup(&q, 0x60, ip("192.0.2.50"), ip("192.0.2.50"), 999);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_M);

	/* The ninth IP: more than gateway_mac_ips, a gateway MAC. */
	tup(&t, 0x60, ip4(198, 51, 100, 9), ip4(198, 51, 100, 9), 9);
	b9 = learn(f, &t);
	assert_true(bind_is_gateway(f->bt, &g, true));
	assert_false(bind_is_gateway(f->bt, &g, false));
	assert_int_equal(stats(f).gateway_macs, 1);
	/* Never a lead, never evidence of its own. */
	assert_int_equal(match(f, &q, false, T0, NULL), 0);
	/* A message through the same gateway matches m of its binding... */
	tup(&q, 0x60, ip4(198, 51, 100, 3), ip4(198, 51, 100, 3), 3);
	assert_int_equal(match(f, &q, false, T0, NULL), FULLMATCH);
	tup(&q, 0x60, ip4(198, 51, 100, 3), ip4(198, 51, 100, 3), 4);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_M | BM_I | BM_S);
	/* ... one forging that user's IP from another MAC does not (ix). */
	tup(&q, 0x61, ip4(198, 51, 100, 3), ip4(198, 51, 100, 3), 3);
	assert_int_equal(match(f, &q, false, T0, &got), BM_I | BM_S | BM_D);
	assert_non_null(got);
	/* Rule 3: an IP behind a gateway MAC is no other device's. */
	tup(&q, 0x61, ip4(198, 51, 100, 3), ip4(198, 51, 100, 3), 77);
	assert_null(bind_ip_other_device(f->bt, &q, T0));

	/* Losing the ninth IP: a host MAC again. */
	tup(&t, 0x60, ip4(198, 51, 100, 9), ip4(198, 51, 100, 9), 9);
	assert_int_equal(bind_remove(f->bt, &t), 1);
	assert_int_equal(gone(f), 1);
	assert_null(bind_at(f->bt, bind_slot(f->bt, b9)));
	assert_false(bind_is_gateway(f->bt, &g, true));
	assert_int_equal(stats(f).gateway_macs, 0);
	/* One of two identities on an IP going away leaves the IP: one
	 * more IP makes nine again. */
	tup(&t, 0x60, ip4(198, 51, 100, 1), ip4(198, 51, 100, 1), 100);
	assert_int_equal(bind_remove(f->bt, &t), 1);
	assert_false(bind_is_gateway(f->bt, &g, true));
	tup(&t, 0x60, ip4(198, 51, 100, 10), ip4(198, 51, 100, 10), 10);
	learn_until(f, &t, T0 + SEC(10), T0);
	assert_true(bind_is_gateway(f->bt, &g, true));
	/* An expiry swept away loses it too. */
	bind_expire(f->bt, T0 + SEC(20), 64);
	assert_false(bind_is_gateway(f->bt, &g, true));
	/* Other MACs never were gateways. */
	{
		struct sg_mac	 h = mac_of(0x61);

		assert_false(bind_is_gateway(f->bt, &h, true));
	}
}

static void
test_gateway_configured(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	struct sg_mac		 c = mac_of(0x70), h = mac_of(0x71);
	struct sg_conf		 conf2;

	f->conf.gateway_macs[0] = c;
	f->conf.ngateway_macs = 1;
	assert_true(bind_is_gateway(f->bt, &c, true));
	assert_false(bind_is_gateway(f->bt, &c, false));
	assert_false(bind_is_gateway(f->bt, &h, true));
	/* Configured, not learned. */
	assert_int_equal(stats(f).gateway_macs, 0);

	tup(&t, 0x70, ip("198.51.100.1"), ip("198.51.100.1"), 1);
	learn(f, &t);
	tup(&q, 0x70, ip("192.0.2.9"), ip("192.0.2.9"), 9);
	assert_int_equal(match(f, &q, false, T0, NULL), 0);
	tup(&q, 0x71, ip("198.51.100.1"), ip("198.51.100.1"), 2);
	assert_null(bind_ip_other_device(f->bt, &q, T0));
	/* A REGISTER through the gateway is not judged by rule 3. */
	tup(&t, 0x72, ip("198.51.100.2"), ip("198.51.100.2"), 2);
	learn(f, &t);
	tup(&q, 0x70, ip("198.51.100.2"), ip("198.51.100.2"), 3);
	assert_null(bind_ip_other_device(f->bt, &q, T0));

	/* A new configuration applies at once. */
	conf2 = f->conf;
	conf2.ngateway_macs = 0;
	bind_set_conf(f->bt, &conf2);
	assert_false(bind_is_gateway(f->bt, &c, true));
	conf2.gateway_mac_ips = 1;
	tup(&t, 0x70, ip("198.51.100.3"), ip("198.51.100.3"), 3);
	learn(f, &t);
	assert_true(bind_is_gateway(f->bt, &c, true));
	bind_set_conf(f->bt, &f->conf);
}

/* ---- devices, NAT, REGISTER rules 3 and 4 ------------------------------- */

static void
test_ip_other_device(void **state)
{
	static const struct {
		const char	*name;
		unsigned	 mac, id;
		const char	*ip;
		bool		 other;
	} rows[] = {
		{ "another_mac_and_identity", 2, 2, "203.0.113.10", true },
		{ "same_mac_new_identity", 1, 2, "203.0.113.10", false },
		{ "same_identity_new_mac", 2, 1, "203.0.113.10", false },
		{ "another_ip", 2, 2, "203.0.113.11", false },
		{ "no_l2", 0, 2, "203.0.113.10", false },
		{ "ipv6_other", 2, 2, "2001:db8::10", true },
		{ "ipv6_same_mac", 1, 2, "2001:db8::10", false },
		{ "bound_without_l2", 2, 2, "198.51.100.10", false },
	};
	struct fx		*f = *state;
	struct sg_tuple		 t;
	const struct binding	*b4, *b6, *got;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	b4 = learn(f, &t);
	tup(&t, 1, ip("2001:db8::10"), ip("2001:db8::10"), 1);
	b6 = learn(f, &t);
	tup(&t, 0, ip("198.51.100.10"), ip("198.51.100.10"), 1);
	learn(f, &t);
	for (size_t r = 0; r < nitems(rows); r++) {
		tup(&t, rows[r].mac, ip(rows[r].ip), ip(rows[r].ip),
		    rows[r].id);
		got = bind_ip_other_device(f->bt, &t, T0);
		if (!rows[r].other) {
			if (got != NULL)
				fail_msg("%s: unexpected binding",
				    rows[r].name);
			continue;
		}
		if (got == NULL)
			fail_msg("%s: binding not found", rows[r].name);
		assert_ptr_equal(got, t.i.family == SG_AF_INET ? b4 : b6);
	}
	/* Only live bindings count. */
	tup(&t, 3, ip("192.0.2.33"), ip("192.0.2.33"), 3);
	learn_until(f, &t, T0 + SEC(10), T0);
	tup(&t, 4, ip("192.0.2.33"), ip("192.0.2.33"), 4);
	assert_non_null(bind_ip_other_device(f->bt, &t, T0 + SEC(9)));
	assert_null(bind_ip_other_device(f->bt, &t, T0 + SEC(10)));
}

static void
test_device_identities(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t;
	const struct binding	*b;
	bool			 has_d;

	f->conf.identities_per_device = 16;	/* room for ten */
	for (unsigned id = 1; id <= 10; id++) {
		tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), id);
		learn(f, &t);
	}
	/* The same MAC on another IP, and no MAC on the same IP: others. */
	tup(&t, 1, ip("203.0.113.11"), ip("203.0.113.11"), 1);
	learn(f, &t);
	tup(&t, 0, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	learn(f, &t);

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 3);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 10);
	assert_true(has_d);
	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 30);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 10);
	assert_false(has_d);
	b = bind_find_device(f->bt, &t, T0);
	assert_non_null(b);
	assert_true(sg_addr_eq(&b->i, &t.i));
	assert_memory_equal(&b->m, &t.m, sizeof(b->m));
	tup(&t, 1, ip("203.0.113.11"), ip("203.0.113.11"), 30);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 1);
	tup(&t, 0, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 1);
	assert_true(has_d);
	tup(&t, 2, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 0);
	assert_false(has_d);
	assert_null(bind_find_device(f->bt, &t, T0));
	/* Expired identities no longer count. */
	tup(&t, 5, ip("192.0.2.5"), ip("192.0.2.5"), 1);
	learn_until(f, &t, T0 + SEC(5), T0);
	tup(&t, 5, ip("192.0.2.5"), ip("192.0.2.5"), 2);
	learn_until(f, &t, T0 + SEC(50), T0);
	assert_int_equal(bind_device_identities(f->bt, &t, T0 + SEC(4),
	    &has_d), 2);
	assert_int_equal(bind_device_identities(f->bt, &t, T0 + SEC(5),
	    &has_d), 1);
	assert_true(has_d);
}

/* SPEC 4: twenty phones behind one home router are twenty devices. */
static void
test_nat_devices(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t;
	const struct binding	*b[20], *got;
	struct sg_mac		 r = mac_of(0x42);
	bool			 has_d;

	for (unsigned k = 0; k < 20; k++) {
		tup(&t, 0x42, ip("203.0.113.50"), ip4(192, 168, 1, 10 + k),
		    k + 1);
		assert_true(t.nat);
		b[k] = learn(f, &t);
	}
	assert_false(bind_is_gateway(f->bt, &r, true));
	for (unsigned k = 0; k < 20; k++) {
		/* Each phone is its own device with one identity. */
		tup(&t, 0x42, ip("203.0.113.50"), ip4(192, 168, 1, 10 + k),
		    500);
		assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d),
		    1);
		assert_false(has_d);
		assert_ptr_equal(bind_find_device(f->bt, &t, T0), b[k]);
		/* A second line on the same phone: the same device. */
		tup(&t, 0x42, ip("203.0.113.50"), ip4(192, 168, 1, 10 + k),
		    k + 1);
		assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d),
		    1);
		assert_true(has_d);
		assert_ptr_equal(bind_find(f->bt, &t, T0), b[k]);
		assert_int_equal(match(f, &t, false, T0, &got), FULLMATCH);
		assert_ptr_equal(got, b[k]);
	}
	/* A new phone behind the same router: a new device, no conflict. */
	tup(&t, 0x42, ip("203.0.113.50"), ip("192.168.1.99"), 99);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 0);
	assert_null(bind_find_device(f->bt, &t, T0));
	assert_null(bind_ip_other_device(f->bt, &t, T0));
	/* The same private s behind another public address: another one. */
	tup(&t, 0x43, ip("203.0.113.51"), ip("192.168.1.10"), 1);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 0);
	/*
	 * Phone 1's identity from phone 2's SIP-IP: no exact match.  Phone
	 * 1's binding shares m, i, d (1101), phone 2's m, i, s (1110); on
	 * the tie the stronger evidence wins: phone 2, an insider using
	 * another subscriber's identity (vi).
	 */
	tup(&t, 0x42, ip("203.0.113.50"), ip("192.168.1.11"), 1);
	assert_int_equal(match(f, &t, false, T0, &got), BM_M | BM_I | BM_S);
	assert_ptr_equal(got, b[1]);
	/* With no neighbour on that SIP-IP it is a reflection (1101). */
	tup(&t, 0x42, ip("203.0.113.50"), ip("192.168.1.200"), 1);
	assert_int_equal(match(f, &t, false, T0, &got), BM_M | BM_I | BM_D);
	assert_ptr_equal(got, b[0]);
}

/* ---- capacity, removal, expiry ------------------------------------------ */

static void
test_full_then_reuse(void **state)
{
	struct fx		*f = fx_new(16);
	struct sg_tuple		 t[16], x;
	const struct binding	*b[16], *r;
	uint32_t		 slot, gen;
	uint64_t		 seq;
	bool			 used[16] = { false };

	(void)state;
	for (unsigned k = 0; k < 16; k++) {
		tup(&t[k], k + 1, ip4(198, 51, 100, k + 1),
		    ip4(198, 51, 100, k + 1), k + 1);
		b[k] = learn(f, &t[k]);
		slot = bind_slot(f->bt, b[k]);
		assert_true(slot < 16);
		assert_false(used[slot]);
		used[slot] = true;
	}
	seq = b[15]->seq;
	/* Full: refused, and no live binding pays for it. */
	tup(&x, 99, ip("192.0.2.99"), ip("192.0.2.99"), 99);
	r = (const struct binding *)&x;
	assert_int_equal(bind_learn(f->bt, &x, 0, LATER, T0, &r), BIND_FULL);
	assert_null(r);
	assert_int_equal(stats(f).full, 1);
	assert_int_equal(stats(f).live, 16);
	for (unsigned k = 0; k < 16; k++)
		assert_ptr_equal(bind_find(f->bt, &t[k], T0), b[k]);
	assert_null(bind_find(f->bt, &x, T0));
	/* A refresh needs no room. */
	assert_int_equal(bind_learn(f->bt, &t[3], 0, LATER, T0, &r),
	    BIND_REFRESHED);

	/* One freed: its slot comes back with a new generation. */
	slot = bind_slot(f->bt, b[5]);
	gen = b[5]->gen;
	assert_int_equal(bind_remove(f->bt, &t[5]), 1);
	assert_null(bind_at(f->bt, slot));
	assert_int_equal(gone(f), 1);
	r = learn(f, &x);
	assert_int_equal(bind_slot(f->bt, r), slot);
	assert_int_equal(r->gen, gen + 1);
	assert_true(r->seq > seq);
	assert_true(r->dh == DH(99));
	assert_ptr_equal(bind_at(f->bt, slot), r);
	assert_null(bind_find(f->bt, &t[5], T0));

	/* All freed, all reused. */
	for (unsigned k = 0; k < 16; k++)
		if (k != 5)
			assert_int_equal(bind_remove(f->bt, &t[k]), 1);
	assert_int_equal(bind_remove(f->bt, &x), 1);
	assert_int_equal(stats(f).live, 0);
	assert_int_equal(stats(f).removed, 17);
	assert_int_equal(gone(f), 17);
	for (unsigned k = 0; k < 16; k++) {
		assert_null(bind_find(f->bt, &t[k], T0));
		assert_null(bind_at(f->bt, k));
	}
	for (unsigned k = 0; k < 16; k++) {
		tup(&t[k], k + 200, ip4(203, 0, 113, k + 1),
		    ip4(203, 0, 113, k + 1), k + 200);
		b[k] = learn(f, &t[k]);
	}
	assert_int_equal(bind_learn(f->bt, &x, 0, LATER, T0, &r), BIND_FULL);
	for (unsigned k = 0; k < 16; k++) {
		assert_ptr_equal(bind_find(f->bt, &t[k], T0), b[k]);
		assert_true(b[k]->gen >= 1);
	}
	assert_int_equal(stats(f).live, 16);
	fx_free(f);
}

/*
 * Regression (a bug found and fixed): bind_learn() answers BIND_FULL when the table holds only expired
 * bindings the sweep has not reached yet.  No live binding would have to
 * go, yet the proxy's 200 OK is lost (the engine raises "binding refused:
 * table full") and the subscriber's calls are dropped until it registers
 * again.  Expected: an expired row is reclaimed (BIND_NEW).
 */
static void
test_full_of_expired(void **state)
{
	struct fx		*f = fx_new(16);
	struct sg_tuple		 t, x;
	const struct binding	*r;

	(void)state;
	for (unsigned k = 0; k < 16; k++) {
		tup(&t, k + 1, ip4(198, 51, 100, k + 1),
		    ip4(198, 51, 100, k + 1), k + 1);
		learn_until(f, &t, T0 + SEC(10), T0);
	}
	tup(&x, 99, ip("192.0.2.99"), ip("192.0.2.99"), 99);
	assert_int_equal(bind_learn(f->bt, &x, 0, LATER, T0 + SEC(20), &r),
	    BIND_NEW);
	assert_ptr_equal(bind_find(f->bt, &x, T0 + SEC(20)), r);
	fx_free(f);
}

static void
test_remove(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b;
	uint32_t		 slot;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	b = learn(f, &t);
	slot = bind_slot(f->bt, b);
	/* Only the exact F is removed. */
	tup(&q, 2, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_int_equal(bind_remove(f->bt, &q), 0);
	tup(&q, 1, ip("203.0.113.10"), ip("203.0.113.10"), 2);
	assert_int_equal(bind_remove(f->bt, &q), 0);
	assert_int_equal(gone(f), 0);
	/* s is not part of F: a de-registration via another Via counts. */
	q = t;
	q.s = ip("198.51.100.1");
	assert_int_equal(bind_remove(f->bt, &q), 1);
	assert_int_equal(gone(f), 1);
	assert_null(bind_find(f->bt, &t, T0));
	assert_null(bind_at(f->bt, slot));
	assert_int_equal(match(f, &t, false, T0, NULL), 0);
	assert_int_equal(bind_remove(f->bt, &t), 0);
	assert_int_equal(stats(f).removed, 1);
	assert_int_equal(stats(f).live, 0);
	/* An expired binding the sweep has not reached is removed too. */
	learn_until(f, &t, T0 + SEC(1), T0);
	assert_int_equal(bind_remove(f->bt, &t), 1);
	assert_int_equal(gone(f), 2);
	assert_int_equal(stats(f).live, 0);
}

static void
test_remove_identity(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 t;

	/* Identity 1 on three devices, identity 2 on one of them. */
	tup(&t, 1, ip("203.0.113.1"), ip("203.0.113.1"), 1);
	learn(f, &t);
	tup(&t, 2, ip("203.0.113.2"), ip("203.0.113.2"), 1);
	learn(f, &t);
	tup(&t, 0, ip("2001:db8::3"), ip("2001:db8::3"), 1);
	learn(f, &t);
	tup(&t, 1, ip("203.0.113.1"), ip("203.0.113.1"), 2);
	learn(f, &t);
	assert_int_equal(bind_remove_identity(f->bt, DH(1)), 3);
	assert_int_equal(gone(f), 3);
	assert_int_equal(stats(f).live, 1);
	assert_int_equal(stats(f).removed, 3);
	assert_non_null(bind_find(f->bt, &t, T0));
	tup(&t, 2, ip("203.0.113.2"), ip("203.0.113.2"), 1);
	assert_null(bind_find(f->bt, &t, T0));
	assert_int_equal(bind_remove_identity(f->bt, DH(1)), 0);
	assert_int_equal(bind_remove_identity(f->bt, DH(12345)), 0);
	assert_int_equal(bind_remove_identity(f->bt, DH(2)), 1);
	assert_int_equal(stats(f).live, 0);
}

static void
test_expire_sweep(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 t[50];

	/* Slots 0..39 expire early, 40..49 late. */
	for (unsigned k = 0; k < 50; k++) {
		tup(&t[k], k + 1, ip4(198, 51, 100, k + 1),
		    ip4(198, 51, 100, k + 1), k + 1);
		learn_until(f, &t[k], k < 40 ? T0 + SEC(100) : T0 + SEC(1000),
		    T0);
	}
	bind_expire(f->bt, T0 + SEC(200), 0);
	assert_int_equal(stats(f).live, 50);
	/* Not yet due: nothing goes. */
	bind_expire(f->bt, T0 + SEC(99), 64);
	assert_int_equal(stats(f).live, 50);
	assert_int_equal(gone(f), 0);
	/* The sweep resumes where it stopped, `budget' slots a call. */
	bind_expire(f->bt, T0 + SEC(200), 16);
	assert_int_equal(stats(f).expired, 16);
	assert_int_equal(stats(f).live, 34);
	assert_int_equal(gone(f), 16);
	for (int k = 0; k < 16; k++)
		assert_null(bind_at(f->bt, (uint32_t)k));
	bind_expire(f->bt, T0 + SEC(200), 16);
	assert_int_equal(stats(f).expired, 32);
	bind_expire(f->bt, T0 + SEC(200), 16);
	assert_int_equal(stats(f).expired, 40);
	assert_int_equal(stats(f).live, 10);
	for (unsigned k = 0; k < 50; k++) {
		const struct binding *b = bind_find(f->bt, &t[k],
		    T0 + SEC(200));

		if (k < 40)
			assert_null(b);
		else
			assert_non_null(b);
	}
	/* A budget above the capacity is one full turn; no harm. */
	bind_expire(f->bt, T0 + SEC(200), 1000000);
	assert_int_equal(stats(f).live, 10);
	bind_expire(f->bt, T0 + SEC(1000), 64);
	assert_int_equal(stats(f).live, 0);
	assert_int_equal(stats(f).expired, 50);
	assert_int_equal(gone(f), 50);
	assert_int_equal(stats(f).gateway_macs, 0);
}

static void
test_lazy_expiry(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b;
	uint32_t		 slot, gen;
	bool			 has_d;

	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	b = learn_until(f, &t, T0 + SEC(100), T0);
	slot = bind_slot(f->bt, b);
	gen = b->gen;
	assert_ptr_equal(bind_find(f->bt, &t, T0 + SEC(100) - 1), b);
	/* Every lookup treats an expired binding as gone. */
	tup(&q, 2, ip("203.0.113.10"), ip("203.0.113.10"), 2);
	assert_int_equal(match(f, &q, false, T0 + SEC(100), NULL), 0);
	assert_null(bind_ip_other_device(f->bt, &q, T0 + SEC(100)));
	q = t;
	q.dh = DH(2);
	assert_null(bind_find_device(f->bt, &q, T0 + SEC(100)));
	assert_int_equal(bind_device_identities(f->bt, &q, T0 + SEC(100),
	    &has_d), 0);
	/* The exact lookup reclaims it on the spot. */
	assert_null(bind_find(f->bt, &t, T0 + SEC(100)));
	assert_int_equal(stats(f).expired, 1);
	assert_int_equal(stats(f).live, 0);
	assert_int_equal(gone(f), 1);
	assert_null(bind_at(f->bt, slot));
	assert_int_equal(b->gen, gen + 1);
	/* Learned again: a new binding. */
	assert_int_equal(bind_learn(f->bt, &t, 0, LATER, T0 + SEC(101), &b),
	    BIND_NEW);
	assert_true(b->created == T0 + SEC(101));
	/* Refreshing an expired binding is a new one as well. */
	assert_int_equal(bind_learn(f->bt, &t, 0, LATER + 1, LATER + 1, &b),
	    BIND_NEW);
	assert_int_equal(stats(f).expired, 2);
}

static void
test_restore(void **state)
{
	struct fx		*f = *state;
	struct fx		*g = fx_new(16);
	struct sg_tuple		 t[4];
	struct binding		 saved[4];
	char			 d[4][SG_ID_MAX], impi[4][SG_ID_MAX];
	char			 buf[SG_ID_MAX];
	const struct binding	*b;
	uint64_t		 now = T0 + SEC(50);

	tup(&t[0], 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	t[0].impih = IMPIH(1);
	snprintf(t[0].impi, sizeof(t[0].impi), "impi1");
	tup(&t[1], 2, ip("203.0.113.20"), ip("192.168.0.20"), 2);
	tup(&t[2], 0, ip("2001:db8::30"), ip("2001:db8::30"), 3);
	tup(&t[3], 4, ip("203.0.113.40"), ip("203.0.113.40"), 4);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(bind_learn(f->bt, &t[k], CONTACT(k),
		    k == 3 ? T0 + SEC(40) : LATER, T0 + (uint64_t)k, &b),
		    BIND_NEW);
		assert_int_equal(bind_learn(f->bt, &t[k], CONTACT(k),
		    k == 3 ? T0 + SEC(40) : LATER, T0 + SEC(10), &b),
		    BIND_REFRESHED);
		saved[k] = *b;
		snprintf(d[k], SG_ID_MAX, "%s", bind_d(f->bt, b, buf));
		snprintf(impi[k], SG_ID_MAX, "%s", bind_impi(f->bt, b, buf));
	}
	assert_string_equal(impi[0], "impi1");
	for (int k = 0; k < 4; k++) {
		int	 rc = bind_restore(g->bt, &saved[k], d[k], impi[k],
			    now);

		if (k == 3) {
			/* Expired while the daemon was down: skipped. */
			assert_int_equal(rc, 0);
			assert_null(bind_find(g->bt, &t[k], now));
			continue;
		}
		assert_int_equal(rc, 1);
		b = bind_find(g->bt, &t[k], now);
		assert_non_null(b);
		assert_true(b->has_m == saved[k].has_m);
		assert_memory_equal(&b->m, &saved[k].m, sizeof(b->m));
		assert_true(b->nat == saved[k].nat);
		assert_int_equal(b->port, saved[k].port);
		assert_true(sg_addr_eq(&b->i, &saved[k].i));
		assert_true(sg_addr_eq(&b->s, &saved[k].s));
		assert_true(b->dh == saved[k].dh);
		assert_true(b->impih == saved[k].impih);
		assert_true(b->contact_idh == saved[k].contact_idh);
		assert_true(b->created == saved[k].created);
		assert_true(b->refreshed == saved[k].refreshed);
		assert_true(b->expires == saved[k].expires);
		assert_string_equal(bind_d(g->bt, b, buf), d[k]);
		assert_string_equal(bind_impi(g->bt, b, buf), impi[k]);
	}
	assert_true(saved[1].nat);
	assert_int_equal(stats(g).live, 3);
	/* Restoring twice does not duplicate. */
	assert_int_equal(bind_restore(g->bt, &saved[0], d[0], impi[0], now),
	    1);
	assert_int_equal(stats(g).live, 3);
	/* The restored rows are indexed like learned ones. */
	assert_int_equal(match(g, &t[1], false, now, NULL), FULLMATCH);
	/* Full: -1. */
	for (unsigned k = 0; k < 13; k++) {
		struct sg_tuple	 x;

		tup(&x, k + 50, ip4(192, 0, 2, k + 1), ip4(192, 0, 2, k + 1),
		    k + 50);
		learn(g, &x);
	}
	saved[3].expires = LATER;
	assert_int_equal(bind_restore(g->bt, &saved[3], d[3], impi[3], now),
	    -1);
	fx_free(g);
}

/* ---- the grace after expiry --------------------------------------------- */

/*
 * bindings.grace: a binding past its expiry is lapsed.  Only its exact F
 * finds it (the same MAC, IP and identity it had a moment before); every
 * other lookup, quota and label sees it gone; it registers again in
 * place; a full table takes lapsed rows first; a de-registration and the
 * end of the grace remove it.
 */
static void
test_lapsed(void **state)
{
	struct fx		*f = fx_new(4);
	struct sg_tuple		 t, q, u[4];
	const struct binding	*b, *r;
	struct binding		 saved;
	uint32_t		 slot, gen;
	bool			 has_d;
	uint64_t		 exp = T0 + SEC(100), grace = SEC(1800);

	(void)state;
	f->conf.bind_grace = grace;
	tup(&t, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	b = learn_until(f, &t, exp, T0);
	slot = bind_slot(f->bt, b);
	gen = b->gen;
	/* Lapsed: the exact F alone. */
	assert_ptr_equal(bind_find(f->bt, &t, exp + SEC(60)), b);
	assert_true(bind_held(f->bt, b, exp + SEC(60)));
	assert_int_equal(match(f, &t, false, exp + SEC(60), NULL), 0);
	tup(&q, 2, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_null(bind_find(f->bt, &q, exp + SEC(60)));
	assert_int_equal(match(f, &q, false, exp + SEC(60), NULL), 0);
	assert_null(bind_ip_other_device(f->bt, &q, exp + SEC(60)));
	q = t;
	q.dh = DH(2);
	assert_null(bind_find_device(f->bt, &q, exp + SEC(60)));
	assert_int_equal(bind_device_identities(f->bt, &q, exp + SEC(60),
	    &has_d), 0);
	/* The sweep keeps it through the grace. */
	bind_expire(f->bt, exp + grace - 1, 64);
	assert_int_equal(gone(f), 0);
	/* Registering again refreshes it in place: module II's row stays. */
	assert_int_equal(bind_learn(f->bt, &t, 0, exp + SEC(3700),
	    exp + SEC(100), &r), BIND_REFRESHED);
	assert_ptr_equal(r, b);
	assert_int_equal(bind_slot(f->bt, r), slot);
	assert_int_equal(r->gen, gen);
	assert_int_equal(match(f, &t, false, exp + SEC(200), NULL),
	    FULLMATCH);
	/* Past expiry and grace: gone, the exact lookup reclaims it. */
	exp += SEC(3700);
	saved = *b;
	assert_ptr_equal(bind_find(f->bt, &t, exp + grace - 1), b);
	assert_null(bind_find(f->bt, &t, exp + grace));
	assert_int_equal(gone(f), 1);
	assert_null(bind_at(f->bt, slot));
	/* A state file restores a lapsed binding, lapsed; not a dead one. */
	assert_int_equal(bind_restore(f->bt, &saved, t.d, "", exp + grace), 0);
	assert_int_equal(bind_restore(f->bt, &saved, t.d, "",
	    exp + SEC(10)), 1);
	assert_non_null(bind_find(f->bt, &t, exp + SEC(10)));
	/* A de-registration removes a lapsed binding at once. */
	assert_int_equal(bind_remove(f->bt, &t), 1);
	assert_null(bind_find(f->bt, &t, exp + SEC(10)));

	/* A full table: a lapsed row makes room, a live one never does. */
	for (unsigned k = 0; k < 4; k++) {
		tup(&u[k], 10 + k, ip4(198, 51, 100, 10 + k),
		    ip4(198, 51, 100, 10 + k), 10 + k);
		learn_until(f, &u[k], k < 2 ? T0 + SEC(50) : LATER, T0);
	}
	tup(&q, 20, ip4(198, 51, 100, 20), ip4(198, 51, 100, 20), 20);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(10), &r),
	    BIND_FULL);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(60), &r),
	    BIND_NEW);
	assert_int_equal(stats(f).lapsed_reclaimed, 1);
	/* One of the two lapsed rows went, the live ones stay. */
	assert_true((bind_find(f->bt, &u[0], T0 + SEC(60)) == NULL) !=
	    (bind_find(f->bt, &u[1], T0 + SEC(60)) == NULL));
	assert_non_null(bind_find(f->bt, &u[2], T0 + SEC(60)));
	assert_non_null(bind_find(f->bt, &u[3], T0 + SEC(60)));
	tup(&q, 21, ip4(198, 51, 100, 21), ip4(198, 51, 100, 21), 21);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(60), &r),
	    BIND_NEW);
	tup(&q, 22, ip4(198, 51, 100, 22), ip4(198, 51, 100, 22), 22);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(60), &r),
	    BIND_FULL);
	fx_free(f);
}

/*
 * A lapsed row holds no quota; registering again it takes one, as a new
 * binding would.  Else one subscriber's credentials hold any number of
 * live rows: devices_per_identity rows learned and left to lapse, as
 * many more learned (the lapsed ones count for nothing), then the lapsed
 * ones refreshed in place; with a new source MAC a row (F = {m, d, i}),
 * on one LAN the table is his.  identities_per_device the same way.
 */
static void
test_lapsed_quota(void **state)
{
	struct fx		*f = fx_new(64);
	struct sg_tuple		 t[4];
	const struct binding	*b, *rows[8];
	bool			 has_d;
	uint64_t		 exp = T0 + SEC(60), now = T0 + SEC(120);

	(void)state;
	f->conf.bind_grace = SEC(1800);
	f->conf.devices_per_identity = 2;
	f->conf.identities_per_device = 2;
	for (unsigned k = 0; k < 4; k++)
		tup(&t[k], 1 + k, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	learn_until(f, &t[0], exp, T0);
	learn_until(f, &t[1], exp, T0);
	learn_until(f, &t[2], LATER, now);
	learn_until(f, &t[3], LATER, now);
	for (unsigned k = 0; k < 2; k++)
		assert_int_not_equal(bind_learn(f->bt, &t[k], 0, LATER,
		    now + SEC(1), &b), BIND_QUOTA);
	assert_true(bind_identity_rows(f->bt, DH(1), now + SEC(2), rows, 8)
	    <= 2);
	/* identities_per_device: user2 and user3 lapse on device 9, user4
	 * and user5 come, user2 and user3 come back. */
	for (unsigned k = 0; k < 4; k++) {
		tup(&t[k], 9, ip("203.0.113.20"), ip("203.0.113.20"), 2 + k);
		learn_until(f, &t[k], k < 2 ? exp : LATER, k < 2 ? T0 : now);
	}
	for (unsigned k = 0; k < 2; k++)
		bind_learn(f->bt, &t[k], 0, LATER, now + SEC(1), &b);
	assert_true(bind_device_identities(f->bt, &t[0], now + SEC(2),
	    &has_d) <= 2);
	fx_free(f);
}

/*
 * The state file keeps lapsed bindings, which held no quota: a device
 * with identities_per_device live identities and a lapsed one, an
 * identity with devices_per_identity live rows and a lapsed one, are
 * saved so, in slot order.  Restored, the lapsed row must neither evict
 * a live one (the identity's oldest) nor be refused to a NULL binding
 * (bind_restore wrote through bind_slot(NULL): a crash at start-up).
 */
static void
test_lapsed_restore(void **state)
{
	struct fx		*f = fx_new(64), *g;
	struct sg_tuple		 t[3];
	const struct binding	*b;
	struct binding		 saved[3];
	uint64_t		 exp = T0 + SEC(60), now = T0 + SEC(120);

	(void)state;
	f->conf.bind_grace = SEC(1800);
	f->conf.identities_per_device = 2;
	f->conf.devices_per_identity = 2;
	/* Device 1: user1 lapses, user2 and user3 come. */
	for (unsigned k = 0; k < 3; k++) {
		tup(&t[k], 1, ip("203.0.113.10"), ip("203.0.113.10"), 1 + k);
		b = learn_until(f, &t[k], k == 0 ? exp : LATER, k == 0 ? T0 :
		    now);
		saved[2 - k] = *b;
	}
	g = fx_new(64);
	g->conf = f->conf;
	for (unsigned k = 0; k < 3; k++)
		assert_true(bind_restore(g->bt, &saved[k], t[2 - k].d, "",
		    now + SEC(1)) >= 0);
	assert_non_null(bind_find(g->bt, &t[1], now + SEC(2)));
	assert_non_null(bind_find(g->bt, &t[2], now + SEC(2)));
	fx_free(g);
	/* user9: the row at .20 lapses, .21 and .22 come. */
	for (unsigned k = 0; k < 3; k++) {
		tup(&t[k], 20 + k, ip4(203, 0, 113, 20 + k),
		    ip4(203, 0, 113, 20 + k), 9);
		b = learn_until(f, &t[k], k == 0 ? exp : LATER, k == 0 ? T0 :
		    now);
		saved[2 - k] = *b;
	}
	g = fx_new(64);
	g->conf = f->conf;
	for (unsigned k = 0; k < 3; k++)
		assert_true(bind_restore(g->bt, &saved[k], t[2 - k].d, "",
		    now + SEC(1)) >= 0);
	assert_non_null(bind_find(g->bt, &t[1], now + SEC(2)));
	assert_non_null(bind_find(g->bt, &t[2], now + SEC(2)));
	fx_free(g);
	fx_free(f);
}

/*
 * Cost: a full table with nothing to reclaim was swept whole twice for
 * each registration refused (45 ms a refusal in a table of a million,
 * under the worker's lock, as often as the proxy answers a new F with
 * 200).  Until its first row can lapse nothing can be reclaimed: refused
 * at once (not observable here but as the time it takes).  What is seen:
 * the refusal holds no longer than that, a refresh that shortens a
 * row's life is taken into account, and a row removed makes room.
 */
static void
test_full_refusal(void **state)
{
	struct fx		*f = fx_new(4);
	struct sg_tuple		 u[4], q;
	const struct binding	*r;
	uint64_t		 t;

	(void)state;
	f->conf.bind_grace = SEC(1800);
	for (unsigned k = 0; k < 4; k++) {
		tup(&u[k], 10 + k, ip4(198, 51, 100, 10 + k),
		    ip4(198, 51, 100, 10 + k), 10 + k);
		learn_until(f, &u[k], T0 + SEC(100) * (k + 1), T0);
	}
	tup(&q, 20, ip4(198, 51, 100, 20), ip4(198, 51, 100, 20), 20);
	for (t = T0 + SEC(1); t < T0 + SEC(100); t += SEC(10))
		assert_int_equal(bind_learn(f->bt, &q, 0, LATER, t, &r),
		    BIND_FULL);
	/* u[3]'s refresh at +95 s shortens its life to +96 s. */
	assert_int_equal(bind_learn(f->bt, &u[3], 0, T0 + SEC(96),
	    T0 + SEC(95), &r), BIND_REFRESHED);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(97), &r),
	    BIND_NEW);
	assert_null(bind_find(f->bt, &u[3], T0 + SEC(97)));
	/* Full again until u[0] lapses at +100 s. */
	tup(&q, 21, ip4(198, 51, 100, 21), ip4(198, 51, 100, 21), 21);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(98), &r),
	    BIND_FULL);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(100), &r),
	    BIND_NEW);
	/* Full: the next to lapse is u[1], at +200 s.  But a row learned
	 * in a freed slot with a shorter life lapses first. */
	tup(&q, 22, ip4(198, 51, 100, 22), ip4(198, 51, 100, 22), 22);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(101), &r),
	    BIND_FULL);
	assert_int_equal(bind_remove(f->bt, &u[2]), 1);
	tup(&q, 23, ip4(198, 51, 100, 23), ip4(198, 51, 100, 23), 23);
	assert_int_equal(bind_learn(f->bt, &q, 0, T0 + SEC(150),
	    T0 + SEC(101), &r), BIND_NEW);
	tup(&q, 24, ip4(198, 51, 100, 24), ip4(198, 51, 100, 24), 24);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(102), &r),
	    BIND_FULL);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(150), &r),
	    BIND_NEW);
	/* A removal makes room at once. */
	tup(&q, 25, ip4(198, 51, 100, 25), ip4(198, 51, 100, 25), 25);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(151), &r),
	    BIND_FULL);
	assert_int_equal(bind_remove(f->bt, &u[1]), 1);
	assert_int_equal(bind_learn(f->bt, &q, 0, LATER, T0 + SEC(151), &r),
	    BIND_NEW);
	fx_free(f);
}

/* An imported binding waiting for its MAC has no exact F: no grace. */
static void
test_lapsed_import(void **state)
{
	struct fx		*f = fx_new(4);
	struct sg_tuple		 t;

	(void)state;
	f->conf.bind_grace = SEC(1800);
	tup(&t, 0, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_int_equal(bind_import(f->bt, &t, T0 + SEC(100), T0), 1);
	bind_expire(f->bt, T0 + SEC(100), 64);
	assert_int_equal(stats(f).live, 0);
	fx_free(f);
}

/* ---- generations -------------------------------------------------------- */

/*
 * Whatever makes a binding go (removed, de-registered, expired), its
 * slot is freed and the slot's generation moves on; a relink of the same
 * binding (another Via) keeps it.  Module II keys its rows on that, with
 * no call from the binding table.
 */
static void
test_generations(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t[4], v;
	const struct binding	*b;
	uint32_t		 slot[4], gen[4];

	for (unsigned k = 0; k < 4; k++) {
		tup(&t[k], k + 1, ip4(203, 0, 113, k + 1),
		    ip4(203, 0, 113, k + 1), k + 1);
		b = learn_until(f, &t[k], k == 2 ? T0 + SEC(5) : LATER, T0);
		slot[k] = bind_slot(f->bt, b);
		gen[k] = b->gen;
	}
	/* The same binding learned through another Via: same generation. */
	v = t[3];
	v.s = ip4(198, 51, 100, 7);
	assert_int_equal(bind_learn(f->bt, &v, 0, LATER, T0, &b),
	    BIND_REFRESHED);
	assert_int_equal(bind_slot(f->bt, b), slot[3]);
	assert_int_equal(b->gen, gen[3]);
	assert_int_equal(gone(f), 0);
	assert_int_equal(bind_remove(f->bt, &t[0]), 1);
	assert_int_equal(bind_remove_identity(f->bt, DH(2)), 1);
	bind_expire(f->bt, T0 + SEC(6), 64);
	assert_int_equal(gone(f), 3);
	for (unsigned k = 0; k < 3; k++)
		assert_null(bind_at(f->bt, slot[k]));
	/* Reused slots carry a new generation. */
	for (unsigned k = 0; k < 3; k++) {
		tup(&v, 10 + k, ip4(203, 0, 113, 10 + k),
		    ip4(203, 0, 113, 10 + k), 10 + k);
		b = learn(f, &v);
		if (bind_slot(f->bt, b) == slot[k])
			assert_int_not_equal(b->gen, gen[k]);
	}
	assert_ptr_equal(bind_at(f->bt, slot[3]), bind_find(f->bt, &t[3], T0));
	assert_int_equal(stats(f).live, 4);
}

/* ---- no layer 2 --------------------------------------------------------- */

static void
test_no_mac(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 t, q;
	const struct binding	*b;
	struct sg_mac		 z;
	bool			 has_d;

	memset(&z, 0, sizeof(z));
	tup(&t, 0, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	b = learn(f, &t);
	assert_false(b->has_m);
	assert_ptr_equal(bind_find(f->bt, &t, T0), b);
	assert_int_equal(match(f, &t, false, T0, NULL), FULLMATCH);
	/* "none" is not a MAC: a message with one does not match m. */
	tup(&q, 1, ip("203.0.113.10"), ip("203.0.113.10"), 1);
	assert_null(bind_find(f->bt, &q, T0));
	assert_int_equal(match(f, &q, false, T0, NULL), BM_I | BM_S | BM_D);
	assert_false(bind_is_gateway(f->bt, &z, false));
	/* Rule 3 needs host MACs on both sides. */
	tup(&q, 2, ip("203.0.113.10"), ip("203.0.113.10"), 2);
	assert_null(bind_ip_other_device(f->bt, &q, T0));
	tup(&q, 0, ip("203.0.113.10"), ip("203.0.113.10"), 2);
	assert_null(bind_ip_other_device(f->bt, &q, T0));
	assert_int_equal(bind_device_identities(f->bt, &q, T0, &has_d), 1);
	/* Many IPs without MAC make no gateway. */
	for (unsigned k = 1; k <= 20; k++) {
		tup(&t, 0, ip4(198, 51, 100, k), ip4(198, 51, 100, k), k);
		learn(f, &t);
	}
	assert_int_equal(stats(f).gateway_macs, 0);
	assert_false(bind_is_gateway(f->bt, &z, true));
	/* No lead from m: an unknown message without MAC finds nothing. */
	tup(&q, 0, ip("192.0.2.1"), ip("192.0.2.1"), 999);
	assert_int_equal(match(f, &q, false, T0, NULL), 0);
}

/* ---- pathological chains ------------------------------------------------ */

#define CROWD	3000

/*
 * Thousands of bindings share one IP (a carrier NAT, or an attacker's
 * dream): every secondary walk is capped; exact lookups stay exact and
 * nothing crashes.
 */
static void
test_crowd_one_ip(void **state)
{
	struct fx		*f = fx_new(8192);
	struct sg_tuple		 t, q;
	struct sg_addr		 shared = ip("198.51.100.7");
	const struct binding	*got;
	bool			 has_d;

	(void)state;
	for (unsigned k = 0; k < CROWD; k++) {
		tup(&t, 0x1000 + k, shared, shared, k + 1);
		learn(f, &t);
	}
	assert_int_equal(stats(f).live, CROWD);
	for (unsigned k = 0; k < CROWD; k++) {
		tup(&t, 0x1000 + k, shared, shared, k + 1);
		got = bind_find(f->bt, &t, T0);
		assert_non_null(got);
		assert_true(got->dh == DH(k + 1));
		if (k % 97 == 0) {
			assert_int_equal(match(f, &t, false, T0, NULL),
			    FULLMATCH);
			assert_int_equal(bind_device_identities(f->bt, &t, T0,
			    &has_d), 1);
			assert_true(has_d);
		}
	}
	/* A newcomer at that IP: some binding shares i (and s). */
	tup(&q, 0x9999, shared, shared, 99999);
	assert_int_equal(match(f, &q, false, T0, &got), BM_I | BM_S);
	assert_true(sg_addr_eq(&got->i, &shared));
	got = bind_ip_other_device(f->bt, &q, T0);
	assert_non_null(got);
	assert_true(sg_addr_eq(&got->i, &shared));
	/* An identity of the crowd from elsewhere: d found by its index. */
	tup(&q, 0x9999, ip("192.0.2.1"), ip("192.0.2.1"), 1234);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_D);
	for (unsigned k = 0; k < CROWD; k++)
		assert_int_equal(bind_remove_identity(f->bt, DH(k + 1)), 1);
	assert_int_equal(stats(f).live, 0);
	assert_int_equal(gone(f), CROWD);
	fx_free(f);
}

/* The same crowd behind one router MAC (NAT), and on one single device. */
static void
test_crowd_one_device(void **state)
{
	struct fx		*f = fx_new(8192);
	struct sg_tuple		 t, q;
	struct sg_addr		 pub = ip("203.0.113.77");
	struct sg_mac		 r = mac_of(0x77);
	const struct binding	*got;
	bool			 has_d;

	(void)state;
	for (unsigned k = 0; k < CROWD; k++) {
		tup(&t, 0x77, pub, ip4(10, 1 + k / 250, k % 250, 1), k + 1);
		assert_true(t.nat);
		learn(f, &t);
	}
	assert_false(bind_is_gateway(f->bt, &r, true));
	for (unsigned k = 0; k < CROWD; k += 101) {
		tup(&t, 0x77, pub, ip4(10, 1 + k / 250, k % 250, 1), 50000);
		assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d),
		    1);
		got = bind_find_device(f->bt, &t, T0);
		assert_non_null(got);
		assert_true(got->dh == DH(k + 1));
	}
	tup(&q, 0x77, pub, ip("10.200.0.1"), 50000);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_M | BM_I);
	assert_null(bind_ip_other_device(f->bt, &q, T0));
	for (unsigned k = 0; k < CROWD; k++)
		assert_int_equal(bind_remove_identity(f->bt, DH(k + 1)), 1);

	/*
	 * One device (a huge PBX) holding as many identities as the
	 * configuration allows (1024): counted whole; one more is refused
	 * however the REGISTERs were timed (SPEC 3, quota at the answer).
	 */
	f->conf.identities_per_device = 1024;
	for (unsigned k = 0; k < 1024; k++) {
		tup(&t, 0x78, pub, pub, k + 1);
		learn(f, &t);
	}
	tup(&t, 0x78, pub, pub, 7);
	assert_int_equal(bind_device_identities(f->bt, &t, T0, &has_d), 1024);
	assert_true(has_d);
	tup(&t, 0x78, pub, pub, 5000);
	assert_int_equal(bind_learn(f->bt, &t, 0, T0 + SEC(3600), T0, &got),
	    BIND_QUOTA);
	assert_null(got);
	assert_int_equal(stats(f).quota, 1);
	tup(&q, 0x78, pub, pub, 50000);
	assert_int_equal(match(f, &q, false, T0, NULL), BM_M | BM_I | BM_S);
	assert_int_equal(stats(f).live, 1024);
	fx_free(f);
}

/*
 * One identity from ever new addresses (an IPv6 /64, a phone hopping
 * networks): at most devices_per_identity bindings, the least recently
 * refreshed making room, so one subscriber cannot fill the table.
 */
static void
test_devices_per_identity(void **state)
{
	struct fx		*f = fx_new(4096);
	struct sg_tuple		 t;
	const struct binding	*b;

	(void)state;
	f->conf.devices_per_identity = 3;
	for (unsigned k = 0; k < 2000; k++) {
		tup(&t, 0x42, ip4(198, 51, 100 + k / 250, k % 250), none(), 9);
		assert_int_equal(bind_learn(f->bt, &t, 0, T0 + SEC(3600),
		    T0 + k, &b), BIND_NEW);
	}
	assert_int_equal(stats(f).live, 3);
	assert_int_equal(stats(f).quota_replaced, 1997);
	/* The three newest stand. */
	tup(&t, 0x42, ip4(198, 51, 100 + 1999 / 250, 1999 % 250), none(), 9);
	assert_non_null(bind_find(f->bt, &t, T0 + 2000));
	tup(&t, 0x42, ip4(198, 51, 100, 0), none(), 9);
	assert_null(bind_find(f->bt, &t, T0 + 2000));
	fx_free(f);
}

/* ---- default size: memory and the Bloom filter in place ----------------- */

/* ---- the identity texts' pool (idpool.h) ------------------------------- */

/* A table of `cap' slots whose pool holds `bytes' per binding. */
static struct fx *
fx_pool(int cap, int bytes)
{
	struct fx	*f = fx_new(cap);

	bind_destroy(f->bt);
	f->conf.tab_identity_bytes = bytes;
	f->bt = bind_create(&f->conf);
	assert_non_null(f->bt);
	return f;
}

/* Cells a text of len bytes must take, counted here, not by idpool.c. */
static uint32_t
cells_of(size_t len)
{
	if (len == 0)
		return 0;
	if (len <= 27)
		return 1;
	if (len <= 56)
		return 2;
	return (uint32_t)((len + 27) / 28);
}

/* A text of exactly len bytes, distinct for each id. */
static void
text(char *buf, size_t len, unsigned id, char fill)
{
	char	 head[16];
	size_t	 n = (size_t)snprintf(head, sizeof(head), "%u.", id);

	for (size_t k = 0; k < len; k++)
		buf[k] = k < n ? head[k] : (char)(fill + (char)(k % 23));
	buf[len] = '\0';
}

/* A binding of identity id at 192.0.2.x with d and impi as given. */
static void
tup_text(struct sg_tuple *t, unsigned id, const char *d, const char *impi)
{
	tup(t, id, ip4(192, 0, 2, id % 250 + 1), none(), id);
	snprintf(t->d, sizeof(t->d), "%s", d);
	snprintf(t->impi, sizeof(t->impi), "%s", impi);
	t->impih = impi[0] != '\0' ? hash_bytes(impi, strlen(impi)) | 1 : 0;
}

static uint32_t
cells_used(struct fx *f)
{
	return stats(f).id_cells_used;
}

/*
 * Every length a text can have round-trips whole, at the boundaries of
 * one, two and five cells, and takes the cells it should: the texts are
 * not truncated to a cell, and no cell is lost when they go.
 */
static void
test_pool_lengths(void **state)
{
	static const size_t	 len[] = { 1, 26, 27, 28, 55, 56, 57, 84, 85,
				    112, 113, 126, 127 };
	struct fx		*f = fx_pool(64, 256);
	const struct binding	*b[nitems(len)];
	struct sg_tuple		 t[nitems(len)];
	char			 d[SG_ID_MAX], impi[SG_ID_MAX];
	char			 buf[SG_ID_MAX];
	uint32_t		 want = 0;

	(void)state;
	assert_int_equal(stats(f).id_cells, 64 * 256 / 32);
	for (size_t k = 0; k < nitems(len); k++) {
		text(d, len[k], (unsigned)k + 1, 'a');
		text(impi, len[nitems(len) - 1 - k], (unsigned)k + 1, 'A');
		tup_text(&t[k], (unsigned)k + 1, d, impi);
		b[k] = learn(f, &t[k]);
		want += cells_of(len[k]) + cells_of(len[nitems(len) - 1 - k]);
		assert_int_equal(cells_used(f), want);
	}
	for (size_t k = 0; k < nitems(len); k++) {
		text(d, len[k], (unsigned)k + 1, 'a');
		text(impi, len[nitems(len) - 1 - k], (unsigned)k + 1, 'A');
		assert_string_equal(bind_d(f->bt, b[k], buf), d);
		assert_string_equal(bind_impi(f->bt, b[k], buf), impi);
	}
	for (size_t k = 0; k < nitems(len); k++)
		assert_int_equal(bind_remove(f->bt, &t[k]), 1);
	assert_int_equal(cells_used(f), 0);
	fx_free(f);
}

/* An IMPI equal to d, to d's user part, or none, takes no cell. */
static void
test_pool_impi_shared(void **state)
{
	static const struct {
		const char	*d, *impi;
		uint32_t	 cells;
	} row[] = {
		{ "alice@example.com", "alice@example.com", 1 },
		{ "bob@example.com", "bob", 1 },
		{ "carol@example.com", "", 1 },
		{ "dave@example.com", "dave2", 2 },
		{ "eve@example.com", "ev", 2 },		/* a prefix */
		{ "a@b@example.com", "a@b", 2 },	/* not the first @ */
		{ "a@b@example.com", "a", 1 },
		{ "frank", "frank", 1 },		/* no @ at all */
		{ "+12125551234@ims.mnc001.mcc001.3gppnetwork.org",
		  "001010123456789@ims.mnc001.mcc001.3gppnetwork.org", 4 },
	};
	struct fx		*f = fx_pool(64, 64);
	char			 buf[SG_ID_MAX];

	(void)state;
	for (size_t k = 0; k < nitems(row); k++) {
		struct sg_tuple		 t;
		const struct binding	*b;
		uint32_t		 before = cells_used(f);

		tup_text(&t, (unsigned)k + 1, row[k].d, row[k].impi);
		b = learn(f, &t);
		assert_int_equal(cells_used(f) - before, row[k].cells);
		assert_string_equal(bind_d(f->bt, b, buf), row[k].d);
		assert_string_equal(bind_impi(f->bt, b, buf), row[k].impi);
	}
	fx_free(f);
}

/*
 * A pool full refuses the new binding whole (no slot, no cell taken),
 * counted and told apart from a full table; a binding removed or expired
 * gives its cells back for the next one.
 */
static void
test_pool_full(void **state)
{
	/* 16 slots, 16 cells: five 60-character identities, then one of
	 * one cell. */
	struct fx		*f = fx_pool(16, 32);
	struct sg_tuple		 t[8], x;
	const struct binding	*b[8], *r;
	char			 d[SG_ID_MAX], buf[SG_ID_MAX];
	struct bind_stats	 st;

	(void)state;
	assert_int_equal(stats(f).id_cells, 16);
	for (unsigned k = 0; k < 5; k++) {
		text(d, 60, k + 1, 'a');
		tup_text(&t[k], k + 1, d, "");
		b[k] = learn(f, &t[k]);
	}
	assert_int_equal(cells_used(f), 15);
	text(d, 60, 6, 'a');
	tup_text(&t[5], 6, d, "");
	r = (const struct binding *)&x;
	assert_int_equal(bind_learn(f->bt, &t[5], 0, LATER, T0, &r),
	    BIND_POOL_FULL);
	assert_null(r);
	st = stats(f);
	assert_int_equal(st.id_full, 1);
	assert_int_equal(st.full, 0);
	assert_int_equal(st.live, 5);
	assert_int_equal(st.id_cells_used, 15);
	assert_null(bind_find(f->bt, &t[5], T0));
	/* One cell left: a short identity fits, then none. */
	tup_text(&t[6], 7, "g@example.com", "g");
	b[6] = learn(f, &t[6]);
	tup_text(&t[7], 8, "h@example.com", "");
	assert_int_equal(bind_learn(f->bt, &t[7], 0, LATER, T0, &r),
	    BIND_POOL_FULL);
	assert_int_equal(stats(f).id_full, 2);
	/* Removed: its three cells take the refused one. */
	assert_int_equal(bind_remove(f->bt, &t[2]), 1);
	b[5] = learn(f, &t[5]);
	assert_string_equal(bind_d(f->bt, b[5], buf), t[5].d);
	/* Every other text intact through the reuse. */
	for (unsigned k = 0; k < 7; k++) {
		if (k == 2)
			continue;
		assert_string_equal(bind_d(f->bt, b[k], buf), t[k].d);
	}
	assert_string_equal(bind_impi(f->bt, b[6], buf), "g");
	/* Expired, not yet swept: reclaimed for the texts of a new one. */
	assert_int_equal(bind_learn(f->bt, &t[0], 0, T0 + SEC(5), T0, &r),
	    BIND_REFRESHED);
	assert_int_equal(bind_learn(f->bt, &t[7], 0, LATER, T0 + SEC(10),
	    &r), BIND_NEW);
	assert_null(bind_find(f->bt, &t[0], T0 + SEC(10)));
	assert_int_equal(cells_used(f), 14);
	fx_free(f);
}

/*
 * One subscriber with the longest texts, from ever more devices, holds
 * no more than devices_per_identity bindings' cells: the quota, not the
 * pool, bounds what one identity takes from everyone else.
 */
static void
test_pool_one_subscriber(void **state)
{
	struct fx		*f = fx_pool(256, 64);
	char			 d[SG_ID_MAX], impi[SG_ID_MAX];
	uint32_t		 per = cells_of(127) * 2;

	(void)state;
	text(d, 127, 1, 'a');
	text(impi, 127, 1, 'A');
	for (unsigned k = 0; k < 100; k++) {
		struct sg_tuple		 t;
		const struct binding	*b;

		tup_text(&t, 1, d, impi);
		t.m.b[5] = (uint8_t)(k + 1);
		t.i = ip4(198, 51, 100, k + 1);
		assert_int_equal(bind_learn(f->bt, &t, 0, LATER,
		    T0 + (uint64_t)k, &b), BIND_NEW);
	}
	assert_int_equal(stats(f).live, f->conf.devices_per_identity);
	assert_int_equal(cells_used(f),
	    (uint32_t)f->conf.devices_per_identity * per);
	assert_int_equal(stats(f).id_full, 0);
	fx_free(f);
}

/*
 * A refresh naming another IMPI keeps it when it fits (the old one's
 * cells count), else keeps the old text and hash together.
 */
static void
test_pool_refresh_impi(void **state)
{
	struct fx		*f = fx_pool(16, 32);
	struct sg_tuple		 t, u, filler;
	const struct binding	*b;
	char			 buf[SG_ID_MAX], impi[SG_ID_MAX];
	uint64_t		 h;

	(void)state;
	tup_text(&t, 1, "alice@example.com", "alice-impi-one");
	b = learn(f, &t);
	assert_int_equal(cells_used(f), 2);
	/* Same length class: fits in the cells it frees. */
	u = t;
	snprintf(u.impi, sizeof(u.impi), "alice-impi-two");
	u.impih = hash_bytes(u.impi, strlen(u.impi)) | 1;
	assert_int_equal(bind_learn(f->bt, &u, 0, LATER, T0, &b),
	    BIND_REFRESHED);
	assert_string_equal(bind_impi(f->bt, b, buf), "alice-impi-two");
	assert_true(b->impih == u.impih);
	assert_int_equal(cells_used(f), 2);
	/* Back to d's user part: no cell. */
	snprintf(u.impi, sizeof(u.impi), "alice");
	u.impih = hash_bytes(u.impi, strlen(u.impi)) | 1;
	assert_int_equal(bind_learn(f->bt, &u, 0, LATER, T0, &b),
	    BIND_REFRESHED);
	assert_string_equal(bind_impi(f->bt, b, buf), "alice");
	assert_int_equal(cells_used(f), 1);
	/* The pool filled by others: a long IMPI does not fit. */
	for (unsigned k = 2; k <= 16; k++) {
		tup_text(&filler, k, "x@example.com", "");
		learn(f, &filler);
	}
	assert_int_equal(cells_used(f), 16);
	h = b->impih;
	text(impi, 100, 9, 'A');
	snprintf(u.impi, sizeof(u.impi), "%s", impi);
	u.impih = hash_bytes(u.impi, strlen(u.impi)) | 1;
	assert_int_equal(bind_learn(f->bt, &u, 0, LATER, T0 + SEC(1), &b),
	    BIND_REFRESHED);
	assert_string_equal(bind_impi(f->bt, b, buf), "alice");
	assert_true(b->impih == h);
	assert_true(b->refreshed == T0 + SEC(1));
	assert_int_equal(stats(f).id_kept, 1);
	assert_int_equal(cells_used(f), 16);
	fx_free(f);
}

/* Restored texts are whole; a pool without room refuses the restore. */
static void
test_pool_restore(void **state)
{
	struct fx		*f = fx_pool(16, 256), *g = fx_pool(16, 32);
	struct sg_tuple		 t[3];
	struct binding		 saved[3];
	const struct binding	*b;
	char			 d[3][SG_ID_MAX], impi[3][SG_ID_MAX];
	char			 buf[SG_ID_MAX];

	(void)state;
	for (unsigned k = 0; k < 3; k++) {
		text(d[k], 127, k + 1, 'a');
		text(impi[k], 90, k + 1, 'A');
		tup_text(&t[k], k + 1, d[k], impi[k]);
		saved[k] = *learn(f, &t[k]);
	}
	/* 16 cells: one binding of 5 + 4 cells, not two. */
	assert_int_equal(bind_restore(g->bt, &saved[0], d[0], impi[0], T0),
	    1);
	assert_int_equal(bind_restore(g->bt, &saved[1], d[1], impi[1], T0),
	    -1);
	assert_int_equal(stats(g).id_full, 1);
	b = bind_find(g->bt, &t[0], T0);
	assert_non_null(b);
	assert_string_equal(bind_d(g->bt, b, buf), d[0]);
	assert_string_equal(bind_impi(g->bt, b, buf), impi[0]);
	assert_null(bind_find(g->bt, &t[1], T0));
	assert_int_equal(cells_used(g), 9);
	fx_free(f);
	fx_free(g);
}

/* Cells the IMPI takes beside d: none if empty, d, or d's user part. */
static uint32_t
impi_cells(const char *d, const char *impi)
{
	const char	*at = strchr(d, '@');

	if (impi[0] == '\0' || strcmp(impi, d) == 0 || (at != NULL &&
	    strlen(impi) == (size_t)(at - d) &&
	    strncmp(impi, d, strlen(impi)) == 0))
		return 0;
	return cells_of(strlen(impi));
}

/*
 * Churn against a model: random learning, refreshes and removals with
 * random lengths and IMPIs; after every step each live binding shows its
 * own texts, and the cells in use are exactly what the live texts need.
 * A refresh's new IMPI is kept if and only if it fits.
 */
static void
test_pool_churn(void **state)
{
	enum { N = 48 };
	struct fx		*f = fx_pool(64, 64);
	struct {
		bool		 live;
		struct sg_tuple	 t;
		char		 impi[SG_ID_MAX];	/* what it shows */
	} m[N];
	uint32_t		 seed = 12345, cap = stats(f).id_cells;
	unsigned		 refused = 0, kept = 0, replaced = 0;

	(void)state;
	memset(m, 0, sizeof(m));
	for (int step = 0; step < 6000; step++) {
		unsigned		 k;
		const struct binding	*b;
		uint32_t		 want = 0, used = cells_used(f);
		char			 d[SG_ID_MAX], impi[SG_ID_MAX];
		char			 buf[SG_ID_MAX];
		enum bind_res		 rc;
		int			 kind;

		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % N;
		kind = (int)((seed >> 12) % 4);
		if (m[k].live && (seed & 3) == 0) {
			assert_int_equal(bind_remove(f->bt, &m[k].t), 1);
			m[k].live = false;
			goto check;
		}
		if (m[k].live)
			snprintf(d, sizeof(d), "%s", m[k].t.d);
		else {
			text(d, 5 + (seed >> 16) % 123, k + 1, 'a');
			d[2] = '@';
		}
		if (kind == 0)
			text(impi, 1 + (seed >> 20) % 127, k + 1000, 'A');
		else if (kind == 1)
			snprintf(impi, sizeof(impi), "%s", d);
		else if (kind == 2)
			snprintf(impi, sizeof(impi), "%.2s", d);
		else
			impi[0] = '\0';
		if (m[k].live) {
			struct sg_tuple	 t = m[k].t;
			bool		 change, fits;

			snprintf(t.impi, sizeof(t.impi), "%s", impi);
			t.impih = impi[0] != '\0' ?
			    hash_bytes(impi, strlen(impi)) | 1 : 0;
			change = t.impih != 0 && strcmp(impi, m[k].impi) != 0;
			fits = impi_cells(d, impi) <= cap - used +
			    impi_cells(d, m[k].impi);
			assert_int_equal(bind_learn(f->bt, &t, 0, LATER, T0,
			    &b), BIND_REFRESHED);
			if (change && fits) {
				snprintf(m[k].impi, sizeof(m[k].impi), "%s",
				    impi);
				m[k].t = t;
				replaced++;
			} else if (change)
				kept++;
			goto check;
		}
		tup_text(&m[k].t, k + 1, d, impi);
		rc = bind_learn(f->bt, &m[k].t, 0, LATER, T0, &b);
		if (cells_of(strlen(d)) + impi_cells(d, impi) > cap - used) {
			assert_int_equal(rc, BIND_POOL_FULL);
			refused++;
		} else {
			assert_int_equal(rc, BIND_NEW);
			m[k].live = true;
			snprintf(m[k].impi, sizeof(m[k].impi), "%s", impi);
		}
check:
		for (unsigned j = 0; j < N; j++) {
			if (!m[j].live)
				continue;
			b = bind_find(f->bt, &m[j].t, T0);
			assert_non_null(b);
			assert_string_equal(bind_d(f->bt, b, buf), m[j].t.d);
			assert_string_equal(bind_impi(f->bt, b, buf),
			    m[j].impi);
			want += cells_of(strlen(m[j].t.d)) +
			    impi_cells(m[j].t.d, m[j].impi);
		}
		assert_int_equal(cells_used(f), want);
	}
	/* The run went through every path. */
	assert_true(refused > 0 && kept > 0 && replaced > 0);
	assert_int_equal(stats(f).id_full, refused);
	assert_int_equal(stats(f).id_kept, kept);
	fx_free(f);
}

/* mallinfo2() means nothing under a sanitizer's allocator. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_CHECK	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_CHECK	0
#endif
#endif
#if !defined(HEAP_CHECK) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define HEAP_CHECK	1
#endif
#ifndef HEAP_CHECK
#define HEAP_CHECK	0
#endif

#if HEAP_CHECK
static size_t
heap_used(void)
{
	struct mallinfo2	 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}
#endif

static void
test_default_memory(void **state)
{
	struct sg_conf		 conf;
	struct bind_table	*bt;
	struct bind_stats	 st, st0;
	struct sg_tuple		 t;
	const struct binding	*b;
	uint32_t		 cap;
	uint64_t		 probes, falses;
	double			 rate, theory;
	const uint32_t		 absent = 1000000;
#if HEAP_CHECK
	size_t			 heap0, heap;
#endif

	(void)state;
	conf_defaults(&conf);
#if HEAP_CHECK
	heap0 = heap_used();
#endif
	own_bt = bt = bind_create(&conf);
	assert_non_null(bt);
	bind_stats(bt, &st);
#if HEAP_CHECK
	/* The figure stats report is what the heap really gave. */
	heap = heap_used() - heap0;
	print_message("heap growth at bind_create: %zu bytes (stats say "
	    "%zu)\n", heap, st.memory);
	assert_true(st.memory >= heap - heap / 20);
	assert_true(st.memory <= heap + heap / 20);
#endif
	cap = st.capacity;
	assert_int_equal(cap, (uint32_t)conf.tab_bindings);
	assert_int_equal(cap, 65536);
	print_message("default table: %u bindings, %zu bytes, %.1f bytes "
	    "per binding (struct binding %zu, Bloom %d cells x 1 byte)\n",
	    cap, st.memory, (double)st.memory / cap, sizeof(struct binding),
	    conf.bloom_cells);
	/* At least the rows and the Bloom counters are accounted for. */
	assert_true(st.memory >= (size_t)cap * (sizeof(struct binding) +
	    (size_t)conf.bloom_cells));
	assert_true(st.memory <= (size_t)cap * 4096);

	/* Fill it, then probe absent keys: the filter in place. */
	for (uint32_t k = 0; k < cap; k++) {
		tup(&t, 0x100000 + k, ip4(203, k >> 16, (k >> 8) & 255,
		    k & 255), none(), k + 1);
		assert_int_equal(bind_learn(bt, &t, 0, LATER, T0, &b),
		    BIND_NEW);
	}
	bind_stats(bt, &st0);
	assert_int_equal(st0.live, cap);
	assert_int_equal(st0.memory, st.memory);
	for (uint32_t k = 0; k < absent; k++) {
		uint32_t	 j = k % cap;

		/* A known device with an unknown identity. */
		tup(&t, 0x100000 + j, ip4(203, j >> 16, (j >> 8) & 255,
		    j & 255), none(), cap + 1 + k);
		assert_null(bind_find(bt, &t, T0));
	}
	bind_stats(bt, &st);
	probes = st.bloom_probes - st0.bloom_probes;
	falses = st.bloom_false - st0.bloom_false;
	assert_int_equal(probes, absent);
	/* Every hit was a false one: none of these keys is registered. */
	assert_int_equal(st.bloom_hits - st0.bloom_hits, falses);
	rate = (double)falses / absent;
	theory = cbf_fpr_theory(cap * (uint32_t)conf.bloom_cells,
	    conf.bloom_hashes, cap);
	print_message("binding table Bloom filter, full: %" PRIu64 " false "
	    "of %" PRIu64 " probes = %.4f%% (theory %.4f%%)\n", falses,
	    probes, rate * 100, theory * 100);
	assert_true(rate <= 2 * theory);
	assert_true(rate >= theory / 2);
	bind_destroy(bt);
	own_bt = NULL;
}

int
main(void)
{
	static const uint8_t	 key[16] = {
		0x62, 0x69, 0x6e, 0x64, 0x2d, 0x74, 0x65, 0x73,
		0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31,
	};

	if (hash_init() == -1)
		return 1;
	hash_set_key(key);
	treg_fixture(setup64, reap);
	TREG("bind", create);
	TREG("bind", learn_find);
	TREG("bind", refresh);
	TREG("bind", f_distinct);
	TREG("bind", match_contact);
	TREG("bind", match_impi);
	TREG("bind", match_no_s);
	TREG("bind", match_private_s);
	TREG("bind", gateway_learned);
	TREG("bind", gateway_configured);
	TREG("bind", ip_other_device);
	TREG("bind", device_identities);
	TREG("bind", nat_devices);
	treg_fixture(NULL, reap);
	TREG("bind", full_then_reuse);
	TREG("bind", full_of_expired);
	treg_fixture(setup64, reap);
	TREG("bind", remove);
	TREG("bind", remove_identity);
	TREG("bind", expire_sweep);
	TREG("bind", lazy_expiry);
	TREG("bind", restore);
	TREG("bind", generations);
	TREG("bind", lapsed);
	TREG("bind", lapsed_import);
	TREG("bind", lapsed_quota);
	TREG("bind", lapsed_restore);
	TREG("bind", full_refusal);
	TREG("bind", no_mac);
	treg_fixture(NULL, reap);
	TREG("bind", crowd_one_ip);
	TREG("bind", crowd_one_device);
	TREG("bind", devices_per_identity);
	TREG("bind", default_memory);
	TREG("bind", pool_lengths);
	TREG("bind", pool_impi_shared);
	TREG("bind", pool_full);
	TREG("bind", pool_one_subscriber);
	TREG("bind", pool_refresh_impi);
	TREG("bind", pool_restore);
	TREG("bind", pool_churn);
	TREG_ROWS("pattern", test_pattern, patterns);
	TREG_ROWS("tie", test_tie, ties);
	return treg_run("bind");
}
