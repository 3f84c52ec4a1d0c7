// SPDX-License-Identifier: GPL-2.0-or-later
/* Password hashing (PBKDF2-HMAC-SHA256) and random secrets (auth.h). */
#include "auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

static int pbkdf2(const char *password, const uint8_t *salt, unsigned iterations,
		  uint8_t out[PW_HASH_LEN])
{
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, PW_SALT_LEN,
			      (int)iterations, EVP_sha256(), PW_HASH_LEN, out) != 1)
		return -ENOMEM;
	return 0;
}

int password_hash(const char *password, unsigned iterations, struct pw_record *out)
{
	uint8_t salt[PW_SALT_LEN], hash[PW_HASH_LEN];
	int rc;

	if (!iterations || iterations > 100000000u)
		return -EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	rc = pbkdf2(password, salt, iterations, hash);
	if (rc)
		return rc;
	snprintf(out->algo, sizeof(out->algo), "%s", PW_ALGO);
	out->iterations = iterations;
	hex_encode(salt, sizeof(salt), out->salt_hex);
	hex_encode(hash, sizeof(hash), out->hash_hex);
	OPENSSL_cleanse(hash, sizeof(hash));
	return 0;
}

int password_verify(const char *password, const struct pw_record *rec)
{
	uint8_t salt[PW_SALT_LEN], want[PW_HASH_LEN], got[PW_HASH_LEN];
	int rc;

	if (strcmp(rec->algo, PW_ALGO) || !rec->iterations || rec->iterations > 100000000u ||
	    hex_decode(rec->salt_hex, salt, sizeof(salt)) ||
	    hex_decode(rec->hash_hex, want, sizeof(want)))
		return -EINVAL;
	rc = pbkdf2(password, salt, rec->iterations, got);
	if (rc)
		return rc;
	rc = CRYPTO_memcmp(got, want, sizeof(got)) ? -EACCES : 0;
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

void password_burn(const char *password)
{
	static const uint8_t salt[PW_SALT_LEN];
	uint8_t out[PW_HASH_LEN];

	(void)pbkdf2(password, salt, PW_ITERATIONS, out);
}

int password_acceptable(const char *password, const char **why)
{
	size_t n = strlen(password);

	if (n < PW_MIN_LEN) {
		*why = "a password needs at least 8 characters";
		return -EINVAL;
	}
	if (n > PW_MAX_LEN) {
		*why = "a password may have at most 1024 characters";
		return -EINVAL;
	}
	return 0;
}

int secret_new(const char *prefix, char *out, size_t outlen)
{
	uint8_t raw[SECRET_BYTES];
	size_t plen = strlen(prefix);

	if (plen > 4 || outlen < plen + 2 * SECRET_BYTES + 1)
		return -EINVAL;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	memcpy(out, prefix, plen);
	hex_encode(raw, sizeof(raw), out + plen);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

void secret_hash(const char *secret, char out[SECRET_HASH_HEX])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	EVP_Digest(secret, strlen(secret), md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, sizeof(md), out);
}
