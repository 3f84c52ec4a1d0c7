/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Application freeze hooks, as qemu-guest-agent's fsfreeze hook: every
 * executable in a directory (freeze_hooks_dir) runs with `freeze` before the
 * file systems are frozen (a database flushes and holds its writes) and with
 * `thaw` after they are thawed, each within a timeout.
 */
#ifndef LIVEMIG_HOOKS_H
#define LIVEMIG_HOOKS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Run each executable regular file of dir (names not starting with '.', in
 * name order; `thaw` in reverse order) with the single argument arg, one at
 * a time, each killed (its whole process group) after timeout_ns. *count:
 * how many ran. 0 when every one exited 0 (or there is none, or no dir);
 * -1 with why set (the first failure) otherwise; the others still run.
 */
int hooks_run(const char *dir, const char *arg, uint64_t timeout_ns, unsigned *count,
	      char *why, size_t whylen);

#endif
