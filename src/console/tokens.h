/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Installation tokens: what an agent presents to register without a user's
 * password. Only SHA-256(secret) is stored; the secret is shown once, by
 * `admin create-token`.
 */
#ifndef LIVEMIG_CONSOLE_TOKENS_H
#define LIVEMIG_CONSOLE_TOKENS_H

#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "db.h"

#define TOKEN_LABEL_MAX 200

struct token {
	int64_t id;
	int64_t account_id;
	int64_t created_at;
	int64_t expires_at;  /* 0: never */
	int64_t max_uses;    /* 0: unlimited */
	int64_t uses;
	int64_t revoked_at;  /* 0: not revoked */
};

enum token_verdict { TOKEN_OK, TOKEN_REVOKED, TOKEN_EXPIRED, TOKEN_EXHAUSTED };

/* New token; the secret is written to secret (SECRET_STR_MAX). */
int token_create(struct db *db, int64_t account_id, const char *label, int64_t expires_at,
		 int64_t max_uses, char *secret, int64_t *id);
/* Find by secret: 0, or -ENOENT for a secret that is no token's. */
int token_lookup(struct db *db, const char *secret, struct token *out);
/* Revoked first, then expired, then exhausted: the most permanent reason. */
enum token_verdict token_verdict(const struct token *t, int64_t now);
const char *token_verdict_name(enum token_verdict v);
int token_count_use(struct db *db, int64_t id);
int token_revoke(struct db *db, int64_t id, int64_t *account_id); /* -ENOENT; -EALREADY */
/* A token's audit record (audit.h): "token ID" into target (32 bytes or
 * more) and a new detail object, {"token"} for a revocation, with the
 * label, expiry and use limit (label non-NULL) for a creation. Never the
 * secret. NULL when out of memory. */
json_t *token_audit_detail(int64_t id, const char *label, int64_t expires_at, int64_t max_uses,
			   char *target, size_t n);
/* The account's tokens as a JSON array (never the secret or its hash). */
int token_list(struct db *db, int64_t account_id, int64_t now, json_t **out);

#endif
