/*
 * bind.c: the binding table.  One array of rows allocated at start; a free
 * list; hash indexes by F, by F through the registered Contact, and by m,
 * i, d, public s and device; a counting Bloom filter over F; reference
 * counts that tell gateway MACs (many live IPs behind one MAC) apart.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cbf.h"
#include "hash.h"
#include "htab.h"

/* Most entries one secondary-index walk looks at (label search only). */
#define WALK_MAX	64

enum { IX_F, IX_CF, IX_M, IX_I, IX_D, IX_S, IX_DEV, IX__COUNT };

/* A counter keyed by a 64-bit keyed hash: (m, i) pairs, MACs. */
struct cset {
	struct hidx	 ix;
	struct dlist	 free;
	uint64_t	*key;
	uint32_t	*count;
};

struct bind_table {
	struct binding	*row;
	uint32_t	 cap;
	struct dlist	 free;
	struct hidx	 ix[IX__COUNT];
	struct cbf	*bloom;
	struct cset	 mi;		/* live bindings per (m, i) */
	struct cset	 macips;	/* distinct live i per m */
	uint32_t	 sweep;
	uint64_t	 seq;
	const struct sg_conf *conf;
	struct bind_stats st;
};

/* ---- counters ----------------------------------------------------------- */

static int
cset_init(struct cset *c, uint32_t cap)
{
	if (hidx_init(&c->ix, cap) == -1 || dlist_init(&c->free, cap) == -1)
		return -1;
	c->key = sg_table_alloc(cap, sizeof(*c->key));
	c->count = sg_table_alloc(cap, sizeof(*c->count));
	if (c->key == NULL || c->count == NULL)
		return -1;
	dlist_fill(&c->free, cap);
	return 0;
}

static void
cset_fini(struct cset *c)
{
	hidx_fini(&c->ix);
	dlist_fini(&c->free);
	free(c->key);
	free(c->count);
}

static uint32_t
cset_find(const struct cset *c, uint64_t key)
{
	for (uint32_t s = hidx_first(&c->ix, key); s != HNIL;
	    s = hidx_next(&c->ix, s))
		if (c->key[s] == key)
			return s;
	return HNIL;
}

/* Returns the count after the change. */
static uint32_t
cset_inc(struct cset *c, uint64_t key)
{
	uint32_t	 s = cset_find(c, key);

	if (s == HNIL) {
		/* Never empty: one entry per live binding at most. */
		if ((s = dlist_pop_head(&c->free)) == HNIL)
			return 0;
		c->key[s] = key;
		c->count[s] = 0;
		hidx_add(&c->ix, s, key);
	}
	return ++c->count[s];
}

static uint32_t
cset_dec(struct cset *c, uint64_t key)
{
	uint32_t	 s = cset_find(c, key);

	if (s == HNIL)
		return 0;
	if (--c->count[s] > 0)
		return c->count[s];
	hidx_del(&c->ix, s, key);
	dlist_push_tail(&c->free, s);
	return 0;
}

static uint32_t
cset_get(const struct cset *c, uint64_t key)
{
	uint32_t	 s = cset_find(c, key);

	return s == HNIL ? 0 : c->count[s];
}

/* ---- keys --------------------------------------------------------------- */

struct fkey {
	uint8_t		 m[6];
	uint8_t		 has_m;
	uint8_t		 kind;		/* which index: keeps hashes apart */
	uint8_t		 i[17];
	uint8_t		 pad[7];
	uint64_t	 x;
};

static void
fkey_fill(struct fkey *k, int kind, const struct sg_mac *m, bool has_m,
    const struct sg_addr *i, uint64_t x)
{
	memset(k, 0, sizeof(*k));
	if (has_m)
		memcpy(k->m, m->b, 6);
	k->has_m = has_m;
	k->kind = (uint8_t)kind;
	if (i != NULL) {
		k->i[0] = i->family;
		memcpy(k->i + 1, i->a, 16);
	}
	k->x = x;
}

