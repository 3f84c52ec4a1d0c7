/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replication engine's shared state. Threads and what they own:
 *   replicate (replicate.c)  decides passes and rounds; is also the reader
 *                            stage (reader.c) that fills ring slots
 *   workers   (worker.c)     zero detection, hashing, compression
 *   sender    (sender.c)     connects to staging, sends slots in order,
 *                            reconnects with backoff
 *   acker     (acker.c)      one per connection: ACK, HASH_RESP, ERROR
 *   ticker    (ticker.c)     throughput samples
 *
 * Lock order: send_mu before engine.mu before ring.mu. Neither of the last
 * two is held across network or disk I/O except ring.mu around hash-store
 * writes at retirement (small, page-cache writes) so that retirement stays in
 * order. send_mu is held across a write to staging: the sender's slots, a
 * hash request, and the closing of a connection.
 */
#ifndef LIVEMIG_ENGINE_H
#define LIVEMIG_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "agent_config.h"
#include "compress_choice.h"
#include "conn.h"
#include "hashstore.h"
#include "point.h"
#include "ratelimit.h"
#include "ring.h"
#include "src_disk.h"
#include "tracker.h"

enum repl_state {
	ST_NOT_READY,
	ST_REGISTERED,
	ST_INITIAL_MIRROR,
	ST_CHANGE_COPY,
	ST_BACKLOG,
	ST_RESCAN,
	ST_PAUSED,
	ST_STALLED,
	ST_DISCONNECTED,
};

struct engine_disk {
	unsigned index;
	struct disk_config *cfg;
	struct src_disk src;
	struct hashstore hs;
	uint8_t epoch[FRAME_EPOCH_LEN];
	void *tracker_state;

	atomic_int state;               /* enum repl_state */
	atomic_uint_least64_t pass_pos;    /* end of the last retired slot of this pass */
	atomic_uint_least64_t pass_start;
	atomic_int in_pass;                /* a mirror or rescan pass is running */
	atomic_uint_least64_t backlog;     /* changed bytes found, not yet durable */
	atomic_uint_least64_t sent_bytes;  /* source bytes made durable, all time */
	uint64_t mirror_watermark;      /* under engine.mu */
	int mirror_complete;            /* under engine.mu */
	int tracking_lost;              /* replicate thread: re-attach and rescan */
	double rate;                    /* bytes/s, set by the ticker */
};

#define HASH_REQ_MAX_BLOCKS FRAME_MAX_HASHES

/* One HASH_REQ waiting for its HASH_RESP (session.c); the acker fills it. */
struct hash_wait {
	uint32_t id;
	uint32_t count;
	uint8_t *out;               /* count * FRAME_HASH_LEN bytes */
	int done;                   /* 0 waiting, 1 answered, -1 a wrong answer */
	struct hash_wait *next;
};

/* A run of blocks whose hashes to ask for (session_hashes_now). */
struct hash_range {
	uint64_t offset;            /* a multiple of block_size */
	uint32_t block_size;
	uint32_t count;             /* 1..HASH_REQ_MAX_BLOCKS */
	uint8_t *out;               /* count * FRAME_HASH_LEN bytes */
};

#define HASH_RANGES_MAX (BLOCKS_PER_CHUNK / 2) /* runs of blocks in one slot */

struct engine {
	struct agent_config *cfg;
	const struct tracker_ops *tracker;
	char tracker_reason[640];   /* why this tracker (status document) */
	struct engine_disk disks[FRAME_MAX_DISKS];
	unsigned ndisks;
	struct ring ring;
	SSL_CTX *tls;
	char checkpoint_path[PATH_MAX];

