/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-disk file of block fingerprints: entry b is the hash of what staging
 * durably holds for block b, or all zeros for "unknown". It is written only
 * after staging acknowledged the block, so a scan that finds a block's hash
 * unchanged may skip it safely. The file's random id is the scan tracker's
 * epoch: a new file means continuity is lost. Format in docs/agent-state.md.
 */
#ifndef LIVEMIG_HASHSTORE_H
#define LIVEMIG_HASHSTORE_H

#include <stdint.h>

#include "frame.h"

#define HASHSTORE_HDR_LEN 64

struct hashstore {
	int fd;
	uint32_t block_size;
	uint64_t disk_size;
	uint64_t nblocks;
	uint8_t id[FRAME_EPOCH_LEN];
};

/* Open path for a disk of disk_size; a missing file, or one made for another
 * size or block size, is (re)created empty with a new id (*created = 1). */
int hashstore_open(struct hashstore *hs, const char *path, uint64_t disk_size,
		   uint32_t block_size, int *created);
/* Forget every entry and take a new id. */
int hashstore_reset(struct hashstore *hs);
int hashstore_get(struct hashstore *hs, uint64_t first, uint32_t n, uint8_t *out);
int hashstore_put(struct hashstore *hs, uint64_t first, uint32_t n, const uint8_t *in);
int hashstore_sync(struct hashstore *hs);
void hashstore_close(struct hashstore *hs);

#endif
