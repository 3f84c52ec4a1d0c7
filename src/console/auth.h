/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passwords and secrets. Passwords are kept only as PBKDF2-HMAC-SHA256
 * output with a random salt and a recorded iteration count (raising the
 * count later only affects new hashes). Installation tokens and agent
 * secrets are 256 random bits, so one SHA-256 is enough to store them:
 * nothing can be guessed faster than 2^256, and lookups stay one index probe.
 */
#ifndef LIVEMIG_CONSOLE_AUTH_H
#define LIVEMIG_CONSOLE_AUTH_H

#include <stddef.h>

#define PW_ALGO        "pbkdf2-sha256"
#define PW_ITERATIONS  310000u  /* the floor asked for; stored per user */
#define PW_SALT_LEN    16
#define PW_HASH_LEN    32
#define PW_MIN_LEN     8
#define PW_MAX_LEN     1024

#define SECRET_BYTES   32
/* prefix (up to 4 characters) + 64 hex digits + NUL */
#define SECRET_STR_MAX (4 + 2 * SECRET_BYTES + 1)
#define SECRET_HASH_HEX (2 * 32 + 1)

#define TOKEN_PREFIX   "lmt_" /* installation token */
#define AGENT_PREFIX   "lma_" /* an agent's bearer secret */

struct pw_record {
	char algo[32];
	unsigned iterations;
	char salt_hex[2 * PW_SALT_LEN + 1];
	char hash_hex[2 * PW_HASH_LEN + 1];
};

/* Hash a new password with a fresh salt. 0 or -errno. */
int password_hash(const char *password, unsigned iterations, struct pw_record *out);
/* 0 when password matches rec, -EACCES when not, -EINVAL for a record
 * this program cannot check. The comparison is constant-time. */
int password_verify(const char *password, const struct pw_record *rec);
/* Spend the time of one verification, for an unknown user: the answer
 * time must not tell which user names exist. */
void password_burn(const char *password);
/* Is this acceptable as a new password? 0, or -EINVAL with why set. */
int password_acceptable(const char *password, const char **why);

/* A new random secret: prefix followed by 64 lowercase hex digits. 0 or -errno. */
int secret_new(const char *prefix, char *out, size_t outlen);
/* SHA-256 of the secret's text, as lowercase hex. */
void secret_hash(const char *secret, char out[SECRET_HASH_HEX]);

#endif
