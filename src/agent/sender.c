// SPDX-License-Identifier: GPL-2.0-or-later
/* The sender: keeps a session with staging and sends ready slots in order.
 * When a connection ends, every sent-but-unacknowledged slot is sent again
 * on the next one: staging writes at absolute offsets, so resends are safe. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link_queue.h"
#include "log.h"
#include "staging_target.h"
#include "util.h"

#define BACKOFF_MIN_NS  200000000ull
#define BACKOFF_MAX_NS 5000000000ull

/* Sleep up to ns, waking early when the engine stops. */
static void backoff_sleep(struct engine *e, uint64_t ns)
{
	uint64_t until = now_mono_ns() + ns;

	while (!atomic_load(&e->stop) && now_mono_ns() < until)
		sleep_ns(50000000);
}

/* Ask staging to make everything sent durable and acknowledge it now. */
static int send_flush(struct engine *e, uint64_t seq)
{
	uint8_t buf[FRAME_HDR_LEN + 8];
	size_t n = frame_encode_seq(buf, sizeof(buf), FT_FLUSH, seq);
	int rc;

	pthread_mutex_lock(&e->send_mu);
	rc = conn_write(&e->conn, buf, n);
	pthread_mutex_unlock(&e->send_mu);
	if (rc) {
		engine_set_error(e, 0, "sending to staging failed: %s", strerror(-rc));
		return rc;
	}
	atomic_fetch_add(&e->wire_bytes, n);
	return 0;
}

/* The link's rate as the ticker measured it (engine_link_rate). */
static double link_rate(struct engine *e)
{
	double rate;

	pthread_mutex_lock(&e->mu);
	rate = engine_link_rate(e, e->wire_peak);
	pthread_mutex_unlock(&e->mu);
	return rate;
}

/* Size the kernel's unsent queue to the link as measured now (link_queue.c);
 * *limit: what this connection has, changed only when the link's rate is. */
static void tune_link_queue(struct engine *e, size_t *limit)
{
	size_t want = link_queue_limit(link_rate(e));

	if (want == *limit)
		return;
	if (conn_set_unsent_limit(&e->conn, want))
		return; /* an older kernel: the queue stays as it was */
	log_debug("sender: at most %zu bytes unsent in the kernel", want);
	*limit = want;
}

static int send_ready_slots(struct engine *e)
{
	size_t unsent_limit = 0; /* a new connection's: the kernel's default */

	for (;;) {
		uint64_t flush;
		struct slot *s = ring_next_send(&e->ring, &e->conn_broken,
						link_queue_flushes(link_rate(e)), &flush);
		int rc = 0;

		if (!s && !flush)
			return -ECONNABORTED;
		if (!s) {
			rc = send_flush(e, flush);
			if (rc)
				return rc;
			continue;
		}

		if (s->wire_len) {
			tune_link_queue(e, &unsent_limit);
			ratelimit_take(&e->limit, s->wire_len);
			pthread_mutex_lock(&e->send_mu);
			for (unsigned i = 0; i < s->npieces && !rc; i++)
				rc = conn_write(&e->conn, s->piece[i].p, s->piece[i].len);
			pthread_mutex_unlock(&e->send_mu);
			if (rc) {
				engine_set_error(e, 0, "sending to staging failed: %s", strerror(-rc));
				return rc;
			}
			atomic_fetch_add(&e->wire_bytes, s->wire_len);
		}
		ring_sent(&e->ring, s);
	}
}

static void end_connection(struct engine *e, pthread_t acker)
{
	conn_shutdown(&e->conn);
	pthread_join(acker, NULL);
	/* a hash request (session.c) writes only while connected, under send_mu */
	pthread_mutex_lock(&e->send_mu);
	pthread_mutex_lock(&e->mu);
	e->connected = 0;
	e->disconnected_since_ns = now_mono_ns();
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	conn_close(&e->conn);
	pthread_mutex_unlock(&e->send_mu);
	ring_rewind(&e->ring);
}

void *sender_main(void *arg)
{
	struct engine *e = arg;
	uint64_t backoff = BACKOFF_MIN_NS;
	char err[512];

	while (!atomic_load(&e->stop)) {
		struct staging_target t;
		pthread_t acker;
		int rc = session_open(e, err, sizeof(err));

		staging_target_get(e, &t);
		if (rc == STAGING_MOVED && !atomic_load(&e->stop)) {
			backoff = BACKOFF_MIN_NS; /* moved: the new address at once */
			continue;
		}
		if (rc) {
			engine_set_error(e, 1, "cannot reach staging at %s:%s: %s (retrying in %.1f s)",
					 t.host, t.port, err, (double)backoff / 1e9);
			backoff_sleep(e, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
			continue;
		}
		log_info("connected to staging at %s:%s", t.host, t.port);
		if (pthread_create(&acker, NULL, acker_main, e)) {
			log_error("cannot start the acknowledgement reader");
			conn_close(&e->conn);
			backoff_sleep(e, BACKOFF_MAX_NS);
			continue;
		}
		send_ready_slots(e);
		end_connection(e, acker);
		if (atomic_load(&e->stop))
			break;
		/* a session that worked resets the backoff; a refused one (disk full) grows it */
		pthread_mutex_lock(&e->mu);
		if (!e->stalled)
			backoff = BACKOFF_MIN_NS;
		pthread_mutex_unlock(&e->mu);
		backoff_sleep(e, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
	}
	return NULL;
}
