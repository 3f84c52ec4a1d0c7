// SPDX-License-Identifier: GPL-2.0-or-later
/* atomic_write_file() and read_small_file(). */
#include <dirent.h>
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

#include "atomic_file.h"

static char dir[256];

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Empty the test directory (flat), so each test starts clean. */
static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path_in(p, sizeof(p), de->d_name);
		if (unlink(p) && (errno == EISDIR || errno == EPERM))
			rmdir(p); /* tests leave only empty directories */
	}
	closedir(d);
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_atomic.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	clean_dir();
	return rmdir(dir);
}

static int each_setup(void **state)
{
	(void)state;
	clean_dir();
	umask(022);
	return 0;
}

/* The directory's entries, sorted, joined with spaces. */
static void list_dir(char *out, size_t len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (out[0])
				strncat(out, " ", len - strlen(out) - 1);
			strncat(out, names[i]->d_name, len - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static void expect_content(const char *path, const void *data, size_t len)
{
	char *got = NULL;
	size_t got_len = 12345;

	assert_int_equal(read_small_file(path, &got, &got_len, 1 << 20), 0);
	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(got[len], '\0'); /* NUL-terminated for text users */
	free(got);
}

static unsigned file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	return st.st_mode & 07777;
}

static void test_write_replace_read(void **state)
{
	char p[512], ls[512];
	static const char big[] = "a much longer second version of the state file\n";

	(void)state;
	path_in(p, sizeof(p), "state.json");
	assert_int_equal(atomic_write_file(p, "{\"v\":1}", 7, 0644), 0);
	expect_content(p, "{\"v\":1}", 7);
	/* replace with longer, then shorter: never a mix of old and new */
	assert_int_equal(atomic_write_file(p, big, sizeof(big) - 1, 0644), 0);
	expect_content(p, big, sizeof(big) - 1);
	assert_int_equal(atomic_write_file(p, "x", 1, 0644), 0);
	expect_content(p, "x", 1);
	/* empty content */
	assert_int_equal(atomic_write_file(p, "", 0, 0644), 0);
	expect_content(p, "", 0);
	/* binary content with NULs */
	assert_int_equal(atomic_write_file(p, "a\0b\0", 4, 0644), 0);
	expect_content(p, "a\0b\0", 4);
	/* only the file itself is left: no temporaries */
	list_dir(ls, sizeof(ls));
	assert_string_equal(ls, "state.json");
}

static void test_large_content(void **state)
{
	const size_t n = 3u << 20;
	uint8_t *data = malloc(n);
	char p[512];
	char *got;
	size_t len;

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	path_in(p, sizeof(p), "big");
	assert_int_equal(atomic_write_file(p, data, n, 0600), 0);
	assert_int_equal(read_small_file(p, &got, &len, n), 0);
	assert_int_equal(len, n);
	assert_memory_equal(got, data, n);
	free(got);
	free(data);
}

static void test_mode_bits(void **state)
{
	char p[512], q[512];

	(void)state;
	path_in(p, sizeof(p), "secret.key");
	assert_int_equal(atomic_write_file(p, "k", 1, 0600), 0);
	assert_int_equal(file_mode(p), 0600);
	path_in(q, sizeof(q), "public.conf");
	assert_int_equal(atomic_write_file(q, "c", 1, 0644), 0);
	assert_int_equal(file_mode(q), 0644);
	assert_int_equal(atomic_write_file(q, "c", 1, 0640), 0);
	assert_int_equal(file_mode(q), 0640); /* a replacement takes the new mode */
	/* as with open(2), the process umask applies */
	umask(077);
	assert_int_equal(atomic_write_file(q, "c", 1, 0644), 0);
	assert_int_equal(file_mode(q), 0600);
	umask(022);
}

/* A temporary left by a crashed writer that had our pid (after a reboot,
 * a service often gets the same one) must not leak into the new file. */
static void test_stale_temporary(void **state)
{
	char p[512], tmp[600], ls[512];
	int fd;

	(void)state;
	path_in(p, sizeof(p), "ckpt");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", p, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "stale and longer", 16), 16);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);

	assert_int_equal(atomic_write_file(p, "new", 3, 0600), 0);
	expect_content(p, "new", 3);
	assert_int_equal(file_mode(p), 0600); /* not the stale file's 0666 */
	list_dir(ls, sizeof(ls));
	assert_string_equal(ls, "ckpt");
}

/* A symlink planted at the temporary's name is not followed. */
static void test_symlink_at_temporary(void **state)
{
	char p[512], tmp[600], victim[512], ls[512];

	(void)state;
	path_in(p, sizeof(p), "ckpt");
	path_in(victim, sizeof(victim), "victim");
	assert_int_equal(atomic_write_file(victim, "precious", 8, 0644), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", p, (int)getpid());
	assert_int_equal(symlink(victim, tmp), 0);

	assert_int_equal(atomic_write_file(p, "new", 3, 0600), 0);
	expect_content(victim, "precious", 8);
	expect_content(p, "new", 3);
	assert_int_equal(file_mode(p), 0600); /* a regular file, not the link */
	list_dir(ls, sizeof(ls));
	assert_string_equal(ls, "ckpt victim");
}

static void test_missing_directory(void **state)
{
	char p[512], ls[512];

	(void)state;
	path_in(p, sizeof(p), "no/such/dir/file");
	assert_int_equal(atomic_write_file(p, "x", 1, 0644), -ENOENT);
	path_in(p, sizeof(p), "nodir/file");
	assert_int_equal(atomic_write_file(p, "x", 1, 0644), -ENOENT);
	list_dir(ls, sizeof(ls));
	assert_string_equal(ls, "");
}

/* When the final rename fails the temporary is removed and the error returned. */
static void test_rename_failure_cleans_up(void **state)
{
	char p[512], inner[600], ls[512];

	(void)state;
	path_in(p, sizeof(p), "adir");
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(inner, sizeof(inner), "%s/keep", p);
	assert_int_equal(atomic_write_file(inner, "k", 1, 0644), 0);
	/* renaming a file over a non-empty directory fails */
	assert_int_equal(atomic_write_file(p, "x", 1, 0644), -EISDIR);
	list_dir(ls, sizeof(ls));
	assert_string_equal(ls, "adir");
	assert_int_equal(unlink(inner), 0);
}

static void test_read_small_file_limits(void **state)
{
	char p[512], *got = NULL;
	uint8_t data[100];
	size_t len = 0;

	(void)state;
	memset(data, 'd', sizeof(data));
	path_in(p, sizeof(p), "hundred");
	assert_int_equal(atomic_write_file(p, data, sizeof(data), 0644), 0);

	assert_int_equal(read_small_file(p, &got, &len, 99), -EFBIG);
	assert_null(got);
	assert_int_equal(read_small_file(p, &got, &len, 0), -EFBIG);
	assert_int_equal(read_small_file(p, &got, &len, 100), 0); /* exactly at the limit */
	assert_int_equal(len, 100);
	assert_memory_equal(got, data, 100);
	free(got);
	got = NULL;
	assert_int_equal(read_small_file(p, &got, NULL, 1000), 0); /* len is optional */
	assert_int_equal(strlen(got), 100);
	free(got);

	path_in(p, sizeof(p), "absent");
	got = NULL;
	assert_int_equal(read_small_file(p, &got, &len, 100), -ENOENT);
	assert_null(got);
	/* an empty file reads as "" */
	path_in(p, sizeof(p), "empty");
	assert_int_equal(atomic_write_file(p, "", 0, 0644), 0);
	assert_int_equal(read_small_file(p, &got, &len, 0), 0);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);
}

/* /proc files report a size of 0: the reader reads to end of file */
static void test_read_small_file_to_eof(void **state)
{
	struct stat st;
	char *got = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(stat("/proc/self/status", &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(read_small_file("/proc/self/status", &got, &len, 1 << 20), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(got), len);
	assert_non_null(strstr(got, "\nPid:\t"));
	free(got);
	got = NULL;
	/* the limit counts what is read, not what st_size says */
	assert_int_equal(read_small_file("/proc/self/status", &got, &len, 10), -EFBIG);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_write_replace_read, each_setup),
		cmocka_unit_test_setup(test_large_content, each_setup),
		cmocka_unit_test_setup(test_mode_bits, each_setup),
		cmocka_unit_test_setup(test_stale_temporary, each_setup),
		cmocka_unit_test_setup(test_symlink_at_temporary, each_setup),
		cmocka_unit_test_setup(test_missing_directory, each_setup),
		cmocka_unit_test_setup(test_rename_failure_cleans_up, each_setup),
		cmocka_unit_test_setup(test_read_small_file_limits, each_setup),
		cmocka_unit_test(test_read_small_file_to_eof),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
