// SPDX-License-Identifier: GPL-2.0-or-later
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats.h"
#include "util.h"

int image_create(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), rc = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)size) || fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

int image_open(const char *path, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot open image %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size != size) {
		snprintf(err, errlen, "image %s is %lld bytes but its disk is %" PRIu64
			 " bytes; the store is damaged (move the machine's directory aside "
			 "to replicate it anew)", path, (long long)st.st_size, size);
		close(fd);
		return -EUCLEAN;
	}
	return fd;
}

/* Filesystems without fallocate (some network ones) cannot reserve ahead;
 * there the write itself reports a full store. */
static int reserve(int fd, uint64_t off, uint64_t len)
{
	if (fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	return -errno;
}

int image_write(int fd, const void *buf, size_t len, uint64_t off)
{
	int rc = reserve(fd, off, len);

	if (rc)
		return rc;
	return pwrite_full(fd, buf, len, off);
}

static int write_zeros(int fd, uint64_t off, uint64_t len)
{
	static uint8_t zeros[256 << 10]; /* never written: stays all zero */
	int rc = reserve(fd, off, len);

	while (!rc && len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		rc = pwrite_full(fd, zeros, n, off);
		off += n;
		len -= n;
	}
	return rc;
}

int image_zero(int fd, uint64_t off, uint64_t len)
{
	/* a hole keeps the image sparse; zero-range at least frees the data */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return write_zeros(fd, off, len);
}

int image_sync(int fd)
{
	uint64_t t0 = now_mono_ns();
	int rc = fdatasync(fd) ? -errno : 0;

	stats_fsync(now_mono_ns() - t0);
	return rc;
}
