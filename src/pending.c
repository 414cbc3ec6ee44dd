/*
 * pending.c: REGISTER transactions awaiting the proxy's final answer.
 * register.c adds and looks them up; nothing here knows SIP.
 *
 * SPEC 1: no table an attacker can fill or flush may switch a protection
 * off.  One FIFO for all was flushable: tables.pending REGISTERs from
 * forged sources (a new Call-ID each, nothing to rate-limit while the
 * engine trains) landing inside one REGISTER -> 200 round trip pushed a
 * subscriber's transaction out, the 200 then matched nothing, no binding
 * was learned, and the replay memory was never told the proxy took her
 * credentials (spoof.c).  So the table has three tiers in one fixed
 * array:
 *
 *  answered   transactions register.c vouches for: a REGISTER answering
 *             a challenge the proxy sent to that same source with that
 *             same nonce, which a blind sender at a forged address never
 *             sees.
 *  known      a REGISTER from a device bound with exactly its tuple (a
 *             re-registration): its first leg, before the proxy's 401,
 *             which no nonce vouches for yet.  An attacker who forges
 *             bound devices' whole tuples can fill this tier, never the
 *             answered one.
 *             Each of the two guarded tiers holds at most cap / 4; when
 *             full, its oldest goes, only for another of its own; an
 *             entry whose credentials the proxy refused is open from
 *             then (pending_demote()); one source (m, i) holds at most QUOTA_GUARDED in each (its next
 *             is an open entry: twenty phones behind one NAT address
 *             re-registering at once lose no transaction, some only the
 *             guard), so a real host that sees its own challenges fills
 *             cap / 4 / QUOTA_GUARDED sources' worth.
 *  open       everything else, FIFO as before: when the table is full the
 *             oldest open entry goes.  There always is one when a new
 *             open entry needs room, since guarded ones hold at most
 *             half.
 *
 * Every operation is O(1) expected: a keyed hash index by transaction,
 * one by source over the guarded tier (a chain holds the quota plus the
 * bucket's load), a FIFO list per tier (one timeout: oldest first is
 * soonest to expire), a free list; all allocated in pending_create().
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"
#include "pending.h"

/*
 * Per kind: eight registrations in flight at once from one (m, i), the
 * lines of a PBX (identities_per_device, 8) or phones behind one NAT
 * address re-registering together.  A bound phone's challenged first
 * REGISTER (known) stays pending until its timeout: eight in 32 s.
 * Past it, nothing is lost but the guard.
 */
#define QUOTA_GUARDED	8

enum { TIER_U, TIER_G, TIER_K, TIER__COUNT };

struct pending_table {
	struct pending	*row;
	struct hidx	 ix, by_src;
	struct dlist	 order[TIER__COUNT];	/* oldest first */
	struct dlist	 free;
	uint64_t	*key, *expires, *src;
	uint8_t		*tier;
	uint32_t	 cap, gcap;	/* gcap: each guarded tier's */
	uint64_t	 timeout;
	uint64_t	 added, answered, expired, guarded;
	uint64_t	 evicted[TIER__COUNT], quota;
};

struct pending_table *
pending_create(uint32_t cap, uint64_t timeout)
{
	struct pending_table	*pt;

	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		return NULL;
	pt->timeout = timeout;
	pt->cap = cap;
	pt->gcap = cap / 4 > 0 ? cap / 4 : 1;
	pt->row = sg_table_alloc(cap, sizeof(*pt->row));
	pt->key = sg_table_alloc(cap, sizeof(*pt->key));
	pt->expires = sg_table_alloc(cap, sizeof(*pt->expires));
	pt->src = sg_table_alloc(cap, sizeof(*pt->src));
	pt->tier = sg_table_alloc(cap, sizeof(*pt->tier));
	if (pt->row == NULL || pt->key == NULL || pt->expires == NULL ||
	    pt->src == NULL || pt->tier == NULL ||
	    hidx_init(&pt->ix, cap) == -1 ||
	    hidx_init(&pt->by_src, cap) == -1 ||
	    dlist_init(&pt->order[TIER_U], cap) == -1 ||
	    dlist_init(&pt->order[TIER_G], cap) == -1 ||
	    dlist_init(&pt->order[TIER_K], cap) == -1 ||
	    dlist_init(&pt->free, cap) == -1) {
		pending_destroy(pt);
		return NULL;
	}
	dlist_fill(&pt->free, cap);
	return pt;
}

