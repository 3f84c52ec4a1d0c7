/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session's side of recovery points: making a point from a MARK, and,
 * in copy-on-write mode, saving a chunk's old contents into the newest
 * point's delta before the first overwrite after that point
 * (docs/recovery-points.md). The caller holds the machine's lock
 * (machines.h) around every call, so one writer at a time changes the
 * live images.
 */
#ifndef LIVEMIG_STAGING_POINT_WRITER_H
#define LIVEMIG_STAGING_POINT_WRITER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "delta.h"
#include "point_meta.h"

struct store_volume;

struct point_writer {
	char dir[PATH_MAX];           /* <store>/<machine>/points */
	enum point_mode mode;
	int lock_fd;                  /* points/.lock, flocked around changes */
	unsigned ndisks;
	struct store_volume *vols[FRAME_MAX_DISKS]; /* the live volumes (the caller's) */
	int fds[FRAME_MAX_DISKS];     /* their image files (files backend), else -1 */
	struct point_disk disks[FRAME_MAX_DISKS];
	/* copy-on-write: the newest point and its deltas, one per disk it covers */
	uint64_t target;              /* 0: no point yet, nothing to save */
	struct delta deltas[FRAME_MAX_DISKS];
	int covered[FRAME_MAX_DISKS];
	int unsynced[FRAME_MAX_DISKS]; /* appended to, not yet fdatasynced */
	uint8_t *buf;                 /* one chunk */
	uint64_t saved_bytes;         /* old contents saved, for the log */
};

/* mode: the store's (points_reflink_works, or snapshots for a backend
 * that has them), used unless the machine's points already have one. In
 * snapshot mode, snapshots of points that do not exist (a crash while one
 * was made or deleted) are removed. 0 or -errno with err set. */
int point_writer_open(struct point_writer *w, const char *store_dir, const char *machine,
		      enum point_mode mode, unsigned n, struct store_volume *const *vols,
		      const struct point_disk *disks, char *err, size_t errlen);
void point_writer_close(struct point_writer *w);

/*
 * Before [off, off+len) of disk i is overwritten (data_only: only parts
 * that hold data change, as for a ZERO): save the chunks that the newest
 * point still reads from the live image. With appended NULL they are
 * durable before it returns; else they are only appended, *appended is set
 * to 1 if anything was, and the range must not be overwritten before
 * point_writer_sync() returned. 0 or -errno.
 */
int point_writer_before_write(struct point_writer *w, unsigned i, uint64_t off, uint64_t len,
			      int data_only, int *appended);

/* Make durable what point_writer_before_write() appended unsynced.
 * 0 or -errno. */
int point_writer_sync(struct point_writer *w);

/*
 * Make a point of the live images, which the caller made durable. A MARK
 * sent again (same seq and time as the newest point) gives the same point.
 * *id: the point's id. 0 or -errno with err set.
 */
int point_writer_make(struct point_writer *w, uint64_t time_ns, uint64_t mark_seq, uint8_t origin,
		      uint8_t consistency, uint64_t *id, char *err, size_t errlen);

#endif
