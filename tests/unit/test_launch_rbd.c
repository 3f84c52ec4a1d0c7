// SPDX-License-Identifier: GPL-2.0-or-later
/* A launch from RBD clones without a cluster: the names the command line
 * and the report use (rbd:POOL/IMAGE[@SNAP]), what a launch takes from a
 * report of RBD disks, and the domain's rbd network disks (monitors,
 * cephx secret, vda booting). The cluster side is t_launch_rbd.sh's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "launcher.h"
#include "rbd_disk.h"

static void test_names(void **state)
{
	struct rbd_name n;

	(void)state;
	assert_int_equal(rbd_name_parse("rbd:livemig/livemig-web+sda@point-12", 1, &n), 0);
	assert_string_equal(n.pool, "livemig");
	assert_string_equal(n.image, "livemig-web+sda");
	assert_string_equal(n.snap, "point-12");
	assert_int_equal(rbd_name_parse("rbd:vms/web-test-7-sda", 0, &n), 0);
	assert_string_equal(n.image, "web-test-7-sda");
	assert_string_equal(n.snap, "");
	assert_true(rbd_spec("rbd:a/b"));
	assert_false(rbd_spec("/var/lib/rbd:a"));
	/* a snapshot where an image is wanted, and the other way round */
	assert_int_equal(rbd_name_parse("rbd:p/i@s", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/i", 1, &n), -EINVAL);
	/* what QEMU's or libvirt's syntax would read otherwise */
	assert_int_equal(rbd_name_parse("rbd:p/i:conf=/etc/x", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/i'x", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/a/b", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/i@s@t", 1, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:/i", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("rbd:p/.i", 0, &n), -EINVAL);
	assert_int_equal(rbd_name_parse("p/i", 0, &n), -EINVAL);
}

static const char *report_text =
	"{\"result\": \"converted\", \"firmware\": \"bios\", \"marker\": \"LIVEMIG-FIRSTBOOT token=02\","
	" \"disks\": ["
	"{\"input\": \"rbd:livemig/livemig-web+sda@point-3\", \"input_format\": \"raw\", \"output\": \"rbd:livemig/web-t-sda\"},"
	"{\"input\": \"rbd:livemig/livemig-web+sdb@point-3\", \"input_format\": \"raw\", \"output\": \"rbd:livemig/web-t-sdb\"}],"
	" \"ceph\": {\"conf\": null, \"id\": \"launch\", \"monitors\": ["
	"{\"host\": \"192.0.2.1\", \"port\": 6789}, {\"host\": \"2001:db8::2\", \"port\": 6790}]}}";

static void test_report_of_rbd_disks(void **state)
{
	json_t *r = json_loads(report_text, 0, NULL);
	struct launch_request rq = { 0 };
	char err[200] = "";

	(void)state;
	assert_non_null(r);
	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 2);
	assert_int_equal(rq.n_rbd, 2);
	assert_string_equal(rq.disks[1], "rbd:livemig/web-t-sdb");
	assert_string_equal(rq.rbd_parents[1], "rbd:livemig/livemig-web+sdb@point-3");
	assert_string_equal(rq.ceph_id, "launch");
	assert_null(rq.ceph_conf);
	assert_int_equal(json_array_size(rq.ceph_monitors), 2);
	/* RBD disks without the cluster's monitors cannot be launched */
	json_object_del(r, "ceph");
	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RBD disks but no ceph"));
	json_decref(r);
}

/* destroy's --snapshot/--clone pairs: a conversion cut short wrote no
 * report, the caller names its clones; with a report, the same clone is
 * not named twice and cannot be given another snapshot */
static void test_clones_named_to_destroy(void **state)
{
	json_t *r = json_loads(report_text, 0, NULL);
	struct launch_request rq = { 0 }, none = { 0 };
	char err[300] = "";

	(void)state;
	assert_int_equal(launch_request_add_clone(&none, "rbd:livemig/web-t-sda", "rbd:livemig/livemig-web+sda@point-3",
						  err, sizeof(err)), 0);
	assert_int_equal(none.n_disks, 1);
	assert_int_equal(none.n_rbd, 1);
	assert_string_equal(none.rbd_parents[0], "rbd:livemig/livemig-web+sda@point-3");
	/* a clone and a snapshot swapped, or not RBD */
	assert_int_equal(launch_request_add_clone(&none, "rbd:livemig/livemig-web+sda@point-3", "rbd:livemig/web-t-sda",
						  err, sizeof(err)), -EINVAL);
	assert_int_equal(launch_request_add_clone(&none, "/var/lib/copy.qcow2", "rbd:p/i@s", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(none.n_disks, 1);

	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), 0);
	assert_int_equal(launch_request_add_clone(&rq, "rbd:livemig/web-t-sdb", "rbd:livemig/livemig-web+sdb@point-3",
						  err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 2);
	assert_int_equal(launch_request_add_clone(&rq, "rbd:livemig/web-t-sdb", "rbd:livemig/livemig-web+sdb@point-4",
						  err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "in the conversion's report as a copy of rbd:livemig/livemig-web+sdb@point-3"));
	assert_int_equal(launch_request_add_clone(&rq, "rbd:livemig/web-t-sdc", "rbd:livemig/livemig-web+sdc@point-3",
						  err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 3);
	assert_int_equal(rq.n_rbd, 3);
	/* the same pair twice is one clone; no more than a launch has disks */
	assert_int_equal(launch_request_add_clone(&rq, "rbd:livemig/web-t-sdc", "rbd:livemig/livemig-web+sdc@point-3",
						  err, sizeof(err)), 0);
	assert_int_equal(rq.n_disks, 3);
	for (int i = 3; i < LAUNCH_MAX_DISKS; i++) {
		static char names[LAUNCH_MAX_DISKS][32];

		snprintf(names[i], sizeof(names[i]), "rbd:p/c%d", i);
		assert_int_equal(launch_request_add_clone(&rq, names[i], "rbd:p/i@s", err, sizeof(err)), 0);
	}
	assert_int_equal(launch_request_add_clone(&rq, "rbd:p/one-more", "rbd:p/i@s", err, sizeof(err)), -E2BIG);
	assert_int_equal(rq.n_disks, LAUNCH_MAX_DISKS);
	json_decref(r);
}

static void test_domain_rbd_disks(void **state)
{
	json_t *r = json_loads(report_text, 0, NULL);
	struct launch_request rq = { .name = "web-t", .vcpus = 1, .memory_mib = 1024, .nic = "user",
				     .state_dir = "/s" };
	char err[200] = "", *xml;

	(void)state;
	assert_int_equal(launch_request_from_report(r, &rq, err, sizeof(err)), 0);
	rq.ceph_secret = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
	xml = libvirt_domain_xml(&rq);
	assert_non_null(xml);
	assert_non_null(strstr(xml,
		"    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
		"      <auth username='launch'>\n"
		"        <secret type='ceph' uuid='0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'/>\n      </auth>\n"
		"      <source protocol='rbd' name='livemig/web-t-sda'>\n"
		"        <host name='192.0.2.1' port='6789'/>\n        <host name='2001:db8::2' port='6790'/>\n"
		"      </source>\n      <target dev='vda' bus='virtio'/>\n      <boot order='1'/>\n    </disk>\n"));
	assert_non_null(strstr(xml, "<source protocol='rbd' name='livemig/web-t-sdb'>"));
	assert_non_null(strstr(xml, "<target dev='vdb' bus='virtio'/>\n    </disk>"));
	assert_null(strstr(xml, "<disk type='file'"));
	free(xml);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_report_of_rbd_disks),
		cmocka_unit_test(test_clones_named_to_destroy),
		cmocka_unit_test(test_domain_rbd_disks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
