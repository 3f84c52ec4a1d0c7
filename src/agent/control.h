/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's control socket: a unix stream socket where `livemig` sends one
 * JSON request line and reads one JSON response line (docs/control.md).
 * control.c knows nothing of the engine: it calls these handlers.
 */
#ifndef LIVEMIG_CONTROL_H
#define LIVEMIG_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct control_handlers {
	/* a new reference to the status document (schema in docs/control.md) */
	json_t *(*status)(void *ctx);
	int (*pause)(void *ctx, char *err, size_t errlen);
	int (*resume)(void *ctx, char *err, size_t errlen);
	/* Final sync: blocks until one change-copy round after the call has been
	 * made durable on staging; sets the consistent point (unix ns). */
	int (*sync)(void *ctx, uint64_t *consistent_ns, char *err, size_t errlen);
	/* A recovery point now: blocks until staging made it durable; sets its
	 * id and time (unix ns). NULL: not offered. */
	int (*point)(void *ctx, uint64_t *point_id, uint64_t *point_ns, char *err, size_t errlen);
	void *ctx;
};

/* Listen on path (mode 0660, stale socket replaced) and serve each client in
 * its own thread. 0, or -errno with err set. */
int control_start(const char *path, const struct control_handlers *h, char *err, size_t errlen);
void control_stop(void);

#endif
