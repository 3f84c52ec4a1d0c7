// SPDX-License-Identifier: GPL-2.0-or-later
/* Checkpoint files: round trip, atomic replacement, and refusal of anything
 * that cannot be trusted (a wrong checkpoint would skip data). */
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

#include "checkpoint.h"

static char dir[] = "/tmp/livemig-cp-XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/checkpoint.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void sample(struct checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	strcpy(cp->machine, "web-01");
	strcpy(cp->tracker, "scan");
	for (int i = 0; i < FRAME_EPOCH_LEN; i++)
		cp->store_id[i] = (uint8_t)(i * 7);
	cp->rounds = 42;
	cp->last_consistent_ns = 1764100000123456789ull;
	cp->ndisks = 2;
	strcpy(cp->disks[0].name, "vda");
	cp->disks[0].size = 1ull << 30;
	cp->disks[0].mirror_watermark = 1ull << 29;
	memset(cp->disks[0].epoch, 0xab, FRAME_EPOCH_LEN);
	strcpy(cp->disks[1].name, "vdb");
	cp->disks[1].size = 4096;
	cp->disks[1].mirror_watermark = 4096;
	cp->disks[1].mirror_complete = 1;
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	struct checkpoint a, b;
	const char *why;

	(void)state;
	sample(&a);
	assert_int_equal(checkpoint_save(path, &a), 0);
	assert_int_equal(checkpoint_load(path, &b, &why), 0);
	assert_string_equal(b.machine, "web-01");
	assert_string_equal(b.tracker, "scan");
	assert_memory_equal(b.store_id, a.store_id, FRAME_EPOCH_LEN);
	assert_int_equal(b.rounds, 42);
	assert_int_equal(b.last_consistent_ns, a.last_consistent_ns);
	assert_int_equal(b.ndisks, 2);
	assert_int_equal(b.disks[0].mirror_watermark, 1ull << 29);
	assert_int_equal(b.disks[0].mirror_complete, 0);
	assert_memory_equal(b.disks[0].epoch, a.disks[0].epoch, FRAME_EPOCH_LEN);
	assert_int_equal(b.disks[1].mirror_complete, 1);
	/* replaced in place, no temporary left behind */
	a.rounds = 43;
	assert_int_equal(checkpoint_save(path, &a), 0);
	assert_int_equal(checkpoint_load(path, &b, &why), 0);
	assert_int_equal(b.rounds, 43);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_missing(void **state)
{
	struct checkpoint b;
	const char *why;

	(void)state;
	unlink(path);
	assert_int_equal(checkpoint_load(path, &b, &why), -ENOENT);
}

static void expect_refused(const char *text)
{
	struct checkpoint b;
	const char *why = NULL;

	write_text(text);
	assert_int_equal(checkpoint_load(path, &b, &why), -EINVAL);
	assert_non_null(why);
}

static void test_untrusted(void **state)
{
	(void)state;
	expect_refused("");
	expect_refused("{\"format\": 1, \"machine\": \"m\"");      /* torn */
	expect_refused("[1, 2, 3]");
	expect_refused("{\"format\": 99}");
	expect_refused("{\"format\":1,\"machine\":\"m\",\"tracker\":\"scan\",\"store_id\":\"zz\","
		       "\"rounds\":1,\"last_consistent_ns\":0,\"disks\":[]}");
	/* a watermark past the disk's end would skip nothing but claims the impossible */
	expect_refused("{\"format\":1,\"machine\":\"m\",\"tracker\":\"scan\","
		       "\"store_id\":\"00000000000000000000000000000000\",\"rounds\":1,"
		       "\"last_consistent_ns\":0,\"disks\":[{\"name\":\"a\",\"size\":10,"
		       "\"epoch\":\"00000000000000000000000000000000\",\"mirror_watermark\":11,"
		       "\"mirror_complete\":false}]}");
	expect_refused("{\"format\":1,\"machine\":\"m\",\"tracker\":\"scan\","
		       "\"store_id\":\"00000000000000000000000000000000\",\"rounds\":-1,"
		       "\"last_consistent_ns\":0,\"disks\":[]}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_untrusted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