	pthread_mutex_t mu;
	pthread_cond_t cv;          /* broadcast on any change below */
	atomic_int stop;
	atomic_int paused;          /* the reader waits; in-flight slots drain */
	atomic_int conn_broken;     /* the acker saw the connection end */
	atomic_int store_changed;   /* staging's store was replaced: rescan */
	int started;                /* engine_start ran: threads to join at stop */
	/* under mu: why this machine must not replicate at all (identity
	 * changed, deregistered in the console); "" = it may. Shown as NOT_READY
	 * with this reason; only a reinstall clears it. */
	char not_ready[512];
	/* under mu: why the last rescan began (no usable checkpoint, tracking
	 * lost, staging's store replaced); the reason shown while RESCAN */
	char rescan_reason[256];

	/* where staging is, under mu (staging_target.c): the configured
	 * address until the console names another */
	char stg_host[256], stg_port[16], stg_name[256];
	uint64_t stg_gen;           /* bumps when the console moves the machine */

	/* connection, owned by the sender thread */
	struct conn conn;
	int connected;
	uint64_t conn_gen;          /* bumps on each new connection */
	pthread_mutex_t send_mu;    /* one whole frame at a time on the wire; a
				     * connection is closed only with it held */
	int have_welcome;
	uint8_t store_id[FRAME_EPOCH_LEN];
	int store_was_new;
	uint64_t staging_consistent_ns;
	char last_error[256];
	int stalled;                /* last_error explains why nothing moves */
	uint64_t disconnected_since_ns;

	/* HASH_REQs in flight, under mu: the replicate thread's (hash store)
	 * and the workers' (a rescan's pieces), each waiting for its answer */
	uint32_t hash_req_id;       /* the last id given out */
	struct hash_wait *hash_waits;

	/* final sync */
	uint64_t sync_requests;     /* bumped by each `livemig sync` */
	uint64_t sync_served;       /* requests covered by the last MARK */
	uint64_t last_consistent_ns;
	uint64_t rounds;
	uint64_t last_round_start_ns;
	uint64_t last_complete_round_start_ns;
	int in_change_copy;
	char phase[32];

	atomic_uint_least64_t wire_bytes;
	atomic_uint_least64_t acked_bytes;
	atomic_uint_least64_t read_bytes;  /* from the source disks, by the reader */
	double rate;                /* source bytes/s made durable, set by the ticker */
	double wire_rate;           /* bytes/s written to staging, set by the ticker */
	double wire_peak;           /* the most bytes/s written in a tick: the link's rate */

	/* whether a slot's pieces pay (refine.c): the link's round trip as the
	 * piece HASH_REQs measure it (pieces_round_trip), and the slots sent
	 * whole without asking since the last ask */
	atomic_uint_least64_t piece_rtt_ns;
	atomic_uint piece_skipped;

	/* recovery points (point.c), under mu */
	struct point_state pt;
	int staging_points;         /* staging's WELCOME: it answers MARKs with POINT */

	/* compression = auto (worker.c, compress_choice.h), under mu: what
	 * deflating saved lately for the workers' time it took, and the
	 * choice's memory */
	struct compress_gain deflate_gain;
	struct compress_state compress;

	struct ratelimit limit;
	pthread_t replicate_thread, sender_thread, ticker_thread;
	pthread_t *worker_threads;
};