static uint64_t
key_hash(int kind, const struct sg_mac *m, bool has_m,
    const struct sg_addr *i, uint64_t x)
{
	struct fkey	 k;

	fkey_fill(&k, kind, m, has_m, i, x);
	return hash_bytes(&k, sizeof(k));
}

/* F = {m, d, i}: the Bloom key and the F index hash come from one hash. */
static void
f_key(const struct sg_mac *m, bool has_m, const struct sg_addr *i,
    uint64_t dh, struct cbf_key *ck)
{
	struct fkey	 k;

	fkey_fill(&k, IX_F, m, has_m, i, dh);
	cbf_key(&k, sizeof(k), ck);
}

static uint64_t
addr_hash(int kind, const struct sg_addr *a)
{
	return key_hash(kind, NULL, false, a, 0);
}

static uint64_t
mac_hash(const struct sg_mac *m)
{
	return key_hash(IX_M, m, true, NULL, 0);
}

/* SPEC 4: a device is (m, i); behind NAT it is (m, i, s). */
static uint64_t
dev_hash(const struct sg_mac *m, bool has_m, const struct sg_addr *i,
    bool nat, const struct sg_addr *s)
{
	uint64_t	 x = nat ? hash_bytes(s, sizeof(*s)) : 0;

	return key_hash(IX_DEV, m, has_m, i, x);
}

static bool
mac_eq(const struct binding *b, const struct sg_mac *m, bool has_m)
{
	if (b->has_m != has_m)
		return false;
	return !has_m || memcmp(b->m.b, m->b, 6) == 0;
}

static bool
public_s(const struct sg_addr *s)
{
	return sg_addr_is_ip(s) && !sg_addr_private(s);
}

/* ---- create / destroy --------------------------------------------------- */

struct bind_table *
bind_create(const struct sg_conf *conf)
{
	struct bind_table	*bt;
	uint32_t		 cap = (uint32_t)conf->tab_bindings;

	if ((bt = calloc(1, sizeof(*bt))) == NULL)
		return NULL;
	bt->cap = cap;
	bt->conf = conf;
	bt->row = sg_table_alloc(cap, sizeof(*bt->row));
	if (bt->row == NULL || dlist_init(&bt->free, cap) == -1)
		goto fail;
	for (int k = 0; k < IX__COUNT; k++)
		if (hidx_init(&bt->ix[k], cap) == -1)
			goto fail;
	bt->bloom = cbf_create(cap * (uint32_t)conf->bloom_cells,
	    conf->bloom_hashes);
	if (bt->bloom == NULL || cset_init(&bt->mi, cap) == -1 ||
	    cset_init(&bt->macips, cap) == -1)
		goto fail;
	dlist_fill(&bt->free, cap);
	bt->st.capacity = cap;
	bt->st.memory = sizeof(*bt) + (size_t)cap * sizeof(*bt->row) +
	    (size_t)cap * sizeof(struct hlink) + cbf_memory(bt->bloom) +
	    2 * ((size_t)cap * (sizeof(uint64_t) + sizeof(uint32_t) +
	    sizeof(struct hlink)) + hidx_memory(&bt->mi.ix, cap));
	for (int k = 0; k < IX__COUNT; k++)
		bt->st.memory += hidx_memory(&bt->ix[k], cap);
	return bt;
fail:
	bind_destroy(bt);
	return NULL;
}

void
bind_destroy(struct bind_table *bt)
{
	if (bt == NULL)
		return;
	for (int k = 0; k < IX__COUNT; k++)
		hidx_fini(&bt->ix[k]);
	dlist_fini(&bt->free);
	cbf_destroy(bt->bloom);
	cset_fini(&bt->mi);
	cset_fini(&bt->macips);
	free(bt->row);
	free(bt);
}

void
bind_set_conf(struct bind_table *bt, const struct sg_conf *conf)
{
	bt->conf = conf;
}

uint32_t
bind_slot(const struct bind_table *bt, const struct binding *b)
{
	return (uint32_t)(b - bt->row);
}

const struct binding *
bind_at(const struct bind_table *bt, uint32_t slot)
{
	if (slot >= bt->cap || !bt->row[slot].live)
		return NULL;
	return &bt->row[slot];
}

