// SPDX-License-Identifier: GPL-2.0-or-later
/* console ca.c / ca_init.c: a new CA, CSR checks, and what a signed certificate says. */
#include <errno.h>
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "web.h"

struct fixture {
	char dir[64];
	char cert[96], key[96];
	struct agent_ca *ca;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	strcpy(f->dir, "/tmp/test_console_ca.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cert, sizeof(f->cert), "%s/ca/ca.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/ca/ca.key", f->dir);
	{
		char ca_dir[80];

		snprintf(ca_dir, sizeof(ca_dir), "%s/ca", f->dir);
		if (agent_ca_init(ca_dir, "unit test CA", err, sizeof(err)))
			return -1;
	}
	if (agent_ca_load(f->cert, f->key, &f->ca, err, sizeof(err)))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	agent_ca_free(f->ca);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* A PEM CSR for a fresh key of the given type. */
static char *make_csr(const char *alg, const char *param, EVP_PKEY **keyp)
{
	EVP_PKEY *key = strcmp(alg, "EC") ? EVP_RSA_gen((unsigned)atoi(param))
					  : EVP_EC_gen(param);
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	assert_non_null(key);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"asked-for", -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	PEM_write_bio_X509_REQ(b, req);
	len = BIO_get_mem_data(b, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(req);
	if (keyp)
		*keyp = key;
	else
		EVP_PKEY_free(key);
	return pem;
}

static X509 *parse_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

static void test_init_ca_files(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char err[512], ca_dir[80];

	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(ca_dir, sizeof(ca_dir), "%s/ca", f->dir);
	assert_int_equal(agent_ca_init(ca_dir, "again", err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "refusing"));
}

static void test_sign_ec(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key;
	char *csr = make_csr("EC", "P-256", &key);
	struct signed_cert sc;
	char why[256], cn[64];
	X509 *x, *cax;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	FILE *fp;

	assert_int_equal(csr_check(csr, why, sizeof(why)), 0);
	assert_int_equal(agent_ca_sign(f->ca, csr, "web-01", &sc, why, sizeof(why)), 0);
	assert_int_equal(strlen(sc.fingerprint_hex), 64);
	assert_true(strlen(sc.serial_hex) >= 16);
	x = parse_cert(sc.pem);
	/* the console names the machine, not the CSR */
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "web-01");
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_ca(x), 0);
	/* it chains to the CA */
	fp = fopen(f->cert, "r");
	cax = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	X509_STORE_add_cert(store, cax);
	X509_STORE_CTX_init(ctx, store, x, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cax);
	X509_free(x);
	signed_cert_clear(&sc);
	EVP_PKEY_free(key);
	free(csr);
}

static void test_serials_differ(void **state)
{
	struct fixture *f = *state;
	char *csr = make_csr("EC", "P-256", NULL);
	struct signed_cert a, b;
	char why[256];

	assert_int_equal(agent_ca_sign(f->ca, csr, "m", &a, why, sizeof(why)), 0);
	assert_int_equal(agent_ca_sign(f->ca, csr, "m", &b, why, sizeof(why)), 0);
	assert_string_not_equal(a.serial_hex, b.serial_hex);
	assert_string_not_equal(a.fingerprint_hex, b.fingerprint_hex);
	signed_cert_clear(&a);
	signed_cert_clear(&b);
	free(csr);
}

static void test_bad_csrs(void **state)
{
	struct fixture *f = *state;
	char *csr = make_csr("EC", "P-256", NULL), *weak = make_csr("RSA", "1024", NULL);
	char why[256], *p;
	struct signed_cert sc;

	assert_int_equal(csr_check("junk", why, sizeof(why)), -EINVAL);
	assert_int_equal(agent_ca_sign(f->ca, "junk", "m", &sc, why, sizeof(why)), -EINVAL);
	assert_null(sc.pem);
	assert_int_equal(csr_check(weak, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "RSA 2048"));
	/* flip one base64 character near the end (inside the signature) */
	p = strstr(csr, "-----END");
	assert_non_null(p);
	p -= 6;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(csr_check(csr, why, sizeof(why)), -EINVAL);
	free(csr);
	free(weak);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	struct agent_ca *ca = NULL;
	char err[512], other[96];

	assert_int_equal(agent_ca_load("/nonexistent/ca.pem", f->key, &ca, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	/* a key that is not the certificate's */
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(agent_ca_init(other, "other", err, sizeof(err)), 0);
	snprintf(other, sizeof(other), "%s/other/ca.key", f->dir);
	assert_int_equal(agent_ca_load(f->cert, other, &ca, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not the private key"));
	assert_null(ca);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(fp);
	assert_true(fread(buf, 1, 65535, fp) > 0);
	fclose(fp);
	return buf;
}

/* Without --console-ca the page offers the top of the served chain: a leaf
 * followed by its CA gives the CA; one certificate gives itself. */
static void test_console_ca_from_chain(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key;
	char *csr = make_csr("EC", "P-256", &key), *ca_pem = slurp(f->cert), *chain, *out = NULL;
	struct signed_cert sc;
	char why[256];
	X509 *want, *got;

	assert_int_equal(agent_ca_sign(f->ca, csr, "web-02", &sc, why, sizeof(why)), 0);
	chain = calloc(1, strlen(sc.pem) + strlen(ca_pem) + 1);
	strcat(strcpy(chain, sc.pem), ca_pem);
	assert_int_equal(console_ca_from_chain(chain, &out), 0);
	want = parse_cert(ca_pem);
	got = parse_cert(out);
	assert_int_equal(X509_cmp(want, got), 0);
	X509_free(got);
	free(out);

	assert_int_equal(console_ca_from_chain(sc.pem, &out), 0);
	got = parse_cert(out);
	assert_int_not_equal(X509_cmp(want, got), 0);
	X509_free(got);
	free(out);

	assert_int_equal(console_ca_from_chain("not a certificate\n", &out), -EINVAL);
	assert_null(out);
	X509_free(want);
	free(chain);
	free(ca_pem);
	signed_cert_clear(&sc);
	free(csr);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_ca_files),
		cmocka_unit_test(test_sign_ec),
		cmocka_unit_test(test_serials_differ),
		cmocka_unit_test(test_bad_csrs),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_console_ca_from_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
