// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * os_release_value(): the one os-release(5) parser, shared by the inventory
 * and the prerequisite checks. Quoting and escapes as a shell reads them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "os_release.h"
#include "prereq_internal.h"

static void expect(const char *text, const char *key, const char *want)
{
	char out[256];

	assert_int_equal(os_release_value(text, key, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_escapes_in_double_quotes(void **state)
{
	(void)state;
	/* \" \\ \$ \` stand for the character itself */
	expect("PRETTY_NAME=\"A \\\"quoted\\\" name\"\n", "PRETTY_NAME", "A \"quoted\" name");
	expect("X=\"back\\\\slash\"\n", "X", "back\\slash");
	expect("X=\"\\$HOME and \\`cmd\\`\"\n", "X", "$HOME and `cmd`");
	/* a backslash before anything else is kept, as in the shell */
	expect("X=\"a\\nb\\tc\"\n", "X", "a\\nb\\tc");
	/* an escaped backslash does not escape the closing quote */
	expect("X=\"end\\\\\"\n", "X", "end\\");
	/* an escaped quote does not close the value */
	expect("X=\"a\\\"b\" trailing\n", "X", "a\"b");
}

static void test_single_quotes_are_literal(void **state)
{
	(void)state;
	expect("ID_LIKE='ubuntu debian'\n", "ID_LIKE", "ubuntu debian");
	expect("X='a\\\"b\\\\c $d'\n", "X", "a\\\"b\\\\c $d");
	expect("X='say \"hi\"'\n", "X", "say \"hi\"");
}

static void test_bare_values_and_lines(void **state)
{
	(void)state;
	expect("VERSION_ID=9.3\n", "VERSION_ID", "9.3");
	/* a bare value ends at a blank */
	expect("ID=debian extra\n", "ID", "debian");
	/* CRLF line ends; no newline at the end of the text */
	expect("NAME=\"Rocky Linux\"\r\nID=rocky\r\n", "NAME", "Rocky Linux");
	expect("NAME=x\nID=rocky", "ID", "rocky");
	/* empty values */
	expect("ID=\n", "ID", "");
	expect("ID=\"\"\n", "ID", "");
	/* the key is the whole name before '=', never a prefix */
	expect("ID_LIKE=fedora\nID=rhel\n", "ID", "rhel");
	/* the last assignment counts, as when a shell sources the file */
	expect("ID=first\nID=second\n", "ID", "second");
	/* comments */
	expect("#ID=commented\nID=real\n", "ID", "real");
}

static void test_errors(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(os_release_value("NAME=x\n#ID=y\n", "ID", out, sizeof(out)), -ENOENT);
	assert_string_equal(out, "");
	assert_int_equal(os_release_value("", "ID", out, sizeof(out)), -ENOENT);
	assert_int_equal(os_release_value("ID=\"open\nNAME=x\n", "ID", out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(os_release_value("ID='open\n", "ID", out, sizeof(out)), -EINVAL);
	/* a trailing escaped quote does not close it */
	assert_int_equal(os_release_value("ID=\"a\\\"\n", "ID", out, sizeof(out)), -EINVAL);
	/* 7 characters fit in 8 bytes, 8 do not */
	assert_int_equal(os_release_value("ID=1234567\n", "ID", out, sizeof(out)), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(os_release_value("ID=\"12345678\"\n", "ID", out, sizeof(out)), -EOVERFLOW);
	assert_string_equal(out, "");
}

/* The family the prerequisite checks take comes through the same parser:
 * escapes in ID_LIKE read as the shell reads them. */
static void test_family_through_the_parser(void **state)
{
	(void)state;
	assert_int_equal(prereq_family_from_os_release("ID=\"x\\\\y\"\nID_LIKE=\"\\debian\"\n"),
			 FAMILY_UNKNOWN);
	assert_int_equal(prereq_family_from_os_release("ID=x\nID_LIKE=\"arch \\$ ubuntu\"\n"),
			 FAMILY_DEBIAN);
	assert_int_equal(prereq_family_from_os_release("ID=\"rhel\" \nID=\"sles\"\n"), FAMILY_SUSE);
	assert_int_equal(prereq_family_from_os_release("ID=\"debian\r\n"), FAMILY_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_in_double_quotes),
		cmocka_unit_test(test_single_quotes_are_literal),
		cmocka_unit_test(test_bare_values_and_lines),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_family_through_the_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