void
pending_destroy(struct pending_table *pt)
{
	if (pt == NULL)
		return;
	hidx_fini(&pt->ix);
	hidx_fini(&pt->by_src);
	dlist_fini(&pt->order[TIER_U]);
	dlist_fini(&pt->order[TIER_G]);
	dlist_fini(&pt->order[TIER_K]);
	dlist_fini(&pt->free);
	free(pt->row);
	free(pt->key);
	free(pt->expires);
	free(pt->src);
	free(pt->tier);
	free(pt);
}

void
pending_set_timeout(struct pending_table *pt, uint64_t timeout)
{
	/*
	 * Shorter: entries in flight get the new bound too, so expiries
	 * stay in insertion order and the sweep, which stops at the first
	 * live entry, still frees every expired one.  Once per reload.
	 */
	if (timeout < pt->timeout)
		for (int k = 0; k < TIER__COUNT; k++)
			for (uint32_t s = pt->order[k].head; s != HNIL;
			    s = pt->order[k].link[s].next)
				if (pt->expires[s] > pt->row[s].born + timeout)
					pt->expires[s] = pt->row[s].born +
					    timeout;
	pt->timeout = timeout;
}

static uint64_t
tx_key(uint64_t call_id_h, uint32_t cseq)
{
	return hash_mix(call_id_h, cseq);
}

static void
slot_del(struct pending_table *pt, uint32_t s)
{
	hidx_del(&pt->ix, s, pt->key[s]);
	if (pt->tier[s] != TIER_U)
		hidx_del(&pt->by_src, s, pt->src[s]);
	dlist_del(&pt->order[pt->tier[s]], s);
	dlist_push_tail(&pt->free, s);
	pt->expires[s] = 0;	/* a free slot reads as expired */
}

/* The live slot for `key', or HNIL; an expired one is removed. */
static uint32_t
slot_find(struct pending_table *pt, uint64_t key, uint64_t now)
{
	for (uint32_t s = hidx_first(&pt->ix, key); s != HNIL;
	    s = hidx_next(&pt->ix, s)) {
		if (pt->key[s] != key)
			continue;
		if (pt->expires[s] <= now) {
			slot_del(pt, s);
			pt->expired++;
			return HNIL;
		}
		return s;
	}
	return HNIL;
}

/* Recycle the oldest entry of `tier' (an expired one counts as such). */
static void
evict_oldest(struct pending_table *pt, int tier, uint64_t now)
{
	uint32_t	 s = pt->order[tier].head;

	if (pt->expires[s] <= now)
		pt->expired++;
	else
		pt->evicted[tier]++;
	slot_del(pt, s);
}

/*
 * Room for an entry of `src' (tagged by its tier) in guarded `tier': the
 * tier's oldest goes if the tier is full.  False if the source is at its
 * quota (nothing goes).  Costs the source's chain: its quota plus the
 * bucket's load.
 */
static bool
guard_room(struct pending_table *pt, int tier, uint64_t src, uint64_t now)
{
	uint32_t	 s, next, own = 0;

	for (s = hidx_first(&pt->by_src, src); s != HNIL; s = next) {
		next = hidx_next(&pt->by_src, s);
		if (pt->src[s] != src)
			continue;
		if (pt->expires[s] <= now) {
			slot_del(pt, s);
			pt->expired++;
			continue;
		}
		own++;
	}
	if (own >= QUOTA_GUARDED) {
		pt->quota++;
		return false;
	}
	if (pt->order[tier].count >= pt->gcap)
		evict_oldest(pt, tier, now);
	return true;
}

