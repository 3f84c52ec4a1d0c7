// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * prereq_run() against real directory trees: one fake system that passes
 * every check, and for each check systems that fail exactly that one, in a
 * Debian-like and a RHEL-like flavour. Each fake root is its own tmpfs, so
 * free space is known whatever the host has; /tmp cases mount a small or a
 * noexec tmpfs inside it, and the privilege cases run in a child that gave
 * up root. Mounting needs root: without it these tests are skipped (the
 * integration suite, which requires root, runs the same ground).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cmocka.h>

#include "prereq.h"
#include "prereq_fixture.h"

/* ---- the system that passes ---- */

static void test_all_pass(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];
	json_t *doc;

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		int n;

		make_system(distros[i], "2g", root, sizeof(root));
		n = run(root, NULL, r);
		expect_all_pass(r, n);
		assert_true(prereq_ready(r, (size_t)n));
		/* what each pass says it saw */
		assert_non_null(strstr(find(r, n, "python")->seen, "Python 3.11"));
		assert_non_null(strstr(find(r, n, "bootloader-grub")->seen, distros[i]->grub_cfg));
		assert_non_null(strstr(find(r, n, "kernel-headers")->seen, distros[i]->kver));
		assert_non_null(strstr(find(r, n, "kernel-headers-not-symlink")->seen,
				       distros[i]->headers));
		assert_non_null(strstr(find(r, n, "tmp-exec")->seen, "a script placed there ran"));
		doc = prereq_json(r, (size_t)n);
		assert_non_null(doc);
		assert_true(json_is_true(json_object_get(doc, "ready")));
		assert_int_equal(json_array_size(json_object_get(doc, "checks")), 11);
		json_decref(doc);
	}
}

/* ---- one system per failing check ---- */

static void test_root_free_space(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		make_system(distros[i], "200m", root, sizeof(root));
		expect(r, run(root, NULL, r), "root-free-space", PREREQ_FAIL, "1 GiB needed",
		       distros[i]->clean, NULL);
	}
}

static void test_python(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		const struct distro *d = distros[i];

		make_system(d, "2g", root, sizeof(root));
		rm(root, "/usr/bin/python3");
		rm(root, "/usr/bin/python3.11");
		expect(r, run(root, NULL, r), "python", PREREQ_FAIL, "no python3", d->install, NULL);

		/* too old, known from the link's target */
		put(root, "/usr/bin/python2.3", 0755, "#!/bin/sh\necho Python 2.3.7\n");
		link_to(root, "/usr/bin/python2", "python2.3");
		expect(r, run(root, NULL, r), "python", PREREQ_FAIL, "Python 2.3", d->install, NULL);

		/* a bare "python": cannot tell, a warning */
		rm(root, "/usr/bin/python2");
		rm(root, "/usr/bin/python2.3");
		put(root, "/usr/local/bin/python", 0755, "#!/bin/sh\n");
		expect(r, run(root, NULL, r), "python", PREREQ_WARN, "cannot tell", d->install, NULL);

		/* Python 2.7 from a sibling, in /bin */
		put(root, "/bin/python2", 0755, "#!/bin/sh\n");
		put(root, "/bin/python2.7", 0755, "#!/bin/sh\n");
		expect(r, run(root, NULL, r), "python", PREREQ_PASS, "Python 2.7", NULL, NULL);

		/* python3 alone says enough: every 3.x is 3.0 or later */
		rm(root, "/bin/python2");
		rm(root, "/bin/python2.7");
		put(root, "/usr/bin/python3", 0755, "#!/bin/sh\n");
		expect(r, run(root, NULL, r), "python", PREREQ_PASS, "Python 3 at /usr/bin/python3",
		       NULL, NULL);
	}
}

static void test_tmp_writable(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512], tmp[600];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		/* the mount table says ro */
		make_system(distros[i], "2g", root, sizeof(root));
		put(root, "/proc/self/mountinfo", 0444, MOUNTINFO_TMP("ro,nosuid,nodev"));
		expect(r, run(root, NULL, r), "tmp-writable", PREREQ_FAIL, "read-only",
		       "mount -o remount,rw /tmp", NULL);

		/* a real 20 MiB /tmp */
		make_system(distros[i], "2g", root, sizeof(root));
		pathf(tmp, sizeof(tmp), "%s/tmp", root);
		mount_tmpfs(tmp, "size=20m,mode=1777", 0);
		expect(r, run(root, NULL, r), "tmp-writable", PREREQ_FAIL, "50 MiB needed",
		       "free space in /tmp", NULL);
	}
}

