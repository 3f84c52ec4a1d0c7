// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lag benchmark's source workload (tests/bench/lag.sh): random writes
 * of IO bytes at a steady RATE to a block device, with O_DIRECT so that each
 * write is on the device when pwrite returns. Every 4 KiB written carries a
 * stamp (magic, run, sequence number, time, offset) and the rest of it is
 * pseudo-random, so compression gains nothing and the replica shows which
 * write it holds. Each write is also recorded, once it completed, in LOG as
 * one fixed-size record (struct lag_rec below), appended in batches that
 * the observer reads while the writer runs.
 *
 *   lag_writer DEV RATE IO RUN SEED LOG      write until SIGTERM/SIGINT
 *   lag_writer --count N DEV IO RUN SEED LOG write N distinct random
 *                                            slots of IO bytes, then exit
 *
 * RATE in bytes/s (0 = as fast as possible). The schedule is absolute (the
 * i-th write is due at start + i * IO / RATE): a writer that fell behind
 * catches up without sleeping, and the rate it really achieved is printed
 * at the end ("wrote N writes, B bytes in S s: R MB/s, behind by at most
 * L s").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define STAMP_MAGIC 0x504d5453474c4d4cull /* "LMLGSTMP" little-endian */
#define PIECE       4096u

struct lag_stamp { /* at the start of every 4 KiB written */
	uint64_t magic;
	uint32_t run;
	uint32_t piece; /* index of this 4 KiB inside the write */
	uint64_t seq;
	uint64_t t_begin_ns; /* CLOCK_REALTIME just before pwrite */
	uint64_t offset;
};

struct lag_rec { /* one per completed write, in LOG */
	uint64_t seq;
	uint64_t offset;
	uint64_t t_done_ns; /* CLOCK_REALTIME once pwrite returned */
	uint32_t len;
	uint32_t run;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int flush_log(int fd, struct lag_rec *recs, size_t *n)
{
	size_t len = *n * sizeof(*recs), done = 0;

	while (done < len) {
		ssize_t w = write(fd, (char *)recs + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	*n = 0;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t rate = 0, io, run, seed, count = 0, size, slots, seq = 0, bytes = 0, behind = 0;
	struct lag_rec recs[256];
	size_t nrec = 0;
	uint8_t *buf, *used = NULL;
	int dev, log, rc = 1, a;
	uint64_t t0, last_flush;

	const char *devpath, *logpath;

	if (argc == 8 && !strcmp(argv[1], "--count")) {
		/* --count N DEV IO RUN SEED LOG */
		if (parse_u64(argv[2], &count) || !count)
			goto usage;
		a = 3;
	} else if (argc == 7) {
		/* DEV RATE IO RUN SEED LOG */
		if (parse_u64(argv[2], &rate))
			goto usage;
		a = 2;
	} else {
		goto usage;
	}
	devpath = argv[a == 3 ? 3 : 1];
	if (parse_u64(argv[a + 1], &io) || parse_u64(argv[a + 2], &run) ||
	    parse_u64(argv[a + 3], &seed) || !io || io % PIECE || io > (64u << 20))
		goto usage;
	logpath = argv[a + 4];
	dev = open(devpath, O_RDWR | O_DIRECT);
	if (dev < 0) {
		fprintf(stderr, "lag_writer: %s: %s\n", devpath, strerror(errno));
		return 1;
	}
	log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log < 0) {
		fprintf(stderr, "lag_writer: %s: %s\n", logpath, strerror(errno));
		return 1;
	}
	if (ioctl(dev, BLKGETSIZE64, &size)) {
		struct stat st;

		if (fstat(dev, &st))
			return 1;
		size = (uint64_t)st.st_size;
	}
	slots = size / io;
	if (!slots || (count && count > slots)) {
		fprintf(stderr, "lag_writer: %s holds %" PRIu64 " slots of %" PRIu64 " bytes\n",
			devpath, slots, io);
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, io))
		return 1;
	if (count && !(used = calloc((size_t)(slots + 7) / 8, 1)))
		return 1;
	seed = seed * 0x9e3779b97f4a7c15ull + 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	t0 = now_ns(CLOCK_MONOTONIC);
	last_flush = t0;
	while (!stop && (!count || seq < count)) {
		uint64_t slot = xorshift(&seed) % slots, off, t_begin, t_done;

		if (used) {
			while (used[slot / 8] & (1u << (slot % 8)))
				slot = (slot + 1) % slots;
			used[slot / 8] |= (uint8_t)(1u << (slot % 8));
		}
		off = slot * io;
		if (rate) {
			uint64_t due = t0 + (uint64_t)((double)bytes * 1e9 / (double)rate);
			uint64_t m = now_ns(CLOCK_MONOTONIC);

			if (due > m) {
				struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u),
						       .tv_nsec = (long)(due % 1000000000u) };

				if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
					continue;
			} else if (m - due > behind) {
				behind = m - due;
			}
		}
		t_begin = now_ns(CLOCK_REALTIME);
		for (uint64_t p = 0; p < io; p += PIECE) {
			struct lag_stamp st = { STAMP_MAGIC, (uint32_t)run, (uint32_t)(p / PIECE), seq,
						t_begin, off + p };
			uint64_t *w = (uint64_t *)(buf + p);

			for (size_t k = sizeof(st) / 8; k < PIECE / 8; k++)
				w[k] = xorshift(&seed);
			memcpy(buf + p, &st, sizeof(st));
		}
		if (pwrite(dev, buf, io, (off_t)off) != (ssize_t)io) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "lag_writer: write at %" PRIu64 ": %s\n", off, strerror(errno));
			goto out;
		}
		t_done = now_ns(CLOCK_REALTIME);
		recs[nrec++] = (struct lag_rec){ seq, off, t_done, (uint32_t)io, (uint32_t)run };
		seq++;
		bytes += io;
		/* the observer follows the log: hand it over at least every 50 ms */
		if (nrec == sizeof(recs) / sizeof(recs[0]) ||
		    now_ns(CLOCK_MONOTONIC) - last_flush > 50000000u) {
			if (flush_log(log, recs, &nrec))
				goto out;
			last_flush = now_ns(CLOCK_MONOTONIC);
		}
	}
	rc = 0;
out:
	if (flush_log(log, recs, &nrec))
		rc = 1;
	if (close(log))
		rc = 1;
	{
		double secs = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;

		printf("wrote %" PRIu64 " writes, %" PRIu64 " bytes in %.2f s: %.2f MB/s, behind by at most %.3f s\n",
		       seq, bytes, secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0, (double)behind / 1e9);
	}
	free(buf);
	free(used);
	close(dev);
	return rc;
usage:
	fprintf(stderr, "usage: lag_writer DEV RATE IO RUN SEED LOG\n"
			"       lag_writer --count N DEV IO RUN SEED LOG\n");
	return 2;
}
