// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket server (protocol in docs/control.md). One accept thread;
 * each connection gets its own detached thread because a sync may block for
 * minutes and must not hold up `livemig status` meanwhile.
 *
 * All state lives in one static struct guarded by ctl.mu. It is never freed,
 * so a thread that outlives control_stop() (a sync still inside the engine)
 * can always finish its bookkeeping safely.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_socket.h"
#include "log.h"
#include "util.h"

#define REQ_MAX              4096   /* request line, newline excluded */
#define REQ_TIMEOUT_MS       10000  /* a client has this long to send its line */
#define REPLY_TIMEOUT_S      10     /* and this long to take the reply */
#define MAX_CLIENTS          64
#define SYNC_DEFAULT_S       600.0
#define SYNC_MAX_S           86400.0
#define STOP_GRACE_MS        5000
#define ERR_MAX              256

struct client {
	int fd;
	struct ucred cred;
	struct client *next;
};

/* One sync handler call. The client waits for it with a deadline; if the
 * deadline passes first the call keeps running and whoever drops the last
 * reference frees it. */
struct sync_call {
	int refs;
	int done;
	int rc;
	int point;              /* `point`, not `sync` */
	uint64_t point_id;
	uint64_t consistent_ns;
	char err[ERR_MAX];
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t changed; /* CLOCK_MONOTONIC; a client, sync or the stop state changed */
	int running;
	int stopping;
	int listen_fd;
	int wake[2]; /* pipe: written by control_stop() to wake the accept thread */
	pthread_t acceptor;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t gid; /* the socket's group when it was created */
	struct control_handlers h;
	struct client *clients; /* connections being served, for shutdown() at stop */
	int nclients;
	int nsyncs; /* sync handler calls in progress */
} ctl = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.listen_fd = -1,
	.wake = { -1, -1 },
};

static pthread_once_t ctl_once = PTHREAD_ONCE_INIT;

static void ctl_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&ctl.changed, &a);
	pthread_condattr_destroy(&a);
}

static struct timespec deadline_after_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* ---- replies ---- */

static json_t *reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *reply_error(const char *fmt, ...)
{
	char msg[512];
	json_t *reply;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	if (!reply) {
		text_to_ascii(msg);
		reply = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	}
	return reply;
}

/* A handler's failure: its message, or the errno text if it left none. */
static json_t *reply_handler_error(const char *what, int rc, const char *err)
{
	return reply_error("%s failed: %s", what, err[0] ? err : strerror(rc < 0 ? -rc : EIO));
}

