/*
 * cbf.c: the counting Bloom filter that fronts the binding table, so the
 * common legitimate case costs one probe and one slot read (SPEC 2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cbf.h"
#include "hash.h"
#include "sipguard.h"

struct cbf {
	uint8_t		*cell;
	uint32_t	 n;
	int		 k;
	uint64_t	 count;
	uint32_t	 saturated;
};

struct cbf *
cbf_create(uint32_t cells, int hashes)
{
	struct cbf	*f;

	if (cells == 0 || hashes < 1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->cell = sg_table_alloc(cells, 1)) == NULL) {
		free(f);
		return NULL;
	}
	f->n = cells;
	f->k = hashes;
	return f;
}

void
cbf_destroy(struct cbf *f)
{
	if (f == NULL)
		return;
	free(f->cell);
	free(f);
}

void
cbf_reset(struct cbf *f)
{
	memset(f->cell, 0, f->n);
	f->count = 0;
	f->saturated = 0;
}

void
cbf_key(const void *p, size_t len, struct cbf_key *key)
{
	hash_bytes128(p, len, key->h);
}

/* Enhanced double hashing (Dillinger & Manolios); range by multiply. */
static inline uint32_t
cell_index(const struct cbf *f, const struct cbf_key *key, int j)
{
	uint64_t	 x = key->h[0] + (uint64_t)j * key->h[1] +
			    (uint64_t)j * j * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 32;
	return (uint32_t)(((x & 0xffffffffULL) * f->n) >> 32);
}

void
cbf_add(struct cbf *f, const struct cbf_key *key)
{
	for (int j = 0; j < f->k; j++) {
		uint8_t	*c = &f->cell[cell_index(f, key, j)];

		if (*c < UINT8_MAX) {
			if (++*c == UINT8_MAX)
				f->saturated++;
		}
	}
	f->count++;
}

void
cbf_remove(struct cbf *f, const struct cbf_key *key)
{
	for (int j = 0; j < f->k; j++) {
		uint8_t	*c = &f->cell[cell_index(f, key, j)];

		if (*c > 0 && *c < UINT8_MAX)
			--*c;
	}
	if (f->count > 0)
		f->count--;
}

bool
cbf_query(const struct cbf *f, const struct cbf_key *key)
{
	for (int j = 0; j < f->k; j++)
		if (f->cell[cell_index(f, key, j)] == 0)
			return false;
	return true;
}

uint32_t
cbf_cells(const struct cbf *f)
{
	return f->n;
}

uint64_t
cbf_count(const struct cbf *f)
{
	return f->count;
}

uint32_t
cbf_saturated(const struct cbf *f)
{
	return f->saturated;
}

size_t
cbf_memory(const struct cbf *f)
{
	return sizeof(*f) + f->n;
}

double
cbf_fpr_theory(uint32_t cells, int hashes, uint64_t n)
{
	return pow(1.0 - exp(-(double)hashes * (double)n / (double)cells),
	    hashes);
}
