/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's `launch` and `destroy` jobs (docs/launch.md, "Launching from
 * staging"): every disk of a recovery point exported into LAUNCH_DIR/<name>/
 * (the first is the boot disk), converted and launched by livemig-launch as
 * child processes; and the
 * instance destroyed again. Staging links neither libguestfs nor libvirt:
 * it only runs the launcher program. A launch run again (a staging restart)
 * first destroys what an earlier run of the same name left.
 */
#ifndef LIVEMIG_STAGING_LAUNCH_JOB_H
#define LIVEMIG_STAGING_LAUNCH_JOB_H

#include <stddef.h>

#include "jobs.h"

#define LAUNCH_DIR_NAME ".launches" /* STORE/.launches: no machine has a name with a leading dot */

struct launch_config {
	const char *driver;   /* "libvirt", "export", or NULL: this server launches nothing */
	const char *launcher; /* the livemig-launch program */
	const char *dir;      /* LAUNCH_DIR: one directory per instance */
	const char *uri;      /* libvirt: connection URI (NULL: the launcher's default) */
	const char *nic;      /* libvirt: NIC spec (NULL: the launcher's default) */
	unsigned timeout_s;   /* bound for "up" (0: the launcher's default) */
};

/* Before the console sync starts; the strings must outlive the jobs. */
void launch_configure(const struct launch_config *c);
/* livemig-launch next to this program, else on PATH: 0 with its path, or
 * -ENOENT. */
int launch_find_launcher(char *out, size_t len);

int launch_job_run(struct job *j, json_t **result, char *error, size_t errlen);
int destroy_job_run(struct job *j, json_t **result, char *error, size_t errlen);

#endif
