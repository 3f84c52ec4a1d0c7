// SPDX-License-Identifier: GPL-2.0-or-later
/* The engine-neutral half of db.h: choosing the engine, dispatching each
 * call to it, and the small helpers every caller shares. */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "db_engine.h"
#include "log.h"

int64_t console_now(void)
{
	return (int64_t)time(NULL);
}

enum db_engine db_engine_of(const char *target)
{
	return !strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11)
		       ? DB_ENGINE_POSTGRESQL
		       : DB_ENGINE_SQLITE;
}

int db_open(const char *target, int create, struct db **out, char *err, size_t errlen)
{
	*out = NULL;
	if (db_engine_of(target) == DB_ENGINE_POSTGRESQL)
		return db_pg_open(target, out, err, errlen);
	return db_sqlite_open(target, create, out, err, errlen);
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

enum db_engine db_engine(const struct db *db)
{
	return db->ops->engine;
}

int db_version_get(struct db *db, int *out)
{
	return db->ops->version_get(db, out);
}

int db_version_set(struct db *db, int version)
{
	return db->ops->version_set(db, version);
}

int db_open_ready(const char *target, struct db **out, char *err, size_t errlen)
{
	struct db *db;
	int rc, version = 0;

	rc = db_open(target, 0, &db, err, errlen);
	if (rc)
		return rc;
	rc = db_version_get(db, &version);
	if (!rc && version != db_schema_version) {
		snprintf(err, errlen,
			 "database %s has schema version %d, this program needs %d "
			 "(run `livemig-console serve` once to migrate it, or use a matching program)",
			 db_engine(db) == DB_ENGINE_SQLITE ? target : "(PostgreSQL)", version,
			 db_schema_version);
		rc = -EPROTO;
	} else if (rc) {
		snprintf(err, errlen, "database %s: cannot read its schema version",
			 db_engine(db) == DB_ENGINE_SQLITE ? target : "(PostgreSQL)");
	}
	if (rc) {
		db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

int db_begin(struct db *db)
{
	return db->ops->begin(db);
}

int db_begin_rows(struct db *db)
{
	return db->ops->begin_rows(db);
}

const char *db_skip_locked(const struct db *db)
{
	return db_engine(db) == DB_ENGINE_POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "";
}

int db_lock_machine(struct db *db, int64_t ref)
{
	/* NO KEY UPDATE, not UPDATE: the lock a heartbeat's own UPDATE of the
	 * row takes. It waits for (and holds off) another heartbeat of the
	 * machine, its removal, its registration again, a placement moving
	 * it; it does not hold off the key-share locks that inserts of rows
	 * referencing the machine take (its events, recovery points, jobs,
	 * audit records, its heartbeat bucket) */
	char sql[80];
	struct db_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM machines WHERE id = ?%s",
		 db_engine(db) == DB_ENGINE_POSTGRESQL ? " FOR NO KEY UPDATE" : "");
	rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	rc = db_step(st);
	db_finalize(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? -ENOENT : db_err(db, rc, "locking a machine's row");
}

int db_begin_machine(struct db *db, int64_t ref)
{
	int rc = db_begin_rows(db);

	if (!rc)
		rc = db_lock_machine(db, ref);
	/* no transaction left open behind a refusal */
	if (rc)
		db_rollback(db);
	return rc;
}

int db_commit(struct db *db)
{
	return db->ops->commit(db);
}

void db_rollback(struct db *db)
{
	db->ops->rollback(db);
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int db_prepare(struct db *db, struct db_stmt **st, const char *sql)
{
	*st = NULL;
	return db->ops->prepare(db, st, sql, 0);
}

int db_prepare_insert(struct db *db, struct db_stmt **st, const char *sql)
{
	*st = NULL;
	return db->ops->prepare(db, st, sql, 1);
}

int64_t db_inserted_id(struct db_stmt *st)
{
	return st->inserted_id;
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	st->db->ops->bind_int64(st, i, v);
}

void db_bind_text(struct db_stmt *st, int i, const char *s)
{
	st->db->ops->bind_text(st, i, s);
}

void db_bind_null(struct db_stmt *st, int i)
{
	st->db->ops->bind_null(st, i);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

int db_column_is_null(struct db_stmt *st, int col)
{
	return st->db->ops->column_is_null(st, col);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

const char *db_column_text(struct db_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}

int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}

const char *db_errmsg(struct db *db)
{
	return db ? db->ops->errmsg(db) : "no connection";
}

int db_err(struct db *db, int rc, const char *what)
{
	if (rc >= 0)
		rc = -EIO;
	/* A constraint is an expected answer (a name already taken): the
	 * caller says so in its own words. */
	log_msg(rc == -EEXIST ? LOG_LVL_DEBUG : LOG_LVL_ERROR, "database: %s: %s", what,
		db_errmsg(db));
	return rc;
}

const char *db_text(struct db_stmt *st, int col)
{
	const char *t = db_column_text(st, col);

	return t ? t : "";
}

int64_t db_int_or(struct db_stmt *st, int col, int64_t dflt)
{
	return db_column_is_null(st, col) ? dflt : db_column_int64(st, col);
}

json_t *db_json_int(struct db_stmt *st, int col)
{
	return db_column_is_null(st, col) ? json_null()
					   : json_integer((json_int_t)db_column_int64(st, col));
}

json_t *db_json_text(struct db_stmt *st, int col)
{
	return db_column_is_null(st, col) ? json_null() : json_string(db_text(st, col));
}
