// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Making a recovery point while the workload runs. The order matters:
 *   1. freeze hooks `freeze` (applications flush and hold their writes);
 *   2. log lines wait in memory (stderr may be a file on a frozen fs);
 *   3. FREEZE (the module thaws by itself after its timeout, or if we die);
 *   4. SNAPSHOT every disk and read the frozen generation's blocks into
 *      memory: with the file systems frozen, these blocks plus what staging
 *      already holds are the disks as of the freeze;
 *   5. THAW, logs flow again, hooks `thaw`;
 *   6. send the blocks from memory, wait until staging made them durable,
 *      ACK the generations, then the MARK that makes the point, and wait for
 *      staging's POINT with its id.
 * Anything over freeze_max or freeze_buffer in 4 thaws at once and ABORTs
 * the generations (their blocks come again in the next round): the point is
 * put off and tried again later, and the status says why.
 */
#include "point.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "freeze.h"
#include "hooks.h"
#include "log.h"
#include "util.h"

#define RETRY_NS        30000000000ull   /* after a periodic point's put-off */
/* after a requested point's: an operator waits on it (livemig point, the
 * cutover's downtime), and rounds between attempts shrink the backlog */
#define RETRY_ASKED_NS  5000000000ull
#define POINT_WAIT_NS   120000000000ull  /* for staging's POINT after the MARK */
#define FREEZE_LIMIT_MS 60000u           /* the module's longest freeze timeout */

struct point_extent {
	unsigned disk;
	uint64_t offset, length;
	uint8_t *data;
};

struct point_work {
	struct point_extent *x;
	size_t n, cap;
	uint64_t bytes;
	uint8_t *buf;
	int began[FRAME_MAX_DISKS];
};

static const char *origin_name(int o)
{
	return o == MARK_ORIGIN_PERIODIC ? "periodic" :
	       o == MARK_ORIGIN_REQUESTED ? "requested" : "final-sync";
}

static const char *consistency_name(int c)
{
	return c == MARK_CONSISTENCY_APPLICATION ? "application" :
	       c == MARK_CONSISTENCY_FILESYSTEM ? "filesystem" : "crash";
}

static int add_extent(struct point_work *w, unsigned disk, uint64_t off, uint64_t len)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct point_extent *x = realloc(w->x, cap * sizeof(*x));

		if (!x)
			return -ENOMEM;
		w->x = x;
		w->cap = cap;
	}
	w->x[w->n++] = (struct point_extent){ .disk = disk, .offset = off, .length = len };
	w->bytes += len;
	return 0;
}

static int over_time(struct engine *e, uint64_t t0, char *why, size_t n)
{
	uint64_t spent = now_mono_ns() - t0;

	if (spent <= e->cfg->freeze_max_ns)
		return 0;
	snprintf(why, n, "the freeze would pass freeze_max (%llu ms spent, %llu ms allowed)",
		 (unsigned long long)(spent / 1000000),
		 (unsigned long long)(e->cfg->freeze_max_ns / 1000000));
	return 1;
}

/* Step 4, frozen: the blocks into memory. 0, 1 (put off: why set), -errno. */
static int capture(struct engine *e, struct point_work *w, uint64_t t0, char *why, size_t n)
{
	struct tracker_extent x;
	uint8_t *p;
	int rc, more;

	for (unsigned i = 0; i < e->ndisks; i++) {
		rc = e->tracker->round_begin(e, i);
		if (rc) {
			snprintf(why, n, "%s: SNAPSHOT failed: %s", e->disks[i].cfg->name,
				 strerror(-rc));
			return rc == -TRACKER_LOST ? rc : 1;
		}
		w->began[i] = 1;
		while ((more = e->tracker->next_extent(e, i, &x)) > 0) {
			rc = add_extent(w, i, x.offset, x.length);
			if (rc)
				return rc;
			if (w->bytes > e->cfg->freeze_buffer) {
				snprintf(why, n, "the changed data passes freeze_buffer (%llu bytes allowed)",
					 (unsigned long long)e->cfg->freeze_buffer);
				return 1;
			}
		}
		if (more < 0) {
			snprintf(why, n, "%s: READ failed: %s", e->disks[i].cfg->name,
				 strerror(-more));
			return more == -TRACKER_LOST ? more : 1;
		}
		if (over_time(e, t0, why, n))
			return 1;
	}
	if (w->bytes && posix_memalign((void **)&w->buf, 4096, w->bytes))
		return -ENOMEM;
	p = w->buf;
	for (size_t k = 0; k < w->n; k++) {
		struct engine_disk *d = &e->disks[w->x[k].disk];

		rc = src_disk_read(&d->src, p, w->x[k].length, w->x[k].offset);
		if (rc) {
			snprintf(why, n, "cannot read %s at %llu: %s", d->cfg->name,
				 (unsigned long long)w->x[k].offset, strerror(-rc));
			return 1;
		}
		w->x[k].data = p;
		p += w->x[k].length;
		if (over_time(e, t0, why, n))
			return 1;
	}
	return 0;
}

