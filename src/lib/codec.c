// SPDX-License-Identifier: GPL-2.0-or-later
#include "codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/igzip_lib.h>

struct codec_enc {
	struct isal_zstream strm;
	uint8_t *level_buf;
};

struct codec_enc *codec_enc_new(void)
{
	struct codec_enc *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
	if (!e->level_buf) {
		free(e);
		return NULL;
	}
	return e;
}

void codec_enc_free(struct codec_enc *e)
{
	if (!e)
		return;
	free(e->level_buf);
	free(e);
}

size_t codec_deflate_bound(size_t len)
{
	return len + len / 16 + 1024;
}

size_t codec_deflate(struct codec_enc *e, const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	struct isal_zstream *s = &e->strm;
	size_t worth = len - len / 16;

	isal_deflate_init(s);
	s->level = 1;
	s->level_buf = e->level_buf;
	s->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	s->gzip_flag = IGZIP_ZLIB;
	s->end_of_stream = 1;
	s->flush = NO_FLUSH;
	s->next_in = (uint8_t *)src;
	s->avail_in = (uint32_t)len;
	s->next_out = dst;
	s->avail_out = (uint32_t)(cap < worth ? cap : worth);
	if (isal_deflate(s) != COMP_OK || s->internal_state.state != ZSTATE_END)
		return 0; /* ran out of room: not worth compressing */
	return s->total_out;
}

int codec_inflate(const uint8_t *src, size_t len, uint8_t *dst, size_t expect)
{
	struct inflate_state st;
	int rc;

	isal_inflate_init(&st);
	st.crc_flag = ISAL_ZLIB;
	st.next_in = (uint8_t *)src;
	st.avail_in = (uint32_t)len;
	st.next_out = dst;
	st.avail_out = (uint32_t)expect;
	rc = isal_inflate(&st);
	if (rc != ISAL_DECOMP_OK || st.block_state != ISAL_BLOCK_FINISH)
		return -EBADMSG; /* corrupt, truncated, or longer than declared */
	/* ISA-L may already have pulled up to 8 bytes past the zlib trailer
	 * into its bit buffer (read_in): those are trailing garbage too. */
	if (st.total_out != expect || st.avail_in != 0 || st.read_in_length >= 8)
		return -EBADMSG; /* shorter than declared, or trailing garbage */
	return 0;
}
