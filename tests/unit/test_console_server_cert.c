// SPDX-License-Identifier: GPL-2.0-or-later
/* console server_cert.c: what a server certificate says, where it goes, and
 * what is refused. Verified with OpenSSL's own chain verification. */
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "atomic_file.h"
#include "server_cert.h"

struct fixture {
	char dir[64];
	char ca_dir[96], prefix[96], path[128];
	struct server_cert_req req;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_server_cert.XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->ca_dir, sizeof(f->ca_dir), "%s/server-ca", f->dir);
	snprintf(f->prefix, sizeof(f->prefix), "%s/console", f->dir);
	f->req = (struct server_cert_req){
		.ca_dir = f->ca_dir, .prefix = f->prefix, .days = SERVER_CERT_DAYS,
		.dns = { "console.example", "*.lan.example" }, .n_dns = 2,
		.ips = { "127.0.0.1", "::1" }, .n_ips = 2,
		.uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static const char *path(struct fixture *f, const char *suffix)
{
	snprintf(f->path, sizeof(f->path), "%s%s", f->prefix, suffix);
	return f->path;
}

/* Every certificate of a PEM file, in order. */
static STACK_OF(X509) *read_certs(const char *file)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	FILE *fp = fopen(file, "r");
	X509 *x;

	assert_non_null(fp);
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)))
		sk_X509_push(sk, x);
	fclose(fp);
	return sk;
}

static unsigned mode_of(const char *file)
{
	struct stat st;

	assert_int_equal(stat(file, &st), 0);
	return st.st_mode & 07777;
}

static void make(struct fixture *f, int want_made_ca)
{
	char err[1024] = "";
	int made = -1, rc = server_cert_make(&f->req, &made, err, sizeof(err));

	if (rc)
		fail_msg("server_cert_make: %d: %s", rc, err);
	assert_int_equal(made, want_made_ca);
}

static void test_files_and_modes(void **state)
{
	struct fixture *f = *state;
	char ca[128];

	make(f, 1);
	assert_int_equal(mode_of(path(f, ".key")), 0600);
	assert_int_equal(mode_of(path(f, ".pem")), 0644);
	assert_int_equal(mode_of(path(f, "-ca.pem")), 0644);
	snprintf(ca, sizeof(ca), "%s/ca.key", f->ca_dir);
	assert_int_equal(mode_of(ca), 0600);
	assert_int_equal(mode_of(f->ca_dir), 0700);
	/* PREFIX-ca.pem is the CA's certificate, byte for byte */
	{
		char *a = NULL, *b = NULL;

		snprintf(ca, sizeof(ca), "%s/ca.pem", f->ca_dir);
		assert_int_equal(read_small_file(ca, &a, NULL, 65536), 0);
		assert_int_equal(read_small_file(path(f, "-ca.pem"), &b, NULL, 65536), 0);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	/* a second certificate uses the same CA, not a new one */
	snprintf(f->prefix, sizeof(f->prefix), "%s/staging", f->dir);
	make(f, 0);
}

static int has_san(GENERAL_NAMES *names, int type, const void *want, size_t len)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s;

		if (g->type != type)
			continue;
		s = type == GEN_DNS ? g->d.dNSName : g->d.iPAddress;
		if ((size_t)ASN1_STRING_length(s) == len && !memcmp(ASN1_STRING_get0_data(s), want, len))
			return 1;
	}
	return 0;
}

/* The chain PREFIX.pem verifies against PREFIX-ca.pem for the names given
 * (as a TLS client checks it: purpose sslserver, host and IP), and not for
 * another name. */
