/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's key and certificate request. The key is made here and never
 * leaves the machine; the console signs the CSR with the agent CA, which is
 * what staging trusts, and names the certificate after the machine id.
 */
#ifndef LIVEMIG_INSTALL_CSR_H
#define LIVEMIG_INSTALL_CSR_H

#include <stddef.h>

/*
 * A fresh EC P-256 key (PKCS#8 PEM) and a CSR for CN=cn signed with it
 * (PEM). Both malloc'd; free key_pem with csr_free_secret(). 0 or -errno
 * with a message in err.
 */
int csr_make(const char *cn, char **key_pem, char **csr_pem, char *err, size_t errlen);

/* 0 if cert_pem is a certificate for key_pem's public key with subject
 * CN=cn; -EINVAL with the reason in err otherwise. */
int csr_cert_matches(const char *cert_pem, const char *key_pem, const char *cn, char *err,
		     size_t errlen);

/* Wipe and free a string holding a secret (key, token, password). */
void csr_free_secret(char *s);

#endif
