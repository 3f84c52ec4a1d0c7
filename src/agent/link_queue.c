// SPDX-License-Identifier: GPL-2.0-or-later
/* What the sender keeps queued towards staging (link_queue.h). */
#include "link_queue.h"

/*
 * Whatever the sender has written but the kernel has not yet sent waits in
 * front of the next frame. The kernel lets a send buffer grow to 4 MiB, a
 * third of a second at 100 Mbit/s, so a FLUSH (ring.c: staging's ACK asked
 * for before the ring runs out of slots) or a HASH_REQ written now reached
 * staging that much later: over a 100 Mbit/s link with a 50 ms round trip the
 * ACKs then came too late, and the link idled about a round trip at each
 * run of zero or well-compressed slots (docs/performance.md, "Slow link").
 * Unsent bytes only add that delay; what keeps the link busy is what is in
 * flight, which TCP still sizes itself. 20 ms of the link is left unsent, so
 * that a sender the machine schedules late still finds the link fed; at
 * least 128 KiB (a few TLS records), at most the kernel's own default most.
 */
size_t link_queue_limit(double link_rate)
{
	double want = link_rate * (double)LINK_QUEUE_NS / 1e9;
	size_t limit = LINK_QUEUE_MIN;

	if (link_rate <= 0)
		return 0;
	while (limit < LINK_QUEUE_MAX && (double)(limit * 2) <= want)
		limit *= 2;
	return limit;
}

/*
 * A FLUSH makes staging sync at once, in its session's thread, where it
 * would otherwise sync a batch in the background while reading on. Over a
 * slow link with a long round trip that is what keeps the link busy
 * (ring.c); over loopback, where the round trip is nothing and staging or the
 * CPU is the limit, it only added syncs: the agent and staging used 0.11 to
 * 0.13 CPU-seconds more per GiB in `make bench`'s mirror, and single runs
 * were as often slower as faster (docs/performance.md, "Slow link"). The
 * rate is the one measure of the link the mirror has (its round trip is
 * measured only by a change round's piece requests), so the line is drawn
 * there: well above 100 Mbit/s, where the gaps were measured, and below
 * loopback's rate even on this loaded machine (150 MB/s and more).
 */
int link_queue_flushes(double link_rate)
{
	return link_rate > 0 && link_rate < LINK_FLUSH_MAX_RATE;
}
