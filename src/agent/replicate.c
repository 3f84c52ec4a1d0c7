// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What to send when: resume, initial mirror or rescan, then change-copy
 * rounds until stopped, with a consistent-point MARK when a final sync was
 * asked for.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "log.h"
#include "util.h"

#define CHECKPOINT_EVERY (16ull << 20) /* bound on what a crash makes us resend */
#define FEED_PIECE       (4ull << 20)

int replicate_save_checkpoint(struct engine *e)
{
	struct checkpoint cp;
	int rc;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.machine, sizeof(cp.machine), "%s", e->cfg->machine);
	snprintf(cp.tracker, sizeof(cp.tracker), "%s", e->tracker->name);
	pthread_mutex_lock(&e->mu);
	memcpy(cp.store_id, e->store_id, FRAME_EPOCH_LEN);
	cp.rounds = e->rounds;
	cp.last_consistent_ns = e->last_consistent_ns;
	cp.ndisks = e->ndisks;
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];

		snprintf(cp.disks[i].name, sizeof(cp.disks[i].name), "%s", d->cfg->name);
		cp.disks[i].size = d->src.size;
		memcpy(cp.disks[i].epoch, d->epoch, FRAME_EPOCH_LEN);
		cp.disks[i].mirror_watermark = d->mirror_watermark;
		cp.disks[i].mirror_complete = d->mirror_complete;
	}
	pthread_mutex_unlock(&e->mu);
	/* hashes first: the checkpoint vouches for them after a power cut */
	for (unsigned i = 0; i < e->ndisks; i++) {
		rc = hashstore_sync(&e->disks[i].hs);
		if (rc)
			return rc;
	}
	rc = checkpoint_save(e->checkpoint_path, &cp);
	if (rc)
		log_warn("cannot write checkpoint %s: %s", e->checkpoint_path, strerror(-rc));
	return rc;
}

static void set_state(struct engine *e, unsigned disk, enum repl_state st)
{
	atomic_store(&e->disks[disk].state, st);
}

static int wait_for_session(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && !e->have_welcome)
		pthread_cond_wait(&e->cv, &e->mu);
	pthread_mutex_unlock(&e->mu);
	return atomic_load(&e->stop) ? -ECANCELED : 0;
}

/* Trust the checkpoint only if it describes these disks, this tracker epoch and
 * the staging store we are talking to. */
static int checkpoint_usable(struct engine *e, const struct checkpoint *cp, const char **why)
{
	if (strcmp(cp->machine, e->cfg->machine)) {
		*why = "it is for another machine";
		return 0;
	}
	if (strcmp(cp->tracker, e->tracker->name)) {
		*why = "it was made with another tracker";
		return 0;
	}
	if (memcmp(cp->store_id, e->store_id, FRAME_EPOCH_LEN)) {
		*why = "the staging store is not the one it was written for";
		return 0;
	}
	if (cp->ndisks != e->ndisks) {
		*why = "the list of disks changed";
		return 0;
	}
	for (unsigned i = 0; i < e->ndisks; i++) {
		const struct checkpoint_disk *c = &cp->disks[i];

		if (strcmp(c->name, e->disks[i].cfg->name) || c->size != e->disks[i].src.size) {
			*why = "a disk was renamed or resized";
			return 0;
		}
		if (memcmp(c->epoch, e->disks[i].epoch, FRAME_EPOCH_LEN)) {
			*why = "the change tracker's epoch changed (tracking was interrupted)";
			return 0;
		}
	}
	return 1;
}

/* Copy staging's view of every block into the hash store, so the pass that
 * follows sends only blocks that differ. */
static int refresh_hashes(struct engine *e, unsigned disk)
{
	struct engine_disk *d = &e->disks[disk];
	uint8_t *buf = malloc((size_t)HASH_REQ_MAX_BLOCKS * FRAME_HASH_LEN);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t first = 0; first < d->hs.nblocks && !rc;) {
		uint64_t left = d->hs.nblocks - first;
		uint32_t n = left < HASH_REQ_MAX_BLOCKS ? (uint32_t)left : HASH_REQ_MAX_BLOCKS;

		rc = session_fetch_hashes(e, disk, first, n, buf);
		if (!rc)
			rc = hashstore_put(&d->hs, first, n, buf);
		first += n;
	}
	free(buf);
	return rc;
}

