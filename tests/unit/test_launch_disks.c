// SPDX-License-Identifier: GPL-2.0-or-later
/* A launch carries every disk of the machine, in its order: what it takes
 * from a conversion report (this one's "disks", and an older one-disk
 * report's "output"), the libvirt domain's disks (virtio vda, vdb, ... in
 * order, only vda booting), and the export driver's images, made by the
 * real qemu-img and removed again by destroy. */
#include <errno.h>
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

#include "launcher.h"

static char base[256];
#include "scratch_dir.h"

static json_t *report(const char *text)
{
	json_error_t e;
	json_t *r = json_loads(text, 0, &e);

	if (!r)
		fail_msg("bad test JSON: %s", e.text);
	return r;
}

static void test_report_disks_in_order(void **state)
{
	json_t *r = report("{\"result\": \"converted\", \"output\": \"/l/copy-sda.qcow2\", \"firmware\": \"bios\","
			   " \"marker\": \"LIVEMIG-FIRSTBOOT token=00\", \"disks\": ["
			   "{\"input\": \"/l/disk-sda.qcow2\", \"input_format\": \"qcow2\", \"output\": \"/l/copy-sda.qcow2\"},"
			   "{\"input\": \"/l/disk-sdb.qcow2\", \"input_format\": \"qcow2\", \"output\": \"/l/copy-sdb.qcow2\"},"
			   "{\"input\": \"/l/disk-nvme0n1.qcow2\", \"input_format\": \"qcow2\", \"output\": \"/l/copy-nvme0n1.qcow2\"}]}");
	struct launch_request rq = { 0 };
	char err[200] = "";

	(void)state;
	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 3);
	assert_string_equal(rq.disks[0], "/l/copy-sda.qcow2");
	assert_string_equal(rq.disks[1], "/l/copy-sdb.qcow2");
	assert_string_equal(rq.disks[2], "/l/copy-nvme0n1.qcow2");
	assert_string_equal(rq.firmware, "bios");
	assert_string_equal(rq.marker, "LIVEMIG-FIRSTBOOT token=00");
	json_decref(r);
}

/* a report written before conversions took several disks */
static void test_report_of_one_disk(void **state)
{
	json_t *r = report("{\"result\": \"converted\", \"output\": \"/l/copy.qcow2\", \"firmware\": \"uefi\","
			   " \"marker\": \"LIVEMIG-FIRSTBOOT token=01\"}");
	struct launch_request rq = { 0 };
	char err[200] = "";

	(void)state;
	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 1);
	assert_string_equal(rq.disks[0], "/l/copy.qcow2");
	assert_string_equal(rq.firmware, "uefi");
	json_decref(r);
}

static void refused(const char *text, const char *why)
{
	json_t *r = report(text);
	struct launch_request rq = { 0 };
	char err[200] = "";

	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
	json_decref(r);
}

static void test_report_refused(void **state)
{
	char many[4096];
	int n;

	(void)state;
	refused("{\"result\": \"failed\", \"output\": \"/l/c.qcow2\", \"firmware\": \"bios\", \"marker\": \"M\","
		" \"error\": \"unknown operating system\"}", "failed conversion");
	refused("{\"result\": \"converted\", \"firmware\": \"bios\", \"marker\": \"M\", \"disks\": []}",
		"names no converted disk");
	refused("{\"result\": \"converted\", \"firmware\": \"bios\", \"marker\": \"M\", \"disks\": [{\"input\": \"/x\"}]}",
		"disks[0] has no output");
	refused("{\"result\": \"converted\", \"marker\": \"M\", \"disks\": [{\"output\": \"/x\"}]}",
		"lacks firmware or marker");
	n = snprintf(many, sizeof(many), "{\"result\": \"converted\", \"firmware\": \"bios\", \"marker\": \"M\", "
		     "\"disks\": [");
	for (int i = 0; i <= LAUNCH_MAX_DISKS; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n, "%s{\"output\": \"/l/c%d\"}", i ? ", " : "", i);
	snprintf(many + n, sizeof(many) - (size_t)n, "]}");
	refused(many, "one disk too many");
}

