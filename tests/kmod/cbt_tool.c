// SPDX-License-Identifier: GPL-2.0-only
/*
 * cbt_tool: drive /dev/livemig-cbt from the QEMU tests.
 *
 * DISK is a block device node or MAJOR:MINOR (attach needs the node).
 *
 *   cbt_tool attach DISK [MIN_SHIFT]   print epoch, block_shift, nr_blocks
 *   cbt_tool info DISK                 key=value lines
 *   cbt_tool snapshot DISK             print "gen=G blocks=N"
 *   cbt_tool snapwait DISK N           wait until N blocks are marked, then
 *                                      snapshot at once (as snapshot): the
 *                                      in-flight tests' SNAPSHOT must land
 *                                      while a held write is still pending,
 *                                      so no process start may come between
 *   cbt_tool read DISK [bitmap|extents] [PAGE_BYTES]
 *                                      the frozen generation's dirty blocks,
 *                                      as block numbers on one line
 *   cbt_tool read DISK pieces [PAGE_BYTES]
 *                                      its extents narrowed to the pieces
 *                                      written, as OFFSET+LENGTH in KiB
 *   cbt_tool ack|abort DISK [GEN]      GEN defaults to the frozen one
 *   cbt_tool detach DISK
 *   cbt_tool badioctl DISK OTHERDISK   the error cases; DISK must be attached
 *                                      with no frozen generation, OTHERDISK
 *                                      a block device that is not tracked
 *   cbt_tool follow DISK REPLICA STOPFILE
 *                                      what the agent does, in a tight loop:
 *                                      SNAPSHOT, READ extents, copy them from
 *                                      DISK to the file REPLICA (O_DIRECT),
 *                                      ACK; after STOPFILE appears, two more
 *                                      rounds. Prints rounds and blocks.
 *   cbt_tool cmpblocks A B BLOCK_BYTES the number of blocks that differ
 *   cbt_tool sgwrite|sgread DISK LBA   a SCSI WRITE(10) or READ(10) of one
 *                                      512-byte block through SG_IO
 *   cbt_tool freeze TIMEOUT_MS THEN DEV...
 *                                      FREEZE the file systems on DEV...
 *                                      (a path that is not a block device
 *                                      is opened too: the error case),
 *                                      print "frozen" or "freeze: ERRNO
 *                                      failed=I", then THEN: "hold" (sleep
 *                                      until killed), "stdin" (THAW after a
 *                                      line on stdin), "again" (a second
 *                                      FREEZE, then THAW at once). THAW
 *                                      prints "thawed frozen_ns=N" or
 *                                      "thaw: ERRNO".
 *   cbt_tool thaw                      THAW on a new descriptor (ENOENT)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "livemig_cbt.h"

static int cfd = -1;

static void die(const char *what)
{
	fprintf(stderr, "cbt_tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void disk_id(const char *path, uint32_t *maj, uint32_t *min)
{
	struct stat st;

	/* MAJOR:MINOR names a disk whose node is gone */
	if (sscanf(path, "%u:%u", maj, min) == 2)
		return;
	if (stat(path, &st))
		die(path);
	*maj = major(st.st_rdev);
	*min = minor(st.st_rdev);
}

static int get_info(const char *path, struct livemig_cbt_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	in->version = LIVEMIG_CBT_ABI_VERSION;
	disk_id(path, &in->major, &in->minor);
	return ioctl(cfd, LIVEMIG_CBT_IOC_INFO, in);
}

static void gen_arg(const char *path, struct livemig_cbt_gen *g)
{
	struct livemig_cbt_info in;

	if (get_info(path, &in))
		die("INFO");
	memset(g, 0, sizeof(*g));
	g->size = sizeof(*g);
	g->version = LIVEMIG_CBT_ABI_VERSION;
	g->major = in.major;
	g->minor = in.minor;
	memcpy(g->epoch, in.epoch, sizeof(g->epoch));
	g->generation = in.frozen_generation;
}

