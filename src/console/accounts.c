// SPDX-License-Identifier: GPL-2.0-or-later
/* Accounts and users (accounts.h). */
#include "accounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "db.h"
#include "util.h"

int account_name_valid(const char *name)
{
	return name_valid(name);
}

int user_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > USER_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == ':' || *p == 0x7f)
			return 0;
	return 1;
}

static int account_row(struct db *db, struct db_stmt *st, struct account *out)
{
	int rc = db_step(st);

	if (rc == DB_DONE)
		return -ENOENT;
	if (rc != DB_ROW)
		return db_err(db, rc, "reading an account");
	out->id = db_column_int64(st, 0);
	snprintf(out->name, sizeof(out->name), "%s", db_text(st, 1));
	out->licenses = db_column_int64(st, 2);
	return 0;
}

int account_find(struct db *db, const char *name, struct account *out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT id, name, licenses FROM accounts WHERE name = ?");

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = account_row(db, st, out);
	db_finalize(st);
	return rc;
}

int account_by_id(struct db *db, int64_t id, struct account *out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT id, name, licenses FROM accounts WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, id);
	rc = account_row(db, st, out);
	db_finalize(st);
	return rc;
}

static int step_done(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int account_create(struct db *db, const char *name, int64_t licenses)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO accounts (name, licenses, created_at) VALUES (?, ?, ?)");

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	db_bind_int64(st, 2, licenses);
	db_bind_int64(st, 3, console_now());
	return step_done(db, st, "creating an account");
}

int account_set_licenses(struct db *db, int64_t id, int64_t licenses)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "UPDATE accounts SET licenses = ? WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, licenses);
	db_bind_int64(st, 2, id);
	return step_done(db, st, "setting licenses");
}

int user_create(struct db *db, int64_t account_id, const char *name, const struct pw_record *pw)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO users (account_id, name, pw_algo, pw_iterations, pw_salt,"
			    " pw_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");

	if (rc)
		return rc;
	db_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, pw->algo);
	db_bind_int64(st, 4, pw->iterations);
	db_bind_text(st, 5, pw->salt_hex);
	db_bind_text(st, 6, pw->hash_hex);
	db_bind_int64(st, 7, console_now());
	return step_done(db, st, "creating a user");
}

int user_role_valid(const char *role)
{
	return !strcmp(role, ROLE_ADMIN) || !strcmp(role, ROLE_OPERATOR) || !strcmp(role, ROLE_VIEWER);
}

int user_set_role(struct db *db, int64_t account_id, const char *name, const char *role)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "UPDATE users SET role = ? WHERE account_id = ? AND name = ?");

	if (rc)
		return rc;
	db_bind_text(st, 1, role);
	db_bind_int64(st, 2, account_id);
	db_bind_text(st, 3, name);
	rc = step_done(db, st, "setting a user's role");
	return rc ? rc : db_changes(db) ? 0 : -ENOENT;
}

int user_role(struct db *db, int64_t account_id, const char *name, char *role, size_t n)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT role FROM users WHERE account_id = ? AND name = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, name);
	rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(role, n, "%s", db_column_text(st, 0));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a user's role");
	}
	db_finalize(st);
	return rc;
}

int user_check(struct db *db, const char *account, const char *user, const char *password,
	       struct account *acct)
{
	struct pw_record rec = { .iterations = 0 };
	struct db_stmt *st;
	int rc, found = 0;

	rc = db_prepare(db, &st,
			"SELECT a.id, a.name, a.licenses, u.pw_algo, u.pw_iterations, u.pw_salt,"
			" u.pw_hash FROM users u JOIN accounts a ON a.id = u.account_id"
			" WHERE a.name = ? AND u.name = ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, account);
	db_bind_text(st, 2, user);
	rc = db_step(st);
	if (rc == DB_ROW) {
		found = 1;
		acct->id = db_column_int64(st, 0);
		snprintf(acct->name, sizeof(acct->name), "%s", db_text(st, 1));
		acct->licenses = db_column_int64(st, 2);
		snprintf(rec.algo, sizeof(rec.algo), "%s", db_text(st, 3));
		rec.iterations = (unsigned)db_column_int64(st, 4);
		snprintf(rec.salt_hex, sizeof(rec.salt_hex), "%s", db_text(st, 5));
		snprintf(rec.hash_hex, sizeof(rec.hash_hex), "%s", db_text(st, 6));
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = 0;
	} else {
		rc = db_err(db, rc, "reading a user");
	}
	db_finalize(st);
	if (rc)
		return rc;
	if (!found) {
		password_burn(password);
		return -EACCES;
	}
	rc = password_verify(password, &rec);
	return rc == -EINVAL ? -EACCES : rc;
}

int licenses_in_use(struct db *db, int64_t account_id, int64_t *out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT COUNT(*) FROM machines"
			    " WHERE account_id = ? AND deregistered_at IS NULL");

	if (rc)
		return rc;
	db_bind_int64(st, 1, account_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*out = db_column_int64(st, 0);
		rc = 0;
	} else {
		rc = db_err(db, rc, "counting licenses");
	}
	db_finalize(st);
	return rc;
}
