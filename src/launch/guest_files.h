/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small file operations on the guest through libguestfs, each recorded in
 * the report when it changes something. Paths are the guest's. */
#ifndef LIVEMIG_LAUNCH_GUEST_FILES_H
#define LIVEMIG_LAUNCH_GUEST_FILES_H

#include "convert.h"

int gf_exists(struct conv *c, const char *path);  /* file, dir or symlink */
int gf_is_file(struct conv *c, const char *path); /* regular, not via a symlink */
/* The whole file, NUL-terminated (caller frees), or NULL. */
char *gf_read(struct conv *c, const char *path);
/* Replaces the file's content with mode; 0 or -EIO with c->error set. */
int gf_write(struct conv *c, const char *path, const char *text, int mode);
/* Renames path to path.livemig-orig (kept for the operator); 0 or -EIO. */
int gf_set_aside(struct conv *c, const char *what, const char *path, const char *why);
/* Removes a file or symlink; 0 or -EIO. */
int gf_remove(struct conv *c, const char *what, const char *path, const char *why);
/* The paths matching a glob (caller frees each and the vector), or NULL. */
char **gf_glob(struct conv *c, const char *pattern);
void gf_free_strv(char **v);

/* guest_network.c: network configuration reset to DHCP */
int guest_network_reset(struct conv *c);

#endif
