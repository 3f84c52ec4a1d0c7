// SPDX-License-Identifier: GPL-2.0-or-later
/* The conversion's text edits (src/launch/text_edit.c) on files as sources
 * have them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "text_edit.h"

static int uuid_of(void *arg, const char *spec, const char *mp, char *uuid, size_t len)
{
	(void)arg;
	if (!strcmp(spec, "/dev/sdb1"))
		return -ENOENT;
	snprintf(uuid, len, "uuid-of-%s", !strcmp(mp, "/") ? "root" : mp + 1);
	return 0;
}

static int notes;
static void note(void *arg, const char *spec, const char *mp, const char *uuid)
{
	(void)arg;
	(void)spec;
	(void)mp;
	(void)uuid;
	notes++;
}

static void test_fstab(void **state)
{
	const char *in = "# <file system> <mount point>\n"
			 "/dev/sda1 / ext4 errors=remount-ro 0 1\n"
			 "UUID=1234 /home ext4 defaults 0 2\n"
			 "/dev/mapper/vg-data /data xfs defaults 0 0\n"
			 "/dev/sdb1 /scratch ext4 defaults 0 0\n"
			 "/dev/hda2\t/boot\text2\tdefaults\t0\t2\n";
	char *out;
	int changed;

	(void)state;
	notes = 0;
	out = fstab_rewrite(in, uuid_of, note, NULL, &changed);
	assert_non_null(out);
	assert_true(changed);
	assert_int_equal(notes, 3);
	assert_non_null(strstr(out, "\nUUID=uuid-of-root / ext4 errors=remount-ro 0 1\n"));
	assert_non_null(strstr(out, "\nUUID=1234 /home ext4 defaults 0 2\n"));
	assert_non_null(strstr(out, "\n/dev/mapper/vg-data /data xfs"));
	assert_non_null(strstr(out, "\n#/dev/sdb1 /scratch"));
	assert_non_null(strstr(out, "\nUUID=uuid-of-boot /boot ext2\tdefaults\t0\t2\n"));
	free(out);
	out = fstab_rewrite("UUID=1 / ext4 defaults 0 1\n", uuid_of, note, NULL, &changed);
	assert_false(changed);
	free(out);
}

static void test_grub_defaults(void **state)
{
	char *out;

	(void)state;
	out = grub_defaults_rewrite("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet\"\nGRUB_DISABLE_LINUX_UUID=true\n");
	assert_non_null(strstr(out, "GRUB_CMDLINE_LINUX=\"quiet console=tty0 console=ttyS0,115200\"\n"));
	assert_non_null(strstr(out, "#GRUB_DISABLE_LINUX_UUID=true\nGRUB_DISABLE_LINUX_UUID=false\n"));
	free(out);
	out = grub_defaults_rewrite("GRUB_CMDLINE_LINUX=\"\"\n");
	assert_non_null(strstr(out, "GRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200\"\n"));
	assert_non_null(strstr(out, "GRUB_DISABLE_LINUX_UUID=false\n"));
	free(out);
	out = grub_defaults_rewrite("GRUB_CMDLINE_LINUX=\"console=ttyS0,9600\"\n");
	assert_non_null(strstr(out, "GRUB_CMDLINE_LINUX=\"console=ttyS0,9600\"\n"));
	free(out);
	out = grub_defaults_rewrite(NULL);
	assert_string_equal(out, "GRUB_DISABLE_LINUX_UUID=false\nGRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200\"\n");
	free(out);
}

static void test_hosts(void **state)
{
	char *out = hosts_rename("127.0.0.1\tlocalhost\n127.0.1.1\tweb web-db\n10.0.0.1 web\n", "web", "web-test");

	(void)state;
	assert_string_equal(out, "127.0.0.1\tlocalhost\n127.0.1.1\tweb-test web-db\n10.0.0.1 web-test\n");
	free(out);
}

static void test_marker_address(void **state)
{
	char a[64];

	(void)state;
	assert_int_equal(marker_address("X result=up host=h addr=enp1s0=10.0.2.15/24 livemigd=inactive", a, sizeof(a)), 0);
	assert_string_equal(a, "10.0.2.15");
	assert_int_equal(marker_address("X addr=192.168.1.2/16", a, sizeof(a)), 0);
	assert_string_equal(a, "192.168.1.2");
	assert_int_equal(marker_address("X result=no-network addr=none livemigd=x", a, sizeof(a)), -ENOENT);
	assert_int_equal(marker_address("X result=up", a, sizeof(a)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fstab),
		cmocka_unit_test(test_grub_defaults),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_marker_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
