// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The PostgreSQL engine behind db.h, through libpq. Several console
 * instances may share one database:
 *  - writers serialize on a transaction-scoped advisory lock taken by
 *    db_begin, the same for every instance: what BEGIN IMMEDIATE gives on
 *    SQLite, so a read-then-write step (the license check) sees every
 *    earlier writer's commit and no later one's; lock_timeout plays the
 *    busy timeout's part;
 *  - placeholders are rewritten to $N once, at prepare (db_pg_sql.c);
 *  - a statement runs at its first db_step; its rows are then handed out
 *    one by one. The whole result is fetched at once, not in single-row
 *    mode: the callers may run another statement on the connection while
 *    stepping one, which single-row mode forbids; their queries are
 *    bounded (LIMIT, one machine's rows);
 *  - the schema version is a one-row table, schema_version.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_engine.h"
#include "db_pg_sql.h"
#include "log.h"

/* pg_type OIDs (server/catalog/pg_type_d.h, stable across releases) */
#define PG_BOOLOID 16
#define PG_INT8OID 20

/* The writers' lock: one key for every console instance ("livemig" in
 * ASCII). Other applications sharing the database would have to avoid it. */
#define PG_WRITERS_LOCK "30515254713477479"
/* as long as SQLite's busy timeout */
#define PG_LOCK_TIMEOUT "15s"

struct pg_db {
	struct db db; /* first: the engine-neutral head */
	PGconn *c;
	int64_t changes;
	char msg[512]; /* the last failure's message */
};

struct pg_stmt {
	struct db_stmt st; /* first */
	char *sql;         /* with $N placeholders */
	int nparams;
	char **vals;       /* owned; NULL: SQL NULL */
	Oid *types;        /* 0: let the server infer it from the context */
	int bind_err;      /* -errno of the first failed bind */
	int want_id;       /* db_prepare_insert: RETURNING id appended */
	PGresult *res;     /* NULL until the first step */
	int row, nrows;
};

static struct pg_db *D(struct db *db)
{
	return (struct pg_db *)db;
}

static struct pg_stmt *S(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

static void set_msg(struct pg_db *d, const char *m)
{
	size_t n;

	snprintf(d->msg, sizeof(d->msg), "%s", m && *m ? m : "unknown error");
	n = strlen(d->msg);
	while (n && (d->msg[n - 1] == '\n' || d->msg[n - 1] == ' '))
		d->msg[--n] = '\0';
}

/* A failed result's SQLSTATE -> -errno, the mapping every caller handles */
static int pg_errno(struct pg_db *d, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	set_msg(d, r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(d->c));
	if (!state)
		return PQstatus(d->c) == CONNECTION_OK ? -ENOMEM : -EIO;
	if (!strncmp(state, "23", 2)) /* integrity constraint violation */
		return -EEXIST;
	/* serialization_failure, deadlock_detected, lock_not_available,
	 * query_canceled (a timeout) */
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03") ||
	    !strcmp(state, "57014"))
		return -EBUSY;
	if (!strcmp(state, "53200")) /* out_of_memory */
		return -ENOMEM;
	if (!strcmp(state, "42501") || !strncmp(state, "28", 2)) /* privilege, authorization */
		return -EACCES;
	return -EIO;
}

/* Run SQL without parameters; 0 or -errno (logged with what). */
static int pg_run(struct db *db, const char *sql, const char *what)
{
	PGresult *r = PQexec(D(db)->c, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = db_err(db, pg_errno(D(db), r), what);
	PQclear(r);
	return rc;
}

static int pg_exec(struct db *db, const char *sql)
{
	return pg_run(db, sql, sql);
}

static void pg_close(struct db *db)
{
	PQfinish(D(db)->c);
	free(db);
}

static int pg_migrate_prepare(struct db *db, char *err, size_t errlen)
{
	/* identity columns came with PostgreSQL 10 */
	if (PQserverVersion(D(db)->c) < 100000) {
		snprintf(err, errlen, "PostgreSQL %d is too old: the console needs 10 or newer",
			 PQserverVersion(D(db)->c) / 10000);
		return -ENOTSUP;
	}
	return 0;
}

static int pg_migrate_exec(struct db *db, const char *sql)
{
	char *pg = db_pg_schema(sql);
	int rc;

	if (!pg)
		return -ENOMEM;
	rc = pg_run(db, pg, "applying a migration");
	free(pg);
	return rc;
}

/* One integer from a one-row query; 0 or -errno. */
static int pg_query_int(struct db *db, const char *sql, int64_t *out)
{
	PGresult *r = PQexec(D(db)->c, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = db_err(db, pg_errno(D(db), r), sql);
	else if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		rc = -ENOENT;
	else if (PQftype(r, 0) == PG_BOOLOID)
		*out = PQgetvalue(r, 0, 0)[0] == 't';
	else
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

static int pg_version_get(struct db *db, int *out)
{
	int64_t exists = 0, v = 0;
	int rc = pg_query_int(db, "SELECT to_regclass('schema_version') IS NOT NULL", &exists);

	if (rc)
		return rc;
	if (exists) {
		rc = pg_query_int(db, "SELECT version FROM schema_version", &v);
		if (rc == -ENOENT) /* made, and never written */
			v = 0, rc = 0;
	}
	*out = (int)v;
	return rc;
}

static int pg_version_set(struct db *db, int version)
{
	char sql[192];

	/* version is our own int: no parameter needed */
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
		 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
		 version);
	return pg_run(db, sql, "writing the schema version");
}

static void pg_rollback(struct db *db);

static int pg_begin(struct db *db)
{
	int rc = pg_run(db, "BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITERS_LOCK ")",
			"taking the writers' lock");

	/* not had in time: no transaction left open behind the error */
	if (rc)
		pg_rollback(db);
	return rc;
}

/* Without the writers' lock: the statements' own row locks serialize
 * (SELECT ... FOR UPDATE SKIP LOCKED, db_skip_locked). */
static int pg_begin_rows(struct db *db)
{
	return pg_run(db, "BEGIN", "BEGIN");
}

static int pg_commit(struct db *db)
{
	return pg_run(db, "COMMIT", "COMMIT");
}

static void pg_rollback(struct db *db)
{
	if (PQtransactionStatus(D(db)->c) != PQTRANS_IDLE)
		PQclear(PQexec(D(db)->c, "ROLLBACK"));
}

static int pg_prepare(struct db *db, struct db_stmt **out, const char *sql, int want_id)
{
	struct pg_stmt *s = calloc(1, sizeof(*s));
	char *with_id = NULL;

	if (!s)
		return -ENOMEM;
	s->st.db = db;
	s->want_id = want_id;
	if (want_id && asprintf(&with_id, "%s RETURNING id", sql) < 0)
		with_id = NULL;
	s->sql = want_id && !with_id ? NULL : db_pg_placeholders(with_id ? with_id : sql, &s->nparams);
	free(with_id);
	if (s->sql && s->nparams) {
		s->vals = calloc((size_t)s->nparams, sizeof(*s->vals));
		s->types = calloc((size_t)s->nparams, sizeof(*s->types));
	}
	if (!s->sql || (s->nparams && (!s->vals || !s->types))) {
		free(s->sql);
		free(s->vals);
		free(s->types);
		free(s);
		set_msg(D(db), "out of memory, or a placeholder number above 999");
		return db_err(db, -ENOMEM, sql);
	}
	*out = &s->st;
	return 0;
}

static void pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *s = S(st);

	for (int i = 0; i < s->nparams; i++)
		free(s->vals[i]);
	free(s->vals);
	free(s->types);
	free(s->sql);
	PQclear(s->res);
	free(s);
}

/* Store parameter i's text (NULL: SQL NULL; copied) and type. */
static void pg_bind(struct db_stmt *st, int i, const char *text, Oid type)
{
	struct pg_stmt *s = S(st);
	char *copy = NULL;

	if (i < 1 || i > s->nparams) {
		if (!s->bind_err)
			s->bind_err = -ERANGE;
		return;
	}
	if (text && !(copy = strdup(text))) {
		if (!s->bind_err)
			s->bind_err = -ENOMEM;
		return;
	}
	free(s->vals[i - 1]);
	s->vals[i - 1] = copy;
	s->types[i - 1] = type;
}

static void pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	pg_bind(st, i, buf, PG_INT8OID);
}

