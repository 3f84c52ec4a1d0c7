/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bounded queue the whole pipeline shares, and the only code that
 * changes a slot's state. Slots are used in order:
 *
 *   head ......... sent ......... tail
 *   [sent, waiting for ACK][filled / encoding / ready][free]
 *
 * Invariant (under mu): head <= sent <= tail <= head + depth; slots in
 * [head, sent) are SENT, slots in [sent, tail) are FILLED, BUSY or READY,
 * every other slot is FREE. The number of slots bounds the agent's memory
 * whatever the disk size; sending in order makes "durable up to seq S"
 * retire a prefix, so the mirror watermark is the end of the last retired
 * slot.
 *
 * A slot's life and who moves it (each transition takes mu and wakes every
 * waiter):
 *
 *   FREE   --ring_claim/ring_publish-->  FILLED   the reader (one thread)
 *   FILLED --ring_take-->                BUSY     a worker
 *   BUSY   --ring_ready-->               READY    that worker
 *   READY  --ring_next_send/ring_sent--> SENT     the sender, in ring order
 *   SENT   --ring_rewind-->              READY    the sender, connection lost
 *   SENT   --ring_ack (or ring_sent)-->  FREE     retired from head in order
 *
 * Threading: a slot's fields belong to whoever moved it last: the reader
 * between ring_claim and ring_publish, a worker between ring_take and
 * ring_ready, the sender while it is READY at `sent`; the retire callback
 * reads it under mu. Handing a slot over through mu is what publishes its
 * contents to the next stage, so no field needs its own lock.
 *
 * Waits end when the stop flag given to ring_init is set (the caller sets it,
 * then calls ring_wake); the functions that wait then return NULL or
 * -ECANCELED.
 */
#ifndef LIVEMIG_RING_H
#define LIVEMIG_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define CHUNK_SIZE        (1u << 20)  /* one read, one slot */
#define BLOCK_SIZE        (64u << 10) /* tracking and hashing granularity */
#define BLOCKS_PER_CHUNK  (CHUNK_SIZE / BLOCK_SIZE)

enum slot_kind { SLOT_DATA, SLOT_MARK };

enum slot_state {
	SLOT_FREE,
	SLOT_FILLED,   /* read from the disk (or a MARK), waiting for a worker */
	SLOT_BUSY,     /* a worker is encoding it */
	SLOT_READY,    /* wire bytes ready to send */
	SLOT_SENT,     /* sent, waiting for staging to make it durable */
};

/*
 * Every frame on the wire has its own sequence number, so "durable up to S"
 * can never cover half a slot: slot at ring position p numbers its frames
 * from (p + 1) << SLOT_SEQ_SHIFT upwards. A slot makes at most 128 frames,
 * well under the 256 numbers: a rescan sends a differing block's pieces in
 * at most 7 runs (pieces.h), 16 blocks make at most 112 runs, and a run is
 * split once only when it is longer than a block (at most 16 such).
 */
#define SLOT_SEQ_SHIFT 8
#define SLOT_MAX_FRAMES (1u << SLOT_SEQ_SHIFT)

/* One contiguous range of a slot's bytes on the wire: in its wire buffer
 * (frame headers, deflated payloads) or in its raw buffer (raw payloads,
 * sent from where they were read instead of being copied). */
struct wire_piece {
	const uint8_t *p;
	size_t len;
	int in_wire;
};

#define SLOT_MAX_PIECES (2 * SLOT_MAX_FRAMES)

