// SPDX-License-Identifier: GPL-2.0-or-later
/* console auth.c: PBKDF2 password records and random secrets; split_login. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api_auth.h"
#include "auth.h"

/* Low counts keep the suite fast; one test runs the real count. */
#define FAST_ITER 1000u

static void test_password_roundtrip(void **state)
{
	struct pw_record rec;

	(void)state;
	assert_int_equal(password_hash("correct horse", FAST_ITER, &rec), 0);
	assert_string_equal(rec.algo, PW_ALGO);
	assert_int_equal(rec.iterations, FAST_ITER);
	assert_int_equal(strlen(rec.salt_hex), 2 * PW_SALT_LEN);
	assert_int_equal(strlen(rec.hash_hex), 2 * PW_HASH_LEN);
	assert_null(strstr(rec.hash_hex, "correct"));
	assert_int_equal(password_verify("correct horse", &rec), 0);
	assert_int_equal(password_verify("correct horsf", &rec), -EACCES);
	assert_int_equal(password_verify("", &rec), -EACCES);
	assert_int_equal(password_verify("correct horse ", &rec), -EACCES);
}

static void test_password_salted(void **state)
{
	struct pw_record a, b;

	(void)state;
	assert_int_equal(password_hash("same password", FAST_ITER, &a), 0);
	assert_int_equal(password_hash("same password", FAST_ITER, &b), 0);
	assert_string_not_equal(a.salt_hex, b.salt_hex);
	assert_string_not_equal(a.hash_hex, b.hash_hex);
}

/* A record made elsewhere must verify: the stored format is plain
 * PBKDF2-HMAC-SHA256, so a migration to another implementation keeps
 * every password. Expected value from Python's hashlib:
 *   hashlib.pbkdf2_hmac("sha256", b"password", bytes(16), 1).hex() */
static void test_password_known_record(void **state)
{
	struct pw_record rec = { .algo = PW_ALGO, .iterations = 1 };

	(void)state;
	strcpy(rec.salt_hex, "00000000000000000000000000000000");
	strcpy(rec.hash_hex, "1fefe125ab13dd2c06db86711ec448e9490e6c73024d7d8d659126c6f9fadd68");
	assert_int_equal(password_verify("password", &rec), 0);
	assert_int_equal(password_verify("Password", &rec), -EACCES);
}

static void test_password_bad_records(void **state)
{
	struct pw_record rec;

	(void)state;
	assert_int_equal(password_hash("pw-for-tamper", FAST_ITER, &rec), 0);
	struct pw_record r2 = rec;

	strcpy(r2.algo, "md5");
	assert_int_equal(password_verify("pw-for-tamper", &r2), -EINVAL);
	r2 = rec;
	r2.iterations = 0;
	assert_int_equal(password_verify("pw-for-tamper", &r2), -EINVAL);
	r2 = rec;
	r2.salt_hex[0] = 'z';
	assert_int_equal(password_verify("pw-for-tamper", &r2), -EINVAL);
	r2 = rec;
	r2.iterations = FAST_ITER + 1; /* another count gives another hash */
	assert_int_equal(password_verify("pw-for-tamper", &r2), -EACCES);
	r2 = rec;
	r2.hash_hex[5] = r2.hash_hex[5] == '0' ? '1' : '0';
	assert_int_equal(password_verify("pw-for-tamper", &r2), -EACCES);
}

static void test_password_default_iterations(void **state)
{
	struct pw_record rec;

	(void)state;
	assert_true(PW_ITERATIONS >= 310000u);
	assert_int_equal(password_hash("the real count", PW_ITERATIONS, &rec), 0);
	assert_int_equal(password_verify("the real count", &rec), 0);
	assert_int_equal(password_verify("the real counT", &rec), -EACCES);
}

static void test_password_acceptable(void **state)
{
	const char *why = NULL;
	char big[PW_MAX_LEN + 2];

	(void)state;
	assert_int_equal(password_acceptable("1234567", &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(password_acceptable("12345678", &why), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(password_acceptable(big, &why), -EINVAL);
}

static void test_secrets(void **state)
{
	char a[SECRET_STR_MAX], b[SECRET_STR_MAX], ha[SECRET_HASH_HEX], hb[SECRET_HASH_HEX];
	char small[10];

	(void)state;
	assert_int_equal(secret_new(TOKEN_PREFIX, a, sizeof(a)), 0);
	assert_int_equal(secret_new(TOKEN_PREFIX, b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 4 + 64);
	assert_memory_equal(a, "lmt_", 4);
	assert_int_equal(strspn(a + 4, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(secret_new(TOKEN_PREFIX, small, sizeof(small)), -EINVAL);
	assert_int_equal(secret_new("toolong_", a, sizeof(a)), -EINVAL);

	secret_hash(a, ha);
	secret_hash(b, hb);
	assert_int_equal(strlen(ha), 64);
	assert_string_not_equal(ha, hb);
	assert_null(strstr(ha, a + 4));
	/* SHA-256("abc") */
	secret_hash("abc", ha);
	assert_string_equal(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_split_login(void **state)
{
	char u[129], a[64];

	(void)state;
	assert_int_equal(split_login("alice@acme", u, sizeof(u), a, sizeof(a)), 0);
	assert_string_equal(u, "alice");
	assert_string_equal(a, "acme");
	/* the last '@' separates: user names may be mail addresses */
	assert_int_equal(split_login("alice@example.com@acme", u, sizeof(u), a, sizeof(a)), 0);
	assert_string_equal(u, "alice@example.com");
	assert_string_equal(a, "acme");
	assert_int_equal(split_login("alice", u, sizeof(u), a, sizeof(a)), -EINVAL);
	assert_int_equal(split_login("@acme", u, sizeof(u), a, sizeof(a)), -EINVAL);
	assert_int_equal(split_login("alice@", u, sizeof(u), a, sizeof(a)), -EINVAL);
	assert_int_equal(split_login("alice@ac/me", u, sizeof(u), a, sizeof(a)), -EINVAL);
	assert_int_equal(split_login("al ice@acme", u, sizeof(u), a, sizeof(a)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_roundtrip),
		cmocka_unit_test(test_password_salted),
		cmocka_unit_test(test_password_known_record),
		cmocka_unit_test(test_password_bad_records),
		cmocka_unit_test(test_password_default_iterations),
		cmocka_unit_test(test_password_acceptable),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_split_login),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
