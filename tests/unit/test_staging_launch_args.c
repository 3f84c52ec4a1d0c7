// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The launcher's command lines that staging's launch and destroy jobs
 * build (src/staging/launch_args.c): from files, the exported qcow2 disks
 * converted into copies, unchanged; with the RBD store and libvirt, each
 * disk's snapshot of the point cloned (staging's own image and snapshot
 * names), the store's Ceph user, the libvirt secret, and destroy handed
 * the conversion's report and the clones the point's disks name (a
 * conversion cut short wrote no report); the export driver on the RBD store still takes
 * files; names too long refused; secrets that are not UUIDs refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "launch_args.h"

#define SECRET "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

static const struct launch_config files_cfg = {
	.driver = "libvirt", .launcher = "/usr/sbin/livemig-launch", .dir = "/st/.launches",
	.uri = "qemu:///system", .timeout_s = 600,
};

static const struct launch_config rbd_cfg = {
	.driver = "libvirt", .launcher = "/usr/sbin/livemig-launch", .dir = "/st/.launches",
	.uri = "qemu:///system", .rbd_pool = "livemig", .ceph_conf = "/etc/ceph/ceph.conf",
	.ceph_id = "stg", .ceph_secret = SECRET,
};

static const struct launch_params test_lp = {
	.name = "web-01-test-7", .purpose = "test", .hostname_suffix = "-test", .point = 12, .cpus = 2,
};

static struct point_disks two_disks(void)
{
	struct point_disks pd = { .n = 2 };

	strcpy(pd.name[0], "sda");
	strcpy(pd.name[1], "sdb");
	return pd;
}

/* The argv joined by spaces, to compare in one piece. */
static const char *joined(const struct launch_argv *a)
{
	static char out[8192];
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < a->argc; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "", a->argv[i]);
	assert_null(a->argv[a->argc]);
	return out;
}