static void put_off(struct engine *e, int origin, const char *why)
{
	struct point_state *p = &e->pt;
	uint64_t wait = origin == MARK_ORIGIN_REQUESTED ? RETRY_ASKED_NS : RETRY_NS;

	pthread_mutex_lock(&e->mu);
	p->put_off++;
	snprintf(p->put_off_why, sizeof(p->put_off_why), "%s", why);
	p->retry_at_ns = now_mono_ns() + wait;
	pthread_mutex_unlock(&e->mu);
	log_warn("recovery point put off: %s (normal rounds go on; retry in %llu s)", why,
		 (unsigned long long)(wait / 1000000000u));
}

/* Wait for staging's POINT answering MARK seq: its id, or 0. */
static uint64_t wait_point_id(struct engine *e, uint64_t seq)
{
	uint64_t until = now_mono_ns() + POINT_WAIT_NS, id = 0;

	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && e->pt.got_seq != seq && now_mono_ns() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
	if (e->pt.got_seq == seq)
		id = e->pt.got_id;
	pthread_mutex_unlock(&e->mu);
	return id;
}

/* Steps 6: send, ACK, MARK, POINT. */
static int ship(struct engine *e, struct point_work *w, uint64_t point_ns, int origin,
		int consistency, uint64_t *id)
{
	uint64_t seq = 0;
	int rc = 0;

	for (size_t k = 0; k < w->n && !rc; k++)
		rc = reader_feed_mem(e, w->x[k].disk, w->x[k].offset, w->x[k].length,
				     w->x[k].data);
	if (!rc)
		rc = reader_drain(e);
	if (rc)
		return rc;
	for (unsigned i = 0; i < e->ndisks; i++) {
		e->tracker->round_commit(e, i);
		w->began[i] = 0;
	}
	pthread_mutex_lock(&e->mu);
	e->pt.wait_seq = 0;
	pthread_mutex_unlock(&e->mu);
	rc = reader_feed_point_mark(e, point_ns, origin, consistency, &seq);
	if (!rc)
		rc = reader_drain(e);
	if (rc)
		return rc;
	*id = e->staging_points ? wait_point_id(e, seq) : 0;
	return 0;
}

