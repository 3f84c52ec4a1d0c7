/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Registered machines and their status in the database. A machine holds
 * one of its account's licenses from registration until deregistration
 * (deregistered_at set); the row stays afterwards so its history and a
 * later re-registration keep the same record.
 */
#ifndef LIVEMIG_CONSOLE_MACHINES_H
#define LIVEMIG_CONSOLE_MACHINES_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

struct console;

#define MACHINE_STATE_REGISTERED   "REGISTERED"
#define MACHINE_STATE_DEREGISTERED "DEREGISTERED"
#define MACHINE_STATE_DISCONNECTED "DISCONNECTED"

struct machine_ref {
	int64_t ref;        /* row id */
	int64_t account_id;
	int64_t deregistered_at; /* 0: active */
	char machine_id[64];
};

struct machine_reg {
	int64_t account_id;
	const char *machine_id;
	const char *identity_source;
	const char *identity_value;
	const char *hostname;
	const char *inventory;       /* JSON text */
	const char *cert_serial;
	const char *cert_fingerprint;
	const char *agent_secret_hash;
};

int machine_lookup(struct db *db, const char *machine_id, struct machine_ref *out); /* -ENOENT */
/* The machine whose agent secret this is: -ENOENT if none. */
int machine_by_secret(struct db *db, const char *secret, struct machine_ref *out);
/* Insert (existing == 0) or overwrite row `existing` as a fresh
 * registration: active, state REGISTERED, last_seen now. */
int machine_save(struct db *db, const struct machine_reg *m, int64_t existing, int64_t now);
/* Whether a registration request proves it comes from the machine already
 * registered as row ref: its current agent secret and the same identity.
 * 0 when it does, -EACCES when not, or another -errno. */
int machine_same(struct db *db, int64_t ref, const char *agent_secret, const char *id_source,
		 const char *id_value);
/* One line in the machine's events (its status history) that is not a
 * heartbeat: {"reason": what} under state. */
int machine_event(struct db *db, int64_t ref, const char *state, const char *what, int64_t now);
/* Free the license; a no-op on a deregistered machine. */
int machine_deregister(struct db *db, int64_t ref, int64_t now);
/* An operator removes the machine: its license is freed (and so its
 * certificate leaves the list staging enforces) and who did it is kept in
 * its events, which the heartbeat's 410 answer quotes to the agent. `by` is
 * "alice@acme" or "livemig-console admin". *removed: 1 when this call
 * removed it, 0 when it was already deregistered (nothing changes). */
#define MACHINE_REMOVED_REASON "removed by the console operator"
int machine_remove(struct db *db, int64_t ref, const char *by, int64_t now, int *removed);
/* Who removed a deregistered machine (machine_remove's `by`), or "" when
 * its own agent deregistered it. */
int machine_removed_by(struct db *db, int64_t ref, char *by, size_t n);
/* A machine's status history holds at most this many bytes of documents
 * (and at most `keep` rows): a flood of large heartbeats cannot fill the
 * database. */
#define HISTORY_BYTES_MAX (8 * 1024 * 1024)
/* Latest status, history row, last_seen and state; keeps the newest
 * `keep` history rows and at most HISTORY_BYTES_MAX bytes. */
int machine_status_store(struct db *db, int64_t ref, const char *doc, const char *state,
			 int64_t now, unsigned keep);

/* Operator views (machines_view.c). The state shown is DISCONNECTED when
 * the last heartbeat is older than timeout_s. */
int machines_list_json(struct db *db, int64_t account_id, unsigned timeout_s, int64_t now,
		       json_t **out);
int machine_detail_json(struct db *db, int64_t account_id, const char *machine_id,
			unsigned timeout_s, int64_t now, unsigned history, json_t **out);
/* host, OS, kernel, cores, memory and disks out of an inventory document. */
json_t *inventory_summary(const json_t *inventory);

#endif
