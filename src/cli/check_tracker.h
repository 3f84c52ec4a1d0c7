/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which tracker livemigd is configured with, for `livemig check`. */
#ifndef LIVEMIG_CHECK_TRACKER_H
#define LIVEMIG_CHECK_TRACKER_H

#include <stddef.h>

/* [agent] tracker of the livemigd configuration at path ("scan", the
 * daemon's default, when the key is absent). 0, -ENOENT when there is no
 * such file, -EINVAL with err set when it cannot be read. */
int check_tracker_from_config(const char *path, char *out, size_t n, char *err, size_t errlen);

#endif