static int make_point(struct engine *e, int origin, uint64_t req)
{
	const struct agent_config *c = e->cfg;
	struct point_state *p = &e->pt;
	struct point_work w = { 0 };
	struct freeze_set fs;
	const char *paths[FRAME_MAX_DISKS];
	char why[320] = "", hookwhy[320] = "", thawwhy[320];
	uint64_t t0, point_ns, thaw_ns, frozen_ns = 0, id = 0, backlog = 0;
	unsigned nhooks = 0, nthaw = 0, timeout_ms, nfs;
	int rc, hooks_failed, consistency = MARK_CONSISTENCY_CRASH;

	for (unsigned i = 0; i < e->ndisks; i++) {
		paths[i] = e->disks[i].cfg->path;
		backlog += atomic_load(&e->disks[i].backlog);
	}
	if (backlog > c->freeze_buffer) {
		snprintf(why, sizeof(why), "the backlog (%llu bytes) is larger than freeze_buffer",
			 (unsigned long long)backlog);
		put_off(e, origin, why);
		return 0;
	}
	rc = freeze_find(&fs, paths, e->ndisks, "/sys", "/proc/self/mountinfo", why, sizeof(why));
	if (rc) {
		put_off(e, origin, why);
		return 0;
	}
	hooks_failed = hooks_run(c->freeze_hooks_dir, "freeze", c->freeze_hook_timeout_ns, &nhooks,
				 hookwhy, sizeof(hookwhy));
	/* the module's own timeout is the safety net, never the normal end */
	timeout_ms = (unsigned)(c->freeze_max_ns / 1000000u) * 2 + 1000;
	if (timeout_ms > FREEZE_LIMIT_MS)
		timeout_ms = FREEZE_LIMIT_MS;
	log_hold();
	point_ns = now_real_ns();
	t0 = now_mono_ns();
	rc = freeze_begin(&fs, timeout_ms, why, sizeof(why));
	if (!rc)
		rc = capture(e, &w, t0, why, sizeof(why));
	if (fs.frozen) {
		int trc = freeze_end(&fs, &frozen_ns);

		if (trc == -ETIMEDOUT && !rc) {
			snprintf(why, sizeof(why), "the module's timeout thawed the file systems first");
			rc = 1;
		} else if (trc && !rc) {
			snprintf(why, sizeof(why), "THAW failed: %s", strerror(-trc));
			rc = 1;
		}
	}
	thaw_ns = now_real_ns();
	log_release();
	hooks_run(c->freeze_hooks_dir, "thaw", c->freeze_hook_timeout_ns, &nthaw, thawwhy,
		  sizeof(thawwhy));
	if (fs.n)
		log_info("recovery point: %u file system(s) frozen for %.1f ms, %llu bytes read "
			 "(from %llu to %llu ns)", fs.n, frozen_ns / 1e6,
			 (unsigned long long)w.bytes, (unsigned long long)point_ns,
			 (unsigned long long)thaw_ns);
	nfs = fs.n;
	freeze_close(&fs);
	if (!rc) {
		consistency = !nfs || hooks_failed ? MARK_CONSISTENCY_CRASH :
			      nhooks ? MARK_CONSISTENCY_APPLICATION : MARK_CONSISTENCY_FILESYSTEM;
		rc = ship(e, &w, point_ns, origin, consistency, &id);
	}
	for (unsigned i = 0; i < e->ndisks; i++)
		if (w.began[i])
			e->tracker->round_abort(e, i);
	if (rc == -TRACKER_LOST) {
		for (unsigned i = 0; i < e->ndisks; i++)
			e->disks[i].tracking_lost = 1;
	} else if (rc && rc != -ECANCELED && rc != -ESTALE) {
		if (rc < 0 && !why[0])
			snprintf(why, sizeof(why), "%s", strerror(-rc));
		put_off(e, origin, why);
		rc = 0;
	} else if (!rc) {
		pthread_mutex_lock(&e->mu);
		p->made++;
		p->served = req;
		p->put_off_why[0] = '\0';
		p->last_id = id;
		p->last_ns = point_ns;
		p->last_origin = origin;
		p->last_consistency = consistency;
		snprintf(p->last_note, sizeof(p->last_note), "%s",
			 hooks_failed ? hookwhy : !nfs ? "no file system mounted from the disks" : "");
		p->last_freeze_ns = frozen_ns;
		if (frozen_ns > p->max_freeze_ns)
			p->max_freeze_ns = frozen_ns;
		p->last_fs = nfs;
		p->next_due_ns = now_mono_ns() + c->point_interval_ns;
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
		log_info("recovery point %llu made (%s, %s-consistent%s%s), frozen %.1f ms",
			 (unsigned long long)id, origin_name(origin), consistency_name(consistency),
			 hooks_failed ? ": " : "", hooks_failed ? hookwhy : "", frozen_ns / 1e6);
	}
	free(w.buf);
	free(w.x);
	return rc;
}

