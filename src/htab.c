/*
 * htab.c: chained hash index and intrusive slot lists over caller arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "sipguard.h"

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t	 p = 16;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

int
hidx_init(struct hidx *h, uint32_t slots)
{
	uint32_t	 nb = pow2_at_least(slots);

	h->mask = nb - 1;
	h->head = malloc((size_t)nb * sizeof(*h->head));
	h->link = malloc((size_t)slots * sizeof(*h->link));
	if (h->head == NULL || h->link == NULL) {
		hidx_fini(h);
		return -1;
	}
	hidx_clear(h, slots);
	return 0;
}

void
hidx_fini(struct hidx *h)
{
	free(h->head);
	free(h->link);
	h->head = NULL;
	h->link = NULL;
}

void
hidx_clear(struct hidx *h, uint32_t slots)
{
	memset(h->head, 0xff, ((size_t)h->mask + 1) * sizeof(*h->head));
	memset(h->link, 0xff, (size_t)slots * sizeof(*h->link));
}

size_t
hidx_memory(const struct hidx *h, uint32_t slots)
{
	return ((size_t)h->mask + 1) * sizeof(*h->head) +
	    (size_t)slots * sizeof(*h->link);
}

void
hidx_add(struct hidx *h, uint32_t slot, uint64_t hv)
{
	uint32_t	*head = &h->head[hv & h->mask];

	h->link[slot].prev = HNIL;
	h->link[slot].next = *head;
	if (*head != HNIL)
		h->link[*head].prev = slot;
	*head = slot;
}

void
hidx_del(struct hidx *h, uint32_t slot, uint64_t hv)
{
	struct hlink	*l = &h->link[slot];

	if (l->prev != HNIL)
		h->link[l->prev].next = l->next;
	else
		h->head[hv & h->mask] = l->next;
	if (l->next != HNIL)
		h->link[l->next].prev = l->prev;
	l->next = l->prev = HNIL;
}

int
dlist_init(struct dlist *d, uint32_t slots)
{
	d->link = malloc((size_t)slots * sizeof(*d->link));
	if (d->link == NULL)
		return -1;
	dlist_clear(d);
	return 0;
}

void
dlist_fini(struct dlist *d)
{
	free(d->link);
	d->link = NULL;
}

void
dlist_clear(struct dlist *d)
{
	d->head = d->tail = HNIL;
	d->count = 0;
}

void
dlist_push_tail(struct dlist *d, uint32_t slot)
{
	d->link[slot].next = HNIL;
	d->link[slot].prev = d->tail;
	if (d->tail != HNIL)
		d->link[d->tail].next = slot;
	else
		d->head = slot;
	d->tail = slot;
	d->count++;
}

void
dlist_insert_after(struct dlist *d, uint32_t after, uint32_t slot)
{
	uint32_t	 next = after == HNIL ? d->head : d->link[after].next;

	d->link[slot].prev = after;
	d->link[slot].next = next;
	if (after != HNIL)
		d->link[after].next = slot;
	else
		d->head = slot;
	if (next != HNIL)
		d->link[next].prev = slot;
	else
		d->tail = slot;
	d->count++;
}

void
dlist_del(struct dlist *d, uint32_t slot)
{
	struct hlink	*l = &d->link[slot];

	if (l->prev != HNIL)
		d->link[l->prev].next = l->next;
	else
		d->head = l->next;
	if (l->next != HNIL)
		d->link[l->next].prev = l->prev;
	else
		d->tail = l->prev;
	l->next = l->prev = HNIL;
	d->count--;
}

uint32_t
dlist_pop_head(struct dlist *d)
{
	uint32_t	 s = d->head;

	if (s != HNIL)
		dlist_del(d, s);
	return s;
}

void
dlist_fill(struct dlist *d, uint32_t n)
{
	dlist_clear(d);
	for (uint32_t k = 0; k < n; k++)
		dlist_push_tail(d, k);
}

int
sidx_init(struct sidx *h, uint32_t slots)
{
	uint32_t	 nb = pow2_at_least(slots);

	h->mask = nb - 1;
	h->head = malloc((size_t)nb * sizeof(*h->head));
	h->next = malloc((size_t)slots * sizeof(*h->next));
	if (h->head == NULL || h->next == NULL) {
		sidx_fini(h);
		return -1;
	}
	memset(h->head, 0xff, (size_t)nb * sizeof(*h->head));
	memset(h->next, 0xff, (size_t)slots * sizeof(*h->next));
	return 0;
}

void
sidx_fini(struct sidx *h)
{
	free(h->head);
	free(h->next);
	h->head = NULL;
	h->next = NULL;
}

size_t
sidx_memory(const struct sidx *h, uint32_t slots)
{
	return ((size_t)h->mask + 1) * sizeof(*h->head) +
	    (size_t)slots * sizeof(*h->next);
}

void
sidx_add(struct sidx *h, uint32_t slot, uint64_t hv)
{
	uint32_t	*head = &h->head[hv & h->mask];

	h->next[slot] = *head;
	*head = slot;
}

void
sidx_del(struct sidx *h, uint32_t slot, uint64_t hv)
{
	uint32_t	*p = &h->head[hv & h->mask];

	while (*p != HNIL && *p != slot)
		p = &h->next[*p];
	if (*p == slot)
		*p = h->next[slot];
	h->next[slot] = HNIL;
}

void
flist_init(struct flist *l, struct sidx *h)
{
	l->next = h->next;
	l->head = l->tail = HNIL;
	l->count = 0;
}

void
flist_push_tail(struct flist *l, uint32_t slot)
{
	l->next[slot] = HNIL;
	if (l->tail != HNIL)
		l->next[l->tail] = slot;
	else
		l->head = slot;
	l->tail = slot;
	l->count++;
}

uint32_t
flist_pop_head(struct flist *l)
{
	uint32_t	 s = l->head;

	if (s == HNIL)
		return HNIL;
	if ((l->head = l->next[s]) == HNIL)
		l->tail = HNIL;
	l->next[s] = HNIL;
	l->count--;
	return s;
}

void
flist_fill(struct flist *l, uint32_t n)
{
	l->head = l->tail = HNIL;
	l->count = 0;
	for (uint32_t k = 0; k < n; k++)
		flist_push_tail(l, k);
}

int
ftab_init(struct ftab *f, uint32_t cap)
{
	memset(f, 0, sizeof(*f));
	f->cap = cap;
	if (hidx_init(&f->ix, cap) == -1 || dlist_init(&f->order, cap) == -1 ||
	    dlist_init(&f->free, cap) == -1)
		return -1;
	f->key = sg_table_alloc(cap, sizeof(*f->key));
	f->expires = sg_table_alloc(cap, sizeof(*f->expires));
	if (f->key == NULL || f->expires == NULL)
		return -1;
	ftab_clear(f);
	return 0;
}

void
ftab_fini(struct ftab *f)
{
	hidx_fini(&f->ix);
	dlist_fini(&f->order);
	dlist_fini(&f->free);
	free(f->key);
	free(f->expires);
	f->key = f->expires = NULL;
}

void
ftab_clear(struct ftab *f)
{
	hidx_clear(&f->ix, f->cap);
	dlist_clear(&f->order);
	dlist_fill(&f->free, f->cap);
}

uint32_t
ftab_find(struct ftab *f, uint64_t key, uint64_t now)
{
	for (uint32_t s = hidx_first(&f->ix, key); s != HNIL;
	    s = hidx_next(&f->ix, s)) {
		if (f->key[s] != key)
			continue;
		if (f->expires[s] <= now) {
			ftab_del(f, s);
			f->expired++;
			return HNIL;
		}
		return s;
	}
	return HNIL;
}

uint32_t
ftab_insert(struct ftab *f, uint64_t key, uint64_t expires, bool *evicted)
{
	uint32_t	 s;

	*evicted = false;
	if ((s = dlist_pop_head(&f->free)) == HNIL) {
		s = f->order.head;
		ftab_del(f, s);
		dlist_del(&f->free, s);
		f->evicted++;
		*evicted = true;
	}
	f->key[s] = key;
	f->expires[s] = expires;
	hidx_add(&f->ix, s, key);
	dlist_push_tail(&f->order, s);
	return s;
}

void
ftab_del(struct ftab *f, uint32_t s)
{
	hidx_del(&f->ix, s, f->key[s]);
	dlist_del(&f->order, s);
	dlist_push_tail(&f->free, s);
	f->expires[s] = 0;	/* a free slot reads as expired */
}

void
ftab_expire(struct ftab *f, uint64_t now, uint32_t budget)
{
	for (uint32_t n = 0; n < budget && f->order.head != HNIL; n++) {
		uint32_t	 s = f->order.head;

		if (f->expires[s] > now)
			break;
		ftab_del(f, s);
		f->expired++;
	}
}
