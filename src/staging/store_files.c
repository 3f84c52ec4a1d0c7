// SPDX-License-Identifier: GPL-2.0-or-later
/* The files backend: DIR/<machine>/disk-<name>.img, sparse (image.c). */
#include "store_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "image.h"
#include "util.h"

struct files_volume {
	struct store_volume base;
	int fd;
};

static const char *root_dir;

static int files_setup(const struct store_backend_config *cfg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	root_dir = cfg->root;
	return 0;
}

static void files_shutdown(void)
{
}

static int image_path(char *out, const char *machine, const char *disk)
{
	int n = snprintf(out, PATH_MAX, "%s/%s/disk-%s.img", root_dir, machine, disk);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int files_create(const char *machine, const char *disk, uint64_t size, char *err,
			size_t errlen)
{
	char path[PATH_MAX];
	int rc = image_path(path, machine, disk);

	if (!rc)
		rc = image_create(path, size);
	if (rc)
		snprintf(err, errlen, "cannot create image %s: %s", path, strerror(-rc));
	return rc;
}

static int files_open(const char *machine, const char *disk, uint64_t size,
		      struct store_volume **out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct files_volume *v;
	int rc = image_path(path, machine, disk), fd;

	if (rc) {
		snprintf(err, errlen, "store path too long");
		return rc;
	}
	fd = image_open(path, size, err, errlen);
	if (fd < 0)
		return fd;
	v = malloc(sizeof(*v));
	if (!v) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	v->base.ops = &store_files_ops;
	v->fd = fd;
	*out = &v->base;
	return 0;
}

static int fd_of(struct store_volume *v)
{
	return ((struct files_volume *)v)->fd;
}

static void files_close(struct store_volume *v)
{
	close(fd_of(v));
	free(v);
}

static int files_read(struct store_volume *v, void *buf, size_t len, uint64_t off)
{
	return pread_full(fd_of(v), buf, len, off);
}

static int files_write(struct store_volume *v, const void *buf, size_t len, uint64_t off)
{
	return image_write(fd_of(v), buf, len, off);
}

static int files_zero(struct store_volume *v, uint64_t off, uint64_t len)
{
	return image_zero(fd_of(v), off, len);
}

static int files_flush(struct store_volume *v)
{
	return image_sync(fd_of(v));
}

/* Holes are found with SEEK_DATA/SEEK_HOLE so they need not be read. */
static int files_next_data(struct store_volume *v, uint64_t from, uint64_t *start,
			   uint64_t *end)
{
	int fd = fd_of(v);
	off_t d = lseek(fd, (off_t)from, SEEK_DATA), h;

	if (d < 0) {
		if (errno == ENXIO) { /* only a hole from here to the end */
			*start = *end = UINT64_MAX;
			return 0;
		}
		if (errno == EINVAL || errno == EOPNOTSUPP) { /* no hole support: all data */
			*start = from;
			*end = UINT64_MAX;
			return 0;
		}
		return -errno;
	}
	h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*start = (uint64_t)d;
	*end = (uint64_t)h;
	return 0;
}

static int files_space(const char *root, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct statvfs vfs;

	if (statvfs(root, &vfs))
		return -errno;
	*free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	*total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	return 0;
}

const struct store_backend_ops store_files_ops = {
	.name = "files",
	.setup = files_setup,
	.shutdown = files_shutdown,
	.create = files_create,
	.open = files_open,
	.close = files_close,
	.read = files_read,
	.write = files_write,
	.zero = files_zero,
	.flush = files_flush,
	.next_data = files_next_data,
	.fd = fd_of,
	.space = files_space,
};