static void print_epoch(const uint8_t *e)
{
	for (int i = 0; i < LIVEMIG_CBT_EPOCH_LEN; i++)
		printf("%02x", e[i]);
}

static int cmd_attach(const char *path, unsigned int shift)
{
	struct livemig_cbt_attach a = {
		.size = sizeof(a), .version = LIVEMIG_CBT_ABI_VERSION,
		.min_block_shift = shift,
	};

	a.fd = open(path, O_RDONLY);
	if (a.fd < 0)
		die(path);
	if (ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a))
		die("ATTACH");
	printf("epoch=");
	print_epoch(a.epoch);
	printf(" block_shift=%u nr_blocks=%llu disk_bytes=%llu gen=%llu\n",
	       a.block_shift, (unsigned long long)a.nr_blocks,
	       (unsigned long long)a.disk_bytes,
	       (unsigned long long)a.generation);
	close(a.fd);
	return 0;
}

static int cmd_info(const char *path)
{
	struct livemig_cbt_info in;

	if (get_info(path, &in))
		die("INFO");
	printf("epoch=");
	print_epoch(in.epoch);
	printf("\nflags=%u\ninvalid_reason=%u\nblock_shift=%u\n"
	       "disk_bytes=%llu\nnr_blocks=%llu\ngeneration=%llu\n"
	       "frozen_generation=%llu\ndirty_blocks=%llu\nfrozen_blocks=%llu\n",
	       in.flags, in.invalid_reason, in.block_shift,
	       (unsigned long long)in.disk_bytes,
	       (unsigned long long)in.nr_blocks,
	       (unsigned long long)in.generation,
	       (unsigned long long)in.frozen_generation,
	       (unsigned long long)in.dirty_blocks,
	       (unsigned long long)in.frozen_blocks);
	return 0;
}

static int cmd_gen(const char *path, unsigned long cmd, const char *name,
		   const char *genarg);

/* polled, not slept on: the module has no wait for "marked"; bounded for a
 * hang only (10 min) */
static int cmd_snapwait(const char *path, unsigned long long want)
{
	struct livemig_cbt_info in;

	for (long i = 0; i < 600000; i++) {
		if (get_info(path, &in))
			die("INFO");
		if (in.dirty_blocks >= want)
			return cmd_gen(path, LIVEMIG_CBT_IOC_SNAPSHOT, "SNAPSHOT", NULL);
		usleep(1000);
	}
	fprintf(stderr, "cbt_tool: %llu blocks never marked on %s\n", want, path);
	return 1;
}

static int cmd_gen(const char *path, unsigned long cmd, const char *name,
		   const char *genarg)
{
	struct livemig_cbt_gen g;

	gen_arg(path, &g);
	if (genarg)
		g.generation = strtoull(genarg, NULL, 0);
	if (ioctl(cfd, cmd, &g))
		die(name);
	if (cmd == LIVEMIG_CBT_IOC_SNAPSHOT)
		printf("gen=%llu blocks=%llu\n",
		       (unsigned long long)g.generation,
		       (unsigned long long)g.blocks);
	return 0;
}

/* OFFSET+LENGTH in KiB; returns the separator for the next one */
static const char *print_extent(const char *sep,
				const struct livemig_cbt_extent *x)
{
	printf("%s%llu+%llu", sep, (unsigned long long)(x->offset >> 10),
	       (unsigned long long)(x->length >> 10));
	return " ";
}

