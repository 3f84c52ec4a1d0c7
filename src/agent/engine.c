// SPDX-License-Identifier: GPL-2.0-or-later
/* Engine lifecycle and the handlers behind the control socket. */
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "staging_target.h"
#include "util.h"

void engine_set_error(struct engine *e, int stalled, const char *fmt, ...)
{
	char msg[sizeof(e->last_error)];
	va_list ap;
	int repeated;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->mu);
	repeated = !strcmp(msg, e->last_error);
	memcpy(e->last_error, msg, sizeof(msg));
	e->stalled = stalled;
	pthread_mutex_unlock(&e->mu);
	if (!repeated) /* a retry loop logs a persisting problem once */
		log_warn("%s", msg);
}

int engine_stopping(struct engine *e)
{
	return atomic_load(&e->stop);
}

static void wake_all(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	ring_wake(&e->ring);
}

void engine_hold(struct engine *e, const char *reason)
{
	int repeated;

	pthread_mutex_lock(&e->mu);
	repeated = !strcmp(e->not_ready, reason);
	snprintf(e->not_ready, sizeof(e->not_ready), "%s", reason);
	/* the reader's pause: nothing new is read or sent. Under mu with the
	 * reason, so a `livemig resume` racing with this cannot undo it. */
	atomic_store(&e->paused, 1);
	pthread_mutex_unlock(&e->mu);
	if (!repeated)
		log_error("not replicating: %s", reason);
	wake_all(e);
}

/* -EPERM with the reason in msg when the engine is held, else 0; e->mu held. */
static int held_locked(struct engine *e, char *msg, size_t n)
{
	if (!e->not_ready[0])
		return 0;
	snprintf(msg, n, "not replicating: %s", e->not_ready);
	return -EPERM;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create state directory %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int engine_init(struct engine *e, struct agent_config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	pthread_mutex_init(&e->send_mu, NULL);
	e->conn.fd = -1;
	rc = make_dir(cfg->state_dir, err, errlen);
	if (rc)
		return rc;
	if (strlen(cfg->state_dir) > PATH_MAX - 200) {
		snprintf(err, errlen, "state directory path is too long");
		return -ENAMETOOLONG;
	}
	snprintf(e->checkpoint_path, sizeof(e->checkpoint_path), "%.*s/checkpoint.json",
		 PATH_MAX - 200, cfg->state_dir);
	staging_target_init(e);
	e->ndisks = cfg->ndisks;
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];
		int created;

		d->index = i;
		d->cfg = &cfg->disks[i];
		d->hs.fd = -1;
		rc = src_disk_open(&d->src, d->cfg->path, err, errlen);
		if (rc)
			return rc;
		snprintf(path, sizeof(path), "%.*s/hashes-%s.bin", PATH_MAX - 200, cfg->state_dir,
			 d->cfg->name);
		rc = hashstore_open(&d->hs, path, d->src.size, BLOCK_SIZE, &created);
		if (rc) {
			snprintf(err, errlen, "cannot open hash store %s: %s", path, strerror(-rc));
			return rc;
		}
		atomic_store(&d->state, ST_REGISTERED);
	}
	rc = tracker_select(e, err, errlen); /* needs the disks open */
	if (rc)
		return rc;
	e->tls = tls_ctx_new(0, cfg->ca, cfg->cert, cfg->key, err, errlen);
	if (!e->tls)
		return -EINVAL;
	rc = ring_init(&e->ring, cfg->queue_depth, &e->stop, acker_retire_slot, e);
	if (rc) {
		snprintf(err, errlen, "out of memory for %u slots", cfg->queue_depth);
		return rc;
	}
	ratelimit_init(&e->limit, cfg->bandwidth_limit);
	snprintf(e->last_error, sizeof(e->last_error), "connecting to staging");
	e->disconnected_since_ns = now_mono_ns();
	return 0;
}

