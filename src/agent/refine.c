// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The second, finer comparison of a comparing pass (a rescan, or a round of
 * the scan tracker), in the worker that encodes the slot: the blocks whose
 * 64 KiB fingerprint differs from staging's are hashed again in 4 KiB pieces,
 * staging is asked for the same pieces (HASH_REQ at 4 KiB, a request per run
 * of such blocks, all in one round trip), and only the pieces that differ
 * stay to be sent. Otherwise a block goes whole for one changed piece: 15 %
 * of a disk for a rescan after 1 % changed in scattered 4 KiB writes, and up
 * to 16 bytes sent per byte written by such writes in every round
 * (docs/performance.md).
 *
 * Why this is safe: staging's answer is what it holds when it reads the
 * request, and nothing else writes these blocks before this slot's frames
 * arrive: a pass reads each block once (a round's extents never overlap,
 * tracker.h) and starts with nothing in flight, so what staging holds there
 * came from acknowledged, hence synced, frames. Pieces left out are equal
 * there already and stay so, also when the slot is sent again on a new
 * connection; once it is acknowledged staging holds exactly the bytes read,
 * and the block's hash the acker records is right. When staging's pieces
 * cannot be had (no connection, it ended before the answer), the blocks go
 * whole, which is always right.
 *
 * Whether to ask at all: the worker waits the round trip, one per slot, so on
 * a long round trip asking can cost more than the bytes it saves (4 s for a
 * round of 156 slots at 50 ms, where the whole blocks take 1.6 s at
 * 100 Mbit/s; docs/performance.md, Slow link). A slot asks only when the
 * most its pieces could save, at the link's best measured rate (capped by
 * bandwidth_limit) and weighed for staging's work, costs more than the
 * link's round trip as the requests measure it (pieces_pay,
 * pieces_round_trip). Either way the replica is exact: only the bytes sent
 * differ.
 */
#include "engine.h"

#include <errno.h>
#include <string.h>

#include "blockhash.h"
#include "log.h"
#include "pieces.h"
#include "util.h"

/* The most the pieces of the slot's differing data blocks could save: all but
 * a piece of each, as a block whose fingerprint differs has one that does. */
static uint64_t most_saved(const struct slot *s, const uint8_t *send, const uint8_t *zero,
			   uint32_t nb)
{
	uint64_t saved = 0;

	for (uint32_t i = 0; i < nb; i++) {
		uint64_t len = s->len - i * BLOCK_SIZE < BLOCK_SIZE ? s->len - i * BLOCK_SIZE
								    : BLOCK_SIZE;

		if (send[i] && !zero[i] && len > PIECE_SIZE)
			saved += len - PIECE_SIZE;
	}
	return saved;
}

/* Whether this slot asks for its pieces; counts the slots that do not. */
static int worth_asking(struct engine *e, uint64_t saved)
{
	double rate;

	pthread_mutex_lock(&e->mu);
	rate = e->wire_peak;
	pthread_mutex_unlock(&e->mu);
	if (pieces_pay(saved, engine_link_rate(e, rate), atomic_load(&e->piece_rtt_ns),
		       atomic_load(&e->piece_skipped))) {
		atomic_store(&e->piece_skipped, 0);
		return 1;
	}
	atomic_fetch_add(&e->piece_skipped, 1);
	return 0;
}

/* Workers racing here may lose a sample: the estimate needs none in particular. */
static void note_round_trip(struct engine *e, uint64_t ns)
{
	atomic_store(&e->piece_rtt_ns, pieces_round_trip(atomic_load(&e->piece_rtt_ns), ns));
}

void refine_slot(struct engine *e, struct slot *s, const uint8_t *send, const uint8_t *zero,
		 uint8_t *kind)
{
	uint8_t mine[PIECES_PER_CHUNK][FRAME_HASH_LEN];
	uint8_t theirs[PIECES_PER_CHUNK][FRAME_HASH_LEN];
	struct hash_range r[HASH_RANGES_MAX];
	uint32_t nb = (s->len + BLOCK_SIZE - 1) / BLOCK_SIZE;
	unsigned n = 0;
	uint64_t t0;
	int rc;

	if (!worth_asking(e, most_saved(s, send, zero, nb)))
		return;
	/* a request per run of differing data blocks; runs are apart, so at most 8 */
	for (uint32_t i = 0; i < nb;) {
		uint32_t end;

		if (!send[i] || zero[i]) {
			i++;
			continue;
		}
		for (end = i + 1; end < nb && send[end] && !zero[end]; end++)
			;
		{
			uint32_t from = i * PIECES_PER_BLOCK;
			uint64_t bytes = (uint64_t)(end < nb ? end * BLOCK_SIZE : s->len) -
					 (uint64_t)i * BLOCK_SIZE;

			/* the pieces of the same bytes, the same way staging hashes them */
			for (uint32_t p = 0; p < pieces_in(bytes); p++) {
				uint64_t off = (uint64_t)(from + p) * PIECE_SIZE;

				blockhash(s->raw + off,
					  s->len - off < PIECE_SIZE ? s->len - off : PIECE_SIZE,
					  mine[from + p]);
			}
			r[n++] = (struct hash_range){ .offset = s->offset + (uint64_t)i * BLOCK_SIZE,
						      .block_size = PIECE_SIZE,
						      .count = pieces_in(bytes),
						      .out = theirs[from] };
		}
		i = end;
	}
	if (!n)
		return;
	t0 = now_mono_ns();
	rc = session_hashes_now(e, s->disk, r, n);
	if (rc) {
		if (rc != -ECANCELED)
			log_debug("%s: no piece hashes from staging for %llu+%u (%s): sending whole blocks",
				  e->disks[s->disk].cfg->name, (unsigned long long)s->offset,
				  s->len, strerror(-rc));
		return;
	}
	note_round_trip(e, now_mono_ns() - t0);
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t from = i * PIECES_PER_BLOCK;
		unsigned np;

		if (!send[i] || zero[i])
			continue;
		np = pieces_in((uint64_t)(s->len - i * BLOCK_SIZE < BLOCK_SIZE ? s->len - i * BLOCK_SIZE
									 : BLOCK_SIZE));
		pieces_plan_block(kind + from, np,
				  pieces_differ(mine[from], theirs[from], np));
	}
}
