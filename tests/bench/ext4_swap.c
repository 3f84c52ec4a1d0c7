// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ext4_swap: can EXT4_IOC_MOVE_EXT make ext4 recovery points cheaper than
 * copy-out copy-on-write?  A benchmark and a probe, not a test.
 *
 *     ext4_swap probe DIR                       (DIR on ext4; root)
 *     ext4_swap bench DIR [MIB [WRITES [ROUNDS]]]   (defaults 1024 1024 3)
 *
 * probe: what MOVE_EXT really does, on small files in DIR: which file keeps
 * which contents, holes and unwritten extents on either side, alignment,
 * open modes, a dirty page in the original, per-file data journaling
 * (chattr +j, which needs CAP_SYS_RESOURCE). Each case prints both files'
 * extents (LOGICAL+LEN@PHYSICAL, in blocks, "u" = unwritten) before the
 * move, the ioctl's result, then contents and extents after it.
 *
 * bench: five files of MIB MiB, fully written and synced, one per way; per
 * run WRITES random 64 KiB-aligned 1 MiB overwrites (the same offsets and
 * bytes for every way of a round), the ways interleaved, order rotated per
 * round, the page cache of the images dropped before each run:
 *   a  plain: pwrite, one fdatasync at the end (no point);
 *   b  copy-out: before the first overwrite of a 64 KiB chunk since the
 *      point, pread its old bytes and append them to a delta file; writes are
 *      held and released after one fdatasync of the delta per <= 16 MiB;
 *   c  swap as first proposed: pwrite the new bytes into a sparse donor at
 *      the same offset, fdatasync the donor per <= 16 MiB, then MOVE_EXT the
 *      ranges from the image (orig) to the donor;
 *   d  swap meant to keep the old blocks: fallocate the donor's range (unwritten
 *      extents), MOVE_EXT it with the image, append a 32-byte record to an
 *      index file; writes held and released after one fdatasync of the index
 *      per <= 16 MiB; then pwrite the new bytes into the image;
 *   e  d with readahead(2) of the written range first (the kernel would
 *      otherwise read each old page synchronously inside the move).
 * Every way ends with fdatasync of the image. Round 1 checks every way: the
 * image must equal plain's, and the point (saved chunks over the image) must
 * equal the image before the run; "DIFFERS" is printed where it does not (the
 * finding for c, d, e: the donor's moved blocks read as zeros). Prints MiB/s
 * and the ratios to a.
 *
 * Build: cc -O2 -std=c11 -Wall -Wextra ext4_swap.c -o ext4_swap -lcrypto
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ext4's private ioctl: the kernel defines it outside its uapi headers */
struct move_extent {
	uint32_t reserved;
	uint32_t donor_fd;
	uint64_t orig_start;
	uint64_t donor_start;
	uint64_t len;
	uint64_t moved_len;
};
#define EXT4_IOC_MOVE_EXT _IOWR('f', 15, struct move_extent)

#define CHUNK (64u << 10)
#define WSIZE (1u << 20)
#define HOLD (16u << 20)
#define BLK 4096u

static void die(const char *what)
{
	fprintf(stderr, "ext4_swap: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pwrite_all(int fd, const void *b, size_t n, off_t off)
{
	if (pwrite(fd, b, n, off) != (ssize_t)n)
		die("pwrite");
}

static void pread_all(int fd, void *b, size_t n, off_t off)
{
	if (pread(fd, b, n, off) != (ssize_t)n)
		die("pread");
}

static int move_ext(int orig, int donor, uint64_t off, uint64_t len, uint64_t *moved)
{
	struct move_extent me = { .donor_fd = (uint32_t)donor, .orig_start = off / BLK,
				  .donor_start = off / BLK, .len = len / BLK };
	int rc = ioctl(orig, EXT4_IOC_MOVE_EXT, &me);
	if (moved)
		*moved = me.moved_len;
	return rc < 0 ? -errno : 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* extents of [off, off+len): "W" written, "U" unwritten, "-" hole, per block;
 * with phys_list, also " LOGICAL+LEN@PHYSICAL[u]" per extent, in blocks */
static void extent_map(int fd, uint64_t off, uint64_t len, char *out, char *phys_list)
{
	struct {
		struct fiemap f;
		struct fiemap_extent e[64];
	} m;
	memset(out, '-', len / BLK);
	out[len / BLK] = 0;
	if (phys_list)
		*phys_list = 0;
	memset(&m, 0, sizeof(m));
	m.f.fm_start = off;
	m.f.fm_length = len;
	m.f.fm_flags = FIEMAP_FLAG_SYNC;
	m.f.fm_extent_count = 64;
	if (ioctl(fd, FS_IOC_FIEMAP, &m) < 0)
		die("FIEMAP");
	for (unsigned i = 0; i < m.f.fm_mapped_extents; i++) {
		struct fiemap_extent *e = &m.e[i];
		if (phys_list)
			phys_list += sprintf(phys_list, " %llu+%llu@%llu%s",
					     (unsigned long long)(e->fe_logical / BLK),
					     (unsigned long long)(e->fe_length / BLK),
					     (unsigned long long)(e->fe_physical / BLK),
					     (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? "u" : "");
		for (uint64_t b = e->fe_logical; b < e->fe_logical + e->fe_length; b += BLK)
			if (b >= off && b < off + len)
				out[(b - off) / BLK] =
					(e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? 'U' : 'W';
	}
}

/* ---------- probe ---------- */

static char pdir[4096];

static int pfile(const char *name, int flags)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", pdir, name);
	int fd = open(p, flags | O_CREAT, 0600);
	if (fd < 0)
		die(p);
	return fd;
}

/* a file of 64 KiB: blocks given by spec, one char per 4 KiB block:
 * a letter = written with that letter, 'u' = unwritten, '-' = hole */
static int pmake(const char *name, const char *spec, int flags)
{
	char p[4200], buf[BLK];
	snprintf(p, sizeof(p), "%s/%s", pdir, name);
	unlink(p);
	int fd = pfile(name, flags);
	if (ftruncate(fd, 16 * BLK))
		die("ftruncate");
	for (int i = 0; i < 16; i++) {
		if (spec[i] == 'u') {
			if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)i * BLK, BLK))
				die("fallocate");
		} else if (spec[i] != '-') {
			memset(buf, spec[i], BLK);
			pwrite_all(fd, buf, BLK, (off_t)i * BLK);
		}
	}
	if (fsync(fd))
		die("fsync");
	return fd;
}

/* contents per block: the letter, '0' for zeros, '?' mixed */
static void pcontents(int fd, char *out)
{
	char buf[BLK];
	for (int i = 0; i < 16; i++) {
		pread_all(fd, buf, BLK, (off_t)i * BLK);
		char c = buf[0];
		for (unsigned j = 1; j < BLK; j++)
			if (buf[j] != c) {
				c = '?';
				break;
			}
		out[i] = c == 0 ? '0' : c;
	}
	out[16] = 0;
}

static void pshow(const char *label, int fd)
{
	char c[17], m[17];
	if (fsync(fd))
		die("fsync");
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	pcontents(fd, c);
	char phys[64 * 48];
	extent_map(fd, 0, 16 * BLK, m, phys);
	printf("    %-6s contents %s extents %s:%s\n", label, c, m, phys);
}

static void ptry(const char *what, const char *ospec, const char *dspec, int oflags, int dflags,
		 uint64_t ooff, uint64_t doff, uint64_t len)
{
	int o = pmake("orig", ospec, O_RDWR), d = pmake("donor", dspec, O_RDWR);
	if (oflags != O_RDWR) {
		close(o);
		o = pfile("orig", oflags);
	}
	if (dflags != O_RDWR) {
		close(d);
		d = pfile("donor", dflags);
	}
	char m[17], ophys[64 * 48], dphys[64 * 48];
	extent_map(o, 0, 16 * BLK, m, ophys);
	extent_map(d, 0, 16 * BLK, m, dphys);
	struct move_extent me = { .donor_fd = (uint32_t)d, .orig_start = ooff, .donor_start = doff,
				  .len = len };
	int rc = ioctl(o, EXT4_IOC_MOVE_EXT, &me);
	printf("%s\n  orig %s:%s\n  donor %s:%s\n  blocks %llu->%llu len %llu: %s, moved %llu\n",
	       what, ospec, ophys, dspec, dphys, (unsigned long long)ooff,
	       (unsigned long long)doff, (unsigned long long)len, rc < 0 ? strerror(errno) : "ok",
	       (unsigned long long)me.moved_len);
	if (rc == 0) {
		close(o);
		close(d);
		o = pfile("orig", O_RDWR);
		d = pfile("donor", O_RDWR);
		pshow("orig", o);
		pshow("donor", d);
	}
	close(o);
	close(d);
}

static int probe(void)
{
	ptry("1. written orig, unwritten donor (e4defrag's case)", "AAAAAAAAAAAAAAAA",
	     "uuuuuuuuuuuuuuuu", O_RDWR, O_RDWR, 0, 0, 16);
	ptry("2. written orig, written donor (new bytes in the donor first)", "AAAAAAAAAAAAAAAA",
	     "NNNNNNNNNNNNNNNN", O_RDWR, O_RDWR, 0, 0, 16);
	ptry("3. written orig, donor a hole", "AAAAAAAAAAAAAAAA", "----------------", O_RDWR,
	     O_RDWR, 0, 0, 16);
	ptry("4. orig with holes and unwritten blocks, unwritten donor", "AA--uuAAAAAA----",
	     "uuuuuuuuuuuuuuuu", O_RDWR, O_RDWR, 0, 0, 16);
	ptry("5. unwritten orig, unwritten donor", "uuuuuuuuuuuuuuuu", "uuuuuuuuuuuuuuuu", O_RDWR,
	     O_RDWR, 0, 0, 16);
	ptry("6. start blocks differ by one (4 KiB blocks and pages)", "AAAAAAAAAAAAAAAA", "uuuuuuuuuuuuuuuu",
	     O_RDWR, O_RDWR, 1, 2, 4);
	ptry("7. start blocks differ by eight", "AAAAAAAAAAAAAAAA", "uuuuuuuuuuuuuuuu",
	     O_RDWR, O_RDWR, 0, 8, 4);
	ptry("8. orig opened O_WRONLY", "AAAAAAAAAAAAAAAA", "uuuuuuuuuuuuuuuu", O_WRONLY, O_RDWR, 0,
	     0, 16);
	ptry("9. donor opened O_RDONLY", "AAAAAAAAAAAAAAAA", "uuuuuuuuuuuuuuuu", O_RDWR, O_RDONLY,
	     0, 0, 16);
	ptry("10. len past the end of file", "AAAAAAAAAAAAAAAA", "uuuuuuuuuuuuuuuu", O_RDWR, O_RDWR,
	     8, 8, 64);

	/* 11: the orig's page is dirty (newer than its block) when moved */
	{
		int o = pmake("orig", "AAAAAAAAAAAAAAAA", O_RDWR);
		int d = pmake("donor", "uuuuuuuuuuuuuuuu", O_RDWR);
		char buf[BLK];
		memset(buf, 'B', BLK);
		pwrite_all(o, buf, BLK, 0); /* block 0 dirty with B, disk has A */
		uint64_t moved;
		int rc = move_ext(o, d, 0, 16 * BLK, &moved);
		printf("11. orig block 0 dirty (B in the page cache, A on disk), unwritten donor\n"
		       "  %s, moved %llu\n",
		       rc ? strerror(-rc) : "ok", (unsigned long long)moved);
		pshow("orig", o);
		pshow("donor", d);
		close(o);
		close(d);
	}
	/* 12: the donor's page cache after the move (read before it) */
	{
		int o = pmake("orig", "AAAAAAAAAAAAAAAA", O_RDWR);
		int d = pmake("donor", "uuuuuuuuuuuuuuuu", O_RDWR);
		char buf[BLK], c1[17];
		pread_all(d, buf, BLK, 0); /* caches a zero page of the donor */
		uint64_t moved;
		int rc = move_ext(o, d, 0, 16 * BLK, &moved);
		pcontents(d, c1);
		printf("12. donor page cached (zeros) before the move\n  %s, moved %llu; donor "
		       "read at once (cache kept): %s\n",
		       rc ? strerror(-rc) : "ok", (unsigned long long)moved, c1);
		pshow("donor", d);
		close(o);
		close(d);
	}
	/* 13: per-file data journaling (chattr +j) */
	{
		int o = pmake("orig", "AAAAAAAAAAAAAAAA", O_RDWR);
		int d = pmake("donor", "uuuuuuuuuuuuuuuu", O_RDWR);
		int fl = 0;
		if (ioctl(o, FS_IOC_GETFLAGS, &fl) < 0)
			die("GETFLAGS");
		fl |= FS_JOURNAL_DATA_FL;
		if (ioctl(o, FS_IOC_SETFLAGS, &fl) < 0)
			printf("13. chattr +j on orig: %s\n", strerror(errno));
		else {
			int rc = move_ext(o, d, 0, 16 * BLK, NULL);
			printf("13. orig with data journaling (chattr +j)\n  %s\n",
			       rc ? strerror(-rc) : "ok");
		}
		close(o);
		close(d);
	}
	return 0;
}

/* ---------- bench ---------- */

enum { PLAIN, COPYOUT, SWAPNEW, SWAPOLD, SWAPRA, WAYS };
static const char *way_name[WAYS] = { "a plain", "b copy-out", "c swap-new", "d swap-old",
				      "e swap-old+ra" };

struct held {
	uint64_t off;
	const unsigned char *buf;
};

struct run {
	int img, side; /* side: delta (b), donor (c, d) */
	int index;     /* d: the record file */
	uint64_t size;
	unsigned char *saved; /* per chunk: saved since the point */
	struct held q[HOLD / WSIZE + 1];
	unsigned nq;
	uint64_t pending, delta_end, index_end;
	uint64_t *delta_off; /* b: chunk -> offset in delta + 1 */
	int moves_failed;
};

static void release(struct run *r, int way)
{
	if (!r->nq)
		return;
	if (way == COPYOUT && fdatasync(r->side))
		die("fdatasync delta");
	if (way == SWAPNEW) {
		if (fdatasync(r->side))
			die("fdatasync donor");
		/* move every chunk saved by the held writes, then write the rest */
	}
	if ((way == SWAPOLD || way == SWAPRA) && fdatasync(r->index))
		die("fdatasync index");
	for (unsigned i = 0; i < r->nq; i++)
		if (way != SWAPNEW)
			pwrite_all(r->img, r->q[i].buf, WSIZE, (off_t)r->q[i].off);
	if (way == SWAPNEW)
		for (unsigned i = 0; i < r->nq; i++) {
			uint64_t off = r->q[i].off;
			for (uint64_t c = off; c < off + WSIZE; c += CHUNK) {
				if (r->saved[c / CHUNK] == 2) { /* saved by this write: move */
					uint64_t moved;
					if (move_ext(r->img, r->side, c, CHUNK, &moved) || moved != CHUNK / BLK)
						r->moves_failed++;
					r->saved[c / CHUNK] = 1;
				} else {
					pwrite_all(r->img, r->q[i].buf + (c - off), CHUNK, (off_t)c);
				}
			}
		}
	r->nq = 0;
	r->pending = 0;
}

static void one_write(struct run *r, int way, uint64_t off, const unsigned char *buf,
		      unsigned char *tmp)
{
	if (way == PLAIN) {
		pwrite_all(r->img, buf, WSIZE, (off_t)off);
		return;
	}
	if (way == SWAPRA) /* the kernel reads the old pages one by one otherwise */
		readahead(r->img, (off_t)off, WSIZE);
	for (uint64_t c = off; c < off + WSIZE; c += CHUNK) {
		uint64_t ch = c / CHUNK;
		if (r->saved[ch])
			continue;
		r->saved[ch] = 1;
		if (way == COPYOUT) {
			pread_all(r->img, tmp, CHUNK, (off_t)c);
			pwrite_all(r->side, tmp, CHUNK, (off_t)r->delta_end + 32);
			r->delta_off[ch] = r->delta_end + 32 + 1;
			r->delta_end += 32 + CHUNK;
		} else if (way == SWAPNEW) {
			pwrite_all(r->side, buf + (c - off), CHUNK, (off_t)c);
			r->saved[ch] = 2;
		} else {
			uint64_t moved;
			unsigned char rec[32] = { 'L', 'M', 'D', 'C' };
			if (fallocate(r->side, FALLOC_FL_KEEP_SIZE, (off_t)c, CHUNK))
				die("fallocate donor");
			if (move_ext(r->img, r->side, c, CHUNK, &moved) || moved != CHUNK / BLK)
				r->moves_failed++;
			memcpy(rec + 8, &ch, sizeof(ch));
			pwrite_all(r->index, rec, sizeof(rec), (off_t)r->index_end);
			r->index_end += sizeof(rec);
		}
	}
	r->q[r->nq].off = off;
	r->q[r->nq].buf = buf;
	r->nq++;
	r->pending += WSIZE;
	if (r->pending >= HOLD)
		release(r, way);
}

static void sha_file(int fd, uint64_t size, unsigned char *out, struct run *pt, int way)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char *b = malloc(CHUNK);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (uint64_t o = 0; o < size; o += CHUNK) {
		uint64_t ch = o / CHUNK;
		if (pt && pt->saved[ch] && way == COPYOUT)
			pread_all(pt->side, b, CHUNK, (off_t)pt->delta_off[ch] - 1);
		else if (pt && pt->saved[ch])
			pread_all(pt->side, b, CHUNK, (off_t)o);
		else
			pread_all(fd, b, CHUNK, (off_t)o);
		EVP_DigestUpdate(c, b, CHUNK);
	}
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
	free(b);
}

static char bdir[4096];

static int bopen(const char *name, int way, int trunc)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s.%c", bdir, name, "abcde"[way]);
	if (trunc)
		unlink(p);
	int fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		die(p);
	return fd;
}

