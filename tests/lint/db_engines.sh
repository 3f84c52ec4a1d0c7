#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The console reaches its database only through db.h: the SQLite API is
# called in db_sqlite.c alone and libpq in db_pg.c alone, so that every
# statement runs on both engines (docs/console-database.md). The console's
# unit tests keep to db.h too. Usage: tests/lint/db_engines.sh
set -eu
cd "$(dirname "$0")/../.."
bad=0
# name a file that uses an engine's API outside its own engine file
check() { # PATTERN ALLOWED-FILE WHAT
	hits=$(grep -nE "$1" src/console/*.c src/console/*.h tests/unit/test_console_*.c \
		tests/unit/console_test_*.h | grep -v "^$2:" || true)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed "s|^|db_engines: $3 outside $2: |" >&2
		bad=1
	fi
}
check '\bsqlite3(_[a-z0-9_]+)?\b|\bSQLITE_[A-Z_]+\b|<sqlite3\.h>' src/console/db_sqlite.c "the SQLite API"
check '\bPQ[a-z][A-Za-z]*\(|\bPG(conn|result)\b|<libpq-fe\.h>' src/console/db_pg.c "libpq"
if [ "$bad" = 0 ]; then
	echo "db_engines: ok, the SQLite API only in db_sqlite.c, libpq only in db_pg.c"
else
	echo "db_engines: call the database through db.h (db_prepare, db_bind_*, db_step, db_column_*)" >&2
fi
exit "$bad"
