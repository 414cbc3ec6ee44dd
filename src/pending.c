/*
 * pending.c: REGISTER transactions awaiting the proxy's final answer.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"
#include "pending.h"

struct pending_table {
	struct ftab	 ft;
	struct pending	*row;
	uint64_t	 timeout;
	uint64_t	 added, answered;
};

struct pending_table *
pending_create(uint32_t cap, uint64_t timeout)
{
	struct pending_table	*pt;

	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		return NULL;
	pt->timeout = timeout;
	pt->row = sg_table_alloc(cap, sizeof(*pt->row));
	if (pt->row == NULL || ftab_init(&pt->ft, cap) == -1) {
		pending_destroy(pt);
		return NULL;
	}
	return pt;
}

void
pending_destroy(struct pending_table *pt)
{
	if (pt == NULL)
		return;
	ftab_fini(&pt->ft);
	free(pt->row);
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
		for (uint32_t s = pt->ft.order.head; s != HNIL;
		    s = pt->ft.order.link[s].next)
			if (pt->ft.expires[s] > pt->row[s].born + timeout)
				pt->ft.expires[s] = pt->row[s].born + timeout;
	pt->timeout = timeout;
}

static uint64_t
tx_key(uint64_t call_id_h, uint32_t cseq)
{
	return hash_mix(call_id_h, cseq);
}

struct pending *
pending_add(struct pending_table *pt, uint64_t call_id_h, uint32_t cseq,
    uint64_t now, bool *is_new)
{
	uint64_t	 key = tx_key(call_id_h, cseq);
	uint32_t	 s = ftab_find(&pt->ft, key, now);
	bool		 evicted;
	struct pending	*p;

	if (s != HNIL) {
		p = &pt->row[s];
		if (p->call_id_h == call_id_h && p->cseq == cseq) {
			*is_new = false;
			return p;
		}
		/* A 64-bit collision: the newer transaction wins. */
		ftab_del(&pt->ft, s);
	}
	s = ftab_insert(&pt->ft, key, now + pt->timeout, &evicted);
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
pending_find(struct pending_table *pt, uint64_t call_id_h, uint32_t cseq,
    uint64_t now)
{
	uint32_t	 s = ftab_find(&pt->ft, tx_key(call_id_h, cseq), now);

	if (s == HNIL || pt->row[s].call_id_h != call_id_h ||
	    pt->row[s].cseq != cseq)
		return NULL;
	return &pt->row[s];
}

void
pending_del(struct pending_table *pt, struct pending *p)
{
	ftab_del(&pt->ft, (uint32_t)(p - pt->row));
	pt->answered++;
}

void
pending_expire(struct pending_table *pt, uint64_t now)
{
	/* FIFO with one timeout: only expired entries sit at the head. */
	ftab_expire(&pt->ft, now, 64);
}

void
pending_stats(const struct pending_table *pt, struct pending_stats *st)
{
	st->in_use = ftab_count(&pt->ft);
	st->capacity = pt->ft.cap;
	st->added = pt->added;
	st->answered = pt->answered;
	st->evicted = pt->ft.evicted;
	st->expired = pt->ft.expired;
}
