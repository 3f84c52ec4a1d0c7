/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `compression = auto`, its pure part: whether a worker deflates a slot's
 * data. The workers measure what deflating gains (bytes it saved per second
 * a worker spent deflating, compress_gain_*), the ticker what the link
 * carries (wire_peak, the rate pieces_pay weighs bytes with too); this file
 * weighs one against the other (compress_choice.c says why). No function
 * here blocks, locks or reads a clock: worker.c measures, holds the state
 * under engine.mu and passes the figures in.
 */
#ifndef LIVEMIG_COMPRESS_CHOICE_H
#define LIVEMIG_COMPRESS_CHOICE_H

#include <stdint.h>

/* Deflate when a second of deflating saves the link more than this many
 * seconds; stop when it saves less than COMPRESS_KEEP_WEIGHT (a gap, so a
 * gain near the line does not flip the choice at every slot). */
#define COMPRESS_LINK_WEIGHT 3.0
#define COMPRESS_KEEP_WEIGHT 2.0

/* Slots that compressed before the gain counts as measured: a slot's figure
 * depends on what its data was and whether its worker was preempted (over
 * loopback four slots said 1.06 GB/s, five 0.32). */
#define COMPRESS_GAIN_SAMPLES 8u

/* While data goes raw, one slot in this many is deflated anyway, so that the
 * gain it is weighed by stays measured (data and load change). */
#define COMPRESS_PROBE_EVERY 32u

/* The sender's queue (the rule `auto` had alone before): this many encoded
 * slots waiting for it turn deflate on, an empty queue turns that off. */
#define COMPRESS_ON_QUEUE 3u

/* What deflating gained lately: decaying sums of the bytes it saved and the
 * nanoseconds the workers took (each sample keeps 15/16 of the sums before
 * it). */
struct compress_gain {
	double saved;
	double ns;
	unsigned samples; /* up to COMPRESS_GAIN_SAMPLES */
};

/* A slot deflated: `saved` bytes fewer on the wire, `ns` the worker spent
 * encoding it. */
void compress_gain_note(struct compress_gain *g, uint64_t saved, uint64_t ns);

/* Bytes saved per second of deflating; -1 until COMPRESS_GAIN_SAMPLES slots
 * are measured. */
double compress_gain_rate(const struct compress_gain *g);

/* Why a slot is encoded as it is. */
enum compress_reason {
	COMPRESS_RAW,      /* deflate costs more than it saves, or nothing says it pays */
	COMPRESS_PAYS,     /* the gain against the link's rate */
	COMPRESS_PROBE,    /* measuring the gain: until 8 slots compressed, then one in 32 */
	COMPRESS_QUEUE,    /* encoded slots wait for the sender */
};

/* The choice's memory between slots. */
struct compress_state {
	int link_says;      /* the last verdict of gain against link (hysteresis) */
	int queue_says;     /* the queue rule's (on at COMPRESS_ON_QUEUE, off at 0) */
	unsigned raw_slots; /* data slots sent raw since one was deflated */
};

/*
 * The choice for the next slot that holds data. gain_rate: compress_gain_rate;
 * link_rate: the link's bytes/s (wire_peak, capped by bandwidth_limit), 0
 * while not measured; ready: encoded slots waiting for the sender
 * (ring_ready_count); depth: the ring's. Updates st; deflate unless
 * COMPRESS_RAW.
 */
enum compress_reason compress_choose(struct compress_state *st, double gain_rate,
				     double link_rate, unsigned ready, unsigned depth);

#endif
