/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-block fingerprint both ends compute for change detection and
 * rescans: SHA-256 truncated to FRAME_HASH_LEN bytes (collisions at 2^64
 * work, far beyond accidental change).
 */
#ifndef LIVEMIG_BLOCKHASH_H
#define LIVEMIG_BLOCKHASH_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

void blockhash(const uint8_t *data, size_t len, uint8_t out[FRAME_HASH_LEN]);
/* Hash of len zero bytes, cached per length class (holes hash without reading). */
void blockhash_zero(size_t len, uint8_t out[FRAME_HASH_LEN]);
int is_zero(const uint8_t *data, size_t len);

#endif
