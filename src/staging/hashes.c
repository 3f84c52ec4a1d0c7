// SPDX-License-Identifier: GPL-2.0-or-later
#include "hashes.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blockhash.h"
#include "store_backend.h"
#include "util.h"

/* The volume's data extent at or after some offset: holes hash without
 * being read. */
struct extent {
	uint64_t start, end; /* [start, end) holds data; start == UINT64_MAX: none */
};

static int next_extent(struct store_volume *v, uint64_t from, struct extent *e)
{
	return store_volume_next_data(v, from, &e->start, &e->end);
}

/* Whether [start, end) may hold data, moving e forward as needed. */
static int has_data(struct store_volume *v, struct extent *e, uint64_t start, uint64_t end,
		    int *yes)
{
	if (e->end <= start && e->start != UINT64_MAX) {
		int rc = next_extent(v, start, e);

		if (rc)
			return rc;
	}
	*yes = e->start < end;
	return 0;
}

int hashes_compute(struct store_volume *v, uint64_t size, uint64_t offset, uint32_t bs,
		   uint32_t count, uint8_t *out, uint8_t *buf, size_t buflen)
{
	uint8_t zero_full[FRAME_HASH_LEN];
	size_t per_read = buflen / bs;
	struct extent e;
	uint32_t i = 0;
	int rc;

	if (!per_read)
		return -EINVAL;
	blockhash_zero(bs, zero_full);
	rc = next_extent(v, offset, &e);
	while (!rc && i < count) {
		uint64_t start = offset + (uint64_t)i * bs;
		uint64_t len = size - start < bs ? size - start : bs;
		uint32_t n = 0;
		uint64_t run = 0;
		int data;

		rc = has_data(v, &e, start, start + len, &data);
		if (rc)
			break;
		if (!data) {
			if (len == bs)
				memcpy(out + (size_t)i * FRAME_HASH_LEN, zero_full, FRAME_HASH_LEN);
			else
				blockhash_zero(len, out + (size_t)i * FRAME_HASH_LEN);
			i++;
			continue;
		}
		/* a run of blocks with data, read in one piece */
		while (i + n < count && n < per_read) {
			uint64_t s = start + run;
			uint64_t l = size - s < bs ? size - s : bs;

			if (n) {
				rc = has_data(v, &e, s, s + l, &data);
				if (rc || !data)
					break;
			}
			run += l;
			n++;
			if (l < bs)
				break; /* the disk's end */
		}
		if (rc)
			break;
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
