// SPDX-License-Identifier: GPL-2.0-or-later
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "machines.h"
#include "revocation.h"
#include "server.h"
#include "session_priv.h"
#include "store.h"
#include "store_backend.h"
#include "util.h"

#define HELLO_WAIT_MS  60000 /* an authenticated peer that never says HELLO */
#define MID_FRAME_MS   60000 /* a frame started must be finished within this */
#define LINGER_MS      2000  /* let the peer read our last frame before the reset */

struct session *session_new(const struct staging_config *cfg, int fd, const char *addr)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return NULL;
	}
	s->cfg = cfg;
	s->conn.fd = fd;
	pthread_mutex_init(&s->send_mu, NULL);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	strcpy(s->machine, "?");
	for (unsigned i = 0; i < FRAME_MAX_DISKS; i++)
		s->disks[i].vol = NULL;
	if (s->wake_fd < 0) {
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->conn.ssl || s->conn.fd >= 0)
		conn_close(&s->conn);
	close(s->wake_fd);
	pthread_mutex_destroy(&s->send_mu);
	free(s->rx);
	free(s->work);
	free(s->hashes);
	free(s->tx);
	write_hold_free(&s->hold);
	free(s);
}

void session_wake(struct session *s)
{
	eventfd_write(s->wake_fd, 1);
}

void session_abort(struct session *s)
{
	conn_shutdown(&s->conn);
}

