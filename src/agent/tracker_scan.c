// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The `scan` tracker: no kernel support needed. Each round offers the whole
 * disk with compare set; the workers hash every block and send only those
 * whose hash differs from the hash store (what staging durably holds). A write
 * made at any time after a block was read changes its hash, so it is found by
 * the next round: tracking effectively starts when the mirror starts.
 * Its epoch is the hash store's id.
 */
#include "engine.h"

#include <string.h>

static int scan_attach(struct engine *e, unsigned disk, uint8_t epoch[FRAME_EPOCH_LEN])
{
	memcpy(epoch, e->disks[disk].hs.id, FRAME_EPOCH_LEN);
	e->disks[disk].tracker_state = NULL;
	return 0;
}

static int scan_round_begin(struct engine *e, unsigned disk)
{
	/* a non-NULL marker: this round's single extent is still to be handed out */
	e->disks[disk].tracker_state = &e->disks[disk];
	return 0;
}

static int scan_next_extent(struct engine *e, unsigned disk, struct tracker_extent *x)
{
	struct engine_disk *d = &e->disks[disk];

	if (!d->tracker_state)
		return 0;
	d->tracker_state = NULL;
	x->offset = 0;
	x->length = d->src.size;
	x->compare = 1;
	return 1;
}

static int scan_round_end(struct engine *e, unsigned disk)
{
	e->disks[disk].tracker_state = NULL;
	return 0;
}

static void scan_detach(struct engine *e, unsigned disk)
{
	e->disks[disk].tracker_state = NULL;
}

const struct tracker_ops tracker_scan_ops = {
	.name = "scan",
	.attach = scan_attach,
	.round_begin = scan_round_begin,
	.next_extent = scan_next_extent,
	.round_commit = scan_round_end,
	.round_abort = scan_round_end,
	.detach = scan_detach,
};