static int verify(X509 *leaf, STACK_OF(X509) *chain, X509 *ca, const char *host,
		  const char *ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	int ok;

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, leaf, chain);
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	if (host)
		X509_VERIFY_PARAM_set1_host(vp, host, 0);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_sans_and_signature(void **state)
{
	struct fixture *f = *state;
	STACK_OF(X509) *chain, *cas;
	X509 *leaf, *ca;
	GENERAL_NAMES *names;
	static const unsigned char v4[] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	char cn[256];
	EVP_PKEY *key;
	FILE *fp;

	make(f, 1);
	chain = read_certs(path(f, ".pem"));
	cas = read_certs(path(f, "-ca.pem"));
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(sk_X509_num(cas), 1);
	leaf = sk_X509_value(chain, 0);
	ca = sk_X509_value(cas, 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), ca), 0);

	names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	assert_non_null(names);
	assert_int_equal(sk_GENERAL_NAME_num(names), 4);
	assert_true(has_san(names, GEN_DNS, "console.example", 15));
	assert_true(has_san(names, GEN_DNS, "*.lan.example", 13));
	assert_true(has_san(names, GEN_IPADD, v4, 4));
	assert_true(has_san(names, GEN_IPADD, v6, 16));
	GENERAL_NAMES_free(names);
	X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "console.example");

	/* a server certificate, not a CA, not for clients */
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_int_equal(X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_not_equal(X509_check_purpose(leaf, X509_PURPOSE_SSL_CLIENT, 0), 1);
	assert_int_equal(X509_check_ca(ca), 1);

	/* the CA's signature */
	assert_int_equal(X509_verify(leaf, X509_get0_pubkey(ca)), 1);
	assert_true(verify(leaf, chain, ca, "console.example", NULL));
	assert_true(verify(leaf, chain, ca, "web.lan.example", NULL));
	assert_true(verify(leaf, chain, ca, NULL, "127.0.0.1"));
	assert_true(verify(leaf, chain, ca, NULL, "::1"));
	assert_false(verify(leaf, chain, ca, "other.example", NULL));
	assert_false(verify(leaf, chain, ca, NULL, "127.0.0.2"));

	/* the key is the certificate's, and P-256 */
	fp = fopen(path(f, ".key"), "r");
	assert_non_null(fp);
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(key);
	assert_int_equal(X509_check_private_key(leaf, key), 1);
	assert_int_equal(EVP_PKEY_get_bits(key), 256);
	EVP_PKEY_free(key);

	/* another CA does not verify it */
	{
		struct fixture other = *f;
		STACK_OF(X509) *ocas;

		snprintf(other.ca_dir, sizeof(other.ca_dir), "%s/other-ca", f->dir);
		snprintf(other.prefix, sizeof(other.prefix), "%s/other", f->dir);
		other.req.ca_dir = other.ca_dir;
		other.req.prefix = other.prefix;
		make(&other, 1);
		ocas = read_certs(path(&other, "-ca.pem"));
		assert_false(verify(leaf, NULL, sk_X509_value(ocas, 0), "console.example", NULL));
		sk_X509_pop_free(ocas, X509_free);
	}
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(cas, X509_free);
}

static void test_refuses_overwrite(void **state)
{
	struct fixture *f = *state;
	char err[1024], *before = NULL, *after = NULL;
	int made;

	make(f, 1);
	assert_int_equal(read_small_file(path(f, ".key"), &before, NULL, 65536), 0);
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "--force"));
	assert_non_null(strstr(err, "console.key already exists"));
	assert_int_equal(read_small_file(path(f, ".key"), &after, NULL, 65536), 0);
	assert_string_equal(before, after);
	free(after);
	/* the certificate alone existing is refused too */
	assert_int_equal(unlink(path(f, ".key")), 0);
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "console.pem already exists"));
	/* --force replaces both, with a new key, mode 0600 */
	f->req.force = 1;
	make(f, 0);
	assert_int_equal(read_small_file(path(f, ".key"), &after, NULL, 65536), 0);
	assert_string_not_equal(before, after);
	assert_int_equal(mode_of(path(f, ".key")), 0600);
	free(before);
	free(after);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	char err[1024], ca[128];
	int made;

	f->req.n_dns = 0;
	f->req.n_ips = 0;
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--dns NAME"));
	/* nothing was written, not even the CA */
	assert_int_equal(access(f->ca_dir, F_OK), -1);

	f->req.dns[0] = "10.1.2.3";
	f->req.n_dns = 1;
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "give it with --ip"));
	/* a comma would smuggle another name into the extension's text */
	f->req.dns[0] = "a.example,IP:192.0.2.1";
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a host name"));
	static const char *bad_dns[] = { "-a.example", "a..example", "a.example.", "a_b.example",
					 "a.*.example", "" };
	for (size_t i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++)
		assert_int_equal(server_cert_check_dns(bad_dns[i], err, sizeof(err)), -EINVAL);
	assert_int_equal(server_cert_check_dns("xn--bcher-kva.example", err, sizeof(err)), 0);
	assert_int_equal(server_cert_check_dns("localhost", err, sizeof(err)), 0);

	f->req.n_dns = 0;
	f->req.ips[0] = "console.example";
	f->req.n_ips = 1;
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "goes with --dns"));
	assert_int_equal(server_cert_check_ip("256.1.1.1", err, sizeof(err)), -EINVAL);
	assert_int_equal(server_cert_check_ip("fe80::1", err, sizeof(err)), 0);

	f->req.ips[0] = "192.0.2.1";
	f->req.days = 0;
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -EINVAL);
	f->req.days = SERVER_CERT_DAYS;

	/* half a CA: the remedy, not a new CA over the old key */
	assert_int_equal(mkdir(f->ca_dir, 0700), 0);
	snprintf(ca, sizeof(ca), "%s/ca.key", f->ca_dir);
	assert_int_equal(atomic_write_file(ca, "x", 1, 0600), 0);
	assert_int_equal(server_cert_make(&f->req, &made, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "holds ca.key but not ca.pem"));
	assert_int_equal(access(path(f, ".key"), F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sans_and_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
