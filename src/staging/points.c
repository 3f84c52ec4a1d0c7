// SPDX-License-Identifier: GPL-2.0-or-later
#include "points.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "delta.h"
#include "store_backend.h"
#include "util.h"

int points_dir_of(char *out, const char *store_dir, const char *machine)
{
	int n;

	if (!name_valid(machine))
		return -EINVAL;
	n = snprintf(out, PATH_MAX, "%s/%s/" POINTS_DIR, store_dir, machine);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int points_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

int points_lock(const char *points_dir, int how)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.lock", points_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, how)) {
		if (errno != EINTR) {
			int rc = -errno;

			close(fd);
			return rc;
		}
	}
	return fd;
}

int points_remove_dir(const char *dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

void points_clean(const char *points_dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(points_dir);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int serve = !strncmp(e->d_name, ".serve-", 7);

		if (strncmp(e->d_name, ".new-", 5) && strncmp(e->d_name, ".del-", 5) && !serve)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", points_dir, e->d_name) >= (int)sizeof(path))
			continue;
		/* a materialized copy whose server died without cleaning up */
		if (serve) {
			long pid = strtol(e->d_name + 7, NULL, 10);

			if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
				continue;
			unlink(path);
			continue;
		}
		points_remove_dir(path);
		removed = 1;
	}
	closedir(d);
	if (removed)
		points_fsync_dir(points_dir);
}

