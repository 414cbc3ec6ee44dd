/*
 * enforce.c: the blacklist.  Checked first for every inbound message
 * (SPEC 6); the (m, i) keys are probed before the SIP parse, so a listed
 * flood costs a hash probe, not an osip2 parse.
 */
#include <stdlib.h>
#include <string.h>

#include "enforce.h"
#include "hash.h"
#include "htab.h"
#include "whitelist.h"

#define ENF_SRCS_BITS	12
#define ENF_SRCS	(1 << ENF_SRCS_BITS)	/* counts of listed sources */

/*
 * Entries live in an ftab (hash index, free list, insertion order); two
 * binary min-heaps of slots order them by expiry, the spoof tuples K in
 * one and the blocks ((m, i), (m, i, port)) in the other, so expiry and
 * eviction take a root.  Insert, refresh and removal cost O(log n) in any
 * order of expiries: a list kept sorted cost O(n) per insert when they
 * came in decreasing (capture time going back, a wall-clock step, long
 * manual entries first), 2e9 steps to fill 65536 slots.
 *
 * A full table recycles a spoof tuple before a block, and a spoof tuple
 * never recycles a block: forged messages, each naming a new K (one per
 * spoofed source, or an insider's device varying its identity), filled
 * the table and recycled module II's block of a flooder, whose traffic
 * then passed (an attacker's review).  Module I drops a forgery whether
 * or not its K is listed; a block's source is let through without it.
 */
struct eheap {
	uint32_t	*a;		/* slots; a[0] expires first */
	uint32_t	 n;
};

#define HEAP_K		0
#define HEAP_BLOCK	1

struct enforcer {
	struct ftab	 ft;
	struct bl_entry	*row;
	struct eheap	 heap[2];	/* HEAP_K, HEAP_BLOCK */
	uint32_t	*hpos;		/* slot -> index in its heap, or HNIL */
	uint64_t	*seq;		/* slot -> when placed: ties go FIFO */
	uint64_t	 nseq;
	const struct sg_conf *conf;
	uint32_t	 nkind[4];	/* live entries per kind */
	/*
	 * Every inbound packet asks whether its source (m, i) is listed,
	 * which costs a SipHash of the whole key: srcs counts the BL_MI
	 * and BL_MIP entries by an unkeyed mix of their (m, i), so a source
	 * whose count is 0 is listed under neither and its keys need no
	 * hash.  A source an attacker picks to share a count costs the
	 * probe it cost before, no more.
	 */
	uint32_t	 srcs[ENF_SRCS];
	/* The slot find() found last, while it holds that entry: a flood
	 * from a listed source asks for the same key again and again. */
	uint32_t	 last;
	enf_offload	 offload;
	void		*offload_arg;
	const struct whitelist *wl;	/* NULL: none */
	struct enf_stats st;
};

struct enforcer *
enf_create(const struct sg_conf *conf)
{
	struct enforcer	*e;
	uint32_t	 cap = (uint32_t)conf->blacklist_size;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->conf = conf;
	e->row = sg_table_alloc(cap, sizeof(*e->row));
	e->heap[HEAP_K].a = sg_table_alloc(cap, sizeof(uint32_t));
	e->heap[HEAP_BLOCK].a = sg_table_alloc(cap, sizeof(uint32_t));
	e->hpos = sg_table_alloc(cap, sizeof(*e->hpos));
	e->seq = sg_table_alloc(cap, sizeof(*e->seq));
	if (e->row == NULL || e->heap[HEAP_K].a == NULL ||
	    e->heap[HEAP_BLOCK].a == NULL || e->hpos == NULL ||
	    e->seq == NULL || ftab_init(&e->ft, cap) == -1) {
		enf_destroy(e);
		return NULL;
	}
	memset(e->hpos, 0xff, (size_t)cap * sizeof(*e->hpos));
	e->last = HNIL;
	e->st.capacity = cap;
	return e;
}

void
enf_destroy(struct enforcer *e)
{
	if (e == NULL)
		return;
	ftab_fini(&e->ft);
	free(e->row);
	free(e->heap[HEAP_K].a);
	free(e->heap[HEAP_BLOCK].a);
	free(e->hpos);
	free(e->seq);
	free(e);
}

void
enf_set_conf(struct enforcer *e, const struct sg_conf *conf)
{
	e->conf = conf;
}

void
enf_set_whitelist(struct enforcer *e, const struct whitelist *wl)
{
	e->wl = wl;
}

void
enf_set_offload(struct enforcer *e, enf_offload fn, void *arg)
{
	e->offload = fn;
	e->offload_arg = arg;
}

