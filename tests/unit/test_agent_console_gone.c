// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * heartbeat.c: what livemigd says when the console answers 410. Removed by
 * an operator: who and when, and the remedy; deregistered otherwise; the
 * console's words cannot put control characters in the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "heartbeat.h"

static void test_removed(void **state)
{
	json_t *a = json_pack("{s:s, s:s, s:s, s:I}", "error", "…", "code", "removed",
			      "removed_by", "alice@acme", "removed_at", (json_int_t)1796526900);
	char r[400];

	(void)state;
	heartbeat_gone_reason(a, r, sizeof(r));
	assert_string_equal(r, "removed by the console operator (alice@acme at "
			       "2026-12-06T03:15:00Z): its license is free and staging refuses "
			       "its certificate; reinstall the agent to register again: livemig "
			       "uninstall && livemig install");
	json_decref(a);
}

static void test_deregistered(void **state)
{
	json_t *a = json_pack("{s:s, s:s}", "error", "…", "code", "deregistered");
	char r[400];

	(void)state;
	heartbeat_gone_reason(a, r, sizeof(r));
	assert_string_equal(r, DEREGISTERED_REASON);
	heartbeat_gone_reason(NULL, r, sizeof(r)); /* a 410 without a JSON body */
	assert_string_equal(r, DEREGISTERED_REASON);
	json_decref(a);
}

static void test_hostile_name(void **state)
{
	json_t *a = json_pack("{s:s, s:s}", "code", "removed", "removed_by", "eve\n2026 forged line");
	char r[400];

	(void)state;
	heartbeat_gone_reason(a, r, sizeof(r));
	assert_null(strchr(r, '\n'));
	assert_non_null(strstr(r, "(eve?2026 forged line)"));
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_deregistered),
		cmocka_unit_test(test_hostile_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
