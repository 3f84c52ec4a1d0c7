/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TLS certificates of the target side's servers (the console's HTTPS,
 * staging's listener), signed by a server CA of their own that agents are
 * told to trust (the installer's console_ca, the console's --staging-ca).
 * The server CA is not the agent CA: a certificate from one never passes for
 * the other's.
 */
#ifndef LIVEMIG_CONSOLE_SERVER_CERT_H
#define LIVEMIG_CONSOLE_SERVER_CERT_H

#include <stddef.h>
#include <sys/types.h>

#define SERVER_CERT_DAYS     825  /* default validity; --days */
#define SERVER_CERT_MAX_DAYS 3650 /* not beyond the CA's own ten years */
#define SERVER_CERT_MAX_NAMES 32

struct server_cert_req {
	const char *ca_dir;   /* DIR/ca.pem + DIR/ca.key; created when both are missing */
	const char *prefix;   /* writes PREFIX.pem, PREFIX.key, PREFIX-ca.pem */
	const char *dns[SERVER_CERT_MAX_NAMES];
	size_t n_dns;
	const char *ips[SERVER_CERT_MAX_NAMES];
	size_t n_ips;
	int days;
	int force;            /* replace an existing PREFIX.key / PREFIX.pem */
	uid_t uid;            /* owner of PREFIX.key and PREFIX.pem; (uid_t)-1: root's */
	gid_t gid;
};

/* Check one name before anything is written: 0, or -EINVAL with why (an IP
 * given as a DNS name, a character a host name cannot hold...). */
int server_cert_check_dns(const char *name, char *why, size_t whylen);
int server_cert_check_ip(const char *addr, char *why, size_t whylen);

/*
 * Make PREFIX.key (EC P-256, mode 0600), PREFIX.pem (the certificate, then
 * the CA's: the chain a server sends) and PREFIX-ca.pem (the CA alone, mode
 * 0644: what clients trust). The certificate: CN = the first DNS name (else
 * the first IP), subjectAltName = every name and address, serverAuth only,
 * valid req->days from five minutes ago. Refuses (-EEXIST) to replace
 * PREFIX.key or PREFIX.pem unless req->force. *made_ca is set when the CA
 * was created by this call. 0 or -errno with err, which says what to do.
 */
int server_cert_make(const struct server_cert_req *req, int *made_ca, char *err,
		     size_t errlen);

#endif
