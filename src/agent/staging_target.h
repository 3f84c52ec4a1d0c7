/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which staging server the sender connects to (docs/staging-placement.md):
 * the configured [staging] address until the console's heartbeat answer
 * names another; then that one, kept in state_dir/console-staging.json so
 * that a restart connects there at once. The one owner of e->stg_*.
 */
#ifndef LIVEMIG_AGENT_STAGING_TARGET_H
#define LIVEMIG_AGENT_STAGING_TARGET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct engine;

/* session_open's answer when the console moved the machine while it
 * connected (no other step of it fails so) */
#define STAGING_MOVED (-EXDEV)

struct staging_target {
	char host[256];
	char port[16];
	char name[256]; /* the name staging's certificate must carry */
	uint64_t gen;   /* bumps at each move */
};

/* The configured address, or the one the console named last (the file).
 * Called by engine_init, before any thread. */
void staging_target_init(struct engine *e);
/* A copy of where to connect now. Any thread. */
void staging_target_get(struct engine *e, struct staging_target *out);
/* The console names server at address (HOST:PORT): when it is not where the
 * agent connects, move there: remember it, end the session, and the sender
 * connects to it (the new store's id makes the replicate thread rescan).
 * 1 when it moved, 0 when it was there already, -EINVAL for an address
 * that is not HOST:PORT. Any thread. */
int staging_target_move(struct engine *e, const char *server, const char *address);

#endif