static void test_tmp_exec(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512], tmp[600];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		/* the mount table says noexec */
		make_system(distros[i], "2g", root, sizeof(root));
		put(root, "/proc/self/mountinfo", 0444, MOUNTINFO_TMP("rw,nosuid,nodev,noexec"));
		expect(r, run(root, NULL, r), "tmp-exec", PREREQ_FAIL, "mounted noexec",
		       "mount -o remount,exec /tmp", NULL);

		/* the table says exec, but /tmp really is noexec: the script cannot run */
		make_system(distros[i], "2g", root, sizeof(root));
		pathf(tmp, sizeof(tmp), "%s/tmp", root);
		mount_tmpfs(tmp, "size=64m,mode=1777", MS_NOEXEC);
		expect(r, run(root, NULL, r), "tmp-exec", PREREQ_FAIL,
		       "the mount table shows exec, but a script placed there could not run: "
		       "Permission denied",
		       "mount -o remount,exec /tmp", NULL);
	}
}

static void test_bootloader(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		const struct distro *d = distros[i];

		make_system(d, "2g", root, sizeof(root));
		rm(root, d->grub_cfg);
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_FAIL, "no boot loader found",
		       d->grub_pkg, NULL);

		put(root, "/boot/efi/loader/loader.conf", 0644, "default arch.conf\n");
		put(root, "/boot/efi/EFI/systemd/systemd-bootx64.efi", 0644, "MZ");
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_FAIL,
		       "no GRUB; found systemd-boot /boot/efi/loader/loader.conf", d->grub_pkg, NULL);

		rm(root, "/boot/efi/loader/loader.conf");
		rm(root, "/boot/efi/EFI/systemd/systemd-bootx64.efi");
		put(root, "/boot/extlinux/extlinux.conf", 0644, "DEFAULT linux\n");
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_FAIL, "found extlinux",
		       d->grub_pkg, NULL);

		/* GRUB and another loader: which boots is unknown */
		put(root, "/boot/efi/EFI/BOOT/GRUBX64.EFI", 0644, "MZ");
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_WARN,
		       "GRUB 2 (EFI) /boot/efi/EFI/BOOT/GRUBX64.EFI; but also extlinux", "efibootmgr",
		       NULL);

		rm(root, "/boot/extlinux/extlinux.conf");
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_PASS, "GRUB 2 (EFI)", NULL,
		       NULL);

		rm(root, "/boot/efi/EFI/BOOT/GRUBX64.EFI");
		put(root, "/boot/grub/menu.lst", 0644, "title Linux\n");
		expect(r, run(root, NULL, r), "bootloader-grub", PREREQ_PASS,
		       "GRUB 1 /boot/grub/menu.lst", NULL, NULL);
	}
}

static void test_privileges(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512], path[600];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		make_system(distros[i], "2g", root, sizeof(root));
		/* we are root: that is enough */
		expect(r, run(root, NULL, r), "privileges", PREREQ_PASS, "running as root", NULL,
		       NULL);

		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_FAIL,
		       "alice (uid 4242, groups alice) is not root", "visudo", NULL);

		/* a file in the included directory names her */
		put(root, "/etc/sudoers.d/alice", 0644, "# ops\nalice ALL=(ALL) NOPASSWD: ALL\n");
		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_PASS,
		       "alice is in sudoers (/etc/sudoers.d/alice:2)", NULL, NULL);
		/* sudo ignores files with a dot in their name */
		rm(root, "/etc/sudoers.d/alice");
		put(root, "/etc/sudoers.d/alice.bak", 0644, "alice ALL=(ALL) ALL\n");
		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_FAIL, "alice", "visudo",
		       NULL);

		/* through a group in /etc/group */
		put(root, "/etc/group", 0644, "root:x:0:\nalice:x:4242:\nwheel:x:10:alice\n");
		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_PASS,
		       "alice is in sudoers (/etc/sudoers:4)", NULL, NULL);

		/* SUDO_USER names the person: bob, not in any listed group */
		expect(r, run_as_alice(root, "bob", r), "privileges", PREREQ_FAIL, "bob (uid 4343",
		       "visudo", NULL);
		put(root, "/etc/sudoers.d/ops", 0644,
		    "User_Alias OPS = carol, \\\n   bob\nOPS ALL=(ALL) ALL\n");
		expect(r, run_as_alice(root, "bob", r), "privileges", PREREQ_PASS,
		       "bob is in sudoers (/etc/sudoers.d/ops:3)", NULL, NULL);

		/* sudoers as a real system has it: 0440 root, unreadable to her */
		pathf(path, sizeof(path), "%s/etc/sudoers", root);
		assert_int_equal(chmod(path, 0440), 0);
		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_WARN,
		       "cannot read /etc/sudoers", "sudo livemig check", NULL);

		/* no sudo at all */
		rm(root, "/etc/sudoers");
		expect(r, run_as_alice(root, NULL, r), "privileges", PREREQ_FAIL,
		       "sudo is not installed", i ? "yum install sudo" : "apt-get install sudo",
		       NULL);

		/* root asked sudo to run it as alice: the person is root */
		expect(r, run_as_alice(root, "root", r), "privileges", PREREQ_PASS,
		       "invoked by root through sudo", NULL, NULL);
	}
}