static int is_unknown(const uint8_t *h)
{
	static const uint8_t none[FRAME_HASH_LEN];

	return !memcmp(h, none, FRAME_HASH_LEN);
}

/*
 * Before a comparing pass over [offset, offset + length): ask staging for the
 * entries the hash store does not know, so only blocks that differ are sent.
 * Blocks sent without comparing (the initial mirror, kmod rounds, points) are
 * recorded unknown rather than hashed on the hot path; the scan tracker's
 * first round after them pays for it once, on staging's side. Called with
 * nothing in flight (a round starts with a drain), so no retirement races the
 * store and staging's answer is what it durably holds.
 */
static int fill_unknown_hashes(struct engine *e, unsigned disk, uint64_t offset, uint64_t length)
{
	struct engine_disk *d = &e->disks[disk];
	uint64_t end = (offset + length + BLOCK_SIZE - 1) / BLOCK_SIZE;
	uint8_t *have = malloc((size_t)HASH_REQ_MAX_BLOCKS * FRAME_HASH_LEN);
	uint8_t *got = malloc((size_t)HASH_REQ_MAX_BLOCKS * FRAME_HASH_LEN);
	int rc = have && got ? 0 : -ENOMEM;

	if (end > d->hs.nblocks)
		end = d->hs.nblocks;
	for (uint64_t first = offset / BLOCK_SIZE; first < end && !rc;) {
		uint32_t n = end - first < HASH_REQ_MAX_BLOCKS ? (uint32_t)(end - first)
							     : HASH_REQ_MAX_BLOCKS;
		uint32_t lo = n, hi = 0;

		rc = hashstore_get(&d->hs, first, n, have);
		for (uint32_t i = 0; !rc && i < n; i++) {
			if (is_unknown(have + (size_t)i * FRAME_HASH_LEN)) {
				if (lo == n)
					lo = i;
				hi = i + 1;
			}
		}
		/* one request per batch: staging's answer is right for known entries too */
		if (!rc && lo < hi)
			rc = session_fetch_hashes(e, disk, first + lo, hi - lo, got);
		if (!rc && lo < hi)
			rc = hashstore_put(&d->hs, first + lo, hi - lo, got);
		first += n;
	}
	free(have);
	free(got);
	return rc;
}

/* One sequential pass over [from, size): the initial mirror, or a rescan. */
static int full_pass(struct engine *e, unsigned disk, uint64_t from, int compare)
{
	struct engine_disk *d = &e->disks[disk];
	uint64_t last_cp = from;
	int rc = 0;

	atomic_store(&d->pass_start, from);
	atomic_store(&d->pass_pos, from);
	atomic_store(&d->in_pass, 1);
	for (uint64_t off = from; off < d->src.size && !rc; off += FEED_PIECE) {
		uint64_t pos;

		/* a rescan looks again, by piece, at the blocks that differ */
		rc = reader_feed(e, disk, off, FEED_PIECE, compare ? FEED_COMPARE | FEED_PIECES : 0);
		pos = atomic_load(&d->pass_pos);
		if (!rc && pos - last_cp >= CHECKPOINT_EVERY) {
			pthread_mutex_lock(&e->mu);
			d->mirror_watermark = pos;
			pthread_mutex_unlock(&e->mu);
			replicate_save_checkpoint(e);
			last_cp = pos;
		}
	}
	if (!rc)
		rc = reader_drain(e);
	if (!rc) {
		pthread_mutex_lock(&e->mu);
		d->mirror_watermark = d->src.size;
		d->mirror_complete = 1;
		pthread_mutex_unlock(&e->mu);
		replicate_save_checkpoint(e);
	}
	atomic_store(&d->in_pass, 0);
	return rc;
}

