/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_host_prereq.c's fixture: fake Debian-like and RHEL-like systems, each on
 * its own tmpfs, built to pass every check and then broken one way at a
 * time; prereq_run() in this process or in a child that gave up root; and
 * assertions on the results. Static functions: one test program includes it.
 */
#ifndef LIVEMIG_TEST_PREREQ_FIXTURE_H
#define LIVEMIG_TEST_PREREQ_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "prereq.h"

#define ALICE 4242 /* exists only in the fake roots' /etc/passwd */

struct distro {
	const char *name, *os_release, *kver, *headers, *grub_cfg, *dhclient;
	const char *install, *clean, *headers_pkg, *reinstall, *dhclient_pkg, *grub_pkg;
};

static const struct distro DEB = {
	"debian-like",
	"PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nID=ubuntu\nID_LIKE=debian\n",
	"6.1.0-18-amd64",
	"/usr/src/linux-headers-6.1.0-18-amd64",
	"/boot/grub/grub.cfg",
	"/sbin/dhclient",
	"apt-get install python3",
	"apt-get clean",
	"apt-get install linux-headers-6.1.0-18-amd64",
	"apt-get install --reinstall linux-headers-6.1.0-18-amd64",
	"apt-get install isc-dhcp-client",
	"apt-get install grub-pc",
};

static const struct distro RHEL = {
	"rhel-like",
	"NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
	"5.14.0-362.8.1.el9_3.x86_64",
	"/usr/src/kernels/5.14.0-362.8.1.el9_3.x86_64",
	"/boot/grub2/grub.cfg",
	"/usr/sbin/dhclient",
	"yum install python3",
	"yum clean all",
	"yum install kernel-devel-5.14.0-362.8.1.el9_3.x86_64",
	"yum reinstall kernel-devel-5.14.0-362.8.1.el9_3.x86_64",
	"yum install dhclient",
	"yum install grub2-pc",
};

static const struct distro *const distros[] = { &DEB, &RHEL };

#define MOUNTINFO_TMP(opts)                                                                  \
	"22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"       \
	"27 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"         \
	"31 27 0:31 / /tmp " opts " shared:14 - tmpfs tmpfs rw,size=4096000k\n"

static char base[256];
static char mounts[64][512];
static int nmounts;
static int nroots;

/* ---- building trees ---- */

/* snprintf that fails the test rather than cut a path short */
static void pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n)
		fail_msg("path too long: %s", out);
}

static void mkdirs(const char *path, mode_t mode)
{
	char p[512];

	pathf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, mode) && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
}

static void put(const char *root, const char *rel, mode_t mode, const char *text)
{
	char p[512], dir[512];
	int fd;

	pathf(p, sizeof(p), "%s%s", root, rel);
	pathf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir, 0755);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		fail_msg("create %s: %s", p, strerror(errno));
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void link_to(const char *root, const char *rel, const char *target)
{
	char p[512], dir[512];

	pathf(p, sizeof(p), "%s%s", root, rel);
	pathf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir, 0755);
	unlink(p);
	if (symlink(target, p))
		fail_msg("symlink %s: %s", p, strerror(errno));
}

static void rm(const char *root, const char *rel)
{
	char p[512];

	pathf(p, sizeof(p), "%s%s", root, rel);
	if (unlink(p) && errno != ENOENT)
		fail_msg("unlink %s: %s", p, strerror(errno));
}

static void mount_tmpfs(const char *dir, const char *opts, unsigned long flags)
{
	mkdirs(dir, 0755);
	if (mount("tmpfs", dir, "tmpfs", flags, opts))
		fail_msg("mount tmpfs on %s: %s", dir, strerror(errno));
	assert_true(nmounts < 64);
	pathf(mounts[nmounts++], sizeof(mounts[0]), "%s", dir);
}

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("needs root to mount tmpfs: skipped\n");
		skip();
	}
}

/*
 * A system that passes every check: out gets its root, a fresh tmpfs of
 * size (e.g. "2g", where 1 GiB free on / is certain).
 */
