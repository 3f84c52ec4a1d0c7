/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the prereq*.c files only: the context every check reads, the
 * helpers that look at a system under a root directory, and the checks.
 */
#ifndef LIVEMIG_PREREQ_INTERNAL_H
#define LIVEMIG_PREREQ_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "prereq.h"

/* Which package manager the remedies name. */
enum prereq_family {
	FAMILY_UNKNOWN,
	FAMILY_DEBIAN, /* debian, ubuntu: apt-get */
	FAMILY_RHEL,   /* rhel, centos, fedora, ol, rocky, almalinux: yum (dnf) */
	FAMILY_SUSE,   /* sles, opensuse: zypper */
};

struct prereq_ctx {
	char root[PATH_MAX]; /* canonical host path of the root, "" for "/" */
	int is_host;         /* root is "/": programs may run, uname applies */
	enum prereq_family family;
	char kver[128];      /* the running kernel's release (uname -r) */
	char tracker[16];    /* livemigd's configured tracker; "" = not known */
};

/* ---- context (prereq_root.c) ---- */

/* Canonicalise root, read os-release and the kernel release. 0 or -errno. */
int prereq_ctx_init(struct prereq_ctx *c, const char *root);
/* Family from os-release text (ID, then each word of ID_LIKE). */
enum prereq_family prereq_family_from_os_release(const char *text);

/* ---- paths inside the root (prereq_path.c) ---- */

/* snprintf for paths: 0, or -ENAMETOOLONG when out would be cut short. */
int prereq_pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Host path of an in-root absolute path, without following symlinks. */
int prereq_host_path(const struct prereq_ctx *c, const char *path, char *out, size_t n);
/*
 * Resolve every symlink in path as if root were "/" (an absolute link target
 * stays inside root, ".." stops at it), into the in-root path out.
 * 0, -ENOENT if a component is missing, -ELOOP, -ENOTDIR, -ENAMETOOLONG.
 */
int prereq_resolve(const struct prereq_ctx *c, const char *path, char *out, size_t n);
/* stat() of an in-root path, symlinks resolved inside root. 0 or -errno. */
int prereq_stat(const struct prereq_ctx *c, const char *path, struct stat *st);
/* lstat() of the last component, its parents resolved inside root. */
int prereq_lstat(const struct prereq_ctx *c, const char *path, struct stat *st);
/* A regular file (after links) that someone may execute. */
int prereq_is_executable(const struct prereq_ctx *c, const char *path);
/* read_small_file() for an in-root path, symlinks resolved inside root. */
int prereq_read_file(const struct prereq_ctx *c, const char *path, char **out, size_t max);
/* Read a small in-root file into buf (NUL-terminated, trailing newlines cut). */
int prereq_read_line(const struct prereq_ctx *c, const char *path, char *buf, size_t n);

/* ---- the mount table (prereq_mounts.c) ---- */

struct prereq_mount {
	char point[PATH_MAX]; /* in-root mount point covering the path */
	char fstype[64];
	int readonly;         /* "ro" in the mount's or the superblock's options */
	int noexec;
	char table[PATH_MAX]; /* which mountinfo file answered */
};

/* Find the mount covering the in-root path (already resolved). 0 or -errno. */
int prereq_mount_of(const struct prereq_ctx *c, const char *path, struct prereq_mount *m);
/* Same, from mountinfo text, for the mount table's own tests. */
int prereq_mount_parse(const char *text, const char *path, struct prereq_mount *m);

/* ---- running programs (prereq_exec.c) ---- */

/* Run argv with stdout and stderr captured into out (NUL-terminated), for at
 * most timeout_ms. Returns the exit status (0..255), or -errno, -ETIMEDOUT. */
int prereq_capture(char *const argv[], char *out, size_t n, int timeout_ms);
/* Run program with no arguments, its output discarded. Returns the exit status,
 * or -errno when it could not be executed (-EACCES for a noexec mount). */
int prereq_exec_status(const char *program, int timeout_ms);

/* ---- results and remedies (prereq.c) ---- */

void prereq_set(struct prereq_result *r, enum prereq_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void prereq_set_remedy(struct prereq_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "apt-get install PKG" / "yum install PKG" / "zypper install PKG" for c's
 * family; both of the first two when the family is unknown. */
void prereq_install_cmd(const struct prereq_ctx *c, const char *deb, const char *rpm,
			const char *suse, char *out, size_t n);

/* ---- the checks, one function per seed item ---- */

typedef void (*prereq_check_fn)(const struct prereq_ctx *c, struct prereq_result *r);

void prereq_check_root_free_space(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_tmp_writable(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_tmp_exec(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_python(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_dhclient(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_bootloader(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_privileges(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_kernel_headers(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_headers_not_symlink(const struct prereq_ctx *c, struct prereq_result *r);
/* prereq_checks_kmod.c */
void prereq_check_secure_boot(const struct prereq_ctx *c, struct prereq_result *r);
void prereq_check_kmod_loadable(const struct prereq_ctx *c, struct prereq_result *r);

/* Python's version from "Python 3.11.2" output or a "python3.11" file name.
 * Sets major and minor (-1 when unknown); 0, or -EINVAL when neither is there. */
int prereq_python_version_text(const char *s, int *major, int *minor);
int prereq_python_version_name(const char *name, int *major, int *minor);

/* Whether user (member of groups, a NULL-terminated list) appears in the
 * sudoers file at the in-root path, following its include directives.
 * 1 listed (where[] says the file and line), 0 not, -errno unreadable. */
int prereq_sudoers_lists(const struct prereq_ctx *c, const char *sudoers, const char *user,
			 unsigned uid, const char *const *groups, char *where, size_t n);

#endif
