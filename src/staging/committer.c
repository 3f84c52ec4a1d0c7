// SPDX-License-Identifier: GPL-2.0-or-later
#include "committer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "store_backend.h"

static void *committer_main(void *arg)
{
	struct committer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && !c->busy)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->busy)
			break;
		pthread_mutex_unlock(&c->mu);
		int rc = 0;
		const char *disk = NULL;

		for (unsigned i = 0; i < c->batch_n && !rc; i++) {
			rc = store_volume_flush(c->batch_vols[i]);
			if (rc)
				disk = c->batch_names[i];
		}
		/* after a failed sync the page cache may not match the disk: never report again */
		if (!rc)
			c->durable(c->arg, c->batch_seq, 0);
		pthread_mutex_lock(&c->mu);
		if (rc && !c->failed) {
			c->failed = rc;
			c->failed_disk = disk;
		}
		c->busy = 0;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int committer_start(struct committer *c, struct store_volume *const *vols,
		    const char *const *names, unsigned n, uint64_t sync_bytes,
		    committer_durable_fn durable, void *arg)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->vols, vols, n * sizeof(*vols));
	memcpy(c->names, names, n * sizeof(*names));
	c->nimages = n;
	c->sync_bytes = sync_bytes;
	c->durable = durable;
	c->arg = arg;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, committer_main, c)) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		return -EAGAIN;
	}
	c->running = 1;
	return 0;
}

void committer_seen(struct committer *c, uint64_t seq)
{
	if (seq > c->highest_seq)
		c->highest_seq = seq;
}

/* Hand the dirty images to the thread if it is idle (1), else 0: the writer
 * keeps them dirty and tries again later. */
static int offer(struct committer *c)
{
	int taken = 0;

	pthread_mutex_lock(&c->mu);
	if (!c->busy && !c->failed) {
		c->batch_n = 0;
		for (unsigned i = 0; i < c->nimages; i++) {
			if (!c->dirty[i])
				continue;
			c->batch_vols[c->batch_n] = c->vols[i];
			c->batch_names[c->batch_n++] = c->names[i];
		}
		c->batch_seq = c->highest_seq;
		c->busy = 1;
		taken = 1;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return taken;
}

/* Wait until no batch is in flight. Returns the sticky failure (0 or -errno). */
static int wait_idle(struct committer *c, const char **disk)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	while (c->busy)
		pthread_cond_wait(&c->cv, &c->mu);
	rc = c->failed;
	if (rc && disk)
		*disk = c->failed_disk;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int committer_wrote(struct committer *c, unsigned i, uint64_t seq, uint64_t weight,
		    const char **disk)
{
	c->dirty[i] = 1;
	committer_seen(c, seq);
	c->unsynced += weight;
	if (c->unsynced < c->sync_bytes)
		return 0;
	if (offer(c)) {
		memset(c->dirty, 0, sizeof(c->dirty));
		c->unsynced = 0;
		return 0;
	}
	if (c->unsynced >= 4 * c->sync_bytes)
		return committer_commit(c, COMMIT_REPORT_NEW, disk);
	return 0;
}

int committer_commit(struct committer *c, enum commit_report report, const char **disk)
{
	int rc;

	if (!c->durable)
		return 0; /* never started: nothing was written */
	if (c->sync_failed)
		return -EIO;
	if (c->report_failed && report != COMMIT_REPORT_NONE)
		return -ENOTCONN;
	/* a batch still syncing in the background is covered by the report below */
	rc = c->running ? wait_idle(c, disk) : 0;
	if (rc) {
		c->sync_failed = 1;
		return rc;
	}
	for (unsigned i = 0; i < c->nimages; i++) {
		if (!c->dirty[i])
			continue;
		rc = store_volume_flush(c->vols[i]);
		if (rc) {
			/* after a failed fdatasync the page cache may not match the disk */
			c->sync_failed = 1;
			*disk = c->names[i];
			return rc;
		}
		c->dirty[i] = 0;
	}
	c->unsynced = 0;
	if (report == COMMIT_REPORT_NONE)
		return 0;
	if (c->durable(c->arg, c->highest_seq, report == COMMIT_REPORT_ALWAYS)) {
		c->report_failed = 1;
		return -ENOTCONN;
	}
	return 0;
}

void committer_stop(struct committer *c)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	c->running = 0;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}
