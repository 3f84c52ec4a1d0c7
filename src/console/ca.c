// SPDX-License-Identifier: GPL-2.0-or-later
/* The agent CA: loading, CSR checks, signing, and creating a new CA (ca.h). */
#include "ca.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util.h"

struct agent_ca {
	X509 *cert;
	EVP_PKEY *key;
	/* Signing is a millisecond; a lock spares us relying on which
	 * OpenSSL objects may be shared between threads. */
	pthread_mutex_t mu;
};

static void ssl_why(char *why, size_t n, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(why, n, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static int read_pem_file(const char *path, int want_key, void **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	void *obj;

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	obj = want_key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
		       : (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!obj) {
		char what[512];

		snprintf(what, sizeof(what), "%s is not a PEM %s", path,
			 want_key ? "private key (unencrypted)" : "certificate");
		ssl_why(err, errlen, what);
		return -EINVAL;
	}
	*out = obj;
	return 0;
}

int agent_ca_load(const char *cert_path, const char *key_path, struct agent_ca **out,
		  char *err, size_t errlen)
{
	struct agent_ca *ca = calloc(1, sizeof(*ca));
	void *obj = NULL;
	int rc;

	if (!ca)
		return -ENOMEM;
	pthread_mutex_init(&ca->mu, NULL);
	rc = read_pem_file(cert_path, 0, &obj, err, errlen);
	if (rc)
		goto fail;
	ca->cert = obj;
	rc = read_pem_file(key_path, 1, &obj, err, errlen);
	if (rc)
		goto fail;
	ca->key = obj;
	rc = -EINVAL;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s is not the private key of %s", key_path, cert_path);
		goto fail;
	}
	if (X509_check_ca(ca->cert) < 1) {
		snprintf(err, errlen,
			 "%s is not a CA certificate (create one with `livemig-console admin init-ca DIR`)",
			 cert_path);
		goto fail;
	}
	*out = ca;
	return 0;
fail:
	agent_ca_free(ca);
	return rc;
}

void agent_ca_free(struct agent_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	pthread_mutex_destroy(&ca->mu);
	free(ca);
}

static X509_REQ *csr_parse(const char *pem, char *why, size_t whylen)
{
	BIO *b;
	X509_REQ *req;

	if (strlen(pem) > CSR_PEM_MAX) {
		snprintf(why, whylen, "the CSR is larger than %d bytes", CSR_PEM_MAX);
		return NULL;
	}
	b = BIO_new_mem_buf(pem, -1);
	if (!b) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!req)
		ssl_why(why, whylen, "the CSR is not a PEM certificate request");
	return req;
}

static int key_acceptable(EVP_PKEY *key, char *why, size_t whylen)
{
	int bits = EVP_PKEY_get_bits(key);

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (bits >= 256)
			return 0;
		break;
	case EVP_PKEY_RSA:
		if (bits >= 2048)
			return 0;
		break;
	case EVP_PKEY_ED25519:
		return 0;
	default:
		break;
	}
	snprintf(why, whylen,
		 "the CSR's key (%s, %d bits) is not one we sign: use EC P-256 or larger, "
		 "RSA 2048 or larger, or Ed25519", EVP_PKEY_get0_type_name(key), bits);
	return -EINVAL;
}

static int csr_verify(X509_REQ *req, char *why, size_t whylen)
{
	EVP_PKEY *key = X509_REQ_get0_pubkey(req);

	if (!key) {
		ssl_why(why, whylen, "the CSR has no usable public key");
		return -EINVAL;
	}
	if (X509_REQ_verify(req, key) != 1) {
		ssl_why(why, whylen, "the CSR's signature does not verify");
		return -EINVAL;
	}
	return key_acceptable(key, why, whylen);
}

int csr_check(const char *csr_pem, char *why, size_t whylen)
{
	X509_REQ *req = csr_parse(csr_pem, why, whylen);
	int rc;

	if (!req)
		return -EINVAL;
	rc = csr_verify(req, why, whylen);
	X509_REQ_free(req);
	return rc;
}

