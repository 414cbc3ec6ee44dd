/*
 * cbf.h: counting Bloom filter over the binding key F = {m, d, i}
 * (SPEC 2).  Answers "is this exact binding registered?" with one probe
 * and no false negatives; removal is what the counters are for.  Counters
 * are 8 bits and stick at 255 (a stuck counter is never decremented, so
 * it can only cost false positives, never a false negative).  The cells
 * are allocated once; indexes come from a keyed 128-bit hash by double
 * hashing, so an outsider cannot aim collisions.
 */
#ifndef SG_CBF_H
#define SG_CBF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cbf;

/* The 128-bit keyed hash of a key; compute once, use for every call. */
struct cbf_key {
	uint64_t	 h[2];
};

struct cbf	*cbf_create(uint32_t cells, int hashes);
void		 cbf_destroy(struct cbf *);
void		 cbf_reset(struct cbf *);
void		 cbf_key(const void *, size_t, struct cbf_key *);
void		 cbf_add(struct cbf *, const struct cbf_key *);
/* Remove a key that was added; removing an absent key is a bug. */
void		 cbf_remove(struct cbf *, const struct cbf_key *);
bool		 cbf_query(const struct cbf *, const struct cbf_key *);
uint32_t	 cbf_cells(const struct cbf *);
uint64_t	 cbf_count(const struct cbf *);	/* keys present */
uint32_t	 cbf_saturated(const struct cbf *);
size_t		 cbf_memory(const struct cbf *);
/* (1 - e^(-kn/m))^k: the expected false-positive rate with n keys. */
double		 cbf_fpr_theory(uint32_t cells, int hashes, uint64_t n);

#endif
