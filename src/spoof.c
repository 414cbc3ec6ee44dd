/*
 * spoof.c: module I.  The accept decision for anything but a REGISTER is
 * one exact lookup (K_i = K_c, case vii); everything else is labelled
 * from the best partial match and dropped.  A REGISTER is accepted
 * unless one of the four rules of SPEC 4 holds; trust itself comes only
 * later, from the proxy's 200 OK.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"
#include "spoof.h"

/*
 * Rule 2's memory: the (nonce, response) pairs seen in REGISTERs, each
 * with the address it first came from, for register.replay_window.
 *
 * SPEC 1: no table an attacker can fill or flush may switch a protection
 * off.  A single FIFO was flushable: every credentialed REGISTER inserted
 * before module II, so tables.nonces spoofed REGISTERs with made-up nonces
 * (distinct sources, nothing to rate-limit) pushed a victim's pair out
 * well inside the window, and its replay was then accepted.  Per-source
 * quotas alone do not help, since every spoofed source is new; refusing
 * new pairs when full turns the flush into a fill.  What an attacker
 * cannot forge is the proxy's 2xx: it needs the password of the digest
 * username.  So the table has two tiers in one fixed array:
 *
 *  confirmed    pairs whose REGISTER the proxy answered with a 2xx
 *               (spoof_confirm(), from the engine).  Only age removes
 *               them, except that one digest username (the To identity
 *               when there is none) holds at most QUOTA_CONFIRMED: its
 *               next pair replaces its own oldest.  Keyed by username,
 *               not address: an insider may get 2xx answers at forged
 *               addresses (its own nonce, fresh cnonce), never for
 *               another's username.  To push a victim's pair out one
 *               needs 2xx answers for cap_confirmed / QUOTA_CONFIRMED
 *               accounts within the window; only then does the oldest
 *               confirmed pair go (counted: evicted_confirmed).
 *  unconfirmed  everything else, as seen: at most cap / 4 entries, FIFO,
 *               and one source (m, i) holds at most QUOTA_UNCONFIRMED, so
 *               a host that cannot spoof only recycles its own.  Spoofed
 *               sources can flush this tier, and may: a pair the proxy
 *               refused is worthless to replay, and a pair on its way to
 *               a 2xx is inserted afresh into the confirmed tier by
 *               spoof_confirm() if it was pushed out meanwhile.
 *
 * Lookups see both tiers.  Every operation is O(1) expected: a keyed hash
 * index by pair, one by owner (for the quotas: a chain holds at most the
 * quota plus the bucket's load), a FIFO list per tier, a free list; all
 * allocated in spoof_create().
 */
/*
 * 8 pairs per username: a few devices sharing an account, each
 * re-registering within the window.  An older pair of the same account
 * goes first, after the proxy's own nonce lifetime (Kamailio's
 * nonce_expire: 30 s) has long made it worthless to replay.
 */
#define QUOTA_CONFIRMED		8	/* pairs per digest username */
#define QUOTA_UNCONFIRMED	8	/* pairs per source (m, i) */
#define OWNER_SOURCE		0x5e11ce0f5042ceULL	/* owner key tags */
#define OWNER_USER		0xa11ce0f5ec4e7ULL

enum { TIER_U, TIER_C, TIER__COUNT };

struct nonce_row {
	uint64_t	 key;		/* auth_h */
	uint64_t	 owner;		/* quota key, tagged by tier */
	uint64_t	 expires;
	struct sg_mac	 m;
	bool		 has_m;
	uint8_t		 tier;
	struct sg_addr	 i;
};

struct spoof {
	const struct sg_conf *conf;
	struct nonce_row *row;
	struct hidx	 by_key, by_owner;
	struct dlist	 order[TIER__COUNT];	/* oldest first */
	struct dlist	 free;
	uint32_t	 cap, tcap[TIER__COUNT];
	uint64_t	 evicted[TIER__COUNT], quota[TIER__COUNT];
	uint64_t	 expired, confirmed;
};

