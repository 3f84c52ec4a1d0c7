// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The filesystem checks: free space on /, /tmp read-write with room, /tmp
 * able to run scripts. The installer unpacks and runs its scripts from /tmp,
 * so for /tmp the mount table is not trusted alone: a file is really
 * created there, and a script really run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "prereq_internal.h"
#include "util.h"

/* The seed's "1 GB" and "50MB", read as binary units: the stricter reading. */
#define ROOT_MIN_FREE (UINT64_C(1) << 30)
#define TMP_MIN_FREE  (UINT64_C(50) << 20)

#define PROBE_EXIT       42
#define PROBE_TIMEOUT_MS 5000

static int free_bytes(const char *host, uint64_t *out)
{
	struct statvfs sv;

	if (statvfs(host, &sv))
		return -errno;
	/* f_bavail: what an unprivileged writer may use, not the root reserve */
	*out = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

static const char *clean_cmd(const struct prereq_ctx *c)
{
	switch (c->family) {
	case FAMILY_DEBIAN: return "apt-get clean, ";
	case FAMILY_RHEL: return "yum clean all, ";
	case FAMILY_SUSE: return "zypper clean --all, ";
	case FAMILY_UNKNOWN: break;
	}
	return "";
}

void prereq_check_root_free_space(const struct prereq_ctx *c, struct prereq_result *r)
{
	char have[32], need[32];
	uint64_t avail = 0;
	int rc = free_bytes(c->root[0] ? c->root : "/", &avail);

	if (rc) {
		prereq_set(r, PREREQ_FAIL, "cannot measure free space on /: %s", strerror(-rc));
		prereq_set_remedy(r, "make sure / is mounted and readable, then run the check again");
		return;
	}
	fmt_bytes(avail, have, sizeof(have));
	if (avail >= ROOT_MIN_FREE) {
		prereq_set(r, PREREQ_PASS, "%s free", have);
		return;
	}
	fmt_bytes(ROOT_MIN_FREE - avail, need, sizeof(need));
	prereq_set(r, PREREQ_FAIL, "only %s free on / (1 GiB needed)", have);
	prereq_set_remedy(r,
			  "free at least %s on /: %sjournalctl --vacuum-size=100M, remove old "
			  "files (du -xh / | sort -h), or grow the root filesystem",
			  need, clean_cmd(c));
}

/* Create a file in the host directory dir, write data, make it mode. On
 * success the caller owns path (and unlinks it). 0 or -errno. */
static int place_file(const char *dir, const char *data, mode_t mode, char *path, size_t n)
{
	size_t len = strlen(data);
	int fd, rc = 0;

	if (snprintf(path, n, "%s/.livemig-prereq-XXXXXX", dir) >= (int)n)
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	ssize_t wrote = write(fd, data, len);

	if (wrote != (ssize_t)len)
		rc = wrote < 0 ? -errno : -ENOSPC;
	if (!rc && fchmod(fd, mode))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}

/* /tmp inside the root, resolved, and its host path. */
static int tmp_paths(const struct prereq_ctx *c, struct prereq_result *r, char *real,
		     char *host, size_t n)
{
	struct stat st;
	int rc = prereq_resolve(c, "/tmp", real, n);

	if (!rc)
		rc = prereq_host_path(c, real, host, n);
	if (!rc && (stat(host, &st) ? (rc = -errno) : !S_ISDIR(st.st_mode)))
		rc = -ENOTDIR;
	if (rc) {
		prereq_set(r, PREREQ_FAIL, "/tmp is missing or not a directory: %s",
			   strerror(-rc));
		prereq_set_remedy(r, "mkdir -m 1777 /tmp (remove whatever is in its place first)");
	}
	return rc;
}

void prereq_check_tmp_writable(const struct prereq_ctx *c, struct prereq_result *r)
{
	char real[PATH_MAX], host[PATH_MAX], probe[PATH_MAX], have[32];
	struct prereq_mount m;
	uint64_t avail = 0;
	int mrc, wrc, frc;

	if (tmp_paths(c, r, real, host, sizeof(host)))
		return;
	mrc = prereq_mount_of(c, real, &m);
	wrc = place_file(host, "livemig\n", 0600, probe, sizeof(probe));
	if (!wrc)
		unlink(probe);
	frc = free_bytes(host, &avail);
	fmt_bytes(avail, have, sizeof(have));

	if (!mrc && m.readonly) {
		prereq_set(r, PREREQ_FAIL, "/tmp is mounted read-only (%s on %s, per %s)", m.fstype,
			   m.point, m.table);
		prereq_set_remedy(r, "mount -o remount,rw %s, and make it rw in /etc/fstab so it "
				  "stays so after a reboot", m.point);
	} else if (wrc) {
		prereq_set(r, PREREQ_FAIL, "cannot create a file in /tmp: %s", strerror(-wrc));
		if (wrc == -EROFS)
			prereq_set_remedy(r, "mount -o remount,rw /tmp, and make it rw in /etc/fstab");
		else if (wrc == -ENOSPC || wrc == -EDQUOT)
			prereq_set_remedy(r, "free space in /tmp (remove files you no longer need)");
		else
			prereq_set_remedy(r, "chmod 1777 /tmp (everyone may create files there)");
	} else if (frc) {
		prereq_set(r, PREREQ_FAIL, "cannot measure free space in /tmp: %s", strerror(-frc));
		prereq_set_remedy(r, "make sure /tmp is mounted, then run the check again");
	} else if (avail < TMP_MIN_FREE) {
		prereq_set(r, PREREQ_FAIL, "only %s free in /tmp (50 MiB needed)", have);
		prereq_set_remedy(r, "free space in /tmp (remove files you no longer need), or give "
				  "/tmp more room (a larger tmpfs: mount -o remount,size=512M /tmp)");
	} else if (mrc) {
		prereq_set(r, PREREQ_WARN, "a file could be created in /tmp, %s free; no mount "
			   "table to confirm its options (%s)", have, strerror(-mrc));
	} else {
		prereq_set(r, PREREQ_PASS, "read-write (%s on %s), %s free", m.fstype, m.point,
			   have);
	}
}

/* Place "#!/bin/sh\nexit 42" in dir and run it: the exit status or -errno. */
static int run_probe(const char *dir)
{
	char path[PATH_MAX];
	int rc = place_file(dir, "#!/bin/sh\nexit 42\n", 0700, path, sizeof(path));

	if (rc)
		return rc;
	/* another thread's fork may briefly hold our write fd open: ETXTBSY */
	for (int tries = 0; tries < 10; tries++) {
		rc = prereq_exec_status(path, PROBE_TIMEOUT_MS);
		if (rc != -ETXTBSY)
			break;
		sleep_ns(20 * 1000000u);
	}
	unlink(path);
	return rc;
}

void prereq_check_tmp_exec(const struct prereq_ctx *c, struct prereq_result *r)
{
	char real[PATH_MAX], host[PATH_MAX], ran[96];
	struct prereq_mount m;
	int mrc, prc;

	if (tmp_paths(c, r, real, host, sizeof(host)))
		return;
	mrc = prereq_mount_of(c, real, &m);
	prc = run_probe(host);
	if (prc == PROBE_EXIT)
		snprintf(ran, sizeof(ran), "a script placed there ran");
	else if (prc >= 0)
		snprintf(ran, sizeof(ran), "a script placed there exited %d, not %d", prc,
			 PROBE_EXIT);
	else
		snprintf(ran, sizeof(ran), "a script placed there could not run: %s",
			 strerror(-prc));

	if (!mrc && m.noexec) {
		prereq_set(r, PREREQ_FAIL, "/tmp is mounted noexec (%s on %s, per %s); %s",
			   m.fstype, m.point, m.table, ran);
	} else if (prc == PROBE_EXIT) {
		if (mrc)
			prereq_set(r, PREREQ_PASS, "%s (no mount table: %s)", ran, strerror(-mrc));
		else
			prereq_set(r, PREREQ_PASS, "exec (%s on %s); %s", m.fstype, m.point, ran);
		return;
	} else if (prc == -EROFS || prc == -ENOSPC || prc == -EDQUOT) {
		/* tmp-writable reports this one; whether exec works is unknown */
		prereq_set(r, PREREQ_WARN, "cannot tell: %s", ran);
		prereq_set_remedy(r, "fix tmp-writable first, then run the check again");
		return;
	} else {
		prereq_set(r, PREREQ_FAIL, "%s%s", mrc ? "" : "the mount table shows exec, but ",
			   ran);
	}
	prereq_set_remedy(r, "mount -o remount,exec %s, and remove noexec from its options in "
			  "/etc/fstab (or systemd's tmp.mount) so it stays so after a reboot",
			  mrc ? "/tmp" : m.point);
}