/* the position of needle in xml, failing when absent */
static size_t at(const char *xml, const char *needle)
{
	const char *p = strstr(xml, needle);

	if (!p)
		fail_msg("the domain lacks %s:\n%s", needle, xml);
	return (size_t)(p - xml);
}

static size_t count(const char *xml, const char *needle)
{
	size_t n = 0;

	for (const char *p = xml; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_domain_has_every_disk_in_order(void **state)
{
	struct launch_request rq = { .name = "web-01-test-7", .n_disks = 3, .firmware = "bios", .vcpus = 2,
				     .memory_mib = 2048, .nic = "user", .state_dir = "/var/lib/x" };
	char *xml;
	size_t a, b, c;

	(void)state;
	rq.disks[0] = "/l/copy-sda.qcow2";
	rq.disks[1] = "/l/copy-sdb.qcow2";
	rq.disks[2] = "/l/copy-'odd'&.qcow2";
	xml = libvirt_domain_xml(&rq);
	assert_non_null(xml);
	a = at(xml, "<source file='/l/copy-sda.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n"
		    "      <boot order='1'/>");
	b = at(xml, "<source file='/l/copy-sdb.qcow2'/>\n      <target dev='vdb' bus='virtio'/>\n    </disk>");
	c = at(xml, "<source file='/l/copy-&apos;odd&apos;&amp;.qcow2'/>\n      <target dev='vdc' bus='virtio'/>\n"
		    "    </disk>");
	assert_true(a < b && b < c);
	assert_int_equal(count(xml, "<disk type='file' device='disk'>"), 3);
	assert_int_equal(count(xml, "<boot "), 1);
	/* per-device boot order and <os><boot dev/> exclude each other in libvirt */
	assert_null(strstr(xml, "<boot dev="));
	free(xml);
}

static void test_domain_of_one_disk(void **state)
{
	struct launch_request rq = { .name = "m-test-1", .n_disks = 1, .firmware = "uefi", .vcpus = 1,
				     .memory_mib = 1024, .nic = "network:default", .state_dir = "/s" };
	char *xml;

	(void)state;
	rq.disks[0] = "/l/copy.qcow2";
	xml = libvirt_domain_xml(&rq);
	assert_non_null(xml);
	at(xml, "<target dev='vda' bus='virtio'/>\n      <boot order='1'/>");
	assert_int_equal(count(xml, "<disk "), 1);
	at(xml, "<nvram template=");
	free(xml);
	rq.nic = "tap:x";
	assert_null(libvirt_domain_xml(&rq));
}

static void test_export_paths(void **state)
{
	char p[64];

	(void)state;
	assert_int_equal(export_disk_path("/l/web-01.qcow2", 0, p, sizeof(p)), 0);
	assert_string_equal(p, "/l/web-01.qcow2");
	assert_int_equal(export_disk_path("/l/web-01.qcow2", 1, p, sizeof(p)), 0);
	assert_string_equal(p, "/l/web-01-disk1.qcow2");
	assert_int_equal(export_disk_path("/l.d/web", 12, p, sizeof(p)), 0);
	assert_string_equal(p, "/l.d/web-disk12");
	assert_int_equal(export_disk_path(".hidden", 2, p, sizeof(p)), 0);
	assert_string_equal(p, ".hidden-disk2");
	assert_int_equal(export_disk_path("a.b.raw", 3, p, sizeof(p)), 0);
	assert_string_equal(p, "a.b-disk3.raw");
	assert_int_equal(export_disk_path("/l/a-very-long-name-indeed.qcow2", 1, p, 20), -ENAMETOOLONG);
}

static int have_qemu_img(void)
{
	return system("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null") == 0;
}

/* a small qcow2 with a byte pattern at offset 0 */
static void make_qcow2(const char *path, const char *size, const char *pattern)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' %s && qemu-io -f qcow2 -c 'write -P %s 0 64k' '%s' >/dev/null",
		 path, size, pattern, path);
	assert_int_equal(system(cmd), 0);
}

