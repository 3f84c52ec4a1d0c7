// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recovery points, the parts that run without a kernel module: which file
 * systems live on the replicated disks (a sysfs tree and a mountinfo built
 * here: partitions, a device-mapper holder, bind mounts, an unrelated disk),
 * and the freeze hooks (real executables: succeed, fail, hang, skipped).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "freeze.h"
#include "hooks.h"
#include "util.h"

static char base[256];
#include "scratch_dir.h"

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[512], dir[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(base) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(symlink(target, path), 0);
}

/*
 * sda (8:0): sda1 (8:1) held by dm-0 (253:0), sda2 (8:2); sdb (8:16) is
 * not replicated. /sys/dev/block/M:m and /sys/class/block/NAME link to
 * /sys/devices/..., as on a real machine.
 */
static void make_sysfs(void)
{
	put("sys/devices/sda/dev", "8:0\n", 0644);
	put("sys/devices/sda/sda1/dev", "8:1\n", 0644);
	put("sys/devices/sda/sda1/partition", "1\n", 0644);
	put("sys/devices/sda/sda2/dev", "8:2\n", 0644);
	put("sys/devices/sda/sda2/partition", "2\n", 0644);
	put("sys/devices/sda/sda1/holders/.keep", "", 0644);
	put("sys/devices/dm-0/dev", "253:0\n", 0644);
	put("sys/devices/dm-0/uevent", "MAJOR=253\nMINOR=0\nDEVNAME=no-such-dm-node\n", 0644);
	put("sys/devices/sdb/dev", "8:16\n", 0644);
	link_to("../../../dm-0", "sys/devices/sda/sda1/holders/dm-0");
	put("sys/dev/block/.keep", "", 0644);
	put("sys/class/block/.keep", "", 0644);
	link_to("../../devices/sda", "sys/dev/block/8:0");
	link_to("../../devices/dm-0", "sys/dev/block/253:0");
	link_to("../../devices/sdb", "sys/dev/block/8:16");
	link_to("../../devices/dm-0", "sys/class/block/dm-0");
}

static int setup(void **state)
{
	(void)state;
	if (scratch_dir_make("test_agent_points"))
		return -1;
	make_sysfs();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

static int find(const char *mountinfo, struct freeze_set *fs, char *err, size_t n)
{
	char sysfs[512], mi[512];
	dev_t disk = makedev(8, 0);

	snprintf(sysfs, sizeof(sysfs), "%s/sys", base);
	snprintf(mi, sizeof(mi), "%s/mountinfo", base);
	put("mountinfo", mountinfo, 0644);
	return freeze_find_devs(fs, &disk, 1, sysfs, mi, err, n);
}

static void test_find(void **state)
{
	struct freeze_set fs;
	char err[512] = "";

	(void)state;
	/* nothing of sda mounted: nothing to freeze */
	assert_int_equal(find("22 1 0:21 / /proc rw - proc proc rw\n"
			      "30 1 8:16 / /other rw - ext4 /dev/sdb rw\n", &fs, err, sizeof(err)), 0);
	assert_int_equal(fs.n, 0);
	/* the file system on dm-0, stacked on sda1, is found through holders/;
	 * its node here is not a block device, so opening it fails, naming it */
	assert_int_equal(find("30 1 8:16 / /other rw - ext4 /dev/sdb rw\n"
			      "31 1 253:0 / /my\\040data rw - ext4 /dev/null rw\n"
			      "32 1 253:0 /sub /bind rw - ext4 /dev/null rw\n", &fs, err, sizeof(err)),
			 -ENOENT);
	if (!strstr(err, "/my data") || !strstr(err, "253:0"))
		fail_msg("error '%s' does not name the dm file system", err);
	/* a partition's own mount is found too */
	assert_int_equal(find("33 1 8:2 / /boot rw - ext4 /dev/null rw\n", &fs, err, sizeof(err)),
			 -ENOENT);
	if (!strstr(err, "/boot"))
		fail_msg("error '%s' does not name /boot", err);
}

static void test_hooks(void **state)
{
	char dir[512], calls[512], why[512], got[256], script[1024];
	unsigned n;
	uint64_t t0;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hooks", base);
	snprintf(calls, sizeof(calls), "%s/calls", base);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"a $1\" >>%s\n", calls);
	put("hooks/10-a", script, 0755);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"b $1\" >>%s\n", calls);
	put("hooks/20-b", script, 0755);
	put("hooks/15-not-executable", "#!/bin/sh\nexit 1\n", 0644);
	put("hooks/.hidden", "#!/bin/sh\nexit 1\n", 0755);
	assert_int_equal(hooks_run(dir, "freeze", 5000000000ull, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hooks_run(dir, "thaw", 5000000000ull, &n, why, sizeof(why)), 0);
	f = fopen(calls, "r");
	assert_non_null(f);
	got[fread(got, 1, sizeof(got) - 1, f)] = '\0';
	fclose(f);
	/* freeze in name order, thaw in reverse */
	assert_string_equal(got, "a freeze\nb freeze\nb thaw\na thaw\n");

	/* a failing hook: -1, named, and the others still run */
	put("hooks/12-fails", "#!/bin/sh\nexit 3\n", 0755);
	assert_int_equal(hooks_run(dir, "freeze", 5000000000ull, &n, why, sizeof(why)), -1);
	assert_int_equal(n, 3);
	if (!strstr(why, "12-fails") || !strstr(why, "exit status 3"))
		fail_msg("why: %s", why);
	snprintf(script, sizeof(script), "%s/hooks/12-fails", base);
	unlink(script);
	/* a hanging hook, and what it started: killed at the timeout */
	put("hooks/13-hangs", "#!/bin/sh\nsleep 1000 &\nsleep 1000\n", 0755);
	t0 = now_mono_ns();
	assert_int_equal(hooks_run(dir, "freeze", 300000000ull, &n, why, sizeof(why)), -1);
	assert_true(now_mono_ns() - t0 < 20000000000ull);
	if (!strstr(why, "13-hangs") || !strstr(why, "did not finish within 300 ms"))
		fail_msg("why: %s", why);
	/* no directory: no hooks, success */
	assert_int_equal(hooks_run("/nonexistent/hooks.d", "freeze", 1000000000ull, &n, why,
				   sizeof(why)), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_hooks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
