/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's `launch` and `destroy` jobs (docs/launch.md, "Launching from
 * staging"): every disk of a recovery point exported into LAUNCH_DIR/<name>/
 * (the first is the boot disk), or on the RBD store cloned from the point's
 * snapshots, converted and launched by livemig-launch as child processes
 * (launch_args.h); and the instance destroyed again, the clones with it.
 * Staging links neither libguestfs nor libvirt: it only runs the launcher
 * program. A launch run again (a staging restart)
 * first destroys what an earlier run of the same name left.
 */
#ifndef LIVEMIG_STAGING_LAUNCH_JOB_H
#define LIVEMIG_STAGING_LAUNCH_JOB_H

#include <stddef.h>

#include "jobs.h"
#include "launch_args.h"

#define LAUNCH_DIR_NAME ".launches" /* STORE/.launches: no machine has a name with a leading dot */

/* Before the console sync starts; the strings must outlive the jobs. */
void launch_configure(const struct launch_config *c);
/* livemig-launch next to this program, else on PATH: 0 with its path, or
 * -ENOENT. */
int launch_find_launcher(char *out, size_t len);

int launch_job_run(struct job *j, json_t **result, char *error, size_t errlen);
int destroy_job_run(struct job *j, json_t **result, char *error, size_t errlen);

#endif
