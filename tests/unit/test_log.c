// SPDX-License-Identifier: GPL-2.0-or-later
/* log.c: what a client controls cannot forge a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	log_escape("GET /x\n2026 fake: info: FORGED\r\t\x1b[31m\\ \x7f", out, sizeof(out));
	assert_string_equal(out, "GET /x\\n2026 fake: info: FORGED\\r\\t\\x1b[31m\\\\ \\x7f");
	/* cut short, never in the middle of an escape */
	log_escape("ab\n", out, 4);
	assert_string_equal(out, "ab");
	log_escape("\xc3\xa9t\xc3\xa9", out, sizeof(out)); /* UTF-8 stays readable */
	assert_string_equal(out, "\xc3\xa9t\xc3\xa9");
}

/* The line on stderr is one line whatever the message holds. */
static void test_one_line(void **state)
{
	char buf[2048] = "";
	int fds[2], saved;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_init("test", LOG_LVL_INFO, 0);
	log_info("GET %s -> 404", "/nosuch\nlivemig-console: info: FORGED");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "test: info: GET /nosuch\\nlivemig-console: info: FORGED -> 404\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
