// SPDX-License-Identifier: GPL-2.0-or-later
/* EC P-256 key, PKCS#10 request and the check of the certificate we get back. */
#include "install_csr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conn.h"

void csr_free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}


/* The BIO's contents as a malloc'd string. */
static char *bio_string(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n < 0 || !(out = malloc((size_t)n + 1)))
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

int csr_make(const char *cn, char **key_pem, char **csr_pem, char *err, size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *kb = BIO_new(BIO_s_mem()), *rb = BIO_new(BIO_s_mem());
	int rc = -EIO;

	*key_pem = *csr_pem = NULL;
	if (!key || !req || !name || !kb || !rb) {
		tls_error(err, errlen, "cannot make an EC P-256 key");
		goto out;
	}
	/* The console writes the CN itself; we ask for the same so the
	 * request is truthful on its own. */
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, key) || !X509_REQ_sign(req, key, EVP_sha256())) {
		tls_error(err, errlen, "cannot make the certificate request");
		goto out;
	}
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509_REQ(rb, req)) {
		tls_error(err, errlen, "cannot encode the key and request");
		goto out;
	}
	*key_pem = bio_string(kb);
	*csr_pem = bio_string(rb);
	if (!*key_pem || !*csr_pem) {
		snprintf(err, errlen, "out of memory");
		csr_free_secret(*key_pem);
		free(*csr_pem);
		*key_pem = *csr_pem = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	/* the memory BIO held the private key: wipe it before freeing */
	if (kb) {
		char *data;
		long n = BIO_get_mem_data(kb, &data);

		if (n > 0)
			OPENSSL_cleanse(data, (size_t)n);
	}
	BIO_free(kb);
	BIO_free(rb);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

int csr_cert_matches(const char *cert_pem, const char *key_pem, const char *cn, char *err,
		     size_t errlen)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	char got[128] = "";
	int rc = -EINVAL;

	if (!cert) {
		tls_error(err, errlen, "the console's certificate does not parse");
		goto out;
	}
	if (!key) {
		tls_error(err, errlen, "our key does not parse");
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "the console's certificate is not for the key we sent");
		goto out;
	}
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, got, sizeof(got));
	if (strcmp(got, cn)) {
		snprintf(err, errlen, "the console's certificate names CN=%s, not %s", got, cn);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}
