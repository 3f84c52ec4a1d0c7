/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Jobs the console hands to staging servers (docs/staging-console.md).
 * A job belongs to a machine; it is queued until a staging server that
 * stores the machine syncs, then delivered to that server, which reports
 * running, log lines and an end (succeeded with a result, or failed with
 * a reason) in its next syncs. The console lists a server's unfinished jobs
 * in every answer, so a job survives a lost answer and a restart of either
 * side; staging decides per kind whether a job it finds again resumes or
 * fails.
 *
 * States: queued -> delivered -> running -> succeeded | failed
 * (delivered -> succeeded | failed directly for a job that ends within
 * one sync interval).
 */
#ifndef LIVEMIG_CONSOLE_JOBS_H
#define LIVEMIG_CONSOLE_JOBS_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#define JOB_QUEUED    "queued"
#define JOB_DELIVERED "delivered"
#define JOB_RUNNING   "running"
#define JOB_SUCCEEDED "succeeded"
#define JOB_FAILED    "failed"

#define JOB_LIST_DEFAULT 20
#define JOB_LOG_MAX      1000 /* lines kept per job */

/* Whether staging servers of this version run jobs of this kind. */
int job_kind_known(const char *kind);
/* A queued job; its id into *id. params: a JSON object (NULL: {}). */
int job_create(sqlite3 *db, int64_t machine_ref, const char *kind, const json_t *params,
	       const char *owner, int64_t now, int64_t *id);
/* The machine's newest `limit` jobs, newest first, each with its log. */
int jobs_machine_json(sqlite3 *db, int64_t machine_ref, unsigned limit, json_t **out);
/* One job of the machine: -ENOENT if it has none with this id. */
int job_json(sqlite3 *db, int64_t machine_ref, int64_t id, json_t **out);

/* Apply staging_ref's reports (checked by sync_request_check). Reports of
 * jobs not delivered to it, or already ended, change nothing. */
int jobs_apply_reports(sqlite3 *db, int64_t staging_ref, const json_t *reports, int64_t now);
/* Deliver the queued jobs of machines staging_ref stores, then list every
 * job it has and has not ended: [{"id","kind","machine","params"}]. */
int jobs_for_staging(sqlite3 *db, int64_t staging_ref, int64_t now, json_t **out);

#endif
