// SPDX-License-Identifier: GPL-2.0-or-later
#include "blockhash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

void blockhash(const uint8_t *data, size_t len, uint8_t out[FRAME_HASH_LEN])
{
	uint8_t full[SHA256_DIGEST_LENGTH];

	SHA256(data, len, full);
	memcpy(out, full, FRAME_HASH_LEN);
}

/* The common block size is cached; other lengths (a disk's tail) are computed. */
#define ZERO_CACHE_LEN (64u << 10)
static uint8_t zero_cached[FRAME_HASH_LEN];
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_init(void)
{
	uint8_t *z = calloc(1, ZERO_CACHE_LEN);

	if (!z)
		abort();
	blockhash(z, ZERO_CACHE_LEN, zero_cached);
	free(z);
}

void blockhash_zero(size_t len, uint8_t out[FRAME_HASH_LEN])
{
	if (len == ZERO_CACHE_LEN) {
		pthread_once(&zero_once, zero_init);
		memcpy(out, zero_cached, FRAME_HASH_LEN);
		return;
	}
	uint8_t *z = calloc(1, len ? len : 1);

	if (!z)
		abort();
	blockhash(z, len, out);
	free(z);
}

int is_zero(const uint8_t *data, size_t len)
{
	/* compare word-wise, then the buffer against itself shifted: memcmp is vectorised */
	if (len < 16) {
		for (size_t i = 0; i < len; i++)
			if (data[i])
				return 0;
		return 1;
	}
	for (size_t i = 0; i < 16; i++)
		if (data[i])
			return 0;
	return memcmp(data, data + 16, len - 16) == 0;
}
