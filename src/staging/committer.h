/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Background group commit for one session. While the committer syncs one
 * batch of writes, the session thread goes on reading and writing the next,
 * so the network never stalls on fdatasync. The ACK for a batch is sent only
 * after its sync returned: it covers exactly the frames written before the
 * batch was handed over.
 */
#ifndef LIVEMIG_STAGING_COMMITTER_H
#define LIVEMIG_STAGING_COMMITTER_H

#include <pthread.h>
#include <stdint.h>

#include "frame.h"

struct session;

struct committer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop, busy;
	uint64_t seq;                /* the batch's highest written seq */
	int fds[FRAME_MAX_DISKS];    /* images the batch dirtied */
	const char *names[FRAME_MAX_DISKS];
	unsigned nfds;
	int failed;                  /* -errno of a failed sync; sticky */
	const char *failed_disk;
	struct session *s;
};

int committer_start(struct committer *c, struct session *s);
/* Hand over a batch if the committer is idle (1), else 0: the caller keeps
 * the writes dirty and tries again later. */
int committer_offer(struct committer *c, uint64_t seq, const int *fds, const char *const *names,
		    unsigned n);
/* Wait until no batch is in flight. Returns the sticky failure (0 or -errno). */
int committer_wait(struct committer *c, const char **disk);
void committer_stop(struct committer *c);

#endif