uint32_t
bind_capacity(const struct bind_table *bt)
{
	return bt->cap;
}

/* ---- gateway MACs ------------------------------------------------------- */

bool
bind_is_gateway(const struct bind_table *bt, const struct sg_mac *m,
    bool has_m)
{
	if (!has_m)
		return false;
	if (conf_is_gateway_mac(bt->conf, m))
		return true;
	return cset_get(&bt->macips, mac_hash(m)) >
	    (uint32_t)bt->conf->gateway_mac_ips;
}

/* ---- link / unlink ------------------------------------------------------ */

/*
 * A row's index hashes, from its fields.  Not kept in the row (56 bytes
 * a slot, 56 MB in a table of a million): unlinking computes them again,
 * a few keyed hashes per expiry or refresh.
 */
struct row_keys {
	struct cbf_key	 ck;		/* F: Bloom key; ck.h[0] the F index */
	uint64_t	 cf, m, i, s, dev, mi;
};

static void
row_keys(const struct binding *b, struct row_keys *k)
{
	f_key(&b->m, b->has_m, &b->i, b->dh, &k->ck);
	k->cf = key_hash(IX_CF, &b->m, b->has_m, &b->i, b->contact_idh);
	k->i = addr_hash(IX_I, &b->i);
	k->s = addr_hash(IX_S, &b->s);
	k->dev = dev_hash(&b->m, b->has_m, &b->i, b->nat, &b->s);
	k->mi = key_hash(IX__COUNT, &b->m, b->has_m, &b->i, 0);
	k->m = b->has_m ? mac_hash(&b->m) : 0;
}

uint64_t
bind_row_key(const struct binding *b)
{
	struct cbf_key	 ck;

	f_key(&b->m, b->has_m, &b->i, b->dh, &ck);
	return ck.h[0] ^ dev_hash(&b->m, b->has_m, &b->i, b->nat, &b->s);
}

/* The device (m, i), or (m, i, s) behind NAT, that dev_hash() keys. */
static bool
same_device(const struct binding *b, const struct sg_tuple *t)
{
	return mac_eq(b, &t->m, t->has_m) && sg_addr_eq(&b->i, &t->i) &&
	    b->nat == t->nat && (!t->nat || sg_addr_eq(&b->s, &t->s));
}

static void
link_row(struct bind_table *bt, uint32_t s)
{
	struct binding	*b = &bt->row[s];
	struct row_keys	 k;

	row_keys(b, &k);
	/* An imported row waiting for its MAC: only i, d and s lead to it. */
	if (!b->pin) {
		cbf_add(bt->bloom, &k.ck);
		hidx_add(&bt->ix[IX_F], s, k.ck.h[0]);
		if (b->contact_idh != 0 && b->contact_idh != b->dh)
			hidx_add(&bt->ix[IX_CF], s, k.cf);
		if (b->has_m)
			hidx_add(&bt->ix[IX_M], s, k.m);
		hidx_add(&bt->ix[IX_DEV], s, k.dev);
		if (cset_inc(&bt->mi, k.mi) == 1 && b->has_m)
			cset_inc(&bt->macips, k.m);
	} else
		bt->st.pending++;
	hidx_add(&bt->ix[IX_I], s, k.i);
	hidx_add(&bt->ix[IX_D], s, b->dh);
	if (public_s(&b->s))
		hidx_add(&bt->ix[IX_S], s, k.s);
	b->live = true;
	bt->st.live++;
}

static void
unlink_row(struct bind_table *bt, uint32_t s)
{
	struct binding	*b = &bt->row[s];
	struct row_keys	 k;

	row_keys(b, &k);
	if (!b->pin) {
		cbf_remove(bt->bloom, &k.ck);
		hidx_del(&bt->ix[IX_F], s, k.ck.h[0]);
		if (b->contact_idh != 0 && b->contact_idh != b->dh)
			hidx_del(&bt->ix[IX_CF], s, k.cf);
		if (b->has_m)
			hidx_del(&bt->ix[IX_M], s, k.m);
		hidx_del(&bt->ix[IX_DEV], s, k.dev);
		if (cset_dec(&bt->mi, k.mi) == 0 && b->has_m)
			cset_dec(&bt->macips, k.m);
	} else
		bt->st.pending--;
	hidx_del(&bt->ix[IX_I], s, k.i);
	hidx_del(&bt->ix[IX_D], s, b->dh);
	if (public_s(&b->s))
		hidx_del(&bt->ix[IX_S], s, k.s);
	b->live = false;
	b->gen++;
	bt->st.live--;
	dlist_push_tail(&bt->free, s);
}

