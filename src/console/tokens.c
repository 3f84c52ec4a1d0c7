// SPDX-License-Identifier: GPL-2.0-or-later
/* Installation tokens in the database (tokens.h). */
#include "tokens.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"

static void bind_opt(struct db_stmt *st, int col, int64_t v)
{
	if (v)
		db_bind_int64(st, col, v);
	else
		db_bind_null(st, col);
}

int token_create(struct db *db, int64_t account_id, const char *label, int64_t expires_at,
		 int64_t max_uses, char *secret, int64_t *id)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	rc = secret_new(TOKEN_PREFIX, secret, SECRET_STR_MAX);
	if (rc)
		return rc;
	secret_hash(secret, hash);
	rc = db_prepare_insert(db, &st,
			       "INSERT INTO tokens (account_id, secret_hash, label, created_at,"
			       " expires_at, max_uses, uses) VALUES (?, ?, ?, ?, ?, ?, 0)");
	if (rc)
		return rc;
	db_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, hash);
	db_bind_text(st, 3, label ? label : "");
	db_bind_int64(st, 4, console_now());
	bind_opt(st, 5, expires_at);
	bind_opt(st, 6, max_uses);
	rc = db_step(st);
	if (rc == DB_DONE)
		*id = db_inserted_id(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "creating a token");
}

#define TOKEN_COLS "id, account_id, created_at, expires_at, max_uses, uses, revoked_at"

static void token_row(struct db_stmt *st, struct token *t)
{
	t->id = db_column_int64(st, 0);
	t->account_id = db_column_int64(st, 1);
	t->created_at = db_column_int64(st, 2);
	t->expires_at = db_int_or(st, 3, 0);
	t->max_uses = db_int_or(st, 4, 0);
	t->uses = db_column_int64(st, 5);
	t->revoked_at = db_int_or(st, 6, 0);
}

int token_lookup(struct db *db, const char *secret, struct token *out)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	secret_hash(secret, hash);
	rc = db_prepare(db, &st, "SELECT " TOKEN_COLS " FROM tokens WHERE secret_hash = ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	rc = db_step(st);
	if (rc == DB_ROW) {
		token_row(st, out);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "looking up a token");
	}
	db_finalize(st);
	return rc;
}

enum token_verdict token_verdict(const struct token *t, int64_t now)
{
	if (t->revoked_at)
		return TOKEN_REVOKED;
	if (t->expires_at && now >= t->expires_at)
		return TOKEN_EXPIRED;
	if (t->max_uses && t->uses >= t->max_uses)
		return TOKEN_EXHAUSTED;
	return TOKEN_OK;
}

const char *token_verdict_name(enum token_verdict v)
{
	switch (v) {
	case TOKEN_OK:
		return "active";
	case TOKEN_REVOKED:
		return "revoked";
	case TOKEN_EXPIRED:
		return "expired";
	case TOKEN_EXHAUSTED:
		return "exhausted";
	}
	return "?";
}

int token_count_use(struct db *db, int64_t id)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "UPDATE tokens SET uses = uses + 1 WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "counting a token use");
}

int token_revoke(struct db *db, int64_t id, int64_t *account_id)
{
	struct db_stmt *st;
	int64_t revoked = 0;
	int rc = db_prepare(db, &st, "SELECT account_id, revoked_at FROM tokens WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*account_id = db_column_int64(st, 0);
		revoked = db_int_or(st, 1, 0);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a token");
	}
	db_finalize(st);
	if (rc)
		return rc;
	if (revoked)
		return -EALREADY;
	rc = db_prepare(db, &st, "UPDATE tokens SET revoked_at = ? WHERE id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, console_now());
	db_bind_int64(st, 2, id);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "revoking a token");
}

static json_t *opt_int(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

int token_list(struct db *db, int64_t account_id, int64_t now, json_t **out)
{
	json_t *arr = json_array();
	struct db_stmt *st = NULL;
	struct token t;
	int rc;

	if (!arr)
		return -ENOMEM;
	rc = db_prepare(db, &st, "SELECT " TOKEN_COLS ", label FROM tokens"
				 " WHERE account_id = ? ORDER BY id");
	if (rc)
		goto out;
	db_bind_int64(st, 1, account_id);
	while ((rc = db_step(st)) == DB_ROW) {
		token_row(st, &t);
		json_array_append_new(
			arr, json_pack("{s:I, s:s, s:s, s:I, s:o, s:o, s:I, s:o}", "id",
				       (json_int_t)t.id, "label", db_text(st, 7), "state",
				       token_verdict_name(token_verdict(&t, now)), "created_at",
				       (json_int_t)t.created_at, "expires_at", opt_int(t.expires_at),
				       "max_uses", opt_int(t.max_uses), "uses", (json_int_t)t.uses,
				       "revoked_at", opt_int(t.revoked_at)));
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing tokens");
out:
	db_finalize(st);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

json_t *token_audit_detail(int64_t id, const char *label, int64_t expires_at, int64_t max_uses,
			   char *target, size_t n)
{
	json_t *d = json_pack("{s:I}", "token", (json_int_t)id);

	snprintf(target, n, "token %lld", (long long)id);
	if (d && label &&
	    (json_object_set_new(d, "label", json_string(label)) ||
	     json_object_set_new(d, "expires_at", expires_at ? json_integer(expires_at) : json_null()) ||
	     json_object_set_new(d, "max_uses", max_uses ? json_integer(max_uses) : json_null()))) {
		json_decref(d);
		return NULL;
	}
	return d;
}
