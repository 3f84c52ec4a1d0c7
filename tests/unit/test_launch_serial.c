// SPDX-License-Identifier: GPL-2.0-or-later
/* The launch's boot verification on serial logs written as a guest would:
 * the marker with result=up (also after NUL bytes), another boot's token, no network, a boot that
 * stops, a domain that dies, and the bound. */
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

static char base[256];
#include "scratch_dir.h"

#define MARKER "LIVEMIG-FIRSTBOOT token=00112233445566778899aabbccddeeff"

static const char *write_log(const char *text)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/serial.log", base);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int dead(void *arg)
{
	(void)arg;
	return 0;
}

static void test_up(void **state)
{
	char *line, *tail;
	const char *log = write_log("[  OK  ] Reached target multi-user.target\r\n" MARKER
				    " result=up host=web-test addr=enp1s0=10.0.2.15/24 livemigd=inactive\r\n");

	(void)state;
	assert_int_equal(serial_watch(log, MARKER, 5, NULL, NULL, &line, &tail), 0);
	assert_non_null(strstr(line, "livemigd=inactive"));
	assert_null(strchr(line, '\r'));
	free(line);
	free(tail);
}

/* a console that printed NUL bytes before the marker */
static void test_nul_bytes_before_marker(void **state)
{
	static const char text[] = "SeaBIOS\0\0 booting\r\n" MARKER
				   " result=up host=web-test addr=enp1s0=10.0.2.15/24 livemigd=inactive\r\n";
	char path[300], *line, *tail;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/serial.log", base);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	fclose(f);
	assert_int_equal(serial_watch(path, MARKER, 5, NULL, NULL, &line, &tail), 0);
	assert_non_null(strstr(line, "result=up"));
	free(line);
	free(tail);
}

static void test_other_token_is_not_ours(void **state)
{
	char *line, *tail;
	const char *log = write_log("LIVEMIG-FIRSTBOOT token=ffff result=up host=x addr=a=1.2.3.4/8 livemigd=inactive\n");

	(void)state;
	assert_int_equal(serial_watch(log, MARKER, 1, NULL, NULL, &line, &tail), -ETIMEDOUT);
	assert_null(line);
	assert_non_null(strstr(tail, "token=ffff"));
	free(tail);
}

static void test_no_network(void **state)
{
	char *line, *tail;
	const char *log = write_log(MARKER " result=no-network host=x addr=none livemigd=inactive\n");

	(void)state;
	assert_int_equal(serial_watch(log, MARKER, 5, NULL, NULL, &line, &tail), -ENETUNREACH);
	free(line);
	free(tail);
}

static void test_boot_stops(void **state)
{
	char *line, *tail;
	const char *log = write_log("Gave up waiting for root file system device.\n"
				    "ALERT!  /dev/sda1 does not exist.  Dropping to a shell!\n(initramfs) ");

	(void)state;
	assert_int_equal(serial_watch(log, MARKER, 5, NULL, NULL, &line, &tail), -EIO);
	assert_non_null(strstr(line, "Gave up waiting"));
	assert_non_null(strstr(tail, "(initramfs)"));
	free(line);
	free(tail);
}

static void test_domain_gone(void **state)
{
	char *line, *tail;
	const char *log = write_log("Booting...\n");

	(void)state;
	assert_int_equal(serial_watch(log, MARKER, 5, dead, NULL, &line, &tail), -ECHILD);
	free(tail);
}

static void test_tail_is_bounded(void **state)
{
	char text[4096] = "", *line, *tail;
	int lines = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "line %d\n", i);
	assert_int_equal(serial_watch(write_log(text), MARKER, 1, NULL, NULL, &line, &tail), -ETIMEDOUT);
	for (const char *p = tail; *p; p++)
		lines += *p == '\n';
	assert_true(lines <= 20);
	assert_non_null(strstr(tail, "line 99"));
	assert_null(strstr(tail, "line 70\n"));
	free(tail);
}

static int setup(void **state)
{
	(void)state;
	return scratch_dir_make("test_launch_serial");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),          cmocka_unit_test(test_nul_bytes_before_marker),
		cmocka_unit_test(test_other_token_is_not_ours),
		cmocka_unit_test(test_no_network),  cmocka_unit_test(test_boot_stops),
		cmocka_unit_test(test_domain_gone), cmocka_unit_test(test_tail_is_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
