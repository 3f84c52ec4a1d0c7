// SPDX-License-Identifier: GPL-2.0-or-later
#include "control_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define CONNECT_TIMEOUT_S 5
/* A status document is a few hundred bytes per disk; this is far beyond it
 * and still keeps a confused peer from eating memory. */
#define REPLY_MAX (4u << 20)

static int connect_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* a daemon whose backlog is full makes connect() wait: bound that */
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		snprintf(err, errlen, "cannot reach livemigd at %s: %s", path, strerror(e));
		return -e;
	}
	return fd;
}

static int send_request(int fd, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	size_t len, off = 0;
	int rc = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: sent by length */
	while (off <= len) {
		ssize_t n = send(fd, text + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(text);
	return rc;
}

/* Read up to the first newline into a malloc'd buffer. */
static int read_line(int fd, int timeout_ms, char **out, size_t *out_len)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int rc;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		uint64_t now = now_mono_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = poll(&p, 1, (int)((deadline - now + 999999) / 1000000));
		if (rc < 0) {
			/* the caller may have a handler (status --watch on Ctrl-C) */
			rc = -errno;
			break;
		}
		if (rc == 0)
			continue; /* the deadline check above ends it */
		if (len + 1 >= cap) {
			char *bigger;

			if (cap >= REPLY_MAX) {
				rc = -EPROTO;
				break;
			}
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR) {
			rc = -EINTR;
			break;
		}
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0) {
			/* EOF: the line is whatever arrived, or there was no reply */
			rc = len ? 0 : -ECONNRESET;
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			len = (size_t)(nl - buf);
			rc = 0;
			break;
		}
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

int control_call(const char *path, json_t *req, int timeout_ms, json_t **reply, char *err,
		 size_t errlen)
{
	json_error_t jerr;
	char *line = NULL;
	size_t len = 0;
	int fd, rc;

	fd = connect_socket(path, err, errlen);
	if (fd < 0)
		return fd;
	/* The daemon may answer and close before reading everything (it refused
	 * us); its reply is still there to read, so a send error is not final. */
	rc = send_request(fd, req);
	if (rc == -ENOMEM) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = read_line(fd, timeout_ms, &line, &len);
	close(fd);
	switch (rc) {
	case 0:
		break;
	case -ETIMEDOUT:
		snprintf(err, errlen, "livemigd at %s did not answer within %d s", path,
			 (timeout_ms + 999) / 1000);
		return rc;
	case -ECONNRESET:
		snprintf(err, errlen, "livemigd at %s closed the connection without answering",
			 path);
		return rc;
	case -EPROTO:
		snprintf(err, errlen, "livemigd at %s sent a reply larger than %u bytes", path,
			 REPLY_MAX);
		return rc;
	default:
		snprintf(err, errlen, "reading the reply from livemigd at %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	*reply = json_loadb(line, len, 0, &jerr);
	free(line);
	if (!*reply || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		snprintf(err, errlen, "livemigd at %s sent a malformed reply", path);
		return -EPROTO;
	}
	return 0;
}

int control_run(const struct cli_global *g, json_t *req, int timeout_ms, json_t **reply)
{
	char err[512];
	const char *msg;
	json_t *r = NULL;
	int rc;

	if (!req) {
		fprintf(stderr, "%s: out of memory\n", g->who);
		return CLI_DAEMON_ERROR;
	}
	rc = control_call(g->socket, req, timeout_ms, &r, err, sizeof(err));
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		fprintf(stderr, "%s: %s (is it running? try: systemctl status livemigd)\n", g->who,
			err);
		return CLI_UNREACHABLE;
	}
	if (rc == -EACCES || rc == -EPERM) {
		fprintf(stderr, "%s: %s (run as root or as a member of the socket's group)\n",
			g->who, err);
		return CLI_UNREACHABLE;
	}
	if (rc == -EINTR)
		return CLI_UNREACHABLE; /* the caller knows why and says so */
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", g->who, err);
		return CLI_UNREACHABLE;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		msg = json_string_value(json_object_get(r, "error"));
		fprintf(stderr, "%s: livemigd: %s\n", g->who, msg ? msg : "request failed");
		json_decref(r);
		return CLI_DAEMON_ERROR;
	}
	*reply = r;
	return CLI_OK;
}
