// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket's file: parent directories, a stale socket left by a
 * crashed daemon (replaced) versus a live daemon (refused), bind and mode.
 */
#include "control_socket.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define PROBE_TIMEOUT_S 2

static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
			return -e;
		}
		*p = saved;
		if (!saved)
			return 0;
	}
}

/* Replace a stale socket, but never one a live daemon answers on, and never
 * something that is not a socket. (Two daemons starting in the same instant
 * can still race here; the service manager runs one.) */
static int check_existing(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = PROBE_TIMEOUT_S };
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	/* a live daemon with a full backlog makes connect() wait, not fail */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen, "another livemigd is running (it answers on %s)", path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		e = errno;
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(e));
		return -e;
	}
	log_info("control: removed stale socket %s", path);
	return 0;
}

int control_socket_open(const char *path, gid_t *gid, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = make_parent_dirs(path, err, errlen);
	if (rc < 0)
		return rc;
	rc = check_existing(path, &sa, err, errlen);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (chmod(path, 0660) < 0 || stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot set mode of %s: %s", path, strerror(-rc));
		goto fail_unlink;
	}
	*gid = st.st_gid;
	if (listen(fd, 16) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(-rc));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail:
	close(fd);
	return rc;
}

int control_socket_probe(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return check_existing(path, &sa, err, errlen);
}