static void pg_bind_text(struct db_stmt *st, int i, const char *text)
{
	/* untyped, as a literal: the column or the operator gives the type */
	pg_bind(st, i, text, 0);
}

static void pg_bind_null(struct db_stmt *st, int i)
{
	pg_bind(st, i, NULL, 0);
}

static int pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = S(st);
	struct pg_db *d = D(st->db);

	if (!s->res) {
		ExecStatusType status;
		const char *cmd;

		if (s->bind_err) {
			set_msg(d, s->bind_err == -ERANGE ? "no such parameter" : "out of memory");
			return s->bind_err;
		}
		s->res = PQexecParams(d->c, s->sql, s->nparams, s->types,
				      (const char *const *)s->vals, NULL, NULL, 0);
		status = PQresultStatus(s->res);
		if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
			int rc = pg_errno(d, s->res);

			PQclear(s->res);
			s->res = NULL;
			return rc;
		}
		cmd = PQcmdStatus(s->res);
		if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) ||
		    !strncmp(cmd, "DELETE", 6))
			d->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		s->nrows = status == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
		s->row = -1;
		if (s->want_id) {
			/* an INSERT's own answer: no row for the caller */
			if (s->nrows == 1)
				st->inserted_id = strtoll(PQgetvalue(s->res, 0, 0), NULL, 10);
			s->nrows = 0;
		}
	}
	if (s->row + 1 < s->nrows) {
		s->row++;
		return DB_ROW;
	}
	s->row = s->nrows;
	return DB_DONE;
}

