// SPDX-License-Identifier: GPL-2.0-or-later
/* machine_id.c: the id derived from the account and the identity, and the
 * identities it is derived from (docs/identity.md, "Machine id"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "machine_id.h"

static void derive_as_documented(void **state)
{
	char id[MACHINE_ID_LEN + 1];

	(void)state;
	/* printf 'acme\nmetadata:i-0123456789abcdef0' | sha256sum | cut -c1-32 */
	assert_int_equal(machine_id_derive("acme", "metadata", "i-0123456789abcdef0", id), 0);
	assert_string_equal(id, "6435c25448fff0d1f391bd8305dc6e6c");
}

static void accounts_never_share_an_id(void **state)
{
	char a[MACHINE_ID_LEN + 1], b[MACHINE_ID_LEN + 1];

	(void)state;
	assert_int_equal(machine_id_derive("acme", "mac", "52:54:00:00:00:01", a), 0);
	assert_int_equal(machine_id_derive("rival", "mac", "52:54:00:00:00:01", b), 0);
	assert_int_equal(strlen(a), MACHINE_ID_LEN);
	assert_string_not_equal(a, b);
	/* the account ends at the newline: "acme" + "x:..." is not "acmex" + "..." */
	assert_int_equal(machine_id_derive("acmex", "mac", "52:54:00:00:00:01", b), 0);
	assert_string_not_equal(a, b);
}

static void identities(void **state)
{
	static const char *const good[][2] = {
		{ "mac", "52:54:00:00:00:01" },
		{ "mac", "02:fc:00:00:00:01" },
		{ "metadata", "i-0123456789abcdef0" },
		{ "metadata", "6f1c9a3e-3b0f-4d55-9c1e-0f3a5b7c9d11" },
	};
	static const char *const bad[][2] = {
		{ "mac", "52:54:00:AB:00:01" },  /* upper case: a second spelling */
		{ "mac", "01:00:5e:00:00:01" },  /* multicast */
		{ "mac", "00:00:00:00:00:00" },
		{ "mac", "52:54:00:00:00:1" },
		{ "mac", "52-54-00-00-00-01" },
		{ "mac", "52:54:00:00:00:01:" },
		{ "metadata", "i 0" },
		{ "metadata", "" },
		{ "metadata", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, /* 65 */
		{ "serial", "52:54:00:00:00:01" },
		{ "mac:52", "54:00:00:00:01" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (machine_identity_invalid(good[i][0], good[i][1]))
			fail_msg("%s:%s refused: %s", good[i][0], good[i][1],
				 machine_identity_invalid(good[i][0], good[i][1]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!machine_identity_invalid(bad[i][0], bad[i][1]))
			fail_msg("%s:%s accepted", bad[i][0], bad[i][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(derive_as_documented),
		cmocka_unit_test(accounts_never_share_an_id),
		cmocka_unit_test(identities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
