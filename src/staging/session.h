/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One agent connection: TLS handshake, HELLO, then frames until it ends. */
#ifndef LIVEMIG_STAGING_SESSION_H
#define LIVEMIG_STAGING_SESSION_H

struct staging_config;
struct session;

/* Takes ownership of fd. NULL when out of memory (fd is then closed). */
struct session *session_new(const struct staging_config *cfg, int fd, const char *addr);
/* The TLS handshake, the agent's certificate checked (SERVER_HANDSHAKE_MS
 * at most): 0, or -errno (logged). */
int session_handshake(struct session *s);
/* After session_handshake: serve; returns when the connection has ended. */
void session_run(struct session *s);
/* Closes the connection and frees s. */
void session_free(struct session *s);

/* From another thread, while s is alive: finish the current frame and leave
 * (a shutdown), or make all I/O fail at once (shutdown grace expired). */
void session_wake(struct session *s);
void session_abort(struct session *s);

#endif
