// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inventory_*.c parts that read files: the root-disk walk through
 * device-mapper and md (this test machine's kernel has neither, so the tree
 * is a fake sysfs laid out like the real one), mountinfo, DMI, os-release,
 * meminfo and the CPU list. Disks and NICs from libudev and getifaddrs are
 * tested on the real machine in tests/integration/t_inventory.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_tree.h"
#include "inventory.h"
#include "inventory_internal.h"

static char root[4096];

static int each_setup(void **state)
{
	(void)state;
	return ft_make_root(root, "test_inventory");
}

static int each_teardown(void **state)
{
	(void)state;
	ft_remove(root);
	return 0;
}

#define SCSI "sys/devices/pci0000:00/0000:00:10.0/host0/target0:0:0"

/* A block device directory with its dev file and the sys/dev/block link. */
static void blockdev(const char *dir, const char *majmin)
{
	char rel[512], target[512], val[32];

	snprintf(rel, sizeof(rel), "%s/dev", dir);
	snprintf(val, sizeof(val), "%s\n", majmin);
	assert_int_equal(ft_write(root, rel, val), 0);
	snprintf(rel, sizeof(rel), "sys/dev/block/%s", majmin);
	/* sys/dev/block/X -> ../../devices/... */
	snprintf(target, sizeof(target), "../../%s", dir + strlen("sys/"));
	assert_int_equal(ft_symlink(root, rel, target), 0);
}

static void partition(const char *dir, const char *majmin, int n)
{
	char rel[512], val[16];

	blockdev(dir, majmin);
	snprintf(rel, sizeof(rel), "%s/partition", dir);
	snprintf(val, sizeof(val), "%d\n", n);
	assert_int_equal(ft_write(root, rel, val), 0);
}

/* dir/slaves/name -> target (relative to slaves/) */
static void slave(const char *dir, const char *name, const char *target)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/slaves/%s", dir, name);
	assert_int_equal(ft_symlink(root, rel, target), 0);
}

/*
 * Two SCSI disks sda and sdb, each with two partitions; md0 a RAID1 of sda1
 * and sdb1 with a partition md0p1; dm-0 (an LVM volume) on md0p1; dm-1 on
 * md0 directly; dm-2 spanning sda2 and sdc (a whole disk); sdd plain.
 */
static void build_stack(void)
{
	blockdev(SCSI "/0:0:0:0/block/sda", "8:0");
	partition(SCSI "/0:0:0:0/block/sda/sda1", "8:1", 1);
	partition(SCSI "/0:0:0:0/block/sda/sda2", "8:2", 2);
	blockdev(SCSI "/0:0:1:0/block/sdb", "8:16");
	partition(SCSI "/0:0:1:0/block/sdb/sdb1", "8:17", 1);
	blockdev(SCSI "/0:0:2:0/block/sdc", "8:32");
	blockdev(SCSI "/0:0:3:0/block/sdd", "8:48");
	partition(SCSI "/0:0:3:0/block/sdd/sdd1", "8:49", 1);
	assert_int_equal(ft_mkdirs(root, SCSI "/0:0:3:0/block/sdd/slaves"), 0); /* empty, as real */

	blockdev("sys/devices/virtual/block/md0", "9:0");
	slave("sys/devices/virtual/block/md0", "sda1",
	      "../../../../pci0000:00/0000:00:10.0/host0/target0:0:0/0:0:0:0/block/sda/sda1");
	slave("sys/devices/virtual/block/md0", "sdb1",
	      "../../../../pci0000:00/0000:00:10.0/host0/target0:0:0/0:0:1:0/block/sdb/sdb1");
	partition("sys/devices/virtual/block/md0/md0p1", "259:0", 1);

	blockdev("sys/devices/virtual/block/dm-0", "253:0");
	slave("sys/devices/virtual/block/dm-0", "md0p1", "../../md0/md0p1");
	blockdev("sys/devices/virtual/block/dm-1", "253:1");
	slave("sys/devices/virtual/block/dm-1", "md0", "../../md0");
	blockdev("sys/devices/virtual/block/dm-2", "253:2");
	slave("sys/devices/virtual/block/dm-2", "sda2",
	      "../../../../pci0000:00/0000:00:10.0/host0/target0:0:0/0:0:0:0/block/sda/sda2");
	slave("sys/devices/virtual/block/dm-2", "sdc",
	      "../../../../pci0000:00/0000:00:10.0/host0/target0:0:0/0:0:2:0/block/sdc");
	/* dm-3 on dm-0: LUKS inside LVM inside RAID */
	blockdev("sys/devices/virtual/block/dm-3", "253:3");
	slave("sys/devices/virtual/block/dm-3", "dm-0", "../../dm-0");
	/* a broken stack that points at itself */
	blockdev("sys/devices/virtual/block/dm-9", "253:9");
	slave("sys/devices/virtual/block/dm-9", "dm-9", "../../dm-9");
}