static bool
alive(struct binding *b, uint64_t now)
{
	return b->live && b->expires > now;
}

/* ---- exact lookup ------------------------------------------------------- */

static struct binding *
find_f(struct bind_table *bt, const struct sg_mac *m, bool has_m,
    const struct sg_addr *i, uint64_t dh, uint64_t now)
{
	struct cbf_key	 ck;

	f_key(m, has_m, i, dh, &ck);
	bt->st.bloom_probes++;
	if (!cbf_query(bt->bloom, &ck))
		return NULL;
	bt->st.bloom_hits++;
	for (uint32_t s = hidx_first(&bt->ix[IX_F], ck.h[0]); s != HNIL;
	    s = hidx_next(&bt->ix[IX_F], s)) {
		struct binding	*b = &bt->row[s];

		/* The fields F hashes: equal ones, an equal F hash. */
		if (b->dh == dh && mac_eq(b, m, has_m) &&
		    sg_addr_eq(&b->i, i)) {
			if (!alive(b, now)) {
				/* Lazy expiry: the sweep may not be here yet. */
				unlink_row(bt, s);
				bt->st.expired++;
				return NULL;
			}
			return b;
		}
	}
	bt->st.bloom_false++;
	return NULL;
}

const struct binding *
bind_find(struct bind_table *bt, const struct sg_tuple *t, uint64_t now)
{
	return find_f(bt, &t->m, t->has_m, &t->i, t->dh, now);
}

/* ---- best partial match (labels) ---------------------------------------- */

static unsigned
flags_of(const struct binding *b, const struct sg_tuple *t, bool response)
{
	unsigned	 f = 0;

	/* An imported binding's MAC is not known: never evidence. */
	if (!b->pin && mac_eq(b, &t->m, t->has_m))
		f |= BM_M;
	if (sg_addr_eq(&b->i, &t->i))
		f |= BM_I;
	/* SPEC 2: a response without Contact states no SIP-IP. */
	if (t->s.family == SG_AF_NONE || sg_addr_eq(&b->s, &t->s))
		f |= BM_S;
	if ((b->dh == t->dh || (response && b->contact_idh == t->dh)) &&
	    !(t->impih != 0 && b->impih != 0 && t->impih != b->impih))
		f |= BM_D;
	return f;
}

static int
popcount4(unsigned f)
{
	return (int)((f & 1) + ((f >> 1) & 1) + ((f >> 2) & 1) + ((f >> 3) & 1));
}

/*
 * Keep the candidate sharing most elements; on a tie prefer the pattern
 * with the strongest evidence (m, then i, s, d: the flag value), then
 * the oldest binding, so the label never depends on hash order.
 */
static void
consider(struct bind_match *bm, const struct binding *b, unsigned f)
{
	int	 pc = popcount4(f), opc;

	if (f == 0)
		return;
	if (bm->b == NULL) {
		bm->b = b;
		bm->flags = f;
		return;
	}
	opc = popcount4(bm->flags);
	if (pc > opc || (pc == opc && (f > bm->flags ||
	    (f == bm->flags && b->seq < bm->b->seq)))) {
		bm->b = b;
		bm->flags = f;
	}
}

/*
 * Whether row b has the key index ix was asked for with t: the fields
 * row_keys() hashes for that index, equal (a chain also holds rows whose
 * hash only shares the bucket).
 */
