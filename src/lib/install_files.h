/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `livemig install` leaves on the machine and how it goes away
 * (docs/install-flow.md): the files in the configuration directory and
 * livemigd's files in its state directory. Removed by `livemig uninstall`
 * and by livemigd itself when the console finalizes the machine
 * (docs/agent-console.md): one list, so both remove the same things.
 */
#ifndef LIVEMIG_INSTALL_FILES_H
#define LIVEMIG_INSTALL_FILES_H

#include <limits.h>
#include <stddef.h>

/* The name of the configuration in its directory. */
#define INSTALL_CONF_NAME "livemigd.conf"

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

/* Remove the files install writes (not the state directory), the
 * configuration first, then the directory if nothing else is in it. */
void install_remove(const struct install_paths *p);

/* Whether a file name in the state directory is livemigd's (checkpoint,
 * hash stores, its pid and log, the console's marks). Anything else someone
 * put there (a console database sharing /var/lib/livemig, uninstall's
 * queued deregistration) is not. */
int install_state_file(const char *name);

/*
 * Remove livemigd's files from dir, then dir if that empties it. What was
 * left that is not livemigd's goes to left ("" when nothing; names joined
 * by ", ", uninstall's queue not counted). 0, or -errno from the first file
 * of livemigd's that could not be removed (the others are still tried).
 */
int install_state_clear(const char *dir, char *left, size_t leftlen);

#endif
