/*
 * test_spoof.c: REGISTER rule 2 (SPEC 4), the memory of digest (nonce,
 * response) pairs in spoof.c, against an attacker who tries to flush it:
 * floods of credentialed REGISTERs from forged sources larger than the
 * table, before and after the victim's 2xx; one host that cannot spoof;
 * an insider who gets 2xx answers for its own account at forged
 * addresses.  Tuples and messages are built directly (module I alone),
 * spoof_confirm() stands in for the engine on the proxy's 2xx.
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
#include "hash.h"
#include "sipguard.h"
#include "sipmsg.h"
#include "spoof.h"
#include "testlib.h"

#define T0		SEC(1700000000)
#define MS(x)		((uint64_t)(x) * 1000000ULL)

/* Identities and pairs: arbitrary, nonzero, distinct. */
#define DH(id)		(0xd15c000000000000ULL | (uint64_t)(id))
#define IMPIH(id)	(0x1a91000000000000ULL | (uint64_t)(id))
#define PAIR(n)		(0xa07c000000000000ULL | (uint64_t)(n))

#define ALICE		1
#define MALLORY		2
#define VICTIM_PAIR	PAIR(0xffffffff)

struct fx {
	struct sg_conf		 conf;
	struct bind_table	*bt;
	struct spoof		*sp;
	struct sipm		 msg;
};

static int
setup_cap(void **state, int cap)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	conf_defaults(&f->conf);
	f->conf.tab_nonces = cap;
	f->bt = bind_create(&f->conf);
	f->sp = spoof_create(&f->conf);
	assert_non_null(f->bt);
	assert_non_null(f->sp);
	*state = f;
	return 0;
}

static int
setup_small(void **state)
{
	return setup_cap(state, 1024);
}

/* The shipped default, tables.nonces = 65536. */
static int
setup_default(void **state)
{
	struct sg_conf	 c;

	conf_defaults(&c);
	return setup_cap(state, c.tab_nonces);
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	if (f != NULL) {
		spoof_destroy(f->sp);
		bind_destroy(f->bt);
		free(f);
	}
	return 0;
}

static struct sg_addr
ip4(uint32_t v)
{
	char		 buf[32];
	struct sg_addr	 a;

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff,
	    (v >> 8) & 0xff, v & 0xff);
	assert_int_equal(sg_addr_parse(buf, &a), 0);
	return a;
}

/* A REGISTER's E: its own host MAC, source = Via, identity `id'. */
static void
tup(struct sg_tuple *t, uint64_t mac, uint32_t addr, unsigned id)
{
	memset(t, 0, sizeof(*t));
	t->has_m = true;
	t->m.b[0] = 0x02;
	for (int k = 1; k < 6; k++)
		t->m.b[k] = (uint8_t)(mac >> (8 * (5 - k)));
	t->i = ip4(addr);
	t->s = t->i;
	t->sport = 5060;
	t->a = SIPM_REGISTER;
	t->dh = DH(id);
	t->impih = IMPIH(id);
	snprintf(t->d, sizeof(t->d), "user%u@example.com", id);
}

/* Module I's verdict on a REGISTER carrying `pair'. */
static enum sg_reason
reg(struct fx *f, const struct sg_tuple *t, uint64_t pair, uint64_t now)
{
	struct spoof_result	 r;

	memset(&f->msg, 0, sizeof(f->msg));
	f->msg.request = true;
	f->msg.method = SIPM_REGISTER;
	f->msg.has_auth = true;
	f->msg.auth_h = pair;
	f->msg.auth_has_response = true;
	spoof_register(f->sp, f->bt, t, &f->msg, now, &r);
	assert_int_equal(r.verdict == SG_ACCEPT, r.reason != SG_R_REPLAY);
	return r.reason;
}

static void
alice(struct sg_tuple *t)
{
	tup(t, 0x0a11ce, 0xc000020a, ALICE);		/* 192.0.2.10 */
}

static void
eve(struct sg_tuple *t)
{
	tup(t, 0x0e0e0e, 0xcb007142, ALICE);		/* 203.0.113.66 */
}

/*
 * `n' credentialed REGISTERs from forged sources, each new (address, MAC,
 * identity, fresh pair), spread evenly over `span' from `from'.  None is
 * a replay; returns how many were accepted.
 */
static uint32_t
spoofed_flood(struct fx *f, uint32_t n, uint64_t from, uint64_t span)
{
	struct sg_tuple	 t;
	uint32_t	 ok = 0;

	for (uint32_t k = 0; k < n; k++) {
		tup(&t, rng(), 0x0a000000u + k, 1000 + k);	/* 10/8 */
		if (reg(f, &t, PAIR(k), from + span / n * k) != SG_R_REPLAY)
			ok++;
	}
	return ok;
}

