// SPDX-License-Identifier: GPL-2.0-or-later
#include "hashes.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blockhash.h"
#include "util.h"

/* The image's data extent at or after some offset: holes are found with
 * SEEK_DATA/SEEK_HOLE so they hash without being read. */
struct extent {
	uint64_t start, end; /* [start, end) holds data; start == UINT64_MAX: none */
};

static int next_extent(int fd, uint64_t from, struct extent *e)
{
	off_t d = lseek(fd, (off_t)from, SEEK_DATA);
	off_t h;

	if (d < 0) {
		if (errno == ENXIO) { /* only a hole from here to the end */
			e->start = e->end = UINT64_MAX;
			return 0;
		}
		if (errno == EINVAL || errno == EOPNOTSUPP) { /* no hole support: all data */
			e->start = from;
			e->end = UINT64_MAX;
			return 0;
		}
		return -errno;
	}
	h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	e->start = (uint64_t)d;
	e->end = (uint64_t)h;
	return 0;
}

/* Whether [start, end) may hold data, moving e forward as needed. */
static int has_data(int fd, struct extent *e, uint64_t start, uint64_t end, int *yes)
{
	if (e->end <= start && e->start != UINT64_MAX) {
		int rc = next_extent(fd, start, e);

		if (rc)
			return rc;
	}
	*yes = e->start < end;
	return 0;
}

int hashes_compute(int fd, uint64_t size, uint64_t offset, uint32_t bs, uint32_t count,
		   uint8_t *out, uint8_t *buf, size_t buflen)
{
	uint8_t zero_full[FRAME_HASH_LEN];
	size_t per_read = buflen / bs;
	struct extent e;
	uint32_t i = 0;
	int rc;

	if (!per_read)
		return -EINVAL;
	blockhash_zero(bs, zero_full);
	rc = next_extent(fd, offset, &e);
	while (!rc && i < count) {
		uint64_t start = offset + (uint64_t)i * bs;
		uint64_t len = size - start < bs ? size - start : bs;
		uint32_t n = 0;
		uint64_t run = 0;
		int data;

		rc = has_data(fd, &e, start, start + len, &data);
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
				rc = has_data(fd, &e, s, s + l, &data);
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
		rc = pread_full(fd, buf, run, start);
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
