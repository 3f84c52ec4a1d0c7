/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading one disk of a recovery point while replication goes on: a clone
 * is read as it is; a copy-on-write point is the live image overlaid by the
 * deltas of that point and of every newer one, the oldest delta that holds
 * a chunk winning; a snapshot is read from the store backend
 * (docs/recovery-points.md). The reader holds a shared
 * lock on the point, so that nothing deletes it meanwhile.
 */
#ifndef LIVEMIG_STAGING_POINT_READER_H
#define LIVEMIG_STAGING_POINT_READER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "delta.h"
#include "point_meta.h"

struct store_volume;

struct point_reader_link {
	uint64_t id;
	struct delta delta;
	int have; /* the point covers this disk */
};

struct point_reader {
	char dir[PATH_MAX];     /* <store>/<machine>/points */
	struct point meta;
	uint64_t size;          /* the disk's */
	char disk[FRAME_NAME_MAX + 1];
	int point_fd;           /* the point's directory, flocked shared */
	int lock_fd;            /* points/.lock (cow: shared around each read) */
	int src_fd;             /* reflink: the clone; cow: the live image */
	struct point_reader_link *chain; /* cow: this point and newer ones, ascending */
	struct store_volume *snap;       /* snapshot: the disk's snapshot, read-only */
	size_t nchain;
};

/* 0, or -errno with err set (-ENOENT: no such machine, point or disk). */
int point_reader_open(struct point_reader *r, const char *store_dir, const char *machine,
		      uint64_t id, const char *disk, char *err, size_t errlen);
/* Bytes [off, off+len) of the disk as of the point. 0 or -errno. */
int point_reader_read(struct point_reader *r, void *buf, size_t len, uint64_t off);
/* Reflink: the clone's path (readable as is while the reader is open). */
int point_reader_clone_path(const struct point_reader *r, char *out, size_t len);
void point_reader_close(struct point_reader *r);

#endif
