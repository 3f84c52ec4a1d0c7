/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which staging server each machine replicates to (docs/staging-placement.md).
 * The one owner of machines.staging_ref and of the drain: registration,
 * pins and drains all go through here, inside the caller's transaction
 * (db_begin), so that placements made one after another see each other.
 */
#ifndef LIVEMIG_CONSOLE_PLACEMENT_H
#define LIVEMIG_CONSOLE_PLACEMENT_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

/* A server that has not synced for this long gets no new machines. */
#define PLACEMENT_FRESH_S 120

struct placement {
	int64_t ref;        /* the staging server; 0: placed nowhere */
	char server[64];
	char address[272];  /* where agents connect (its advertise) */
	int pinned;
	char moving_from[64]; /* "" unless a drain or pin moved it and its new
			       * server has not reported storing it yet */
};

/* The placeable server a new machine would go to; -ENOENT if none. */
int placement_choose(struct db *db, int64_t now, struct placement *out);
/* At registration: keep the machine's server while it is placeable or the
 * machine is pinned there, else place it anew. 0 with out->ref 0 when no
 * server is placeable. */
int placement_assign(struct db *db, int64_t machine_ref, int64_t now, struct placement *out);
/* Where the machine is placed (out->ref 0: nowhere). */
int placement_get(struct db *db, int64_t machine_ref, struct placement *out);
/* An operator pins a registered machine (its machine id) on a server. 0, or
 * -ENOENT (no such registered machine), -ESRCH (no such active server),
 * -EBUSY (the server is draining), -EADDRNOTAVAIL (it advertises no
 * address). */
int placement_pin(struct db *db, const char *machine_id, const char *server, int64_t now,
		  struct placement *out);
/* Drop the pin; the machine stays where it is. -ENOENT: no such machine. */
int placement_unpin(struct db *db, const char *machine_id);
/* Stop placing on server and place each of its registered machines anew
 * among the others. *moved: how many. -ESRCH (no such active server),
 * -EALREADY (draining already), -ENOSPC (a machine found no other
 * server: the caller rolls back, nothing changed). */
int placement_drain(struct db *db, const char *server, const char *by, int64_t now,
		    unsigned *moved);
/* Placeable again; machines do not move back. -ESRCH, -EALREADY (not
 * draining). */
int placement_undrain(struct db *db, const char *server);
/* The server staging_ref reported what it stores: the machines placed on
 * it that it stores have arrived. */
int placement_arrived(struct db *db, int64_t staging_ref);
/* How many registered machines are placed on the server named name (0
 * when there is no such server). */
int placement_count(struct db *db, const char *name, int64_t *n);
/* {"server", "pinned", "moving_from"} or null for the machine row ref. */
int placement_json(struct db *db, int64_t machine_ref, json_t **out);
/* [{"machine", "hostname", "server", "pinned", "moving_from"}] for every
 * registered machine, by machine id. */
int placement_list_json(struct db *db, json_t **out);

#endif
