// SPDX-License-Identifier: GPL-2.0-or-later
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

int atomic_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* A leftover from a crashed writer with our pid, or anything planted
	 * there: remove it and create afresh. O_EXCL never follows a symlink,
	 * and the new file gets `mode`, not the leftover's. */
	if (unlink(tmp) && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	rc = pwrite_full(fd, data, len, 0);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir_of(path);
}

int read_small_file(const char *path, char **out, size_t *len, size_t max)
{
	/* room for max bytes, one more to see that there are more, and a NUL */
	size_t n = 0, cap = max < 4096 ? max + 2 : 4096;
	char *buf = malloc(cap);
	int fd, rc = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	/* to end of file, whatever st_size says: /proc and sysfs report 0 or
	 * 4096, and a file may grow while it is read */
	for (;;) {
		ssize_t got;

		if (n + 1 == cap) {
			size_t want = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			char *bigger = realloc(buf, want);

			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
			cap = want;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
