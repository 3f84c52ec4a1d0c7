/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * os-release(5), the distribution's identification file: the one parser of
 * it, for the inventory (every field) and the prerequisite checks (ID and
 * ID_LIKE name the family whose remedies apply).
 */
#ifndef LIVEMIG_OS_RELEASE_H
#define LIVEMIG_OS_RELEASE_H

#include <stddef.h>

/* Where to look, in order: /etc first, /usr/lib when /etc has none. */
#define OS_RELEASE_ETC "/etc/os-release"
#define OS_RELEASE_USR "/usr/lib/os-release"

/*
 * The value of key in os-release text. Lines are KEY=value; lines starting
 * with '#' are comments. A value is bare (ending at a blank), in single
 * quotes (taken literally), or in double quotes, where a backslash before
 * one of " \ $ ` stands for that character and any other backslash is kept,
 * as a shell reads it. When a key is assigned twice the last one counts, as
 * when a shell sources the file.
 * 0 with out NUL-terminated; -ENOENT when key is not there; -EINVAL for an
 * unterminated quote; -EOVERFLOW when the value does not fit in outlen.
 */
int os_release_value(const char *text, const char *key, char *out, size_t outlen);

#endif
