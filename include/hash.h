/*
 * hash.h: keyed hashing (SipHash-2-4 from libsodium) for every table and
 * the Bloom filter.  The key is drawn at start-up, so a sender cannot
 * choose packets that collide in our tables.  Tests may fix the key.
 */
#ifndef SG_HASH_H
#define SG_HASH_H

#include <stddef.h>
#include <stdint.h>

int		 hash_init(void);
void		 hash_set_key(const uint8_t key[16]);
/* The key, for the state file: hashes saved there stay valid. */
void		 hash_get_key(uint8_t key[16]);
uint64_t	 hash_bytes(const void *, size_t);
/* 128 bits of keyed hash, for double hashing in the Bloom filter. */
void		 hash_bytes128(const void *, size_t, uint64_t out[2]);
/* Combine two 64-bit values (keys built from already-hashed parts). */
static inline uint64_t
hash_mix(uint64_t a, uint64_t b)
{
	uint64_t h = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

#endif
