/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which certificate of each machine may connect (docs/staging-console.md,
 * docs/security.md "Revocation"). The console's sync answers list, per
 * machine, the SHA-256 fingerprints of its current certificates (none once
 * it is deregistered). Until this staging server has received one list it
 * accepts every certificate the agent CA signed, as before there was a
 * console to ask; from the first list on it accepts only what the newest
 * list names, and keeps that list in a file so a restart keeps enforcing
 * it. Thread-safe: sessions check, the sync thread applies.
 */
#ifndef LIVEMIG_STAGING_REVOCATION_H
#define LIVEMIG_STAGING_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* How long a refused connection waits for a fresher list (a machine that
 * registered again since the last sync connects with its new certificate
 * at once and must not be refused for being quicker than the sync). */
#define REVOCATION_REFRESH_WAIT_MS 5000

/* Load the persisted list from path, if it exists (then enforcing). 0, or
 * -errno with err for a file that exists and cannot be read or parsed:
 * staging must not silently stop enforcing. */
int revocation_init(const char *path, char *err, size_t errlen);
void revocation_shutdown(void);

/* Replace the list with machines ({"NAME": ["hex", ...], ...}), written to
 * the file first (atomically), so what is enforced is what a restart
 * loads. 0 or -errno with err. */
int revocation_apply(const json_t *machines, int64_t received_at, char *err, size_t errlen);

/* Whether fingerprint may speak for machine by the current list (always
 * 1 before any list). Never waits. */
int revocation_check(const char *machine, const char *fingerprint);
/* revocation_check, and when it refuses, ask for a fresh list (through
 * the refresher) and check again once it arrives, waiting at most
 * REVOCATION_REFRESH_WAIT_MS. For new connections. */
int revocation_allows(const char *machine, const char *fingerprint);
/* Bumped by every new list: a session compares it between frames and
 * checks again when it moved. */
uint64_t revocation_generation(void);
/* Whether a list was ever received (enforcing). */
int revocation_enforcing(void);

/* The sync thread registers how to ask it for a sync now. */
void revocation_set_refresher(void (*refresh)(void));

#endif