int engine_start(struct engine *e, char *err, size_t errlen)
{
	/* tracking starts before the first read, as the mirror's guarantee needs */
	for (unsigned i = 0; i < e->ndisks; i++) {
		int rc = e->tracker->attach(e, i, e->disks[i].epoch);

		if (rc && e->tracker == &tracker_kmod_ops && !strcmp(e->cfg->tracker, "auto")) {
			char why[300];

			snprintf(why, sizeof(why), "the module cannot track %s: %s",
				 e->disks[i].cfg->name, strerror(-rc));
			for (unsigned j = 0; j <= i; j++)
				e->tracker->detach(e, j);
			tracker_select_fall_back(e, why);
			i = (unsigned)-1; /* attach every disk again, with scan */
			continue;
		}
		if (rc) {
			snprintf(err, errlen, "cannot start change tracking on %s: %s",
				 e->disks[i].cfg->name, strerror(-rc));
			return rc;
		}
	}
	e->worker_threads = calloc(e->cfg->workers, sizeof(pthread_t));
	if (!e->worker_threads)
		return -ENOMEM;
	for (unsigned i = 0; i < e->cfg->workers; i++)
		if (pthread_create(&e->worker_threads[i], NULL, worker_main, e))
			goto fail;
	if (pthread_create(&e->sender_thread, NULL, sender_main, e) ||
	    pthread_create(&e->ticker_thread, NULL, ticker_main, e) ||
	    pthread_create(&e->replicate_thread, NULL, replicate_main, e))
		goto fail;
	e->started = 1;
	return 0;
fail:
	snprintf(err, errlen, "cannot start threads: %s", strerror(errno));
	return -EAGAIN;
}

void engine_stop(struct engine *e)
{
	atomic_store(&e->stop, 1);
	if (!e->started) /* held before it began: no thread, no tracker, no checkpoint */
		return;
	if (e->conn.fd >= 0)
		conn_shutdown(&e->conn);
	wake_all(e);
	pthread_join(e->replicate_thread, NULL);
	pthread_join(e->sender_thread, NULL);
	pthread_join(e->ticker_thread, NULL);
	for (unsigned i = 0; i < e->cfg->workers; i++)
		pthread_join(e->worker_threads[i], NULL);
	/* what was acknowledged is kept: the next start resumes from here */
	pthread_mutex_lock(&e->mu);
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];

		if (!d->mirror_complete && atomic_load(&d->in_pass) &&
		    atomic_load(&d->state) == ST_INITIAL_MIRROR)
			d->mirror_watermark = atomic_load(&d->pass_pos);
	}
	pthread_mutex_unlock(&e->mu);
	if (e->have_welcome)
		replicate_save_checkpoint(e);
	for (unsigned i = 0; i < e->ndisks; i++)
		e->tracker->detach(e, i);
}

void engine_free(struct engine *e)
{
	for (unsigned i = 0; i < e->ndisks; i++) {
		src_disk_close(&e->disks[i].src);
		hashstore_close(&e->disks[i].hs);
	}
	ring_free(&e->ring);
	free(e->worker_threads);
	if (e->tls)
		SSL_CTX_free(e->tls);
}

int engine_pause(struct engine *e, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	atomic_store(&e->paused, 1);
	log_info("replication paused by operator");
	wake_all(e);
	return 0;
}

int engine_resume(struct engine *e, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&e->mu);
	rc = held_locked(e, err, errlen);
	if (!rc)
		atomic_store(&e->paused, 0);
	pthread_mutex_unlock(&e->mu);
	if (rc)
		return rc;
	log_info("replication resumed by operator");
	wake_all(e);
	return 0;
}

int engine_sync(struct engine *e, uint64_t *consistent_ns, char *err, size_t errlen)
{
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&e->mu);
	rc = held_locked(e, err, errlen);
	pthread_mutex_unlock(&e->mu);
	if (rc) /* no round will ever come: do not wait for one */
		return rc;
	if (atomic_load(&e->paused)) {
		snprintf(err, errlen, "replication is paused: resume it first (livemig resume)");
		return -EAGAIN;
	}
	pthread_mutex_lock(&e->mu);
	gen = ++e->sync_requests;
	pthread_cond_broadcast(&e->cv);
	while (!atomic_load(&e->stop) && e->sync_served < gen)
		pthread_cond_wait(&e->cv, &e->mu);
	*consistent_ns = e->last_consistent_ns;
	pthread_mutex_unlock(&e->mu);
	if (atomic_load(&e->stop)) {
		snprintf(err, errlen, "livemigd is shutting down");
		return -ECANCELED;
	}
	return 0;
}