struct pending *
pending_add_guarded(struct pending_table *pt, uint64_t call_id_h,
    uint32_t cseq, enum pending_guard g, uint64_t src, uint64_t now,
    bool *is_new)
{
	uint64_t	 key = tx_key(call_id_h, cseq);
	uint32_t	 s = slot_find(pt, key, now);
	int		 tier = g == PENDING_ANSWERED ? TIER_G :
			    g == PENDING_KNOWN ? TIER_K : TIER_U;
	struct pending	*p;

	if (s != HNIL) {
		p = &pt->row[s];
		if (p->call_id_h == call_id_h && p->cseq == cseq) {
			*is_new = false;
			return p;
		}
		/* A 64-bit collision: the newer transaction wins. */
		slot_del(pt, s);
	}
	/* Each tier its own quotas: the source key tagged by tier. */
	src = hash_mix(src, (uint64_t)tier);
	if (tier != TIER_U && !guard_room(pt, tier, src, now))
		tier = TIER_U;
	/* Guarded entries hold at most 2 * gcap < cap: an open one is
	 * there whenever the table is full. */
	if (pt->free.count == 0)
		evict_oldest(pt, pt->order[TIER_U].count > 0 ? TIER_U :
		    pt->order[TIER_G].count > 0 ? TIER_G : TIER_K, now);
	s = dlist_pop_head(&pt->free);
	pt->key[s] = key;
	pt->expires[s] = now + pt->timeout;
	pt->tier[s] = (uint8_t)tier;
	pt->src[s] = src;
	hidx_add(&pt->ix, s, key);
	if (tier != TIER_U) {
		hidx_add(&pt->by_src, s, src);
		pt->guarded++;
	}
	dlist_push_tail(&pt->order[tier], s);
	p = &pt->row[s];
	memset(p, 0, sizeof(*p));
	p->call_id_h = call_id_h;
	p->cseq = cseq;
	p->req_expires = -1;
	p->born = now;
	pt->added++;
	*is_new = true;
	return p;
}

struct pending *
pending_add(struct pending_table *pt, uint64_t call_id_h, uint32_t cseq,
    uint64_t now, bool *is_new)
{
	return pending_add_guarded(pt, call_id_h, cseq, PENDING_OPEN, 0, now,
	    is_new);
}

enum pending_guard
pending_guard(const struct pending_table *pt, const struct pending *p)
{
	switch (pt->tier[p - pt->row]) {
	case TIER_G:
		return PENDING_ANSWERED;
	case TIER_K:
		return PENDING_KNOWN;
	default:
		return PENDING_OPEN;
	}
}

struct pending *
pending_find(struct pending_table *pt, uint64_t call_id_h, uint32_t cseq,
    uint64_t now)
{
	uint32_t	 s = slot_find(pt, tx_key(call_id_h, cseq), now);

	if (s == HNIL || pt->row[s].call_id_h != call_id_h ||
	    pt->row[s].cseq != cseq)
		return NULL;
	return &pt->row[s];
}

void
pending_del(struct pending_table *pt, struct pending *p)
{
	slot_del(pt, (uint32_t)(p - pt->row));
	pt->answered++;
}

void
pending_demote(struct pending_table *pt, struct pending *p)
{
	uint32_t	 s = (uint32_t)(p - pt->row);

	if (pt->tier[s] == TIER_U)
		return;
	hidx_del(&pt->by_src, s, pt->src[s]);
	dlist_del(&pt->order[pt->tier[s]], s);
	/* Behind younger open entries: it lapses no sooner for that. */
	pt->tier[s] = TIER_U;
	dlist_push_tail(&pt->order[TIER_U], s);
}

void
pending_expire(struct pending_table *pt, uint64_t now)
{
	/* FIFO with one timeout: only expired entries sit at a head. */
	for (int k = 0; k < TIER__COUNT; k++)
		for (uint32_t n = 0; n < 64 && pt->order[k].head != HNIL;
		    n++) {
			uint32_t	 s = pt->order[k].head;

			if (pt->expires[s] > now)
				break;
			slot_del(pt, s);
			pt->expired++;
		}
}

void
pending_stats(const struct pending_table *pt, struct pending_stats *st)
{
	st->in_use = pt->order[TIER_U].count + pt->order[TIER_G].count +
	    pt->order[TIER_K].count;
	st->capacity = pt->cap;
	st->added = pt->added;
	st->answered = pt->answered;
	st->evicted = pt->evicted[TIER_U] + pt->evicted[TIER_G] +
	    pt->evicted[TIER_K];
	st->expired = pt->expired;
	st->guarded = pt->order[TIER_G].count + pt->order[TIER_K].count;
	st->guarded_cap = 2 * pt->gcap;
	st->guarded_added = pt->guarded;
	st->evicted_guarded = pt->evicted[TIER_G] + pt->evicted[TIER_K];
	st->quota_open = pt->quota;
}