static int cmd_read(const char *path, const char *fmt, size_t page)
{
	struct livemig_cbt_extent cur = { 0, 0 };
	struct livemig_cbt_info in;
	struct livemig_cbt_read rd;
	int pieces = fmt && !strcmp(fmt, "pieces");
	int extents = pieces || (fmt && !strcmp(fmt, "extents"));
	unsigned char *buf;
	uint64_t start = 0, pages = 0;
	const char *sep = "";

	if (get_info(path, &in))
		die("INFO");
	buf = malloc(page);
	if (!buf)
		die("malloc");
	for (;;) {
		memset(&rd, 0, sizeof(rd));
		rd.size = sizeof(rd);
		rd.version = LIVEMIG_CBT_ABI_VERSION;
		rd.major = in.major;
		rd.minor = in.minor;
		memcpy(rd.epoch, in.epoch, sizeof(rd.epoch));
		rd.generation = in.frozen_generation;
		rd.start_block = start;
		rd.buf = (uintptr_t)buf;
		rd.buf_len = page;
		rd.format = pieces ? LIVEMIG_CBT_READ_PIECES :
			    extents ? LIVEMIG_CBT_READ_EXTENTS :
				      LIVEMIG_CBT_READ_BITMAP;
		if (ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd))
			die("READ");
		pages++;
		if (pieces) {
			struct livemig_cbt_extent *x = (void *)buf;

			/* extents that touch across pages are one, as for the agent */
			for (uint32_t i = 0; i < rd.count; i++) {
				if (cur.length &&
				    cur.offset + cur.length == x[i].offset) {
					cur.length += x[i].length;
					continue;
				}
				if (cur.length)
					sep = print_extent(sep, &cur);
				cur = x[i];
			}
		} else if (extents) {
			struct livemig_cbt_extent *x = (void *)buf;

			for (uint32_t i = 0; i < rd.count; i++) {
				uint64_t b = x[i].offset >> in.block_shift;
				uint64_t e = (x[i].offset + x[i].length - 1) >>
					     in.block_shift;

				for (; b <= e; b++, sep = " ")
					printf("%s%llu", sep,
					       (unsigned long long)b);
			}
		} else {
			for (uint64_t i = 0; i < (uint64_t)rd.count * 8; i++)
				if (buf[i / 8] & (1u << (i % 8))) {
					printf("%s%llu", sep,
					       (unsigned long long)(start + i));
					sep = " ";
				}
		}
		if (rd.out_flags & LIVEMIG_CBT_READ_END)
			break;
		if (rd.next_block <= start && !(extents && rd.count)) {
			fprintf(stderr, "cbt_tool: READ made no progress\n");
			exit(1);
		}
		start = rd.next_block;
	}
	if (cur.length)
		print_extent(sep, &cur);
	printf("\n");
	fprintf(stderr, "cbt_tool: read %llu page(s)\n",
		(unsigned long long)pages);
	free(buf);
	return 0;
}

static int failures;

static void expect(const char *name, int ret, int want)
{
	int got = ret ? errno : 0;

	if (got == want) {
		printf("ok   %-40s %s\n", name, strerror(want));
	} else {
		printf("FAIL %-40s want %s got %s\n", name, strerror(want),
		       got ? strerror(got) : "success");
		failures++;
	}
}