/* Walk major:minor and return the names, sorted, joined with spaces. */
static int walk(unsigned maj, unsigned min, char *out, size_t len)
{
	char sys[4200], err[512] = "";
	json_t *names = json_array(), *v;
	size_t i;
	int rc;

	snprintf(sys, sizeof(sys), "%s/sys", root);
	rc = inv_root_walk(sys, maj, min, names, err, sizeof(err));
	out[0] = '\0';
	json_array_foreach(names, i, v) {
		if (out[0])
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, json_string_value(v), len - strlen(out) - 1);
	}
	json_decref(names);
	if (rc)
		snprintf(out, len, "%d: %s", rc, err);
	return rc;
}

static void test_root_walk(void **state)
{
	char got[1024];

	(void)state;
	build_stack();
	assert_int_equal(walk(8, 1, got, sizeof(got)), 0); /* plain partition */
	assert_string_equal(got, "sda");
	assert_int_equal(walk(8, 48, got, sizeof(got)), 0); /* whole disk, empty slaves/ */
	assert_string_equal(got, "sdd");
	assert_int_equal(walk(8, 49, got, sizeof(got)), 0);
	assert_string_equal(got, "sdd");
	assert_int_equal(walk(9, 0, got, sizeof(got)), 0); /* md on partitions */
	assert_string_equal(got, "sda sdb");
	assert_int_equal(walk(259, 0, got, sizeof(got)), 0); /* partition of md */
	assert_string_equal(got, "sda sdb");
	assert_int_equal(walk(253, 0, got, sizeof(got)), 0); /* dm over md partition over partitions */
	assert_string_equal(got, "sda sdb");
	assert_int_equal(walk(253, 1, got, sizeof(got)), 0); /* dm over md */
	assert_string_equal(got, "sda sdb");
	assert_int_equal(walk(253, 3, got, sizeof(got)), 0); /* dm over dm over md */
	assert_string_equal(got, "sda sdb");
	assert_int_equal(walk(253, 2, got, sizeof(got)), 0); /* partition and whole disk */
	assert_string_equal(got, "sda sdc");
	assert_int_equal(walk(253, 9, got, sizeof(got)), -ELOOP);
	assert_non_null(strstr(got, "deeper than"));
	assert_int_equal(walk(8, 99, got, sizeof(got)), -ENOENT);
	assert_non_null(strstr(got, "no block device 8:99"));
}

static json_t *run_root(const char *mountinfo)
{
	char sys[4200], proc[4200];
	json_t *doc = json_pack("{s:[{s:s, s:s, s:b}, {s:s, s:s, s:b}, {s:s, s:s, s:b}]}", "disks",
				"name", "sda", "device", "/dev/sda", "root", 0, "name", "sdb",
				"device", "/dev/sdb", "root", 0, "name", "sdc", "device",
				"/dev/sdc", "root", 0);
	json_t *warnings = json_array();

	assert_int_equal(ft_write(root, "proc/self/mountinfo", mountinfo), 0);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	assert_int_equal(inv_root(doc, warnings, sys, proc), 0);
	json_object_set_new(doc, "warnings", warnings);
	return doc;
}

static void test_root_from_mountinfo(void **state)
{
	json_t *doc, *rd;

	(void)state;
	build_stack();
	/* the initramfs's root is hidden by the real one mounted over it */
	doc = run_root("1 0 0:2 / / rw - rootfs rootfs rw\n"
		       "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		       "27 1 253:3 / / rw,relatime shared:1 - ext4 /dev/mapper/luks\\040root rw\n"
		       "28 27 8:49 / /srv rw - xfs /dev/sdd1 rw\n");
	rd = json_object_get(doc, "root_disks");
	assert_int_equal(json_array_size(rd), 2);
	assert_string_equal(json_string_value(json_array_get(rd, 0)), "/dev/sda");
	assert_string_equal(json_string_value(json_array_get(rd, 1)), "/dev/sdb");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(doc, "disks"), 0), "root")));
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(doc, "disks"), 1), "root")));
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(doc, "disks"), 2), "root")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "root_mount"), "source")),
			    "/dev/mapper/luks root");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "root_mount"), "device")),
			    "253:3");
	assert_int_equal(json_array_size(json_object_get(doc, "warnings")), 0);
	json_decref(doc);
}

