// SPDX-License-Identifier: GPL-2.0-or-later
/* The hash store: entries persist, unknown reads as zeros, a size change or
 * reset gives a new id (the scan tracker's epoch). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashstore.h"

static char dir[] = "/tmp/livemig-hs-XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/hashes-vda.bin", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_persist_and_epochs(void **state)
{
	struct hashstore hs;
	uint8_t in[3 * FRAME_HASH_LEN], out[3 * FRAME_HASH_LEN], zero[3 * FRAME_HASH_LEN] = { 0 };
	uint8_t id1[FRAME_EPOCH_LEN];
	uint64_t size = (10ull << 20) + 4096; /* a partial last block */
	int created;

	(void)state;
	assert_int_equal(hashstore_open(&hs, path, size, 65536, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(hs.nblocks, 161);
	memcpy(id1, hs.id, sizeof(id1));
	/* fresh entries are "unknown" */
	assert_int_equal(hashstore_get(&hs, 0, 3, out), 0);
	assert_memory_equal(out, zero, sizeof(zero));
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	assert_int_equal(hashstore_put(&hs, 158, 3, in), 0);
	assert_int_equal(hashstore_put(&hs, 159, 3, in), -ERANGE);
	assert_int_equal(hashstore_sync(&hs), 0);
	hashstore_close(&hs);

	/* reopened for the same disk: same id, same entries */
	assert_int_equal(hashstore_open(&hs, path, size, 65536, &created), 0);
	assert_int_equal(created, 0);
	assert_memory_equal(hs.id, id1, sizeof(id1));
	assert_int_equal(hashstore_get(&hs, 158, 3, out), 0);
	assert_memory_equal(out, in, sizeof(in));

	/* reset forgets everything under a new id */
	assert_int_equal(hashstore_reset(&hs), 0);
	assert_memory_not_equal(hs.id, id1, sizeof(id1));
	assert_int_equal(hashstore_get(&hs, 158, 3, out), 0);
	assert_memory_equal(out, zero, sizeof(zero));
	memcpy(id1, hs.id, sizeof(id1));
	hashstore_close(&hs);

	/* a resized disk is a different disk: new store */
	assert_int_equal(hashstore_open(&hs, path, size * 2, 65536, &created), 0);
	assert_int_equal(created, 1);
	assert_memory_not_equal(hs.id, id1, sizeof(id1));
	hashstore_close(&hs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_persist_and_epochs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
