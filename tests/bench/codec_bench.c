// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * codec_bench: level-1 zlib-format (RFC 1950) compression speed of ISA-L,
 * libdeflate and zlib on one image, single thread.
 *
 *     codec_bench IMAGE [REPEAT]
 *
 * The image is read in 1 MiB chunks; all-zero 64 KiB blocks are skipped, as
 * the agent's workers do, and each run of consecutive non-zero blocks inside
 * a chunk is compressed as one zlib stream (the agent's frames are such runs).
 * All runs are held in memory first, so only compression is timed (best of
 * REPEAT passes, default 3). Every output is then checked with zlib's own
 * uncompress(): a codec whose output plain zlib cannot inflate back to the
 * input fails the benchmark (exit status 1).
 *
 * Two more rows, for the analysis in docs/performance.md: ISA-L under the
 * agent's rule (src/agent/worker.c), at level 1 as the agent does and at
 * level 0 (ISA-L's fastest, still zlib format). The rule: a run's first
 * 64 KiB block is compressed alone as a trial; if that does not save 1/16,
 * the rest of the run goes raw, otherwise the rest is compressed as a second
 * stream; any stream that does not save 1/16 is replaced by the raw bytes.
 * The level-1 row is what the agent pays per byte of this image. (Level 0
 * alone is not a row: it expands random data by about a quarter instead of
 * falling back to stored blocks, which the rule's raw fallback hides.)
 *
 * Build: cc -O2 -std=c11 -Wall -Wextra codec_bench.c -o codec_bench -lisal -ldeflate -lz
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#define CHUNK (1u << 20)
#define BLOCK (64u << 10)

struct run {
	const uint8_t *src;
	size_t len;
	uint8_t *out;
	size_t cap, clen;
};

struct codec {
	const char *name;
	int (*init)(void);
	size_t (*compress)(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);
	void (*fini)(void);
};

static struct run *runs;
static size_t nruns, total_in;

/* ---- ISA-L: level 1 exactly as src/lib/codec.c sets it up ---- */
static struct isal_zstream isal_strm;
static uint8_t *isal_level_buf;
static int isal_level = 1;

static int isal_init(void)
{
	isal_level = 1;
	isal_level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
	return isal_level_buf ? 0 : -1;
}

static int isal0_init(void)
{
	isal_level = 0;
	return 0;
}

static size_t isal_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	struct isal_zstream *s = &isal_strm;

	isal_deflate_init(s);
	s->level = (uint32_t)isal_level;
	s->level_buf = isal_level ? isal_level_buf : NULL;
	s->level_buf_size = isal_level ? ISAL_DEF_LVL1_DEFAULT : 0;
	s->gzip_flag = IGZIP_ZLIB;
	s->end_of_stream = 1;
	s->flush = NO_FLUSH;
	s->next_in = (uint8_t *)src;
	s->avail_in = (uint32_t)len;
	s->next_out = dst;
	s->avail_out = (uint32_t)cap;
	if (isal_deflate(s) != COMP_OK || s->internal_state.state != ZSTATE_END)
		return 0;
	return s->total_out;
}

static void isal_fini(void)
{
	free(isal_level_buf);
	isal_level_buf = NULL;
}

/* The agent's rule, with ISA-L level 1. Output layout per run, for verify():
 * [u32 n1][piece 1][u32 n2][piece 2], a piece's length with bit 31 set when
 * it is raw; piece 2 is empty for a run of one block. */
static size_t put_piece(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, int try_deflate)
{
	size_t worth = len - len / 16, clen = 0;
	uint32_t hdr;

	if (cap < 4 + len)
		return 0;
	if (try_deflate)
		clen = isal_compress(src, len, dst + 4, worth);
	if (clen) {
		hdr = (uint32_t)clen;
	} else {
		memcpy(dst + 4, src, len);
		hdr = (uint32_t)len | 0x80000000u;
		clen = len;
	}
	memcpy(dst, &hdr, 4);
	return 4 + clen;
}

static size_t agent_rule_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	size_t first = len < BLOCK ? len : BLOCK, n;
	uint32_t hdr;

	n = put_piece(src, first, dst, cap, 1);
	if (!n)
		return 0;
	memcpy(&hdr, dst, 4);
	return n + put_piece(src + first, len - first, dst + n, cap - n, !(hdr & 0x80000000u));
}

/* ---- libdeflate ---- */
static struct libdeflate_compressor *ld;

static int ld_init(void)
{
	ld = libdeflate_alloc_compressor(1);
	return ld ? 0 : -1;
}

static size_t ld_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	return libdeflate_zlib_compress(ld, src, len, dst, cap);
}

