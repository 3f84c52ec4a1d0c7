/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The install flow (docs/install-flow.md), after cmd_install.c has read the
 * command line: prerequisites, credentials, identity, inventory, disks, key
 * and CSR, registration, files, livemigd.
 */
#ifndef LIVEMIG_INSTALL_RUN_H
#define LIVEMIG_INSTALL_RUN_H

#include <stddef.h>

#include "install_disks.h"
#include "subcommands.h"

struct install_opts {
	const char *console, *console_ca;
	const char *token, *token_file, *user, *account, *password_file;
	const char *devices, *root_disk;
	const char *config_dir, *state_dir, *socket, *metadata_url, *prereq_root, *proxy;
	const char **waive; /* NULL-terminated */
	unsigned retries;
	int no_prompt, no_replication, delete_token_file, reregister;
};

/* The exit status (enum install_exit). */
int install_run(const struct cli_global *g, const struct install_opts *o);

/* Secrets as they are asked for or read; wiped by install_run. */
#define SECRET_MAX 512
struct install_secrets {
	char token[SECRET_MAX];
	char user[256];
	char account[256];
	char password[SECRET_MAX];
};

/* install_ask.c: fill in what the command line left out, asking on the
 * terminal when interactive. An exit status; msg says what is missing. */
int ask_credentials(const struct install_opts *o, int interactive, struct install_secrets *s,
		    char *msg, size_t msglen);
int ask_disks(const struct install_opts *o, int interactive, struct disk_set *disks, char *msg,
	      size_t msglen);
/* The prerequisite report; an exit status. On a terminal, failing checks
 * may be waived: their ids are appended to o->waive, which has room for
 * PREREQ_MAX_RESULTS more. */
int ask_prerequisites(const struct cli_global *g, struct install_opts *o, int interactive);

#endif
