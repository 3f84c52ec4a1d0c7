/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running the guest's and the host's tools (qemu-img, losetup, mount, a
 * command in a chroot) with their output captured for the report. */
#ifndef LIVEMIG_LAUNCH_RUN_H
#define LIVEMIG_LAUNCH_RUN_H

#include <stddef.h>

/* Runs argv[0] (searched in PATH) with stdin from /dev/null and stdout +
 * stderr captured into *out (NUL-terminated, caller frees; may be NULL to
 * discard). Returns the exit status (0..255), or -errno when it could not be
 * started or was killed by a signal (-EINTR). */
int run_capture(const char *const argv[], char **out);

/* The last line of text that is not empty, into buf (for one-line errors). */
const char *last_line(const char *text, char *buf, size_t len);

#endif
