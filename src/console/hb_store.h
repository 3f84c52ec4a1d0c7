/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Storing an agent's heartbeat (api_status.c answers it) under the least
 * lock that keeps it correct (docs/console-database.md, "Locks"). Almost
 * every heartbeat writes its own machine's rows only: the latest status,
 * the status history, last_seen and state. It takes that machine's row
 * lock and not the writers' lock (db_begin_machine), so that on PostgreSQL
 * heartbeats of different machines, and of several console instances,
 * commit side by side. A machine whose lifecycle has work that a heartbeat
 * moves (a cutover under way, a launch or destroy job past its bound:
 * lifecycle_heartbeat_due) reads and writes across machines: jobs,
 * instances, placement, the audit log. Its heartbeat rolls the machine
 * transaction back and does it all again under the writers' lock, then
 * the row lock: the order every writer keeps, so no two wait for each
 * other in a circle.
 */
#ifndef LIVEMIG_CONSOLE_HB_STORE_H
#define LIVEMIG_CONSOLE_HB_STORE_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

struct heartbeat {
	int64_t ref;           /* the machine's row */
	const json_t *doc;     /* the status document */
	const char *text;      /* doc as stored */
	const char *state;     /* its "state" */
	int64_t now;
	unsigned history_max;  /* status history rows kept */
	unsigned cutover_timeout_s;
};

/* Store one heartbeat and move the machine's lifecycle on. 0 with *cutover
 * the cutover request for the answer (NULL: none); -ESTALE when the
 * machine was deregistered (removed, finalized) by the time its lock was
 * had: nothing stored, the caller answers as to any deregistered machine;
 * or another -errno (-EBUSY: a lock not had in time). */
int hb_store(struct db *db, const struct heartbeat *hb, json_t **cutover);

#endif
