/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LIVEMIG_CONTROL_SOCKET_H
#define LIVEMIG_CONTROL_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

/* A listening unix socket at path, mode 0660; *gid is its group (the one
 * allowed besides root). fd, or -errno with err set. */
int control_socket_open(const char *path, gid_t *gid, char *err, size_t errlen);

/* 0 if nothing answers at path (a stale socket there is removed),
 * -EADDRINUSE if a live daemon does; other -errno with err set. */
int control_socket_probe(const char *path, char *err, size_t errlen);

#endif
