// SPDX-License-Identifier: GPL-2.0-or-later
/* The jobs table and its states (jobs.h). */
#include "jobs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "lifecycle.h"

/* The kinds staging runs. */
static const char *const kinds[] = { "refresh-points", JOB_KIND_LAUNCH, JOB_KIND_DESTROY, NULL };

int job_kind_known(const char *kind)
{
	for (const char *const *k = kinds; *k; k++)
		if (!strcmp(*k, kind))
			return 1;
	return 0;
}

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int job_kind_lifecycle(const char *kind)
{
	return !strcmp(kind, JOB_KIND_LAUNCH) || !strcmp(kind, JOB_KIND_DESTROY) ||
	       !strcmp(kind, JOB_KIND_CUTOVER_POINT) || !strcmp(kind, JOB_KIND_FINALIZE);
}

int job_create(struct db *db, int64_t machine_ref, const char *kind, const json_t *params,
	       const char *owner, int64_t now, int64_t *id)
{
	return job_create_on(db, machine_ref, 0, kind, params, owner, now, id);
}

int job_create_on(struct db *db, int64_t machine_ref, int64_t staging_ref, const char *kind,
		  const json_t *params, const char *owner, int64_t now, int64_t *id)
{
	char *text = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	struct db_stmt *st;
	int rc;

	if (!text)
		return -ENOMEM;
	rc = db_prepare_insert(db, &st,
			       "INSERT INTO staging_jobs (machine_ref, kind, params, owner, state,"
			       " created_at, staging_ref, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (rc) {
		free(text);
		return rc;
	}
	db_bind_int64(st, 1, machine_ref);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, text);
	db_bind_text(st, 4, owner);
	db_bind_text(st, 5, JOB_QUEUED);
	db_bind_int64(st, 6, now);
	if (staging_ref)
		db_bind_int64(st, 7, staging_ref);
	/* a job queued for one server needs that server's disks: never
	 * taken over by another */
	db_bind_int64(st, 8, staging_ref != 0);
	rc = db_step(st);
	if (rc == DB_DONE)
		*id = db_inserted_id(st);
	db_finalize(st);
	free(text);
	return rc == DB_DONE ? 0 : db_err(db, rc, "queueing a job");
}

static json_t *doc_or_null(struct db_stmt *st, int col)
{
	json_t *j;

	if (db_column_is_null(st, col))
		return json_null();
	j = json_loads(db_text(st, col), 0, NULL);
	return j ? j : json_null();
}

static int job_log_json(struct db *db, int64_t job, json_t **out)
{
	json_t *lines = json_array();
	struct db_stmt *st;
	int rc;

	if (!lines)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"SELECT seq, at, line FROM staging_job_log WHERE job_ref = ? ORDER BY seq");
	if (rc) {
		json_decref(lines);
		return rc;
	}
	db_bind_int64(st, 1, job);
	while ((rc = db_step(st)) == DB_ROW)
		if (json_array_append_new(lines, json_pack("{s:I, s:I, s:s}", "seq",
							   (json_int_t)db_column_int64(st, 0),
							   "at",
							   (json_int_t)db_column_int64(st, 1),
							   "line", db_text(st, 2)))) {
			rc = -ENOMEM;
			break;
		}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "reading a job's log");
	db_finalize(st);
	if (rc)
		json_decref(lines);
	else
		*out = lines;
	return rc;
}

#define JOB_COLUMNS                                                                        \
	"SELECT j.id, j.kind, j.params, j.owner, j.state, s.name, j.created_at,"           \
	" j.delivered_at, j.started_at, j.ended_at, j.result, j.error FROM staging_jobs j" \
	" LEFT JOIN staging_servers s ON s.id = j.staging_ref"