static int initial_copy(struct engine *e, int rescan)
{
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];
		int rc;

		if (d->mirror_complete)
			continue;
		if (rescan) {
			set_state(e, i, ST_RESCAN);
			log_info("%s: rescan: comparing block hashes with staging", d->cfg->name);
			/*
			 * Nothing in flight first (a round cut short by a lost
			 * tracker may leave slots): staging's answers must hold
			 * every frame sent before them, or a piece found equal
			 * could be overwritten afterwards by an older frame.
			 */
			rc = reader_drain(e);
			if (!rc)
				rc = refresh_hashes(e, i);
			if (!rc)
				rc = full_pass(e, i, 0, 1);
		} else {
			set_state(e, i, ST_INITIAL_MIRROR);
			log_info("%s: initial mirror from offset %llu of %llu", d->cfg->name,
				 (unsigned long long)d->mirror_watermark,
				 (unsigned long long)d->src.size);
			rc = full_pass(e, i, d->mirror_watermark, 0);
		}
		if (rc)
			return rc;
		log_info("%s: %s complete", d->cfg->name, rescan ? "rescan" : "initial mirror");
		set_state(e, i, ST_CHANGE_COPY);
	}
	return 0;
}

/* Decide between resume, fresh mirror and rescan. Returns 1 for rescan. */
static int choose_start(struct engine *e, const struct checkpoint *cp, int have_cp)
{
	const char *why = "there is no checkpoint";

	if (have_cp && checkpoint_usable(e, cp, &why)) {
		for (unsigned i = 0; i < e->ndisks; i++) {
			e->disks[i].mirror_watermark = cp->disks[i].mirror_watermark;
			e->disks[i].mirror_complete = cp->disks[i].mirror_complete;
		}
		e->rounds = cp->rounds;
		e->last_consistent_ns = cp->last_consistent_ns;
		log_info("resuming from checkpoint (%llu change-copy rounds so far)",
			 (unsigned long long)cp->rounds);
		return 0;
	}
	for (unsigned i = 0; i < e->ndisks; i++) {
		e->disks[i].mirror_watermark = 0;
		e->disks[i].mirror_complete = 0;
	}
	if (e->store_was_new && !have_cp) {
		log_info("staging store is new: initial mirror");
		return 0;
	}
	log_warn("not resuming from the checkpoint because %s: rescanning (only blocks that differ from staging are sent)",
		 why);
	pthread_mutex_lock(&e->mu);
	snprintf(e->rescan_reason, sizeof(e->rescan_reason),
		 "not resuming from the checkpoint because %s", why);
	pthread_mutex_unlock(&e->mu);
	return 1;
}

/* What a round did, from counters taken at its start. */
struct round_counts {
	uint64_t start_ns, start_mono_ns, read, acked, wire;
};

static void round_counts_take(struct engine *e, struct round_counts *c)
{
	c->start_ns = now_real_ns();
	c->start_mono_ns = now_mono_ns();
	c->read = atomic_load(&e->read_bytes);
	c->acked = atomic_load(&e->acked_bytes);
	c->wire = atomic_load(&e->wire_bytes);
}

/* One line per round, never per block: what was read, what changed and went
 * to staging, how long it took, and the lag it leaves (the replica now holds
 * everything written before the round began). A round that read nothing is
 * logged at debug level only. */
static void round_log(struct engine *e, const struct round_counts *c, uint64_t round)
{
	uint64_t read = atomic_load(&e->read_bytes) - c->read;
	uint64_t acked = atomic_load(&e->acked_bytes) - c->acked;
	uint64_t wire = atomic_load(&e->wire_bytes) - c->wire;
	char r[32], a[32], w[32];

	/* a quiet machine's empty rounds (kmod tracker) would fill the log */
	log_msg(read ? LOG_LVL_INFO : LOG_LVL_DEBUG,
		"round %llu: read %s (%llu blocks), %s of changed data durable (zero blocks included), %s on the wire, %.1f s, lag %.1f s",
		(unsigned long long)round, fmt_bytes(read, r, sizeof(r)),
		(unsigned long long)((read + BLOCK_SIZE - 1) / BLOCK_SIZE),
		fmt_bytes(acked, a, sizeof(a)), fmt_bytes(wire, w, sizeof(w)),
		(double)(now_mono_ns() - c->start_mono_ns) / 1e9,
		(double)(now_real_ns() - c->start_ns) / 1e9);
}

