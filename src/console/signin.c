// SPDX-License-Identifier: GPL-2.0-or-later
/* Web sessions and their CSRF tokens (signin.h). */
#include "signin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db.h"
#include "util.h"

#define CSRF_LABEL "livemig-console csrf v1"

static int expire_old(struct db *db, int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "DELETE FROM sessions WHERE expires_at <= ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "removing expired sessions");
}

int session_create(struct db *db, const struct account *acct, const char *user, int64_t now,
		   char *secret)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	rc = expire_old(db, now);
	if (rc)
		return rc;
	rc = secret_new(SESSION_PREFIX, secret, SECRET_STR_MAX);
	if (rc)
		return rc;
	secret_hash(secret, hash);
	rc = db_prepare(db, &st,
			"INSERT INTO sessions (secret_hash, account_id, user_name, created_at,"
			" expires_at) VALUES (?, ?, ?, ?, ?)");
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	db_bind_int64(st, 2, acct->id);
	db_bind_text(st, 3, user);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, now + SESSION_TTL_S);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "creating a session");
}

/* Only our own form reaches the database: prefix and 64 hex digits. */
static int secret_form(const char *s)
{
	size_t n = strlen(SESSION_PREFIX);

	if (!s || strncmp(s, SESSION_PREFIX, n) || strlen(s) != n + 2 * SECRET_BYTES)
		return 0;
	for (s += n; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int session_lookup(struct db *db, const char *secret, int64_t now, struct session *out)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	if (!secret_form(secret))
		return -ENOENT;
	secret_hash(secret, hash);
	rc = db_prepare(db, &st,
			"SELECT s.id, s.user_name, s.created_at, s.expires_at, a.id, a.name,"
			" a.licenses FROM sessions s JOIN accounts a ON a.id = s.account_id"
			" WHERE s.secret_hash = ? AND s.expires_at > ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	db_bind_int64(st, 2, now);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_column_int64(st, 0);
		snprintf(out->user, sizeof(out->user), "%s", db_text(st, 1));
		out->created_at = db_column_int64(st, 2);
		out->expires_at = db_column_int64(st, 3);
		out->account.id = db_column_int64(st, 4);
		snprintf(out->account.name, sizeof(out->account.name), "%s", db_text(st, 5));
		out->account.licenses = db_column_int64(st, 6);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "looking up a session");
	}
	db_finalize(st);
	return rc;
}

int session_delete(struct db *db, const char *secret)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	if (!secret_form(secret))
		return 0;
	secret_hash(secret, hash);
	rc = db_prepare(db, &st, "DELETE FROM sessions WHERE secret_hash = ?");
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "removing a session");
}

void csrf_token(const char *secret, char out[CSRF_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!ctx)
		return;
	/* the label keeps this hash apart from secret_hash(), which is what
	 * the database stores: the token must not be the stored value */
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, CSRF_LABEL, sizeof(CSRF_LABEL)) &&
	    EVP_DigestUpdate(ctx, secret, strlen(secret)) && EVP_DigestFinal_ex(ctx, md, &len) &&
	    len == 32)
		hex_encode(md, 32, out);
	EVP_MD_CTX_free(ctx);
}

int csrf_check(const char *secret, const char *given)
{
	char want[CSRF_HEX];

	if (!secret || !given || strlen(given) != CSRF_HEX - 1)
		return -EACCES;
	csrf_token(secret, want);
	if (!want[0])
		return -EACCES;
	return CRYPTO_memcmp(want, given, CSRF_HEX - 1) ? -EACCES : 0;
}

void session_cookie(const char *secret, char *out, size_t n)
{
	/* Secure: the console speaks only HTTPS. SameSite=Strict: no other
	 * site's page, link or form makes the browser send it. */
	if (secret)
		snprintf(out, n, SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; Secure; "
			 "SameSite=Strict", secret, SESSION_TTL_S);
	else
		snprintf(out, n, SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; "
			 "SameSite=Strict");
}
