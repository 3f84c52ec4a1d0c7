// SPDX-License-Identifier: GPL-2.0-or-later
#include "delta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "bytes.h"
#include "stats.h"
#include "util.h"

#define DELTA_MAGIC     "LMDELTA1"
#define REC_MAGIC       0x4c4d4443u /* "LMDC" */
#define REC_FLAG_ZERO   1u

/* ---- chunk map: open addressing, linear probing ---- */

static size_t slot_of(uint64_t key, size_t cap)
{
	key *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(key >> 17) & (cap - 1);
}

static int grow(struct chunk_map *m)
{
	size_t cap = m->cap ? 2 * m->cap : 1024;
	uint64_t *keys = calloc(cap, sizeof(*keys)), *vals = malloc(cap * sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t s;

		if (!m->keys[i])
			continue;
		for (s = slot_of(m->keys[i], cap); keys[s]; s = (s + 1) & (cap - 1))
			;
		keys[s] = m->keys[i];
		vals[s] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int chunk_map_get(const struct chunk_map *m, uint64_t chunk, uint64_t *val)
{
	if (!m->cap)
		return 0;
	for (size_t s = slot_of(chunk + 1, m->cap); m->keys[s]; s = (s + 1) & (m->cap - 1))
		if (m->keys[s] == chunk + 1) {
			*val = m->vals[s];
			return 1;
		}
	return 0;
}

int chunk_map_put(struct chunk_map *m, uint64_t chunk, uint64_t val)
{
	size_t s;

	if ((m->used + 1) * 4 > m->cap * 3 && grow(m))
		return -ENOMEM;
	for (s = slot_of(chunk + 1, m->cap); m->keys[s]; s = (s + 1) & (m->cap - 1))
		if (m->keys[s] == chunk + 1)
			return 0; /* the first record of a chunk wins */
	m->keys[s] = chunk + 1;
	m->vals[s] = val;
	m->used++;
	return 0;
}

void chunk_map_free(struct chunk_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- the file ---- */

uint32_t delta_chunk_len(uint64_t disk_size, uint64_t chunk)
{
	uint64_t off = chunk * DELTA_CHUNK;

	if (off >= disk_size)
		return 0;
	return disk_size - off < DELTA_CHUNK ? (uint32_t)(disk_size - off) : DELTA_CHUNK;
}

int delta_create(const char *path, uint64_t disk_size)
{
	uint8_t h[DELTA_HDR_LEN] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc;

	if (fd < 0)
		return -errno;
	memcpy(h, DELTA_MAGIC, 8);
	put_be32(h + 8, DELTA_CHUNK);
	put_be64(h + 16, disk_size);
	rc = pwrite_full(fd, h, sizeof(h), 0);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static uint32_t rec_crc(const uint8_t *rec, const void *data, uint32_t len)
{
	uLong crc = crc32(0L, rec, 20);

	if (len)
		crc = crc32(crc, data, len);
	return (uint32_t)crc;
}

/* Index the records from d->end on, stopping at the first bad or torn one. */
static int scan(struct delta *d)
{
	uint8_t rec[DELTA_REC_LEN];
	uint8_t *buf = malloc(DELTA_CHUNK);
	struct stat st;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	if (fstat(d->fd, &st)) {
		free(buf);
		return -errno;
	}
	while (d->end + DELTA_REC_LEN <= (uint64_t)st.st_size) {
		uint64_t chunk;
		uint32_t flags, len;

		if (pread_full(d->fd, rec, sizeof(rec), d->end))
			break;
		chunk = get_be64(rec + 8);
		flags = get_be32(rec + 4);
		len = get_be32(rec + 16);
		if (get_be32(rec) != REC_MAGIC || len > DELTA_CHUNK ||
		    ((flags & REC_FLAG_ZERO) && len) ||
		    (!(flags & REC_FLAG_ZERO) && len != delta_chunk_len(d->disk_size, chunk)) ||
		    d->end + DELTA_REC_LEN + len > (uint64_t)st.st_size)
			break;
		if (len && pread_full(d->fd, buf, len, d->end + DELTA_REC_LEN))
			break;
		if (rec_crc(rec, buf, len) != get_be32(rec + 20))
			break;
		rc = chunk_map_put(&d->map, chunk,
				   flags & REC_FLAG_ZERO ? DELTA_ZERO : d->end + DELTA_REC_LEN);
		if (rc)
			break;
		d->end += DELTA_REC_LEN + len;
	}
	free(buf);
	return rc;
}

int delta_open(const char *path, int writable, struct delta *d)
{
	uint8_t h[DELTA_HDR_LEN];
	int rc;

	memset(d, 0, sizeof(*d));
	d->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	rc = pread_full(d->fd, h, sizeof(h), 0);
	if (rc == -EIO || (!rc && (memcmp(h, DELTA_MAGIC, 8) || get_be32(h + 8) != DELTA_CHUNK)))
		rc = -EUCLEAN;
	if (!rc) {
		d->disk_size = get_be64(h + 16);
		d->end = DELTA_HDR_LEN;
		rc = scan(d);
	}
	/* a torn tail from a crash: the next append goes where it began */
	if (!rc && writable && ftruncate(d->fd, (off_t)d->end))
		rc = -errno;
	if (rc)
		delta_close(d);
	return rc;
}

int delta_refresh(struct delta *d)
{
	return scan(d);
}

void delta_close(struct delta *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	chunk_map_free(&d->map);
}

int delta_lookup(const struct delta *d, uint64_t chunk, uint64_t *off)
{
	return chunk_map_get(&d->map, chunk, off);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int delta_append(struct delta *d, uint64_t chunk, const void *data, uint32_t len)
{
	uint8_t rec[DELTA_REC_LEN] = { 0 };
	int zero = !data || all_zero(data, len), rc;
	uint32_t n = zero ? 0 : len;

	put_be32(rec, REC_MAGIC);
	put_be32(rec + 4, zero ? REC_FLAG_ZERO : 0);
	put_be64(rec + 8, chunk);
	put_be32(rec + 16, n);
	put_be32(rec + 20, rec_crc(rec, data, n));
	rc = pwrite_full(d->fd, rec, sizeof(rec), d->end);
	if (!rc && n)
		rc = pwrite_full(d->fd, data, n, d->end + DELTA_REC_LEN);
	if (rc)
		return rc;
	rc = chunk_map_put(&d->map, chunk, zero ? DELTA_ZERO : d->end + DELTA_REC_LEN);
	d->end += DELTA_REC_LEN + n;
	return rc;
}

int delta_sync(struct delta *d)
{
	uint64_t t0 = now_mono_ns();
	int rc = fdatasync(d->fd) ? -errno : 0;

	stats_fsync(now_mono_ns() - t0);
	return rc;
}
