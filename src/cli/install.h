/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What livemig install, start and uninstall share: their exit statuses (one
 * per failure, so a script driving a silent install can branch on them; the
 * table is in docs/install-flow.md) and where the installed files live.
 */
#ifndef LIVEMIG_INSTALL_H
#define LIVEMIG_INSTALL_H

#include <limits.h>

#define INSTALL_DEFAULT_CONFIG_DIR "/etc/livemig"
#define INSTALL_DEFAULT_STATE_DIR "/var/lib/livemig"
#define INSTALL_DEFAULT_SOCKET "/run/livemig/livemigd.sock"

enum install_exit {
	INSTALL_OK = 0,
	INSTALL_USAGE = 2,             /* = CLI_USAGE */
	INSTALL_ALREADY = 10,          /* a configuration is already there */
	INSTALL_NOT_INSTALLED = 11,    /* start, uninstall: no configuration */
	INSTALL_PREREQ = 12,           /* a prerequisite check fails, not waived */
	INSTALL_DISKS = 13,            /* root disk left out, unknown disk, nothing chosen */
	INSTALL_NO_INPUT = 14,         /* an answer is missing and no one can be asked */
	INSTALL_IDENTITY = 15,         /* neither a metadata id nor a permanent MAC */
	INSTALL_LOCAL = 16,            /* a local file, the key, memory */
	INSTALL_UNREACHABLE = 20,      /* the console did not answer, retries spent */
	INSTALL_TLS = 21,              /* the console's certificate does not verify */
	INSTALL_INVALID_TOKEN = 22,
	INSTALL_TOKEN_EXPIRED = 23,
	INSTALL_TOKEN_REVOKED = 24,
	INSTALL_TOKEN_EXHAUSTED = 25,
	INSTALL_BAD_CREDENTIALS = 26,
	INSTALL_NO_LICENSE = 27,
	INSTALL_MACHINE_ID_TAKEN = 28,
	INSTALL_BAD_CSR = 29,
	INSTALL_REFUSED = 30,          /* any other refusal or an answer we cannot use */
	INSTALL_ACCOUNT_MISMATCH = 31, /* the token belongs to another account than --account */
	INSTALL_WRITE = 32,            /* registered, files not written: deregistered again */
	INSTALL_START = 33,            /* installed, but livemigd did not start */
	INSTALL_QUEUED = 34,           /* uninstall: console unreachable, deregistration queued */
};

/* The files `livemig install` writes into its configuration directory. */
struct install_paths {
	char dir[PATH_MAX - 32];   /* room for the file names below */
	char conf[PATH_MAX];       /* livemigd.conf, 0600 */
	char key[PATH_MAX];        /* agent.key, 0600 */
	char cert[PATH_MAX];       /* agent.pem */
	char staging_ca[PATH_MAX]; /* staging-ca.pem */
	char console_ca[PATH_MAX]; /* console-ca.pem */
	char secret[PATH_MAX];     /* agent-secret, 0600 */
};

/* 0, or -ENAMETOOLONG. */
int install_paths_init(struct install_paths *p, const char *config_dir);

#endif
