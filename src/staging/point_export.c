// SPDX-License-Identifier: GPL-2.0-or-later
#include "point_export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "points.h"
#include "util.h"

#define COPY_LEN (4u << 20)

static int fsync_parent(const char *path)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	return points_fsync_dir(dirname(copy));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The disk as of the point into fd (sized, sparse where it reads as zeros). */
static int copy_out(struct point_reader *r, int fd, int progress)
{
	uint8_t *buf = malloc(COPY_LEN);
	uint64_t last = now_mono_ns();
	char a[32], b[32];
	int rc = buf ? 0 : -ENOMEM;

	if (!rc && ftruncate(fd, (off_t)r->size))
		rc = -errno;
	for (uint64_t off = 0; !rc && off < r->size; off += COPY_LEN) {
		size_t n = r->size - off < COPY_LEN ? (size_t)(r->size - off) : COPY_LEN;

		rc = point_reader_read(r, buf, n, off);
		for (size_t at = 0; !rc && at < n; at += DELTA_CHUNK) {
			size_t k = n - at < DELTA_CHUNK ? n - at : DELTA_CHUNK;

			if (!all_zero(buf + at, k))
				rc = pwrite_full(fd, buf + at, k, off + at);
		}
		if (progress && now_mono_ns() - last > 1000000000u) {
			last = now_mono_ns();
			fprintf(stderr, "\r%3u%% (%s of %s)", (unsigned)((off + n) * 100 / r->size),
				fmt_bytes(off + n, a, sizeof(a)), fmt_bytes(r->size, b, sizeof(b)));
		}
	}
	if (progress)
		fprintf(stderr, "\r%3u%% (%s)          \n", 100u, fmt_bytes(r->size, b, sizeof(b)));
	if (!rc && fsync(fd))
		rc = -errno;
	free(buf);
	return rc;
}

/* A raw copy of the disk at path (created; removed on failure). */
static int write_raw(struct point_reader *r, const char *path, int progress)
{
	char clone[PATH_MAX];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0, src;

	if (fd < 0)
		return -errno;
	/* on the same reflink file system the copy costs nothing either */
	if (r->meta.mode == POINT_MODE_REFLINK && point_reader_clone_path(r, clone, sizeof(clone)) == 0 &&
	    (src = open(clone, O_RDONLY | O_CLOEXEC)) >= 0) {
		int cloned = ioctl(fd, FICLONE, src) == 0;

		close(src);
		if (cloned) {
			rc = fsync(fd) ? -errno : 0;
			close(fd);
			if (rc)
				unlink(path);
			return rc;
		}
	}
	rc = copy_out(r, fd, progress);
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

/* Run argv, wait. 0, or -EIO with what it said in err. */
static int run(char *const argv[], char *err, size_t errlen)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errlen, "%s is not installed (install the %s package)", argv[0],
			 !strcmp(argv[0], "nbdkit") ? "nbdkit" : "qemu-utils");
	else
		snprintf(err, errlen, "%s failed (exit status %d)", argv[0],
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -EIO;
}

int point_export(struct point_reader *r, enum export_format fmt, const char *output, int progress,
		 char *err, size_t errlen)
{
	char part[PATH_MAX], raw[PATH_MAX];
	int rc = 0, fd;

	if (snprintf(part, sizeof(part), "%s.part", output) >= (int)sizeof(part) ||
	    snprintf(raw, sizeof(raw), "%s.raw.part", output) >= (int)sizeof(raw)) {
		snprintf(err, errlen, "output path too long");
		return -ENAMETOOLONG;
	}
	if (fmt == EXPORT_RAW) {
		rc = write_raw(r, part, progress);
		if (rc)
			snprintf(err, errlen, "cannot write %s: %s", part, strerror(-rc));
	} else {
		char src[PATH_MAX];
		char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", src, part,
				 NULL };

		/* a clone is read in place; a copy-on-write point is first made raw */
		if (r->meta.mode == POINT_MODE_REFLINK) {
			rc = point_reader_clone_path(r, src, sizeof(src));
		} else {
			rc = write_raw(r, raw, progress);
			snprintf(src, sizeof(src), "%s", raw);
			if (rc)
				snprintf(err, errlen, "cannot write %s: %s", raw, strerror(-rc));
		}
		if (!rc) {
			unlink(part);
			rc = run(argv, err, errlen);
		}
		if (r->meta.mode != POINT_MODE_REFLINK)
			unlink(raw);
		/* qemu-img leaves its output in the page cache */
		if (!rc) {
			fd = open(part, O_RDONLY | O_CLOEXEC);
			rc = fd < 0 || fsync(fd) ? -errno : 0;
			if (fd >= 0)
				close(fd);
			if (rc)
				snprintf(err, errlen, "cannot sync %s: %s", part, strerror(-rc));
		}
	}
	/* the output appears whole, or not at all */
	if (!rc && rename(part, output)) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", part, output, strerror(-rc));
	}
	if (!rc)
		fsync_parent(output);
	if (rc)
		unlink(part);
	return rc;
}

/* nbdkit creates its socket once it is ready to serve */
static int socket_ready(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int point_serve(struct point_reader *r, const char *socket_path, int progress, char *err,
		size_t errlen)
{
	char file[PATH_MAX];
	int materialized = 0, rc = 0, status = 0, announced = 0;
	sigset_t sigs, old;
	pid_t pid;

	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "--socket %s is too long for a Unix socket", socket_path);
		return -ENAMETOOLONG;
	}
	if (r->meta.mode == POINT_MODE_REFLINK) {
		rc = point_reader_clone_path(r, file, sizeof(file));
	} else {
		/* nbdkit serves a file; the point's bytes are made one, in the
		 * store, removed when serving ends (or by the next start after
		 * a crash) */
		if (snprintf(file, sizeof(file), "%s/.serve-%d-%" PRIu64 "-%s.raw", r->dir,
			     (int)getpid(), r->meta.id, r->disk) >= (int)sizeof(file))
			rc = -ENAMETOOLONG;
		else
			rc = write_raw(r, file, progress);
		materialized = !rc;
	}
	if (rc) {
		snprintf(err, errlen, "cannot prepare point %" PRIu64 " disk %s for serving: %s",
			 r->meta.id, r->disk, strerror(-rc));
		return rc;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	unlink(socket_path);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "nbdkit", "--foreground", "--readonly", "--exit-with-parent",
				 "--unix", (char *)socket_path, "file", file, NULL };
		char fileopt[PATH_MAX + 8];

		snprintf(fileopt, sizeof(fileopt), "file=%s", file);
		argv[7] = fileopt;
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "livemig-staging: cannot run nbdkit: %s (install the nbdkit "
			"package)\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot start nbdkit: %s", strerror(-rc));
		goto out;
	}
	for (;;) {
		struct timespec tick = { 0, 100000000 };
		siginfo_t si;
		int sig = sigtimedwait(&sigs, &si, &tick);

		if (sig == SIGINT || sig == SIGTERM) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
			break;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				snprintf(err, errlen, "nbdkit ended (%s %d)",
					 WIFEXITED(status) ? "exit status" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				rc = -EIO;
			}
			break;
		}
		if (!announced && socket_ready(socket_path)) {
			announced = 1;
			printf("serving point %" PRIu64 " disk %s read-only on nbd+unix:///?socket=%s\n",
			       r->meta.id, r->disk, socket_path);
			fflush(stdout);
		}
	}
out:
	unlink(socket_path);
	if (materialized)
		unlink(file);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
