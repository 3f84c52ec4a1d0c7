/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console unit tests' database: a fresh, migrated SQLite file in /tmp
 * per test (WAL mode, so closing removes the -wal and -shm files too).
 */
#ifndef LIVEMIG_CONSOLE_TEST_DB_H
#define LIVEMIG_CONSOLE_TEST_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"

/* path (64 bytes) becomes /tmp/NAME.XXXXXX; 0, or -1 */
static int test_db_open(char path[64], const char *name, sqlite3 **db)
{
	char err[256];
	int fd;

	snprintf(path, 64, "/tmp/%s.XXXXXX", name);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return db_open(path, 1, db, err, sizeof(err)) || db_migrate(*db, err, sizeof(err)) ? -1 : 0;
}

static void test_db_close(sqlite3 *db, const char *path)
{
	char p[80];

	sqlite3_close(db);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

#endif