static int pg_column_is_null(struct db_stmt *st, int col)
{
	struct pg_stmt *s = S(st);

	if (!s->res || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
		return 1;
	return PQgetisnull(s->res, s->row, col);
}

static int64_t pg_column_int64(struct db_stmt *st, int col)
{
	struct pg_stmt *s = S(st);
	const char *v;

	if (pg_column_is_null(st, col))
		return 0;
	v = PQgetvalue(s->res, s->row, col);
	/* SQLite answers a comparison with 0 or 1; PostgreSQL with f or t */
	if (PQftype(s->res, col) == PG_BOOLOID)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_column_text(struct db_stmt *st, int col)
{
	struct pg_stmt *s = S(st);

	return pg_column_is_null(st, col) ? NULL : PQgetvalue(s->res, s->row, col);
}

static int64_t pg_changes(struct db *db)
{
	return D(db)->changes;
}

static const char *pg_errmsg(struct db *db)
{
	return D(db)->msg;
}

static const struct db_ops pg_ops = {
	.engine = DB_ENGINE_POSTGRESQL,
	.kept_per_thread = 1,
	.close = pg_close,
	.migrate_prepare = pg_migrate_prepare,
	.migrate_exec = pg_migrate_exec,
	.version_get = pg_version_get,
	.version_set = pg_version_set,
	.begin = pg_begin,
	.begin_rows = pg_begin_rows,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.column_is_null = pg_column_is_null,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.changes = pg_changes,
	.errmsg = pg_errmsg,
};

/* The server's notices (CREATE TABLE IF NOT EXISTS on an existing table)
 * are not for the operator's terminal. */
static void pg_notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_LVL_DEBUG, "database: %s", message);
}

int db_pg_open(const char *uri, struct db **out, char *err, size_t errlen)
{
	struct pg_db *d;
	PGconn *c = PQconnectdb(uri);
	int rc;

	if (!c) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return -ENOMEM;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char *o = err;

		/* libpq's message names host and port, never the password; its
		 * lines (the second one has the remedy) become one */
		snprintf(err, errlen, "cannot connect to PostgreSQL database %s: %s", PQdb(c),
			 PQerrorMessage(c));
		for (const char *p = err; *p; p++)
			if (!isspace((unsigned char)*p))
				*o++ = *p;
			else if (o > err && o[-1] != ' ' && p[1] && !isspace((unsigned char)p[1]))
				*o++ = ' ';
		*o = '\0';
		PQfinish(c);
		return -ENOENT;
	}
	PQsetNoticeProcessor(c, pg_notice, NULL);
	d = calloc(1, sizeof(*d));
	if (!d) {
		PQfinish(c);
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return -ENOMEM;
	}
	d->db.ops = &pg_ops;
	d->c = c;
	rc = pg_run(&d->db, "SET lock_timeout = '" PG_LOCK_TIMEOUT "'", "setting lock_timeout");
	if (rc) {
		snprintf(err, errlen, "PostgreSQL database %s: %s", PQdb(c), d->msg);
		pg_close(&d->db);
		return rc;
	}
	*out = &d->db;
	return 0;
}