static int jobs_query_json(struct db *db, struct db_stmt *st, json_t **out)
{
	json_t *list = json_array();
	int rc;

	if (!list) {
		db_finalize(st);
		return -ENOMEM;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t id = db_column_int64(st, 0);
		json_t *log = NULL, *o;
		int lrc = job_log_json(db, id, &log);

		if (lrc) {
			db_finalize(st);
			json_decref(list);
			return lrc;
		}
		o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", (json_int_t)id,
			      "kind", db_text(st, 1),
			      "params", doc_or_null(st, 2),
			      "owner", db_text(st, 3),
			      "state", db_text(st, 4),
			      "staging", db_json_text(st, 5),
			      "created", (json_int_t)db_column_int64(st, 6),
			      "delivered", db_json_int(st, 7),
			      "started", db_json_int(st, 8),
			      "ended", db_json_int(st, 9),
			      "result", doc_or_null(st, 10),
			      "error", db_json_text(st, 11),
			      "log", log);
		if (!o || json_array_append_new(list, o)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing jobs");
	db_finalize(st);
	if (rc)
		json_decref(list);
	else
		*out = list;
	return rc;
}

int jobs_machine_json(struct db *db, int64_t machine_ref, unsigned limit, json_t **out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, JOB_COLUMNS " WHERE j.machine_ref = ? ORDER BY j.id DESC LIMIT ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	db_bind_int64(st, 2, limit);
	return jobs_query_json(db, st, out);
}

int job_json(struct db *db, int64_t machine_ref, int64_t id, json_t **out)
{
	json_t *list = NULL;
	struct db_stmt *st;
	int rc = db_prepare(db, &st, JOB_COLUMNS " WHERE j.machine_ref = ? AND j.id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	db_bind_int64(st, 2, id);
	rc = jobs_query_json(db, st, &list);
	if (rc)
		return rc;
	if (!json_array_size(list)) {
		json_decref(list);
		return -ENOENT;
	}
	*out = json_incref(json_array_get(list, 0));
	json_decref(list);
	return 0;
}

static int job_log_append(struct db *db, int64_t job, const json_t *lines)
{
	const json_t *l;
	size_t i;
	int rc = 0;

	json_array_foreach(lines, i, l) {
		struct db_stmt *st;

		/* a sync whose answer was lost is sent again: the same seq is
		 * the same line */
		rc = db_prepare(db, &st,
				"INSERT INTO staging_job_log (job_ref, seq, at, line) SELECT ?1, ?2, ?3, ?4"
				" WHERE (SELECT COUNT(*) FROM staging_job_log WHERE job_ref = ?1) < ?5"
				" ON CONFLICT (job_ref, seq) DO NOTHING");
		if (rc)
			return rc;
		db_bind_int64(st, 1, job);
		db_bind_int64(st, 2, json_integer_value(json_object_get(l, "seq")));
		db_bind_int64(st, 3, json_integer_value(json_object_get(l, "at")));
		db_bind_text(st, 4, json_string_value(json_object_get(l, "line")));
		db_bind_int64(st, 5, JOB_LOG_MAX);
		if ((rc = run(db, st, "storing a job's log line")))
			return rc;
	}
	return rc;
}

static int job_report(struct db *db, int64_t staging_ref, const json_t *r, int64_t now)
{
	const char *state = json_string_value(json_object_get(r, "state"));
	int64_t id = json_integer_value(json_object_get(r, "id"));
	const json_t *result = json_object_get(r, "result");
	int ended = strcmp(state, JOB_RUNNING) != 0;
	char *result_text = NULL;
	struct db_stmt *st;
	int rc;

	if (result && !(result_text = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS)))
		return -ENOMEM;
	/* only this server's unfinished jobs move; a report after the end
	 * (a resent sync) changes nothing */
	rc = db_prepare(db, &st,
			"UPDATE staging_jobs SET state = ?1, started_at = COALESCE(started_at, ?2),"
			" ended_at = CASE WHEN ?3 <> 0 THEN ?2 ELSE NULL END, result = ?4, error = ?5"
			" WHERE id = ?6 AND staging_ref = ?7 AND state IN ('delivered', 'running')");
	if (rc) {
		free(result_text);
		return rc;
	}
	db_bind_text(st, 1, state);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, ended);
	if (result_text)
		db_bind_text(st, 4, result_text);
	if (json_is_string(json_object_get(r, "error")))
		db_bind_text(st, 5, json_string_value(json_object_get(r, "error")));
	db_bind_int64(st, 6, id);
	db_bind_int64(st, 7, staging_ref);
	rc = run(db, st, "recording a job report");
	free(result_text);
	if (rc)
		return rc;
	ended = ended && db_changes(db) > 0;
	/* log lines of a job that just ended come in the same report */
	rc = db_prepare(db, &st, "SELECT 1 FROM staging_jobs WHERE id = ? AND staging_ref = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, staging_ref);
	rc = db_step(st);
	db_finalize(st);
	if (rc == DB_DONE)
		return 0;
	if (rc != DB_ROW)
		return db_err(db, rc, "finding a reported job");
	rc = json_object_get(r, "log") ? job_log_append(db, id, json_object_get(r, "log")) : 0;
	/* the lifecycle moves on when its job ends (once: a resent end
	 * changed no row above) */
	return rc || !ended ? rc : lifecycle_job_ended(db, id, now);
}

int jobs_apply_reports(struct db *db, int64_t staging_ref, const json_t *reports, int64_t now)
{
	const json_t *r;
	size_t i;
	int rc = 0;

	json_array_foreach(reports, i, r)
		if ((rc = job_report(db, staging_ref, r, now)))
			break;
	return rc;
}

/* Up to JOB_CLAIM_MAX ids of jobs staging_ref may take now, oldest first,
 * locked (PostgreSQL: skipping those another instance holds). */
static int claimable(struct db *db, int64_t staging_ref, int64_t now, int64_t ids[JOB_CLAIM_MAX],
		     size_t *n)
{
	char sql[900];
	struct db_stmt *st;
	int rc;

	*n = 0;
	snprintf(sql, sizeof(sql),
		 "SELECT j.id FROM staging_jobs j WHERE j.console_side = 0 AND j.machine_ref IN"
		 " (SELECT machine_ref FROM staging_machines WHERE staging_ref = ?1) AND"
		 " ((j.state = 'queued' AND (j.staging_ref IS NULL OR j.staging_ref = ?1)) OR"
		 " (j.state IN ('delivered', 'running') AND j.pinned = 0 AND j.staging_ref <> ?1"
		 " AND j.lease_until < ?2)) ORDER BY j.id LIMIT %d%s",
		 JOB_CLAIM_MAX, db_skip_locked(db));
	rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, now);
	while ((rc = db_step(st)) == DB_ROW && *n < JOB_CLAIM_MAX)
		ids[(*n)++] = db_column_int64(st, 0);
	db_finalize(st);
	return rc == DB_DONE || rc == DB_ROW ? 0 : db_err(db, rc, "finding jobs to hand out");
}

