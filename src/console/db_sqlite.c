// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SQLite engine behind db.h: a file, one connection per thread (kept
 * by each HTTP thread, db_thread.c), writers serialized by BEGIN IMMEDIATE
 * with a busy handler, WAL so that readers
 * never wait for the writer, foreign keys enforced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db_engine.h"

/* Long enough to queue behind every other writer's short transaction
 * (a registration burst), short enough that a stuck lock is reported. */
#define DB_BUSY_TIMEOUT_MS 15000
/* How often a writer waiting for the lock tries again. SQLite's own busy
 * timeout backs off to 100 ms sleeps: with the console's HTTP threads all
 * writing (heartbeats), a waiting writer slept on long after the lock was
 * free and p99 passed a second at 50 heartbeats a second
 * (docs/scaling.md). */
#define DB_BUSY_RETRY_US 1000

struct sq_db {
	struct db db; /* first: the engine-neutral head */
	sqlite3 *h;
};

struct sq_stmt {
	struct db_stmt st; /* first */
	sqlite3_stmt *h;
	int bind_rc;       /* the first failed bind, reported by step */
	int want_id;       /* db_prepare_insert */
};

static sqlite3 *H(struct db *db)
{
	return ((struct sq_db *)db)->h;
}

static struct sq_stmt *S(struct db_stmt *st)
{
	return (struct sq_stmt *)st;
}

/* SQLite result code -> -errno, the mapping every caller handles */
static int sq_errno(int rc)
{
	int primary = rc & 0xff;

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

static int sq_fail(struct db *db, int rc, const char *what)
{
	return db_err(db, sq_errno(rc), what);
}

static void sq_close(struct db *db)
{
	sqlite3_close(H(db));
	free(db);
}

static int sq_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(H(db), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_fail(db, rc, sql);
}

static int sq_migrate_prepare(struct db *db, char *err, size_t errlen)
{
	/* WAL: readers (the operator's page) never wait for the writer, and
	 * the setting sticks to the file. It cannot change inside a
	 * transaction, hence here and not in a migration. */
	int rc = sq_exec(db, "PRAGMA journal_mode = WAL");

	if (rc)
		snprintf(err, errlen, "cannot switch the database to WAL mode: %s",
			 sqlite3_errmsg(H(db)));
	return rc;
}

static int sq_version_get(struct db *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(H(db), "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sq_fail(db, rc, "PRAGMA user_version");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = sq_fail(db, rc, "reading the schema version");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_version_set(struct db *db, int version)
{
	char sql[64];

	/* PRAGMA takes no bound parameters; version is our own int. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	return sq_exec(db, sql);
}

static int sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static int sq_commit(struct db *db)
{
	return sq_exec(db, "COMMIT");
}

static void sq_rollback(struct db *db)
{
	/* SQLite may already have rolled back after an error; nothing useful
	 * to do if it fails. */
	if (!sqlite3_get_autocommit(H(db)))
		sqlite3_exec(H(db), "ROLLBACK", NULL, NULL, NULL);
}

static const struct db_ops sq_ops;

/* The busy handler: again every DB_BUSY_RETRY_US, until DB_BUSY_TIMEOUT_MS
 * have passed (counted in sleeps, each at least that long). */
static int sq_busy(void *ctx, int count)
{
	const struct timespec ts = { 0, DB_BUSY_RETRY_US * 1000L };

	(void)ctx;
	if ((long long)count * DB_BUSY_RETRY_US >= DB_BUSY_TIMEOUT_MS * 1000LL)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

static int sq_prepare(struct db *db, struct db_stmt **out, const char *sql, int want_id)
{
	struct sq_stmt *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(H(db), sql, -1, &s->h, NULL);
	if (rc != SQLITE_OK) {
		free(s);
		return sq_fail(db, rc, sql);
	}
	s->st.db = db;
	s->want_id = want_id;
	*out = &s->st;
	return 0;
}

static void sq_finalize(struct db_stmt *st)
{
	sqlite3_finalize(S(st)->h);
	free(st);
}

static void sq_bound(struct db_stmt *st, int rc)
{
	if (rc != SQLITE_OK && !S(st)->bind_rc)
		S(st)->bind_rc = rc;
}

static void sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	sq_bound(st, sqlite3_bind_int64(S(st)->h, i, (sqlite3_int64)v));
}

static void sq_bind_text(struct db_stmt *st, int i, const char *s)
{
	sq_bound(st, sqlite3_bind_text(S(st)->h, i, s, -1, SQLITE_TRANSIENT));
}

static void sq_bind_null(struct db_stmt *st, int i)
{
	sq_bound(st, sqlite3_bind_null(S(st)->h, i));
}

static int sq_step(struct db_stmt *st)
{
	int rc;

	if (S(st)->bind_rc)
		return sq_errno(S(st)->bind_rc);
	rc = sqlite3_step(S(st)->h);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		if (S(st)->want_id)
			st->inserted_id = (int64_t)sqlite3_last_insert_rowid(H(st->db));
		return DB_DONE;
	}
	return sq_errno(rc);
}

static int sq_column_is_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(S(st)->h, col) == SQLITE_NULL;
}

static int64_t sq_column_int64(struct db_stmt *st, int col)
{
	return (int64_t)sqlite3_column_int64(S(st)->h, col);
}

static const char *sq_column_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(S(st)->h, col);
}

static int64_t sq_changes(struct db *db)
{
	return sqlite3_changes(H(db));
}

static const char *sq_errmsg(struct db *db)
{
	return sqlite3_errmsg(H(db));
}

static const struct db_ops sq_ops = {
	.engine = DB_ENGINE_SQLITE,
	.kept_per_thread = 1,
	.close = sq_close,
	.migrate_prepare = sq_migrate_prepare,
	.migrate_exec = sq_exec,
	.version_get = sq_version_get,
	.version_set = sq_version_set,
	.begin = sq_begin,
	.begin_rows = sq_begin, /* one writer at a time is all SQLite has */
	.commit = sq_commit,
	.rollback = sq_rollback,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.column_is_null = sq_column_is_null,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.changes = sq_changes,
	.errmsg = sq_errmsg,
};

int db_sqlite_open(const char *path, int create, struct db **out, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	struct sq_db *d;
	sqlite3 *h = NULL;
	int rc;

	if (create && strcmp(path, ":memory:")) {
		/* SQLite would create the file with the umask's mode (0644 under
		 * most): it holds password and secret hashes. Its journal and
		 * WAL files take the database file's mode. */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	rc = sqlite3_open_v2(path, &h, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s%s", path,
			 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc),
			 create ? "" : " (create it with `livemig-console admin --db FILE create-account`"
				       " or start `livemig-console serve`)");
		sqlite3_close(h);
		return -ENOENT;
	}
	sqlite3_busy_handler(h, sq_busy, NULL);
	/* Off by default in SQLite, per connection: without it the REFERENCES
	 * clauses are decoration (PostgreSQL always enforces them). */
	rc = sqlite3_exec(h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(h));
		sqlite3_close(h);
		return -EIO;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		sqlite3_close(h);
		snprintf(err, errlen, "database %s: out of memory", path);
		return -ENOMEM;
	}
	d->db.ops = &sq_ops;
	d->h = h;
	*out = &d->db;
	return 0;
}
