/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a database engine implements behind db.h: db.c dispatches each call
 * through the connection's ops. Only db.c, db_schema.c and the engines
 * (db_sqlite.c, db_pg.c) include this.
 */
#ifndef LIVEMIG_CONSOLE_DB_ENGINE_H
#define LIVEMIG_CONSOLE_DB_ENGINE_H

#include "db.h"

struct db_ops {
	enum db_engine engine;
	int kept_per_thread; /* db_open_request keeps connections (db_thread.c) */
	void (*close)(struct db *db);
	/* once per migrate run, outside any transaction (SQLite: WAL mode) */
	int (*migrate_prepare)(struct db *db, char *err, size_t errlen);
	/* one migration's text, as written in db_schema.c */
	int (*migrate_exec)(struct db *db, const char *sql);
	int (*version_get)(struct db *db, int *out);
	int (*version_set)(struct db *db, int version);
	int (*begin)(struct db *db);
	int (*begin_rows)(struct db *db);
	int (*commit)(struct db *db);
	void (*rollback)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	/* want_id: an INSERT whose new id db_inserted_id returns */
	int (*prepare)(struct db *db, struct db_stmt **st, const char *sql, int want_id);
	void (*finalize)(struct db_stmt *st);
	void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	void (*bind_text)(struct db_stmt *st, int i, const char *s);
	void (*bind_null)(struct db_stmt *st, int i);
	int (*step)(struct db_stmt *st);
	int (*column_is_null)(struct db_stmt *st, int col);
	int64_t (*column_int64)(struct db_stmt *st, int col);
	const char *(*column_text)(struct db_stmt *st, int col);
	int64_t (*changes)(struct db *db);
	const char *(*errmsg)(struct db *db);
};

/* The head of every engine's connection and statement. */
struct db {
	const struct db_ops *ops;
};

struct db_stmt {
	struct db *db;
	int64_t inserted_id; /* set by the engine's step, for db_prepare_insert */
};

int db_sqlite_open(const char *path, int create, struct db **out, char *err, size_t errlen);
int db_pg_open(const char *uri, struct db **out, char *err, size_t errlen);

#endif
