// SPDX-License-Identifier: GPL-2.0-or-later
/* Running the console's jobs and reporting on them (jobs.h). */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "launch_job.h"
#include "log.h"
#include "points.h"
#include "util.h"

struct job {
	struct job *next;
	json_int_t id;
	char kind[64];
	char machine[64];
	json_t *params;
	job_fn run;
	pthread_t thread;
	int joined;

	/* under mu */
	int ended;          /* 0 running, 1 succeeded, -1 failed */
	json_t *result;
	char error[JOB_LINE_LEN + 1];
	json_t *log;        /* [{"seq","at","line"}] */
	json_int_t seq_base; /* lines the console had before this run (a restart) */
	json_int_t sent_seq; /* lines up to here are with the console */
	int end_sent;       /* the console has the end */
	int listed;         /* in the console's newest list */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct job *jobs;
static const char *store;
static void (*wake_sync)(void);
static atomic_int stopping;

int jobs_stopping(void)
{
	return atomic_load(&stopping);
}

static int utf8_valid(const char *s)
{
	json_t *v = json_string(s);
	int ok = v != NULL;

	json_decref(v);
	return ok;
}

const char *job_machine(const struct job *j)
{
	return j->machine;
}

const json_t *job_params(const struct job *j)
{
	return j->params;
}

const char *job_store(void)
{
	return store;
}

void job_log(struct job *j, const char *fmt, ...)
{
	char line[JOB_LINE_LEN + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a child's stderr may carry any bytes (a guest's serial console), and
	 * a line cut at its length may split a character: JSON wants UTF-8 */
	if (!utf8_valid(line))
		text_to_ascii(line);
	log_info("job %lld (%s, machine %s): %s", (long long)j->id, j->kind, j->machine, line);
	pthread_mutex_lock(&mu);
	if (json_array_size(j->log) < JOB_LOG_LINES_MAX)
		json_array_append_new(j->log, json_pack("{s:I, s:I, s:s}", "seq",
							j->seq_base + (json_int_t)json_array_size(j->log) + 1,
							"at", (json_int_t)time(NULL), "line", line));
	pthread_mutex_unlock(&mu);
}

/* refresh-points: list the machine's points now (the same sync that
 * reports the end carries the list). */
static int run_refresh_points(struct job *j, json_t **result, char *error, size_t errlen)
{
	json_t *list = NULL;
	size_t n;
	int rc = points_list_json(store, j->machine, &list);

	if (rc) {
		snprintf(error, errlen, "cannot list the recovery points of %s: %s", j->machine,
			 strerror(-rc));
		return rc;
	}
	n = json_array_size(json_object_get(list, "points"));
	json_decref(list);
	job_log(j, "machine %s has %zu recovery point%s on this staging server", j->machine, n,
		n == 1 ? "" : "s");
	*result = json_pack("{s:I}", "points", (json_int_t)n);
	return *result ? 0 : -ENOMEM;
}

static const struct {
	const char *kind;
	job_fn run;
} kinds[] = {
	{ "refresh-points", run_refresh_points },
	{ "launch", launch_job_run },
	{ "destroy", destroy_job_run },
};

static void *job_thread(void *arg)
{
	struct job *j = arg;
	char error[JOB_LINE_LEN + 1] = "";
	json_t *result = NULL;
	int rc;

	job_log(j, "started");
	rc = j->run(j, &result, error, sizeof(error));
	if (!utf8_valid(error))
		text_to_ascii(error);
	if (!rc)
		job_log(j, "succeeded");
	else
		job_log(j, "failed: %s", error[0] ? error : strerror(-rc));
	pthread_mutex_lock(&mu);
	j->ended = rc ? -1 : 1;
	j->result = rc ? NULL : result;
	snprintf(j->error, sizeof(j->error), "%s", error[0] ? error : strerror(-rc));
	pthread_mutex_unlock(&mu);
	if (rc)
		json_decref(result);
	if (wake_sync)
		wake_sync();
	return NULL;
}

void jobs_init(const char *store_dir, void (*wake)(void))
{
	store = store_dir;
	wake_sync = wake;
}

static struct job *job_new(const json_t *spec)
{
	const char *kind = json_string_value(json_object_get(spec, "kind"));
	const char *machine = json_string_value(json_object_get(spec, "machine"));
	struct job *j;

