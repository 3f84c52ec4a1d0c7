// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pieces under the prerequisite checks, on real files in a temporary
 * directory (no root needed): os-release families, the mountinfo parser,
 * Python version strings, running a program with a deadline, symlinks
 * resolved inside a root, and the sudoers reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "prereq_internal.h"
#include "util.h"

static char base[256];

#include "scratch_dir.h"

static void put(const char *rel, mode_t mode, const char *text)
{
	char p[600], dir[600];
	int fd;

	if (snprintf(p, sizeof(p), "%s%s", base, rel) >= (int)sizeof(p))
		fail_msg("path too long");
	memcpy(dir, p, sizeof(p));
	for (char *s = dir + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", dir, strerror(errno));
		*s = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void link_to(const char *rel, const char *target)
{
	char p[600];

	if (snprintf(p, sizeof(p), "%s%s", base, rel) >= (int)sizeof(p))
		fail_msg("path too long");
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

/* ---- os-release ---- */

static void test_family(void **state)
{
	(void)state;
	assert_int_equal(prereq_family_from_os_release("ID=debian\n"), FAMILY_DEBIAN);
	assert_int_equal(prereq_family_from_os_release("NAME=x\nID=\"ubuntu\"\n"), FAMILY_DEBIAN);
	/* VERSION_ID and ID_LIKE are not ID */
	assert_int_equal(prereq_family_from_os_release("VERSION_ID=\"9\"\nID_LIKE=\"fedora\"\n"
						       "ID=\"rhel\"\n"),
			 FAMILY_RHEL);
	assert_int_equal(prereq_family_from_os_release("ID=pop\nID_LIKE='ubuntu debian'"),
			 FAMILY_DEBIAN);
	assert_int_equal(prereq_family_from_os_release("ID=rocky\n"), FAMILY_RHEL);
	assert_int_equal(prereq_family_from_os_release("ID=ol\n"), FAMILY_RHEL);
	assert_int_equal(prereq_family_from_os_release("ID=Fedora\n"), FAMILY_RHEL);
	assert_int_equal(prereq_family_from_os_release("ID=amzn\nID_LIKE=\"centos rhel fedora\""),
			 FAMILY_RHEL);
	assert_int_equal(prereq_family_from_os_release("ID=\"sles\"\n"), FAMILY_SUSE);
	assert_int_equal(prereq_family_from_os_release("ID=\"opensuse-tumbleweed\"\n"),
			 FAMILY_SUSE);
	assert_int_equal(prereq_family_from_os_release("ID=arch\n"), FAMILY_UNKNOWN);
	assert_int_equal(prereq_family_from_os_release(""), FAMILY_UNKNOWN);
	assert_int_equal(prereq_family_from_os_release("ID=\n"), FAMILY_UNKNOWN);
}

/* ---- mountinfo ---- */

static void test_mountinfo(void **state)
{
	static const char table[] =
		"27 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		"40 27 0:40 / /tmp rw,nosuid,nodev,noexec shared:14 master:2 - tmpfs tmpfs rw\n"
		"41 40 0:41 / /tmp rw,relatime - tmpfs tmpfs rw,size=1024k\n"
		"50 27 0:50 / /tmpfoo rw,noexec - xfs /dev/vdb ro\n"
		"60 27 0:60 / /mnt/my\\040disk rw,noexecute - ext4 /dev/vdc ro,errors=remount-ro\n"
		"garbage line\n"
		"70 27 0:70 / /var rw - ext4 /dev/vdd ro\n";
	struct prereq_mount m;

	(void)state;
	/* two mounts on /tmp: the later one is on top */
	assert_int_equal(prereq_mount_parse(table, "/tmp", &m), 0);
	assert_string_equal(m.point, "/tmp");
	assert_false(m.noexec);
	assert_false(m.readonly);
	assert_int_equal(prereq_mount_parse(table, "/tmp/a/b", &m), 0);
	assert_string_equal(m.point, "/tmp");
	/* /tmpfoo does not cover /tmpf, and /tmp does not cover /tmpfoo */
	assert_int_equal(prereq_mount_parse(table, "/tmpfoo/x", &m), 0);
	assert_string_equal(m.point, "/tmpfoo");
	assert_true(m.noexec);
	assert_true(m.readonly); /* the superblock is ro */
	assert_int_equal(prereq_mount_parse(table, "/tmpf", &m), 0);
	assert_string_equal(m.point, "/");
	assert_string_equal(m.fstype, "ext4");
	/* escaped blanks; "noexecute" is not "noexec" */
	assert_int_equal(prereq_mount_parse(table, "/mnt/my disk/x", &m), 0);
	assert_string_equal(m.point, "/mnt/my disk");
	assert_false(m.noexec);
	assert_true(m.readonly);
	assert_int_equal(prereq_mount_parse(table, "/var", &m), 0);
	assert_true(m.readonly);
	assert_int_equal(prereq_mount_parse("", "/tmp", &m), -ENOENT);
	assert_int_equal(prereq_mount_parse("1 2 3 4 /tmp rw\n", "/tmp", &m), -ENOENT);
}

/* ---- Python versions ---- */

static void version_text(const char *s, int rc, int major, int minor)
{
	int ma, mi;

	assert_int_equal(prereq_python_version_text(s, &ma, &mi), rc);
	assert_int_equal(ma, major);
	assert_int_equal(mi, minor);
}

static void version_name(const char *s, int rc, int major, int minor)
{
	int ma, mi;

	assert_int_equal(prereq_python_version_name(s, &ma, &mi), rc);
	if (rc)
		return;
	assert_int_equal(ma, major);
	assert_int_equal(mi, minor);
}

static void test_python_versions(void **state)
{
	(void)state;
	version_text("Python 2.7.18\n", 0, 2, 7);
	version_text("Python 3.12.0rc1", 0, 3, 12);
	version_text("Python 2.4", 0, 2, 4);
	version_text("Python 3", 0, 3, -1);
	version_text("python: command not found", -EINVAL, -1, -1);
	version_text("Python x", -EINVAL, -1, -1);
	version_name("python3.11", 0, 3, 11);
	version_name("python3.6m", 0, 3, 6);
	version_name("python2", 0, 2, -1);
	version_name("python", 0, -1, -1);
	version_name("python3-config", -EINVAL, 0, 0);
	version_name("python3.", -EINVAL, 0, 0);
	version_name("pythonw", -EINVAL, 0, 0);
	version_name("ipython3", -EINVAL, 0, 0);
}

/* ---- running programs ---- */

static void test_capture(void **state)
{
	char path[600], out[64], *argv[3] = { path, "--version", NULL };
	uint64_t t0;

	(void)state;
	/* Python 2 prints its version on stderr */
	put("/bin/py2", 0755, "#!/bin/sh\necho \"Python 2.7.18\" >&2\n");
	snprintf(path, sizeof(path), "%s/bin/py2", base);
	/* deadlines of 60 s where the program ends by itself: a busy machine may
	 * take seconds to start a shell, and only a hang should reach them */
	assert_int_equal(prereq_capture(argv, out, sizeof(out), 60000), 0);
	assert_string_equal(out, "Python 2.7.18\n");

	/* long output is cut, and the child is not left blocked on a full pipe */
	put("/bin/chatty", 0755, "#!/bin/sh\nseq 1 100000\nexit 3\n");
	snprintf(path, sizeof(path), "%s/bin/chatty", base);
	assert_int_equal(prereq_capture(argv, out, sizeof(out), 60000), 3);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_int_equal(strncmp(out, "1\n2\n3\n", 6), 0);

	/* the deadline holds even when the program hangs */
	put("/bin/hang", 0755, "#!/bin/sh\nexec sleep 30\n");
	snprintf(path, sizeof(path), "%s/bin/hang", base);
	t0 = now_mono_ns();
	assert_int_equal(prereq_capture(argv, out, sizeof(out), 200), -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 < UINT64_C(20000000000)); /* far from the 30 s sleep */

	/* exec failures are errors, not exit statuses */
	put("/bin/plain", 0644, "#!/bin/sh\nexit 0\n");
	snprintf(path, sizeof(path), "%s/bin/plain", base);
	assert_int_equal(prereq_exec_status(path, 60000), -EACCES);
	snprintf(path, sizeof(path), "%s/bin/missing", base);
	assert_int_equal(prereq_exec_status(path, 60000), -ENOENT);
	put("/bin/exit42", 0755, "#!/bin/sh\nexit 42\n");
	snprintf(path, sizeof(path), "%s/bin/exit42", base);
	assert_int_equal(prereq_exec_status(path, 60000), 42);
}

/* ---- paths inside a root ---- */

static void test_resolve(void **state)
{
	struct prereq_ctx c;
	char out[PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(prereq_ctx_init(&c, base), 0);
	assert_false(c.is_host);
	put("/usr/src/hdr/Makefile", 0644, "all:\n");
	put("/etc/passwd", 0644, "root:x:0:0::/root:/bin/sh\n");
	link_to("/lib", "usr/lib");
	put("/usr/lib/modules/k1/.keep", 0644, "");
	link_to("/usr/lib/modules/k1/build", "/usr/src/hdr");
	/* an absolute target means ROOT/usr/src/hdr, not the host's */
	assert_int_equal(prereq_resolve(&c, "/lib/modules/k1/build", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/src/hdr");
	assert_int_equal(prereq_resolve(&c, "/lib/modules/k1/build/Makefile", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/usr/src/hdr/Makefile");
	assert_int_equal(prereq_lstat(&c, "/lib/modules/k1/build", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(prereq_stat(&c, "/lib/modules/k1/build", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* ".." and absolute links cannot leave the root */
	link_to("/usr/src/up", "../../../../../../etc");
	assert_int_equal(prereq_resolve(&c, "/usr/src/up/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/passwd");
	link_to("/usr/src/abs", "/etc/passwd");
	assert_int_equal(prereq_resolve(&c, "/usr/src/abs", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/passwd");
	assert_int_equal(prereq_resolve(&c, "/../../etc/./passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/passwd");
	assert_int_equal(prereq_resolve(&c, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	/* the errors */
	link_to("/loop1", "/loop2");
	link_to("/loop2", "loop1");
	assert_int_equal(prereq_resolve(&c, "/loop1", out, sizeof(out)), -ELOOP);
	assert_int_equal(prereq_resolve(&c, "/usr/src/nothing/x", out, sizeof(out)), -ENOENT);
	assert_int_equal(prereq_resolve(&c, "/etc/passwd/x", out, sizeof(out)), -ENOTDIR);
	assert_int_equal(prereq_resolve(&c, "relative", out, sizeof(out)), -EINVAL);
	/* the host's own root is not "under" anything */
	assert_int_equal(prereq_ctx_init(&c, "/"), 0);
	assert_true(c.is_host);
	assert_int_equal(prereq_host_path(&c, "/etc", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc");
}

/* ---- sudoers ---- */

static int listed(const char *user, unsigned uid, const char *const *groups, char *where)
{
	struct prereq_ctx c;

	assert_int_equal(prereq_ctx_init(&c, base), 0);
	return prereq_sudoers_lists(&c, "/etc/sudoers", user, uid, groups, where, 256);
}

static void test_sudoers(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const admins[] = { "users", "admins", NULL };
	char where[256];

	(void)state;
	put("/etc/sudoers", 0644,
	    "# comment naming alice ALL=(ALL) ALL\n"
	    "Defaults:alice !lecture\n"
	    "Cmnd_Alias SHUTDOWN = /sbin/shutdown, /sbin/reboot\n"
	    "Host_Alias WEB = web1, web2\n"
	    "User_Alias DBAS = dave, \\\n"
	    "    %dba\n"
	    "ALL, !mallory\tALL = (ALL) SHUTDOWN\n"
	    "#4242 ALL=(ALL) ALL\n"
	    "%admins ALL=(ALL) ALL # trailing comment\n"
	    "DBAS ALL = (oracle) ALL\n"
	    "#include sudoers.local\n"
	    "#includedir /etc/sudoers.d\n");
	put("/etc/sudoers.local", 0644, "frank ALL=(ALL) ALL\n");
	put("/etc/sudoers.d/erin", 0644, "erin ALL=(ALL) ALL\n");
	put("/etc/sudoers.d/gina~", 0644, "gina ALL=(ALL) ALL\n");

	/* ALL lists everyone but mallory (the last matching item wins) */
	assert_int_equal(listed("zed", 1000, none, where), 1);
	assert_string_equal(where, "/etc/sudoers:7");
	assert_int_equal(listed("mallory", 1000, none, where), 0);
	assert_int_equal(listed("mallory", 4242, none, where), 1); /* by uid */
	assert_string_equal(where, "/etc/sudoers:8");
	assert_int_equal(listed("mallory", 1000, admins, where), 1);
	assert_string_equal(where, "/etc/sudoers:9");
	{
		static const char *const dba[] = { "dba", NULL };

		assert_int_equal(listed("mallory", 1000, dba, where), 1);
		assert_string_equal(where, "/etc/sudoers:10"); /* through the alias */
	}
	assert_int_equal(listed("mallory", 1000, (const char *const[]){ "dave", NULL }, where),
			 0); /* a group named like a user is not that user */

	/* includes, relative to the including file; sudo's name rules in dirs */
	put("/etc/sudoers", 0644, "#include sudoers.local\n@includedir sudoers.d\n"
				  "#include /etc/missing\n");
	assert_int_equal(listed("frank", 1000, none, where), 1);
	assert_string_equal(where, "/etc/sudoers.local:1");
	assert_int_equal(listed("erin", 1000, none, where), 1);
	assert_string_equal(where, "/etc/sudoers.d/erin:1");
	assert_int_equal(listed("gina", 1000, none, where), 0);
	assert_int_equal(listed("alice", 1000, none, where), 0);

	/* a file including itself stops at the depth limit */
	put("/etc/sudoers", 0644, "#include /etc/sudoers\n");
	assert_int_equal(listed("alice", 1000, none, where), 0);

	/* no sudoers at all */
	{
		char path[600];

		assert_true(snprintf(path, sizeof(path), "%s/etc/sudoers", base) < (int)sizeof(path));
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(listed("alice", 1000, none, where), -ENOENT);
}

/* ---- fixture ---- */

static int setup(void **state)
{
	(void)state;
	return scratch_dir_make("test_prereq_parts");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_python_versions),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_sudoers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
