// SPDX-License-Identifier: GPL-2.0-or-later
/* `admin init-ca DIR`: a new agent CA, key 0600 (ca.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic_file.h"
#include "ca.h"

#define CA_VALID_DAYS 3650

static int bio_text(BIO *b, char **out, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return -ENOMEM;
	*out = data;
	*len = (size_t)n;
	return 0;
}

static int make_ca_cert(EVP_PKEY *key, const char *cn, X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	int rc = -ENOMEM;

	if (!x || !name || ca_x509_serial(x) || !X509_set_version(x, 2) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CA_VALID_DAYS, 0, NULL) ||
	    !X509_set_pubkey(x, key))
		goto out;
	/* pathlen:0: it signs leaf certificates (agents' or servers'), never
	 * another CA. */
	if ((rc = ca_x509_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) ||
	    (rc = ca_x509_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign")) ||
	    (rc = ca_x509_ext(x, x, NID_subject_key_identifier, "hash")) ||
	    (rc = ca_x509_ext(x, x, NID_authority_key_identifier, "keyid:always")))
		goto out;
	rc = X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -EIO;
out:
	X509_NAME_free(name);
	if (rc)
		X509_free(x);
	else
		*out = x;
	return rc;
}

int agent_ca_init(const char *dir, const char *cn, char *err, size_t errlen)
{
	char key_path[4096], cert_path[4096];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *text;
	size_t len;
	int rc;

	if (snprintf(key_path, sizeof(key_path), "%s/ca.key", dir) >= (int)sizeof(key_path) ||
	    snprintf(cert_path, sizeof(cert_path), "%s/ca.pem", dir) >= (int)sizeof(cert_path)) {
		snprintf(err, errlen, "directory name too long");
		return -ENAMETOOLONG;
	}
	if (!access(key_path, F_OK) || !access(cert_path, F_OK)) {
		snprintf(err, errlen,
			 "%s already holds a CA (ca.key or ca.pem): refusing to replace it, since "
			 "every agent certificate it signed would stop being trusted; "
			 "choose another directory or remove the old CA yourself", dir);
		return -EEXIST;
	}
	/* The key's directory is private unless it existed already. */
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s%s", dir, strerror(-rc),
			 rc == -ENOENT ? " (create its parent directory first)" : "");
		return rc;
	}
	rc = -ENOMEM;
	key = EVP_EC_gen("P-256");
	if (!key)
		goto fail;
	rc = make_ca_cert(key, cn, &cert);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, cert))
		goto fail;
	if ((rc = bio_text(kb, &text, &len)))
		goto fail;
	rc = atomic_write_file(key_path, text, len, 0600);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", key_path, strerror(-rc));
		goto out;
	}
	if ((rc = bio_text(cb, &text, &len)))
		goto fail;
	rc = atomic_write_file(cert_path, text, len, 0644);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", cert_path, strerror(-rc));
		unlink(key_path);
	}
	goto out;
fail:
	ERR_clear_error();
	snprintf(err, errlen, "cannot create the CA key and certificate: %s", strerror(-rc));
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
