/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The page's database calls: token ownership, replication requests, the
 * timeline of a machine's reports. 0 or -errno. */
#ifndef LIVEMIG_CONSOLE_WEB_DB_H
#define LIVEMIG_CONSOLE_WEB_DB_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

#define REPLICATION_PAUSED  "paused"
#define REPLICATION_RUNNING "running"

/* The account a token belongs to: -ENOENT when there is no such token. */
int token_account(struct db *db, int64_t id, int64_t *account_id);
/* Ask the agent for a replication state ("paused" or "running"). */
int replication_request_set(struct db *db, int64_t ref, const char *state, const char *by,
			    int64_t now);
/* {"state", "requested_at", "requested_by"}, or NULL when nothing was
 * asked (the column is NULL). */
int replication_request_get(struct db *db, int64_t ref, json_t **out);
/* The newest `points` history rows, oldest first, as a series and the
 * events found between consecutive reports (web_timeline.c). */
int machine_timeline_json(struct db *db, int64_t ref, unsigned points, json_t **out);

#endif