static void test_dhclient(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		make_system(distros[i], "2g", root, sizeof(root));
		rm(root, distros[i]->dhclient);
		expect(r, run(root, NULL, r), "dhclient", PREREQ_FAIL, "no dhclient",
		       distros[i]->dhclient_pkg, NULL);
	}
}

static void test_kernel_headers(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512], path[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		const struct distro *d = distros[i];

		/* headers for another kernel only */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "/lib/modules/%s/build", d->kver);
		rm(root, path);
		put(root, "/usr/src/old-headers/include/config/kernel.release", 0644, "4.19.0-1\n");
		link_to(root, "/lib/modules/4.19.0-1/build", "/usr/src/old-headers");
		pathf(path, sizeof(path), "%s/include/config/kernel.release", d->headers);
		rm(root, path);
		pathf(path, sizeof(path), "%s%s/include/config", root, d->headers);
		rmdir(path);
		*strrchr(path, '/') = '\0';
		rmdir(path);
		*strrchr(path, '/') = '\0';
		rmdir(path);
		expect(r, run(root, NULL, r), "kernel-headers", PREREQ_FAIL,
		       "headers only for 4.19.0-1", d->headers_pkg, "kernel-headers-not-symlink");
		assert_int_equal(find(r, 9, "kernel-headers-not-symlink")->verdict, PREREQ_WARN);

		/* build there, but the headers are another version's */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "%s/include/config/kernel.release", d->headers);
		put(root, path, 0644, "6.1.0-17-amd64\n");
		expect(r, run(root, NULL, r), "kernel-headers", PREREQ_FAIL, "are for 6.1.0-17-amd64",
		       d->headers_pkg, NULL);

		/* Debian's headers: kernel.release holds the upstream version,
		 * UTS_RELEASE the running kernel's release */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "%s/include/config/kernel.release", d->headers);
		put(root, path, 0644, "6.1.192\n");
		pathf(path, sizeof(path), "%s/include/generated/utsrelease.h", d->headers);
		{
			char uts[128];

			snprintf(uts, sizeof(uts), "#define UTS_RELEASE \"%s\"\n", d->kver);
			put(root, path, 0644, uts);
		}
		expect(r, run(root, NULL, r), "kernel-headers", PREREQ_PASS,
		       "include/generated/utsrelease.h", NULL, NULL);

		/* build dangles */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "/lib/modules/%s/build", d->kver);
		link_to(root, path, "/usr/src/gone");
		expect(r, run(root, NULL, r), "kernel-headers", PREREQ_FAIL,
		       "points to /usr/src/gone, which is missing", d->headers_pkg,
		       "kernel-headers-not-symlink");
	}
}

static void test_headers_not_symlink(void **state)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512], path[512], moved[512];

	(void)state;
	need_root();
	for (size_t i = 0; i < 2; i++) {
		const struct distro *d = distros[i];

		/* the headers folder moved elsewhere and linked back: the right headers,
		 * so kernel-headers passes, but the folder is a link */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "%s%s", root, d->headers);
		pathf(moved, sizeof(moved), "%s/opt/headers", root);
		mkdirs(moved, 0755);
		strcat(moved, "/h");
		assert_int_equal(rename(path, moved), 0);
		link_to(root, d->headers, "/opt/headers/h");
		pathf(path, sizeof(path), "rm %s (the link only", d->headers);
		expect(r, run(root, NULL, r), "kernel-headers-not-symlink", PREREQ_FAIL,
		       "is a symbolic link to /opt/headers/h", path, NULL);
		assert_non_null(strstr(find(r, 9, "kernel-headers-not-symlink")->remedy,
				       d->reinstall));

		/* a relative link is the same thing */
		moved[0] = '\0';
		for (const char *p = strchr(d->headers + 1, '/'); p; p = strchr(p + 1, '/'))
			strcat(moved, "../");
		strcat(moved, "opt/headers/h");
		link_to(root, d->headers, moved);
		expect(r, run(root, NULL, r), "kernel-headers-not-symlink", PREREQ_FAIL,
		       "is a symbolic link to /opt/headers/h", d->reinstall, NULL);

		/* build a real directory (a self-built kernel) is fine */
		make_system(d, "2g", root, sizeof(root));
		pathf(path, sizeof(path), "/lib/modules/%s/build", d->kver);
		rm(root, path);
		pathf(path, sizeof(path), "/lib/modules/%s/build/include/config/kernel.release",
			 d->kver);
		put(root, path, 0644, d->kver);
		expect(r, run(root, NULL, r), "kernel-headers-not-symlink", PREREQ_PASS,
		       "build is a real directory", NULL, NULL);
	}
}