static int change_round(struct engine *e, uint64_t *sync_gen)
{
	struct round_counts counts;
	uint64_t start, round;
	int rc;

	/*
	 * Nothing in flight first: a round that failed (a read error) may have
	 * left slots unacknowledged. The pieces of a comparing round are asked
	 * of staging while earlier slots are still on their way, so those slots
	 * must not touch the blocks this round reads (refine.c); and staging's
	 * answers for unknown hash entries must hold every frame sent before.
	 * Free when the last round ended with its drain, as rounds normally do.
	 */
	rc = reader_drain(e);
	if (rc)
		return rc;
	round_counts_take(e, &counts);
	start = counts.start_ns;

	pthread_mutex_lock(&e->mu);
	*sync_gen = e->sync_requests;
	e->last_round_start_ns = start;
	pthread_mutex_unlock(&e->mu);
	for (unsigned i = 0; i < e->ndisks && !rc; i++) {
		struct tracker_extent x;
		int more = 0;

		rc = e->tracker->round_begin(e, i);
		while (!rc && (more = e->tracker->next_extent(e, i, &x)) > 0) {
			if (x.compare)
				rc = fill_unknown_hashes(e, i, x.offset, x.length);
			/* a round reads each block once (tracker.h), so pieces are safe */
			if (!rc)
				rc = reader_feed(e, i, x.offset, x.length,
						 x.compare ? FEED_COMPARE | FEED_PIECES : 0);
		}
		if (!rc && more < 0)
			rc = more;
		if (rc == -TRACKER_LOST)
			e->disks[i].tracking_lost = 1;
	}
	if (!rc)
		rc = reader_drain(e);
	for (unsigned i = 0; i < e->ndisks; i++) {
		if (rc)
			e->tracker->round_abort(e, i);
		else
			e->tracker->round_commit(e, i);
	}
	if (rc)
		return rc;
	pthread_mutex_lock(&e->mu);
	round = ++e->rounds;
	e->last_complete_round_start_ns = start;
	pthread_mutex_unlock(&e->mu);
	round_log(e, &counts, round);
	if (*sync_gen) {
		pthread_mutex_lock(&e->mu);
		int wanted = *sync_gen > e->sync_served;
		pthread_mutex_unlock(&e->mu);

		if (wanted) {
			rc = reader_feed_mark(e, start);
			if (!rc)
				rc = reader_drain(e);
			if (rc)
				return rc;
			pthread_mutex_lock(&e->mu);
			e->last_consistent_ns = start;
			e->sync_served = *sync_gen;
			pthread_cond_broadcast(&e->cv);
			pthread_mutex_unlock(&e->mu);
			{
				time_t t = (time_t)(start / 1000000000u);
				struct tm tm;
				char when[32];

				gmtime_r(&t, &tm);
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
				log_info("final sync: replica consistent as of %s", when);
			}
		}
	}
	return replicate_save_checkpoint(e);
}

/* Sleep until the next round is due or a final sync is asked for. */
static void wait_next_round(struct engine *e, uint64_t served_gen)
{
	uint64_t until = now_mono_ns() + e->cfg->scan_interval_ns;

	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && e->sync_requests == served_gen && !point_asked_locked(e) &&
	       now_mono_ns() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
	pthread_mutex_unlock(&e->mu);
}

/* Tracking of some disks was interrupted: attach again (a new epoch; until
 * the tracker is back, say why and retry) and mark them for a rescan. Every
 * write from now on is tracked, so the rescan that follows misses nothing. */
