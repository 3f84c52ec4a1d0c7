/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a staging server reports in POST /api/v1/staging/sync and what the
 * console does with it (docs/staging-console.md):
 *   sync_request_check  the body's shape, before anything is written
 *   points_report       the machines it stores and their recovery points
 *   points_machine_json one machine's points, for the API and the page
 * Jobs are in jobs.h.
 */
#ifndef LIVEMIG_CONSOLE_STAGING_SYNC_H
#define LIVEMIG_CONSOLE_STAGING_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"

#define SYNC_MAX_MACHINES   100000
#define SYNC_MAX_POINTS     10000 /* per machine */
#define SYNC_MAX_JOBS       1000
#define SYNC_MAX_LOG_LINES  1000  /* per job and sync */
#define JOB_LINE_MAX        1000  /* bytes */
#define JOB_ERROR_MAX       1000
#define SYNC_ADVERTISE_MAX  261   /* HOST:PORT, as agents take it */

/* 0 when req has the documented shape; -EINVAL with why (for a 400). Every
 * later step relies on this check and does not repeat it. */
int sync_request_check(const json_t *req, char *why, size_t whylen);

/* Replace what staging_ref said before with req's "machines": which
 * machines it stores, and their points (rows change only where a point is
 * new, changed or gone; a machine sent with only its digest, or with
 * points_error, keeps what the console had). Machines the console does not know are skipped and
 * counted in *unknown. Inside the caller's transaction. */
int points_report(struct db *db, int64_t staging_ref, const json_t *machines, int64_t now,
		  unsigned *unknown);

/* {"MACHINE": "digest", ...}: the point lists the console holds from
 * staging_ref, by the digest staging gave them, so that staging sends a
 * list again only when it changed. */
int points_known_json(struct db *db, int64_t staging_ref, json_t **out);

/* {"points": [P + "staging": NAME, ...] newest first, "stored_on":
 * [{"staging": NAME, "reported": T}]} for one machine (its row id). */
int points_machine_json(struct db *db, int64_t machine_ref, json_t **out);

/* {MACHINE_ID: time_ns of its newest recovery point on any staging server}
 * for the account's machines that have one. */
int points_newest_json(struct db *db, int64_t account_id, json_t **out);

#endif
