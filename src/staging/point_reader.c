// SPDX-License-Identifier: GPL-2.0-or-later
#include "point_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "points.h"
#include "store_backend.h"
#include "util.h"

int point_reader_clone_path(const struct point_reader *r, char *out, size_t len)
{
	char file[FRAME_NAME_MAX + 16];

	snprintf(file, sizeof(file), "disk-%s.img", r->disk);
	if (len < PATH_MAX)
		return -ENAMETOOLONG;
	return point_path(out, r->dir, r->meta.id, file);
}

int point_reader_open(struct point_reader *r, const char *store_dir, const char *machine,
		      uint64_t id, const char *disk, char *err, size_t errlen)
{
	char pdir[PATH_MAX], path[PATH_MAX];
	unsigned i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->point_fd = r->lock_fd = r->src_fd = -1;
	snprintf(r->disk, sizeof(r->disk), "%s", disk);
	rc = points_dir_of(r->dir, store_dir, machine);
	if (!rc)
		rc = point_path(pdir, r->dir, id, NULL);
	if (rc) {
		snprintf(err, errlen, "bad machine name or path too long");
		return rc;
	}
	r->point_fd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->point_fd < 0 || flock(r->point_fd, LOCK_SH)) {
		rc = -errno;
		snprintf(err, errlen, "machine %s has no point %" PRIu64 " (see '%s points list %s')",
			 machine, id, "livemig-staging", machine);
		goto fail;
	}
	rc = point_load(pdir, &r->meta);
	if (rc) {
		/* deleted between the open and the lock, or damaged */
		if (rc == -ENOENT)
			snprintf(err, errlen, "machine %s has no point %" PRIu64, machine, id);
		else
			snprintf(err, errlen, "point %" PRIu64 " of machine %s is damaged (its "
				 "point.json): %s", id, machine, strerror(-rc));
		goto fail;
	}
	for (i = 0; i < r->meta.ndisks && strcmp(r->meta.disks[i].name, disk); i++)
		;
	if (i == r->meta.ndisks) {
		snprintf(err, errlen, "point %" PRIu64 " has no disk %s (its disks: %s%s)", id, disk,
			 r->meta.disks[0].name, r->meta.ndisks > 1 ? ", ..." : "");
		rc = -ENOENT;
		goto fail;
	}
	r->size = r->meta.disks[i].size;
	if (r->meta.mode == POINT_MODE_SNAP) {
		rc = store_snap_open(machine, disk, id, r->size, &r->snap, err, errlen);
		if (rc)
			goto fail;
	} else if (r->meta.mode == POINT_MODE_REFLINK) {
		rc = point_reader_clone_path(r, path, sizeof(path));
		if (!rc) {
			r->src_fd = open(path, O_RDONLY | O_CLOEXEC);
			rc = r->src_fd < 0 ? -errno : 0;
		}
	} else {
		r->lock_fd = points_lock(r->dir, LOCK_SH);
		rc = r->lock_fd < 0 ? r->lock_fd : 0;
		if (!rc)
			flock(r->lock_fd, LOCK_UN);
		if (!rc && snprintf(path, sizeof(path), "%s/%s/disk-%s.img", store_dir, machine,
				    disk) >= (int)sizeof(path))
			rc = -ENAMETOOLONG;
		if (!rc) {
			r->src_fd = open(path, O_RDONLY | O_CLOEXEC);
			rc = r->src_fd < 0 ? -errno : 0;
		}
	}
	if (rc) {
		snprintf(err, errlen, "cannot open disk %s of point %" PRIu64 ": %s", disk, id,
			 strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	point_reader_close(r);
	return rc;
}

/* Under the shared lock: open the deltas of points made since, and index
 * what was appended to the ones open. Deleted points stay in the chain:
 * what their deltas hold is also in the older delta they merged into. */
static int refresh(struct point_reader *r)
{
	char path[PATH_MAX], file[FRAME_NAME_MAX + 16];
	uint64_t *ids = NULL, last = r->nchain ? r->chain[r->nchain - 1].id : 0;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < r->nchain; i++)
		if (r->chain[i].have) {
			rc = delta_refresh(&r->chain[i].delta);
			if (rc)
				return rc;
		}
	rc = points_scan_ids(r->dir, &ids, &n);
	snprintf(file, sizeof(file), "disk-%s.delta", r->disk);
	for (size_t i = 0; !rc && i < n; i++) {
		struct point_reader_link *more, *l;

		if (ids[i] < r->meta.id || ids[i] <= last)
			continue;
		more = realloc(r->chain, (r->nchain + 1) * sizeof(*more));
		if (!more) {
			rc = -ENOMEM;
			break;
		}
		r->chain = more;
		l = &r->chain[r->nchain];
		memset(l, 0, sizeof(*l));
		l->id = ids[i];
		l->delta.fd = -1;
		rc = point_path(path, r->dir, ids[i], file);
		if (!rc)
			rc = delta_open(path, 0, &l->delta);
		/* a newer point deleted meanwhile: its chunks are in an older
		 * delta; the point itself cannot go while we hold it */
		if (rc == -ENOENT && ids[i] != r->meta.id)
			rc = 0;
		else if (!rc)
			l->have = 1;
		if (!rc)
			r->nchain++;
	}
	free(ids);
	return rc;
}

static int read_cow(struct point_reader *r, uint8_t *buf, size_t len, uint64_t off)
{
	int rc;

	while (flock(r->lock_fd, LOCK_SH))
		if (errno != EINTR)
			return -errno;
	rc = refresh(r);
	while (!rc && len) {
		uint64_t chunk = off / DELTA_CHUNK, at;
		size_t in = (size_t)(off % DELTA_CHUNK), n = DELTA_CHUNK - in;
		size_t i;

		if (n > len)
			n = len;
		for (i = 0; i < r->nchain; i++)
			if (r->chain[i].have && delta_lookup(&r->chain[i].delta, chunk, &at))
				break;
		if (i == r->nchain)
			rc = pread_full(r->src_fd, buf, n, off);
		else if (at == DELTA_ZERO)
			memset(buf, 0, n);
		else
			rc = pread_full(r->chain[i].delta.fd, buf, n, at + in);
		buf += n;
		off += n;
		len -= n;
	}
	flock(r->lock_fd, LOCK_UN);
	return rc;
}

int point_reader_read(struct point_reader *r, void *buf, size_t len, uint64_t off)
{
	if (off > r->size || len > r->size - off)
		return -EINVAL;
	if (r->meta.mode == POINT_MODE_SNAP)
		return store_volume_read(r->snap, buf, len, off);
	if (r->meta.mode == POINT_MODE_REFLINK)
		return pread_full(r->src_fd, buf, len, off);
	return read_cow(r, buf, len, off);
}

void point_reader_close(struct point_reader *r)
{
	for (size_t i = 0; i < r->nchain; i++)
		if (r->chain[i].have)
			delta_close(&r->chain[i].delta);
	free(r->chain);
	r->chain = NULL;
	r->nchain = 0;
	store_volume_close(r->snap);
	r->snap = NULL;
	if (r->src_fd >= 0)
		close(r->src_fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	if (r->point_fd >= 0)
		close(r->point_fd); /* releases the point */
	r->src_fd = r->lock_fd = r->point_fd = -1;
}
