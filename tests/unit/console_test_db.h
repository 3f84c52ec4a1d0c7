/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console unit tests' database: a fresh, migrated SQLite file in /tmp
 * per test (WAL mode, so closing removes the -wal and -shm files too); or,
 * when LIVEMIG_TEST_PG names a PostgreSQL server (tests/with_postgresql.sh
 * sets it: postgresql://USER@HOST:PORT, no database), a fresh database on
 * that server per test, dropped at close.
 */
#ifndef LIVEMIG_CONSOLE_TEST_DB_H
#define LIVEMIG_CONSOLE_TEST_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

/* CREATE or DROP (verb) the database named at the end of uri, through the
 * server's postgres database. 0, or -1. */
static int test_pg_database(const char *server, const char *verb, const char *uri)
{
	char admin_uri[128], sql[128], err[256];
	struct db *admin;
	int rc;

	snprintf(admin_uri, sizeof(admin_uri), "%s/postgres", server);
	if (db_open(admin_uri, 0, &admin, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(sql, sizeof(sql), "%s DATABASE %s", verb, strrchr(uri, '/') + 1);
	rc = db_exec(admin, sql);
	db_close(admin);
	return rc ? -1 : 0;
}

/* path (64 bytes) becomes /tmp/NAME.XXXXXX, or the PostgreSQL database's
 * URI; 0, or -1 */
static int test_db_open(char path[64], const char *name, struct db **db)
{
	const char *pg = getenv("LIVEMIG_TEST_PG");
	static unsigned made;
	char err[256];
	int fd;

	if (pg && *pg) {
		if (snprintf(path, 64, "%s/t%ld_%u", pg, (long)getpid(), made++) >= 64 ||
		    test_pg_database(pg, "CREATE", path))
			return -1;
	} else {
		snprintf(path, 64, "/tmp/%s.XXXXXX", name);
		fd = mkstemp(path);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (db_open(path, 1, db, err, sizeof(err)) || db_migrate(*db, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void test_db_close(struct db *db, const char *path)
{
	const char *pg = getenv("LIVEMIG_TEST_PG");
	char p[80];

	db_close(db);
	if (db_engine_of(path) == DB_ENGINE_POSTGRESQL) {
		test_pg_database(pg, "DROP", path);
		return;
	}
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

#endif
