// SPDX-License-Identifier: GPL-2.0-or-later
/* A server's TLS key and certificate from the server CA (server_cert.h). */
#include "server_cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic_file.h"
#include "ca.h"

#define SERVER_CA_CN "livemig server CA"

static int is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 1123 host names, with an optional leading "*." (a wildcard). Nothing
 * else may reach the extension's configuration text, where a comma would
 * start another name. */
int server_cert_check_dns(const char *name, char *why, size_t whylen)
{
	const char *p = name;
	size_t n = strlen(name);

	if (is_ip(name)) {
		snprintf(why, whylen, "'%s' is an IP address: give it with --ip", name);
		return -EINVAL;
	}
	if (n == 0 || n > 253)
		goto bad;
	if (!strncmp(p, "*.", 2))
		p += 2;
	for (;;) {
		size_t len = 0;

		while (p[len] && p[len] != '.') {
			char c = p[len];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				goto bad;
			len++;
		}
		if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
			goto bad;
		if (!p[len])
			return 0;
		p += len + 1;
	}
bad:
	snprintf(why, whylen,
		 "'%s' is not a host name (letters, digits and '-' in dot-separated labels of at "
		 "most 63 characters, optionally starting with '*.')", name);
	return -EINVAL;
}

int server_cert_check_ip(const char *addr, char *why, size_t whylen)
{
	if (is_ip(addr))
		return 0;
	snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address (a host name goes with --dns)",
		 addr);
	return -EINVAL;
}

static int check_names(const struct server_cert_req *r, char *err, size_t errlen)
{
	int rc;

	if (r->n_dns + r->n_ips == 0) {
		snprintf(err, errlen,
			 "no name: give every name agents use to reach this server, as --dns NAME "
			 "and --ip ADDRESS (each may repeat)");
		return -EINVAL;
	}
	for (size_t i = 0; i < r->n_dns; i++)
		if ((rc = server_cert_check_dns(r->dns[i], err, errlen)))
			return rc;
	for (size_t i = 0; i < r->n_ips; i++)
		if ((rc = server_cert_check_ip(r->ips[i], err, errlen)))
			return rc;
	if (r->days < 1 || r->days > SERVER_CERT_MAX_DAYS) {
		snprintf(err, errlen, "--days %d: give 1 to %d", r->days, SERVER_CERT_MAX_DAYS);
		return -EINVAL;
	}
	return 0;
}

/* The server CA: loaded, or made when DIR holds neither of its files. */
static int open_ca(const char *dir, struct agent_ca **ca, int *made, char *err, size_t errlen)
{
	char cert[4096], key[4096];
	int has_cert, has_key, rc;

	if (snprintf(cert, sizeof(cert), "%s/ca.pem", dir) >= (int)sizeof(cert) ||
	    snprintf(key, sizeof(key), "%s/ca.key", dir) >= (int)sizeof(key)) {
		snprintf(err, errlen, "--ca %s: name too long", dir);
		return -ENAMETOOLONG;
	}
	has_cert = !access(cert, F_OK);
	has_key = !access(key, F_OK);
	if (has_cert != has_key) {
		snprintf(err, errlen,
			 "%s holds %s but not %s: restore the missing file, or give another --ca "
			 "directory to start a new server CA", dir, has_cert ? "ca.pem" : "ca.key",
			 has_cert ? "ca.key" : "ca.pem");
		return -ENOENT;
	}
	if (!has_cert) {
		rc = agent_ca_init(dir, SERVER_CA_CN, err, errlen);
		if (rc)
			return rc;
		*made = 1;
	}
	return agent_ca_load(cert, key, ca, err, errlen);
}

