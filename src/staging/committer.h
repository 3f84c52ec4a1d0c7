/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Group commit for one stream of writes into a set of images: which images
 * are dirty, when a batch is due, the background thread that syncs it, and
 * the rule that an acknowledgement follows its sync. While the thread syncs
 * one batch, the writer goes on writing the next, so the network never
 * stalls on fdatasync. The acknowledgement for a batch is made only after
 * its sync returned: it covers exactly the writes made before the batch was
 * handed over.
 *
 * The committer knows nothing of who is told: once writes up to a sequence
 * number are durable it calls the durable() callback given at start, from
 * the writer's thread or from its own.
 */
#ifndef LIVEMIG_STAGING_COMMITTER_H
#define LIVEMIG_STAGING_COMMITTER_H

#include <pthread.h>
#include <stdint.h>

#include "frame.h"

struct store_volume;

/* Everything written up to seq is durable. force: report it even if seq is
 * not newer than the last report. 0, or -1 if it could not be reported (the
 * committer then reports nothing more). */
typedef int (*committer_durable_fn)(void *arg, uint64_t seq, int force);

enum commit_report {
	COMMIT_REPORT_NEW,    /* report the highest seq if it is new */
	COMMIT_REPORT_ALWAYS, /* report it even if it is not (FLUSH, MARK, BYE) */
	COMMIT_REPORT_NONE,   /* sync only: nobody is listening any more */
};

struct committer {
	/* shared with the background thread, under mu */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop, busy;
	uint64_t batch_seq;                /* the batch's highest written seq */
	struct store_volume *batch_vols[FRAME_MAX_DISKS]; /* volumes the batch dirtied */
	const char *batch_names[FRAME_MAX_DISKS];
	unsigned batch_n;
	int failed;                        /* -errno of a failed background sync; sticky */
	const char *failed_disk;

	/* the writer's thread only */
	struct store_volume *vols[FRAME_MAX_DISKS];
	const char *names[FRAME_MAX_DISKS];
	int dirty[FRAME_MAX_DISKS];        /* written since the last sync */
	unsigned nimages;
	uint64_t highest_seq;              /* every frame up to it is written */
	uint64_t unsynced;                 /* weight written since the last sync */
	uint64_t sync_bytes;               /* hand a batch over past this weight */
	int sync_failed;                   /* durability unknown: never report again */
	int report_failed;
	committer_durable_fn durable;
	void *arg;
};

/* The volumes (and names for messages, both kept by the caller until
 * committer_stop). 0 or -errno. */
int committer_start(struct committer *c, struct store_volume *const *vols,
		    const char *const *names, unsigned n, uint64_t sync_bytes,
		    committer_durable_fn durable, void *arg);

/* Every frame up to seq has been handled (written, or nothing to write). */
void committer_seen(struct committer *c, uint64_t seq);

/*
 * After a write of `weight` into image i, frame seq. Past sync_bytes the
 * batch goes to the background thread and writing goes on; if that thread
 * is still busy with the previous batch, writes accumulate, up to four
 * batches, then the writer syncs itself. Returns as committer_commit.
 */
int committer_wrote(struct committer *c, unsigned i, uint64_t seq, uint64_t weight,
		    const char **disk);

/*
 * Wait for the batch in flight, sync every dirty image, then report the
 * highest seq as `report` says. 0; -ENOTCONN when durable() failed; another
 * -errno when a sync failed (*disk names the image; durability is then
 * unknown and nothing is ever reported again).
 */
int committer_commit(struct committer *c, enum commit_report report, const char **disk);

/* Joins the background thread (a batch in flight is finished first). */
void committer_stop(struct committer *c);

#endif
