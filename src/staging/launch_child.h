/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launcher as a child process of a job (docs/launch.md): no shell, its
 * stderr streamed line by line into the job's log, its stdout kept for the
 * JSON it prints. It runs in a process group of its own, which is sent
 * SIGTERM (SIGKILL after a grace period) when staging stops; it gets
 * SIGTERM by itself if staging dies (PR_SET_PDEATHSIG), so that a killed
 * staging server leaves no launcher behind.
 */
#ifndef LIVEMIG_STAGING_LAUNCH_CHILD_H
#define LIVEMIG_STAGING_LAUNCH_CHILD_H

#include "jobs.h"

#define CHILD_STDOUT_MAX (1u << 20) /* more is cut: a launcher prints one JSON document */
#define CHILD_KILL_GRACE_S 10       /* SIGTERM to SIGKILL when staging stops */

/* Run argv[0] (a path) with argv. The exit status (0..255), -ECANCELED
 * when staging stopped and the child was killed, -EINTR when a signal ended
 * it, or -errno when it could not be started (err says why). *out (may be
 * NULL): what it printed on stdout, NUL-terminated, to free. */
int child_run(struct job *j, const char *const argv[], char **out, char *err, size_t errlen);

#endif