static void
key_base(struct bl_key *k, int kind, const struct sg_tuple *t)
{
	memset(k, 0, sizeof(*k));
	k->kind = (uint8_t)kind;
	k->has_m = t->has_m;
	if (t->has_m)
		memcpy(k->m, t->m.b, 6);
	k->i = t->i;
}

void
enf_key_k(struct bl_key *k, const struct sg_tuple *t)
{
	key_base(k, BL_K, t);
	k->s = t->s;
	k->dh = t->dh;
}

void
enf_key_mi(struct bl_key *k, const struct sg_tuple *t)
{
	key_base(k, BL_MI, t);
}

void
enf_key_mip(struct bl_key *k, const struct sg_tuple *t)
{
	key_base(k, BL_MIP, t);
	k->port = t->sport;
}

/* Does slot `a' lapse before slot `b'?  Equal expiries: first placed. */
static bool
before(const struct enforcer *e, uint32_t a, uint32_t b)
{
	if (e->ft.expires[a] != e->ft.expires[b])
		return e->ft.expires[a] < e->ft.expires[b];
	return e->seq[a] < e->seq[b];
}

/* The heap of slot s: by the kind of its entry (its key is set). */
static struct eheap *
heap_of(struct enforcer *e, uint32_t s)
{
	return &e->heap[e->row[s].key.kind == BL_K ? HEAP_K : HEAP_BLOCK];
}

static void
heap_set(struct enforcer *e, struct eheap *h, uint32_t at, uint32_t s)
{
	h->a[at] = s;
	e->hpos[s] = at;
}

/* Restore the heap order around index `at', whichever way it broke. */
static void
heap_fix(struct enforcer *e, struct eheap *h, uint32_t at)
{
	uint32_t	 s = h->a[at], up, c;

	while (at > 0) {
		up = (at - 1) / 2;
		if (!before(e, s, h->a[up]))
			break;
		heap_set(e, h, at, h->a[up]);
		at = up;
	}
	/* 2 * at + 2 fits: at < n <= blacklist.size <= 2^24. */
	while ((c = 2 * at + 1) < h->n) {
		if (c + 1 < h->n && before(e, h->a[c + 1], h->a[c]))
			c++;
		if (!before(e, h->a[c], s))
			break;
		heap_set(e, h, at, h->a[c]);
		at = c;
	}
	heap_set(e, h, at, s);
}

static void
heap_del(struct enforcer *e, uint32_t s)
{
	struct eheap	*h = heap_of(e, s);
	uint32_t	 at = e->hpos[s], last = h->a[--h->n];

	e->hpos[s] = HNIL;
	if (last == s)
		return;
	heap_set(e, h, at, last);
	heap_fix(e, h, at);
}

/* Slot `s' was listed or its expiry changed: put it in its place. */
static void
place(struct enforcer *e, uint32_t s)
{
	struct eheap	*h = heap_of(e, s);

	e->seq[s] = e->nseq++;
	if (e->hpos[s] == HNIL)
		heap_set(e, h, h->n++, s);
	heap_fix(e, h, e->hpos[s]);
}

/* The root of heap h, or HNIL. */
static uint32_t
root(const struct enforcer *e, int h)
{
	return e->heap[h].n > 0 ? e->heap[h].a[0] : HNIL;
}

/* The entry to lapse first, or HNIL. */
static uint32_t
first_due(const struct enforcer *e)
{
	uint32_t	 k = root(e, HEAP_K), b = root(e, HEAP_BLOCK);

	if (k == HNIL || (b != HNIL && before(e, b, k)))
		return b;
	return k;
}

/* The count of srcs a source (m, i) falls in; the key's other fields
 * play no part, so BL_MI and BL_MIP of one source share it. */
static uint32_t
src_slot(bool has_m, const uint8_t m[6], const struct sg_addr *i)
{
	uint64_t	 a = 0, b, c;

	if (has_m)
		memcpy(&a, m, 6);	/* a key holds none without */
	a |= (uint64_t)has_m << 48 | (uint64_t)i->family << 56;
	memcpy(&b, i->a, 8);
	memcpy(&c, i->a + 8, 8);
	/* Multiply-shift: the top bits of the sum depend on every bit. */
	return (uint32_t)((a * 0x9e3779b97f4a7c15ULL ^
	    b * 0xc2b2ae3d27d4eb4fULL ^ c * 0x165667b19e3779f9ULL) >>
	    (64 - ENF_SRCS_BITS));
}