static int claim(struct db *db, int64_t staging_ref, int64_t now, unsigned lease_s)
{
	int64_t ids[JOB_CLAIM_MAX];
	struct db_stmt *st;
	size_t n;
	int rc;

	/* this server is alive: the jobs it holds stay its own */
	rc = db_prepare(db, &st,
			"UPDATE staging_jobs SET lease_until = ?2 WHERE staging_ref = ?1"
			" AND console_side = 0 AND state IN ('delivered', 'running')");
	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, now + lease_s);
	if ((rc = run(db, st, "renewing job leases")))
		return rc;
	rc = claimable(db, staging_ref, now, ids, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = db_prepare(db, &st,
				"UPDATE staging_jobs SET staging_ref = ?1, state = 'delivered',"
				" delivered_at = ?2, lease_until = ?3, claims = claims + 1 WHERE id = ?4");
		if (rc)
			break;
		db_bind_int64(st, 1, staging_ref);
		db_bind_int64(st, 2, now);
		db_bind_int64(st, 3, now + lease_s);
		db_bind_int64(st, 4, ids[i]);
		rc = run(db, st, "handing out a job");
	}
	return rc;
}

int jobs_for_staging(struct db *db, int64_t staging_ref, int64_t now, unsigned lease_s,
		     json_t **out)
{
	json_t *list = json_array();
	struct db_stmt *st;
	int rc;

	if (!list)
		return -ENOMEM;
	rc = claim(db, staging_ref, now, lease_s);
	if (!rc)
		rc = db_prepare(db, &st,
				"SELECT j.id, j.kind, m.machine_id, j.params,"
				" (SELECT COALESCE(MAX(seq), 0) FROM staging_job_log WHERE job_ref = j.id)"
				" FROM staging_jobs j"
				" JOIN machines m ON m.id = j.machine_ref WHERE j.staging_ref = ?"
				" AND j.console_side = 0 AND j.state IN ('delivered', 'running')"
				" ORDER BY j.id");
	if (rc) {
		json_decref(list);
		return rc;
	}
	db_bind_int64(st, 1, staging_ref);
	while ((rc = db_step(st)) == DB_ROW)
		/* log_seq: the lines held, after which a staging server that
		 * restarted numbers those of the job's new run */
		if (json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:o, s:I}", "id",
							  (json_int_t)db_column_int64(st, 0),
							  "kind", db_text(st, 1), "machine",
							  db_text(st, 2), "params",
							  doc_or_null(st, 3), "log_seq",
							  (json_int_t)db_column_int64(st, 4)))) {
			rc = -ENOMEM;
			break;
		}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing a staging server's jobs");
	db_finalize(st);
	if (rc)
		json_decref(list);
	else
		*out = list;
	return rc;
}