int point_asked_locked(const struct engine *e)
{
	return e->pt.requests > e->pt.served;
}

int point_maybe(struct engine *e)
{
	struct point_state *p = &e->pt;
	uint64_t now = now_mono_ns(), req;
	int asked, due;

	if (strcmp(e->tracker->name, "kmod"))
		return 0;
	pthread_mutex_lock(&e->mu);
	req = p->requests;
	asked = req > p->served;
	if (!p->next_due_ns)
		p->next_due_ns = now + e->cfg->point_interval_ns;
	due = e->cfg->point_interval_ns && now >= p->next_due_ns;
	if (now < p->retry_at_ns)
		asked = due = 0;
	pthread_mutex_unlock(&e->mu);
	if (!asked && !due)
		return 0;
	return make_point(e, asked ? MARK_ORIGIN_REQUESTED : MARK_ORIGIN_PERIODIC, req);
}

void point_received(struct engine *e, uint64_t mark_seq, uint64_t point_id)
{
	pthread_mutex_lock(&e->mu);
	e->pt.got_seq = mark_seq;
	e->pt.got_id = point_id;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

int engine_point(struct engine *e, uint64_t *point_id, uint64_t *point_ns, char *err,
		 size_t errlen)
{
	uint64_t gen;

	if (strcmp(e->tracker->name, "kmod")) {
		snprintf(err, errlen, "recovery points while the source runs need the kmod tracker "
			 "(%s); points come only from the final sync (livemig sync)", e->tracker_reason);
		return -EOPNOTSUPP;
	}
	if (atomic_load(&e->paused)) {
		snprintf(err, errlen, "replication is paused: resume it first (livemig resume)");
		return -EAGAIN;
	}
	pthread_mutex_lock(&e->mu);
	if (e->not_ready[0]) {
		snprintf(err, errlen, "%s", e->not_ready);
		pthread_mutex_unlock(&e->mu);
		return -EPERM;
	}
	gen = ++e->pt.requests;
	/* an explicit request does not wait out an earlier put-off */
	e->pt.retry_at_ns = 0;
	pthread_cond_broadcast(&e->cv);
	while (!atomic_load(&e->stop) && e->pt.served < gen)
		pthread_cond_wait(&e->cv, &e->mu);
	*point_id = e->pt.last_id;
	*point_ns = e->pt.last_ns;
	pthread_mutex_unlock(&e->mu);
	if (atomic_load(&e->stop)) {
		snprintf(err, errlen, "livemigd is shutting down");
		return -ECANCELED;
	}
	return 0;
}

json_t *point_status_json(struct engine *e)
{
	const struct point_state *p = &e->pt;
	int kmod = !strcmp(e->tracker->name, "kmod");
	json_t *o;

	pthread_mutex_lock(&e->mu);
	o = json_pack("{s:b,s:s,s:I,s:I,s:I,s:s,s:I,s:f}",
		      "available", kmod,
		      "why_not", kmod ? "" : "the scan tracker cannot freeze a consistent state while "
					     "the source runs: points come only from the final sync",
		      "interval_s", (json_int_t)(e->cfg->point_interval_ns / 1000000000u),
		      "made", (json_int_t)p->made,
		      "put_off", (json_int_t)p->put_off,
		      "put_off_reason", p->put_off_why,
		      "pending_requests", (json_int_t)(p->requests - p->served),
		      "max_freeze_ms", p->max_freeze_ns / 1e6);
	if (p->made)
		json_object_set_new(o, "last", json_pack("{s:I,s:I,s:s,s:s,s:s,s:f,s:i}",
			"id", (json_int_t)p->last_id,
			"time_ns", (json_int_t)p->last_ns,
			"origin", origin_name(p->last_origin),
			"consistency", consistency_name(p->last_consistency),
			"note", p->last_note,
			"freeze_ms", p->last_freeze_ns / 1e6,
			"file_systems", (int)p->last_fs));
	pthread_mutex_unlock(&e->mu);
	return o;
}