struct slot {
	uint64_t seq;         /* the first frame's (set by ring_publish); the next ones count up */
	uint64_t last_seq;    /* retired once staging acknowledged this one */
	enum slot_kind kind;
	enum slot_state state; /* only ring.c writes it */
	unsigned disk;        /* index into the engine's disks */
	uint64_t offset;
	uint32_t len;
	uint32_t lo, hi;      /* the bytes [lo, hi) of the slot were read and are
			       * sent; the rest of its blocks is left out (a
			       * kmod round's pieces). 0 and len when whole */
	int compare;          /* send only blocks whose hash differs from `known` */
	int pieces;           /* compare: such blocks are compared again by 4 KiB
			       * piece with staging and only differing pieces sent */
	uint64_t mark_time_ns;
	int mark_origin;      /* MARK_ORIGIN_* (frame.h) */
	int mark_consistency; /* MARK_CONSISTENCY_* */
	uint8_t *raw;         /* CHUNK_SIZE, 4096-aligned for O_DIRECT */
	uint8_t *wire;        /* frame headers and deflated payloads */
	size_t wire_used;     /* bytes of `wire` in use */
	size_t wire_cap;
	size_t wire_len;      /* bytes to send: the pieces' total */
	struct wire_piece piece[SLOT_MAX_PIECES]; /* what to send, in order */
	unsigned npieces;
	uint64_t sent_bytes;  /* source bytes this slot's frames carry */
	uint8_t hash[BLOCKS_PER_CHUNK][FRAME_HASH_LEN];
	uint8_t known[BLOCKS_PER_CHUNK][FRAME_HASH_LEN];
};

/* Called with mu held for each slot leaving the ring, oldest first. It must
 * not call back into the ring. */
typedef void ring_retire_fn(void *arg, struct slot *s);

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t changed; /* broadcast on every state change */
	struct slot *slots;
	unsigned depth;
	uint64_t head, sent, tail;
	uint64_t acked_seq;     /* highest frame seq staging made durable, this connection */
	uint64_t sent_seq;      /* the last frame seq sent, this connection */
	uint64_t flush_seq;     /* the last FLUSH's seq, this connection (0: none) */
	const atomic_int *stop; /* ends every wait */
	ring_retire_fn *retire;
	void *retire_arg;
};

int ring_init(struct ring *r, unsigned depth, const atomic_int *stop, ring_retire_fn *retire,
	      void *retire_arg);
void ring_free(struct ring *r);
/* Wake every waiter to look at the flags again (stop, paused, broken). */
void ring_wake(struct ring *r);

/* The reader. Wait for a free slot at tail while *paused is clear; NULL when
 * stopping. The slot is the caller's until ring_publish, which numbers it and
 * hands it to the workers. */
struct slot *ring_claim(struct ring *r, const atomic_int *paused);
void ring_publish(struct ring *r, struct slot *s);
/* Wait until every slot is retired: 0, or -ECANCELED when stopping. */
int ring_drain(struct ring *r);

/* A worker. Take any filled slot (NULL when stopping); hand it on when its
 * wire bytes are ready. */
struct slot *ring_take(struct ring *r);
void ring_ready(struct ring *r, struct slot *s);

/* How many slots are encoded and waiting for the sender (the one it is
 * writing included): a queue here means the link or staging is slower than
 * the workers. */
unsigned ring_ready_count(struct ring *r);

/* The sender. Wait for the slot at `sent` to be ready; NULL when stopping or
 * once *broken is set. ring_sent marks it sent and retires it at once when it
 * carries no frame. ring_rewind, after a connection ended, makes every sent
 * but unacknowledged slot ready again and forgets the connection's ACKs. */
struct slot *ring_next_ready(struct ring *r, const atomic_int *broken);
/*
 * The sender's wait: as ring_next_ready, and, if flushes is set (the link is
 * slow: link_queue_flushes), it also ends when staging should be asked for
 * an ACK. Then it returns NULL with *flush set to the FLUSH's seq, which the
 * sender sends at once: numbered just past the last frame sent, a number no
 * frame uses (a slot numbers at most 128 of its 256). NULL with *flush 0:
 * stopping or broken, as ring_next_ready. A FLUSH is due when a quarter of
 * the ring is sent and not acknowledged, a frame was sent since the last
 * FLUSH and that one was answered (flush_due in ring.c says why); a ready
 * slot waits behind it.
 */
struct slot *ring_next_send(struct ring *r, const atomic_int *broken, int flushes,
			    uint64_t *flush);
void ring_sent(struct ring *r, struct slot *s);
void ring_rewind(struct ring *r);

/* The acker: staging made every frame up to seq durable; retire what that
 * covers. */
void ring_ack(struct ring *r, uint64_t seq);

#endif
