/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's checkpoint: where replication stands, so that a restart
 * (crash, kill -9, upgrade) resumes instead of starting over. Written
 * atomically; a file that is missing, unreadable or for other disks is
 * "no valid checkpoint" and leads to a rescan. Format in docs/agent-state.md.
 */
#ifndef LIVEMIG_CHECKPOINT_H
#define LIVEMIG_CHECKPOINT_H

#include <stdint.h>

#include "frame.h"

#define CHECKPOINT_FORMAT 1

struct checkpoint_disk {
	char name[FRAME_NAME_MAX + 1];
	uint64_t size;
	uint8_t epoch[FRAME_EPOCH_LEN]; /* tracker epoch for this disk */
	uint64_t mirror_watermark;      /* everything below is durable on staging */
	int mirror_complete;
};

struct checkpoint {
	char machine[FRAME_NAME_MAX + 1];
	char tracker[16];
	uint8_t store_id[FRAME_EPOCH_LEN]; /* staging store the data went to */
	uint64_t rounds;
	uint64_t last_consistent_ns;
	unsigned ndisks;
	struct checkpoint_disk disks[FRAME_MAX_DISKS];
};

int checkpoint_save(const char *path, const struct checkpoint *cp);
/* 0, -ENOENT, or -EINVAL (with *why) for a file that cannot be trusted. */
int checkpoint_load(const char *path, struct checkpoint *cp, const char **why);

#endif
