/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files a registration leaves on the machine (docs/install-flow.md):
 * livemigd.conf with its [agent], [staging], [console] and [disk] sections,
 * the agent's key and certificate, both CAs and the agent secret. Written
 * only after the console accepted the registration, each atomically, the
 * configuration last: its presence means "installed".
 */
#ifndef LIVEMIG_INSTALL_CONFIG_H
#define LIVEMIG_INSTALL_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "install.h"
#include "install_disks.h"

/* Where livemigd's staging CA comes from when the console hands out none. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct install_settings {
	const char *machine_id;
	const char *state_dir;
	const char *socket;
	const char *staging_address;
	const char *staging_ca_pem; /* NULL: staging's certificate is publicly trusted */
	const char *cert_pem;
	const char *key_pem;
	const char *console_url;
	const char *console_ca_pem;
	const char *secret;
	long heartbeat_interval_s;
	const char *identity;     /* "mac:02:fc:00:00:00:01", "metadata:i-0abc" */
	const char *metadata_url; /* NULL: the default service */
	const char *proxy;        /* NULL: none */
	const char *const *waived; /* prerequisite checks waived, NULL-terminated */
	const struct disk_set *disks;
};

/* Write every file, creating the directory and the state directory (0700).
 * On failure nothing written stays behind. 0 or -errno with err set. */
int install_write(const struct install_paths *p, const struct install_settings *s, char *err,
		  size_t errlen);

/* What start and uninstall need from an installed livemigd.conf. */
struct installed {
	char machine_id[64];
	char state_dir[PATH_MAX];
	char socket[PATH_MAX];
	char console_url[512];
	char console_ca[PATH_MAX];
	char secret_file[PATH_MAX];
	char proxy[512]; /* "" for none */
};

/* -ENOENT when there is no livemigd.conf (not installed); -EINVAL with err
 * set when it lacks what uninstall needs. */
int installed_load(const struct install_paths *p, struct installed *out, char *err,
		   size_t errlen);

/* mkdir -p with mode for the directories it creates. 0 or -errno. */
int mkdir_p(const char *path, unsigned mode);

#endif