static bool
index_match(const struct binding *b, int ix, const struct sg_tuple *t)
{
	switch (ix) {
	case IX_CF:
		return b->contact_idh == t->dh && mac_eq(b, &t->m, t->has_m) &&
		    sg_addr_eq(&b->i, &t->i);
	case IX_D:
		return b->dh == t->dh;
	case IX_I:
		return sg_addr_eq(&b->i, &t->i);
	case IX_M:
		return mac_eq(b, &t->m, true);
	case IX_S:
		return sg_addr_eq(&b->s, &t->s);
	default:
		return false;
	}
}

static void
walk_index(struct bind_table *bt, int ix, uint64_t hv,
    const struct sg_tuple *t, bool response, uint64_t now,
    struct bind_match *bm)
{
	int	 n = 0;

	for (uint32_t s = hidx_first(&bt->ix[ix], hv); s != HNIL &&
	    n < WALK_MAX; s = hidx_next(&bt->ix[ix], s), n++) {
		struct binding	*b = &bt->row[s];

		if (!index_match(b, ix, t) || !alive(b, now))
			continue;
		consider(bm, b, flags_of(b, t, response));
		if (bm->flags == (BM_M | BM_I | BM_S | BM_D))
			return;
	}
}

void
bind_match(struct bind_table *bt, const struct sg_tuple *t, bool response,
    uint64_t now, struct bind_match *bm)
{
	struct binding	*b;

	bm->b = NULL;
	bm->flags = 0;
	if ((b = find_f(bt, &t->m, t->has_m, &t->i, t->dh, now)) != NULL) {
		consider(bm, b, flags_of(b, t, response));
		if (bm->flags == (BM_M | BM_I | BM_S | BM_D))
			return;
	}
	if (response) {
		uint64_t cfh = key_hash(IX_CF, &t->m, t->has_m, &t->i, t->dh);

		walk_index(bt, IX_CF, cfh, t, response, now, bm);
		if (bm->flags == (BM_M | BM_I | BM_S | BM_D))
			return;
	}
	walk_index(bt, IX_D, t->dh, t, response, now, bm);
	walk_index(bt, IX_I, addr_hash(IX_I, &t->i), t, response, now, bm);
	/* SPEC 2: a gateway MAC is never evidence, so never a lead. */
	if (t->has_m && !bind_is_gateway(bt, &t->m, true))
		walk_index(bt, IX_M, mac_hash(&t->m), t, response, now, bm);
	/* SPEC 4: public SIP-IPs only, many homes share 192.168.1.x. */
	if (public_s(&t->s))
		walk_index(bt, IX_S, addr_hash(IX_S, &t->s), t, response,
		    now, bm);
}

bool
bind_has_source(const struct bind_table *bt, const struct sg_tuple *t)
{
	return bind_has_source_key(bt, bind_source_key(bt, t));
}

uint64_t
bind_source_key(const struct bind_table *bt, const struct sg_tuple *t)
{
	uint64_t	 key = key_hash(IX__COUNT, &t->m, t->has_m, &t->i, 0);

	hidx_prefetch(&bt->mi.ix, key);
	return key;
}

bool
bind_has_source_key(const struct bind_table *bt, uint64_t key)
{
	return cset_get(&bt->mi, key) > 0;
}

const struct binding *
bind_find_device(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t now)
{
	uint64_t	 dv = dev_hash(&t->m, t->has_m, &t->i, t->nat, &t->s);
	int		 n = 0;

	for (uint32_t s = hidx_first(&bt->ix[IX_DEV], dv); s != HNIL &&
	    n < WALK_MAX; s = hidx_next(&bt->ix[IX_DEV], s), n++) {
		struct binding	*b = &bt->row[s];

		if (same_device(b, t) && alive(b, now) &&
		    (t->s.family == SG_AF_NONE || sg_addr_eq(&b->s, &t->s)))
			return b;
	}
	return NULL;
}

/* ---- REGISTER rules 3 and 4 --------------------------------------------- */