static void send_reply(int fd, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len, off = 0;

	if (!text)
		return;
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: the buffer is sent by length */
	while (off <= len) {
		/* MSG_NOSIGNAL: a client that hung up must not kill the daemon */
		ssize_t n = send(fd, text + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_debug("control: reply not delivered: %s", strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	free(text);
}

/* ---- commands ---- */

static json_t *cmd_status(json_t *req)
{
	json_t *doc;

	(void)req;
	if (!ctl.h.status)
		return reply_error("status is not supported");
	doc = ctl.h.status(ctl.h.ctx);
	if (!doc)
		return reply_error("status is not available");
	return json_pack("{s:b,s:o}", "ok", 1, "status", doc);
}

static json_t *cmd_pause_resume(int pause)
{
	int (*fn)(void *, char *, size_t) = pause ? ctl.h.pause : ctl.h.resume;
	char err[ERR_MAX] = "";
	int rc;

	if (!fn)
		return reply_error("%s is not supported", pause ? "pause" : "resume");
	rc = fn(ctl.h.ctx, err, sizeof(err));
	if (rc < 0)
		return reply_handler_error(pause ? "pause" : "resume", rc, err);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_pause(json_t *req)
{
	(void)req;
	return cmd_pause_resume(1);
}

static json_t *cmd_resume(json_t *req)
{
	(void)req;
	return cmd_pause_resume(0);
}

static void sync_call_put(struct sync_call *s)
{
	/* caller holds ctl.mu */
	if (--s->refs == 0)
		free(s);
}

static void *sync_main(void *arg)
{
	struct sync_call *s = arg;
	char err[ERR_MAX] = "";
	uint64_t ns = 0, id = 0;
	int rc = s->point ? ctl.h.point(ctl.h.ctx, &id, &ns, err, sizeof(err)) :
			    ctl.h.sync(ctl.h.ctx, &ns, err, sizeof(err));

	pthread_mutex_lock(&ctl.mu);
	s->rc = rc;
	s->point_id = id;
	s->consistent_ns = ns;
	memcpy(s->err, err, sizeof(err));
	s->done = 1;
	ctl.nsyncs--;
	sync_call_put(s);
	pthread_cond_broadcast(&ctl.changed);
	pthread_mutex_unlock(&ctl.mu);
	return NULL;
}

/* The handler cannot be cancelled, so it runs in its own thread and the
 * client waits for it with the request's deadline: an operator gets a clear
 * "did not complete" instead of a hang, and the sync carries on. */
static json_t *sync_or_point(json_t *req, int point)
{
	const char *what = point ? "point" : "sync";
	json_t *t = json_object_get(req, "timeout_s");
	double timeout_s = SYNC_DEFAULT_S;
	struct sync_call *s;
	struct timespec dl;
	pthread_attr_t attr;
	pthread_t th;
	json_t *reply;
	int rc;

	if (point ? !ctl.h.point : !ctl.h.sync)
		return reply_error("%s is not supported", what);
	if (t && !json_is_null(t)) {
		if (!json_is_number(t))
			return reply_error("timeout_s must be a number of seconds");
		timeout_s = json_number_value(t);
		if (!(timeout_s > 0 && timeout_s <= SYNC_MAX_S))
			return reply_error("timeout_s must be more than 0 and at most %.0f",
					   SYNC_MAX_S);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return reply_error("out of memory");
	s->refs = 2; /* this client and the sync thread */
	s->point = point;

	pthread_mutex_lock(&ctl.mu);
	ctl.nsyncs++;
	pthread_mutex_unlock(&ctl.mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, sync_main, s);
	pthread_attr_destroy(&attr);
	if (rc) {
		pthread_mutex_lock(&ctl.mu);
		ctl.nsyncs--;
		pthread_mutex_unlock(&ctl.mu);
		free(s);
		return reply_error("cannot start %s: %s", what, strerror(rc));
	}

	dl = deadline_after_ms((long)(timeout_s * 1000.0));
	pthread_mutex_lock(&ctl.mu);
	while (!s->done && !ctl.stopping) {
		if (pthread_cond_timedwait(&ctl.changed, &ctl.mu, &dl) == ETIMEDOUT)
			break;
	}
	if (s->done && s->rc >= 0 && point)
		reply = json_pack("{s:b,s:I,s:I}", "ok", 1, "point_id", (json_int_t)s->point_id,
				  "consistent_ns", (json_int_t)s->consistent_ns);
	else if (s->done && s->rc >= 0)
		reply = json_pack("{s:b,s:I}", "ok", 1, "consistent_ns",
				  (json_int_t)s->consistent_ns);
	else if (s->done)
		reply = reply_handler_error(what, s->rc, s->err);
	else if (ctl.stopping)
		reply = reply_error("livemigd is shutting down");
	else
		reply = reply_error("%s did not complete within %g s (it continues in the "
				    "background)", what, timeout_s);
	sync_call_put(s);
	pthread_mutex_unlock(&ctl.mu);
	return reply;
}

static json_t *cmd_sync(json_t *req)
{
	return sync_or_point(req, 0);
}

static json_t *cmd_point(json_t *req)
{
	return sync_or_point(req, 1);
}

static const struct {
	const char *name;
	json_t *(*fn)(json_t *req);
	int audited; /* changes what the daemon does: log who asked */
} commands[] = {
	{ "status", cmd_status, 0 },
	{ "pause", cmd_pause, 1 },
	{ "resume", cmd_resume, 1 },
	{ "sync", cmd_sync, 1 },
	{ "point", cmd_point, 1 },
};

/* ---- serving one connection ---- */

static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "?");
	return buf;
}

/* The file mode already limits who can connect; checking again here also
 * covers the moment between bind() and chmod() and a socket whose mode an
 * administrator loosened. Group membership counts supplementary groups too. */
static int peer_allowed(int fd, const struct ucred *cr)
{
	struct stat st;
	gid_t gid = ctl.gid, groups[256];
	socklen_t len = sizeof(groups);

	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (stat(ctl.path, &st) == 0)
		gid = st.st_gid; /* follow a chgrp made while running */
	if (cr->gid == gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == gid)
				return 1;
	}
	return 0;
}

/* Read one line into buf (NUL-terminated, newline dropped). EOF after some
 * bytes ends the line too, for clients that half-close instead.
 * 0, -ENODATA (closed without a byte), -EMSGSIZE, -ETIMEDOUT, -errno. */
static int read_request(int fd, char *buf, size_t *out_len)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)REQ_TIMEOUT_MS * 1000000u;
	size_t len = 0;

	for (;;) {
		uint64_t now = now_mono_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)((deadline - now + 999999) / 1000000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		/* one byte beyond the limit tells "too long" from "exactly full" */
		n = recv(fd, buf + len, REQ_MAX + 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (len == 0)
				return -ENODATA;
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			len = (size_t)(nl - buf);
			break;
		}
		if (len > REQ_MAX)
			return -EMSGSIZE;
	}
	if (len > REQ_MAX)
		return -EMSGSIZE;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*out_len = len;
	return 0;
}