static int cmd_badioctl(const char *path, const char *other)
{
	struct livemig_cbt_gen g, g0;
	struct livemig_cbt_info in;
	struct livemig_cbt_read rd;
	struct livemig_cbt_attach a;
	unsigned char big[512] = { 0 }, buf[64];
	char part[64];

	gen_arg(path, &g0);

	/* wrong sizes and versions */
	g = g0;
	g.size = 8;
	expect("SNAPSHOT size too small", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), EINVAL);
	g = g0;
	g.size = 1 << 20;
	expect("SNAPSHOT size too large", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), E2BIG);
	memcpy(big, &g0, sizeof(g0));
	((struct livemig_cbt_gen *)big)->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	expect("INFO longer struct, nonzero tail",
	       ioctl(cfd, LIVEMIG_CBT_IOC_INFO, big), E2BIG);
	memset(big, 0, sizeof(big));
	in = (struct livemig_cbt_info){ .size = sizeof(big),
		.version = LIVEMIG_CBT_ABI_VERSION,
		.major = g0.major, .minor = g0.minor };
	memcpy(big, &in, sizeof(in));
	expect("INFO longer struct, zero tail (accepted)",
	       ioctl(cfd, LIVEMIG_CBT_IOC_INFO, big), 0);
	g = g0;
	g.version = 99;
	expect("SNAPSHOT unknown version", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), EPROTONOSUPPORT);

	/* bad pointers and commands */
	expect("INFO bad pointer", ioctl(cfd, LIVEMIG_CBT_IOC_INFO, (void *)16), EFAULT);
	expect("SNAPSHOT NULL pointer", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, NULL), EFAULT);
	expect("ATTACH bad pointer", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, (void *)-4096L), EFAULT);
	expect("READ bad pointer", ioctl(cfd, LIVEMIG_CBT_IOC_READ, (void *)1), EFAULT);
	expect("unknown ioctl", ioctl(cfd, _IOWR(LIVEMIG_CBT_IOC_MAGIC, 99, struct livemig_cbt_gen), &g0), ENOTTY);
	expect("foreign ioctl", ioctl(cfd, _IOWR('x', 3, struct livemig_cbt_gen), &g0), ENOTTY);

	/* unknown disk, wrong epoch */
	g = g0;
	disk_id(other, &g.major, &g.minor);
	expect("SNAPSHOT untracked disk", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), ENODEV);
	in = (struct livemig_cbt_info){ .size = sizeof(in),
		.version = LIVEMIG_CBT_ABI_VERSION, .major = g.major, .minor = g.minor };
	expect("INFO untracked disk", ioctl(cfd, LIVEMIG_CBT_IOC_INFO, &in), ENODEV);
	g = g0;
	g.epoch[0] ^= 1;
	expect("SNAPSHOT wrong epoch", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), ESTALE);

	/* generations out of order */
	memset(&rd, 0, sizeof(rd));
	rd.size = sizeof(rd);
	rd.version = LIVEMIG_CBT_ABI_VERSION;
	rd.major = g0.major;
	rd.minor = g0.minor;
	memcpy(rd.epoch, g0.epoch, sizeof(rd.epoch));
	rd.buf = (uintptr_t)buf;
	rd.buf_len = sizeof(buf);
	expect("READ without SNAPSHOT", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), ENOENT);
	g = g0;
	expect("ACK without SNAPSHOT", ioctl(cfd, LIVEMIG_CBT_IOC_ACK, &g), ENOENT);
	expect("ABORT without SNAPSHOT", ioctl(cfd, LIVEMIG_CBT_IOC_ABORT, &g), ENOENT);
	expect("SNAPSHOT", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g), 0);
	expect("second SNAPSHOT before ACK", ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g0), EBUSY);
	rd.generation = g.generation + 1;
	expect("READ wrong generation", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), ESTALE);
	rd.generation = g.generation;
	rd.start_block = 3;
	expect("READ bitmap unaligned start", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), EINVAL);
	rd.start_block = 0;
	rd.format = 7;
	expect("READ unknown format", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), EINVAL);
	rd.format = LIVEMIG_CBT_READ_BITMAP;
	rd.buf = 16;
	expect("READ bad buffer", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), EFAULT);
	rd.buf = (uintptr_t)buf;
	rd.format = LIVEMIG_CBT_READ_EXTENTS;
	rd.buf_len = sizeof(struct livemig_cbt_extent) - 1;
	expect("READ extents buffer under one extent", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), EINVAL);
	rd.format = LIVEMIG_CBT_READ_BITMAP;
	rd.buf = (uintptr_t)buf;
	rd.buf_len = sizeof(buf);
	expect("READ good", ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd), 0);
	g0.generation = g.generation + 5;
	expect("ACK wrong generation", ioctl(cfd, LIVEMIG_CBT_IOC_ACK, &g0), ESTALE);
	expect("ABORT wrong generation", ioctl(cfd, LIVEMIG_CBT_IOC_ABORT, &g0), ESTALE);
	expect("ABORT right generation", ioctl(cfd, LIVEMIG_CBT_IOC_ABORT, &g), 0);
	expect("ACK after ABORT", ioctl(cfd, LIVEMIG_CBT_IOC_ACK, &g), ENOENT);

	/* attach errors */
	a = (struct livemig_cbt_attach){ .size = sizeof(a),
		.version = LIVEMIG_CBT_ABI_VERSION };
	a.fd = open(path, O_RDONLY);
	expect("double ATTACH", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EEXIST);
	a.flags = 1;
	expect("ATTACH unknown flags", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EINVAL);
	a.flags = 0;
	a.min_block_shift = 31;
	expect("ATTACH min_block_shift 31", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EINVAL);
	a.min_block_shift = 0;
	close(a.fd);
	a.fd = 12345;
	expect("ATTACH bad fd", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EBADF);
	a.fd = open("/dev/null", O_RDONLY);
	expect("ATTACH char device", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), ENOTBLK);
	close(a.fd);
	a.fd = open(path, O_PATH);
	expect("ATTACH O_PATH fd", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EBADF);
	close(a.fd);
	snprintf(part, sizeof(part), "%s1", path);
	a.fd = open(part, O_RDONLY);
	if (a.fd >= 0) {
		expect("ATTACH partition", ioctl(cfd, LIVEMIG_CBT_IOC_ATTACH, &a), EINVAL);
		close(a.fd);
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}

