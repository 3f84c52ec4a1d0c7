// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tracker choice without the kernel module (its use with the module is
 * tested in QEMU: tests/kmod/guest_*agent*.sh, guest_oracle.sh): scan when
 * configured; kmod refused, with the reason, for a disk the module cannot
 * track (an image file); auto then falls back to scan and says why, in the
 * status document's tracker_reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"

static char dir[] = "/tmp/livemig-tracker-XXXXXX";
static struct agent_config cfg;
static struct engine e;

static int setup(void **state)
{
	char img[300], err[256];
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	f = fopen(img, "w");
	if (!f || ftruncate(fileno(f), 1 << 20))
		return -1;
	fclose(f);
	agent_config_defaults(&cfg);
	cfg.ndisks = 1;
	snprintf(cfg.disks[0].name, sizeof(cfg.disks[0].name), "d0");
	snprintf(cfg.disks[0].path, sizeof(cfg.disks[0].path), "%s", img);
	memset(&e, 0, sizeof(e));
	e.cfg = &cfg;
	e.ndisks = 1;
	e.disks[0].cfg = &cfg.disks[0];
	return src_disk_open(&e.disks[0].src, img, err, sizeof(err));
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	src_disk_close(&e.disks[0].src);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_scan(void **state)
{
	char err[512] = "";

	(void)state;
	snprintf(cfg.tracker, sizeof(cfg.tracker), "scan");
	assert_int_equal(tracker_select(&e, err, sizeof(err)), 0);
	assert_ptr_equal(e.tracker, &tracker_scan_ops);
	assert_string_equal(e.tracker_reason, "tracker = scan");
}

static void test_kmod_refused_for_image(void **state)
{
	char err[512] = "";

	(void)state;
	snprintf(cfg.tracker, sizeof(cfg.tracker), "kmod");
	e.tracker = NULL;
	assert_int_equal(tracker_select(&e, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "tracker = kmod cannot be used: disk d0"));
	assert_non_null(strstr(err, "is not a block device"));
	assert_non_null(strstr(err, "tracker = auto"));
}

static void test_auto_falls_back(void **state)
{
	char err[512] = "";
	json_t *st;

	(void)state;
	snprintf(cfg.tracker, sizeof(cfg.tracker), "auto");
	assert_int_equal(tracker_select(&e, err, sizeof(err)), 0);
	assert_ptr_equal(e.tracker, &tracker_scan_ops);
	assert_non_null(strstr(e.tracker_reason, "tracker = auto: using scan because disk d0"));
	assert_non_null(strstr(e.tracker_reason, "is not a block device"));
	/* and the status document says so */
	pthread_mutex_init(&e.mu, NULL);
	st = status_json(&e);
	assert_string_equal(json_string_value(json_object_get(st, "tracker")), "scan");
	assert_string_equal(json_string_value(json_object_get(st, "tracker_reason")),
			    e.tracker_reason);
	json_decref(st);
}

/* RESCAN says why it began (the console's page shows it under the state);
 * other states keep their own reason or none. */
static void test_rescan_reason(void **state)
{
	json_t *st;

	(void)state;
	snprintf(cfg.tracker, sizeof(cfg.tracker), "scan");
	e.tracker = &tracker_scan_ops;
	snprintf(e.rescan_reason, sizeof(e.rescan_reason),
		 "not resuming from the checkpoint because there is no checkpoint");
	atomic_store(&e.disks[0].state, ST_RESCAN);
	st = status_json(&e);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "RESCAN");
	assert_string_equal(json_string_value(json_object_get(st, "reason")), e.rescan_reason);
	json_decref(st);
	atomic_store(&e.disks[0].state, ST_CHANGE_COPY);
	st = status_json(&e);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "CHANGE_COPY");
	assert_string_equal(json_string_value(json_object_get(st, "reason")), "");
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_kmod_refused_for_image),
		cmocka_unit_test(test_auto_falls_back),
		cmocka_unit_test(test_rescan_reason),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
