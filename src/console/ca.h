/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent CA: the console signs each registered agent's certificate with
 * it, and staging trusts it (staging's --ca), so a certificate from here is
 * what lets an agent write its machine's volumes and nothing else.
 * The same code loads, creates and signs with the server CA (the one that
 * signs the console's and staging's TLS certificates, server_cert.h): a CA
 * is a CA; what it certifies is the caller's.
 */
#ifndef LIVEMIG_CONSOLE_CA_H
#define LIVEMIG_CONSOLE_CA_H

#include <stddef.h>

#include <openssl/x509.h>

#define CERT_VALID_DAYS 365
#define CSR_PEM_MAX     16384

struct agent_ca;

struct signed_cert {
	char *pem;              /* malloc'd */
	char serial_hex[41];    /* up to 20 bytes */
	char fingerprint_hex[65]; /* SHA-256 of the DER certificate */
};

/* Load the CA certificate and its private key (PEM files); checks they
 * belong together and that the certificate is a CA. 0 or -errno with err. */
int agent_ca_load(const char *cert_path, const char *key_path, struct agent_ca **out,
		  char *err, size_t errlen);
void agent_ca_free(struct agent_ca *ca);

/* Check a PEM CSR: parses, its signature verifies with its own key, and the
 * key is one we sign (EC P-256/P-384/P-521, RSA >= 2048, Ed25519).
 * 0 or -EINVAL with why. */
int csr_check(const char *csr_pem, char *why, size_t whylen);
/* Sign a checked CSR for machine_id: subject CN = machine_id (whatever the
 * CSR asked for), random serial, CERT_VALID_DAYS, clientAuth only.
 * 0 or -errno; out->pem freed by signed_cert_clear. */
int agent_ca_sign(struct agent_ca *ca, const char *csr_pem, const char *machine_id,
		  struct signed_cert *out, char *why, size_t whylen);
void signed_cert_clear(struct signed_cert *c);

/* Issue x as ca: x holds its subject, public key, validity, serial and
 * own extensions; this sets the issuer and the authority key identifier
 * and signs. 0 or -errno with why. */
int agent_ca_issue(struct agent_ca *ca, X509 *x, char *why, size_t whylen);
/* The CA's own certificate, PEM, malloc'd; NULL when out of memory. */
char *agent_ca_cert_pem(struct agent_ca *ca);

/* The parts every certificate made here shares: a random positive 127-bit
 * serial (RFC 5280 4.1.2.2), and one extension from its OpenSSL config text
 * (issuer = x for a self-signed certificate). 0 or -errno. */
int ca_x509_serial(X509 *x);
int ca_x509_ext(X509 *issuer, X509 *x, int nid, const char *value);

/* Create DIR/ca.key (0600) and DIR/ca.pem: an EC P-256 CA valid 10 years.
 * Refuses to overwrite either. 0 or -errno with err. */
int agent_ca_init(const char *dir, const char *cn, char *err, size_t errlen);

#endif
