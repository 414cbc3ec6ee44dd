/*
 * htab.h: the building blocks of every fixed-size table.  Entries live in
 * a caller-owned array indexed by slot number; these structures only link
 * slots together, so nothing here allocates after *_init().
 *
 *  hidx:  chained hash index, doubly linked so removal is O(1).  Buckets
 *         are the next power of two above the capacity (load <= 1).
 *  sidx:  the same, linked one way: 4 bytes a slot, not 8, but removal
 *         walks the slot's chain from its bucket.  For indexes whose
 *         chains stay short: few slots share a key (a unique key, or one
 *         a quota bounds), and the keyed hash spreads the rest.
 *  dlist: an intrusive list of slots (free lists, FIFO/LRU order).
 *  flist: a FIFO of free slots with no memory of its own: it threads
 *         them through the links of an sidx whose chains they are not
 *         in (a free entry is in no index).
 */
#ifndef SG_HTAB_H
#define SG_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HNIL	UINT32_MAX

struct hlink {
	uint32_t	 next, prev;
};

struct hidx {
	uint32_t	*head;
	struct hlink	*link;
	uint32_t	 mask;
};

int	hidx_init(struct hidx *, uint32_t slots);
void	hidx_fini(struct hidx *);
void	hidx_clear(struct hidx *, uint32_t slots);
void	hidx_add(struct hidx *, uint32_t slot, uint64_t hv);
void	hidx_del(struct hidx *, uint32_t slot, uint64_t hv);
size_t	hidx_memory(const struct hidx *, uint32_t slots);

static inline uint32_t
hidx_first(const struct hidx *h, uint64_t hv)
{
	return h->head[hv & h->mask];
}

static inline uint32_t
hidx_next(const struct hidx *h, uint32_t slot)
{
	return h->link[slot].next;
}

/* Chains in the same order as an hidx's: the newest first. */
struct sidx {
	uint32_t	*head;
	uint32_t	*next;
	uint32_t	 mask;
};

int	sidx_init(struct sidx *, uint32_t slots);
void	sidx_fini(struct sidx *);
void	sidx_add(struct sidx *, uint32_t slot, uint64_t hv);
/* Cost: the slots before it in its chain. */
void	sidx_del(struct sidx *, uint32_t slot, uint64_t hv);
size_t	sidx_memory(const struct sidx *, uint32_t slots);

static inline uint32_t
sidx_first(const struct sidx *h, uint64_t hv)
{
	return h->head[hv & h->mask];
}

static inline uint32_t
sidx_next(const struct sidx *h, uint32_t slot)
{
	return h->next[slot];
}

static inline void
sidx_prefetch(const struct sidx *h, uint64_t hv)
{
	__builtin_prefetch(&h->head[hv & h->mask]);
}

/* Start fetching hv's bucket: a lookup to come need not wait for it. */
static inline void
hidx_prefetch(const struct hidx *h, uint64_t hv)
{
	__builtin_prefetch(&h->head[hv & h->mask]);
}

struct dlist {
	uint32_t	 head, tail, count;
	struct hlink	*link;
};

int	dlist_init(struct dlist *, uint32_t slots);
void	dlist_fini(struct dlist *);
void	dlist_clear(struct dlist *);
void	dlist_push_tail(struct dlist *, uint32_t slot);
/* Put slot just after `after' (HNIL: at the head). */
void	dlist_insert_after(struct dlist *, uint32_t after, uint32_t slot);
void	dlist_del(struct dlist *, uint32_t slot);
uint32_t dlist_pop_head(struct dlist *);
/* Fill with slots 0..n-1 in order (a fresh free list). */
void	dlist_fill(struct dlist *, uint32_t n);

/*
 * A slot on an flist must be in no chain of the sidx it borrows from,
 * and must leave the flist before sidx_add() puts it in one.
 */
struct flist {
	uint32_t	 head, tail, count;
	uint32_t	*next;		/* the sidx's, borrowed */
};

void	flist_init(struct flist *, struct sidx *);
void	flist_push_tail(struct flist *, uint32_t slot);
uint32_t flist_pop_head(struct flist *);
/* Fill with slots 0..n-1 in order (a fresh free list). */
void	flist_fill(struct flist *, uint32_t n);

/*
 * ftab: a fixed-capacity table keyed by a 64-bit keyed hash, in insertion
 * order, each entry with its own expiry.  When full, the oldest entry is
 * recycled (counted).  The caller keeps the payload in its own array,
 * indexed by the slot numbers returned here.
 */
struct ftab {
	struct hidx	 ix;
	struct dlist	 order, free;
	uint64_t	*key;
	uint64_t	*expires;
	uint32_t	 cap;
	uint64_t	 evicted, expired;
};

int	 ftab_init(struct ftab *, uint32_t cap);
void	 ftab_fini(struct ftab *);
void	 ftab_clear(struct ftab *);
/* The live entry for `key', or HNIL; an expired one is removed. */
uint32_t ftab_find(struct ftab *, uint64_t key, uint64_t now);
/* A new entry (the caller checked it is absent); never fails. */
uint32_t ftab_insert(struct ftab *, uint64_t key, uint64_t expires,
	    bool *evicted);
void	 ftab_del(struct ftab *, uint32_t slot);
/* Remove expired entries from the old end, at most `budget'. */
void	 ftab_expire(struct ftab *, uint64_t now, uint32_t budget);
static inline uint32_t
ftab_count(const struct ftab *f)
{
	return f->order.count;
}

#endif
