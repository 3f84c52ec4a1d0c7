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
 * Several console instances may hand jobs out at once: a server claims
 * jobs under a lease that each of its syncs renews; once the lease of a
 * job that is not pinned to its server has run out (the server died or is
 * cut off), another server that stores the machine takes it over
 * (docs/console-database.md, "Handing out jobs with several instances").
 *
 * States: queued -> delivered -> running -> succeeded | failed
 * (delivered -> succeeded | failed directly for a job that ends within
 * one sync interval). A console-side job (the lifecycle's cutover-point
 * wait) is running from its creation and ended by the console.
 */
#ifndef LIVEMIG_CONSOLE_JOBS_H
#define LIVEMIG_CONSOLE_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

#define JOB_QUEUED    "queued"
#define JOB_DELIVERED "delivered"
#define JOB_RUNNING   "running"
#define JOB_SUCCEEDED "succeeded"
#define JOB_FAILED    "failed"

#define JOB_LIST_DEFAULT 20
#define JOB_LEASE_DEFAULT_S 600 /* serve --job-lease */
#define JOB_CLAIM_MAX 20        /* new jobs one sync takes at most: spread over servers */
#define JOB_LOG_MAX      1000 /* lines kept per job */

/* The launch lifecycle's kinds (lifecycle.h): staging runs launch and
 * destroy; the console runs cutover-point and finalize itself (never
 * delivered). */
#define JOB_KIND_LAUNCH        "launch"
#define JOB_KIND_DESTROY       "destroy"
#define JOB_KIND_CUTOVER_POINT "cutover-point"
#define JOB_KIND_FINALIZE      "finalize"

/* Whether staging servers of this version run jobs of this kind. */
int job_kind_known(const char *kind);
/* Whether only the lifecycle creates jobs of this kind. */
int job_kind_lifecycle(const char *kind);
/* A queued job; its id into *id. params: a JSON object (NULL: {}). */
int job_create(struct db *db, int64_t machine_ref, const char *kind, const json_t *params,
	       const char *owner, int64_t now, int64_t *id);
/* The same, delivered only to staging_ref (0: the first server that
 * stores the machine): a launch goes where its point is. */
int job_create_on(struct db *db, int64_t machine_ref, int64_t staging_ref, const char *kind,
		  const json_t *params, const char *owner, int64_t now, int64_t *id);
/* A job the console runs itself: running from now, never delivered. */
int job_console_start(struct db *db, int64_t machine_ref, const char *kind, const json_t *params,
		      const char *owner, int64_t now, int64_t *id);
/* One more line in a console job's log (at most JOB_LOG_MAX are kept). */
int job_console_log(struct db *db, int64_t id, int64_t now, const char *line);
/* End an unfinished job: succeeded with result (error NULL) or failed with
 * error. *ended: 0 when it had ended already (nothing changes). */
int job_end(struct db *db, int64_t id, int64_t now, const json_t *result, const char *error,
	    int *ended);
/* The machine's newest `limit` jobs, newest first, each with its log. */
int jobs_machine_json(struct db *db, int64_t machine_ref, unsigned limit, json_t **out);
/* The same for the lifecycle's kinds only. */
int jobs_lifecycle_json(struct db *db, int64_t machine_ref, unsigned limit, json_t **out);
/* A queued job's params, replaced (the lifecycle names an instance after
 * its job's id). */
int job_params_set(struct db *db, int64_t id, const json_t *params);
/* A job's params (a new reference): -ENOENT without such a job. */
int job_params_get(struct db *db, int64_t id, json_t **params);
/* One job of the machine: -ENOENT if it has none with this id. */
int job_json(struct db *db, int64_t machine_ref, int64_t id, json_t **out);

/* Apply staging_ref's reports (checked by sync_request_check). Reports of
 * jobs not delivered to it, or already ended, change nothing. */
int jobs_apply_reports(struct db *db, int64_t staging_ref, const json_t *reports, int64_t now);
/* Renew the lease of staging_ref's unfinished jobs to now + lease_s, claim
 * (at most JOB_CLAIM_MAX) the queued jobs of machines it stores and the
 * unpinned ones of those machines whose lease ran out on another server,
 * then list every job it has and has not ended:
 * [{"id","kind","machine","params","log_seq"}]. Inside db_begin_rows: on
 * PostgreSQL two instances claiming at once take disjoint jobs. */
int jobs_for_staging(struct db *db, int64_t staging_ref, int64_t now, unsigned lease_s,
		     json_t **out);

#endif