const struct binding *
bind_ip_other_device(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t now)
{
	uint64_t	 ih = addr_hash(IX_I, &t->i);
	int		 n = 0;

	/* Only host MACs are evidence of a device (SPEC 2, 4). */
	if (!t->has_m || bind_is_gateway(bt, &t->m, true))
		return NULL;
	for (uint32_t s = hidx_first(&bt->ix[IX_I], ih); s != HNIL &&
	    n < WALK_MAX; s = hidx_next(&bt->ix[IX_I], s), n++) {
		struct binding	*b = &bt->row[s];

		if (!alive(b, now) || !sg_addr_eq(&b->i, &t->i))
			continue;
		if (!b->has_m || bind_is_gateway(bt, &b->m, true))
			continue;
		if (mac_eq(b, &t->m, t->has_m) || b->dh == t->dh)
			continue;
		return b;
	}
	return NULL;
}

int
bind_device_identities(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t now, bool *has_d)
{
	uint64_t	 dv = dev_hash(&t->m, t->has_m, &t->i, t->nat, &t->s);
	int		 count = 0;

	*has_d = false;
	/* The chain holds at most identities_per_device live entries. */
	for (uint32_t s = hidx_first(&bt->ix[IX_DEV], dv); s != HNIL;
	    s = hidx_next(&bt->ix[IX_DEV], s)) {
		struct binding	*b = &bt->row[s];

		if (!same_device(b, t) || !alive(b, now))
			continue;
		count++;
		if (b->dh == t->dh)
			*has_d = true;
	}
	return count;
}

/* ---- learning ----------------------------------------------------------- */

/* At most devices_per_identity live bindings for identity `dh'. */
static void
identity_make_room(struct bind_table *bt, uint64_t dh, uint64_t now)
{
	uint32_t	 oldest = HNIL;
	int		 n = 0;

	for (uint32_t s = hidx_first(&bt->ix[IX_D], dh); s != HNIL;
	    s = hidx_next(&bt->ix[IX_D], s)) {
		struct binding	*b = &bt->row[s];

		if (b->dh != dh || !alive(b, now))
			continue;
		n++;
		if (oldest == HNIL || b->refreshed <
		    bt->row[oldest].refreshed)
			oldest = s;
	}
	if (n >= bt->conf->devices_per_identity && oldest != HNIL) {
		unlink_row(bt, oldest);
		bt->st.quota_replaced++;
	}
}

/*
 * A binding learned for d at i: an imported one of d at i still waiting
 * for its MAC must go, or a later message from another MAC at i could
 * pin it.  The identity's chain is short (devices_per_identity).
 */
static void
drop_pending(struct bind_table *bt, uint64_t dh, const struct sg_addr *i)
{
	uint32_t	 s, next;

	if (bt->st.pending == 0)
		return;
	for (s = hidx_first(&bt->ix[IX_D], dh); s != HNIL; s = next) {
		struct binding	*b = &bt->row[s];

		next = hidx_next(&bt->ix[IX_D], s);
		if (b->dh == dh && b->pin && sg_addr_eq(&b->i, i)) {
			unlink_row(bt, s);
			bt->st.removed++;
		}
	}
}

