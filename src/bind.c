/*
 * bind.c: the binding table.  One array of rows allocated at start; a free
 * list; hash indexes by F, by F through the registered Contact, and by m,
 * i, d, public s and device; a counting Bloom filter over F; reference
 * counts that tell gateway MACs (many live IPs behind one MAC) apart; the
 * rows' identity texts in a pool of cells (idpool.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cbf.h"
#include "hash.h"
#include "htab.h"
#include "idpool.h"

/* Most entries one secondary-index walk looks at (label search only). */
#define WALK_MAX	64

enum { IX_F, IX_CF, IX_M, IX_I, IX_D, IX_S, IX_DEV, IX__COUNT };

/*
 * An IMPI is most often d itself or d's user part (the text before its
 * first '@'): kept as such, it takes no cell of the pool.
 */
#define IMPI_IS_D	(IDP_REF_MAX + 1)
#define IMPI_IS_USER	(IDP_REF_MAX + 2)

/*
 * A counter keyed by a 64-bit keyed hash: (m, i) pairs, MACs.  A free
 * entry is in no chain: the free list borrows the index's links.
 */
struct cset {
	struct sidx	 ix;
	struct flist	 free;
	uint64_t	*key;
	uint32_t	*count;
};

struct bind_table {
	struct binding	*row;
	uint32_t	 cap;
	struct flist	 free;		/* through ix[IX_F]'s links */
	/* Each index is one of sx[k], hx[k]: ix_one_way() says which. */
	struct sidx	 sx[IX__COUNT];
	struct hidx	 hx[IX__COUNT];
	struct cbf	*bloom;
	struct idpool	*ids;		/* d and IMPI texts */
	struct cset	 mi;		/* live bindings per (m, i) */
	struct cset	 macips;	/* distinct live i per m */
	uint32_t	 sweep;
	uint64_t	 seq;
	uint64_t	 reclaim_at;	/* free_row() */
	const struct sg_conf *conf;
	struct bind_stats st;
};

/*
 * F, CF, D and DEV hold a row a key, or as many as a quota allows
 * (devices_per_identity, identities_per_device; and expired rows until
 * the sweep): linked one way, 4 bytes a slot, removal walking the short
 * chain.  M, I and S can hold thousands a key (a gateway's MAC, a
 * carrier NAT's address): linked both ways, so removal stays O(1).
 */
static inline bool
ix_one_way(int k)
{
	return k == IX_F || k == IX_CF || k == IX_D || k == IX_DEV;
}

static inline uint32_t
ix_first(const struct bind_table *bt, int k, uint64_t hv)
{
	return ix_one_way(k) ? sidx_first(&bt->sx[k], hv) :
	    hidx_first(&bt->hx[k], hv);
}

static inline uint32_t
ix_next(const struct bind_table *bt, int k, uint32_t s)
{
	return ix_one_way(k) ? sidx_next(&bt->sx[k], s) :
	    hidx_next(&bt->hx[k], s);
}

static void
ix_add(struct bind_table *bt, int k, uint32_t s, uint64_t hv)
{
	if (ix_one_way(k))
		sidx_add(&bt->sx[k], s, hv);
	else
		hidx_add(&bt->hx[k], s, hv);
}

static void
ix_del(struct bind_table *bt, int k, uint32_t s, uint64_t hv)
{
	if (ix_one_way(k))
		sidx_del(&bt->sx[k], s, hv);
	else
		hidx_del(&bt->hx[k], s, hv);
}

/* ---- counters ----------------------------------------------------------- */

static int
cset_init(struct cset *c, uint32_t cap)
{
	if (sidx_init(&c->ix, cap) == -1)
		return -1;
	flist_init(&c->free, &c->ix);
	c->key = sg_table_alloc(cap, sizeof(*c->key));
	c->count = sg_table_alloc(cap, sizeof(*c->count));
	if (c->key == NULL || c->count == NULL)
		return -1;
	flist_fill(&c->free, cap);
	return 0;
}

static void
cset_fini(struct cset *c)
{
	sidx_fini(&c->ix);
	free(c->key);
	free(c->count);
}