static void test_export_every_disk(void **state)
{
	char d0[300], d1[300], out[300], out1[300], desc[320], cmd[2048];
	struct launch_request rq = { .name = "web-01", .n_disks = 2, .firmware = "bios", .vcpus = 2,
				     .memory_mib = 512, .marker = "LIVEMIG-FIRSTBOOT token=ab", .format = "raw" };
	json_t *res = NULL, *d;
	struct stat st;

	(void)state;
	if (!have_qemu_img()) {
		print_message("qemu-img is not installed (ci/deps.sh launch installs qemu-utils): the export "
			      "driver cannot run\n");
		skip();
	}
	snprintf(d0, sizeof(d0), "%s/copy-sda.qcow2", base);
	snprintf(d1, sizeof(d1), "%s/copy-sdb.qcow2", base);
	snprintf(out, sizeof(out), "%s/web-01.raw", base);
	snprintf(out1, sizeof(out1), "%s/web-01-disk1.raw", base);
	snprintf(desc, sizeof(desc), "%s.json", out);
	make_qcow2(d0, "4M", "0xaa");
	make_qcow2(d1, "2M", "0xbb");
	rq.disks[0] = d0;
	rq.disks[1] = d1;
	rq.output = out;
	assert_int_equal(launcher_export.launch(&rq, &res), 0);
	assert_string_equal(json_string_value(json_object_get(res, "state")), "exported");
	assert_string_equal(json_string_value(json_object_get(res, "image")), out);
	json_decref(res);
	/* each image holds its own disk's bytes */
	snprintf(cmd, sizeof(cmd), "qemu-io -f raw -c 'read -P 0xaa 0 64k' '%s' >'%s/r0' && ! grep -q 'verification failed' "
		 "'%s/r0' && qemu-io -f raw -c 'read -P 0xbb 0 64k' '%s' >'%s/r1' && ! grep -q 'verification failed' '%s/r1'",
		 out, base, base, out1, base, base);
	assert_int_equal(system(cmd), 0);
	res = json_load_file(desc, 0, NULL);
	assert_non_null(res);
	d = json_object_get(res, "disks");
	assert_int_equal(json_array_size(d), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "file")), out);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 1), "file")), out1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(d, 0), "size")), 4 << 20);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(d, 1), "size")), 2 << 20);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 1), "bus")), "virtio");
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 1), "format")), "raw");
	json_decref(res);
	/* an image of the second disk already there: refused, and the first one
	 * made meanwhile removed again */
	unlink(out);
	unlink(desc);
	assert_int_not_equal(launcher_export.launch(&rq, &res), 0);
	assert_non_null(strstr(json_string_value(json_object_get(res, "error")), "web-01-disk1.raw exists"));
	json_decref(res);
	assert_int_equal(stat(out, &st), -1);
	assert_int_equal(stat(out1, &st), 0);
	/* destroy takes every image of the name, without the conversion */
	assert_int_equal(launcher_export.destroy(&rq, &res), 0);
	json_decref(res);
	assert_int_equal(stat(out1, &st), -1);
	assert_int_equal(stat(desc, &st), -1);
}

static int setup(void **state)
{
	(void)state;
	return scratch_dir_make("test_launch_disks");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_disks_in_order),
		cmocka_unit_test(test_report_of_one_disk),
		cmocka_unit_test(test_report_refused),
		cmocka_unit_test(test_domain_has_every_disk_in_order),
		cmocka_unit_test(test_domain_of_one_disk),
		cmocka_unit_test(test_export_paths),
		cmocka_unit_test(test_export_every_disk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