struct spoof *
spoof_create(const struct sg_conf *conf)
{
	struct spoof	*sp;
	uint32_t	 cap = (uint32_t)conf->tab_nonces;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->conf = conf;
	sp->cap = cap;
	sp->tcap[TIER_U] = cap / 4 > 0 ? cap / 4 : 1;
	sp->tcap[TIER_C] = cap - sp->tcap[TIER_U];
	sp->row = sg_table_alloc(cap, sizeof(*sp->row));
	if (sp->row == NULL || hidx_init(&sp->by_key, cap) == -1 ||
	    hidx_init(&sp->by_owner, cap) == -1 ||
	    dlist_init(&sp->order[TIER_U], cap) == -1 ||
	    dlist_init(&sp->order[TIER_C], cap) == -1 ||
	    dlist_init(&sp->free, cap) == -1) {
		spoof_destroy(sp);
		return NULL;
	}
	dlist_fill(&sp->free, cap);
	return sp;
}

void
spoof_destroy(struct spoof *sp)
{
	if (sp == NULL)
		return;
	hidx_fini(&sp->by_key);
	hidx_fini(&sp->by_owner);
	dlist_fini(&sp->order[TIER_U]);
	dlist_fini(&sp->order[TIER_C]);
	dlist_fini(&sp->free);
	free(sp->row);
	free(sp);
}

/* SPEC 4 table: flags are m i s d = 8 4 2 1. */
enum sg_reason
spoof_case(unsigned f)
{
	switch (f) {
	case 0xf:
		return SG_R_CASE_VII;
	case 0x0:
		return SG_R_CASE_B;
	case 0x8:
		return SG_R_CASE_I;
	case 0x9:
		return SG_R_CASE_II;
	case 0xa:
		return SG_R_CASE_IV;
	case 0xc:
		return SG_R_CASE_V;
	case 0xe:
		return SG_R_CASE_VI;
	case 0x4:
		return SG_R_CASE_VIII;
	case 0x7:
		return SG_R_CASE_IX;
	case 0x2:
		return SG_R_CASE_XI;
	case 0x1:
		return SG_R_MASQUERADE;
	case 0xd:
		return SG_R_REFLECTION;
	default:
		return SG_R_SPOOF;
	}
}

bool
spoof_intra_ok(const struct sg_conf *conf, const struct sg_tuple *t)
{
	if (conf->nat == NAT_OFF)
		return true;
	if (sg_addr_eq(&t->s, &t->i))
		return true;
	/* tolerant: a private, CGNAT or ULA Via behind a public source. */
	return conf->nat == NAT_TOLERANT && t->nat;
}

void
spoof_check(struct spoof *sp, struct bind_table *bt, const struct sg_tuple *t,
    const struct sipm *msg, uint64_t now, struct spoof_result *r)
{
	const struct binding	*b;
	bool			 response = !msg->request;

	(void)sp;
	memset(r, 0, sizeof(*r));
	/* The common legitimate case: one Bloom probe, one slot. */
	if ((b = bind_find(bt, t, now)) != NULL) {
		r->ec.b = b;
		r->ec.flags = BM_M | BM_I | BM_D;
		if (t->s.family == SG_AF_NONE || sg_addr_eq(&b->s, &t->s))
			r->ec.flags |= BM_S;
		if (t->impih != 0 && b->impih != 0 && t->impih != b->impih)
			r->ec.flags &= ~BM_D;
		if (r->ec.flags == 0xf) {
			r->verdict = SG_ACCEPT;
			r->reason = SG_R_CASE_VII;
			r->lapsed = b->expires <= now;
			return;
		}
	}
	/*
	 * An imported binding (the proxy's own registrations, MAC unknown):
	 * the first message from its address carrying its identity gives
	 * it this MAC and is accepted as vii; after that the MAC is fixed
	 * and another one is ix, as for any binding.
	 */
	if ((b = bind_pin(bt, t, now)) != NULL) {
		r->ec.b = b;
		r->ec.flags = 0xf;
		r->pinned = true;
		r->verdict = SG_ACCEPT;
		r->reason = SG_R_CASE_VII;
		return;
	}
	/*
	 * RFC 3323 privacy: a caller that withholds its identity sends
	 * From: anonymous@anonymous.invalid.  Its device is the evidence.
	 */
	if (msg->from_anonymous && !response &&
	    (b = bind_find_device(bt, t, now)) != NULL) {
		r->ec.b = b;
		r->ec.flags = 0xf;
		r->verdict = SG_ACCEPT;
		r->reason = SG_R_CASE_VII;
		return;
	}
	bind_match(bt, t, response, now, &r->ec);
	r->reason = spoof_case(r->ec.flags);
	r->verdict = r->reason == SG_R_CASE_VII ? SG_ACCEPT : SG_DROP;
}

