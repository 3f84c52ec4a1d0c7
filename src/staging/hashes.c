// SPDX-License-Identifier: GPL-2.0-or-later
#include "hashes.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blockhash.h"
#include "store_backend.h"
#include "util.h"

/* Which of a request's blocks may hold data, asked of the volume once for
 * the whole request: the others hash as zeros without being read. */
struct data_map {
	uint64_t offset; /* the request's first byte */
	uint32_t bs, count;
	uint8_t bits[FRAME_MAX_HASHES / 8];
};

static int mark_data(void *arg, uint64_t start, uint64_t end)
{
	struct data_map *m = arg;
	uint64_t first, last;

	if (end <= m->offset || start >= end)
		return 0;
	first = start <= m->offset ? 0 : (start - m->offset) / m->bs;
	last = (end - 1 - m->offset) / m->bs;
	if (last >= m->count)
		last = m->count - 1;
	for (uint64_t b = first; b <= last; b++)
		m->bits[b / 8] |= (uint8_t)(1u << (b % 8));
	return 0;
}

static int has_data(const struct data_map *m, uint32_t i)
{
	return m->bits[i / 8] >> (i % 8) & 1;
}

int hashes_compute(struct store_volume *v, uint64_t size, uint64_t offset, uint32_t bs,
		   uint32_t count, uint8_t *out, uint8_t *buf, size_t buflen)
{
	uint8_t zero_full[FRAME_HASH_LEN];
	size_t per_read = buflen / bs;
	struct data_map m = { .offset = offset, .bs = bs, .count = count };
	uint64_t span;
	uint32_t i = 0;
	int rc;

	if (!per_read || !count || count > FRAME_MAX_HASHES || offset >= size)
		return -EINVAL;
	blockhash_zero(bs, zero_full);
	span = (uint64_t)count * bs;
	if (span > size - offset)
		span = size - offset;
	rc = store_volume_data_ranges(v, offset, span, mark_data, &m);
	while (!rc && i < count) {
		uint64_t start = offset + (uint64_t)i * bs;
		uint64_t len = size - start < bs ? size - start : bs;
		uint32_t n = 0;
		uint64_t run = 0;

		if (!has_data(&m, i)) {
			if (len == bs)
				memcpy(out + (size_t)i * FRAME_HASH_LEN, zero_full, FRAME_HASH_LEN);
			else
				blockhash_zero(len, out + (size_t)i * FRAME_HASH_LEN);
			i++;
			continue;
		}
		/* a run of blocks with data, read in one piece */
		while (i + n < count && n < per_read && has_data(&m, i + n)) {
			uint64_t s = start + run;
			uint64_t l = size - s < bs ? size - s : bs;

			run += l;
			n++;
			if (l < bs)
				break; /* the disk's end */
		}
		rc = store_volume_read(v, buf, run, start);
		if (rc == -ENODATA)
			rc = -EIO; /* image shorter than its disk: damaged store */
		for (uint32_t k = 0; !rc && k < n; k++) {
			uint64_t off = (uint64_t)k * bs;

			blockhash(buf + off, run - off < bs ? run - off : bs,
				  out + (size_t)(i + k) * FRAME_HASH_LEN);
		}
		i += n;
	}
	return rc;
}