/* ---- the rule itself ----------------------------------------------------- */

static void
test_replay_other_address(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 a, e;

	alice(&a);
	eve(&e);
	assert_int_equal(reg(f, &a, VICTIM_PAIR, T0), SG_R_CASE_X);
	/* A retransmission, or the same credentials again: her own. */
	assert_int_equal(reg(f, &a, VICTIM_PAIR, T0 + MS(500)), SG_R_CASE_X);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(1)), SG_R_REPLAY);
	/* Answered 200: still hers, still a replay from eve. */
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0 + SEC(1));
	assert_int_equal(reg(f, &a, VICTIM_PAIR, T0 + SEC(2)), SG_R_CASE_X);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(2)), SG_R_REPLAY);
}

/* The window is register.replay_window from the first sight, 2xx or not. */
static void
test_window(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 a, e;
	uint64_t	 w = f->conf.replay_window;

	alice(&a);
	eve(&e);
	reg(f, &a, VICTIM_PAIR, T0);
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0 + MS(20));
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + w - 1), SG_R_REPLAY);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + w), SG_R_CASE_X);
}

/* A 2xx to a replay let through (detect mode) keeps the first owner. */
static void
test_confirm_keeps_first_owner(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 a, e;

	alice(&a);
	eve(&e);
	reg(f, &a, VICTIM_PAIR, T0);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(1)), SG_R_REPLAY);
	spoof_confirm(f->sp, VICTIM_PAIR, &e, T0 + SEC(1));
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(2)), SG_R_REPLAY);
	assert_int_equal(reg(f, &a, VICTIM_PAIR, T0 + SEC(2)), SG_R_CASE_X);
}

/* ---- flushing it --------------------------------------------------------- */

/*
 * Issue 9: alice registers (200), then forged REGISTERs with fresh
 * credentials, four times the table, within a minute; eve replays
 * alice's credentials inside the window: still a replay.
 */
static void
test_flood_after_confirm(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 a, e;
	struct spoof_stats	 st;
	uint32_t		 n = 4 * (uint32_t)f->conf.tab_nonces;

	alice(&a);
	eve(&e);
	rng_seed(9);
	assert_int_equal(reg(f, &a, VICTIM_PAIR, T0), SG_R_CASE_X);
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0 + MS(5));
	assert_int_equal(spoofed_flood(f, n, T0 + SEC(1), SEC(60)), n);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(62)), SG_R_REPLAY);

	spoof_stats(f->sp, &st);
	assert_int_equal(st.capacity, f->conf.tab_nonces);
	assert_true(st.nonces <= st.capacity);
	assert_int_equal(st.confirmed, 1);
	assert_int_equal(st.evicted_confirmed, 0);
	/* The flood only recycled the unconfirmed tier. */
	assert_int_equal(st.evicted, n - st.unconfirmed_cap);
	print_message("flood of %u forged REGISTERs, table %u (%u "
	    "unconfirmed): %llu pushed out, victim's pair kept\n", n,
	    st.capacity, st.unconfirmed_cap, (unsigned long long)st.evicted);
}

static void
test_flood_after_confirm_default(void **state)
{
	test_flood_after_confirm(state);
}

/*
 * The race: the flood pushes alice's pair out of the unconfirmed tier
 * before the proxy's 200 comes back; the 200 brings it back, protected.
 */
static void
test_flood_before_confirm(void **state)
{
	struct fx	*f = *state;
	struct sg_tuple	 a, e;
	uint32_t	 n = 4 * (uint32_t)f->conf.tab_nonces;

	alice(&a);
	eve(&e);
	rng_seed(10);
	reg(f, &a, VICTIM_PAIR, T0);
	assert_int_equal(spoofed_flood(f, n, T0 + MS(1), MS(100)), n);
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0 + MS(200));
	assert_int_equal(spoofed_flood(f, n, T0 + SEC(1), SEC(10)), n);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(12)), SG_R_REPLAY);
}

/*
 * A host that cannot forge its address (a pinned host MAC, TCP) sends
 * fresh credentials without end: it recycles its own quota, and even an
 * unconfirmed pair of alice's stays.
 */
static void
test_one_source_recycles_its_own(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 a, e, m;
	struct spoof_stats	 st;
	uint32_t		 n = 10 * (uint32_t)f->conf.tab_nonces;

	alice(&a);
	eve(&e);
	tup(&m, 0x0bad, 0xc6336401, MALLORY);		/* 198.51.100.1 */
	reg(f, &a, VICTIM_PAIR, T0);
	for (uint32_t k = 0; k < n; k++)
		assert_int_equal(reg(f, &m, PAIR(k), T0 + SEC(1) + k),
		    SG_R_CASE_X);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(2)), SG_R_REPLAY);
	spoof_stats(f->sp, &st);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.nonces, 1 + 8);
	assert_int_equal(st.quota_replaced, n - 8);
}

