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

struct enforcer {
	struct ftab	 ft;
	struct bl_entry	*row;
	const struct sg_conf *conf;
	uint32_t	 nkind[4];	/* live entries per kind */
	enf_offload	 offload;
	void		*offload_arg;
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
	if (e->row == NULL || ftab_init(&e->ft, cap) == -1) {
		enf_destroy(e);
		return NULL;
	}
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
	free(e);
}

void
enf_set_conf(struct enforcer *e, const struct sg_conf *conf)
{
	e->conf = conf;
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

static void
drop_entry(struct enforcer *e, uint32_t s)
{
	const struct bl_entry	*b = &e->row[s];

	e->nkind[b->key.kind]--;
	if (e->offload != NULL && b->key.kind != BL_K)
		e->offload(e->offload_arg, b, false);
	ftab_del(&e->ft, s);
}

/*
 * Keep the order list sorted by expiry, so expiry and eviction both take
 * from its head: insert scanning back from the tail (O(1) when every
 * entry has the same TTL, as is usual).
 */
static void
place(struct enforcer *e, uint32_t s)
{
	struct dlist	*d = &e->ft.order;
	uint32_t	 at;

	dlist_del(d, s);
	at = d->tail;
	while (at != HNIL && e->ft.expires[at] > e->ft.expires[s])
		at = d->link[at].prev;
	if (at == d->tail) {
		dlist_push_tail(d, s);
		return;
	}
	/* Insert after `at' (or at the head when at == HNIL). */
	d->link[s].prev = at;
	d->link[s].next = at == HNIL ? d->head : d->link[at].next;
	if (at == HNIL)
		d->head = s;
	else
		d->link[at].next = s;
	d->link[d->link[s].next].prev = s;
	d->count++;
}

static uint32_t
find(struct enforcer *e, const struct bl_key *k, uint64_t now)
{
	uint64_t	 h = hash_bytes(k, sizeof(*k));
	uint32_t	 s;

	for (s = hidx_first(&e->ft.ix, h); s != HNIL;
	    s = hidx_next(&e->ft.ix, s)) {
		if (e->ft.key[s] != h ||
		    memcmp(&e->row[s].key, k, sizeof(*k)) != 0)
			continue;
		if (e->ft.expires[s] <= now) {
			drop_entry(e, s);
			e->st.expired++;
			return HNIL;
		}
		return s;
	}
	return HNIL;
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

bool
enf_check_l3(struct enforcer *e, const struct sg_tuple *t, uint64_t now)
{
	struct bl_key	 k;

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

	if (e->nkind[BL_K] == 0)
		return false;
	enf_key_k(&k, t);
	if (hit(e, &k, now)) {
		e->st.hits_k++;
		return true;
	}
	return false;
}

enum alarm_action
enf_add(struct enforcer *e, const struct bl_key *k, const char *why,
    const char *d, uint64_t ttl, uint64_t now)
{
	uint64_t	 h = hash_bytes(k, sizeof(*k));
	uint32_t	 s;
	bool		 evicted;
	struct bl_entry	*b;

	if (conf_is_whitelisted(e->conf, &k->i))
		return ACT_DROP;
	if (e->conf->mode == MODE_DETECT)
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
		/* Full: recycle the one closest to expiry, telling the
		 * kernel first. */
		drop_entry(e, e->ft.order.head);
		e->st.evicted++;
	}
	s = ftab_insert(&e->ft, h, now + ttl, &evicted);
	place(e, s);
	b = &e->row[s];
	memset(b, 0, sizeof(*b));
	b->key = *k;
	b->added = now;
	b->expires = now + ttl;
	snprintf(b->why, sizeof(b->why), "%s", why ? why : "-");
	snprintf(b->d, sizeof(b->d), "%s", d ? d : "");
	e->nkind[k->kind]++;
	e->st.added++;
	if (e->offload != NULL && k->kind != BL_K)
		e->offload(e->offload_arg, b, true);
	return ACT_BLOCK;
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
	/* Sorted by expiry: the expired entries are at the head. */
	for (int n = 0; n < 64 && e->ft.order.head != HNIL; n++) {
		uint32_t	 s = e->ft.order.head;

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