static int build_cert(const struct server_cert_req *r, struct agent_ca *ca, EVP_PKEY *key,
		      X509 **out, char *err, size_t errlen)
{
	X509 *x = X509_new();
	X509_NAME *subject = X509_NAME_new();
	const char *cn = r->n_dns ? r->dns[0] : r->ips[0];
	char san[SERVER_CERT_MAX_NAMES * 2 * 260] = "";
	size_t used = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < r->n_dns + r->n_ips; i++) {
		int is_dns = i < r->n_dns;

		used += (size_t)snprintf(san + used, sizeof(san) - used, "%s%s:%s", used ? "," : "",
					 is_dns ? "DNS" : "IP",
					 is_dns ? r->dns[i] : r->ips[i - r->n_dns]);
	}
	if (!x || !subject || !X509_set_version(x, 2) || ca_x509_serial(x) ||
	    !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					-1, -1, 0) ||
	    !X509_set_subject_name(x, subject) ||
	    /* five minutes back, as for agents: a client a little behind */
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), r->days, 0, NULL) || !X509_set_pubkey(x, key))
		goto fail;
	if ((rc = ca_x509_ext(NULL, x, NID_basic_constraints, "critical,CA:FALSE")) ||
	    (rc = ca_x509_ext(NULL, x, NID_key_usage, "critical,digitalSignature")) ||
	    (rc = ca_x509_ext(NULL, x, NID_ext_key_usage, "serverAuth")) ||
	    (rc = ca_x509_ext(NULL, x, NID_subject_alt_name, san)) ||
	    (rc = ca_x509_ext(NULL, x, NID_subject_key_identifier, "hash")))
		goto fail;
	rc = agent_ca_issue(ca, x, err, errlen);
	if (rc)
		goto out;
	*out = x;
	x = NULL;
	goto out;
fail:
	ERR_clear_error();
	snprintf(err, errlen, "cannot make the certificate: %s", strerror(-rc));
out:
	X509_NAME_free(subject);
	X509_free(x);
	return rc;
}

static int write_pem(const char *path, const char *text, unsigned mode, uid_t uid, gid_t gid,
		     char *err, size_t errlen)
{
	int rc = atomic_write_file(path, text, strlen(text), mode);

	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s%s", path, strerror(-rc),
			 rc == -ENOENT ? " (create its directory first)" : "");
		return rc;
	}
	if (uid != (uid_t)-1 && chown(path, uid, gid)) {
		rc = -errno;
		snprintf(err, errlen, "cannot give %s to --owner: %s (run as root)", path,
			 strerror(-rc));
	}
	return rc;
}

static char *bio_strdup(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	return n > 0 ? strndup(data, (size_t)n) : NULL;
}

int server_cert_make(const struct server_cert_req *r, int *made_ca, char *err, size_t errlen)
{
	char key_path[4096], cert_path[4096], ca_path[4096];
	struct agent_ca *ca = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *key_pem = NULL, *chain = NULL, *ca_pem = NULL;
	int rc;

	*made_ca = 0;
	if ((rc = check_names(r, err, errlen)))
		return rc;
	if (snprintf(key_path, sizeof(key_path), "%s.key", r->prefix) >= (int)sizeof(key_path) ||
	    snprintf(cert_path, sizeof(cert_path), "%s.pem", r->prefix) >= (int)sizeof(cert_path) ||
	    snprintf(ca_path, sizeof(ca_path), "%s-ca.pem", r->prefix) >= (int)sizeof(ca_path)) {
		snprintf(err, errlen, "--out %s: name too long", r->prefix);
		return -ENAMETOOLONG;
	}
	if (!r->force && (!access(key_path, F_OK) || !access(cert_path, F_OK))) {
		snprintf(err, errlen,
			 "%s already exists: refusing to replace a server's key and certificate; "
			 "add --force to replace them (restart the server afterwards), or choose "
			 "another --out", !access(key_path, F_OK) ? key_path : cert_path);
		return -EEXIST;
	}
	if ((rc = open_ca(r->ca_dir, &ca, made_ca, err, errlen)))
		return rc;
	rc = -ENOMEM;
	key = EVP_EC_gen("P-256");
	if (!key) {
		snprintf(err, errlen, "cannot make an EC P-256 key");
		goto out;
	}
	if ((rc = build_cert(r, ca, key, &x, err, errlen)))
		goto out;
	rc = -ENOMEM;
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	ca_pem = agent_ca_cert_pem(ca);
	if (!kb || !cb || !ca_pem || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x) || BIO_puts(cb, ca_pem) <= 0 ||
	    !(key_pem = bio_strdup(kb)) || !(chain = bio_strdup(cb))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* the key first: a certificate is never left naming a key not on disk */
	if ((rc = write_pem(key_path, key_pem, 0600, r->uid, r->gid, err, errlen)) ||
	    (rc = write_pem(cert_path, chain, 0644, r->uid, r->gid, err, errlen)) ||
	    (rc = write_pem(ca_path, ca_pem, 0644, (uid_t)-1, (gid_t)-1, err, errlen)))
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	if (key_pem)
		OPENSSL_cleanse(key_pem, strlen(key_pem));
	free(key_pem);
	free(chain);
	free(ca_pem);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	agent_ca_free(ca);
	return rc;
}