int ca_x509_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	raw[0] &= 0x7f;
	raw[0] |= 0x01;
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

int ca_x509_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

static int set_cn(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					  -1, -1, 0) ? 0 : -EINVAL;
}

static const EVP_MD *sign_md(EVP_PKEY *key)
{
	/* Ed25519 signs the message itself and takes no digest. */
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, x)) {
		n = BIO_get_mem_data(b, &data);
		pem = n > 0 ? strndup(data, (size_t)n) : NULL;
	}
	BIO_free(b);
	return pem;
}

int agent_ca_issue(struct agent_ca *ca, X509 *x, char *why, size_t whylen)
{
	int rc;

	if (!X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    ca_x509_ext(ca->cert, x, NID_authority_key_identifier, "keyid:always")) {
		ssl_why(why, whylen, "cannot set the issuer");
		return -ENOMEM;
	}
	pthread_mutex_lock(&ca->mu);
	rc = X509_sign(x, ca->key, sign_md(ca->key)) > 0 ? 0 : -EIO;
	pthread_mutex_unlock(&ca->mu);
	if (rc)
		ssl_why(why, whylen, "signing failed");
	return rc;
}

char *agent_ca_cert_pem(struct agent_ca *ca)
{
	return cert_pem(ca->cert);
}

int agent_ca_sign(struct agent_ca *ca, const char *csr_pem, const char *machine_id,
		  struct signed_cert *out, char *why, size_t whylen)
{
	X509_REQ *req = csr_parse(csr_pem, why, whylen);
	X509 *x = NULL;
	X509_NAME *subject = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char *serial = NULL;
	BIGNUM *bn = NULL;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!req)
		return -EINVAL;
	rc = csr_verify(req, why, whylen);
	if (rc)
		goto out;
	rc = -ENOMEM;
	x = X509_new();
	subject = X509_NAME_new();
	if (!x || !subject || !X509_set_version(x, 2))
		goto out;
	if ((rc = ca_x509_serial(x)) || (rc = set_cn(subject, machine_id)))
		goto out;
	rc = -ENOMEM;
	if (!X509_set_subject_name(x, subject) ||
	    /* five minutes back: an agent whose clock is a little behind
	     * must not see a certificate from the future */
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CERT_VALID_DAYS, 0, NULL) ||
	    !X509_set_pubkey(x, X509_REQ_get0_pubkey(req)))
		goto out;
	/* The CSR's own extensions are ignored: the agent asks for a key to be
	 * certified, the console decides what the certificate allows. */
	if ((rc = ca_x509_ext(ca->cert, x, NID_basic_constraints, "critical,CA:FALSE")) ||
	    (rc = ca_x509_ext(ca->cert, x, NID_key_usage, "critical,digitalSignature")) ||
	    (rc = ca_x509_ext(ca->cert, x, NID_ext_key_usage, "clientAuth")) ||
	    (rc = ca_x509_ext(ca->cert, x, NID_subject_key_identifier, "hash")) ||
	    (rc = agent_ca_issue(ca, x, why, whylen)))
		goto out;
	rc = -ENOMEM;
	if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32)
		goto out;
	hex_encode(md, mdlen, out->fingerprint_hex);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	serial = bn ? BN_bn2hex(bn) : NULL;
	if (!serial || strlen(serial) >= sizeof(out->serial_hex))
		goto out;
	for (size_t i = 0; serial[i]; i++)
		out->serial_hex[i] = (char)tolower((unsigned char)serial[i]);
	out->pem = cert_pem(x);
	if (!out->pem)
		goto out;
	rc = 0;
out:
	if (rc)
		ERR_clear_error();
	X509_NAME_free(subject);
	X509_free(x);
	X509_REQ_free(req);
	OPENSSL_free(serial);
	BN_free(bn);
	if (rc)
		signed_cert_clear(out);
	return rc;
}

void signed_cert_clear(struct signed_cert *c)
{
	free(c->pem);
	memset(c, 0, sizeof(*c));
}
