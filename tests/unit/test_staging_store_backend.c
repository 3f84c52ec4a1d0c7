// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The store backend interface with the files backend in a scratch
 * directory: a volume's life (create, write, zero, read back, data ranges,
 * flush), a wrong size refused, the choice of backend checked against
 * what a store recorded, and what a full store says. The RBD backend needs
 * a cluster: t_staging_rbd.sh, t_staging_rbd_full.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_backend.h"

#define MIB (1u << 20)

static char root[PATH_MAX - 64]; /* room for the files under it */

static int setup(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	snprintf(root, sizeof(root), "%s/lm-backend.XXXXXX", getenv("TMPDIR") ?: "/tmp");
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, sizeof(dir), "%s/m1", root);
	return mkdir(dir, 0700);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	store_backend_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

static int setup_files(const char *spec, int write)
{
	struct store_backend_config bc = { .root = root, .spec = spec };
	char err[512];

	return store_backend_setup(&bc, write, err, sizeof(err));
}

struct ranges {
	int n;
	uint64_t lo, hi, covered;
};

static int note_range(void *arg, uint64_t start, uint64_t end)
{
	struct ranges *r = arg;

	assert_true(end > start);
	if (!r->n || start < r->lo)
		r->lo = start;
	if (end > r->hi)
		r->hi = end;
	r->covered += end - start;
	r->n++;
	return 0;
}

static int stop_range(void *arg, uint64_t start, uint64_t end)
{
	(void)arg;
	(void)start;
	(void)end;
	return -ECANCELED;
}

static void test_volume(void **state)
{
	struct store_volume *v = NULL;
	static uint8_t buf[MIB], back[MIB];
	uint64_t start, end, free_bytes, total;
	char err[512], path[PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(setup_files(NULL, 1), 0);
	assert_string_equal(store_backend_name(), "files");
	assert_false(store_backend_has_snapshots());
	/* a files store is not recorded: stores from before backends look the same */
	snprintf(path, sizeof(path), "%s/" STORE_BACKEND_FILE, root);
	assert_int_not_equal(stat(path, &st), 0);

	assert_int_equal(store_volume_create("m1", "d0", 8 * MIB, err, sizeof(err)), 0);
	assert_int_equal(store_volume_open("m1", "d0", 8 * MIB, &v, err, sizeof(err)), 0);
	assert_true(store_volume_fd(v) >= 0);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(store_volume_write(v, buf, MIB, 2 * MIB), 0);
	assert_int_equal(store_volume_zero(v, 2 * MIB + 4096, 4096), 0);
	assert_int_equal(store_volume_flush(v), 0);
	assert_int_equal(store_volume_read(v, back, MIB, 2 * MIB), 0);
	assert_memory_equal(back, buf, 4096);
	for (size_t i = 4096; i < 8192; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 8192, buf + 8192, MIB - 8192);
	/* the hole before the data is skipped (file systems without
	 * SEEK_DATA report everything as data) */
	assert_int_equal(store_volume_next_data(v, 0, &start, &end), 0);
	assert_true(start == 2 * MIB || start == 0);
	assert_true(end > start);
	/* the same through data_ranges (next_data's extents in turn): the
	 * written MiB covered, nothing before 2 MiB where holes are known */
	{
		struct ranges r = { 0 };

		assert_int_equal(store_volume_data_ranges(v, 0, 8 * MIB, note_range, &r), 0);
		assert_true(r.n >= 1);
		assert_true(r.lo == 2 * MIB || r.lo == 0);
		assert_true(r.hi >= 3 * MIB);
		assert_true(r.covered >= MIB - 4096); /* less the 4 KiB zeroed */
		/* a range past the data: nothing there, or everything */
		memset(&r, 0, sizeof(r));
		assert_int_equal(store_volume_data_ranges(v, 4 * MIB, 4 * MIB, note_range, &r), 0);
		assert_true(r.n == 0 || (r.lo <= 4 * MIB && r.hi >= 8 * MIB));
		/* found() stops the walk with its own value */
		assert_int_equal(store_volume_data_ranges(v, 0, 8 * MIB, stop_range, NULL), -ECANCELED);
	}
	/* the snapshot calls say the files backend has none */
	assert_int_equal(store_snap_create(v, 1), -EOPNOTSUPP);
	assert_int_equal(store_snap_remove("m1", "d0", 1), -EOPNOTSUPP);
	/* and so no clone holds a point (points.c asks before deleting) */
	strcpy(err, "x");
	assert_int_equal(store_snap_clones("m1", "d0", 1, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	store_volume_close(v);

	/* an image of another size than its disk is a damaged store */
	assert_int_equal(store_volume_open("m1", "d0", 4 * MIB, &v, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "damaged"));
	/* a re-create (a crash before the manifest named it) empties it */
	assert_int_equal(store_volume_create("m1", "d0", 8 * MIB, err, sizeof(err)), 0);
	assert_int_equal(store_volume_open("m1", "d0", 8 * MIB, &v, err, sizeof(err)), 0);
	assert_int_equal(store_volume_read(v, back, 4096, 2 * MIB), 0);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(back[i], 0);
	store_volume_close(v);

	assert_int_equal(store_space(root, &free_bytes, &total), 0);
	assert_true(total > 0 && free_bytes <= total);
}

static void test_choice(void **state)
{
	struct store_backend_config bc = { .root = root, .spec = "rbd:" };
	char err[512], path[PATH_MAX];
	FILE *f;

	(void)state;
	assert_int_equal(store_backend_setup(&bc, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rbd:POOL"));
	bc.spec = "ceph";
	assert_int_equal(store_backend_setup(&bc, 1, err, sizeof(err)), -EINVAL);

	/* a store recorded as RBD refuses files, and another pool */
	snprintf(path, sizeof(path), "%s/" STORE_BACKEND_FILE, root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"format\": 1, \"backend\": \"rbd\", \"pool\": \"p1\", \"ceph_conf\": null, "
	      "\"ceph_id\": null}\n", f);
	fclose(f);
	bc.spec = NULL;
	assert_int_equal(store_backend_setup(&bc, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "keeps its images in rbd:p1"));
	bc.spec = "rbd:p2";
	assert_int_equal(store_backend_setup(&bc, 1, err, sizeof(err)), -EINVAL);
	/* the points CLI follows the record: RBD, which this build may lack */
	bc.spec = NULL;
	if (!store_backend_rbd_built())
		assert_int_equal(store_backend_setup(&bc, 0, err, sizeof(err)), -EOPNOTSUPP);

	/* a damaged record is said so, not taken for files */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"backend\": 7}\n", f);
	fclose(f);
	assert_int_equal(store_backend_setup(&bc, 0, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "damaged"));
	unlink(path);
	assert_int_equal(setup_files("files", 1), 0);
}

/* What ERROR 5 and a failed operation say with the files backend (RBD's
 * own words: t_staging_rbd_full.sh). */
static void test_messages(void **state)
{
	char msg[PATH_MAX + 128], want[PATH_MAX + 128];

	(void)state;
	assert_int_equal(setup_files(NULL, 1), 0);
	store_full_message(root, msg, sizeof(msg));
	snprintf(want, sizeof(want), "staging store %s is full (no space left on device)", root);
	assert_string_equal(msg, want);
	assert_string_equal(store_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
	assert_string_equal(store_strerror(-EIO), strerror(EIO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
