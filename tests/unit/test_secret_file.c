// SPDX-License-Identifier: GPL-2.0-or-later
/* secret_file_read(): mode and owner, and root standing in for a service
 * account (its group), as the staging unit runs with livemig-launch's
 * drop-in. */
#include <errno.h>
#include <fcntl.h>
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

#include "secret_file.h"

static char base[256];
#include "scratch_dir.h"

/* a service account's ids, which no file of this test's host has */
#define SVC_UID 64123
#define SVC_GID 64124

static char path[512];
static char out[128], err[512];

static int setup(void **state)
{
	(void)state;
	if (scratch_dir_make("test_secret_file"))
		return -1;
	snprintf(path, sizeof(path), "%s/staging.secret", base);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

static void write_secret(mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int read_it(void)
{
	return secret_file_read("--console-credential", "staging secret", path, 64, out, sizeof(out),
				err, sizeof(err));
}

static void own_file(void **state)
{
	(void)state;
	write_secret(0600);
	assert_int_equal(read_it(), 0);
	assert_string_equal(out, "s3cret");
}

static void group_readable_refused(void **state)
{
	(void)state;
	write_secret(0640);
	assert_int_equal(read_it(), -EPERM);
	assert_non_null(strstr(err, "has mode 0640"));
}

/* Root's cases change the file's owner and this process's group. */
static int need_root(void)
{
	if (geteuid() == 0)
		return 1;
	print_message("not root: chown and setegid need it (make check runs as root)\n");
	return 0;
}

static void root_takes_its_groups_file(void **state)
{
	(void)state;
	if (!need_root())
		skip();
	write_secret(0600);
	assert_int_equal(chown(path, SVC_UID, SVC_GID), 0);
	assert_int_equal(setegid(SVC_GID), 0);
	assert_int_equal(read_it(), 0);
	assert_string_equal(out, "s3cret");
	/* another account's file is not the service's */
	assert_int_equal(chown(path, SVC_UID, SVC_GID + 1), 0);
	assert_int_equal(read_it(), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 64123, not to this program's user (uid 0, or its group's)"));
	assert_int_equal(setegid(0), 0);
}

static void root_with_group_root_takes_only_its_own(void **state)
{
	(void)state;
	if (!need_root())
		skip();
	write_secret(0600);
	assert_int_equal(chown(path, SVC_UID, 0), 0);
	assert_int_equal(getegid(), 0);
	assert_int_equal(read_it(), -EPERM);
	assert_non_null(strstr(err, "(uid 0): refused"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(read_it(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_file),
		cmocka_unit_test(group_readable_refused),
		cmocka_unit_test(root_takes_its_groups_file),
		cmocka_unit_test(root_with_group_root_takes_only_its_own),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
