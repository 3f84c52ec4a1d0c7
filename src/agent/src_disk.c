// SPDX-License-Identifier: GPL-2.0-or-later
#include "src_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define DIRECT_ALIGN 4096u

int src_disk_open(struct src_disk *d, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd_direct = -1;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(d->fd, &st)) {
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		d->is_blockdev = 1;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size)) {
			snprintf(err, errlen, "cannot get size of %s: %s", path, strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "%s is neither a block device nor an image file", path);
		errno = EINVAL;
		goto fail;
	}
	if (d->size == 0) {
		snprintf(err, errlen, "%s is empty", path);
		errno = EINVAL;
		goto fail;
	}
	/* tmpfs and some file systems refuse O_DIRECT; the buffered fd serves then */
	d->fd_direct = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	return 0;
fail:
	close(d->fd);
	d->fd = -1;
	return -errno;
}

int src_disk_read(struct src_disk *d, uint8_t *buf, size_t len, uint64_t off)
{
	size_t direct = 0;

	if (d->fd_direct >= 0 && off % DIRECT_ALIGN == 0)
		direct = len & ~(size_t)(DIRECT_ALIGN - 1);
	if (direct) {
		int rc = pread_full(d->fd_direct, buf, direct, off);

		if (rc == -EINVAL) {
			/* the device's logical block size is larger than our alignment */
			close(d->fd_direct);
			d->fd_direct = -1;
			direct = 0;
		} else if (rc) {
			return rc;
		}
	}
	if (direct < len)
		return pread_full(d->fd, buf + direct, len - direct, off + direct);
	return 0;
}

void src_disk_close(struct src_disk *d)
{
	if (d->fd_direct >= 0)
		close(d->fd_direct);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = d->fd_direct = -1;
}
