// SPDX-License-Identifier: GPL-2.0-or-later
/* The piece comparison and plan of a rescan (pieces.h). */
#include "pieces.h"

#include <string.h>

uint32_t pieces_differ(const uint8_t *mine, const uint8_t *theirs, unsigned n)
{
	uint32_t differ = 0;

	for (unsigned j = 0; j < n && j < PIECES_PER_BLOCK; j++)
		if (memcmp(mine + (size_t)j * FRAME_HASH_LEN, theirs + (size_t)j * FRAME_HASH_LEN,
			   FRAME_HASH_LEN))
			differ |= 1u << j;
	return differ;
}

/*
 * Half or more of the block differs: send it whole. The bytes saved would be
 * at most half the block, while the pieces would cost a frame each (header,
 * sequence number, a small write on staging) and split what deflate sees.
 * Below half, a block leaves at most PIECES_PER_BLOCK / 2 - 1 runs, which
 * bounds the frames a slot can make (SLOT_MAX_FRAMES, ring.h).
 */
int pieces_send_whole(uint32_t differ, unsigned n)
{
	return 2u * (unsigned)__builtin_popcount(differ) >= n;
}

/*
 * The worker waits a round trip for the answer; the bytes it saves would
 * otherwise wait their turn on the link. On a long round trip with few
 * changed blocks per slot the wait is the larger (docs/performance.md, Slow
 * link), on loopback or a slow link the bytes are.
 *
 * The rate is the wire's best, measured while the mirror wrote to a new
 * store; a change round's byte costs staging more: it saves the old contents
 * for recovery points before writing. Weighed at wire time alone, loopback
 * sent nearly all blocks whole and its round took 0.6 s against 0.3 to 0.4 s
 * with pieces (docs/performance.md, Slow link); four times keeps pieces
 * there and on a full slot, whole blocks for a slot of one or two changed
 * blocks at 50 ms and 100 Mbit/s.
 */
int pieces_pay(uint64_t saved, double rate, uint64_t rtt_ns, unsigned skipped)
{
	if (!rtt_ns || rate <= 0 || skipped + 1 >= PIECES_PROBE_EVERY)
		return 1;
	return (double)saved * PIECES_BYTE_WEIGHT * 1e9 / rate > (double)rtt_ns;
}

/*
 * Not an average: staging answers a request after the frames before it, so a
 * round that sends much measures its own queue (tens of milliseconds on
 * loopback while staging saves old contents for recovery points), which is
 * no cost of the request. The shortest answer is the link's round trip; the
 * slow rise lets a link that became slower be seen in a few dozen requests.
 */
uint64_t pieces_round_trip(uint64_t est, uint64_t sample)
{
	if (!est || sample <= est)
		return sample;
	return est + (sample - est) / 32;
}

void pieces_plan_block(uint8_t *kind, unsigned n, uint32_t differ)
{
	int whole = pieces_send_whole(differ, n);

	for (unsigned j = 0; j < n; j++)
		kind[j] = whole || (differ >> j & 1) ? PIECE_DATA : PIECE_SKIP;
}

unsigned pieces_plan_range(uint8_t *kind, unsigned n, uint32_t block_off, uint32_t lo,
			   uint32_t hi)
{
	unsigned data = 0;

	for (unsigned j = 0; j < n; j++) {
		uint32_t at = block_off + j * PIECE_SIZE;

		kind[j] = at >= lo && at < hi ? PIECE_DATA : PIECE_SKIP;
		data += kind[j] == PIECE_DATA;
	}
	return data;
}

int pieces_next_run(const uint8_t *kind, unsigned n, unsigned from, unsigned *first,
		    unsigned *count)
{
	unsigned end;

	while (from < n && kind[from] == PIECE_SKIP)
		from++;
	if (from >= n)
		return 0;
	for (end = from + 1; end < n && kind[end] == kind[from]; end++)
		;
	*first = from;
	*count = end - from;
	return 1;
}
