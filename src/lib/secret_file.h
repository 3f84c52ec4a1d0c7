/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LIVEMIG_SECRET_FILE_H
#define LIVEMIG_SECRET_FILE_H

#include <stddef.h>

/*
 * Read a bearer secret (the agent's, or a staging server's credential for
 * the console) from a file only its owner can read. The file must be a
 * regular file of this process's user with no group or other permission
 * bits (run as root with another group, as a unit's User=root beside its
 * Group=: a file of that group is accepted too), and hold 1..max printable
 * characters (trailing white space ignored): the secret goes into an HTTP
 * header line, so nothing in it may end that line.
 *
 * what names the file in messages ("[console] secret_file", or an option),
 * kind names the secret ("agent secret"). On failure err holds
 * "WHAT PATH ...: reason; remedy" and the result is -errno: -EPERM for
 * mode or owner, -EINVAL for the file type or content, else the open or
 * read error. out is wiped on failure; the caller wipes it after use.
 */
int secret_file_read(const char *what, const char *kind, const char *path, size_t max,
		     char *out, size_t outlen, char *err, size_t errlen);

#endif
