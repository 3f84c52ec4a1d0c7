/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Staging servers known to the console (docs/staging-console.md). Each
 * authenticates its sync calls with a bearer secret the console issued
 * (`admin add-staging NAME`), stored only as its SHA-256 like agent secrets.
 * A removed staging server keeps its row (its points and jobs refer to it)
 * but its secret is refused.
 */
#ifndef LIVEMIG_CONSOLE_STAGING_SERVERS_H
#define LIVEMIG_CONSOLE_STAGING_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "db.h"

#define STAGING_PREFIX "lmg_" /* a staging server's bearer secret */

struct staging_ref {
	int64_t ref;
	char name[64];
};

/* A new staging server; its secret (STAGING_PREFIX + 64 hex) into secret.
 * -EEXIST if the name is taken (even by a removed one). */
int staging_add(struct db *db, const char *name, int64_t now, char secret[SECRET_STR_MAX]);
/* Refuse its secret from now on. -ENOENT if no such active server. */
int staging_remove(struct db *db, const char *name, int64_t now);
/* The active staging server this secret belongs to; -ENOENT if none. */
int staging_by_secret(struct db *db, const char *secret, struct staging_ref *out);
/* Record a sync: when, its version, its store's space and the address
 * agents reach it at (NULL: keep the last one). */
int staging_synced(struct db *db, int64_t ref, int64_t now, const char *version,
		   int64_t free_bytes, int64_t total_bytes, const char *advertise);
/* What staging servers enforce (docs/staging-console.md): {"MACHINE":
 * ["sha256 hex", ...], ...} for every machine the console has: its current
 * certificate while registered, none once deregistered. */
int staging_certificates_json(struct db *db, json_t **out);
/* [{"name", "created", "last_sync", "version", "free_bytes", "total_bytes",
 *   "removed", "machines" (it reports storing), "advertise", "draining"
 *   (since; null), "placed" (registered machines placed there), "moving"
 *   (machines a drain or pin moved away that their new server does not
 *   report yet)}] */
int staging_list_json(struct db *db, json_t **out);

#endif