/*
 * An insider with a password gets 2xx answers for fresh pairs of its own
 * account at forged addresses (its nonce, new cnonces): the username's
 * quota holds it, whatever the addresses.
 */
static void
test_insider_confirmed_flood(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 a, e, m;
	struct spoof_stats	 st;
	uint32_t		 n = 4 * (uint32_t)f->conf.tab_nonces;

	alice(&a);
	eve(&e);
	rng_seed(11);
	reg(f, &a, VICTIM_PAIR, T0);
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0 + MS(5));
	for (uint32_t k = 0; k < n; k++) {
		uint64_t	 now = T0 + SEC(1) + MS(1) * k;

		tup(&m, rng(), 0x0a000000u + k, MALLORY);
		assert_int_equal(reg(f, &m, PAIR(k), now), SG_R_CASE_X);
		spoof_confirm(f->sp, PAIR(k), &m, now + MS(1));
	}
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(300)),
	    SG_R_REPLAY);
	spoof_stats(f->sp, &st);
	assert_int_equal(st.evicted_confirmed, 0);
	assert_int_equal(st.confirmed, 1 + 8);
}

/*
 * More confirmed registrations than the confirmed tier holds, from
 * distinct accounts within the window (the table is too small for the
 * population): the oldest goes, counted.  The documented limit.
 */
static void
test_confirmed_tier_full(void **state)
{
	struct fx		*f = *state;
	struct sg_tuple		 a, e, u;
	struct spoof_stats	 st;
	uint32_t		 n;

	alice(&a);
	eve(&e);
	spoof_stats(f->sp, &st);
	n = st.confirmed_cap;
	reg(f, &a, VICTIM_PAIR, T0);
	spoof_confirm(f->sp, VICTIM_PAIR, &a, T0);
	for (uint32_t k = 0; k < n - 1; k++) {
		tup(&u, 0x100000 + k, 0x0a000000u + k, 1000 + k);
		reg(f, &u, PAIR(k), T0 + SEC(1) + k);
		spoof_confirm(f->sp, PAIR(k), &u, T0 + SEC(1) + k);
	}
	spoof_stats(f->sp, &st);
	assert_int_equal(st.confirmed, n);
	assert_int_equal(st.evicted_confirmed, 0);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(2)), SG_R_REPLAY);
	tup(&u, 0x1fffff, 0x0b000000u, 999999);
	reg(f, &u, PAIR(n), T0 + SEC(3));
	spoof_confirm(f->sp, PAIR(n), &u, T0 + SEC(3));
	spoof_stats(f->sp, &st);
	assert_int_equal(st.evicted_confirmed, 1);
	assert_int_equal(reg(f, &e, VICTIM_PAIR, T0 + SEC(4)), SG_R_CASE_X);
}

/* Expired pairs make room without counting as evictions. */
static void
test_expired_make_room(void **state)
{
	struct fx		*f = *state;
	struct spoof_stats	 st;
	uint32_t		 n = 2 * (uint32_t)f->conf.tab_nonces;
	uint64_t		 later = T0 + f->conf.replay_window + SEC(1);

	/* Two floods of the same pairs from the same sources. */
	spoofed_flood(f, n / 2, T0, SEC(1));
	spoof_stats(f->sp, &st);
	assert_int_equal(st.nonces, st.unconfirmed_cap);
	assert_int_equal(st.evicted, n / 2 - st.unconfirmed_cap);
	assert_int_equal(st.expired, 0);
	spoofed_flood(f, n / 2, later, SEC(1));
	spoof_stats(f->sp, &st);
	assert_int_equal(st.nonces, st.unconfirmed_cap);
	assert_int_equal(st.evicted, 2 * (n / 2 - st.unconfirmed_cap));
	assert_int_equal(st.expired, st.unconfirmed_cap);
}

int
main(void)
{
	static const uint8_t	 key[16] = {
		0x73, 0x70, 0x6f, 0x6f, 0x66, 0x2d, 0x74, 0x65,
		0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x31,
	};

	if (hash_init() == -1)
		return 1;
	hash_set_key(key);
	treg_fixture(setup_small, teardown);
	TREG("spoof", replay_other_address);
	TREG("spoof", window);
	TREG("spoof", confirm_keeps_first_owner);
	TREG("spoof", flood_after_confirm);
	treg_fixture(setup_default, teardown);
	TREG("spoof", flood_after_confirm_default);
	treg_fixture(setup_small, teardown);
	TREG("spoof", flood_before_confirm);
	TREG("spoof", one_source_recycles_its_own);
	TREG("spoof", insider_confirmed_flood);
	TREG("spoof", confirmed_tier_full);
	TREG("spoof", expired_make_room);
	return treg_run("spoof");
}