static void test_files(void **state)
{
	struct launch_argv *a = calloc(1, sizeof(*a));
	struct point_disks pd = two_disks();
	struct launch_clones lc = { "m-1", 12, NULL };

	(void)state;
	assert_false(launch_from_clones(&files_cfg));
	assert_int_equal(launch_convert_argv(a, &files_cfg, "m-1", &test_lp, &pd, "/st/.launches/web-01-test-7"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch convert"
			    " --input /st/.launches/web-01-test-7/disk-sda.qcow2 --output /st/.launches/web-01-test-7/copy-sda.qcow2"
			    " --input /st/.launches/web-01-test-7/disk-sdb.qcow2 --output /st/.launches/web-01-test-7/copy-sdb.qcow2"
			    " --input-format qcow2 --purpose test --hostname-suffix -test"
			    " --workdir /st/.launches/web-01-test-7 --report /st/.launches/web-01-test-7/conversion.json");
	assert_int_equal(launch_launch_argv(a, &files_cfg, &test_lp, "/st/.launches/web-01-test-7"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch launch --driver libvirt"
			    " --conversion /st/.launches/web-01-test-7/conversion.json --name web-01-test-7 --vcpus 2"
			    " --state-dir /st/.launches/web-01-test-7 --uri qemu:///system --timeout 600 --json");
	assert_int_equal(launch_destroy_argv(a, &files_cfg, "web-01-test-7", "/st/.launches/web-01-test-7", NULL,
					     NULL), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch destroy --driver libvirt --name web-01-test-7"
			    " --uri qemu:///system");
	/* no clones from files, whatever the caller knows of the point */
	lc.disks = &pd;
	assert_int_equal(launch_destroy_argv(a, &files_cfg, "web-01-test-7", "/st/.launches/web-01-test-7", NULL,
					     &lc), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch destroy --driver libvirt --name web-01-test-7"
			    " --uri qemu:///system");
	free(a);
}

static void test_clones(void **state)
{
	struct launch_argv *a = calloc(1, sizeof(*a));
	struct point_disks pd = two_disks();
	struct launch_params cutover = test_lp;
	struct launch_config defaults = rbd_cfg;
	struct launch_clones lc = { "m-1", 12, &pd };

	(void)state;
	assert_true(launch_from_clones(&rbd_cfg));
	assert_int_equal(launch_convert_argv(a, &rbd_cfg, "m-1", &test_lp, &pd, "/st/.launches/web-01-test-7"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch convert"
			    " --input rbd:livemig/livemig-m-1+sda@point-12 --output rbd:livemig/web-01-test-7-sda"
			    " --input rbd:livemig/livemig-m-1+sdb@point-12 --output rbd:livemig/web-01-test-7-sdb"
			    " --input-format raw --ceph-conf /etc/ceph/ceph.conf --ceph-id stg"
			    " --purpose test --hostname-suffix -test"
			    " --workdir /st/.launches/web-01-test-7 --report /st/.launches/web-01-test-7/conversion.json");
	/* a cutover keeps the hostname; the launcher's defaults where the
	 * store has no --ceph-conf, --ceph-id */
	defaults.ceph_conf = NULL;
	defaults.ceph_id = NULL;
	cutover.purpose = "cutover";
	pd.n = 1;
	assert_int_equal(launch_convert_argv(a, &defaults, "m-1", &cutover, &pd, "/d"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch convert"
			    " --input rbd:livemig/livemig-m-1+sda@point-12 --output rbd:livemig/web-01-test-7-sda"
			    " --input-format raw --purpose cutover --workdir /d --report /d/conversion.json");
	assert_int_equal(launch_launch_argv(a, &rbd_cfg, &test_lp, "/st/.launches/web-01-test-7"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch launch --driver libvirt"
			    " --conversion /st/.launches/web-01-test-7/conversion.json --name web-01-test-7 --vcpus 2"
			    " --state-dir /st/.launches/web-01-test-7 --uri qemu:///system --ceph-secret " SECRET " --json");
	assert_int_equal(launch_destroy_argv(a, &rbd_cfg, "web-01-test-7", "/st/.launches/web-01-test-7",
					     "/st/.launches/web-01-test-7/conversion.json", NULL), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch destroy --driver libvirt --name web-01-test-7"
			    " --uri qemu:///system --conversion /st/.launches/web-01-test-7/conversion.json");
	/* the point known: every clone its conversion makes, by the names
	 * convert was given, report or not */
	pd.n = 2;
	assert_int_equal(launch_destroy_argv(a, &rbd_cfg, "web-01-test-7", "/st/.launches/web-01-test-7", NULL,
					     &lc), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch destroy --driver libvirt --name web-01-test-7"
			    " --uri qemu:///system"
			    " --snapshot rbd:livemig/livemig-m-1+sda@point-12 --clone rbd:livemig/web-01-test-7-sda"
			    " --snapshot rbd:livemig/livemig-m-1+sdb@point-12 --clone rbd:livemig/web-01-test-7-sdb"
			    " --ceph-conf /etc/ceph/ceph.conf --ceph-id stg");
	assert_int_equal(launch_destroy_argv(a, &defaults, "web-01-test-7", "/st/.launches/web-01-test-7",
					     "/st/.launches/web-01-test-7/conversion.json", &lc), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch destroy --driver libvirt --name web-01-test-7"
			    " --uri qemu:///system --conversion /st/.launches/web-01-test-7/conversion.json"
			    " --snapshot rbd:livemig/livemig-m-1+sda@point-12 --clone rbd:livemig/web-01-test-7-sda"
			    " --snapshot rbd:livemig/livemig-m-1+sdb@point-12 --clone rbd:livemig/web-01-test-7-sdb");
	free(a);
}

/* The export driver takes file copies: on the RBD store it exports. */
static void test_export_on_rbd(void **state)
{
	struct launch_argv *a = calloc(1, sizeof(*a));
	struct launch_config c = rbd_cfg;
	struct point_disks pd = two_disks();

	(void)state;
	c.driver = "export";
	c.ceph_secret = NULL;
	assert_false(launch_from_clones(&c));
	pd.n = 1;
	assert_int_equal(launch_convert_argv(a, &c, "m-1", &test_lp, &pd, "/d"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch convert --input /d/disk-sda.qcow2"
			    " --output /d/copy-sda.qcow2 --input-format qcow2 --purpose test --hostname-suffix -test"
			    " --workdir /d --report /d/conversion.json");
	assert_int_equal(launch_launch_argv(a, &c, &test_lp, "/d"), 0);
	assert_string_equal(joined(a), "/usr/sbin/livemig-launch launch --driver export --conversion"
			    " /d/conversion.json --name web-01-test-7 --vcpus 2 --output /d/web-01-test-7.qcow2"
			    " --format qcow2 --json");
	free(a);
}

static void test_limits(void **state)
{
	struct launch_argv *a = calloc(1, sizeof(*a));
	struct point_disks pd = { .n = LAUNCH_MAX_DISKS };
	struct launch_clones lc = { "m-1", 12, NULL };
	char dir[LAUNCH_ARG_LEN + 8];

	(void)state;
	/* every disk of the most a launch takes, each with its two names */
	for (int i = 0; i < pd.n; i++) {
		memset(pd.name[i], 'd', FRAME_NAME_MAX);
		pd.name[i][FRAME_NAME_MAX - 1] = (char)('a' + i);
	}
	assert_int_equal(launch_convert_argv(a, &rbd_cfg, "m-1", &test_lp, &pd, "/d"), 0);
	assert_true(a->argc < LAUNCH_ARGV_MAX);
	assert_int_equal(a->argc, 2 + 4 * LAUNCH_MAX_DISKS + 14);
	assert_int_equal(launch_convert_argv(a, &files_cfg, "m-1", &test_lp, &pd, "/d"), 0);
	/* a directory longer than a path: refused, not cut */
	memset(dir, 'x', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(launch_convert_argv(a, &files_cfg, "m-1", &test_lp, &pd, dir), -ENAMETOOLONG);
	assert_int_equal(launch_launch_argv(a, &files_cfg, &test_lp, dir), -ENAMETOOLONG);
	assert_int_equal(launch_destroy_argv(a, &files_cfg, "n", dir, NULL, NULL), 0); /* libvirt: no path */
	/* destroy naming every clone of the most disks, with the report */
	lc.disks = &pd;
	assert_int_equal(launch_destroy_argv(a, &rbd_cfg, "web-01-test-7", "/d", "/d/conversion.json", &lc), 0);
	assert_true(a->argc < LAUNCH_ARGV_MAX);
	assert_int_equal(a->argc, 6 + 2 + 2 + 4 * LAUNCH_MAX_DISKS + 4);
	free(a);
}

static void test_secret(void **state)
{
	(void)state;
	assert_true(launch_secret_valid(SECRET));
	assert_true(launch_secret_valid("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"));
	assert_false(launch_secret_valid(""));
	assert_false(launch_secret_valid("0f1e2d3c4b5a697887 96a5b4c3d2e1f0"));
	assert_false(launch_secret_valid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f"));
	assert_false(launch_secret_valid(SECRET "0"));
	assert_false(launch_secret_valid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg"));
	assert_false(launch_secret_valid("0f1e2d3c-4b5a-6978-8796'a5b4c3d2e1f0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_clones),
		cmocka_unit_test(test_export_on_rbd),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
