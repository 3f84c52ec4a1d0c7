// SPDX-License-Identifier: GPL-2.0-or-later
/* The sender's queue in the kernel, sized to the link (link_queue.h). */
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
