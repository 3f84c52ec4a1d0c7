/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's SQLite database. Each thread (each HTTP request, the admin
 * command) opens its own connection: SQLite connections are cheap, and
 * sharing one would serialize readers for nothing. Writers serialize on
 * BEGIN IMMEDIATE with a busy timeout, which is what makes the license
 * check-and-consume step atomic (docs/console-api.md).
 */
#ifndef LIVEMIG_CONSOLE_DB_H
#define LIVEMIG_CONSOLE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

/* Newest schema version this program knows (db_schema.c). */
extern const int db_schema_version;

/* Open (creating it if create) a database file: busy timeout, foreign keys.
 * 0 or -errno with a message in err. Does not migrate. */
int db_open(const char *path, int create, sqlite3 **out, char *err, size_t errlen);
/* Bring the schema up to db_schema_version (WAL mode, ordered migrations,
 * each in its own transaction). Refuses a database newer than this program.
 * 0 or -errno with a message in err. */
int db_migrate(sqlite3 *db, char *err, size_t errlen);
/* db_open + check the schema is current (the server migrates at start;
 * request handlers only check). */
int db_open_ready(const char *path, sqlite3 **out, char *err, size_t errlen);
int db_user_version(sqlite3 *db, int *out);

/* BEGIN IMMEDIATE: take the write lock now, so a read-then-write step
 * cannot interleave with another writer's. 0 or -errno. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

int db_exec(sqlite3 *db, const char *sql);
int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql);
/* Map an SQLite result code to -errno (BUSY -> -EBUSY, CONSTRAINT ->
 * -EEXIST, others -EIO) and log the database's message. */
int db_err(sqlite3 *db, int rc, const char *what);

/* Column helpers: text as "" when NULL; integers with NULL as dflt. */
const char *db_text(sqlite3_stmt *st, int col);
int64_t db_int_or(sqlite3_stmt *st, int col, int64_t dflt);
/* A column as a new JSON value for an API reply: null when NULL. */
json_t *db_json_int(sqlite3_stmt *st, int col);
json_t *db_json_text(sqlite3_stmt *st, int col);

#endif