	if (!json_is_integer(json_object_get(spec, "id")) || !kind || !machine ||
	    !name_valid(machine) || strlen(kind) >= sizeof(j->kind))
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j || !(j->log = json_array())) {
		free(j);
		return NULL;
	}
	j->id = json_integer_value(json_object_get(spec, "id"));
	strcpy(j->kind, kind);
	strcpy(j->machine, machine);
	j->params = json_incref(json_object_get(spec, "params"));
	/* a job run again after a restart numbers its lines after the
	 * console's, which keeps one line per number */
	if (json_integer_value(json_object_get(spec, "log_seq")) > 0)
		j->seq_base = json_integer_value(json_object_get(spec, "log_seq"));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].kind, kind))
			j->run = kinds[i].run;
	return j;
}

static void job_free(struct job *j)
{
	if (!j->joined && j->run)
		pthread_join(j->thread, NULL);
	json_decref(j->params);
	json_decref(j->result);
	json_decref(j->log);
	free(j);
}

/* Under mu: a new job, started, or failed at once when it cannot be. */
static void job_start(struct job *j)
{
	int rc;

	j->listed = 1;
	j->next = jobs;
	jobs = j;
	if (!j->run) {
		j->ended = -1;
		j->joined = 1;
		snprintf(j->error, sizeof(j->error), "this staging server (livemig %s) does not "
			 "know job kind '%s'", LIVEMIG_VERSION, j->kind);
		log_warn("job %lld: %s", (long long)j->id, j->error);
		return;
	}
	rc = pthread_create(&j->thread, NULL, job_thread, j);
	if (rc) {
		j->ended = -1;
		j->joined = 1;
		j->run = NULL;
		snprintf(j->error, sizeof(j->error), "cannot start a thread: %s", strerror(rc));
	}
}

void jobs_receive(const json_t *list)
{
	struct job **pp, *j, *gone = NULL;
	const json_t *spec;
	size_t i;

	pthread_mutex_lock(&mu);
	for (j = jobs; j; j = j->next)
		j->listed = 0;
	json_array_foreach(list, i, spec) {
		json_int_t id = json_integer_value(json_object_get(spec, "id"));

		for (j = jobs; j && j->id != id; j = j->next)
			;
		if (j) {
			j->listed = 1;
			continue;
		}
		j = job_new(spec);
		if (!j) {
			log_warn("the console sent a job this server cannot read; ignored");
			continue;
		}
		log_info("job %lld: %s for machine %s from the console", (long long)j->id, j->kind,
			 j->machine);
		job_start(j);
	}
	/* ended, reported, and no longer listed: the console is done with it */
	for (pp = &jobs; (j = *pp);) {
		if (j->end_sent && !j->listed) {
			*pp = j->next;
			j->next = gone;
			gone = j;
		} else {
			pp = &j->next;
		}
	}
	pthread_mutex_unlock(&mu);
	while ((j = gone)) {
		gone = j->next;
		job_free(j);
	}
}

json_t *jobs_reports(void)
{
	json_t *out = json_array();
	struct job *j;

	pthread_mutex_lock(&mu);
	for (j = jobs; j && out; j = j->next) {
		json_t *r, *lines = json_array();
		size_t n = json_array_size(j->log);

		if (j->end_sent)
			continue;
		for (size_t k = (size_t)j->sent_seq; lines && k < n; k++)
			json_array_append(lines, json_array_get(j->log, k));
		r = json_pack("{s:I, s:s, s:o}", "id", j->id, "state",
			      j->ended > 0 ? "succeeded" : j->ended < 0 ? "failed" : "running",
			      "log", lines ? lines : json_array());
		if (r && j->ended > 0 && j->result)
			json_object_set(r, "result", j->result);
		if (r && j->ended < 0)
			json_object_set_new(r, "error", json_string(j->error));
		if (r)
			json_array_append_new(out, r);
	}
	pthread_mutex_unlock(&mu);
	return out;
}

void jobs_reported(const json_t *reports)
{
	const json_t *r;
	struct job *j;
	size_t i;

	pthread_mutex_lock(&mu);
	json_array_foreach(reports, i, r) {
		json_int_t id = json_integer_value(json_object_get(r, "id"));
		const char *state = json_string_value(json_object_get(r, "state"));

		for (j = jobs; j && j->id != id; j = j->next)
			;
		if (!j)
			continue;
		j->sent_seq += (json_int_t)json_array_size(json_object_get(r, "log"));
		if (state && strcmp(state, "running"))
			j->end_sent = 1;
	}
	pthread_mutex_unlock(&mu);
}

void jobs_shutdown(void)
{
	struct job *j;

	atomic_store(&stopping, 1);
	pthread_mutex_lock(&mu);
	j = jobs;
	jobs = NULL;
	pthread_mutex_unlock(&mu);
	while (j) {
		struct job *next = j->next;

		job_free(j);
		j = next;
	}
}