/* ---- waivers, JSON, distributions ---- */

static void test_waive(void **state)
{
	static const char *const waive[] = { "dhclient", "python", NULL };
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];
	json_t *doc, *c;
	int n;

	(void)state;
	need_root();
	make_system(&DEB, "2g", root, sizeof(root));
	rm(root, DEB.dhclient);
	n = run(root, NULL, r);
	assert_false(prereq_ready(r, (size_t)n));

	n = run(root, waive, r);
	assert_true(prereq_ready(r, (size_t)n));
	assert_int_equal(find(r, n, "dhclient")->verdict, PREREQ_FAIL);
	assert_true(find(r, n, "dhclient")->waived);
	assert_false(find(r, n, "python")->waived); /* it passes: nothing to waive */

	doc = prereq_json(r, (size_t)n);
	assert_non_null(doc);
	assert_true(json_is_true(json_object_get(doc, "ready")));
	for (size_t i = 0; i < json_array_size(json_object_get(doc, "checks")); i++) {
		c = json_array_get(json_object_get(doc, "checks"), i);
		if (strcmp(json_string_value(json_object_get(c, "id")), "dhclient"))
			continue;
		assert_string_equal(json_string_value(json_object_get(c, "verdict")), "fail");
		assert_true(json_is_true(json_object_get(c, "waived")));
		assert_string_equal(json_string_value(json_object_get(c, "remedy")),
				    "apt-get install isc-dhcp-client");
		assert_non_null(json_object_get(c, "title"));
		assert_non_null(json_object_get(c, "seen"));
	}
	json_decref(doc);
}

static void test_distributions(void **state)
{
	static const struct {
		const char *os_release, *remedy;
	} cases[] = {
		{ "ID=debian\n", "apt-get install isc-dhcp-client" },
		{ "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", "apt-get install isc-dhcp-client" },
		{ "ID=\"ol\"\nID_LIKE=\"fedora\"\n", "yum install dhclient" },
		{ "ID=centos\n", "yum install dhclient" },
		{ "ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\n", "yum install dhclient" },
		{ "ID=\"sles\"\nID_LIKE=\"suse\"\n", "zypper install dhcp-client" },
		{ "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", "zypper install dhcp-client" },
		{ "ID=gentoo\n",
		  "apt-get install isc-dhcp-client (Debian/Ubuntu) or yum install dhclient" },
	};
	struct prereq_result r[PREREQ_MAX_RESULTS];
	char root[512];

	(void)state;
	need_root();
	make_system(&DEB, "2g", root, sizeof(root));
	rm(root, DEB.dhclient);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(root, "/etc/os-release", 0644, cases[i].os_release);
		expect(r, run(root, NULL, r), "dhclient", PREREQ_FAIL, NULL, cases[i].remedy, NULL);
	}
	/* no /etc/os-release: /usr/lib/os-release, as os-release(5) says */
	rm(root, "/etc/os-release");
	put(root, "/usr/lib/os-release", 0644, "ID=fedora\n");
	expect(r, run(root, NULL, r), "dhclient", PREREQ_FAIL, NULL, "yum install dhclient", NULL);
}

static void test_bad_root(void **state)
{
	struct prereq_options o = { .root = "/nonexistent/livemig-root" };
	struct prereq_result r[PREREQ_MAX_RESULTS];

	(void)state;
	assert_int_equal(prereq_run(&o, r, PREREQ_MAX_RESULTS), -ENOENT);
	o.root = "/etc/hostname";
	assert_int_equal(prereq_run(&o, r, PREREQ_MAX_RESULTS), -ENOTDIR);
	/* fewer slots than checks: only that many are written */
	o.root = "/";
	assert_int_equal(prereq_run(&o, r, 2), 2);
	assert_string_equal(r[0].id, "root-free-space");
	assert_string_equal(r[1].id, "python");
	assert_true(prereq_known_id("kernel-headers-not-symlink"));
	assert_false(prereq_known_id("kernel"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_pass),
		cmocka_unit_test(test_root_free_space),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_tmp_writable),
		cmocka_unit_test(test_tmp_exec),
		cmocka_unit_test(test_bootloader),
		cmocka_unit_test(test_privileges),
		cmocka_unit_test(test_dhclient),
		cmocka_unit_test(test_kernel_headers),
		cmocka_unit_test(test_headers_not_symlink),
		cmocka_unit_test(test_waive),
		cmocka_unit_test(test_distributions),
		cmocka_unit_test(test_bad_root),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