int job_console_start(struct db *db, int64_t machine_ref, const char *kind, const json_t *params,
		      const char *owner, int64_t now, int64_t *id)
{
	struct db_stmt *st;
	int rc = job_create(db, machine_ref, kind, params, owner, now, id);

	if (rc)
		return rc;
	rc = db_prepare(db, &st,
			"UPDATE staging_jobs SET console_side = 1, state = ?, started_at = ? WHERE id = ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, JOB_RUNNING);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, *id);
	return run(db, st, "starting a console job");
}

int job_console_log(struct db *db, int64_t id, int64_t now, const char *line)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO staging_job_log (job_ref, seq, at, line) SELECT ?1,"
			    " COALESCE(MAX(seq), 0) + 1, ?2, ?3 FROM staging_job_log WHERE job_ref = ?1"
			    " HAVING COUNT(*) < ?4");

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, line);
	db_bind_int64(st, 4, JOB_LOG_MAX);
	return run(db, st, "logging a console job's line");
}

int job_end(struct db *db, int64_t id, int64_t now, const json_t *result, const char *error,
	    int *ended)
{
	char *text = result ? json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct db_stmt *st;
	int rc;

	*ended = 0;
	if (result && !text)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"UPDATE staging_jobs SET state = ?1, started_at = COALESCE(started_at, ?2),"
			" ended_at = ?2, result = ?3, error = ?4"
			" WHERE id = ?5 AND state IN ('queued', 'delivered', 'running')");
	if (rc) {
		free(text);
		return rc;
	}
	db_bind_text(st, 1, error ? JOB_FAILED : JOB_SUCCEEDED);
	db_bind_int64(st, 2, now);
	if (text)
		db_bind_text(st, 3, text);
	if (error)
		db_bind_text(st, 4, error);
	db_bind_int64(st, 5, id);
	rc = run(db, st, "ending a job");
	free(text);
	if (!rc)
		*ended = db_changes(db) > 0;
	return rc;
}

int job_params_set(struct db *db, int64_t id, const json_t *params)
{
	char *text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	struct db_stmt *st;
	int rc;

	if (!text)
		return -ENOMEM;
	rc = db_prepare(db, &st, "UPDATE staging_jobs SET params = ? WHERE id = ? AND state = 'queued'");
	if (!rc) {
		db_bind_text(st, 1, text);
		db_bind_int64(st, 2, id);
		rc = run(db, st, "naming a job's instance");
	}
	free(text);
	return rc;
}

int job_params_get(struct db *db, int64_t id, json_t **params)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT params FROM staging_jobs WHERE id = ?");

	*params = NULL;
	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		*params = json_loads(db_text(st, 0), 0, NULL);
	rc = rc == DB_ROW ? (*params ? 0 : -EBADMSG) :
	     rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a job's params");
	db_finalize(st);
	return rc;
}

int jobs_lifecycle_json(struct db *db, int64_t machine_ref, unsigned limit, json_t **out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, JOB_COLUMNS " WHERE j.machine_ref = ? AND j.kind IN"
				     " ('" JOB_KIND_LAUNCH "', '" JOB_KIND_DESTROY "', '"
				     JOB_KIND_CUTOVER_POINT "', '" JOB_KIND_FINALIZE "')"
				     " ORDER BY j.id DESC LIMIT ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	db_bind_int64(st, 2, limit);
	return jobs_query_json(db, st, out);
}