int session_fail(struct session *s, uint32_t code, const char *fmt, ...)
{
	va_list ap;

	if (s->err_code || s->why[0])
		return -1;
	s->err_code = code;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Record why the session ends when there is no ERROR to send. */
static int session_note(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int session_note(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err_code || s->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The connection is unusable: nothing more is sent on it. */
#define session_gone(s, ...) (atomic_store(&(s)->lost, 1), session_note((s), __VA_ARGS__))

int session_send(struct session *s, const void *buf, size_t len)
{
	int rc = -EPIPE;

	/* the committer thread sends ACKs: frames must not interleave */
	pthread_mutex_lock(&s->send_mu);
	if (!s->lost)
		rc = conn_write(&s->conn, buf, len);
	pthread_mutex_unlock(&s->send_mu);
	if (rc == -EPIPE && s->lost)
		return -1;
	if (rc)
		return session_gone(s, "connection lost while sending: %s", strerror(-rc));
	return 0;
}

/* ERROR 5: the agent reconnects with backoff and resends what was not
 * acknowledged, so replication resumes once there is room again. */
static int session_full(struct session *s)
{
	char what[512];

	store_full_message(s->cfg->store_dir, what, sizeof(what));
	return session_fail(s, ERR_NOSPACE, "%s; replication resumes by itself when space is "
			    "freed", what);
}

int session_store_failed(struct session *s, const char *what, const char *disk, int rc)
{
	if (rc == -EBUSY)
		return session_fail(s, ERR_BUSY, "replaced by a newer connection for machine %s",
				    s->machine);
	if (rc == -ENOSPC || rc == -EDQUOT)
		return session_full(s);
	return session_fail(s, ERR_IO, "cannot %s%s%s: %s", what, disk ? " of disk " : "",
			    disk ? disk : "", store_strerror(rc));
}

/* The committer's durable() callback: send ACK(seq) unless it would not
 * advance the acknowledged seq (always with force). Called from the
 * committer's thread too. 0 or -1. */
static int session_ack(void *arg, uint64_t seq, int force)
{
	struct session *s = arg;
	uint8_t ack[FRAME_HDR_LEN + 8];
	size_t n;
	int rc = 0;

	pthread_mutex_lock(&s->send_mu);
	if (s->lost) {
		rc = -1;
	} else if (force || seq > s->acked_seq) {
		/* a late background ACK must never move the acknowledged seq backwards */
		if (seq < s->acked_seq)
			seq = s->acked_seq;
		n = frame_encode_seq(ack, sizeof(ack), FT_ACK, seq);
		if (conn_write(&s->conn, ack, n)) {
			s->lost = 1;
			rc = -1;
		} else {
			s->acked_seq = seq;
		}
	}
	pthread_mutex_unlock(&s->send_mu);
	if (!rc)
		log_debug("machine %s: ACK %" PRIu64, s->machine, seq);
	return rc;
}

int session_commit(struct session *s, enum commit_report report)
{
	const char *disk = NULL;
	/* a failed release still lets what was written be synced and acknowledged */
	int held = session_release_held(s);
	int rc = committer_commit(&s->committer, report, &disk);

	if (!rc && held)
		return -1;
	if (rc == -ENOTCONN)
		return session_fail(s, ERR_IO, "connection lost while acknowledging");
	if (rc)
		return session_store_failed(s, "sync the image", disk, rc);
	return 0;
}

/*
 * Wait until a frame starts arriving. Idle is fine for as long as the peer
 * likes (TCP keepalive finds dead ones); a shutdown or a takeover ends the
 * wait at once. 0, -ESHUTDOWN, -EBUSY or -ETIMEDOUT.
 */
static int wait_for_frame(struct session *s, int timeout_ms)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->conn.fd, .events = POLLIN },
				       { .fd = s->wake_fd, .events = POLLIN } };
		int wait_ms = -1;

		if (server_stopping())
			return -ESHUTDOWN;
		if (s->m && !machine_still_owner(s->m, s->token))
			return -EBUSY;
		if (conn_input_pending(&s->conn))
			return 0;
		if (timeout_ms >= 0) {
			uint64_t now = now_mono_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			wait_ms = (int)((deadline - now) / 1000000u) + 1;
		}
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Read the next frame; 0, or -1 with the reason recorded. */
static int next_frame(struct session *s, struct frame *f, int idle_ms)
{
	const char *why = NULL;
	int rc;

again:
	rc = wait_for_frame(s, idle_ms);

	if (rc == -ESHUTDOWN) {
		s->stopping = 1;
		return session_note(s, "server shutting down");
	}
	if (rc == -EBUSY)
		return session_fail(s, ERR_BUSY, "replaced by a newer connection for machine %s",
				    s->machine);
	if (rc == -ETIMEDOUT)
		return session_fail(s, ERR_PROTOCOL, "no HELLO within %d s", idle_ms / 1000);
	if (rc)
		return session_gone(s, "poll failed: %s", strerror(-rc));
	rc = conn_read_frame(&s->conn, s->rx, f, MID_FRAME_MS, &why);
	/* readable, yet no frame began: TLS traffic of its own (a key update) */
	if (rc == -ETIMEDOUT && !why && idle_ms < 0)
		goto again;
	if (rc == -EPROTONOSUPPORT)
		return session_fail(s, ERR_VERSION, "unsupported protocol version %u (this server "
				    "speaks %u)", s->rx[4], FRAME_VERSION);
	if (rc == -ETIMEDOUT && why)
		return session_fail(s, ERR_PROTOCOL, "%s (nothing more for %d s)", why,
				    MID_FRAME_MS / 1000);
	if (rc && why) {
		if (rc == -ECONNRESET || rc == -EPIPE)
			s->lost = 1;
		return session_fail(s, ERR_PROTOCOL, "%s", why);
	}
	if (rc == -ECONNRESET)
		return session_gone(s, "closed by the agent");
	if (rc == -EPIPE)
		return session_gone(s, "the connection ended without a TLS close (agent crash "
				    "or network reset)");
	if (rc)
		return session_gone(s, "connection lost: %s", strerror(-rc));
	log_debug("machine %s: %s", s->machine, frame_type_name(f->type));
	return 0;
}

static int alloc_buffers(struct session *s)
{
	s->rx = malloc(FRAME_HDR_LEN + FRAME_MAX_BODY);
	s->work = malloc(SESSION_WORK_LEN);
	s->hashes = malloc((size_t)FRAME_MAX_HASHES * FRAME_HASH_LEN);
	s->tx = malloc(SESSION_TX_LEN);
	return s->rx && s->work && s->hashes && s->tx ? 0 : -ENOMEM;
}

static int hello(struct session *s, const struct frame *f)
{
	const __typeof__(f->hello) *h = &f->hello;
	struct store_volume *vols[FRAME_MAX_DISKS];
	int replaced = 0, rc;
	struct store_state st;
	char err[512];
	size_t n;

	if (f->type != FT_HELLO)
		return session_fail(s, ERR_PROTOCOL, "first frame must be HELLO, not %s",
				    frame_type_name(f->type));
	/* the certificate decides which machine's volumes this connection may touch */
	if (strcmp(h->machine, s->machine))
		return session_fail(s, ERR_AUTH, "certificate is for machine %s, not %s",
				    s->machine, h->machine);
	s->m = machine_get(s->machine);
	if (!s->m)
		return session_fail(s, ERR_IO, "out of memory");
	machine_lock(s->m);
	rc = store_open(s->cfg->store_dir, s->machine, h->block_size, h->disks, h->ndisks, vols,
			&st, err, sizeof(err));
	if (!rc) {
		struct point_disk pd[FRAME_MAX_DISKS];

		for (unsigned i = 0; i < h->ndisks; i++) {
			strcpy(pd[i].name, h->disks[i].name);
			pd[i].size = h->disks[i].size;
		}
		rc = point_writer_open(&s->points, s->cfg->store_dir, s->machine,
				       s->cfg->points_mode, h->ndisks, vols, pd, err, sizeof(err));
		if (rc)
			for (unsigned i = 0; i < h->ndisks; i++)
				store_volume_close(vols[i]);
		else
			s->points_open = 1;
	}
	if (!rc)
		s->token = machine_take_over(s->m, s->wake_fd, &replaced);
	machine_unlock(s->m);
	if (rc == -EINVAL)
		return session_fail(s, ERR_DISK, "%s", err);
	if (rc == -ENOSPC || rc == -EDQUOT)
		return session_full(s);
	if (rc)
		return session_fail(s, ERR_IO, "%s", err);
	for (unsigned i = 0; i < h->ndisks; i++) {
		s->disks[i].id = h->disks[i].id;
		s->disks[i].size = h->disks[i].size;
		s->disks[i].vol = vols[i];
		strcpy(s->disks[i].name, h->disks[i].name);
	}
	s->ndisks = h->ndisks;
	s->codecs = h->codecs & (CODEC_MASK_ALL | HELLO_CAP_ALL);
	log_info("machine %s connected from %s (agent %s, %u disk%s, %s store, codecs %#x)%s",
		 s->machine, s->addr, h->agent_version[0] ? h->agent_version : "?", h->ndisks,
		 h->ndisks == 1 ? "" : "s", st.was_new ? "new" : "existing", s->codecs,
		 replaced ? "; it replaces an older connection" : "");
	{
		const char *names[FRAME_MAX_DISKS];

		for (unsigned i = 0; i < s->ndisks; i++)
			names[i] = s->disks[i].name;
		if (committer_start(&s->committer, vols, names, s->ndisks, s->cfg->sync_bytes,
				    session_ack, s))
			return session_fail(s, ERR_IO, "cannot start a sync thread");
	}
	n = frame_encode_welcome(s->tx, SESSION_TX_LEN, s->codecs, st.store_id, st.was_new,
				 st.consistent_ns);
	return session_send(s, s->tx, n);
}

/* 0 to go on, 1 after an orderly BYE, -1 to end with the reason recorded. */
static int dispatch(struct session *s, const struct frame *f)
{
	switch (f->type) {
	case FT_DATA:
		return handle_data(s, f);
	case FT_ZERO:
		return handle_zero(s, f);
	case FT_FLUSH:
		return handle_flush(s, f);
	case FT_MARK:
		return handle_mark(s, f);
	case FT_HASH_REQ:
		return handle_hash_req(s, f);
	case FT_BYE:
		return session_commit(s, COMMIT_REPORT_ALWAYS) ? -1 : 1;
	case FT_ERROR:
		log_warn("agent at %s (machine %s) reports: %s: %s", s->addr, s->machine,
			 frame_error_name(f->error.code), f->error.msg);
		return session_gone(s, "the agent sent ERROR");
	case FT_HELLO:
		return session_fail(s, ERR_PROTOCOL, "HELLO sent twice");
	default:
		return session_fail(s, ERR_PROTOCOL, "%s frames are not sent by an agent",
				    frame_type_name(f->type));
	}
}

/* Only the machine's current certificate may write (revocation.h); a
 * new list from the console is checked against at the next frame. */
static int still_current(struct session *s)
{
	uint64_t g = revocation_generation();

	if (g == s->revocation_gen)
		return 0;
	s->revocation_gen = g;
	if (revocation_check(s->machine, s->fingerprint))
		return 0;
	return session_fail(s, ERR_AUTH, "the console revoked this certificate of machine %s "
			    "while it was connected (deregistered or registered again)",
			    s->machine);
}

static int serve(struct session *s)
{
	struct frame f;
	int rc;

	if (next_frame(s, &f, HELLO_WAIT_MS) || hello(s, &f))
		return -1;
	for (;;) {
		/* group commit: one sync for everything the agent sent before it paused */
		if (!conn_input_pending(&s->conn) && session_commit(s, COMMIT_REPORT_NEW))
			return -1;
		if (next_frame(s, &f, -1) || still_current(s))
			return -1;
		rc = dispatch(s, &f);
		if (rc)
			return rc;
	}
}

/* Give the peer a moment to read our last frame: closing with its unread
 * frames still queued here would reset the connection and could destroy
 * that frame in flight. */
static void linger(struct session *s)
{
	uint64_t deadline = now_mono_ns() + LINGER_MS * UINT64_C(1000000);
	char sink[16384];

	shutdown(s->conn.fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = s->conn.fd, .events = POLLIN };
		uint64_t now = now_mono_ns();
		ssize_t n;

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			return;
		n = read(s->conn.fd, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

static void finish(struct session *s, int rc)
{
	uint8_t buf[FRAME_HDR_LEN + 4 + 1 + FRAME_MSG_MAX];
	int told = 0;

	/* whatever was written before the end is made durable and acknowledged */
	if (s->m && !s->lost) {
		session_commit(s, COMMIT_REPORT_NEW);
	} else if (s->m) {
		const char *disk = NULL;

		/* held writes are dropped: never acknowledged, the agent resends them */
		committer_commit(&s->committer, COMMIT_REPORT_NONE, &disk);
	}
	/* before the images are closed: a batch may still be syncing */
	committer_stop(&s->committer);
	if (s->err_code && !s->lost) {
		size_t n = frame_encode_error(buf, sizeof(buf), s->err_code, s->why);

		told = session_send(s, buf, n) == 0;
	} else if (s->stopping && !s->lost) {
		size_t n = frame_encode_bye(buf, sizeof(buf));

		told = session_send(s, buf, n) == 0;
	}
	if (rc == 1)
		log_info("machine %s at %s said BYE", s->machine, s->addr);
	else if (s->err_code == ERR_NOSPACE || s->err_code == ERR_IO)
		log_error("closing connection from %s (machine %s): %s", s->addr, s->machine,
			  s->why);
	else if (s->err_code && s->err_code != ERR_BUSY)
		log_warn("closing connection from %s (machine %s): %s", s->addr, s->machine,
			 s->why);
	else
		log_info("closing connection from %s (machine %s): %s", s->addr, s->machine,
			 s->why);
	if (told)
		linger(s);
	if (s->m && s->token)
		log_info("machine %s at %s: received %" PRIu64 " source bytes in %" PRIu64 " DATA "
			 "frames (%" PRIu64 " bytes of payload), zeroed %" PRIu64 " bytes; "
			 "acknowledged up to seq %" PRIu64, s->machine, s->addr, s->source_bytes,
			 s->data_frames, s->wire_bytes, s->zeroed_bytes, s->acked_seq);
	if (s->hold.held)
		log_info("machine %s: held %" PRIu64 " writes back until their old contents were "
			 "durable in a recovery point (%" PRIu64 " delta syncs)", s->machine,
			 s->hold.held, s->hold.releases);
	if (s->m) {
		machine_lock(s->m);
		machine_leave(s->m, s->token);
		machine_unlock(s->m);
		machine_put(s->m);
		s->m = NULL;
	}
	if (s->points_open) {
		if (s->points.saved_bytes)
			log_info("machine %s: saved %" PRIu64 " bytes of old contents for its "
				 "recovery points", s->machine, s->points.saved_bytes);
		point_writer_close(&s->points);
		s->points_open = 0;
	}
	for (unsigned i = 0; i < s->ndisks; i++) {
		store_volume_close(s->disks[i].vol);
		s->disks[i].vol = NULL;
	}
	s->ndisks = 0;
}

int session_handshake(struct session *s)
{
	char err[512];
	int fd = s->conn.fd, rc;

	s->conn.fd = -1; /* conn_accept takes the socket over */
	rc = conn_accept(&s->conn, s->cfg->tls, fd, SERVER_HANDSHAKE_MS, err, sizeof(err));
	if (rc) {
		log_warn("TLS handshake with %s failed: %s", s->addr, err);
		return rc;
	}
	if (conn_peer_name(&s->conn, s->machine, sizeof(s->machine))) {
		strcpy(s->machine, "?");
		log_warn("refusing connection from %s: its certificate has no valid machine name "
			 "as common name", s->addr);
		return -EACCES;
	}
	log_debug("TLS connection from %s for machine %s", s->addr, s->machine);
	return 0;
}

void session_run(struct session *s)
{
	int rc;

	if (alloc_buffers(s)) {
		log_error("closing connection from %s: out of memory", s->addr);
		return;
	}
	s->revocation_gen = revocation_generation();
	if (conn_peer_fingerprint(&s->conn, s->fingerprint) ||
	    !revocation_allows(s->machine, s->fingerprint)) {
		session_fail(s, ERR_AUTH, "this certificate is not machine %s's current one: the "
			     "console revoked it (deregistered or registered again); register the "
			     "machine again", s->machine);
		finish(s, -1);
		return;
	}
	rc = serve(s);
	finish(s, rc);
}