static void gen_with(const struct livemig_cbt_info *in,
		     struct livemig_cbt_gen *g, uint64_t gen)
{
	memset(g, 0, sizeof(*g));
	g->size = sizeof(*g);
	g->version = LIVEMIG_CBT_ABI_VERSION;
	g->major = in->major;
	g->minor = in->minor;
	memcpy(g->epoch, in->epoch, sizeof(g->epoch));
	g->generation = gen;
}

/* Copy one frozen generation from @dfd to @rfd; returns blocks copied. */
static uint64_t copy_generation(const struct livemig_cbt_info *in,
				uint64_t gen, int dfd, int rfd, void *data)
{
	struct livemig_cbt_extent x[256];
	struct livemig_cbt_read rd;
	uint64_t start = 0, blocks = 0;
	const size_t chunk = 1 << 20;

	for (;;) {
		memset(&rd, 0, sizeof(rd));
		rd.size = sizeof(rd);
		rd.version = LIVEMIG_CBT_ABI_VERSION;
		rd.major = in->major;
		rd.minor = in->minor;
		memcpy(rd.epoch, in->epoch, sizeof(rd.epoch));
		rd.generation = gen;
		rd.start_block = start;
		rd.buf = (uintptr_t)x;
		rd.buf_len = sizeof(x);
		rd.format = LIVEMIG_CBT_READ_EXTENTS;
		if (ioctl(cfd, LIVEMIG_CBT_IOC_READ, &rd))
			die("READ");
		for (uint32_t i = 0; i < rd.count; i++) {
			uint64_t off = x[i].offset, end = off + x[i].length;

			blocks += x[i].length >> in->block_shift;
			while (off < end) {
				size_t n = end - off < chunk ? end - off : chunk;
				ssize_t r = pread(dfd, data, n, off);

				if (r != (ssize_t)n)
					die("pread disk");
				if (pwrite(rfd, data, n, off) != (ssize_t)n)
					die("pwrite replica");
				off += n;
			}
		}
		if (rd.out_flags & LIVEMIG_CBT_READ_END)
			break;
		start = rd.next_block;
	}
	return blocks;
}

