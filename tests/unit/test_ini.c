// SPDX-License-Identifier: GPL-2.0-or-later
/* The configuration file syntax: sections, keys, comments, and errors that
 * name the line they are on. */
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

#include "ini.h"

/* Records every callback as one line: "[section]" or "section|key|value". */
struct rec {
	char log[4096];
	int keys, sections;
	const char *fail_key;     /* on_key fails for this key */
	const char *fail_section; /* on_section fails for this section */
};

static void rec_add(struct rec *r, const char *line)
{
	size_t used = strlen(r->log);

	assert_true(used + strlen(line) + 2 < sizeof(r->log));
	snprintf(r->log + used, sizeof(r->log) - used, "%s\n", line);
}

static int on_key(void *ctx, const char *section, const char *key, const char *value, char *err,
		  size_t errlen)
{
	struct rec *r = ctx;
	char line[512];

	if (r->fail_key && !strcmp(key, r->fail_key)) {
		snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
		return -1;
	}
	snprintf(line, sizeof(line), "%s|%s|%s", section, key, value);
	rec_add(r, line);
	r->keys++;
	return 0;
}

static int on_section(void *ctx, const char *section, char *err, size_t errlen)
{
	struct rec *r = ctx;
	char line[128];

	if (r->fail_section && !strcmp(section, r->fail_section)) {
		snprintf(err, errlen, "no section [%s] here", section);
		return -1;
	}
	snprintf(line, sizeof(line), "[%s]", section);
	rec_add(r, line);
	r->sections++;
	return 0;
}

static void parse_ok(const char *text, struct rec *r, const char *expect)
{
	char err[256] = "";

	if (ini_parse_string(text, on_section, on_key, r, err, sizeof(err)))
		fail_msg("parse failed: %s", err);
	assert_string_equal(r->log, expect);
}

static void parse_err(const char *text, struct rec *r, const char *expect_err)
{
	char err[256] = "";

	assert_int_equal(ini_parse_string(text, on_section, on_key, r, err, sizeof(err)), -1);
	assert_string_equal(err, expect_err);
}

static void test_sections_and_keys(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_ok("top = 1\n"
		 "[agent]\n"
		 "staging = host:7000\n"
		 "rate = 64M\n"
		 "[disk]\n"
		 "path = /dev/vda\n",
		 &r,
		 "|top|1\n"
		 "[agent]\n"
		 "agent|staging|host:7000\n"
		 "agent|rate|64M\n"
		 "[disk]\n"
		 "disk|path|/dev/vda\n");
	assert_int_equal(r.keys, 4);
	assert_int_equal(r.sections, 2);
}

static void test_repeated_sections(void **state)
{
	struct rec r = { 0 };

	(void)state;
	/* each [disk] starts a new record: the handler hears every header */
	parse_ok("[disk]\nname = vda\n[disk]\nname = vdb\n[other]\n[disk]\nname = vdc\n", &r,
		 "[disk]\ndisk|name|vda\n[disk]\ndisk|name|vdb\n[other]\n[disk]\ndisk|name|vdc\n");
	assert_int_equal(r.sections, 4);
	assert_int_equal(r.keys, 3);
}

static void test_no_section_handler(void **state)
{
	struct rec r = { 0 };
	char err[128] = "";

	(void)state;
	assert_int_equal(ini_parse_string("[a]\nx = 1\n[b]\ny = 2\n", NULL, on_key, &r, err,
					  sizeof(err)),
			 0);
	assert_string_equal(r.log, "a|x|1\nb|y|2\n");
}

static void test_comments_and_blank_lines(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_ok("# leading comment\n"
		 "\n"
		 "; semicolon comment\n"
		 "   # indented comment\n"
		 "\t\n"
		 "   \n"
		 "[s]\n"
		 "# key = not a key\n"
		 "url = http://h/#frag\n" /* '#' after the start is part of the value */
		 "x = 1 ; not a comment\n"
		 "\n",
		 &r, "[s]\ns|url|http://h/#frag\ns|x|1 ; not a comment\n");
	r.log[0] = '\0';
	parse_ok("[s]   # a section\nmachine = web-01   # the certificate's CN\npath = /dev/vda\t# root\n",
		 &r, "[s]\ns|machine|web-01\ns|path|/dev/vda\n");
	r.log[0] = '\0';
	parse_ok("", &r, "");
	parse_ok("\n\n# only comments\n", &r, "");
}

static void test_whitespace_trimming(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_ok("  [  spaced  ]  \n"
		 "   key   =   value with  inner  spaces   \n"
		 "\tt\t=\tv\t\n"
		 "crlf = yes\r\n"
		 "empty =\n"
		 "blank =    \n"
		 "eq = a = b == c\n"
		 "nospace=1\n"
		 "last = no newline at end",
		 &r,
		 "[spaced]\n"
		 "spaced|key|value with  inner  spaces\n"
		 "spaced|t|v\n"
		 "spaced|crlf|yes\n"
		 "spaced|empty|\n"
		 "spaced|blank|\n"
		 "spaced|eq|a = b == c\n"
		 "spaced|nospace|1\n"
		 "spaced|last|no newline at end\n");
}

