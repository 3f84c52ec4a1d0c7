/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Jobs the console hands to this staging server (docs/staging-console.md).
 * Every sync answer lists the jobs the console expects this server to be
 * working on; a job id seen for the first time starts a thread of its
 * kind. Progress (log lines, the end with a result or an error) goes back
 * in the next syncs until the console has it. Nothing is kept on disk: a
 * job the console lists again after a restart starts again, so each kind
 * must either resume from what it finds or fail saying so.
 */
#ifndef LIVEMIG_STAGING_JOBS_H
#define LIVEMIG_STAGING_JOBS_H

#include <jansson.h>

#define JOB_LOG_LINES_MAX 1000 /* per job; the console keeps as many */
#define JOB_LINE_LEN      1000

/* store_dir: the staging store; wake: asks the sync thread to report now. */
void jobs_init(const char *store_dir, void (*wake)(void));
/* The console's list: [{"id","kind","machine","params"}]; start the new. */
void jobs_receive(const json_t *list);
/* The reports to send: [{"id","state","log","result"|"error"}]. New ref. */
json_t *jobs_reports(void);
/* The console stored these reports (its answer was 200). */
void jobs_reported(const json_t *reports);
/* Wait for running jobs to end; a long kind polls jobs_stopping() and
 * returns (failed, "staging stopped") when it is set. */
void jobs_shutdown(void);
int jobs_stopping(void);

/* ---- for the kinds (jobs.c's table; launch_job.h) ---- */
struct job;
/* A kind's work: 0 with *result (an object), or -errno with error set. */
typedef int (*job_fn)(struct job *j, json_t **result, char *error, size_t errlen);
/* A line of the job's log (to the console, and to staging's own log). */
void job_log(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *job_machine(const struct job *j);
const json_t *job_params(const struct job *j); /* NULL when the console sent none */
const char *job_store(void);

#endif
