/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bounded queue the whole pipeline shares. Slots are used in order:
 *
 *   head ......... sent ......... tail
 *   [sent, waiting for ACK][read / compressing / ready][free]
 *
 * The reader fills slots at tail, compression workers take any filled slot,
 * the sender sends slots in order from `sent`, and acknowledgements retire
 * them from `head`. The number of slots bounds the agent's memory whatever
 * the disk size; sending in order makes "ACK up to seq" retire a prefix, so
 * the mirror watermark is simply the end of the last retired slot.
 */
#ifndef LIVEMIG_RING_H
#define LIVEMIG_RING_H

#include <pthread.h>
#include <stdint.h>

#include "frame.h"

#define CHUNK_SIZE        (1u << 20)  /* one read, one slot */
#define BLOCK_SIZE        (64u << 10) /* tracking and hashing granularity */
#define BLOCKS_PER_CHUNK  (CHUNK_SIZE / BLOCK_SIZE)

enum slot_kind { SLOT_DATA, SLOT_MARK };

enum slot_state {
	SLOT_FREE,
	SLOT_FILLED,   /* read from the disk, waiting for a worker */
	SLOT_BUSY,     /* a worker is encoding it */
	SLOT_READY,    /* wire bytes ready to send */
	SLOT_SENT,     /* sent, waiting for staging to make it durable */
};

/*
 * Every frame on the wire has its own sequence number, so "durable up to S"
 * can never cover half a slot: slot at ring position p numbers its frames
 * from (p + 1) << SLOT_SEQ_SHIFT upwards. A slot makes at most 32 frames
 * (16 blocks, each run of data split once), well under the 64 numbers.
 */
#define SLOT_SEQ_SHIFT 6
#define SLOT_MAX_FRAMES (1u << SLOT_SEQ_SHIFT)

struct slot {
	uint64_t seq;         /* the first frame's; the next ones count up */
	uint64_t last_seq;    /* retired once staging acknowledged this one */
	enum slot_kind kind;
	enum slot_state state;
	unsigned disk;        /* index into the engine's disks */
	uint64_t offset;
	uint32_t len;
	int compare;          /* send only blocks whose hash differs from `known` */
	uint64_t mark_time_ns;
	uint8_t *raw;         /* CHUNK_SIZE, 4096-aligned for O_DIRECT */
	uint8_t *wire;        /* encoded frames */
	size_t wire_len;
	size_t wire_cap;
	uint64_t sent_bytes;  /* source bytes this slot's frames carry */
	uint8_t hash[BLOCKS_PER_CHUNK][FRAME_HASH_LEN];
	uint8_t known[BLOCKS_PER_CHUNK][FRAME_HASH_LEN];
};

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t changed; /* broadcast on every state change */
	struct slot *slots;
	unsigned depth;
	uint64_t head, sent, tail;
	uint64_t acked_seq;     /* highest frame seq staging made durable */
};

int ring_init(struct ring *r, unsigned depth);
void ring_free(struct ring *r);
static inline struct slot *ring_slot(struct ring *r, uint64_t pos)
{
	return &r->slots[pos % r->depth];
}

#endif
