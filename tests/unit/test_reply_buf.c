// SPDX-License-Identifier: GPL-2.0-or-later
/* reply_buf_write(): answers gathered whole, NUL-terminated, never past max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reply_buf.h"

static void test_pieces_join(void **state)
{
	struct reply_buf b = { NULL, 0, 64 };
	char a[] = "{\"ok\":", c[] = "true}";

	(void)state;
	assert_int_equal(reply_buf_write(a, 1, strlen(a), &b), strlen(a));
	assert_int_equal(reply_buf_write(c, strlen(c), 1, &b), strlen(c));
	assert_int_equal(b.len, strlen(a) + strlen(c));
	assert_string_equal(b.data, "{\"ok\":true}");
	free(b.data);
}

/* Exactly max is taken; one byte more ends the transfer and keeps what came. */
static void test_bound(void **state)
{
	struct reply_buf b = { NULL, 0, 8 };
	char eight[] = "12345678", one[] = "9";

	(void)state;
	assert_int_equal(reply_buf_write(eight, 1, 8, &b), 8);
	assert_int_equal(reply_buf_write(one, 1, 1, &b), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	free(b.data);
}

/* size * n that wraps around must not pass the bound. */
static void test_overflowing_size(void **state)
{
	struct reply_buf b = { NULL, 0, 1024 };
	char x[] = "x";

	(void)state;
	assert_int_equal(reply_buf_write(x, SIZE_MAX / 2 + 1, 2, &b), 0);
	assert_null(b.data);
	assert_int_equal(reply_buf_write(x, 0, 0, &b), 0);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces_join),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_overflowing_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