static void
drop_entry(struct enforcer *e, uint32_t s)
{
	const struct bl_entry	*b = &e->row[s];

	e->nkind[b->key.kind]--;
	if (b->key.kind != BL_K)
		e->srcs[src_slot(b->key.has_m, b->key.m, &b->key.i)]--;
	if (e->last == s)
		e->last = HNIL;
	if (e->offload != NULL && b->key.kind != BL_K)
		e->offload(e->offload_arg, b, false);
	heap_del(e, s);
	ftab_del(&e->ft, s);
}

static uint32_t
find(struct enforcer *e, const struct bl_key *k, uint64_t now)
{
	uint64_t	 h;
	uint32_t	 s;

	/* A key is listed once at most: the entry the walk would find. */
	if ((s = e->last) != HNIL &&
	    memcmp(&e->row[s].key, k, sizeof(*k)) == 0)
		goto found;
	h = hash_bytes(k, sizeof(*k));
	for (s = hidx_first(&e->ft.ix, h); s != HNIL;
	    s = hidx_next(&e->ft.ix, s)) {
		if (e->ft.key[s] != h ||
		    memcmp(&e->row[s].key, k, sizeof(*k)) != 0)
			continue;
		goto found;
	}
	return HNIL;
found:
	if (e->ft.expires[s] <= now) {
		drop_entry(e, s);
		e->st.expired++;
		return HNIL;
	}
	e->last = s;
	return s;
}

static bool
hit(struct enforcer *e, const struct bl_key *k, uint64_t now)
{
	uint32_t	 s = find(e, k, now);

	if (s == HNIL)
		return false;
	e->row[s].hits++;
	return true;
}
/*
 * Detect mode: the blacklist lists nothing and blocks nothing, so every
 * message is judged and speaks in its own alarm; entries it holds (from
 * the state file, or prevent mode before a reload) wait for prevent.
 */
static bool
blocking(const struct enforcer *e)
{
	return e->conf->mode != MODE_DETECT;
}

bool
enf_check_l3(struct enforcer *e, const struct sg_tuple *t, uint64_t now)
{
	struct bl_key	 k;

	if (!blocking(e) || (e->nkind[BL_MI] == 0 && e->nkind[BL_MIP] == 0) ||
	    e->srcs[src_slot(t->has_m, t->m.b, &t->i)] == 0)
		return false;
	if (e->nkind[BL_MI] > 0) {
		enf_key_mi(&k, t);
		if (hit(e, &k, now)) {
			e->st.hits_l3++;
			return true;
		}
	}
	if (e->nkind[BL_MIP] > 0) {
		enf_key_mip(&k, t);
		if (hit(e, &k, now)) {
			e->st.hits_l3++;
			return true;
		}
	}
	return false;
}

bool
enf_check_k(struct enforcer *e, const struct sg_tuple *t, uint64_t now)
{
	struct bl_key	 k;

	if (!blocking(e) || e->nkind[BL_K] == 0)
		return false;
	enf_key_k(&k, t);
	if (hit(e, &k, now)) {
		e->st.hits_k++;
		return true;
	}
	return false;
}

/*
 * Never listed: a key the whitelist lets through.  A key of another MAC
 * than a pinned entry's (or of none: a tunnel's frames) is listed like
 * any: keys compare whole, so it never matches the pinned MAC's frames.
 */
static bool
whitelisted(const struct enforcer *e, const struct bl_key *k)
{
	struct sg_mac	 m;

	if (e->wl == NULL)
		return false;
	memcpy(m.b, k->m, sizeof(m.b));
	return wl_match(e->wl, &k->i, &m, k->has_m) == WL_PASS;
}

