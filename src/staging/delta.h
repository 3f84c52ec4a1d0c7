/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A point's delta for one disk, on file systems without reflink: the old
 * contents of the chunks that were overwritten after the point was made,
 * saved just before their first overwrite (docs/recovery-points.md).
 *
 * An append-only file: a header, then records of one chunk each (header
 * with a CRC, then the bytes, or no bytes for a chunk that read as zeros).
 * A record torn by a crash fails its CRC and ends the file; it was never
 * relied on, because the live image is overwritten only after the record
 * is durable. The first record of a chunk wins.
 */
#ifndef LIVEMIG_STAGING_DELTA_H
#define LIVEMIG_STAGING_DELTA_H

#include <stddef.h>
#include <stdint.h>

#define DELTA_CHUNK      (64u << 10)
#define DELTA_HDR_LEN    64
#define DELTA_REC_LEN    32
#define DELTA_ZERO       UINT64_MAX /* lookup result: the chunk read as zeros */

/* chunk number -> offset of its bytes in the delta file */
struct chunk_map {
	uint64_t *keys; /* chunk + 1; 0 = empty slot */
	uint64_t *vals;
	size_t cap, used;
};

struct delta {
	int fd;
	uint64_t disk_size;
	uint64_t end;       /* end of the last good record */
	struct chunk_map map;
};

/* Create an empty delta durably (file fsynced; the caller fsyncs the dir). */
int delta_create(const char *path, uint64_t disk_size);
/* Open and index a delta. writable: also cut a torn tail (under the
 * points lock). 0 or -errno (-EUCLEAN: not a delta). */
int delta_open(const char *path, int writable, struct delta *d);
/* Index records appended since (by another process). 0 or -errno. */
int delta_refresh(struct delta *d);
void delta_close(struct delta *d);

/* 1 and *off (or DELTA_ZERO) when chunk is saved here, else 0. */
int delta_lookup(const struct delta *d, uint64_t chunk, uint64_t *off);

/* Append chunk's old bytes (len bytes; NULL data = zeros). Not synced. */
int delta_append(struct delta *d, uint64_t chunk, const void *data, uint32_t len);
int delta_sync(struct delta *d);

/* Bytes of chunk (the last chunk of a disk may be short). */
uint32_t delta_chunk_len(uint64_t disk_size, uint64_t chunk);

int chunk_map_put(struct chunk_map *m, uint64_t chunk, uint64_t val); /* first wins */
int chunk_map_get(const struct chunk_map *m, uint64_t chunk, uint64_t *val);
void chunk_map_free(struct chunk_map *m);

#endif
