/*
 * hash.c: SipHash keyed with a random key drawn once at start-up.
 */
#include <string.h>

#include <sodium.h>

#include "hash.h"

static uint8_t	 key64[crypto_shorthash_siphash24_KEYBYTES];
static uint8_t	 key128[crypto_shorthash_siphashx24_KEYBYTES];

int
hash_init(void)
{
	uint8_t	 key[16];

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	hash_set_key(key);
	sodium_memzero(key, sizeof(key));
	return 0;
}

void
hash_get_key(uint8_t key[16])
{
	memcpy(key, key64, sizeof(key64));
}

void
hash_set_key(const uint8_t key[16])
{
	memcpy(key64, key, sizeof(key64));
	memcpy(key128, key, sizeof(key128));
	key128[0] ^= 0x5a;
}

uint64_t
hash_bytes(const void *p, size_t len)
{
	uint64_t	 h;

	crypto_shorthash_siphash24((unsigned char *)&h, p, len, key64);
	return h;
}

void
hash_bytes128(const void *p, size_t len, uint64_t out[2])
{
	crypto_shorthash_siphashx24((unsigned char *)out, p, len, key128);
}