enum alarm_action
enf_add(struct enforcer *e, const struct bl_key *k, const char *why,
    const char *d, uint64_t ttl, uint64_t now)
{
	uint64_t	 h = hash_bytes(k, sizeof(*k));
	uint32_t	 s;
	bool		 evicted;
	struct bl_entry	*b;

	if (whitelisted(e, k))
		return ACT_DROP;
	if (!blocking(e))
		return ACT_NOTICE;
	if (ttl == 0)
		ttl = e->conf->blacklist_ttl;
	if ((s = find(e, k, now)) != HNIL) {
		e->ft.expires[s] = now + ttl;
		e->row[s].expires = now + ttl;
		place(e, s);
		e->st.refreshed++;
		if (e->offload != NULL && k->kind != BL_K)
			e->offload(e->offload_arg, &e->row[s], true);
		return ACT_BLOCK;
	}
	if (ftab_count(&e->ft) == e->ft.cap) {
		/*
		 * Full: recycle the spoof tuple closest to expiry; a block
		 * only for a block, when no spoof tuple is left (telling the
		 * kernel first).  A spoof tuple that finds only blocks is
		 * not listed: its forgeries are judged and dropped still.
		 */
		uint32_t	 victim = root(e, HEAP_K);

		if (victim == HNIL && k->kind != BL_K)
			victim = root(e, HEAP_BLOCK);
		if (victim == HNIL) {
			e->st.refused++;
			return ACT_DROP;
		}
		drop_entry(e, victim);
		e->st.evicted++;
	}
	s = ftab_insert(&e->ft, h, now + ttl, &evicted);
	b = &e->row[s];
	memset(b, 0, sizeof(*b));
	b->key = *k;
	place(e, s);
	b->added = now;
	b->expires = now + ttl;
	snprintf(b->why, sizeof(b->why), "%s", why ? why : "-");
	snprintf(b->d, sizeof(b->d), "%s", d ? d : "");
	e->nkind[k->kind]++;
	if (k->kind != BL_K)
		e->srcs[src_slot(k->has_m, k->m, &k->i)]++;
	e->st.added++;
	if (e->offload != NULL && k->kind != BL_K)
		e->offload(e->offload_arg, b, true);
	return ACT_BLOCK;
}

const struct bl_entry *
enf_find(struct enforcer *e, const struct bl_key *k, uint64_t now)
{
	uint32_t	 s = find(e, k, now);

	return s == HNIL ? NULL : &e->row[s];
}

int
enf_del(struct enforcer *e, const struct bl_key *k)
{
	uint32_t	 s = find(e, k, 0);

	if (s == HNIL)
		return 0;
	drop_entry(e, s);
	e->st.removed++;
	return 1;
}

int
enf_forget(struct enforcer *e, const struct sg_mac *m, const struct sg_addr *i,
    struct sg_keyset *seen)
{
	uint32_t	 s, next;
	int		 n = 0;

	for (s = e->ft.order.head; s != HNIL; s = next) {
		const struct bl_key	*k = &e->row[s].key;

		next = e->ft.order.link[s].next;
		if ((m != NULL && k->has_m && memcmp(k->m, m->b, 6) == 0) ||
		    (i != NULL && sg_addr_eq(&k->i, i))) {
			if (seen == NULL || sg_keyset_add(seen,
			    hash_bytes(k, sizeof(*k))))
				n++;
			drop_entry(e, s);
			e->st.removed++;
		}
	}
	return n;
}

int
enf_lift_whitelisted(struct enforcer *e, const struct sg_cidr *only)
{
	uint32_t	 s, next;
	int		 n = 0;

	for (s = e->ft.order.head; s != HNIL; s = next) {
		next = e->ft.order.link[s].next;
		if ((only == NULL || sg_cidr_match(only, &e->row[s].key.i)) &&
		    whitelisted(e, &e->row[s].key)) {
			drop_entry(e, s);
			e->st.removed++;
			n++;
		}
	}
	return n;
}

void
enf_forgive(struct enforcer *e, const struct sg_tuple *t)
{
	struct bl_key	 k;

	if (e->nkind[BL_K] == 0)
		return;
	enf_key_k(&k, t);
	enf_del(e, &k);
}

void
enf_expire(struct enforcer *e, uint64_t now)
{
	/* The expired entries are at the root of the heap. */
	for (int n = 0; n < 64 && first_due(e) != HNIL; n++) {
		uint32_t	 s = first_due(e);

		if (e->ft.expires[s] > now)
			break;
		drop_entry(e, s);
		e->st.expired++;
	}
}

void
enf_stats(const struct enforcer *e, struct enf_stats *st)
{
	*st = e->st;
	st->entries = ftab_count(&e->ft);
}

uint32_t
enf_capacity(const struct enforcer *e)
{
	return e->ft.cap;
}

const struct bl_entry *
enf_at(const struct enforcer *e, uint32_t slot, uint64_t now)
{
	if (slot >= e->ft.cap || e->ft.expires[slot] <= now)
		return NULL;
	return &e->row[slot];
}

void
enf_foreach(struct enforcer *e, uint64_t now,
    int (*fn)(void *, const struct bl_entry *), void *arg)
{
	for (uint32_t s = e->ft.order.head; s != HNIL;
	    s = e->ft.order.link[s].next) {
		if (e->ft.expires[s] <= now)
			continue;
		if (fn(arg, &e->row[s]) != 0)
			break;
	}
}
