/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The accept loop: one detached thread per connection, bounded in number.
 * A connection is unauthenticated until its TLS handshake has checked the
 * agent's certificate. Unauthenticated connections have their own
 * SERVER_PREAUTH_MAX places, SERVER_PREAUTH_PER_ADDR per client address,
 * and SERVER_HANDSHAKE_MS to finish: connections that never finish the
 * handshake cannot take the SERVER_MAX_CONNS places of agents' sessions
 * (docs/security.md).
 */
#ifndef LIVEMIG_STAGING_SERVER_H
#define LIVEMIG_STAGING_SERVER_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "point_meta.h"
#include "retention.h"

#define SERVER_MAX_CONNS        256 /* authenticated sessions */
#define SERVER_PREAUTH_MAX      64  /* connections still in their handshake */
#define SERVER_PREAUTH_PER_ADDR 8   /* of those, from one address */
#define SERVER_HANDSHAKE_MS     5000

struct staging_config {
	const char *store_dir;
	uint64_t sync_bytes; /* sync after this many bytes even if the agent never pauses */
	SSL_CTX *tls;
	enum point_mode points_mode;     /* for machines whose points have none yet */
	struct retention_policy keep;    /* which recovery points pruning keeps */
};

/*
 * Serve listen_fd until signal_fd (a signalfd for SIGTERM/SIGINT) fires;
 * then stop accepting, let each session finish its current frame, sync and
 * leave, and return 0 (or -errno if the loop itself failed).
 */
int server_run(const struct staging_config *cfg, int listen_fd, int signal_fd);

/* Authenticated sessions open now. */
unsigned server_sessions(void);

/* Whether a shutdown has been requested; sessions check it between frames. */
int server_stopping(void);

#endif
