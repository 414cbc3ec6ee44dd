/*
 * idpool.c: the binding table's identity texts, in chained cells of a
 * pool allocated at start (idpool.h).  The free cells form a stack through
 * their own `next' links, so putting or freeing a text touches only its
 * cells.
 */
#include <stdlib.h>
#include <string.h>

#include "idpool.h"
#include "sipguard.h"

struct idcell {
	uint32_t	 next;		/* IDP_NONE: the last cell */
	char		 b[IDP_TEXT];
};

struct idpool {
	struct idcell	*cell;
	uint32_t	 cap;
	uint32_t	 free;		/* head of the free stack */
	uint32_t	 nfree;
};

_Static_assert(sizeof(struct idcell) == IDP_CELL, "a cell is 32 bytes");

struct idpool *
idp_create(uint32_t cells)
{
	struct idpool	*p;

	if (cells > IDP_REF_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->cell = sg_table_alloc(cells, sizeof(*p->cell))) == NULL) {
		free(p);
		return NULL;
	}
	p->cap = cells;
	for (uint32_t k = 0; k < cells; k++)
		p->cell[k].next = k + 1 < cells ? k + 1 : IDP_NONE;
	p->free = cells > 0 ? 0 : IDP_NONE;
	p->nfree = cells;
	return p;
}

void
idp_destroy(struct idpool *p)
{
	if (p == NULL)
		return;
	free(p->cell);
	free(p);
}

/*
 * A text of one cell ends with its NUL, so idp_get() returns it in place;
 * a longer one fills its cells and ends at its last cell's end or NUL.
 */
uint32_t
idp_cells(size_t len)
{
	if (len == 0)
		return 0;
	if (len < IDP_TEXT)
		return 1;
	return len <= 2 * IDP_TEXT ? 2 :
	    (uint32_t)((len + IDP_TEXT - 1) / IDP_TEXT);
}

int
idp_put(struct idpool *p, const char *s, size_t len, uint32_t *ref)
{
	uint32_t	 need = idp_cells(len), first, c = IDP_NONE;

	*ref = IDP_NONE;
	if (need == 0)
		return 0;
	if (need > p->nfree)
		return -1;
	first = p->free;
	for (uint32_t k = 0; k < need; k++) {
		size_t	 n = len < IDP_TEXT ? len : IDP_TEXT;

		c = p->free;
		p->free = p->cell[c].next;
		memcpy(p->cell[c].b, s, n);
		/* The rest zeroed: the NUL, and no stale text in a cell. */
		memset(p->cell[c].b + n, 0, IDP_TEXT - n);
		s += n;
		len -= n;
	}
	p->cell[c].next = IDP_NONE;
	p->nfree -= need;
	*ref = first;
	return 0;
}

void
idp_free(struct idpool *p, uint32_t ref)
{
	uint32_t	 c = ref, last = IDP_NONE, n = 0;

	if (ref == IDP_NONE)
		return;
	for (; c != IDP_NONE; c = p->cell[c].next) {
		last = c;
		n++;
	}
	p->cell[last].next = p->free;
	p->free = ref;
	p->nfree += n;
}

const char *
idp_get(const struct idpool *p, uint32_t ref, char *buf, size_t len)
{
	size_t	 off = 0;

	if (ref == IDP_NONE)
		return "";
	if (p->cell[ref].next == IDP_NONE)
		return p->cell[ref].b;
	if (len == 0)
		return "";
	for (uint32_t c = ref; c != IDP_NONE && off + 1 < len;
	    c = p->cell[c].next) {
		size_t	 n = strnlen(p->cell[c].b, IDP_TEXT);

		if (n > len - 1 - off)
			n = len - 1 - off;
		memcpy(buf + off, p->cell[c].b, n);
		off += n;
	}
	buf[off] = '\0';
	return buf;
}

uint32_t
idp_capacity(const struct idpool *p)
{
	return p->cap;
}

uint32_t
idp_used(const struct idpool *p)
{
	return p->cap - p->nfree;
}

uint32_t
idp_available(const struct idpool *p)
{
	return p->nfree;
}

size_t
idp_memory(const struct idpool *p)
{
	return sizeof(*p) + (size_t)p->cap * sizeof(*p->cell);
}
