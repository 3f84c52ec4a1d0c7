/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What livemig install, start and uninstall share: their exit statuses (one
 * per failure, so a script driving a silent install can branch on them; the
 * table is in docs/install-flow.md) and the default places; the installed
 * files themselves are install_files.h's.
 */
#ifndef LIVEMIG_INSTALL_H
#define LIVEMIG_INSTALL_H

#include <limits.h>

#include "install_files.h" /* struct install_paths, install_remove */

#define INSTALL_DEFAULT_CONFIG_DIR "/etc/livemig"
#define INSTALL_DEFAULT_STATE_DIR "/var/lib/livemig"
#define INSTALL_DEFAULT_SOCKET "/run/livemig/livemigd.sock"
/* Why the package could not register this machine, kept by livemig-setup
 * (key = value lines: time, status, reason, remedy; docs/install.md) */
#define INSTALL_REGISTRATION_FAILURE INSTALL_DEFAULT_STATE_DIR "/registration-failure"

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

struct cli_global;
/* cmd_uninstall.c: `livemig uninstall` of the installation in config_dir,
 * as the command does it (install --reregister runs it first). An exit
 * status: INSTALL_OK, INSTALL_QUEUED, or the failure it printed. */
int uninstall_run(const struct cli_global *g, const char *config_dir, const char *state_dir,
		  unsigned retries);

#endif
