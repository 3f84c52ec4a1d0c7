/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's recovery points in the staging store (docs/recovery-points.md):
 * listing, pinning, deleting and pruning them. Making points is the
 * session's (point_writer.h); reading them is point_reader.h's.
 *
 * Every change to a machine's points (making one, saving a chunk into the
 * newest point's delta, deleting, pinning) holds the exclusive lock on
 * <machine>/points/.lock; readers of a point hold it shared while they
 * look a chunk up and read it, and hold a shared lock on the point's own
 * directory for as long as they use the point, so that pruning passes it by.
 */
#ifndef LIVEMIG_STAGING_POINTS_H
#define LIVEMIG_STAGING_POINTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "point_meta.h"
#include "retention.h"

/* {"machine": "...", "points": [P, ...]} (oldest first), or an empty list
 * for a machine without points. 0, -ENOENT (no such machine), -errno. */
int points_list_json(const char *store_dir, const char *machine, json_t **out);
/* P for one point. 0, -ENOENT, -errno. */
int points_show_json(const char *store_dir, const char *machine, uint64_t id, json_t **out);

/* Add (on) or remove a pin. -ENOENT: no such point (or pin, when removing);
 * -ENOSPC: too many pins. */
int points_pin(const char *store_dir, const char *machine, uint64_t id, const char *name, int on);
/* Delete a point; -EBUSY if it is pinned, in use, or its snapshots have
 * clones (a launch from it; err says by whom). */
int points_delete(const char *store_dir, const char *machine, uint64_t id, char *err,
		  size_t errlen);
/* Delete the points the policy does not keep (pinned and in-use ones stay,
 * and those whose snapshots have clones). *pruned: how many went; *held:
 * how many the policy would have pruned that clones keep. 0 or -errno. */
int points_prune(const char *store_dir, const char *machine, const struct retention_policy *pol,
		 uint64_t now_ns, unsigned *pruned, unsigned *held);

/* ---- shared by the writer, the reader and the above ---- */

/* <store>/<machine>/points */
int points_dir_of(char *out, const char *store_dir, const char *machine);
/* Open (creating) the points lock and take it: LOCK_EX or LOCK_SH. The
 * descriptor, or -errno. Closing it releases the lock. */
int points_lock(const char *points_dir, int how);
/* Under the exclusive lock: finish deleting and forget half-made points
 * that a crash left behind. */
void points_clean(const char *points_dir);
/* The mode this machine's points use (points/mode); -ENOENT if none yet. */
int points_read_mode(const char *points_dir, enum point_mode *mode);
int points_write_mode(const char *points_dir, enum point_mode mode);

/* Whether FICLONE works in dir (a probe file pair, removed after). */
int points_reflink_works(const char *dir);

/* Remove a flat directory and what it holds. */
int points_remove_dir(const char *dir);
int points_fsync_dir(const char *dir);

#endif
