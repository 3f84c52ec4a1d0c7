/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How the agent learns which blocks changed. The engine calls, per disk:
 * attach before the mirror's first read (tracking starts then), and for each
 * change-copy round begin -> next_extent... -> commit once staging made the
 * round durable, or abort on failure (the tracker must then give the same
 * blocks again next round). An epoch names one unbroken stretch of tracking;
 * when it differs from the checkpoint's, the engine rescans.
 *
 * `scan` (tracker_scan.c) needs no kernel support: every round offers the
 * whole disk with compare set, so only blocks whose hash differs from what
 * staging holds are sent. `kmod` (tracker_kmod.c) reads the blocks the
 * livemig_cbt kernel module saw written. tracker_select.c picks one.
 */
#ifndef LIVEMIG_TRACKER_H
#define LIVEMIG_TRACKER_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct engine;

/* The extents of one round never overlap: a comparing extent's blocks are
 * compared by 4 KiB piece with what staging holds while the round's earlier
 * slots are still in flight (refine.c), which is right only if none of them
 * carries the same block. */
struct tracker_extent {
	uint64_t offset;
	uint64_t length;
	int compare; /* only send blocks (pieces) that differ from staging's */
};

/* round_begin or next_extent: the tracking of this disk was interrupted
 * (module reloaded, disk resized or removed, writes the tracker could not
 * see). The engine attaches again (a new epoch) and rescans the disk. */
#define TRACKER_LOST EIDRM

struct tracker_ops {
	const char *name;
	int (*attach)(struct engine *e, unsigned disk, uint8_t epoch[FRAME_EPOCH_LEN]);
	int (*round_begin)(struct engine *e, unsigned disk);
	/* 1 with *x filled, 0 when the round has no more extents, or -errno */
	int (*next_extent)(struct engine *e, unsigned disk, struct tracker_extent *x);
	int (*round_commit)(struct engine *e, unsigned disk);
	int (*round_abort)(struct engine *e, unsigned disk);
	void (*detach)(struct engine *e, unsigned disk);
};

extern const struct tracker_ops tracker_scan_ops;
extern const struct tracker_ops tracker_kmod_ops;

/* tracker_select.c: set e->tracker and e->tracker_reason from the configured
 * tracker (scan, kmod, auto). 0, or -errno with err set (kmod configured but
 * unusable). */
int tracker_select(struct engine *e, char *err, size_t errlen);
/* auto only: kmod failed to attach; go on with scan. */
void tracker_select_fall_back(struct engine *e, const char *why);

#endif
