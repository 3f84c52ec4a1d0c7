/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `livemig-console admin`: commands that work on the database directly
 * (safe while `serve` runs: the writers' lock of db_begin serializes them,
 * on either engine). Each command gets argv from its own name on and
 * returns an exit status: 0 done, 1 refused or failed, 2 usage.
 */
#ifndef LIVEMIG_CONSOLE_ADMIN_H
#define LIVEMIG_CONSOLE_ADMIN_H

#include <getopt.h>
#include <stddef.h>

#include "accounts.h"
#include "audit.h"
#include "db.h"

struct admin {
	const char *db_path;
	struct db *db;   /* opened and migrated by admin_open */
};

int admin_open(struct admin *a);
/* Find an account or explain how to create it. 0 or 1 (message printed). */
int admin_account(struct admin *a, const char *name, struct account *out);
/* Who runs the command, for the audit log and the jobs' owner:
 * "livemig-console admin (UNIX-USER)", from "local". */
void admin_who(struct audit_who *w);
/* audit_write of one of the command's changes (no pruning: the retention
 * is serve's; it prunes at start and with its own records). */
int admin_audit_write(struct admin *a, const struct audit_rec *r, int64_t now);
/* "2025-01-31 12:00:00 UTC" */
void admin_time(long long t, char *buf, size_t n);
/* Parse a command's options (argv[0] is the command's name); --help prints
 * help and exits 0. on_opt returns 0 or an exit status. Then exactly
 * npos positional arguments must remain, from argv[optind] on. 0 or an
 * exit status (usage reported). */
typedef int (*admin_opt_fn)(void *ctx, int c, const char *arg);
int admin_parse(int argc, char **argv, const char *help, const struct option *longopts,
		admin_opt_fn on_opt, void *ctx, int npos);

/* For commands that take no option but --help. */
extern const struct option admin_help_only[];
int admin_no_opts(void *ctx, int c, const char *arg);
/* For commands whose one option is --json ('j'): sets the int at ctx. */
int admin_json_opt(void *ctx, int c, const char *arg);

/* One entry of the command table (admin.c). */
struct admin_command {
	const char *name;
	const char *synopsis;  /* the arguments, for the usage text */
	const char *summary;   /* one line */
	int (*fn)(struct admin *a, int argc, char **argv);
};

/* The commands (admin_accounts.c, admin_users.c, admin_tokens.c,
 * admin_machines.c, admin_remove.c, admin_ca.c, admin_server_cert.c). */
int admin_create_account(struct admin *a, int argc, char **argv);
int admin_set_licenses(struct admin *a, int argc, char **argv);
int admin_list_accounts(struct admin *a, int argc, char **argv);
int admin_init_ca(struct admin *a, int argc, char **argv);
int admin_server_cert(struct admin *a, int argc, char **argv);
int admin_create_token(struct admin *a, int argc, char **argv);
int admin_list_tokens(struct admin *a, int argc, char **argv);
int admin_revoke_token(struct admin *a, int argc, char **argv);
int admin_list_machines(struct admin *a, int argc, char **argv);
int admin_remove_machine(struct admin *a, int argc, char **argv);
int admin_create_user(struct admin *a, int argc, char **argv);
int admin_add_staging(struct admin *a, int argc, char **argv);
int admin_list_staging(struct admin *a, int argc, char **argv);
int admin_remove_staging(struct admin *a, int argc, char **argv);
int admin_pin_staging(struct admin *a, int argc, char **argv);
int admin_unpin_staging(struct admin *a, int argc, char **argv);
int admin_drain_staging(struct admin *a, int argc, char **argv);
int admin_undrain_staging(struct admin *a, int argc, char **argv);
int admin_placement(struct admin *a, int argc, char **argv);
/* admin_lifecycle.c */
int admin_lifecycle(struct admin *a, int argc, char **argv);
int admin_points(struct admin *a, int argc, char **argv);
/* admin_audit.c */
int admin_audit(struct admin *a, int argc, char **argv);

#endif