static uint32_t
cset_find(const struct cset *c, uint64_t key)
{
	for (uint32_t s = sidx_first(&c->ix, key); s != HNIL;
	    s = sidx_next(&c->ix, s))
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
		if ((s = flist_pop_head(&c->free)) == HNIL)
			return 0;
		c->key[s] = key;
		c->count[s] = 0;
		sidx_add(&c->ix, s, key);
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
	sidx_del(&c->ix, s, key);
	flist_push_tail(&c->free, s);
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
	if (bt->row == NULL)
		goto fail;
	for (int k = 0; k < IX__COUNT; k++)
		if (ix_one_way(k) ? sidx_init(&bt->sx[k], cap) == -1 :
		    hidx_init(&bt->hx[k], cap) == -1)
			goto fail;
	/* A free row is in no index, so in no chain of IX_F. */
	flist_init(&bt->free, &bt->sx[IX_F]);
	bt->bloom = cbf_create(cap * (uint32_t)conf->bloom_cells,
	    conf->bloom_hashes);
	bt->ids = idp_create((uint32_t)((uint64_t)cap *
	    (uint64_t)conf->tab_identity_bytes / IDP_CELL));
	if (bt->bloom == NULL || bt->ids == NULL ||
	    cset_init(&bt->mi, cap) == -1 ||
	    cset_init(&bt->macips, cap) == -1)
		goto fail;
	flist_fill(&bt->free, cap);
	bt->st.capacity = cap;
	bt->st.id_cells = idp_capacity(bt->ids);
	bt->st.memory = sizeof(*bt) + idp_memory(bt->ids) +
	    (size_t)cap * sizeof(*bt->row) + cbf_memory(bt->bloom) +
	    2 * ((size_t)cap * (sizeof(uint64_t) + sizeof(uint32_t)) +
	    sidx_memory(&bt->mi.ix, cap));
	for (int k = 0; k < IX__COUNT; k++)
		bt->st.memory += ix_one_way(k) ? sidx_memory(&bt->sx[k], cap) :
		    hidx_memory(&bt->hx[k], cap);
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
	for (int k = 0; k < IX__COUNT; k++) {
		sidx_fini(&bt->sx[k]);
		hidx_fini(&bt->hx[k]);
	}
	cbf_destroy(bt->bloom);
	idp_destroy(bt->ids);
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

void
bind_tuple(const struct binding *b, struct sg_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->m = b->m;
	t->has_m = b->has_m;
	t->i = b->i;
	t->s = b->s;
	t->nat = b->nat;
	t->sport = b->port;
	t->dh = b->dh;
	t->impih = b->impih;
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

/* ---- identity texts ----------------------------------------------------- */

const char *
bind_d(const struct bind_table *bt, const struct binding *b, char *buf)
{
	return idp_get(bt->ids, b->d_ref, buf, SG_ID_MAX);
}

const char *
bind_impi(const struct bind_table *bt, const struct binding *b, char *buf)
{
	const char	*d, *at;
	size_t		 n;

	switch (b->impi_ref) {
	case IMPI_IS_D:
		return bind_d(bt, b, buf);
	case IMPI_IS_USER:
		d = bind_d(bt, b, buf);
		n = (at = strchr(d, '@')) != NULL ? (size_t)(at - d) :
		    strlen(d);
		if (d != buf)
			memcpy(buf, d, n);
		buf[n] = '\0';
		return buf;
	default:
		return idp_get(bt->ids, b->impi_ref, buf, SG_ID_MAX);
	}
}

/* How an IMPI of `il' bytes is kept beside d: IMPI_IS_*, or 0 (cells). */
static uint32_t
impi_kind(const char *d, size_t dl, const char *impi, size_t il)
{
	const char	*at;

	if (il == 0)
		return IDP_NONE;
	if (il == dl && memcmp(d, impi, il) == 0)
		return IMPI_IS_D;
	if ((at = memchr(d, '@', dl)) != NULL && (size_t)(at - d) == il &&
	    memcmp(d, impi, il) == 0)
		return IMPI_IS_USER;
	return 0;
}

/* Cells the texts d and impi need, as texts_put() would keep them. */
static uint32_t
texts_need(const char *d, const char *impi)
{
	size_t		 dl = strnlen(d, SG_ID_MAX - 1);
	size_t		 il = strnlen(impi, SG_ID_MAX - 1);

	return idp_cells(dl) + (impi_kind(d, dl, impi, il) == 0 ?
	    idp_cells(il) : 0);
}

/*
 * Row b's texts, room checked by the caller (texts_need()): they cannot
 * fail then, and a binding never holds half its identity.
 */
static void
texts_put(struct bind_table *bt, struct binding *b, const char *d,
    const char *impi)
{
	size_t		 dl = strnlen(d, SG_ID_MAX - 1);
	size_t		 il = strnlen(impi, SG_ID_MAX - 1);

	(void)idp_put(bt->ids, d, dl, &b->d_ref);
	if ((b->impi_ref = impi_kind(d, dl, impi, il)) == 0)
		(void)idp_put(bt->ids, impi, il, &b->impi_ref);
}

static void
texts_free(struct bind_table *bt, struct binding *b)
{
	idp_free(bt->ids, b->d_ref);
	if (b->impi_ref < IDP_REF_MAX)
		idp_free(bt->ids, b->impi_ref);
	b->d_ref = b->impi_ref = IDP_NONE;
}

/*
 * A refresh naming another IMPI: kept if the pool has room for it (the
 * old one's cells count), else the binding keeps the IMPI it had, and
 * its hash (counted id_kept): a refresh is never refused for its text.
 */
static void
impi_replace(struct bind_table *bt, struct binding *b, uint64_t impih,
    const char *impi)
{
	char		 dbuf[SG_ID_MAX], old[SG_ID_MAX], tmp[SG_ID_MAX];
	const char	*d = bind_d(bt, b, dbuf);
	size_t		 dl = strlen(d);
	size_t		 il = strnlen(impi, SG_ID_MAX - 1);
	uint32_t	 k = impi_kind(d, dl, impi, il);

	if (k == 0) {
		snprintf(old, sizeof(old), "%s", bind_impi(bt, b, tmp));
		if (b->impi_ref < IDP_REF_MAX)
			idp_free(bt->ids, b->impi_ref);
		b->impi_ref = IDP_NONE;
		if (idp_put(bt->ids, impi, il, &b->impi_ref) == -1) {
			/* Its own cells are free again: it fits back. */
			b->impi_ref = impi_kind(d, dl, old, strlen(old));
			if (b->impi_ref == 0)
				(void)idp_put(bt->ids, old, strlen(old),
				    &b->impi_ref);
			bt->st.id_kept++;
			return;
		}
	} else {
		if (b->impi_ref < IDP_REF_MAX)
			idp_free(bt->ids, b->impi_ref);
		b->impi_ref = k;
	}
	b->impih = impih;
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

	if (b->expires < bt->reclaim_at)
		bt->reclaim_at = b->expires;	/* free_row */
	row_keys(b, &k);
	/* An imported row waiting for its MAC: only i, d and s lead to it. */
	if (!b->pin) {
		cbf_add(bt->bloom, &k.ck);
		ix_add(bt, IX_F, s, k.ck.h[0]);
		if (b->contact_idh != 0 && b->contact_idh != b->dh)
			ix_add(bt, IX_CF, s, k.cf);
		if (b->has_m)
			ix_add(bt, IX_M, s, k.m);
		ix_add(bt, IX_DEV, s, k.dev);
		if (cset_inc(&bt->mi, k.mi) == 1 && b->has_m)
			cset_inc(&bt->macips, k.m);
	} else
		bt->st.pending++;
	ix_add(bt, IX_I, s, k.i);
	ix_add(bt, IX_D, s, b->dh);
	if (public_s(&b->s))
		ix_add(bt, IX_S, s, k.s);
	b->live = true;
	bt->st.live++;
}

/*
 * Out of every index, the row itself kept (its generation, its texts):
 * link_row() puts it back after a change of the fields they key.
 */
static void
unindex_row(struct bind_table *bt, uint32_t s)
{
	struct binding	*b = &bt->row[s];
	struct row_keys	 k;

	row_keys(b, &k);
	if (!b->pin) {
		cbf_remove(bt->bloom, &k.ck);
		ix_del(bt, IX_F, s, k.ck.h[0]);
		if (b->contact_idh != 0 && b->contact_idh != b->dh)
			ix_del(bt, IX_CF, s, k.cf);
		if (b->has_m)
			ix_del(bt, IX_M, s, k.m);
		ix_del(bt, IX_DEV, s, k.dev);
		if (cset_dec(&bt->mi, k.mi) == 0 && b->has_m)
			cset_dec(&bt->macips, k.m);
	} else
		bt->st.pending--;
	ix_del(bt, IX_I, s, k.i);
	ix_del(bt, IX_D, s, b->dh);
	if (public_s(&b->s))
		ix_del(bt, IX_S, s, k.s);
	b->live = false;
	bt->st.live--;
}

/* The binding gone: its slot and its texts' cells are free. */
static void
unlink_row(struct bind_table *bt, uint32_t s)
{
	struct binding	*b = &bt->row[s];

	unindex_row(bt, s);
	texts_free(bt, b);
	b->gen++;
	flist_push_tail(&bt->free, s);
}

static bool
alive(struct binding *b, uint64_t now)
{
	return b->live && b->expires > now;
}

/*
 * A binding that expired by time (not one removed by a de-registration)
 * is kept `bindings.grace' longer, lapsed: only its exact F finds it
 * (bind_find, and bind_learn to refresh it in place), no other lookup.
 * After a proxy outage longer than what was left of their registrations,
 * phones go on sending from the same device with the same identity until
 * they register again; SPEC 3 would have them dropped as case b (and
 * blacklisted) meanwhile.  What a lapsed binding lets through is what the
 * same binding let through a moment before: the same MAC, IP and
 * identity.  It holds no quota, no address (REGISTER rule 3) and labels
 * nothing, and a full table reclaims lapsed rows first.  An imported
 * binding still waiting for its MAC has no exact F: no grace.
 */
static bool
held(const struct bind_table *bt, const struct binding *b, uint64_t now)
{
	return b->live && b->expires + (b->pin ? 0 : bt->conf->bind_grace) >
	    now;
}

bool
bind_held(const struct bind_table *bt, const struct binding *b,
    uint64_t now)
{
	return held(bt, b, now);
}

uint64_t
bind_grace(const struct bind_table *bt)
{
	return bt->conf->bind_grace;
}

/* ---- exact lookup ------------------------------------------------------- */

/* F's own row, a lapsed one (in its grace) too. */
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
	for (uint32_t s = ix_first(bt, IX_F, ck.h[0]); s != HNIL;
	    s = ix_next(bt, IX_F, s)) {
		struct binding	*b = &bt->row[s];

		/* The fields F hashes: equal ones, an equal F hash. */
		if (b->dh == dh && mac_eq(b, m, has_m) &&
		    sg_addr_eq(&b->i, i)) {
			if (!held(bt, b, now)) {
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

	for (uint32_t s = ix_first(bt, ix, hv); s != HNIL &&
	    n < WALK_MAX; s = ix_next(bt, ix, s), n++) {
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
	/* A lapsed row labels nothing, but is bind_find()'s answer. */
	if ((bm->f = b = find_f(bt, &t->m, t->has_m, &t->i, t->dh,
	    now)) != NULL && alive(b, now)) {
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
bind_source_hash(const struct sg_tuple *t)
{
	return key_hash(IX__COUNT, &t->m, t->has_m, &t->i, 0);
}

uint64_t
bind_source_key(const struct bind_table *bt, const struct sg_tuple *t)
{
	uint64_t	 key = bind_source_hash(t);

	sidx_prefetch(&bt->mi.ix, key);
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

	for (uint32_t s = ix_first(bt, IX_DEV, dv); s != HNIL &&
	    n < WALK_MAX; s = ix_next(bt, IX_DEV, s), n++) {
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
	for (uint32_t s = ix_first(bt, IX_I, ih); s != HNIL &&
	    n < WALK_MAX; s = ix_next(bt, IX_I, s), n++) {
		struct binding	*b = &bt->row[s];

		if (!alive(b, now) || !sg_addr_eq(&b->i, &t->i))
			continue;
		/*
		 * The sender's own rows first: a MAC's gateway check is a
		 * keyed hash, and the row found is nearly always its own.
		 */
		if (mac_eq(b, &t->m, t->has_m) || b->dh == t->dh)
			continue;
		if (!b->has_m || bind_is_gateway(bt, &b->m, true))
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
	for (uint32_t s = ix_first(bt, IX_DEV, dv); s != HNIL;
	    s = ix_next(bt, IX_DEV, s)) {
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

	for (uint32_t s = ix_first(bt, IX_D, dh); s != HNIL;
	    s = ix_next(bt, IX_D, s)) {
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
	for (s = ix_first(bt, IX_D, dh); s != HNIL; s = next) {
		struct binding	*b = &bt->row[s];

		next = ix_next(bt, IX_D, s);
		if (b->dh == dh && b->pin && sg_addr_eq(&b->i, i)) {
			unlink_row(bt, s);
			bt->st.removed++;
		}
	}
}

/*
 * Reclaim, looking at no more than `budget' slots from the sweep's place,
 * the rows past their grace; with `lapsed', the first row past its
 * expiry instead (a full table makes room in lapsed rows before it
 * refuses a registration).  1 if a row was reclaimed.
 */
static int
sweep(struct bind_table *bt, uint64_t now, uint32_t budget, bool lapsed)
{
	int	 n = 0;

	for (uint32_t k = 0; k < budget && k < bt->cap; k++) {
		struct binding	*b = &bt->row[bt->sweep];

		if (lapsed ? b->live && b->expires <= now :
		    b->live && !held(bt, b, now)) {
			unlink_row(bt, bt->sweep);
			bt->st.expired++;
			n = 1;
		}
		if (++bt->sweep == bt->cap)
			bt->sweep = 0;
		if (n && lapsed)
			break;
	}
	return n;
}

void
bind_expire(struct bind_table *bt, uint64_t now, uint32_t budget)
{
	sweep(bt, now, budget, false);
}

/* Nothing to reclaim: nothing can be before the first live row lapses. */
static void
reclaim_next(struct bind_table *bt)
{
	bt->reclaim_at = UINT64_MAX;
	for (uint32_t k = 0; k < bt->cap; k++)
		if (bt->row[k].live && bt->row[k].expires < bt->reclaim_at)
			bt->reclaim_at = bt->row[k].expires;
}

/* Room for a row (cells 0), or for `cells' of the identity pool. */
static bool
room_for(const struct bind_table *bt, uint32_t cells)
{
	return cells == 0 ? bt->free.count > 0 :
	    cells <= idp_available(bt->ids);
}

/*
 * Make room (a row, or cells of the identity pool) from bindings gone but
 * not reclaimed yet: expired ones the sweep has not reached, then lapsed
 * ones, a few at most.  Cost: a full table with nothing to reclaim is
 * swept whole (twice: 45 ms in a table of a million), as often as the
 * proxy answers a new binding; nothing can be reclaimed before the first
 * live row's expiry, so until then (reclaim_at; a refresh that shortens
 * a life lowers it) a refusal costs nothing.
 */
static bool
reclaim(struct bind_table *bt, uint64_t now, uint32_t cells)
{
	if (room_for(bt, cells))
		return true;
	if (now < bt->reclaim_at)
		return false;
	sweep(bt, now, bt->cap, false);
	for (int k = 0; k < 4 && !room_for(bt, cells); k++) {
		if (!sweep(bt, now, bt->cap, true))
			break;
		bt->st.lapsed_reclaimed++;
	}
	if (room_for(bt, cells))
		return true;
	reclaim_next(bt);
	return false;
}

/* A free row, if need be one of an expired or lapsed binding. */
static uint32_t
free_row(struct bind_table *bt, uint64_t now)
{
	return reclaim(bt, now, 0) ? flist_pop_head(&bt->free) : HNIL;
}

/* Room for the texts of a new binding, the same way. */
static bool
texts_room(struct bind_table *bt, uint32_t need, uint64_t now)
{
	if (reclaim(bt, now, need))
		return true;
	bt->st.id_full++;
	return false;
}

/*
 * Quotas (SPEC 3), checked when the proxy answers, so REGISTERs in
 * flight together cannot pass them: a device holds at most
 * identities_per_device identities (more is refused: false), and an
 * identity at most devices_per_identity devices (its own oldest binding
 * makes room, identity_make_room(): only its credentials could have
 * added them, and a phone that hops addresses keeps working).  One
 * subscriber can so hold no more than devices_per_identity rows,
 * whatever the number of its addresses.
 */
static bool
device_quota(struct bind_table *bt, const struct sg_tuple *t, uint64_t now)
{
	bool	 has_d;

	if (bind_device_identities(bt, t, now, &has_d) >=
	    bt->conf->identities_per_device && !has_d) {
		bt->st.quota++;
		return false;
	}
	return true;
}

enum bind_res
bind_learn(struct bind_table *bt, const struct sg_tuple *t,
    uint64_t contact_idh, uint64_t expires, uint64_t now,
    const struct binding **out)
{
	struct binding	*b;
	uint32_t	 s;

	/* A lapsed binding registering again is refreshed in place: its
	 * generation, and so its module II row, stay. */
	if ((b = find_f(bt, &t->m, t->has_m, &t->i, t->dh, now)) !=
	    NULL) {
		/*
		 * Lapsed, it held no quota: it takes one again as a new
		 * binding does.  Else a subscriber's rows left to lapse,
		 * as many learned meanwhile, and the lapsed ones refreshed
		 * would hold any number (one per source MAC on a LAN).
		 */
		if (b->expires <= now) {
			if (!device_quota(bt, t, now)) {
				*out = NULL;
				return BIND_QUOTA;
			}
			identity_make_room(bt, t->dh, now);
		}
		s = bind_slot(bt, b);
		/* s, the NAT flag or the Contact may change: relink. */
		if (!sg_addr_eq(&b->s, &t->s) || b->nat != t->nat ||
		    b->contact_idh != contact_idh) {
			/* The same binding: its generation (and so its
			 * module II row) stays. */
			unindex_row(bt, s);
			b->s = t->s;
			b->nat = t->nat;
			b->contact_idh = contact_idh;
			link_row(bt, s);
		}
		b->port = t->sport;
		if (t->impih != 0 && t->impih != b->impih)
			impi_replace(bt, b, t->impih, t->impi);
		b->refreshed = now;
		b->expires = expires;
		if (expires < bt->reclaim_at)
			bt->reclaim_at = expires;
		bt->st.refreshed++;
		drop_pending(bt, t->dh, &t->i);
		*out = b;
		return BIND_REFRESHED;
	}
	if (!device_quota(bt, t, now)) {
		*out = NULL;
		return BIND_QUOTA;
	}
	/* Room for the texts before the identity's oldest binding makes
	 * room: never one removed for a refused one. */
	if (!texts_room(bt, texts_need(t->d, t->impi), now)) {
		*out = NULL;
		return BIND_POOL_FULL;
	}
	identity_make_room(bt, t->dh, now);
	if ((s = free_row(bt, now)) == HNIL) {
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
	texts_put(bt, b, t->d, t->impi);
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
	for (s = ix_first(bt, IX_D, t->dh); s != HNIL;
	    s = ix_next(bt, IX_D, s)) {
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
			unindex_row(bt, s);
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
	if (!texts_room(bt, texts_need(t->d, ""), now))
		return -1;
	if ((s = free_row(bt, now)) == HNIL) {
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
	texts_put(bt, b, t->d, "");
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
	for (s = ix_first(bt, IX_D, t->dh); s != HNIL && n < WALK_MAX;
	    s = ix_next(bt, IX_D, s), n++) {
		struct binding	*b = &bt->row[s];

		if (b->dh != t->dh || !b->pin || !alive(b, now) ||
		    !sg_addr_eq(&b->i, &t->i))
			continue;
		/* SPEC 2: a response without Contact states no SIP-IP. */
		if (t->s.family != SG_AF_NONE && !sg_addr_eq(&b->s, &t->s))
			continue;
		/*
		 * REGISTER rule 3 holds for a pin as for a learning: a host
		 * MAC never pins where another device's live binding holds
		 * i.  Else one forged message makes a row a peer on another
		 * segment shared (or the dump listed) evidence against the
		 * address's owner, whose next REGISTER would be refused.
		 */
		if (bind_ip_other_device(bt, t, now) != NULL)
			return NULL;
		/* The same row, now with its MAC: relink as bind_learn(). */
		unindex_row(bt, s);
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

	for (s = ix_first(bt, IX_D, dh); s != HNIL; s = next) {
		next = ix_next(bt, IX_D, s);
		if (bt->row[s].dh == dh) {
			unlink_row(bt, s);
			bt->st.removed++;
			n++;
		}
	}
	return n;
}

/* ---- for the cluster ---------------------------------------------------- */

int
bind_identity_rows(struct bind_table *bt, uint64_t dh, uint64_t now,
    const struct binding **out, int max)
{
	int	 n = 0;

	for (uint32_t s = ix_first(bt, IX_D, dh); s != HNIL;
	    s = ix_next(bt, IX_D, s)) {
		struct binding	*b = &bt->row[s];

		if (b->dh != dh || !b->live || (now != 0 && !alive(b, now)))
			continue;
		if (n < max)
			out[n] = b;
		n++;
	}
	return n;
}

void
bind_drop(struct bind_table *bt, const struct binding *b)
{
	uint32_t	 s = bind_slot(bt, b);

	if (s < bt->cap && bt->row[s].live) {
		unlink_row(bt, s);
		bt->st.removed++;
	}
}

void
bind_extend(struct bind_table *bt, const struct binding *b, uint64_t expires)
{
	uint32_t	 s = bind_slot(bt, b);

	if (s < bt->cap && bt->row[s].live && bt->row[s].expires < expires)
		bt->row[s].expires = expires;
}

uint32_t
bind_live(const struct bind_table *bt)
{
	return bt->st.live;
}

int
bind_restore(struct bind_table *bt, const struct binding *saved,
    const char *d, const char *impi, uint64_t now)
{
	struct sg_tuple		 t;
	const struct binding	*b;
	struct binding		*w;

	if (saved->expires + bt->conf->bind_grace <= now)
		return 0;
	/* Lapsed, it held no quota: restored, it takes none from a live
	 * row (identity_make_room would evict the identity's oldest). */
	if (saved->expires <= now && bind_identity_rows(bt, saved->dh, now,
	    NULL, 0) >= bt->conf->devices_per_identity)
		return 0;
	bind_tuple(saved, &t);
	snprintf(t.d, sizeof(t.d), "%s", d);
	snprintf(t.impi, sizeof(t.impi), "%s", impi);
	switch (bind_learn(bt, &t, saved->contact_idh, saved->expires, now,
	    &b)) {
	case BIND_NEW:
	case BIND_REFRESHED:
		break;
	case BIND_QUOTA:
		/* identities_per_device: a lapsed row's device holds them
		 * live, or the limit was lowered.  Skipped. */
		return 0;
	default:
		return -1;
	}
	w = &bt->row[bind_slot(bt, b)];
	w->created = saved->created;
	w->refreshed = saved->refreshed;
	return 1;
}

void
bind_stats(const struct bind_table *bt, struct bind_stats *st)
{
	*st = bt->st;
	st->id_cells_used = idp_used(bt->ids);
	st->gateway_macs = 0;
	for (uint32_t s = 0; s < bt->cap; s++)
		if (bt->macips.count[s] > (uint32_t)bt->conf->gateway_mac_ips)
			st->gateway_macs++;
}
