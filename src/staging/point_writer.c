// SPDX-License-Identifier: GPL-2.0-or-later
#include "point_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "points.h"
#include "store_backend.h"
#include "util.h"

/* Under the lock. Unsynced appends need no sync here: the target is
 * dropped when a point is made (after point_writer_sync()) or when the
 * target was deleted, whose deletion copied them into the point before it
 * and synced that. */
static void drop_target(struct point_writer *w)
{
	for (unsigned i = 0; i < w->ndisks; i++) {
		if (w->covered[i])
			delta_close(&w->deltas[i]);
		w->covered[i] = 0;
		w->unsynced[i] = 0;
	}
	w->target = 0;
}

/* Under the lock: the newest point becomes the target (cow mode). */
static int load_target(struct point_writer *w)
{
	char path[PATH_MAX], file[FRAME_NAME_MAX + 16];
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc;

	drop_target(w);
	if (w->mode != POINT_MODE_COW)
		return 0;
	rc = points_scan_ids(w->dir, &ids, &n);
	if (rc || !n) {
		free(ids);
		return rc;
	}
	w->target = ids[n - 1];
	free(ids);
	for (unsigned i = 0; !rc && i < w->ndisks; i++) {
		snprintf(file, sizeof(file), "disk-%s.delta", w->disks[i].name);
		rc = point_path(path, w->dir, w->target, file);
		if (rc)
			break;
		rc = delta_open(path, 1, &w->deltas[i]);
		if (rc == -ENOENT) { /* the disk is newer than the point */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		w->covered[i] = 1;
		/* a session this one replaced may have appended records it had
		 * not synced yet: this one must not overwrite their chunks
		 * trusting them before they are durable */
		rc = delta_sync(&w->deltas[i]);
	}
	if (rc)
		drop_target(w);
	return rc;
}

static int lock(struct point_writer *w)
{
	while (flock(w->lock_fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void unlock(struct point_writer *w)
{
	flock(w->lock_fd, LOCK_UN);
}

/* A snapshot whose point directory exists belongs to a point. */
static int have_point(void *arg, uint64_t id)
{
	const struct point_writer *w = arg;
	char path[PATH_MAX];
	struct stat st;

	return point_path(path, w->dir, id, NULL) || stat(path, &st) == 0 || errno != ENOENT;
}

/* Under the lock, after points_clean(): the snapshots of points that a
 * crash left half made or half deleted. */
static int prune_snapshots(struct point_writer *w)
{
	int rc = 0;

	for (unsigned i = 0; !rc && i < w->ndisks; i++)
		rc = store_snap_prune(w->vols[i], have_point, w);
	return rc;
}

int point_writer_open(struct point_writer *w, const char *store_dir, const char *machine,
		      enum point_mode mode, unsigned n, struct store_volume *const *vols,
		      const struct point_disk *disks, char *err, size_t errlen)
{
	char mdir[PATH_MAX];
	int rc;

	memset(w, 0, sizeof(*w));
	err[0] = '\0';
	w->lock_fd = -1;
	w->ndisks = n;
	memcpy(w->vols, vols, n * sizeof(*vols));
	for (unsigned i = 0; i < n; i++)
		w->fds[i] = store_volume_fd(vols[i]);
	memcpy(w->disks, disks, n * sizeof(*disks));
	w->buf = malloc(DELTA_CHUNK);
	rc = w->buf ? points_dir_of(w->dir, store_dir, machine) : -ENOMEM;
	if (!rc && mkdir(w->dir, 0700) == 0) {
		snprintf(mdir, sizeof(mdir), "%s/%s", store_dir, machine);
		rc = points_fsync_dir(mdir);
	} else if (!rc && errno != EEXIST) {
		rc = -errno;
	}
	if (!rc) {
		w->lock_fd = points_lock(w->dir, LOCK_EX);
		rc = w->lock_fd < 0 ? w->lock_fd : 0;
	}
	if (!rc) {
		points_clean(w->dir);
		rc = points_read_mode(w->dir, &w->mode);
		if (rc == -ENOENT) {
			w->mode = mode;
			rc = points_write_mode(w->dir, mode);
		}
		/* the points' bytes are where the images are */
		if (!rc && (w->mode == POINT_MODE_SNAP) != store_backend_has_snapshots()) {
			snprintf(err, errlen, "the recovery points in %s are in %s mode, which the "
				 "%s image store cannot hold", w->dir, point_mode_name(w->mode),
				 store_backend_name());
			rc = -EUCLEAN;
		}
		if (!rc && w->mode == POINT_MODE_SNAP)
			rc = prune_snapshots(w);
		if (!rc)
			rc = load_target(w);
		unlock(w);
	}
	if (rc && !err[0])
		snprintf(err, errlen, "cannot open the recovery points in %s: %s", w->dir,
			 strerror(-rc));
	if (rc)
		point_writer_close(w);
	return rc;
}

void point_writer_close(struct point_writer *w)
{
	drop_target(w);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	w->lock_fd = -1;
	free(w->buf);
	w->buf = NULL;
}

/* The first chunk at or after c, before end, that holds data; end if none. */
static uint64_t next_data_chunk(int fd, uint64_t c, uint64_t end)
{
	off_t d = lseek(fd, (off_t)(c * DELTA_CHUNK), SEEK_DATA);

	if (d < 0)
		return errno == ENXIO ? end : c; /* no SEEK_DATA: assume data */
	return (uint64_t)d / DELTA_CHUNK < end ? (uint64_t)d / DELTA_CHUNK : end;
}

/* Whether any chunk of the range still needs saving (no lock needed: only
 * this writer adds to the target's deltas). */
static int needs_saving(struct point_writer *w, unsigned i, uint64_t first, uint64_t end,
			int data_only)
{
	uint64_t off;

	for (uint64_t c = first; c < end; c++) {
		if (data_only) {
			c = next_data_chunk(w->fds[i], c, end);
			if (c == end)
				break;
		}
		if (!delta_lookup(&w->deltas[i], c, &off))
			return 1;
	}
	return 0;
}

int point_writer_before_write(struct point_writer *w, unsigned i, uint64_t off, uint64_t len,
			      int data_only, int *appended)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t first, end, have;
	int rc = 0, added = 0;

	if (w->mode != POINT_MODE_COW || !w->target || !w->covered[i] || !len)
		return 0;
	first = off / DELTA_CHUNK;
	end = (off + len - 1) / DELTA_CHUNK + 1;
	if (!needs_saving(w, i, first, end, data_only))
		return 0;
	rc = lock(w);
	if (rc)
		return rc;
	/* the target may have been deleted (its chunks then went to the
	 * point before it): look again */
	if (point_path(path, w->dir, w->target, NULL) || stat(path, &st))
		rc = load_target(w);
	if (!rc && (!w->target || !w->covered[i])) {
		unlock(w);
		return 0;
	}
	for (uint64_t c = first; !rc && c < end; c++) {
		uint32_t n;

		if (data_only) {
			c = next_data_chunk(w->fds[i], c, end);
			if (c == end)
				break;
		}
		n = delta_chunk_len(w->deltas[i].disk_size, c);
		if (delta_lookup(&w->deltas[i], c, &have))
			continue;
		rc = pread_full(w->fds[i], w->buf, n, c * DELTA_CHUNK);
		if (!rc)
			rc = delta_append(&w->deltas[i], c, w->buf, n);
		added = 1;
		w->saved_bytes += n;
	}
	if (added && appended) {
		/* the caller holds the overwrite back until point_writer_sync() */
		w->unsynced[i] = 1;
		*appended = 1;
	} else if (!rc && added) {
		/* the old contents are durable before the live image changes */
		rc = delta_sync(&w->deltas[i]);
	}
	unlock(w);
	return rc;
}

int point_writer_sync(struct point_writer *w)
{
	int rc = 0, any = 0;

	for (unsigned i = 0; i < w->ndisks; i++)
		any |= w->unsynced[i];
	if (!any)
		return 0;
	rc = lock(w);
	if (rc)
		return rc;
	for (unsigned i = 0; !rc && i < w->ndisks; i++) {
		if (!w->unsynced[i] || !w->covered[i])
			continue;
		rc = delta_sync(&w->deltas[i]);
		if (!rc)
			w->unsynced[i] = 0;
	}
	unlock(w);
	return rc;
}

static void rfc3339_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.20s.%03uZ", s, (unsigned)(ts.tv_nsec / 1000000 % 1000));
}

static int read_last_id(const char *dir, uint64_t *last)
{
	char path[PATH_MAX];
	char *text, *end;
	int rc;

	*last = 0;
	if (snprintf(path, sizeof(path), "%s/last_id", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = read_small_file(path, &text, NULL, 64);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	errno = 0;
	*last = strtoull(text, &end, 10);
	rc = errno || (*end && *end != '\n') ? -EUCLEAN : 0;
	free(text);
	return rc;
}

static int write_last_id(const char *dir, uint64_t id)
{
	char path[PATH_MAX], text[32];

	if (snprintf(path, sizeof(path), "%s/last_id", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(text, sizeof(text), "%" PRIu64 "\n", id);
	return atomic_write_file(path, text, strlen(text), 0600);
}

/* The new point's files for disk i, in the directory being made (or, in
 * snapshot mode, its snapshot, made before the directory gets its name). */
static int make_disk(struct point_writer *w, const char *tmp, unsigned i, uint64_t id)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	/* the caller made the volume durable: the snapshot holds what was acknowledged */
	if (w->mode == POINT_MODE_SNAP)
		return store_snap_create(w->vols[i], id);
	if (w->mode == POINT_MODE_COW) {
		if (snprintf(path, sizeof(path), "%s/disk-%s.delta", tmp, w->disks[i].name) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		return delta_create(path, w->disks[i].size);
	}
	if (snprintf(path, sizeof(path), "%s/disk-%s.img", tmp, w->disks[i].name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	/* shares the image's extents: metadata only, whatever the size */
	if (ioctl(fd, FICLONE, w->fds[i]) || fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

/* Under the lock. */
static int make_locked(struct point_writer *w, struct point *p, char *err, size_t errlen)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	uint64_t *ids = NULL, last;
	size_t n = 0;
	int rc;

	points_clean(w->dir);
	rc = points_scan_ids(w->dir, &ids, &n);
	if (!rc && n) {
		struct point newest;

		/* the agent sent this MARK again (its ACK was lost) */
		if (point_path(final, w->dir, ids[n - 1], NULL) == 0 &&
		    point_load(final, &newest) == 0 && newest.mark_seq == p->mark_seq &&
		    newest.time_ns == p->time_ns) {
			p->id = newest.id;
			free(ids);
			return 0;
		}
	}
	if (!rc)
		rc = read_last_id(w->dir, &last);
	if (rc) {
		snprintf(err, errlen, "cannot read the points of %s: %s", w->dir, strerror(-rc));
		free(ids);
		return rc;
	}
	p->id = (n && ids[n - 1] > last ? ids[n - 1] : last) + 1;
	free(ids);
	/* the id is spent before anything uses it: never reused after a crash */
	rc = write_last_id(w->dir, p->id);
	if (!rc && snprintf(tmp, sizeof(tmp), "%s/.new-%" PRIu64, w->dir, p->id) >= (int)sizeof(tmp))
		rc = -ENAMETOOLONG;
	if (!rc && mkdir(tmp, 0700))
		rc = -errno;
	for (unsigned i = 0; !rc && i < w->ndisks; i++) {
		rc = make_disk(w, tmp, i, p->id);
		if (rc)
			snprintf(err, errlen, "cannot make disk %s of point %" PRIu64 ": %s",
				 w->disks[i].name, p->id, strerror(-rc));
	}
	if (!rc)
		rc = point_save(tmp, p); /* fsyncs the file and tmp */
	if (!rc)
		rc = point_path(final, w->dir, p->id, NULL);
	/* the point appears whole, or not at all */
	if (!rc && rename(tmp, final))
		rc = -errno;
	if (!rc)
		rc = points_fsync_dir(w->dir);
	if (rc && !err[0])
		snprintf(err, errlen, "cannot make point %" PRIu64 " in %s: %s", p->id, w->dir,
			 strerror(-rc));
	return rc;
}

int point_writer_make(struct point_writer *w, uint64_t time_ns, uint64_t mark_seq, uint8_t origin,
		      uint8_t consistency, uint64_t *id, char *err, size_t errlen)
{
	struct point *p = calloc(1, sizeof(*p));
	int rc;

	err[0] = '\0';
	if (!p)
		return -ENOMEM;
	p->time_ns = time_ns;
	p->mark_seq = mark_seq;
	p->origin = origin;
	p->consistency = consistency;
	p->mode = w->mode;
	rfc3339_now(p->created, sizeof(p->created));
	p->ndisks = w->ndisks;
	memcpy(p->disks, w->disks, w->ndisks * sizeof(*w->disks));
	rc = lock(w);
	if (!rc) {
		rc = make_locked(w, p, err, errlen);
		/* from now on, overwrites save into the new point */
		if (!rc)
			rc = load_target(w);
		unlock(w);
	}
	if (!rc)
		*id = p->id;
	else if (!err[0])
		snprintf(err, errlen, "cannot make a point in %s: %s", w->dir, strerror(-rc));
	free(p);
	return rc;
}