/* engine.c */
int engine_init(struct engine *e, struct agent_config *cfg, char *err, size_t errlen);
int engine_start(struct engine *e, char *err, size_t errlen);
void engine_stop(struct engine *e);
void engine_free(struct engine *e);
void engine_set_error(struct engine *e, int stalled, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int engine_stopping(struct engine *e);
/* Stop replicating for good and show NOT_READY with reason: before
 * engine_start (which is then not called) or while running (the reader
 * waits as if paused; slots in flight complete). Logged as an error. */
void engine_hold(struct engine *e, const char *reason);

/* control handlers (engine.c) */
int engine_pause(struct engine *e, char *err, size_t errlen);
int engine_resume(struct engine *e, char *err, size_t errlen);
int engine_sync(struct engine *e, uint64_t *consistent_ns, char *err, size_t errlen);

/* reader.c: feed one extent through the pipeline; blocks while the ring is full
 * or the engine is paused. mode: 0 reads and sends the extent, rounded out to
 * 4 KiB pieces (a kmod round's pieces; the blocks they fall in get unknown
 * hashes), FEED_COMPARE reads whole blocks and sends only those
 * whose hash differs from the hash store, FEED_COMPARE | FEED_PIECES only the
 * 4 KiB pieces of those that differ from staging's (a rescan, the scan
 * tracker's rounds: refine.c; no slot in flight may hold the same blocks).
 * 0, -ECANCELED when stopping, -ESTALE when staging's store was replaced
 * (what was sent no longer counts), or -errno. */
#define FEED_COMPARE 1
#define FEED_PIECES  2
int reader_feed(struct engine *e, unsigned disk, uint64_t offset, uint64_t length, int mode);
int reader_feed_mark(struct engine *e, uint64_t time_ns);
/* The same from memory, mode 0: data holds [offset, offset + length), whole
 * 4 KiB pieces (a recovery point's pieces, read while the file systems were
 * frozen); -EINVAL otherwise. */
int reader_feed_mem(struct engine *e, unsigned disk, uint64_t offset, uint64_t length,
		    const uint8_t *data);
/* The MARK of a recovery point; *seq: its frame's sequence number. */
int reader_feed_point_mark(struct engine *e, uint64_t time_ns, int origin, int consistency,
			   uint64_t *seq);
/* Wait until every slot is retired. 0, -ECANCELED or -ESTALE as above. */
int reader_drain(struct engine *e);

/* worker.c */
void *worker_main(void *arg);
/* refine.c: a FEED_PIECES slot's blocks that differ (send[i] set, zero[i]
 * clear) compared again by piece with staging; kind[] (one entry per piece of
 * the slot, DATA for those blocks on entry) keeps DATA only where the pieces
 * differ. On any failure to get staging's pieces the blocks stay whole, and
 * so they do when the round trip costs more than the bytes it would save. */
void refine_slot(struct engine *e, struct slot *s, const uint8_t *send, const uint8_t *zero,
		 uint8_t *kind);
/* sender.c */
void *sender_main(void *arg);
/* acker.c */
void *acker_main(void *arg);
/* The ring's retire callback (ring.h): record a durable slot's hashes and
 * progress. */
void acker_retire_slot(void *arg, struct slot *s);

/* session.c: HELLO/WELCOME and hash requests */
int session_open(struct engine *e, char *err, size_t errlen);
/* Wait for a connection, then fetch count hashes of disk from block `first`. */
int session_fetch_hashes(struct engine *e, unsigned disk, uint64_t first, uint32_t count,
			 uint8_t *out);
/* The hashes of n (1..HASH_RANGES_MAX) ranges of disk on the connection open
 * now, all asked at once and answered in one round trip: 0, or -EAGAIN when
 * there is no connection or it ended before every answer came, -ECANCELED
 * when stopping, -EPROTO for an answer of the wrong size. Never waits for a
 * connection (a worker calls it; it may send the blocks whole instead). */
int session_hashes_now(struct engine *e, unsigned disk, const struct hash_range *r, unsigned n);
/* The acker: staging answered request id with count hashes. */
void session_hash_answer(struct engine *e, uint32_t id, uint32_t count, const uint8_t *hashes);

/* replicate.c */
void *replicate_main(void *arg);
int replicate_save_checkpoint(struct engine *e);

/* status.c: the status document (docs/control.md) */
json_t *status_json(struct engine *e);
/* ticker.c */
void *ticker_main(void *arg);

/* The link's rate that per-slot choices weigh bytes with (pieces_pay,
 * compress_choose): the measured wire_peak, or bandwidth_limit when that is
 * lower or nothing was measured yet. */
static inline double engine_link_rate(const struct engine *e, double wire_peak)
{
	if (e->cfg->bandwidth_limit && (wire_peak <= 0 || wire_peak > (double)e->cfg->bandwidth_limit))
		return (double)e->cfg->bandwidth_limit;
	return wire_peak;
}

#endif