static void test_root_not_on_a_disk(void **state)
{
	json_t *doc;

	(void)state;
	build_stack();
	/* overlay root of a container: no block device behind it */
	doc = run_root("30 1 0:45 / / rw - overlay overlay rw,lowerdir=/a\n");
	assert_int_equal(json_array_size(json_object_get(doc, "root_disks")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "root_mount"), "device")));
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(doc, "warnings"), 0)),
			       "not on a block device"));
	json_decref(doc);
	/* a device sysfs does not know */
	doc = run_root("30 1 8:99 / / rw - ext4 /dev/sdz rw\n");
	assert_int_equal(json_array_size(json_object_get(doc, "root_disks")), 0);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(doc, "warnings"), 0)),
			       "no block device 8:99"));
	json_decref(doc);
}

static void test_hardware(void **state)
{
	char sys[4200];
	json_t *doc = json_object(), *w = json_array(), *hw;

	(void)state;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	assert_int_equal(ft_write(root, "sys/class/dmi/id/sys_vendor", "QEMU\n"), 0);
	assert_int_equal(ft_write(root, "sys/class/dmi/id/product_name",
				  "Standard PC (Q35 + ICH9, 2009)  \n"), 0);
	assert_int_equal(ft_write(root, "sys/class/dmi/id/board_vendor", "Vendor\x01X\n"), 0);
	/* product_serial absent (and root reads it even when mode 0400 says
	 * otherwise, so "unreadable" cannot be made here as root) */
	assert_int_equal(inv_hardware(doc, w, sys), 0);
	hw = json_object_get(doc, "hardware");
	assert_string_equal(json_string_value(json_object_get(hw, "source")), "dmi");
	assert_string_equal(json_string_value(json_object_get(hw, "vendor")), "QEMU");
	assert_string_equal(json_string_value(json_object_get(hw, "product")),
			    "Standard PC (Q35 + ICH9, 2009)");
	assert_string_equal(json_string_value(json_object_get(hw, "board_vendor")), "Vendor?X");
	assert_true(json_is_null(json_object_get(hw, "serial")));
	assert_int_equal(json_array_size(w), 0);
	json_decref(doc);

	/* no DMI: a device tree's model (the file ends in a NUL, not a newline) */
	ft_remove(root);
	assert_int_equal(ft_make_root(root, "test_inventory"), 0);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	doc = json_object();
	assert_int_equal(ft_write(root, "sys/firmware/devicetree/base/model", "Raspberry Pi 4 Model B"), 0);
	assert_int_equal(inv_hardware(doc, w, sys), 0);
	hw = json_object_get(doc, "hardware");
	assert_string_equal(json_string_value(json_object_get(hw, "source")), "devicetree");
	assert_string_equal(json_string_value(json_object_get(hw, "product")), "Raspberry Pi 4 Model B");
	assert_true(json_is_null(json_object_get(hw, "vendor")));
	json_decref(doc);

	/* neither */
	ft_remove(root);
	assert_int_equal(ft_make_root(root, "test_inventory"), 0);
	doc = json_object();
	assert_int_equal(inv_hardware(doc, w, sys), 0);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "hardware"), "source")));
	assert_int_equal(json_array_size(w), 1);
	json_decref(doc);
	json_decref(w);
}

static void test_os_release(void **state)
{
	char path[4200];
	json_t *doc = json_object(), *w = json_array(), *os;

	(void)state;
	assert_int_equal(ft_write(root, "os-release",
				  "# comment\n"
				  "NAME=\"Red Hat Enterprise Linux\"\n"
				  "VERSION=\"9.3 (Plow)\"\n"
				  "ID=\"rhel\"\n"
				  "ID_LIKE='fedora'\n"
				  "VERSION_ID=9.3\n"
				  "PRETTY_NAME=\"A \\\"quoted\\\" \\\\ name \\$HOME\"\n"
				  "HOME_URL=\"https://example.com/\"\n"),
			 0);
	snprintf(path, sizeof(path), "%s/os-release", root);
	assert_int_equal(inv_os(doc, w, path), 0);
	os = json_object_get(doc, "os");
	assert_string_equal(json_string_value(json_object_get(os, "name")), "Red Hat Enterprise Linux");
	assert_string_equal(json_string_value(json_object_get(os, "version")), "9.3 (Plow)");
	assert_string_equal(json_string_value(json_object_get(os, "id")), "rhel");
	assert_string_equal(json_string_value(json_object_get(os, "id_like")), "fedora");
	assert_string_equal(json_string_value(json_object_get(os, "version_id")), "9.3");
	assert_string_equal(json_string_value(json_object_get(os, "pretty_name")),
			    "A \"quoted\" \\ name $HOME");
	assert_int_equal(json_array_size(w), 0);
	json_decref(doc);

	/* missing file: every field null, one warning */
	doc = json_object();
	snprintf(path, sizeof(path), "%s/none", root);
	assert_int_equal(inv_os(doc, w, path), 0);
	os = json_object_get(doc, "os");
	assert_true(json_is_null(json_object_get(os, "name")));
	assert_true(json_is_null(json_object_get(os, "version_id")));
	assert_int_equal(json_array_size(w), 1);
	json_decref(doc);
	json_decref(w);
}

