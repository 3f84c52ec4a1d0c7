/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One recovery point's metadata (point.json, docs/recovery-points.md) and
 * the layout of a machine's points directory: which points exist, their
 * ids, their JSON form.
 */
#ifndef LIVEMIG_STAGING_POINT_META_H
#define LIVEMIG_STAGING_POINT_META_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "frame.h"

#define POINT_FORMAT    1
#define POINT_MAX_PINS  64
#define POINTS_DIR      "points"

enum point_mode {
	POINT_MODE_REFLINK = 1, /* each disk a FICLONE of the live image */
	POINT_MODE_COW     = 2, /* each disk a delta of blocks saved before overwrites */
	POINT_MODE_SNAP    = 3, /* each disk a snapshot in the store backend (RBD) */
};

struct point_disk {
	char name[FRAME_NAME_MAX + 1];
	uint64_t size;
};

struct point {
	uint64_t id;
	uint64_t time_ns;  /* the consistent moment (the MARK's time) */
	uint64_t mark_seq;
	uint8_t origin;      /* enum mark_origin */
	uint8_t consistency; /* enum mark_consistency */
	enum point_mode mode;
	char created[40];  /* RFC 3339, when staging made it */
	unsigned ndisks;
	struct point_disk disks[FRAME_MAX_DISKS];
	unsigned npins;
	char pins[POINT_MAX_PINS][FRAME_NAME_MAX + 1];
};

const char *point_origin_name(uint8_t origin);
const char *point_consistency_name(uint8_t consistency);
const char *point_mode_name(enum point_mode mode);

/* "<dir>/<id>" etc.; -ENAMETOOLONG if it does not fit PATH_MAX. */
int point_path(char *out, const char *points_dir, uint64_t id, const char *file);

/* point.json of the point directory dir. 0, -ENOENT, -EUCLEAN (damaged). */
int point_load(const char *dir, struct point *p);
/* Write dir/point.json durably (atomic replace). 0 or -errno. */
int point_save(const char *dir, const struct point *p);

/* The contract's JSON object for p (docs/recovery-points.md). */
json_t *point_to_json(const struct point *p);

/*
 * The ids of the complete points under points_dir, ascending (directories
 * named by a decimal id; ones being made or deleted have other names).
 * *ids is malloc'd (NULL when there are none). 0 or -errno; a missing
 * directory is no points.
 */
int points_scan_ids(const char *points_dir, uint64_t **ids, size_t *n);

/* Whether a pin name is acceptable (a name as machines and disks have). */
int point_pin_valid(const char *name);

#endif
