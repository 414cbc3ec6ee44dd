/*
 * idpool.h: the identity texts of the bindings (d and the IMPI), kept in a
 * pool of 32-byte cells sized by the configuration (tables.identity_bytes
 * per binding), not in 128 bytes each in every slot.  A text takes as
 * many cells as its length needs (27 characters a cell), chained by
 * index, so the pool never fragments: it is full only when every cell is
 * taken, and then idp_put() refuses and stores nothing (the caller
 * refuses the binding, as when its table is full).  No allocation after
 * idp_create(); putting and freeing a text cost a cell per 28 bytes.
 */
#ifndef SG_IDPOOL_H
#define SG_IDPOOL_H

#include <stddef.h>
#include <stdint.h>

#define IDP_CELL	32
#define IDP_TEXT	(IDP_CELL - 4)	/* text bytes in one cell */
#define IDP_NONE	UINT32_MAX	/* the empty text: no cell */
/* Fewest cells: refs at and above IDP_REF_MAX mean something else. */
#define IDP_REF_MAX	(UINT32_MAX - 16)

struct idpool;

/* `cells' at most IDP_REF_MAX; NULL on failure. */
struct idpool	*idp_create(uint32_t cells);
void		 idp_destroy(struct idpool *);
/* Cells for a text of `len' bytes: 1 to 27, 2 to 56, then 1 per 28. */
uint32_t	 idp_cells(size_t len);
/*
 * Store the `len' first bytes of s (no NUL among them): *ref, or
 * IDP_NONE for an empty text.  -1 (nothing stored) if there are not
 * enough free cells.
 */
int		 idp_put(struct idpool *, const char *s, size_t len,
		    uint32_t *ref);
/* Give back the cells of `ref' (IDP_NONE: nothing). */
void		 idp_free(struct idpool *, uint32_t ref);
/*
 * The text of `ref': in its cell if it fits one, else copied to buf
 * (`len' bytes, truncated to fit).  "" for IDP_NONE.
 */
const char	*idp_get(const struct idpool *, uint32_t ref, char *buf,
		    size_t len);
uint32_t	 idp_capacity(const struct idpool *);
uint32_t	 idp_used(const struct idpool *);
uint32_t	 idp_available(const struct idpool *);
size_t		 idp_memory(const struct idpool *);

#endif