static json_t *serve(struct client *c)
{
	char buf[REQ_MAX + 2], who[64];
	json_error_t jerr;
	json_t *req, *reply = NULL;
	const char *cmd;
	size_t len = 0;
	int rc;

	if (!peer_allowed(c->fd, &c->cred)) {
		log_warn("control: refused pid %d uid %u (%s): not root nor in the socket's group",
			 (int)c->cred.pid, (unsigned)c->cred.uid,
			 user_name(c->cred.uid, who, sizeof(who)));
		return reply_error("permission denied: only root or the socket's group may use "
				   "livemigd");
	}
	rc = read_request(c->fd, buf, &len);
	if (rc == -ENODATA) {
		log_debug("control: pid %d closed without a request", (int)c->cred.pid);
		return NULL;
	}
	if (rc == -EMSGSIZE)
		return reply_error("request line longer than %d bytes", REQ_MAX);
	if (rc == -ETIMEDOUT)
		return reply_error("no complete request line within %d s", REQ_TIMEOUT_MS / 1000);
	if (rc < 0)
		return NULL; /* connection broken or shut down by control_stop() */

	req = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return reply_error("bad request: invalid JSON: %s", jerr.text);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || !cmd) {
		json_decref(req);
		return reply_error("bad request: expected an object with a string \"cmd\"");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (commands[i].audited)
			log_info("control: %s requested by pid %d uid %u (%s)", cmd,
				 (int)c->cred.pid, (unsigned)c->cred.uid,
				 user_name(c->cred.uid, who, sizeof(who)));
		pthread_mutex_lock(&ctl.mu);
		rc = ctl.stopping;
		pthread_mutex_unlock(&ctl.mu);
		reply = rc ? reply_error("livemigd is shutting down") : commands[i].fn(req);
		break;
	}
	if (!reply)
		reply = reply_error("unknown command \"%.64s\" (known: status, pause, resume, "
				    "sync)", cmd);
	json_decref(req);
	return reply;
}

static void *client_main(void *arg)
{
	struct client *c = arg, **pp;
	json_t *reply = serve(c);

	/* NULL: nothing to say (the client left, or out of memory) */
	if (reply) {
		send_reply(c->fd, reply);
		json_decref(reply);
	}

	pthread_mutex_lock(&ctl.mu);
	for (pp = &ctl.clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	/* closed under the lock so control_stop() never shuts down a reused fd number */
	close(c->fd);
	ctl.nclients--;
	pthread_cond_broadcast(&ctl.changed);
	pthread_mutex_unlock(&ctl.mu);
	free(c);
	return NULL;
}

static void start_client(int fd)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	socklen_t len = sizeof(struct ucred);
	pthread_attr_t attr;
	struct client *c;
	pthread_t th;
	int rc;

	/* a client that never reads must not pin its thread in send() */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		log_warn("control: dropping client: %s", c ? strerror(errno) : "out of memory");
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;

	pthread_mutex_lock(&ctl.mu);
	if (ctl.nclients >= MAX_CLIENTS) {
		pthread_mutex_unlock(&ctl.mu);
		log_warn("control: %d clients already connected, refusing pid %d", MAX_CLIENTS,
			 (int)c->cred.pid);
		send(fd, "{\"ok\":false,\"error\":\"too many control clients\"}\n", 48,
		     MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		free(c);
		return;
	}
	c->next = ctl.clients;
	ctl.clients = c;
	ctl.nclients++;
	pthread_mutex_unlock(&ctl.mu);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, client_main, c);
	pthread_attr_destroy(&attr);
	if (rc) {
		log_warn("control: cannot start client thread: %s", strerror(rc));
		pthread_mutex_lock(&ctl.mu);
		ctl.clients = c->next; /* still first: insertions happen only on this thread */
		ctl.nclients--;
		close(fd);
		pthread_mutex_unlock(&ctl.mu);
		free(c);
	}
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ctl.listen_fd, .events = POLLIN },
			{ .fd = ctl.wake[0], .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno != EINTR) {
				log_error("control: poll: %s", strerror(errno));
				sleep_ns(100000000);
			}
			continue;
		}
		if (p[1].revents)
			break;
		fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the pending connection stays queued: back off, don't spin */
				log_warn("control: accept: %s", strerror(errno));
				sleep_ns(100000000);
			} else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
				log_error("control: accept: %s", strerror(errno));
			}
			continue;
		}
		start_client(fd);
	}
	return NULL;
}

