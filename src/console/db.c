// SPDX-License-Identifier: GPL-2.0-or-later
/* Opening connections, transactions and small helpers over the SQLite API. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "console.h"
#include "log.h"

/* Long enough to queue behind every other writer's short transaction
 * (a registration burst), short enough that a stuck lock is reported. */
#define DB_BUSY_TIMEOUT_MS 15000

int64_t console_now(void)
{
	return (int64_t)time(NULL);
}

int db_err(sqlite3 *db, int rc, const char *what)
{
	int primary = rc & 0xff;

	/* A constraint is an expected answer (a name already taken): the
	 * caller says so in its own words. */
	log_msg(primary == SQLITE_CONSTRAINT ? LOG_LVL_DEBUG : LOG_LVL_ERROR, "database: %s: %s",
		what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		return -EBUSY;
	if (primary == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (primary == SQLITE_NOMEM)
		return -ENOMEM;
	if (primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_CANTOPEN)
		return -EACCES;
	return -EIO;
}

int db_open(const char *path, int create, sqlite3 **out, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	if (create && strcmp(path, ":memory:")) {
		/* SQLite would create the file with the umask's mode (0644 under
		 * most): it holds password and secret hashes. Its journal and
		 * WAL files take the database file's mode. */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s%s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
			 create ? "" : " (create it with `livemig-console admin --db FILE create-account`"
				       " or start `livemig-console serve`)");
		sqlite3_close(db);
		return -ENOENT;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	/* Off by default in SQLite, per connection: without it the REFERENCES
	 * clauses are decoration (PostgreSQL always enforces them). */
	rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -EIO;
	}
	*out = db;
	return 0;
}

int db_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, &st, "PRAGMA user_version");

	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = db_err(db, rc, "reading the schema version");
	}
	sqlite3_finalize(st);
	return rc;
}

int db_open_ready(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db;
	int rc, version = 0;

	rc = db_open(path, 0, &db, err, errlen);
	if (rc)
		return rc;
	rc = db_user_version(db, &version);
	if (!rc && version != db_schema_version) {
		snprintf(err, errlen,
			 "database %s has schema version %d, this program needs %d "
			 "(run `livemig-console serve` once to migrate it, or use a matching program)",
			 path, version, db_schema_version);
		rc = -EPROTO;
	} else if (rc) {
		snprintf(err, errlen, "database %s: cannot read its schema version", path);
	}
	if (rc) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

int db_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(db, rc, sql);
}

int db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT");
}

void db_rollback(sqlite3 *db)
{
	/* Harmless when no transaction is open (SQLite may already have
	 * rolled back after an error); nothing useful to do if it fails. */
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : db_err(db, rc, sql);
}

const char *db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

int64_t db_int_or(sqlite3_stmt *st, int col, int64_t dflt)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return dflt;
	return (int64_t)sqlite3_column_int64(st, col);
}

json_t *db_json_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? json_null()
		       : json_integer((json_int_t)sqlite3_column_int64(st, col));
}

json_t *db_json_text(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null()
							    : json_string(db_text(st, col));
}
