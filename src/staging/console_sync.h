/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The staging server's side of the channel to livemig-console
 * (docs/staging-console.md): a thread that POSTs /api/v1/staging/sync
 * every interval, and at once when asked (a refused certificate, a job
 * that ended), with the machines of the store, their recovery points, the
 * free space and the jobs' progress; the answer brings the certificate
 * list (revocation.h) and the jobs (jobs.h). HTTPS with libcurl: the
 * console's certificate verified against the configured CA only, the
 * staging secret as a bearer token, no proxy.
 */
#ifndef LIVEMIG_STAGING_CONSOLE_SYNC_H
#define LIVEMIG_STAGING_CONSOLE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#define SYNC_INTERVAL_DEFAULT_NS (2ull * 1000000000ull)
#define SYNC_MIN_GAP_NS          (500ull * 1000000ull) /* between two syncs, however asked */
#define SYNC_CONNECT_TIMEOUT_MS  5000
#define SYNC_REQUEST_TIMEOUT_MS  10000
#define SYNC_SECRET_MAX          255

struct console_sync_config {
	const char *url;        /* https://HOST:PORT of the console */
	const char *ca;         /* PEM file of the CA that signed its certificate */
	const char *credential; /* file holding the secret from 'admin add-staging' */
	const char *store_dir;
	const char *advertise;  /* HOST:PORT agents reach this server at; NULL: none */
	uint64_t interval_ns;
};

/* Read the secret from path: a regular file of this user, mode 0600 or
 * stricter, 1..255 printable characters. 0 or -errno with err. */
int console_secret_read(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* Check the configuration and start the thread. 0 or -errno with err. */
int console_sync_start(const struct console_sync_config *cfg, char *err, size_t errlen);
/* Ask for a sync as soon as the minimum gap allows. Any thread. */
void console_sync_now(void);
/* Stop the thread (a request in flight gives up within about a second). */
void console_sync_stop(void);

#endif