enum bind_res
bind_learn(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t contact_idh, uint64_t expires, uint64_t now,
    const struct binding **out)
{
	struct binding	*b;
	uint32_t	 s;

	if ((b = find_f(bt, &t->m, t->has_m, &t->i, t->dh, now)) != NULL) {
		s = bind_slot(bt, b);
		/* s, the NAT flag or the Contact may change: relink. */
		if (!sg_addr_eq(&b->s, &t->s) || b->nat != t->nat ||
		    b->contact_idh != contact_idh) {
			uint32_t	 gen = b->gen;

			/* The same binding: its generation (and so its
			 * module II row) stays. */
			unlink_row(bt, s);
			dlist_del(&bt->free, s);
			b->gen = gen;
			b->s = t->s;
			b->nat = t->nat;
			b->contact_idh = contact_idh;
			link_row(bt, s);
		}
		b->port = t->sport;
		if (t->impih != 0) {
			b->impih = t->impih;
			memcpy(b->impi, t->impi, sizeof(b->impi));
		}
		b->refreshed = now;
		b->expires = expires;
		bt->st.refreshed++;
		drop_pending(bt, t->dh, &t->i);
		*out = b;
		return BIND_REFRESHED;
	}
	/*
	 * Quotas (SPEC 3), checked when the proxy answers, so REGISTERs in
	 * flight together cannot pass them: a device holds at most
	 * identities_per_device identities (more is refused), and an
	 * identity at most devices_per_identity devices (its own oldest
	 * binding makes room: only its credentials could have added them,
	 * and a phone that hops addresses keeps working).  One subscriber
	 * can so hold no more than devices_per_identity rows, whatever the
	 * number of its addresses.
	 */
	{
		bool	 has_d;

		if (bind_device_identities(bt, t, now, &has_d) >=
		    bt->conf->identities_per_device && !has_d) {
			bt->st.quota++;
			*out = NULL;
			return BIND_QUOTA;
		}
		identity_make_room(bt, t->dh, now);
	}
	if ((s = dlist_pop_head(&bt->free)) == HNIL) {
		/* Expired rows the sweep has not reached yet are free. */
		bind_expire(bt, now, bt->cap);
		s = dlist_pop_head(&bt->free);
	}
	if (s == HNIL) {
		bt->st.full++;
		*out = NULL;
		return BIND_FULL;
	}
	b = &bt->row[s];
	{
		uint32_t	 gen = b->gen;

		memset(b, 0, sizeof(*b));
		b->gen = gen;
	}
	b->m = t->m;
	b->has_m = t->has_m;
	b->i = t->i;
	b->s = t->s;
	b->nat = t->nat;
	b->port = t->sport;
	b->dh = t->dh;
	b->impih = t->impih;
	b->contact_idh = contact_idh;
	memcpy(b->d, t->d, sizeof(b->d));
	memcpy(b->impi, t->impi, sizeof(b->impi));
	b->created = b->refreshed = now;
	b->expires = expires;
	b->seq = ++bt->seq;
	link_row(bt, s);
	bt->st.learned++;
	drop_pending(bt, t->dh, &t->i);
	*out = b;
	return BIND_NEW;
}

/* ---- imported bindings (the proxy's dump) ------------------------------ */

int
bind_import(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t expires, uint64_t now)
{
	struct binding	*b;
	uint32_t	 s;
	int		 n = 0;

	if (expires <= now)
		return 0;
	for (s = hidx_first(&bt->ix[IX_D], t->dh); s != HNIL;
	    s = hidx_next(&bt->ix[IX_D], s)) {
		b = &bt->row[s];
		if (b->dh != t->dh || !alive(b, now))
			continue;
		if (!sg_addr_eq(&b->i, &t->i)) {
			n++;
			continue;
		}
		/*
		 * Known at i, with no MAC, not waiting for one: an imported
		 * binding the state file kept across a restart (it saves
		 * "none").  It waits for its MAC again, or no phone with
		 * one would ever match it.
		 */
		if (!b->has_m && !b->pin) {
			uint32_t	 gen = b->gen;

			unlink_row(bt, s);
			dlist_del(&bt->free, s);
			b->gen = gen;
			b->pin = true;
			link_row(bt, s);
			bt->st.imported++;
			return 1;
		}
		/* Known at i, with its MAC or imported before: kept. */
		return 0;
	}
	/* The dump never pushes out a binding sipguard saw learned. */
	if (n >= bt->conf->devices_per_identity) {
		bt->st.quota++;
		return -2;
	}
	if ((s = dlist_pop_head(&bt->free)) == HNIL) {
		bind_expire(bt, now, bt->cap);
		s = dlist_pop_head(&bt->free);
	}
	if (s == HNIL) {
		bt->st.full++;
		return -1;
	}
	b = &bt->row[s];
	{
		uint32_t	 gen = b->gen;

		memset(b, 0, sizeof(*b));
		b->gen = gen;
	}
	b->pin = true;
	b->i = t->i;
	b->s = t->s;
	/* As tuple_sip() sets it for the device's own messages. */
	b->nat = bt->conf->nat != NAT_STRICT && sg_addr_is_ip(&t->s) &&
	    !sg_addr_eq(&t->s, &t->i) && sg_addr_private(&t->s);
	b->port = t->sport;
	b->dh = t->dh;
	memcpy(b->d, t->d, sizeof(b->d));
	b->created = b->refreshed = now;
	b->expires = expires;
	b->seq = ++bt->seq;
	link_row(bt, s);
	bt->st.imported++;
	return 1;
}