int points_read_mode(const char *points_dir, enum point_mode *mode)
{
	char path[PATH_MAX];
	char *text;
	int rc;

	if (snprintf(path, sizeof(path), "%s/mode", points_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = read_small_file(path, &text, NULL, 64);
	if (rc)
		return rc;
	if (!strcmp(text, "reflink\n"))
		*mode = POINT_MODE_REFLINK;
	else if (!strcmp(text, "cow\n"))
		*mode = POINT_MODE_COW;
	else if (!strcmp(text, "snapshot\n"))
		*mode = POINT_MODE_SNAP;
	else
		rc = -EUCLEAN;
	free(text);
	return rc;
}

int points_write_mode(const char *points_dir, enum point_mode mode)
{
	char path[PATH_MAX], text[16];

	snprintf(text, sizeof(text), "%s\n", point_mode_name(mode));
	if (snprintf(path, sizeof(path), "%s/mode", points_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return atomic_write_file(path, text, strlen(text), 0600);
}

int points_reflink_works(const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];
	static const char block[4096] = "livemig reflink probe";
	int fa, fb, ok = 0;

	if (snprintf(a, sizeof(a), "%s/.reflink-probe-a.%d", dir, (int)getpid()) >= (int)sizeof(a) ||
	    snprintf(b, sizeof(b), "%s/.reflink-probe-b.%d", dir, (int)getpid()) >= (int)sizeof(b))
		return 0;
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fa >= 0 && fb >= 0 && pwrite_full(fa, block, sizeof(block), 0) == 0)
		ok = ioctl(fb, FICLONE, fa) == 0;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	unlink(a);
	unlink(b);
	return ok;
}

/* ---- reading the list ---- */

static int machine_exists(const char *store_dir, const char *machine)
{
	char path[PATH_MAX];
	struct stat st;

	if (!name_valid(machine))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s/manifest.json", store_dir, machine) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return stat(path, &st) ? -errno : 0;
}

int points_list_json(const char *store_dir, const char *machine, json_t **out)
{
	char dir[PATH_MAX], pdir[PATH_MAX];
	struct point *p = malloc(sizeof(*p));
	json_t *list = json_array();
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc = machine_exists(store_dir, machine);

	*out = NULL;
	if (!rc)
		rc = points_dir_of(dir, store_dir, machine);
	if (!rc)
		rc = p && list ? points_scan_ids(dir, &ids, &n) : -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = point_path(pdir, dir, ids[i], NULL);
		if (rc)
			break;
		rc = point_load(pdir, p);
		if (rc == -ENOENT) { /* deleted while we looked */
			rc = 0;
			continue;
		}
		if (!rc)
			json_array_append_new(list, point_to_json(p));
	}
	if (!rc) {
		*out = json_pack("{s:s, s:O}", "machine", machine, "points", list);
		if (!*out)
			rc = -ENOMEM;
	}
	json_decref(list);
	free(ids);
	free(p);
	return rc;
}

int points_show_json(const char *store_dir, const char *machine, uint64_t id, json_t **out)
{
	char dir[PATH_MAX], pdir[PATH_MAX];
	struct point *p = malloc(sizeof(*p));
	int rc = machine_exists(store_dir, machine);

	*out = NULL;
	if (!rc)
		rc = points_dir_of(dir, store_dir, machine);
	if (!rc)
		rc = p ? point_path(pdir, dir, id, NULL) : -ENOMEM;
	if (!rc)
		rc = point_load(pdir, p);
	if (!rc) {
		*out = point_to_json(p);
		if (!*out)
			rc = -ENOMEM;
	}
	free(p);
	return rc;
}

/* ---- changing them (the caller holds the exclusive lock) ---- */

int points_pin(const char *store_dir, const char *machine, uint64_t id, const char *name, int on)
{
	char dir[PATH_MAX], pdir[PATH_MAX];
	struct point *p = malloc(sizeof(*p));
	int rc = machine_exists(store_dir, machine), lock = -1;
	unsigned i;

	if (!rc && !point_pin_valid(name))
		rc = -EINVAL;
	if (!rc)
		rc = points_dir_of(dir, store_dir, machine);
	if (!rc)
		rc = p ? point_path(pdir, dir, id, NULL) : -ENOMEM;
	if (!rc) {
		lock = points_lock(dir, LOCK_EX);
		rc = lock < 0 ? lock : point_load(pdir, p);
	}
	if (!rc) {
		for (i = 0; i < p->npins && strcmp(p->pins[i], name); i++)
			;
		if (on && i == p->npins) {
			if (p->npins == POINT_MAX_PINS)
				rc = -ENOSPC;
			else
				strcpy(p->pins[p->npins++], name);
		} else if (!on && i == p->npins) {
			rc = -ENOENT;
		} else if (!on) {
			memmove(p->pins[i], p->pins[i + 1], (p->npins - i - 1) * sizeof(p->pins[0]));
			p->npins--;
		}
	}
	if (!rc)
		rc = point_save(pdir, p);
	if (lock >= 0)
		close(lock);
	free(p);
	return rc;
}

/* Copy into the older point's deltas the chunks it lacks from the deleted
 * point's: reading the older point went through them. */
static int merge_deltas(const char *dir, uint64_t older, const struct point *p)
{
	char from[PATH_MAX], into[PATH_MAX], file[FRAME_NAME_MAX + 16];
	uint8_t *buf = malloc(DELTA_CHUNK);
	int rc = buf ? 0 : -ENOMEM;

	for (unsigned i = 0; !rc && i < p->ndisks; i++) {
		struct delta src, dst;

		snprintf(file, sizeof(file), "disk-%s.delta", p->disks[i].name);
		if (point_path(from, dir, p->id, file) || point_path(into, dir, older, file)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (access(into, F_OK))
			continue; /* the disk is newer than the older point */
		rc = delta_open(from, 0, &src);
		if (rc)
			break;
		rc = delta_open(into, 1, &dst);
		if (rc) {
			delta_close(&src);
			break;
		}
		for (size_t s = 0; !rc && s < src.map.cap; s++) {
			uint64_t chunk = src.map.keys[s] - 1, off = src.map.vals[s], have;
			uint32_t len = delta_chunk_len(src.disk_size, chunk);

			if (!src.map.keys[s] || delta_lookup(&dst, chunk, &have))
				continue;
			if (off == DELTA_ZERO) {
				rc = delta_append(&dst, chunk, NULL, len);
				continue;
			}
			rc = pread_full(src.fd, buf, len, off);
			if (!rc)
				rc = delta_append(&dst, chunk, buf, len);
		}
		if (!rc)
			rc = delta_sync(&dst);
		delta_close(&src);
		delta_close(&dst);
	}
	free(buf);
	return rc;
}

/* Lock the point's directory against readers (who hold it shared): the
 * descriptor, or -EBUSY while one reads it. */
static int lock_point(const char *pdir)
{
	int fd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* A snapshot-mode point's snapshots, once its directory is renamed away:
 * a crash before this leaves snapshots without a point, which the next
 * session's point_writer_open() removes. */
static int remove_snapshots(const char *machine, const struct point *p)
{
	int rc = 0;

	for (unsigned i = 0; !rc && i < p->ndisks; i++)
		rc = store_snap_remove(machine, p->disks[i].name, p->id);
	return rc;
}

/* -EBUSY, with whose clones in err, while an image is cloned from one of
 * a snapshot-mode point's snapshots (a launch from it): the snapshot
 * cannot be removed under it, so the point stays as well, and its record
 * never outlives its snapshots' being removable. */
static int held_by_clones(const char *machine, const struct point *p, char *err, size_t errlen)
{
	char names[256];

	for (unsigned i = 0; p->mode == POINT_MODE_SNAP && i < p->ndisks; i++) {
		int n = store_snap_clones(machine, p->disks[i].name, p->id, names, sizeof(names));

		if (n < 0) {
			snprintf(err, errlen, "cannot tell whether point %" PRIu64 "'s snapshot of disk %s "
				 "has clones: %s", p->id, p->disks[i].name, store_strerror(n));
			return n;
		}
		if (n > 0) {
			snprintf(err, errlen, "point %" PRIu64 " is held by %d clone%s of its snapshot of disk "
				 "%s: %s (a launch from the point); destroy that launch first (livemig-launch "
				 "destroy, with its conversion's report or the clones' names: docs/launch.md, "
				 "\"Points on Ceph RBD\"), then delete the point", p->id, n, n == 1 ? "" : "s",
				 p->disks[i].name, names);
			return -EBUSY;
		}
	}
	return 0;
}

/* Under the exclusive lock. ids: the current points, ascending. *held: 1
 * when a clone of its snapshots keeps the point. */
static int delete_locked(const char *dir, const char *machine, const uint64_t *ids, size_t n,
			 uint64_t id, int *held, char *err, size_t errlen)
{
	char pdir[PATH_MAX], gone[PATH_MAX];
	struct point *p = malloc(sizeof(*p));
	uint64_t older = 0;
	int rc, pfd = -1;

	if (!p)
		return -ENOMEM;
	rc = point_path(pdir, dir, id, NULL);
	if (!rc)
		rc = point_load(pdir, p);
	if (rc == -ENOENT)
		snprintf(err, errlen, "there is no point %" PRIu64, id);
	if (!rc && p->npins) {
		snprintf(err, errlen, "point %" PRIu64 " is pinned by %s%s (unpin it first)", id,
			 p->pins[0], p->npins > 1 ? " and others" : "");
		rc = -EBUSY;
	}
	if (!rc) {
		rc = held_by_clones(machine, p, err, errlen);
		*held = rc == -EBUSY;
	}
	/* held until the point is gone: a reader that opens it meanwhile
	 * waits, then finds no point */
	if (!rc) {
		pfd = lock_point(pdir);
		rc = pfd < 0 ? pfd : 0;
		if (rc == -EBUSY)
			snprintf(err, errlen, "point %" PRIu64 " is being read (an export or an NBD "
				 "server); try again when it ends", id);
	}
	for (size_t i = 0; i < n && ids[i] < id; i++)
		older = ids[i];
	if (!rc && p->mode == POINT_MODE_COW && older)
		rc = merge_deltas(dir, older, p);
	/* renamed away first: a crash then leaves it gone, never half there */
	if (!rc && (snprintf(gone, sizeof(gone), "%s/.del-%" PRIu64, dir, id) >= (int)sizeof(gone)))
		rc = -ENAMETOOLONG;
	if (!rc && rename(pdir, gone))
		rc = -errno;
	if (!rc)
		rc = points_fsync_dir(dir);
	if (!rc && p->mode == POINT_MODE_SNAP) {
		rc = remove_snapshots(machine, p);
		if (rc)
			snprintf(err, errlen, "point %" PRIu64 " is gone but removing its snapshots "
				 "failed (%s); the next connection of the machine removes them", id,
				 strerror(-rc));
	}
	if (!rc)
		rc = points_remove_dir(gone);
	if (rc && !err[0])
		snprintf(err, errlen, "cannot delete point %" PRIu64 ": %s", id, strerror(-rc));
	if (pfd >= 0)
		close(pfd);
	free(p);
	return rc;
}

int points_delete(const char *store_dir, const char *machine, uint64_t id, char *err,
		  size_t errlen)
{
	char dir[PATH_MAX];
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc = machine_exists(store_dir, machine), lock = -1, held = 0;

	err[0] = '\0';
	if (!rc)
		rc = points_dir_of(dir, store_dir, machine);
	if (!rc) {
		lock = points_lock(dir, LOCK_EX);
		rc = lock < 0 ? lock : 0;
	}
	if (!rc) {
		points_clean(dir);
		rc = points_scan_ids(dir, &ids, &n);
	}
	if (!rc)
		rc = delete_locked(dir, machine, ids, n, id, &held, err, errlen);
	else if (!err[0])
		snprintf(err, errlen, "%s", strerror(-rc));
	if (lock >= 0)
		close(lock);
	free(ids);
	return rc;
}

int points_prune(const char *store_dir, const char *machine, const struct retention_policy *pol,
		 uint64_t now_ns, unsigned *pruned, unsigned *held)
{
	char dir[PATH_MAX], pdir[PATH_MAX], err[256];
	struct retention_point *rp = NULL;
	struct point *p = malloc(sizeof(*p));
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc = points_dir_of(dir, store_dir, machine), lock = -1;

	*pruned = *held = 0;
	if (!rc && !p)
		rc = -ENOMEM;
	if (!rc) {
		lock = points_lock(dir, LOCK_EX);
		rc = lock < 0 ? lock : 0;
	}
	if (!rc) {
		points_clean(dir);
		rc = points_scan_ids(dir, &ids, &n);
	}
	if (!rc && n) {
		rp = calloc(n, sizeof(*rp));
		rc = rp ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		rc = point_path(pdir, dir, ids[i], NULL);
		if (!rc)
			rc = point_load(pdir, p);
		if (rc == -EUCLEAN) { /* damaged: an operator decides, never pruned */
			rp[i].pinned = 1;
			rp[i].time_ns = UINT64_MAX;
			rc = 0;
			continue;
		}
		rp[i].time_ns = p->time_ns;
		rp[i].pinned = p->npins > 0;
	}
	/* the last point made stays whatever its time says: it is where the
	 * writer saves old contents */
	if (!rc && n) {
		rp[n - 1].pinned = 1;
		retention_select(rp, n, now_ns, pol);
	}
	/* oldest first: a point without an older one needs no merge */
	for (size_t i = 0; !rc && i < n; i++) {
		int by_clone = 0;

		if (rp[i].keep)
			continue;
		err[0] = '\0';
		if (delete_locked(dir, machine, ids, n, ids[i], &by_clone, err, sizeof(err)) == 0) {
			(*pruned)++;
			memmove(ids + i, ids + i + 1, (n - i - 1) * sizeof(*ids));
			memmove(rp + i, rp + i + 1, (n - i - 1) * sizeof(*rp));
			n--;
			i--;
		} else if (by_clone) {
			(*held)++; /* a launch's clone: kept, as its snapshot is */
		}
	}
	if (lock >= 0)
		close(lock);
	free(rp);
	free(ids);
	free(p);
	return rc;
}