static unsigned long extents_of(int fd)
{
	struct fiemap f = { .fm_length = FIEMAP_MAX_OFFSET };
	if (ioctl(fd, FS_IOC_FIEMAP, &f) < 0)
		return 0;
	return f.fm_mapped_extents;
}

static int bench(uint64_t mib, unsigned writes, unsigned rounds)
{
	uint64_t size = mib << 20, nch = size / CHUNK;
	unsigned char *data = malloc((size_t)writes * WSIZE), *tmp = malloc(CHUNK);
	uint64_t *offs = malloc(writes * sizeof(*offs));
	double rate[WAYS][16] = { { 0 } };
	if (!data || !tmp || !offs || rounds > 16)
		die("malloc");
	srand48(1);
	for (uint64_t i = 0; i < (uint64_t)writes * WSIZE / 8; i++)
		((uint64_t *)data)[i] = (uint64_t)mrand48() << 32 ^ (uint64_t)mrand48();
	/* the images, fully written */
	for (int w = 0; w < WAYS; w++) {
		int fd = bopen("image", w, 1);
		for (uint64_t o = 0; o < size; o += WSIZE)
			pwrite_all(fd, data + (o / WSIZE % writes) * WSIZE, WSIZE, (off_t)o);
		if (fsync(fd))
			die("fsync image");
		close(fd);
	}
	for (unsigned rd = 0; rd < rounds; rd++) {
		srand48(100 + rd);
		for (unsigned i = 0; i < writes; i++) {
			offs[i] = (uint64_t)(drand48() * (double)(nch - WSIZE / CHUNK + 1)) * CHUNK;
			data[(size_t)i * WSIZE] = (unsigned char)(rd + 1); /* differs per round */
		}
		unsigned char ref[32] = { 0 };
		for (int k = 0; k < WAYS; k++) {
			int way = (k + (int)rd) % WAYS;
			struct run r = { .size = size };
			r.saved = calloc(nch, 1);
			r.delta_off = calloc(nch, sizeof(uint64_t));
			r.img = bopen("image", way, 0);
			r.side = way == PLAIN ? -1 : bopen("side", way, 1);
			r.index = way >= SWAPOLD ? bopen("index", way, 1) : -1;
			if (way >= SWAPNEW && ftruncate(r.side, (off_t)size))
				die("ftruncate donor");
			unsigned char before[32];
			if (rd == 0)
				sha_file(r.img, size, before, NULL, way);
			if (fdatasync(r.img))
				die("fdatasync");
			posix_fadvise(r.img, 0, 0, POSIX_FADV_DONTNEED);
			if (r.side >= 0 && fsync(r.side))
				die("fsync side");
			double t0 = now();
			for (unsigned i = 0; i < writes; i++)
				one_write(&r, way, offs[i], data + (size_t)i * WSIZE, tmp);
			release(&r, way);
			if (fdatasync(r.img))
				die("fdatasync image");
			double dt = now() - t0;
			rate[way][rd] = (double)writes * WSIZE / 1048576.0 / dt;
			printf("round %u %-11s %8.1f MiB/s (%.2f s)%s", rd + 1, way_name[way],
			       rate[way][rd], dt, r.moves_failed ? " MOVES FAILED" : "");
			if (way >= SWAPNEW)
				printf(" image extents %lu", extents_of(r.img));
			if (rd == 0) {
				unsigned char after[32], point[32];
				sha_file(r.img, size, after, NULL, way);
				if (way == PLAIN)
					memcpy(ref, after, 32);
				if (way != PLAIN)
					sha_file(r.img, size, point, &r, way);
				printf(" | image %s plain's",
				       memcmp(after, ref, 32) ? "DIFFERS from" : "equals");
				if (way != PLAIN)
					printf(", point %s the image before",
					       memcmp(point, before, 32) ? "DIFFERS from" : "equals");
			}
			printf("\n");
			fflush(stdout);
			close(r.img);
			if (r.side >= 0)
				close(r.side);
			if (r.index >= 0)
				close(r.index);
			free(r.saved);
			free(r.delta_off);
		}
		printf("round %u ratios: b/a %.2f  c/a %.2f  d/a %.2f  e/a %.2f\n", rd + 1,
		       rate[COPYOUT][rd] / rate[PLAIN][rd], rate[SWAPNEW][rd] / rate[PLAIN][rd],
		       rate[SWAPOLD][rd] / rate[PLAIN][rd], rate[SWAPRA][rd] / rate[PLAIN][rd]);
		fflush(stdout);
	}
	for (int w = 0; w < WAYS; w++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/image.%c", bdir, "abcde"[w]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/side.%c", bdir, "abcde"[w]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/index.%c", bdir, "abcde"[w]);
		unlink(p);
	}
	free(data);
	free(tmp);
	free(offs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "probe")) {
		snprintf(pdir, sizeof(pdir), "%s", argv[2]);
		return probe();
	}
	if (argc >= 3 && !strcmp(argv[1], "bench")) {
		snprintf(bdir, sizeof(bdir), "%s", argv[2]);
		return bench(argc > 3 ? strtoull(argv[3], NULL, 0) : 1024,
			     argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 1024,
			     argc > 5 ? (unsigned)strtoul(argv[5], NULL, 0) : 3);
	}
	fprintf(stderr, "usage: ext4_swap probe DIR | bench DIR [MIB [WRITES [ROUNDS]]]\n");
	return 2;
}
