// SPDX-License-Identifier: GPL-2.0-or-later
#include "committer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "session_priv.h"

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

		for (unsigned i = 0; i < c->nfds && !rc; i++) {
			rc = image_sync(c->fds[i]);
			if (rc)
				disk = c->names[i];
		}
		/* after a failed sync the page cache may not match the disk: never ACK again */
		if (!rc)
			session_ack(c->s, c->seq, 0);
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

int committer_start(struct committer *c, struct session *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, committer_main, c))
		return -EAGAIN;
	c->running = 1;
	return 0;
}

int committer_offer(struct committer *c, uint64_t seq, const int *fds, const char *const *names,
		    unsigned n)
{
	int taken = 0;

	pthread_mutex_lock(&c->mu);
	if (!c->busy && !c->failed) {
		c->seq = seq;
		memcpy(c->fds, fds, n * sizeof(*fds));
		memcpy(c->names, names, n * sizeof(*names));
		c->nfds = n;
		c->busy = 1;
		taken = 1;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return taken;
}

int committer_wait(struct committer *c, const char **disk)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	while (c->busy)
		pthread_cond_wait(&c->cv, &c->mu);
	rc = c->failed;
	if (disk)
		*disk = c->failed_disk;
	pthread_mutex_unlock(&c->mu);
	return rc;
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