/* ---- lifecycle ---- */

int control_start(const char *path, const struct control_handlers *h, char *err, size_t errlen)
{
	int fd, rc;

	pthread_once(&ctl_once, ctl_init);
	if (!path || !*path || strlen(path) >= sizeof(ctl.path)) {
		snprintf(err, errlen, "control socket path must be 1..%zu characters",
			 sizeof(ctl.path) - 1);
		return -ENAMETOOLONG;
	}
	pthread_mutex_lock(&ctl.mu);
	rc = ctl.running;
	pthread_mutex_unlock(&ctl.mu);
	if (rc) {
		/* still probe first, so a second start on a live path says why */
		rc = control_socket_probe(path, err, errlen);
		if (rc == 0)
			snprintf(err, errlen, "control socket already started at %s", ctl.path);
		return rc < 0 ? rc : -EBUSY;
	}

	fd = control_socket_open(path, &ctl.gid, err, errlen);
	if (fd < 0)
		return fd;
	if (pipe2(ctl.wake, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		goto fail;
	}
	pthread_mutex_lock(&ctl.mu);
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.h = *h;
	ctl.listen_fd = fd;
	ctl.stopping = 0;
	ctl.running = 1;
	pthread_mutex_unlock(&ctl.mu);
	rc = pthread_create(&ctl.acceptor, NULL, accept_main, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start control thread: %s", strerror(rc));
		rc = -rc;
		pthread_mutex_lock(&ctl.mu);
		ctl.running = 0;
		ctl.listen_fd = -1;
		pthread_mutex_unlock(&ctl.mu);
		close(ctl.wake[0]);
		close(ctl.wake[1]);
		goto fail;
	}
	log_info("control: listening on %s", path);
	return 0;

fail:
	close(fd);
	unlink(path);
	return rc;
}

void control_stop(void)
{
	struct timespec dl;
	struct client *c;
	ssize_t n;

	pthread_once(&ctl_once, ctl_init);
	pthread_mutex_lock(&ctl.mu);
	if (!ctl.running) {
		pthread_mutex_unlock(&ctl.mu);
		return;
	}
	ctl.stopping = 1;
	pthread_cond_broadcast(&ctl.changed); /* clients waiting on a sync reply now */
	pthread_mutex_unlock(&ctl.mu);

	do
		n = write(ctl.wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(ctl.acceptor, NULL);
	close(ctl.listen_fd);
	close(ctl.wake[0]);
	close(ctl.wake[1]);
	if (unlink(ctl.path) < 0 && errno != ENOENT)
		log_warn("control: cannot remove %s: %s", ctl.path, strerror(errno));

	/* Clients still reading a request wake up at once; one inside a handler
	 * finishes it. A sync call inside the engine ends when the engine lets it,
	 * so wait only a little for that. */
	dl = deadline_after_ms(STOP_GRACE_MS);
	pthread_mutex_lock(&ctl.mu);
	for (c = ctl.clients; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (ctl.nclients > 0 || ctl.nsyncs > 0) {
		if (pthread_cond_timedwait(&ctl.changed, &ctl.mu, &dl) == ETIMEDOUT)
			break;
	}
	if (ctl.nclients > 0 || ctl.nsyncs > 0)
		log_warn("control: stopped with %d client(s) and %d sync call(s) still running",
			 ctl.nclients, ctl.nsyncs);
	ctl.listen_fd = -1;
	ctl.wake[0] = ctl.wake[1] = -1;
	ctl.running = 0;
	pthread_mutex_unlock(&ctl.mu);
	log_info("control: stopped");
}
