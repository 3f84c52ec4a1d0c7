/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State of one agent connection, shared by session.c (lifecycle, HELLO,
 * the frame loop) and handlers.c (what each frame does to the store).
 * Only the session's own thread touches it, except wake_fd and conn's
 * shutdown, which other threads may signal.
 */
#ifndef LIVEMIG_STAGING_SESSION_PRIV_H
#define LIVEMIG_STAGING_SESSION_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "committer.h"
#include "conn.h"
#include "frame.h"
#include "point_writer.h"
#include "write_hold.h"

struct staging_config;
struct machine;

struct session_disk {
	uint32_t id;        /* the agent's id for it, from HELLO */
	uint64_t size;
	struct store_volume *vol; /* its replica, read-write */
	char name[FRAME_NAME_MAX + 1];
};

struct session {
	const struct staging_config *cfg;
	struct conn conn;
	int wake_fd;                      /* eventfd: shutdown or takeover */
	char addr[64];                    /* peer, for logs */
	char machine[FRAME_NAME_MAX + 1]; /* the certificate's CN */
	char fingerprint[CONN_FINGERPRINT_HEX]; /* the certificate's SHA-256 */
	uint64_t revocation_gen;          /* the console list last checked against */

	struct machine *m;                /* set by HELLO */
	uint64_t token;                   /* ownership of m; stale once replaced */
	struct session_disk disks[FRAME_MAX_DISKS];
	unsigned ndisks;
	uint16_t codecs;

	struct committer committer;       /* group commit: dirty images, syncs */
	struct point_writer points;       /* recovery points; under the machine lock */
	int points_open;
	struct write_hold hold;           /* writes waiting for a delta sync */
	uint64_t acked_seq;               /* the last seq ACKed; under send_mu */
	pthread_mutex_t send_mu;          /* one whole frame at a time on the wire */

	/* for the summary logged at the end */
	uint64_t data_frames, source_bytes, wire_bytes, zeroed_bytes;

	uint8_t *rx;     /* one incoming frame */
	uint8_t *work;   /* inflated payload, or image reads for hashes */
	uint8_t *hashes; /* HASH_RESP hashes */
	uint8_t *tx;     /* outgoing frames */

	/* Why the session ends: err_code != 0 sends ERROR(err_code, why). */
	uint32_t err_code;
	char why[FRAME_MSG_MAX + 1];
	atomic_int lost; /* the connection is unusable: send nothing more */
	int stopping;    /* the server shuts down: say BYE */
};

#define SESSION_WORK_LEN   FRAME_MAX_RAW
#define SESSION_TX_LEN     (FRAME_HDR_LEN + 8 + FRAME_MAX_HASHES * FRAME_HASH_LEN)

/* Record why the session ends (the first reason wins). Returns -1. */
int session_fail(struct session *s, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Send one encoded frame; on failure marks the connection lost. 0 or -1. */
int session_send(struct session *s, const void *buf, size_t len);
/* Map a failed store operation on disk (or NULL) to the reason the session
 * ends. Returns -1. */
int session_store_failed(struct session *s, const char *what, const char *disk, int rc);
/* Release the held writes, sync every dirty image, then ACK the highest written seq as report says
 * (committer.h). 0 or -1 with the reason recorded. */
int session_commit(struct session *s, enum commit_report report);

/* Frame handlers: 0 to go on, -1 to end the session (reason recorded). */
int handle_data(struct session *s, const struct frame *f);
int handle_zero(struct session *s, const struct frame *f);
int handle_flush(struct session *s, const struct frame *f);
int handle_mark(struct session *s, const struct frame *f);
int handle_hash_req(struct session *s, const struct frame *f);

#endif