/*
 * A REGISTER accepted: which mobility case of the paper it is.  "The same
 * device" is the device of SPEC 4 ((m, i), or (m, i, s) behind NAT), not
 * a shared MAC: twelve users behind one router are not one UE.
 */
static enum sg_reason
register_case(unsigned f, int on_device, bool has_d)
{
	if (has_d)
		return SG_R_CASE_VII;		/* re-registration */
	if ((f & BM_D) && (f & BM_M))
		return SG_R_CASE_II;		/* same UE, new address */
	if (f & BM_D)
		return SG_R_CASE_IX;		/* subscriber on a new UE */
	if (on_device > 0)
		return SG_R_CASE_III;		/* same UE, new subscriber */
	return SG_R_CASE_X;			/* first registration */
}

/* ---- rule 2's memory: the two tiers ------------------------------------- */

static void
nonce_del(struct spoof *sp, uint32_t s)
{
	struct nonce_row	*n = &sp->row[s];

	hidx_del(&sp->by_key, s, n->key);
	hidx_del(&sp->by_owner, s, n->owner);
	dlist_del(&sp->order[n->tier], s);
	dlist_push_tail(&sp->free, s);
}

/* The live entry for `key', or HNIL; an expired one is removed. */
static uint32_t
nonce_find(struct spoof *sp, uint64_t key, uint64_t now)
{
	for (uint32_t s = hidx_first(&sp->by_key, key); s != HNIL;
	    s = hidx_next(&sp->by_key, s)) {
		if (sp->row[s].key != key)
			continue;
		if (sp->row[s].expires <= now) {
			nonce_del(sp, s);
			sp->expired++;
			return HNIL;
		}
		return s;
	}
	return HNIL;
}

static bool
same_source(const struct nonce_row *n, const struct sg_tuple *t)
{
	return sg_addr_eq(&n->i, &t->i) && n->has_m == t->has_m &&
	    (!t->has_m || memcmp(&n->m, &t->m, sizeof(n->m)) == 0);
}

/* Quota keys: a source (m, i) in the unconfirmed tier, a username above. */
static uint64_t
owner_source(const struct sg_tuple *t)
{
	struct {
		uint8_t		 m[6];
		uint8_t		 has_m, pad;
		struct sg_addr	 i;
	} k;

	memset(&k, 0, sizeof(k));
	if (t->has_m)
		memcpy(k.m, t->m.b, sizeof(k.m));
	k.has_m = t->has_m;
	k.i = t->i;
	return hash_mix(hash_bytes(&k, sizeof(k)), OWNER_SOURCE);
}

static uint64_t
owner_user(const struct sg_tuple *t)
{
	return hash_mix(t->impih != 0 ? t->impih : t->dh, OWNER_USER);
}

/*
 * Free a slot for a new entry of `owner' in `tier': first the owner's own
 * oldest if it is at its quota, else the tier's oldest if the tier is
 * full, else a free slot (there is one: the tiers' caps add up to cap).
 */
static void
nonce_make_room(struct spoof *sp, int tier, uint64_t owner, uint64_t now)
{
	uint32_t	 quota = tier == TIER_C ? QUOTA_CONFIRMED :
			    QUOTA_UNCONFIRMED;
	uint32_t	 s, next, own = 0, oldest = HNIL;
	struct nonce_row *n;

	for (s = hidx_first(&sp->by_owner, owner); s != HNIL; s = next) {
		next = hidx_next(&sp->by_owner, s);
		n = &sp->row[s];
		if (n->owner != owner)
			continue;
		if (n->expires <= now) {
			nonce_del(sp, s);
			sp->expired++;
			continue;
		}
		own++;
		if (oldest == HNIL || n->expires < sp->row[oldest].expires)
			oldest = s;
	}
	if (own >= quota) {
		nonce_del(sp, oldest);
		sp->quota[tier]++;
		return;
	}
	if (sp->order[tier].count < sp->tcap[tier])
		return;
	s = sp->order[tier].head;
	if (sp->row[s].expires <= now)
		sp->expired++;
	else
		sp->evicted[tier]++;
	nonce_del(sp, s);
}

