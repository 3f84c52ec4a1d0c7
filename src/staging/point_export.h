/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A recovery point's disk out of the store: to a raw or qcow2 file (qemu-img
 * writes the qcow2), or served read-only over NBD by nbdkit. The output
 * appears whole or not at all.
 */
#ifndef LIVEMIG_STAGING_POINT_EXPORT_H
#define LIVEMIG_STAGING_POINT_EXPORT_H

#include <stddef.h>

#include "point_reader.h"

enum export_format { EXPORT_RAW, EXPORT_QCOW2 };

/* progress: print to stderr while it runs. 0 or -errno with err set. */
int point_export(struct point_reader *r, enum export_format fmt, const char *output, int progress,
		 char *err, size_t errlen);

/* Serve until SIGINT/SIGTERM or nbdkit's end; ready_line is printed on
 * stdout once the socket accepts. 0 or -errno with err set. */
int point_serve(struct point_reader *r, const char *socket_path, int progress, char *err,
		size_t errlen);

#endif