static int cmd_follow(const char *path, const char *replica,
		      const char *stopfile)
{
	struct livemig_cbt_info in;
	struct livemig_cbt_gen g;
	uint64_t rounds = 0, blocks = 0, busy = 0;
	int dfd, rfd, after_stop = 0;
	void *data;

	if (get_info(path, &in))
		die("INFO");
	dfd = open(path, O_RDONLY | O_DIRECT);
	if (dfd < 0)
		die(path);
	rfd = open(replica, O_WRONLY);
	if (rfd < 0)
		die(replica);
	if (posix_memalign(&data, 4096, 1 << 20))
		die("posix_memalign");
	while (after_stop < 2) {
		if (access(stopfile, F_OK) == 0)
			after_stop++;
		gen_with(&in, &g, 0);
		if (ioctl(cfd, LIVEMIG_CBT_IOC_SNAPSHOT, &g))
			die("SNAPSHOT");
		rounds++;
		if (g.blocks)
			busy++;
		blocks += copy_generation(&in, g.generation, dfd, rfd, data);
		if (ioctl(cfd, LIVEMIG_CBT_IOC_ACK, &g))
			die("ACK");
	}
	if (get_info(path, &in))
		die("INFO");
	printf("rounds=%llu busy_rounds=%llu blocks=%llu invalid_reason=%u\n",
	       (unsigned long long)rounds, (unsigned long long)busy,
	       (unsigned long long)blocks, in.invalid_reason);
	free(data);
	close(dfd);
	close(rfd);
	return in.invalid_reason ? 1 : 0;
}

static int cmd_cmpblocks(const char *a, const char *b, const char *bsarg)
{
	size_t bs = strtoul(bsarg, NULL, 0);
	char *x = malloc(bs), *y = malloc(bs);
	uint64_t differ = 0, n = 0;
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);

	if (!x || !y || !bs)
		die("cmpblocks");
	if (fa < 0)
		die(a);
	if (fb < 0)
		die(b);
	for (;; n++) {
		ssize_t ra = read(fa, x, bs), rb = read(fb, y, bs);

		if (ra < 0 || rb < 0)
			die("read");
		if (ra == 0 && rb == 0)
			break;
		if (ra != rb || memcmp(x, y, ra)) {
			if (differ < 10)
				fprintf(stderr, "cbt_tool: block %llu differs\n",
					(unsigned long long)n);
			differ++;
		}
	}
	printf("%llu\n", (unsigned long long)differ);
	free(x);
	free(y);
	return 0;
}

static int cmd_sg(const char *path, int write, const char *lbaarg)
{
	unsigned int lba = strtoul(lbaarg, NULL, 0);
	unsigned char cdb[10] = { write ? 0x2a : 0x28, 0, lba >> 24, lba >> 16,
				  lba >> 8, lba, 0, 0, 1, 0 };
	unsigned char data[512], sense[32];
	struct sg_io_hdr h;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		die(path);
	memset(data, 0xa5, sizeof(data));
	memset(&h, 0, sizeof(h));
	h.interface_id = 'S';
	h.dxfer_direction = write ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV;
	h.cmd_len = sizeof(cdb);
	h.cmdp = cdb;
	h.dxfer_len = sizeof(data);
	h.dxferp = data;
	h.mx_sb_len = sizeof(sense);
	h.sbp = sense;
	h.timeout = 20000;
	if (ioctl(fd, SG_IO, &h))
		die("SG_IO");
	if (h.status || h.host_status || h.driver_status) {
		fprintf(stderr, "cbt_tool: SG_IO status %u host %u driver %u\n",
			h.status, h.host_status, h.driver_status);
		return 1;
	}
	close(fd);
	return 0;
}

static const char *errname(int e)
{
	switch (e) {
	case EBUSY: return "EBUSY";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENOTBLK: return "ENOTBLK";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return strerror(e);
	}
}

static int do_thaw(void)
{
	struct livemig_cbt_thaw th = {
		.size = sizeof(th), .version = LIVEMIG_CBT_ABI_VERSION,
	};

	if (ioctl(cfd, LIVEMIG_CBT_IOC_THAW, &th)) {
		printf("thaw: %s\n", errname(errno));
		return 1;
	}
	printf("thawed frozen_ns=%llu\n", (unsigned long long)th.frozen_ns);
	return 0;
}

static int do_freeze(struct livemig_cbt_freeze *fz)
{
	if (ioctl(cfd, LIVEMIG_CBT_IOC_FREEZE, fz)) {
		printf("freeze: %s failed=%u\n", errname(errno), fz->failed);
		return 1;
	}
	return 0;
}