static void test_missing_equals(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_err("[a]\nx = 1\njust words\ny = 2\n", &r, "3: expected 'key = value'");
	/* stops at the error: nothing after it reaches the handler */
	assert_string_equal(r.log, "[a]\na|x|1\n");
	r.log[0] = '\0';
	parse_err("\n\n\n\n\nkey\n", &r, "6: expected 'key = value'");
}

static void test_bad_section_header(void **state)
{
	static const char *const bad[] = { "[abc", "[]", "[a] trailing", "[a]]", "[a]#c",
					   "[" };
	struct rec r = { 0 };
	char text[256], expect[96], longhdr[80];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.log[0] = '\0';
		snprintf(text, sizeof(text), "# c\n[ok]\nk = v\n%s\nz = 1\n", bad[i]);
		parse_err(text, &r, "4: malformed section header");
		assert_string_equal(r.log, "[ok]\nok|k|v\n");
	}
	/* section names up to 63 characters */
	memset(longhdr, 0, sizeof(longhdr));
	longhdr[0] = '[';
	memset(longhdr + 1, 's', 63);
	longhdr[64] = ']';
	snprintf(expect, sizeof(expect), "%s\n", longhdr);
	r.log[0] = '\0';
	parse_ok(longhdr, &r, expect);
	longhdr[64] = 's';
	longhdr[65] = ']';
	parse_err(longhdr, &r, "1: malformed section header");
}

static void test_empty_key(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_err("[a]\n= value\n", &r, "2: missing key before '='");
	parse_err("[a]\nk = 1\n\n   =\n", &r, "4: missing key before '='");
	parse_err("\t = x\n", &r, "1: missing key before '='");
}

static void test_handler_errors(void **state)
{
	struct rec r = { 0 };

	(void)state;
	r.fail_key = "bogus";
	parse_err("[agent]\nrate = 1\n\n# c\nbogus = 2\nlater = 3\n", &r,
		  "5: unknown key 'bogus' in [agent]");
	assert_string_equal(r.log, "[agent]\nagent|rate|1\n");

	memset(&r, 0, sizeof(r));
	r.fail_section = "nope";
	parse_err("[agent]\nrate = 1\n[nope]\nx = 1\n", &r, "3: no section [nope] here");
	assert_string_equal(r.log, "[agent]\nagent|rate|1\n");
}

/* The line number counts every line, CRLF or not, blank or not. */
static void test_line_numbers_crlf(void **state)
{
	struct rec r = { 0 };

	(void)state;
	parse_err("[a]\r\n\r\n# c\r\nk = v\r\n\r\nbroken\r\n", &r, "6: expected 'key = value'");
}

static void test_error_buffer_truncation(void **state)
{
	struct rec r = { 0 };
	char err[8];

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_int_equal(ini_parse_string("a\n", NULL, on_key, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "1: expe"); /* cut, terminated, not overrun */
}

/* ---- files ---- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ini.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/livemig.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_file_ok(void **state)
{
	struct rec r = { 0 };
	char path[512], err[600] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/livemig.conf", tmpdir);
	write_file(path, "# agent\n[agent]\nstaging = s1:7000\n[disk]\npath = /dev/vda\n");
	assert_int_equal(ini_parse_file(path, on_section, on_key, &r, err, sizeof(err)), 0);
	assert_string_equal(r.log, "[agent]\nagent|staging|s1:7000\n[disk]\ndisk|path|/dev/vda\n");
}

static void test_file_error_has_path_and_line(void **state)
{
	struct rec r = { 0 };
	char path[512], err[700] = "", expect[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/livemig.conf", tmpdir);
	write_file(path, "[agent]\nstaging = s1\n[disk\n");
	assert_int_equal(ini_parse_file(path, on_section, on_key, &r, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s:3: malformed section header", path);
	assert_string_equal(err, expect);

	r.fail_key = "rate";
	r.log[0] = '\0';
	write_file(path, "[agent]\n\nrate = fast\n");
	assert_int_equal(ini_parse_file(path, on_section, on_key, &r, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s:3: unknown key 'rate' in [agent]", path);
	assert_string_equal(err, expect);
}

static void test_file_not_found(void **state)
{
	struct rec r = { 0 };
	char path[512], err[700] = "", expect[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(ini_parse_file(path, on_section, on_key, &r, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, expect);
	assert_string_equal(r.log, "");
}

static void test_file_too_big(void **state)
{
	struct rec r = { 0 };
	char path[512], err[700] = "", expect[700];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 70000; i++) /* 16 bytes a line: over 1 MiB */
		fputs("# padding line\n\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ini_parse_file(path, on_section, on_key, &r, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s: %s", path, strerror(EFBIG));
	assert_string_equal(err, expect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_and_keys),
		cmocka_unit_test(test_repeated_sections),
		cmocka_unit_test(test_no_section_handler),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_whitespace_trimming),
		cmocka_unit_test(test_missing_equals),
		cmocka_unit_test(test_bad_section_header),
		cmocka_unit_test(test_empty_key),
		cmocka_unit_test(test_handler_errors),
		cmocka_unit_test(test_line_numbers_crlf),
		cmocka_unit_test(test_error_buffer_truncation),
		cmocka_unit_test(test_file_ok),
		cmocka_unit_test(test_file_error_has_path_and_line),
		cmocka_unit_test(test_file_not_found),
		cmocka_unit_test(test_file_too_big),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
