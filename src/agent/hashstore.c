// SPDX-License-Identifier: GPL-2.0-or-later
#include "hashstore.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "util.h"

static const uint8_t hs_magic[8] = { 'L', 'M', 'H', 'A', 'S', 'H', '0', '1' };

static int write_header(struct hashstore *hs)
{
	uint8_t h[HASHSTORE_HDR_LEN] = { 0 };

	memcpy(h, hs_magic, 8);
	put_be32(h + 8, hs->block_size);
	put_be64(h + 12, hs->disk_size);
	memcpy(h + 20, hs->id, FRAME_EPOCH_LEN);
	return pwrite_full(hs->fd, h, sizeof(h), 0);
}

int hashstore_reset(struct hashstore *hs)
{
	int rc = random_bytes(hs->id, sizeof(hs->id));

	if (rc)
		return rc;
	/* truncating to the header drops every entry: holes read back as "unknown" */
	if (ftruncate(hs->fd, HASHSTORE_HDR_LEN) ||
	    ftruncate(hs->fd, HASHSTORE_HDR_LEN + (off_t)(hs->nblocks * FRAME_HASH_LEN)))
		return -errno;
	rc = write_header(hs);
	if (!rc && fdatasync(hs->fd))
		rc = -errno;
	return rc;
}

int hashstore_open(struct hashstore *hs, const char *path, uint64_t disk_size,
		   uint32_t block_size, int *created)
{
	uint8_t h[HASHSTORE_HDR_LEN];

	memset(hs, 0, sizeof(*hs));
	hs->block_size = block_size;
	hs->disk_size = disk_size;
	hs->nblocks = (disk_size + block_size - 1) / block_size;
	*created = 0;
	hs->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (hs->fd < 0)
		return -errno;
	if (pread_full(hs->fd, h, sizeof(h), 0) == 0 && !memcmp(h, hs_magic, 8) &&
	    get_be32(h + 8) == block_size && get_be64(h + 12) == disk_size) {
		memcpy(hs->id, h + 20, FRAME_EPOCH_LEN);
		return 0;
	}
	*created = 1;
	return hashstore_reset(hs);
}

int hashstore_get(struct hashstore *hs, uint64_t first, uint32_t n, uint8_t *out)
{
	if (first + n > hs->nblocks)
		return -ERANGE;
	return pread_full(hs->fd, out, (size_t)n * FRAME_HASH_LEN,
			  HASHSTORE_HDR_LEN + first * FRAME_HASH_LEN);
}

int hashstore_put(struct hashstore *hs, uint64_t first, uint32_t n, const uint8_t *in)
{
	if (first + n > hs->nblocks)
		return -ERANGE;
	return pwrite_full(hs->fd, in, (size_t)n * FRAME_HASH_LEN,
			   HASHSTORE_HDR_LEN + first * FRAME_HASH_LEN);
}

int hashstore_sync(struct hashstore *hs)
{
	return fdatasync(hs->fd) ? -errno : 0;
}

void hashstore_close(struct hashstore *hs)
{
	if (hs->fd >= 0)
		close(hs->fd);
	hs->fd = -1;
}
