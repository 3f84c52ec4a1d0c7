// SPDX-License-Identifier: GPL-2.0-or-later
/* compression = auto: deflate or raw for a slot (compress_choice.h). */
#include "compress_choice.h"

/*
 * Deflate pays when the link's time, not the CPU's, is what the copy waits
 * for. Which one that is cannot be read off the ring: slots waiting for the
 * sender (the rule `auto` had alone) are rare on a slow link, since most of
 * the ring is sent and waiting for staging's ACK, which comes only after a
 * sync batch's fdatasync; and "most of the ring unacknowledged" holds on
 * loopback too for the same reason. Nor off a low wire rate alone: a machine
 * short of CPU sends slowly over loopback. So both sides are measured, in the
 * same unit:
 *
 *   gain  bytes deflate saved per second a worker spent encoding the slots
 *         it deflated (the wall clock: a worker that a loaded machine
 *         preempts makes its slot wait, and that is the cost the copy pays);
 *         only slots whose data compressed count
 *   link  the most bytes per second the sender wrote in a tick (wire_peak,
 *         the link's rate pieces_pay weighs bytes with), capped by
 *         bandwidth_limit
 *
 * gain / link is the link time a second of deflating saves. Deflate when it
 * saves more than COMPRESS_LINK_WEIGHT (3) seconds, stop when it saves less
 * than COMPRESS_KEEP_WEIGHT (2): the worker's second is also a second the
 * reader, the sender's TLS and (on one machine) staging may wait for, and
 * staging's inflate is not in the gain at all, so one for one would deflate
 * where the copy gets no faster. Measured on the project's 2-vCPU machine at
 * load 13 to 16 (docs/performance.md, Slow link): over loopback the gain was
 * 0.5 to 1.5 times the link's rate (up to 3.7 while only four slots were
 * measured, hence COMPRESS_GAIN_SAMPLES), at 100 Mbit/s 2 to 80 times, at
 * 1 Gbit/s 1 to 5 times: a loaded machine lowers the gain, which is the
 * point, and 1 Gbit/s is where either choice is about as fast.
 *
 * Until the gain is measured (8 slots that compressed) slots are deflated:
 * incompressible data costs only a trial block per run (worker.c), and a few
 * MiB deflated on loopback cost little. From then until the link is
 * measured (the ticker's first half-second) only the queue decides, as
 * before: deflating blind would cost loopback more than raw slots cost a slow
 * link in that half-second.
 */

void compress_gain_note(struct compress_gain *g, uint64_t saved, uint64_t ns)
{
	g->saved = g->saved * 15 / 16 + (double)saved;
	g->ns = g->ns * 15 / 16 + (double)ns;
	if (g->samples < COMPRESS_GAIN_SAMPLES)
		g->samples++;
}

double compress_gain_rate(const struct compress_gain *g)
{
	if (g->samples < COMPRESS_GAIN_SAMPLES || g->ns <= 0)
		return -1;
	return g->saved * 1e9 / g->ns;
}

enum compress_reason compress_choose(struct compress_state *st, double gain_rate,
				     double link_rate, unsigned ready, unsigned depth)
{
	enum compress_reason r = COMPRESS_RAW;

	/* a ring of 2 (queue_depth's least) can never queue 3 */
	if (ready >= COMPRESS_ON_QUEUE || ready >= depth)
		st->queue_says = 1;
	else if (!ready)
		st->queue_says = 0;
	if (gain_rate >= 0 && link_rate > 0)
		st->link_says = gain_rate >= link_rate * (st->link_says ? COMPRESS_KEEP_WEIGHT
								       : COMPRESS_LINK_WEIGHT);
	if (st->link_says)
		r = COMPRESS_PAYS;
	else if (st->queue_says)
		r = COMPRESS_QUEUE;
	else if (gain_rate < 0 || st->raw_slots + 1 >= COMPRESS_PROBE_EVERY)
		r = COMPRESS_PROBE;
	st->raw_slots = r == COMPRESS_RAW ? st->raw_slots + 1 : 0;
	return r;
}
