// SPDX-License-Identifier: GPL-2.0-or-later
/* Token ownership and replication requests in the database (web_db.h). */
#include "web_db.h"

#include <errno.h>

#include "db.h"

int token_account(sqlite3 *db, int64_t id, int64_t *account_id)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st, "SELECT account_id FROM tokens WHERE id = ?");

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*account_id = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_err(db, rc, "reading a token");
	}
	sqlite3_finalize(st);
	return rc;
}

int replication_request_set(sqlite3 *db, int64_t ref, const char *state, const char *by,
			    int64_t now)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE machines SET replication_request = ?, replication_requested_at = ?,"
			    " replication_requested_by = ? WHERE id = ?");

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ref);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(db, rc, "storing a replication request");
}

int replication_request_get(sqlite3 *db, int64_t ref, json_t **out)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT replication_request, replication_requested_at,"
			    " replication_requested_by FROM machines WHERE id = ?");

	*out = NULL;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*out = json_pack("{s:s, s:I, s:s}", "state", db_text(st, 0), "requested_at",
					 (json_int_t)db_int_or(st, 1, 0), "requested_by",
					 db_text(st, 2));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_err(db, rc, "reading a replication request");
	}
	sqlite3_finalize(st);
	return rc;
}