static void
nonce_insert(struct spoof *sp, int tier, uint64_t key, uint64_t owner,
    const struct sg_mac *m, bool has_m, const struct sg_addr *i,
    uint64_t expires, uint64_t now)
{
	struct nonce_row	*n;
	uint32_t		 s;

	nonce_make_room(sp, tier, owner, now);
	s = dlist_pop_head(&sp->free);
	n = &sp->row[s];
	memset(n, 0, sizeof(*n));
	n->key = key;
	n->owner = owner;
	n->expires = expires;
	n->m = *m;
	n->has_m = has_m;
	n->tier = (uint8_t)tier;
	n->i = *i;
	hidx_add(&sp->by_key, s, key);
	hidx_add(&sp->by_owner, s, owner);
	dlist_push_tail(&sp->order[tier], s);
}

/* Rule 2: has this (nonce, response) come from another address? */
static bool
replayed(struct spoof *sp, const struct sg_tuple *t, const struct sipm *msg,
    uint64_t now)
{
	uint32_t	 s;

	if (!msg->auth_has_response)
		return false;
	if ((s = nonce_find(sp, msg->auth_h, now)) != HNIL)
		return !same_source(&sp->row[s], t);
	nonce_insert(sp, TIER_U, msg->auth_h, owner_source(t), &t->m, t->has_m,
	    &t->i, now + sp->conf->replay_window, now);
	return false;
}

void
spoof_confirm(struct spoof *sp, uint64_t auth_h, const struct sg_tuple *t,
    uint64_t now)
{
	uint32_t	 s;
	uint64_t	 expires = now + sp->conf->replay_window;

	if ((s = nonce_find(sp, auth_h, now)) != HNIL) {
		/*
		 * Already protected; or first seen from another address,
		 * and that one keeps it (a 2xx to a replay let through in
		 * detect mode must not make the replayer the owner).
		 */
		if (sp->row[s].tier == TIER_C || !same_source(&sp->row[s], t))
			return;
		expires = sp->row[s].expires;
		nonce_del(sp, s);
	}
	nonce_insert(sp, TIER_C, auth_h, owner_user(t), &t->m, t->has_m, &t->i,
	    expires, now);
	sp->confirmed++;
}

void
spoof_register(struct spoof *sp, struct bind_table *bt,
    const struct sg_tuple *t, const struct sipm *msg, uint64_t now,
    struct spoof_result *r)
{
	bool	 has_d;
	int	 n;

	memset(r, 0, sizeof(*r));
	bind_match(bt, t, false, now, &r->ec);
	r->verdict = SG_DROP;

	/* 1. intra-packet check (paper case x) */
	if (!spoof_intra_ok(sp->conf, t)) {
		r->reason = SG_R_CASE_X;
		return;
	}
	/* 2. a replayed authentication string (paper 4.2.1.1) */
	if (replayed(sp, t, msg, now)) {
		r->reason = SG_R_REPLAY;
		return;
	}
	/* 3. the source IP of another device's live binding (viii) */
	if (bind_ip_other_device(bt, t, now) != NULL) {
		r->reason = SG_R_CASE_VIII;
		return;
	}
	/* 4. one identity too many on this device (vi) */
	n = bind_device_identities(bt, t, now, &has_d);
	if (!has_d && n >= sp->conf->identities_per_device) {
		r->reason = SG_R_CASE_VI;
		return;
	}
	r->verdict = SG_ACCEPT;
	r->reason = register_case(r->ec.flags, n, has_d);
}

void
spoof_stats(const struct spoof *sp, struct spoof_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nonces = sp->order[TIER_U].count + sp->order[TIER_C].count;
	st->capacity = sp->cap;
	st->evicted = sp->evicted[TIER_U] + sp->evicted[TIER_C];
	st->confirmed = sp->order[TIER_C].count;
	st->confirmed_cap = sp->tcap[TIER_C];
	st->unconfirmed_cap = sp->tcap[TIER_U];
	st->evicted_confirmed = sp->evicted[TIER_C];
	st->quota_replaced = sp->quota[TIER_U] + sp->quota[TIER_C];
	st->expired = sp->expired;
	st->confirmations = sp->confirmed;
}
