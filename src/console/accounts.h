/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Accounts, their users and their licenses, in the database. 0 or -errno. */
#ifndef LIVEMIG_CONSOLE_ACCOUNTS_H
#define LIVEMIG_CONSOLE_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "db.h"

#define ACCOUNT_NAME_MAX 63
#define USER_NAME_MAX    128

struct account {
	int64_t id;
	char name[ACCOUNT_NAME_MAX + 1];
	int64_t licenses; /* total */
};

/* Account names follow machine names' rules (util.h name_valid): they are
 * typed on command lines and appear in user names as USER@ACCOUNT. */
int account_name_valid(const char *name);
/* User names: 1..128 printable characters without spaces or ':' (HTTP
 * basic auth cannot carry a ':' in the user part). */
int user_name_valid(const char *name);

int account_find(struct db *db, const char *name, struct account *out);  /* -ENOENT */
int account_by_id(struct db *db, int64_t id, struct account *out);       /* -ENOENT */
int account_create(struct db *db, const char *name, int64_t licenses);   /* -EEXIST */
int account_set_licenses(struct db *db, int64_t id, int64_t licenses);

int user_create(struct db *db, int64_t account_id, const char *name, const struct pw_record *pw);
/* Roles: an admin and an operator may launch, cut over and finalize the
 * account's machines; a viewer may look (docs/console-api.md). Users made
 * before roles existed are admins. */
#define ROLE_ADMIN    "admin"
#define ROLE_OPERATOR "operator"
#define ROLE_VIEWER   "viewer"
int user_role_valid(const char *role);
int user_set_role(struct db *db, int64_t account_id, const char *name, const char *role);
/* The user's role into role (at least 16 bytes): -ENOENT for no such user. */
int user_role(struct db *db, int64_t account_id, const char *name, char *role, size_t n);
/* Check a user's password: 0 with *acct filled, -EACCES for an unknown
 * account, unknown user or wrong password (the same time spent for each). */
int user_check(struct db *db, const char *account, const char *user, const char *password,
	       struct account *acct);

/* Machines holding a license: registered and not deregistered. */
int licenses_in_use(struct db *db, int64_t account_id, int64_t *out);

#endif
