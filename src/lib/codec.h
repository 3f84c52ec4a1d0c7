/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-frame compression. The wire format is zlib (RFC 1950) so any receiver
 * with plain zlib can inflate it; ISA-L produces it about ten times faster
 * than zlib's own deflate here (docs/performance.md has the measurement).
 */
#ifndef LIVEMIG_CODEC_H
#define LIVEMIG_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct codec_enc;

struct codec_enc *codec_enc_new(void);
void codec_enc_free(struct codec_enc *e);

/* Compress src into dst. Returns the compressed length, or 0 when the result
 * would not be smaller than src by at least 1/16 (send it raw instead). */
size_t codec_deflate(struct codec_enc *e, const uint8_t *src, size_t len, uint8_t *dst,
		     size_t cap);

/* Worst-case output size worth allocating for codec_deflate(). */
size_t codec_deflate_bound(size_t len);

/* Inflate a zlib stream that must expand to exactly expect bytes.
 * Returns 0, or -EBADMSG for corrupt input or any other length (a
 * decompression bomb stops at dst's end and is reported, never written). */
int codec_inflate(const uint8_t *src, size_t len, uint8_t *dst, size_t expect);

#endif
