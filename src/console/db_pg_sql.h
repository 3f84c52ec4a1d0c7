/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PostgreSQL engine's translations of the SQL the callers write
 * (db_pg_sql.c): placeholders, and the few schema words that differ. Pure
 * text functions, without libpq, so that a unit test covers them.
 */
#ifndef LIVEMIG_CONSOLE_DB_PG_SQL_H
#define LIVEMIG_CONSOLE_DB_PG_SQL_H

/* SQLite's placeholders as PostgreSQL's: `?N` becomes `$N`, a bare `?` the
 * next number after the largest so far (SQLite's rule); string literals,
 * quoted identifiers and comments are left alone. A new string, and the
 * number of parameters in *nparams; NULL (out of memory, or a number above
 * DB_PG_MAX_PARAMS) on failure. */
#define DB_PG_MAX_PARAMS 999
char *db_pg_placeholders(const char *sql, int *nparams);
/* A migration as PostgreSQL needs it: `INTEGER PRIMARY KEY` (SQLite's rowid
 * alias, given the next number when omitted) becomes an identity column;
 * every other INTEGER is BIGINT (SQLite's integers are 64-bit); BLOB is
 * BYTEA. Words inside literals and identifiers in quotes are left alone.
 * A new string, NULL when out of memory. */
char *db_pg_schema(const char *sql);

#endif
