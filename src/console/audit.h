/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit log (docs/console-api.md, "Audit log"): one record per
 * state-changing action, written by the caller inside the transaction that
 * makes the change, so a change and its record commit or vanish together.
 * A refused or failed action changes nothing and writes no record.
 * Records are pruned by count (per account) and by age (audit_prune); the
 * clock is always the caller's `now`, so tests inject it.
 */
#ifndef LIVEMIG_CONSOLE_AUDIT_H
#define LIVEMIG_CONSOLE_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

#define AUDIT_ACTOR_MAX  256
#define AUDIT_FROM_LOCAL "local"    /* the admin command, on the console's host */
#define AUDIT_CONSOLE    "console"  /* the console's own bounded waits */

/* serve's defaults (--audit-keep, --audit-max-age) */
#define AUDIT_KEEP_DEFAULT      50000
#define AUDIT_MAX_AGE_DEFAULT_S (400LL * 86400)
#define AUDIT_LIST_DEFAULT      50
#define AUDIT_LIST_MAX          500

/* Who acted and from where. */
struct audit_who {
	char actor[AUDIT_ACTOR_MAX]; /* alice@acme, livemig-console admin (root), agent ID, console */
	char role[16];               /* admin operator viewer, "" for non-users */
	char from[64];               /* the client's address, or "local" */
};

/* What was done. account_id 0: console-wide (staging servers);
 * machine_ref 0: not about one machine. */
struct audit_rec {
	int64_t account_id;
	int64_t machine_ref;
	const char *action;   /* a stable name: token.create, machine.remove, ... */
	const char *target;   /* what it was done to, e.g. "token 4"; NULL: the machine */
	const json_t *detail; /* an object, or NULL for {} */
};

/* Append one record (in the caller's transaction). 0 or -errno. */
int audit_write(struct db *db, const struct audit_who *w, const struct audit_rec *r, int64_t now);

struct audit_retention {
	int64_t keep;      /* records kept per account (console-wide ones count as one) */
	int64_t max_age_s; /* records older than this are removed */
};
/* Remove what retention no longer keeps: records older than max_age_s,
 * and all but the newest `keep` of account_id's (0: the console-wide
 * records; -1: every account's). *removed (may be NULL): how many. */
int audit_prune(struct db *db, int64_t account_id, const struct audit_retention *ret, int64_t now,
		int64_t *removed);

/* A query of one account's records (account_id 0: the console-wide ones). */
struct audit_query {
	int64_t account_id;
	int64_t machine_ref;  /* 0: any */
	const char *actor;    /* exact; NULL: any */
	const char *action;   /* exact, or a prefix ending in '.' ("lifecycle."); NULL: any */
	int64_t since;        /* at >= since; 0: no bound */
	int64_t until;        /* at < until; 0: no bound */
	int64_t cursor;       /* only ids below it (the previous page's next_cursor); 0: newest */
	unsigned limit;       /* 1..AUDIT_LIST_MAX */
};
/* The matching records, newest first, as a JSON array; *next_cursor: the
 * cursor for the next page, 0 when this page is the last. */
int audit_list_json(struct db *db, const struct audit_query *q, json_t **out, int64_t *next_cursor);

#endif
