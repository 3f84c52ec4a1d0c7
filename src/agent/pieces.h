/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The finer comparison of a rescan, its pure part. A 64 KiB block whose
 * fingerprint differs from staging's is compared again in 4 KiB pieces, so
 * that a block holding one changed 4 KiB piece costs 4 KiB, not 64 KiB.
 * Here: which pieces differ, whether a block goes whole anyway, and a slot's
 * plan per piece, read back as runs that become frames. Asking staging for
 * its piece hashes is refine.c's job; no function here blocks or locks.
 */
#ifndef LIVEMIG_PIECES_H
#define LIVEMIG_PIECES_H

#include <stdint.h>

#include "ring.h"

#define PIECE_SIZE       4096u /* HASH_REQ's smallest block size */
#define PIECES_PER_BLOCK (BLOCK_SIZE / PIECE_SIZE)
#define PIECES_PER_CHUNK (CHUNK_SIZE / PIECE_SIZE)

/* A slot whose pieces were not asked for sends whole blocks; one in this
 * many asks anyway, so that the round trip it weighs stays measured. */
#define PIECES_PROBE_EVERY 16u

/* What a byte of a change round costs against its time on the wire: staging
 * also reads and saves the old contents for recovery points, writes, syncs
 * (pieces.c). */
#define PIECES_BYTE_WEIGHT 4u

/* What a slot does with each of its pieces. */
enum piece_kind {
	PIECE_SKIP, /* staging holds it already */
	PIECE_DATA, /* sent in a DATA frame */
	PIECE_ZERO, /* sent in a ZERO frame */
};

/* How many pieces len bytes make; the last may be short (the disk's end). */
static inline unsigned pieces_in(uint64_t len)
{
	return (unsigned)((len + PIECE_SIZE - 1) / PIECE_SIZE);
}

/* Bit j set when piece j of n (at most PIECES_PER_BLOCK) has another hash in
 * mine than in theirs (n * FRAME_HASH_LEN bytes each). */
uint32_t pieces_differ(const uint8_t *mine, const uint8_t *theirs, unsigned n);

/* Whether a block of n pieces, of which `differ` differ, is sent whole. */
int pieces_send_whole(uint32_t differ, unsigned n);

/* Whether to ask staging for a slot's piece hashes: 1 when the bytes the
 * pieces could save (`saved`), weighed PIECES_BYTE_WEIGHT times their time
 * at `rate` bytes/s, cost more than the request's round trip (rtt_ns), when either figure is not known yet (0), or
 * when `skipped` slots in a row went whole without asking (a probe). */
int pieces_pay(uint64_t saved, double rate, uint64_t rtt_ns, unsigned skipped);

/* The link's round trip from the last estimate (0: none yet) and a measured
 * HASH_REQ to HASH_RESP: a falling minimum that rises slowly, since an answer
 * also waits behind the frames sent before its request, which go anyway. */
uint64_t pieces_round_trip(uint64_t est, uint64_t sample);

/* A differing block's plan into kind[0..n): every piece DATA when it is sent
 * whole, else DATA for the pieces that differ and SKIP for the others. */
void pieces_plan_block(uint8_t *kind, unsigned n, uint32_t differ);

/* The plan of a block at `block_off` in a slot of which only the bytes
 * [lo, hi) were read (lo a multiple of PIECE_SIZE): DATA for its n pieces
 * that start inside, SKIP for the others. Returns how many are DATA. */
unsigned pieces_plan_range(uint8_t *kind, unsigned n, uint32_t block_off, uint32_t lo,
			   uint32_t hi);

/* The next run of pieces in kind[from, n) that share a kind other than SKIP:
 * 1 with its first piece and length, or 0 when none is left. Adjacent pieces
 * of one kind make one run whatever block they belong to, so they go as one
 * frame. */
int pieces_next_run(const uint8_t *kind, unsigned n, unsigned from, unsigned *first,
		    unsigned *count);

#endif
