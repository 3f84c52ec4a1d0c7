/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's database, behind one small API that two engines implement
 * (docs/console-database.md): SQLite, a file, the default; and PostgreSQL
 * through libpq, which several console instances can share. Callers write
 * one SQL text with `?` or `?N` placeholders, in the subset both engines
 * accept; what still differs (placeholders, the schema version, column
 * types in the schema, the writers' lock) is the engines' business, in
 * db_sqlite.c and db_pg.c.
 *
 * Each thread (each HTTP thread, the admin command) has its own
 * connection. Writers serialize on db_begin: with SQLite, BEGIN IMMEDIATE
 * with a busy handler; with PostgreSQL, a transaction-scoped advisory lock
 * that every console instance takes. That is what makes the license
 * check-and-consume step atomic (docs/console-api.md). Two kinds of
 * writes need not wait for every other writer on PostgreSQL: claiming
 * jobs (db_begin_rows) and a heartbeat, which writes its own machine's
 * rows only (db_begin_machine); docs/console-database.md, "Locks".
 */
#ifndef LIVEMIG_CONSOLE_DB_H
#define LIVEMIG_CONSOLE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct db;      /* one connection */
struct db_stmt; /* one prepared statement of a connection */

enum db_engine { DB_ENGINE_SQLITE, DB_ENGINE_POSTGRESQL };

/* db_step's answers, besides -errno */
#define DB_ROW 100  /* a row is ready for the column getters */
#define DB_DONE 101 /* no (more) rows; the statement has run to its end */

/* Newest schema version this program knows (db_schema.c). */
extern const int db_schema_version;

/* Which engine a --db value names: postgresql:// or postgres:// (a libpq
 * connection URI) is PostgreSQL; anything else is an SQLite file. */
enum db_engine db_engine_of(const char *target);
/* Open (creating it if create: a file for SQLite; a PostgreSQL database is
 * never created) a connection. 0 or -errno with a message in err, which
 * never holds a password. Does not migrate. */
int db_open(const char *target, int create, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
enum db_engine db_engine(const struct db *db);
/* Bring the schema up to db_schema_version (ordered migrations, each in its
 * own transaction). Refuses a database newer than this program.
 * 0 or -errno with a message in err. */
int db_migrate(struct db *db, char *err, size_t errlen);
/* db_open + check the schema is current (the server migrates at start;
 * request handlers only check). */
int db_open_ready(const char *target, struct db **out, char *err, size_t errlen);
/* A connection for one HTTP request, from a thread that serves many.
 * PostgreSQL: the thread keeps its connection between requests (a new one
 * starts a server process), checked at the current schema each time and
 * made anew when that fails; closed when the thread ends. SQLite: a new
 * connection each time, opening one costs microseconds. db_release ends
 * the request: a transaction left open is rolled back, never committed. */
int db_open_request(const char *target, struct db **out, char *err, size_t errlen);
void db_release(struct db *db);
/* The number of migrations applied (SQLite: PRAGMA user_version;
 * PostgreSQL: the schema_version table; 0 on an empty database). */
int db_version_get(struct db *db, int *out);
int db_version_set(struct db *db, int version);

/* Take the writers' lock now, so a read-then-write step cannot interleave
 * with another writer's, in this process or another. 0 or -errno. */
int db_begin(struct db *db);
/* A transaction for work that names the rows it locks, and need not wait
 * for every other writer: PostgreSQL, BEGIN without the writers' lock (its
 * SELECTs end in db_skip_locked, so that two instances never take the same
 * rows and never wait for each other's); SQLite, as db_begin (its one
 * writer serializes). Used to claim jobs (jobs.h). */
int db_begin_rows(struct db *db);
/* What ends such a SELECT: " FOR UPDATE SKIP LOCKED" on PostgreSQL, ""
 * on SQLite. */
const char *db_skip_locked(const struct db *db);
/* A transaction that writes one machine's rows only (a heartbeat,
 * hb_store.h): db_begin_rows, then db_lock_machine. PostgreSQL: no
 * writers' lock, so heartbeats of different machines commit side by side
 * (their WAL flushes grouped); SQLite: as db_begin. -ENOENT when there is
 * no machine row ref (no transaction left open). */
int db_begin_machine(struct db *db, int64_t ref);
/* Inside a transaction: lock machine row ref until its end against every
 * other writer of that row (PostgreSQL: SELECT ... FOR NO KEY UPDATE, which
 * waits for them and which they wait for; SQLite: the transaction's one
 * writer lock has it already). Whoever also takes the writers' lock takes
 * it first (db_begin): never the other way round. 0, -ENOENT (no such
 * row), or -errno (-EBUSY: not had within the lock timeout). */
int db_lock_machine(struct db *db, int64_t ref);
int db_commit(struct db *db);
/* Harmless when no transaction is open. */
void db_rollback(struct db *db);

/* One or more statements without parameters. 0 or -errno. */
int db_exec(struct db *db, const char *sql);
int db_prepare(struct db *db, struct db_stmt **st, const char *sql);
/* An INSERT into a table keyed by an `id` column, when the caller needs
 * the new row's id: SQLite has it from last_insert_rowid, PostgreSQL from
 * the RETURNING id this appends. db_step answers DB_DONE as for any
 * INSERT; then db_inserted_id has the id. */
int db_prepare_insert(struct db *db, struct db_stmt **st, const char *sql);
int64_t db_inserted_id(struct db_stmt *st);
void db_finalize(struct db_stmt *st);
/* Parameters count from 1. The value is copied. A failure (out of memory,
 * no such parameter) is reported by the next db_step. */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_text(struct db_stmt *st, int i, const char *s);
void db_bind_null(struct db_stmt *st, int i);
/* DB_ROW, DB_DONE, or -errno: -EBUSY (the writers' lock was not had in
 * time, or a serialization failure), -EEXIST (a constraint: a name already
 * taken), -ENOMEM, -EACCES, -EIO. The caller logs it with db_err. */
int db_step(struct db_stmt *st);
/* Columns count from 0; valid until the next db_step or db_finalize. */
int db_column_is_null(struct db_stmt *st, int col);
int64_t db_column_int64(struct db_stmt *st, int col);  /* 0 when NULL */
const char *db_column_text(struct db_stmt *st, int col); /* NULL when NULL */
/* Rows the last INSERT, UPDATE or DELETE of this connection changed. */
int64_t db_changes(struct db *db);
const char *db_errmsg(struct db *db);

/* Log a failed step (rc from db_step, or -errno) with the engine's message
 * (at debug level for -EEXIST, an expected answer the caller words itself)
 * and return it as -errno; DB_ROW or DB_DONE where neither was expected
 * becomes -EIO. */
int db_err(struct db *db, int rc, const char *what);

/* Column helpers: text as "" when NULL; integers with NULL as dflt. */
const char *db_text(struct db_stmt *st, int col);
int64_t db_int_or(struct db_stmt *st, int col, int64_t dflt);
/* A column as a new JSON value for an API reply: null when NULL. */
json_t *db_json_int(struct db_stmt *st, int col);
json_t *db_json_text(struct db_stmt *st, int col);

#endif