static void test_system(void **state)
{
	char sys[4200], proc[4200], mid[4200];
	json_t *doc = json_object(), *w = json_array();

	(void)state;
	assert_int_equal(ft_write(root, "proc/meminfo",
				  "MemTotalX:     1 kB\nMemTotal:       16384000 kB\nMemFree: 1 kB\n"), 0);
	assert_int_equal(ft_write(root, "proc/cpuinfo",
				  "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"), 0);
	assert_int_equal(ft_write(root, "sys/devices/system/cpu/online", "0-3,6,8-9\n"), 0);
	assert_int_equal(ft_write(root, "machine-id", "0123456789ABCDEFabcdef0123456789\n"), 0);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(mid, sizeof(mid), "%s/machine-id", root);
	assert_int_equal(inv_system(doc, w, sys, proc, mid), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "memory_bytes")), 16384000LL * 1024);
	assert_int_equal(json_integer_value(json_object_get(doc, "cores")), 7);
	assert_string_equal(json_string_value(json_object_get(doc, "cpu_model")),
			    "Intel(R) Xeon(R) CPU @ 2.20GHz");
	assert_string_equal(json_string_value(json_object_get(doc, "machine_id")),
			    "0123456789ABCDEFabcdef0123456789");
	assert_non_null(json_string_value(json_object_get(doc, "hostname")));
	assert_int_equal(json_array_size(w), 0);
	json_decref(doc);
	json_decref(w);
}

static void test_cpu_list(void **state)
{
	(void)state;
	assert_int_equal(inv_count_cpu_list("0"), 1);
	assert_int_equal(inv_count_cpu_list("0-1"), 2);
	assert_int_equal(inv_count_cpu_list("0-3,6,8-9"), 7);
	assert_int_equal(inv_count_cpu_list("0,2,4"), 3);
	assert_int_equal(inv_count_cpu_list(""), -EINVAL);
	assert_int_equal(inv_count_cpu_list("3-1"), -EINVAL);
	assert_int_equal(inv_count_cpu_list("0-"), -EINVAL);
	assert_int_equal(inv_count_cpu_list("a"), -EINVAL);
	assert_int_equal(inv_count_cpu_list("0 1"), -EINVAL);
}

static void test_vpd_serial(void **state)
{
	static const unsigned char page[] = { 0x00, 0x80, 0x00, 0x0c, ' ', ' ', 'W', 'D', '-',
					      'W', 'X', '1', '2', 'A', ' ', ' ', 0x00, 0x00 };
	char dir[4200], buf[64];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sda/device/vpd_pg80", root);
	assert_int_equal(ft_mkdirs(root, "sda/device"), 0);
	f = fopen(dir, "wb");
	assert_non_null(f);
	fwrite(page, 1, sizeof(page), f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/sda", root);
	assert_string_equal(inv_vpd_serial(dir, buf, sizeof(buf)), "WD-WX12A");
	/* a length beyond the data read is cut to the data */
	f = fopen(strcat(strcpy(buf, dir), "/device/vpd_pg80"), "wb");
	fwrite("\x00\x80\x01\x00SER", 1, 7, f);
	fclose(f);
	assert_string_equal(inv_vpd_serial(dir, buf, sizeof(buf)), "SER");
	/* another page, or none */
	f = fopen(strcat(strcpy(buf, dir), "/device/vpd_pg80"), "wb");
	fwrite("\x00\x83\x00\x03" "ABC", 1, 7, f);
	fclose(f);
	assert_null(inv_vpd_serial(dir, buf, sizeof(buf)));
	snprintf(dir, sizeof(dir), "%s/sdb", root);
	assert_null(inv_vpd_serial(dir, buf, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root_walk, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_root_from_mountinfo, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_root_not_on_a_disk, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_hardware, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_os_release, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(test_system, each_setup, each_teardown),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test_setup_teardown(test_vpd_serial, each_setup, each_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