const struct binding *
bind_pin(struct bind_table *bt, const struct sg_tuple *t, uint64_t now)
{
	uint32_t	 s;
	int		 n = 0;

	if (bt->st.pending == 0)
		return NULL;
	for (s = hidx_first(&bt->ix[IX_D], t->dh); s != HNIL && n < WALK_MAX;
	    s = hidx_next(&bt->ix[IX_D], s), n++) {
		struct binding	*b = &bt->row[s];
		uint32_t	 gen;

		if (b->dh != t->dh || !b->pin || !alive(b, now) ||
		    !sg_addr_eq(&b->i, &t->i))
			continue;
		/* SPEC 2: a response without Contact states no SIP-IP. */
		if (t->s.family != SG_AF_NONE && !sg_addr_eq(&b->s, &t->s))
			continue;
		/* The same row, now with its MAC: relink as bind_learn(). */
		gen = b->gen;
		unlink_row(bt, s);
		dlist_del(&bt->free, s);
		b->gen = gen;
		b->pin = false;
		b->m = t->m;
		b->has_m = t->has_m;
		b->port = t->sport;
		b->refreshed = now;
		link_row(bt, s);
		bt->st.pinned++;
		return b;
	}
	return NULL;
}

int
bind_remove(struct bind_table *bt, const struct sg_tuple *t)
{
	struct binding	*b;

	/* now = 0: an expired row is still found, and removed here. */
	if ((b = find_f(bt, &t->m, t->has_m, &t->i, t->dh, 0)) == NULL)
		return 0;
	unlink_row(bt, bind_slot(bt, b));
	bt->st.removed++;
	return 1;
}

int
bind_remove_identity(struct bind_table *bt, uint64_t dh)
{
	int		 n = 0;
	uint32_t	 s, next;

	for (s = hidx_first(&bt->ix[IX_D], dh); s != HNIL; s = next) {
		next = hidx_next(&bt->ix[IX_D], s);
		if (bt->row[s].dh == dh) {
			unlink_row(bt, s);
			bt->st.removed++;
			n++;
		}
	}
	return n;
}

void
bind_expire(struct bind_table *bt, uint64_t now, uint32_t budget)
{
	for (uint32_t k = 0; k < budget && k < bt->cap; k++) {
		struct binding	*b = &bt->row[bt->sweep];

		if (b->live && b->expires <= now) {
			unlink_row(bt, bt->sweep);
			bt->st.expired++;
		}
		if (++bt->sweep == bt->cap)
			bt->sweep = 0;
	}
}

int
bind_restore(struct bind_table *bt, const struct binding *saved,
    uint64_t now)
{
	struct sg_tuple		 t;
	const struct binding	*b;
	struct binding		*w;

	if (saved->expires <= now)
		return 0;
	memset(&t, 0, sizeof(t));
	t.m = saved->m;
	t.has_m = saved->has_m;
	t.i = saved->i;
	t.s = saved->s;
	t.nat = saved->nat;
	t.sport = saved->port;
	t.dh = saved->dh;
	t.impih = saved->impih;
	memcpy(t.d, saved->d, sizeof(t.d));
	memcpy(t.impi, saved->impi, sizeof(t.impi));
	if (bind_learn(bt, &t, saved->contact_idh, saved->expires, now,
	    &b) == BIND_FULL)
		return -1;
	w = &bt->row[bind_slot(bt, b)];
	w->created = saved->created;
	w->refreshed = saved->refreshed;
	return 1;
}

void
bind_stats(const struct bind_table *bt, struct bind_stats *st)
{
	*st = bt->st;
	st->gateway_macs = 0;
	for (uint32_t s = 0; s < bt->cap; s++)
		if (bt->macips.count[s] > (uint32_t)bt->conf->gateway_mac_ips)
			st->gateway_macs++;
}
