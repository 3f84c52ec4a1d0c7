// SPDX-License-Identifier: GPL-2.0-or-later
/* Token ownership and replication requests in the database (web_db.h). */
#include "web_db.h"

#include <errno.h>

#include "db.h"

int token_account(struct db *db, int64_t id, int64_t *account_id)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT account_id FROM tokens WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*account_id = db_column_int64(st, 0);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a token");
	}
	db_finalize(st);
	return rc;
}

int replication_request_set(struct db *db, int64_t ref, const char *state, const char *by,
			    int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE machines SET replication_request = ?, replication_requested_at = ?,"
			    " replication_requested_by = ? WHERE id = ?");

	if (rc)
		return rc;
	db_bind_text(st, 1, state);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, by);
	db_bind_int64(st, 4, ref);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "storing a replication request");
}

int replication_request_get(struct db *db, int64_t ref, json_t **out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT replication_request, replication_requested_at,"
			    " replication_requested_by FROM machines WHERE id = ?");

	*out = NULL;
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (!db_column_is_null(st, 0))
			*out = json_pack("{s:s, s:I, s:s}", "state", db_text(st, 0), "requested_at",
					 (json_int_t)db_int_or(st, 1, 0), "requested_by",
					 db_text(st, 2));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a replication request");
	}
	db_finalize(st);
	return rc;
}