static int cmd_freeze(const char *timeout, const char *then, int n, char **devs)
{
	struct livemig_cbt_freeze fz = {
		.size = sizeof(fz), .version = LIVEMIG_CBT_ABI_VERSION,
		.timeout_ms = strtoul(timeout, NULL, 0), .nr_fds = n,
	};
	int32_t fds[LIVEMIG_CBT_FREEZE_MAX_FDS + 1];
	char line[64];

	if (n < 1 || n > LIVEMIG_CBT_FREEZE_MAX_FDS)
		return 2;
	for (int i = 0; i < n; i++) {
		fds[i] = open(devs[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			die(devs[i]);
	}
	fz.fds = (uintptr_t)fds;
	if (do_freeze(&fz))
		return 1;
	printf("frozen\n");
	fflush(stdout);
	if (!strcmp(then, "hold")) {
		for (;;)
			pause();
	} else if (!strcmp(then, "stdin")) {
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	} else if (!strcmp(then, "again")) {
		do_freeze(&fz);
	}
	return do_thaw();
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "", *disk = argc > 2 ? argv[2] : NULL;

	if (!disk && strcmp(cmd, "thaw")) {
		fprintf(stderr, "usage: cbt_tool attach|info|snapshot|snapwait|read|ack|abort|detach|badioctl|follow|cmpblocks|sgwrite|sgread|freeze|thaw DISK ...\n");
		return 2;
	}
	cfd = open(LIVEMIG_CBT_DEVICE, O_RDWR | O_CLOEXEC);
	if (cfd < 0 && strcmp(cmd, "cmpblocks") && strncmp(cmd, "sg", 2))
		die(LIVEMIG_CBT_DEVICE);
	if (!strcmp(cmd, "freeze"))
		return argc > 4 ? cmd_freeze(argv[2], argv[3], argc - 4, argv + 4) : 2;
	if (!strcmp(cmd, "thaw"))
		return do_thaw();
	if (!strcmp(cmd, "follow"))
		return argc > 4 ? cmd_follow(disk, argv[3], argv[4]) : 2;
	if (!strcmp(cmd, "attach"))
		return cmd_attach(disk, argc > 3 ? atoi(argv[3]) : 0);
	if (!strcmp(cmd, "info"))
		return cmd_info(disk);
	if (!strcmp(cmd, "snapshot"))
		return cmd_gen(disk, LIVEMIG_CBT_IOC_SNAPSHOT, "SNAPSHOT", NULL);
	if (!strcmp(cmd, "snapwait"))
		return argc > 3 ? cmd_snapwait(disk, strtoull(argv[3], NULL, 0)) : 2;
	if (!strcmp(cmd, "ack"))
		return cmd_gen(disk, LIVEMIG_CBT_IOC_ACK, "ACK", argc > 3 ? argv[3] : NULL);
	if (!strcmp(cmd, "abort"))
		return cmd_gen(disk, LIVEMIG_CBT_IOC_ABORT, "ABORT", argc > 3 ? argv[3] : NULL);
	if (!strcmp(cmd, "detach"))
		return cmd_gen(disk, LIVEMIG_CBT_IOC_DETACH, "DETACH", NULL);
	if (!strcmp(cmd, "read"))
		return cmd_read(disk, argc > 3 ? argv[3] : "bitmap",
				argc > 4 ? strtoul(argv[4], NULL, 0) : 4096);
	if (!strcmp(cmd, "cmpblocks"))
		return argc > 4 ? cmd_cmpblocks(disk, argv[3], argv[4]) : 2;
	if (!strcmp(cmd, "sgwrite") || !strcmp(cmd, "sgread"))
		return argc > 3 ? cmd_sg(disk, cmd[2] == 'w', argv[3]) : 2;
	if (!strcmp(cmd, "badioctl"))
		return cmd_badioctl(disk, argc > 3 ? argv[3] : "/dev/vdb");
	fprintf(stderr, "cbt_tool: unknown command %s\n", cmd);
	return 2;
}
