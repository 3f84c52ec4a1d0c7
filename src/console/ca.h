/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent CA: the console signs each registered agent's certificate with
 * it, and staging trusts it (staging's --ca), so a certificate from here is
 * what lets an agent write its machine's volumes and nothing else.
 */
#ifndef LIVEMIG_CONSOLE_CA_H
#define LIVEMIG_CONSOLE_CA_H

#include <stddef.h>

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

/* Create DIR/ca.key (0600) and DIR/ca.pem: an EC P-256 CA valid 10 years.
 * Refuses to overwrite either. 0 or -errno with err. */
int agent_ca_init(const char *dir, const char *cn, char *err, size_t errlen);

#endif