static void ld_fini(void)
{
	libdeflate_free_compressor(ld);
	ld = NULL;
}

/* ---- zlib ---- */
static int zlib_init(void)
{
	return 0;
}

static size_t zlib_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	uLongf dlen = (uLongf)cap;

	if (compress2(dst, &dlen, src, (uLong)len, 1) != Z_OK)
		return 0;
	return (size_t)dlen;
}

static void zlib_fini(void)
{
}

struct codec_row {
	const struct codec *codec;
	int pieces; /* output in agent_rule_compress()'s layout */
	int extra;  /* not one of the three compared encoders */
};

static const struct codec isal1 = { "ISA-L igzip (isal_deflate, level 1)", isal_init,
				    isal_compress, isal_fini };
static const struct codec libdeflate1 = { "libdeflate (level 1)", ld_init, ld_compress, ld_fini };
static const struct codec zlib1 = { "zlib (compress2, level 1)", zlib_init, zlib_compress,
				    zlib_fini };
static const struct codec agent_rule1 = { "ISA-L level 1, agent's trial rule", isal_init,
					  agent_rule_compress, isal_fini };
static const struct codec agent_rule0 = { "ISA-L level 0, agent's trial rule", isal0_init,
					  agent_rule_compress, isal_fini };

static const struct codec_row rows[] = {
	{ &isal1, 0, 0 },
	{ &libdeflate1, 0, 0 },
	{ &zlib1, 0, 0 },
	{ &agent_rule1, 1, 1 },
	{ &agent_rule0, 1, 1 },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int all_zero(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)p;

	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return 0;
	for (size_t i = n & ~(size_t)7; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int add_run(const uint8_t *chunk, size_t from, size_t to)
{
	struct run *r;
	uint8_t *copy;

	if (nruns % 1024 == 0) {
		struct run *n = realloc(runs, (nruns + 1024) * sizeof(*runs));

		if (!n)
			return -1;
		runs = n;
	}
	copy = malloc(to - from);
	if (!copy)
		return -1;
	memcpy(copy, chunk + from, to - from);
	r = &runs[nruns++];
	r->src = copy;
	r->len = to - from;
	/* room for any codec or the agent rule's layout: ISA-L's stored blocks
	 * need a little more than zlib's compressBound() */
	r->cap = r->len + r->len / 16 + 1024;
	r->out = malloc(r->cap);
	if (!r->out)
		return -1;
	total_in += r->len;
	return 0;
}

static int load(const char *path, uint64_t *image_bytes, uint64_t *zero_bytes)
{
	uint8_t *chunk = malloc(CHUNK);
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (!chunk || fd < 0) {
		fprintf(stderr, "codec_bench: %s: %s\n", path, strerror(errno));
		free(chunk);
		return -1;
	}
	*image_bytes = *zero_bytes = 0;
	for (;;) {
		size_t have = 0, start = 0;
		int in_run = 0;

		while (have < CHUNK && (got = read(fd, chunk + have, CHUNK - have)) > 0)
			have += (size_t)got;
		if (have == 0)
			break;
		*image_bytes += have;
		for (size_t b = 0; b < have; b += BLOCK) {
			size_t bl = have - b < BLOCK ? have - b : BLOCK;

			if (all_zero(chunk + b, bl)) {
				*zero_bytes += bl;
				if (in_run && add_run(chunk, start, b))
					goto oom;
				in_run = 0;
			} else if (!in_run) {
				in_run = 1;
				start = b;
			}
		}
		if (in_run && add_run(chunk, start, have))
			goto oom;
		if (have < CHUNK)
			break;
	}
	close(fd);
	free(chunk);
	return 0;
oom:
	fprintf(stderr, "codec_bench: out of memory\n");
	close(fd);
	free(chunk);
	return -1;
}

/* Inflate one run's output with zlib's uncompress() (pieces: in the agent
 * rule's layout) into back; returns the bytes produced, or SIZE_MAX if bad. */
static size_t unpack(const struct run *r, int pieces, uint8_t *back)
{
	size_t at = 0, got = 0;

	if (r->clen == 0)
		return SIZE_MAX;
	if (!pieces) {
		uLongf blen = CHUNK;

		if (uncompress(back, &blen, r->out, (uLong)r->clen) != Z_OK)
			return SIZE_MAX;
		return blen;
	}
	while (at + 4 <= r->clen) {
		uint32_t hdr, n;

		memcpy(&hdr, r->out + at, 4);
		n = hdr & 0x7fffffffu;
		at += 4;
		if (at + n > r->clen)
			return SIZE_MAX;
		if (hdr & 0x80000000u) {
			if (got + n > CHUNK)
				return SIZE_MAX;
			memcpy(back + got, r->out + at, n);
			got += n;
		} else {
			uLongf blen = CHUNK - got;

			if (uncompress(back + got, &blen, r->out + at, n) != Z_OK)
				return SIZE_MAX;
			got += blen;
		}
		at += n;
	}
	return at == r->clen ? got : SIZE_MAX;
}

/* Check every output with zlib's uncompress(); returns the number of bad runs. */
static size_t verify(int pieces)
{
	uint8_t *back = malloc(CHUNK);
	size_t bad = 0;

	if (!back)
		return nruns;
	for (size_t i = 0; i < nruns; i++) {
		const struct run *r = &runs[i];

		if (unpack(r, pieces, back) != r->len || memcmp(back, r->src, r->len) != 0)
			bad++;
	}
	free(back);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t image_bytes, zero_bytes;
	int repeat = argc > 2 ? atoi(argv[2]) : 3, failed = 0;

	if (argc < 2 || repeat < 1) {
		fprintf(stderr, "usage: %s IMAGE [REPEAT]\n", argv[0]);
		return 2;
	}
	if (load(argv[1], &image_bytes, &zero_bytes))
		return 1;
	printf("image %s: %.1f MiB, all-zero 64 KiB blocks skipped: %.1f MiB, compressed: %.1f MiB in %zu runs\n",
	       argv[1], (double)image_bytes / (1 << 20), (double)zero_bytes / (1 << 20),
	       (double)total_in / (1 << 20), nruns);
	printf("single thread, best of %d; MB/s of non-zero input (and of the whole image, zeros free)\n",
	       repeat);
	printf("%-38s %10s %12s %8s  %s\n", "codec", "MB/s", "image MB/s", "ratio",
	       "zlib uncompress check");
	for (size_t c = 0; c < sizeof(rows) / sizeof(rows[0]); c++) {
		const struct codec *k = rows[c].codec;
		double best = 1e30;
		size_t out = 0, bad;

		if (rows[c].extra && !rows[c - 1].extra)
			printf("for comparison (not among the encoders compared above):\n");

		if (k->init()) {
			fprintf(stderr, "codec_bench: %s: init failed\n", k->name);
			return 1;
		}
		for (int rep = 0; rep < repeat; rep++) {
			double t0 = now(), t;

			out = 0;
			for (size_t i = 0; i < nruns; i++) {
				struct run *r = &runs[i];

				r->clen = k->compress(r->src, r->len, r->out, r->cap);
				out += r->clen;
			}
			t = now() - t0;
			if (t < best)
				best = t;
		}
		k->fini();
		bad = verify(rows[c].pieces);
		printf("%-38s %10.0f %12.0f %8.3f  %s\n", k->name, (double)total_in / best / 1e6,
		       (double)image_bytes / best / 1e6, total_in ? (double)out / (double)total_in : 0.0,
		       bad ? "FAILED" : "ok");
		if (bad) {
			fprintf(stderr, "codec_bench: %s: %zu of %zu runs do not inflate to the input\n",
				k->name, bad, nruns);
			failed = 1;
		}
	}
	for (size_t i = 0; i < nruns; i++) {
		free((void *)runs[i].src);
		free(runs[i].out);
	}
	free(runs);
	return failed;
}