static void make_system(const struct distro *d, const char *size, char *out, size_t n)
{
	char opts[64], path[512];

	pathf(out, n, "%s/root%d-%s", base, nroots++, d->name);
	pathf(opts, sizeof(opts), "size=%s,mode=0755", size);
	mount_tmpfs(out, opts, 0);

	put(out, "/etc/os-release", 0644, d->os_release);
	/* the binary is never run under --root: its version comes from names */
	put(out, "/usr/bin/python3.11", 0755, "#!/bin/sh\necho Python 3.11.2\n");
	link_to(out, "/usr/bin/python3", "python3.11");
	pathf(path, sizeof(path), "%s/tmp", out);
	mkdirs(path, 01777);
	assert_int_equal(chmod(path, 01777), 0);
	put(out, "/proc/self/mountinfo", 0444, MOUNTINFO_TMP("rw,nosuid,nodev"));
	put(out, d->grub_cfg, 0600, "menuentry 'Linux' { linux /vmlinuz root=/dev/vda1 }\n");
	put(out, d->dhclient, 0755, "#!/bin/sh\nexit 0\n");
	pathf(path, sizeof(path), "%s\n", d->kver);
	put(out, "/proc/sys/kernel/osrelease", 0444, path);
	pathf(path, sizeof(path), "%s/include/config/kernel.release", d->headers);
	put(out, path, 0644, d->kver);
	/* as the packages make it: an absolute link, which must resolve inside root */
	pathf(path, sizeof(path), "/lib/modules/%s/build", d->kver);
	link_to(out, path, d->headers);
	/* what DKMS leaves from livemig-cbt-dkms: a module that cannot load
	 * is a warning whatever the tracker */
	pathf(path, sizeof(path), "/lib/modules/%s/updates/dkms/livemig_cbt.ko.xz", d->kver);
	put(out, path, 0644, "");
	put(out, "/etc/passwd", 0644,
	    "root:x:0:0:root:/root:/bin/bash\n"
	    "alice:x:4242:4242:Alice:/home/alice:/bin/bash\n"
	    "bob:x:4343:4343:Bob:/home/bob:/bin/bash\n");
	put(out, "/etc/group", 0644,
	    "root:x:0:\nalice:x:4242:\nbob:x:4343:\nwheel:x:10:\nsudo:x:27:\n");
	put(out, "/etc/sudoers", 0644,
	    "Defaults\tenv_reset\n"
	    "root\tALL=(ALL:ALL) ALL\n"
	    "%sudo\tALL=(ALL:ALL) ALL\n"
	    "%wheel\tALL=(ALL) ALL\n"
	    "@includedir /etc/sudoers.d\n");
	put(out, "/etc/sudoers.d/README", 0644, "# files here are read by sudo\n");
}

/* ---- running and asserting ---- */

static int run(const char *root, const char *const *waive, struct prereq_result *r)
{
	struct prereq_options o = { .root = root, .waive = waive };
	int n = prereq_run(&o, r, PREREQ_MAX_RESULTS);

	assert_int_equal(n, 11);
	return n;
}

/* The same, in a child that runs as uid ALICE (with SUDO_USER set if sudo_user). */
static int run_as_alice(const char *root, const char *sudo_user, struct prereq_result *r)
{
	int fds[2], status;
	pid_t pid;
	ssize_t got;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct prereq_options o = { .root = root };
		struct prereq_result mine[PREREQ_MAX_RESULTS];
		int n;

		close(fds[0]);
		if (setgroups(0, NULL) || setgid(ALICE) || setuid(ALICE))
			_exit(90);
		if (sudo_user)
			setenv("SUDO_USER", sudo_user, 1);
		else
			unsetenv("SUDO_USER");
		n = prereq_run(&o, mine, PREREQ_MAX_RESULTS);
		if (n != 11 || write(fds[1], mine, sizeof(mine[0]) * 11) != (ssize_t)sizeof(mine[0]) * 11)
			_exit(91);
		_exit(0);
	}
	close(fds[1]);
	got = read(fds[0], r, sizeof(r[0]) * 11);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(got, (ssize_t)sizeof(r[0]) * 11);
	return 11;
}

static const struct prereq_result *find(const struct prereq_result *r, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(r[i].id, id))
			return &r[i];
	fail_msg("no result for %s", id);
	return r; /* not reached: fail_msg does not return */
}

static void dump(const struct prereq_result *r, int n)
{
	for (int i = 0; i < n; i++)
		print_message("  %s %s: %s | %s\n", prereq_verdict_name(r[i].verdict), r[i].id,
			      r[i].seen, r[i].remedy);
}

/* id has verdict v, its seen text contains seen and its remedy contains remedy
 * (either may be NULL); every other check passes, except allow (may warn). */
static void expect(const struct prereq_result *r, int n, const char *id, enum prereq_verdict v,
		   const char *seen, const char *remedy, const char *allow)
{
	const struct prereq_result *x = find(r, n, id);
	int ok = x->verdict == v && (!seen || strstr(x->seen, seen)) &&
		 (!remedy || strstr(x->remedy, remedy));

	for (int i = 0; i < n && ok; i++) {
		if (&r[i] == x)
			continue;
		if (r[i].verdict != PREREQ_PASS &&
		    !(allow && !strcmp(r[i].id, allow) && r[i].verdict == PREREQ_WARN))
			ok = 0;
	}
	if (!ok) {
		dump(r, n);
		fail_msg("expected %s %s (seen ~ '%s', remedy ~ '%s'), others passing",
			 prereq_verdict_name(v), id, seen ? seen : "", remedy ? remedy : "");
	}
	if (v != PREREQ_PASS && !x->remedy[0] && v == PREREQ_FAIL)
		fail_msg("%s fails without a remedy", id);
}

static void expect_all_pass(const struct prereq_result *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].verdict != PREREQ_PASS) {
			dump(r, n);
			fail_msg("%s did not pass", r[i].id);
		}
	}
}

/* ---- the group fixture: a base directory, every mount undone ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	pathf(base, sizeof(base), "%s/test_prereq.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		return -1;
	/* the unprivileged child must reach the roots */
	return chmod(base, 0755);
}

static int group_teardown(void **state)
{
	(void)state;
	for (int i = nmounts - 1; i >= 0; i--)
		if (umount2(mounts[i], 0))
			umount2(mounts[i], MNT_DETACH);
	return nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