static int retrack(struct engine *e)
{
	for (unsigned i = 0; i < e->ndisks; i++) {
		struct engine_disk *d = &e->disks[i];
		uint8_t epoch[FRAME_EPOCH_LEN];
		int rc;

		if (!d->tracking_lost)
			continue;
		set_state(e, i, ST_RESCAN);
		while ((rc = e->tracker->attach(e, i, epoch))) {
			engine_set_error(e, 1, "%s: change tracking cannot be restarted: %s (retrying)",
					 d->cfg->name, strerror(-rc));
			sleep_ns(2000000000);
			if (engine_stopping(e))
				return -ECANCELED;
		}
		pthread_mutex_lock(&e->mu);
		memcpy(d->epoch, epoch, FRAME_EPOCH_LEN);
		d->mirror_watermark = 0;
		d->mirror_complete = 0;
		d->tracking_lost = 0;
		snprintf(e->rescan_reason, sizeof(e->rescan_reason),
			 "%s: change tracking was lost and restarted", d->cfg->name);
		if (e->stalled && strstr(e->last_error, "change tracking")) {
			e->stalled = 0;
			e->last_error[0] = '\0';
		}
		pthread_mutex_unlock(&e->mu);
		log_warn("%s: tracking restarted under a new epoch: rescanning", d->cfg->name);
	}
	return replicate_save_checkpoint(e);
}

/* Initial copy then change-copy rounds, until stopped (-ECANCELED) or the
 * staging store is replaced (-ESTALE). */
static int replicate(struct engine *e, int rescan)
{
	int rc;

again:
	for (;;) {
		rc = initial_copy(e, rescan);
		if (!rc)
			break;
		if (rc == -ECANCELED || rc == -ESTALE)
			return rc;
		sleep_ns(2000000000); /* a read error: retry, the status shows why */
	}
	pthread_mutex_lock(&e->mu);
	e->in_change_copy = 1;
	pthread_mutex_unlock(&e->mu);
	for (unsigned i = 0; i < e->ndisks; i++)
		set_state(e, i, ST_CHANGE_COPY);
	for (;;) {
		uint64_t gen = 0;

		/* a round with nothing to read (kmod, no writes) never meets the
		 * reader's own stop check */
		if (engine_stopping(e))
			return -ECANCELED;
		rc = change_round(e, &gen);
		/* nothing in flight now: the moment for a recovery point */
		if (!rc)
			rc = point_maybe(e);
		if (rc == -ECANCELED || rc == -ESTALE)
			return rc;
		if (rc == -TRACKER_LOST) {
			rc = retrack(e);
			if (rc == -ECANCELED)
				return rc;
			rescan = 1;
			goto again;
		}
		if (rc) {
			sleep_ns(1000000000);
			continue;
		}
		wait_next_round(e, gen);
	}
}

/* Nothing staging held before counts any more: start over with a rescan,
 * which sends only blocks the new store lacks. */
static void forget_progress(struct engine *e)
{
	reader_drain(e);
	pthread_mutex_lock(&e->mu);
	e->in_change_copy = 0;
	snprintf(e->rescan_reason, sizeof(e->rescan_reason),
		 "staging's store for this machine was replaced");
	for (unsigned i = 0; i < e->ndisks; i++) {
		e->disks[i].mirror_watermark = 0;
		e->disks[i].mirror_complete = 0;
		atomic_store(&e->disks[i].backlog, 0);
	}
	pthread_mutex_unlock(&e->mu);
	atomic_store(&e->store_changed, 0);
	replicate_save_checkpoint(e);
}

void *replicate_main(void *arg)
{
	struct engine *e = arg;
	struct checkpoint *cp = calloc(1, sizeof(*cp));
	const char *why = NULL;
	int have_cp, rescan, rc;

	if (!cp || wait_for_session(e))
		goto out;
	rc = checkpoint_load(e->checkpoint_path, cp, &why);
	have_cp = rc == 0;
	if (rc == -EINVAL)
		log_warn("checkpoint %s cannot be used (%s)", e->checkpoint_path, why);
	rescan = choose_start(e, cp, have_cp);
	/* a store replaced before we even began is covered by choose_start */
	atomic_store(&e->store_changed, 0);
	if (!have_cp || rescan)
		replicate_save_checkpoint(e); /* record store id and epochs from the start */
	while ((rc = replicate(e, rescan)) == -ESTALE) {
		forget_progress(e);
		rescan = 1;
	}
out:
	free(cp);
	return NULL;
}
