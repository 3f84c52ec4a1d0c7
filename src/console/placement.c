// SPDX-License-Identifier: GPL-2.0-or-later
/* Machines on staging servers: the choice, pins and drains (placement.h). */
#include "placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Registered machines placed on server s (the query's alias). */
#define PLACED_SQL                                                                           \
	"(SELECT COUNT(*) FROM machines pm WHERE pm.staging_ref = s.id AND"                  \
	" pm.deregistered_at IS NULL)"

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int placement_choose(struct db *db, int64_t now, struct placement *out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT s.id, s.name, s.advertise, s.free_bytes / (" PLACED_SQL " + 1)"
			    " AS share, " PLACED_SQL " AS placed FROM staging_servers s"
			    " WHERE s.removed_at IS NULL AND s.draining_at IS NULL"
			    " AND s.advertise IS NOT NULL AND s.free_bytes IS NOT NULL"
			    " AND s.last_sync_at >= ?"
			    " ORDER BY share DESC, placed ASC, s.id ASC LIMIT 1");

	if (rc)
		return rc;
	db_bind_int64(st, 1, now - PLACEMENT_FRESH_S);
	rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->ref = db_column_int64(st, 0);
		snprintf(out->server, sizeof(out->server), "%s", db_text(st, 1));
		snprintf(out->address, sizeof(out->address), "%s", db_text(st, 2));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "choosing a staging server");
	}
	db_finalize(st);
	return rc;
}

/* Place machine row ref on server to (0: nowhere); from: the server its
 * replica was on (0: none to move). */
static int place(struct db *db, int64_t ref, int64_t to, int pinned, int64_t from, int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE machines SET staging_ref = ?, staging_pinned = ?,"
			    " staging_placed_at = ?, staging_moved_from = ? WHERE id = ?");

	if (rc)
		return rc;
	if (to)
		db_bind_int64(st, 1, to);
	db_bind_int64(st, 2, pinned);
	db_bind_int64(st, 3, now);
	if (from && from != to)
		db_bind_int64(st, 4, from);
	db_bind_int64(st, 5, ref);
	return run(db, st, "placing a machine");
}

int placement_get(struct db *db, int64_t machine_ref, struct placement *out)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT s.id, s.name, s.advertise, m.staging_pinned, f.name FROM machines m"
			    " JOIN staging_servers s ON s.id = m.staging_ref"
			    " LEFT JOIN staging_servers f ON f.id = m.staging_moved_from"
			    " WHERE m.id = ? AND s.removed_at IS NULL");

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	db_bind_int64(st, 1, machine_ref);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->ref = db_column_int64(st, 0);
		snprintf(out->server, sizeof(out->server), "%s", db_text(st, 1));
		snprintf(out->address, sizeof(out->address), "%s", db_text(st, 2));
		out->pinned = db_column_int64(st, 3) != 0;
		snprintf(out->moving_from, sizeof(out->moving_from), "%s", db_text(st, 4));
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = 0;
	} else {
		rc = db_err(db, rc, "reading a machine's staging server");
	}
	db_finalize(st);
	return rc;
}

int placement_assign(struct db *db, int64_t machine_ref, int64_t now, struct placement *out)
{
	struct placement chosen;
	struct db_stmt *st;
	int64_t cur = 0;
	int keep = 0, pinned = 0;
	int rc = db_prepare(db, &st,
			    "SELECT m.staging_ref, m.staging_pinned, s.removed_at IS NULL AND"
			    " s.draining_at IS NULL AND s.advertise IS NOT NULL, s.removed_at IS NULL"
			    " FROM machines m JOIN staging_servers s ON s.id = m.staging_ref"
			    " WHERE m.id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	rc = db_step(st);
	if (rc == DB_ROW) {
		cur = db_column_int64(st, 0);
		pinned = db_column_int64(st, 1) != 0 && db_column_int64(st, 3) != 0;
		/* its replica is there: a registration again does not move it */
		keep = pinned || db_column_int64(st, 2) != 0;
		rc = 0;
	} else {
		rc = rc == DB_DONE ? 0 : db_err(db, rc, "reading a machine's staging server");
	}
	db_finalize(st);
	if (rc)
		return rc;
	if (!keep) {
		rc = placement_choose(db, now, &chosen);
		if (!rc)
			rc = place(db, machine_ref, chosen.ref, 0, cur, now);
		else if (rc == -ENOENT)
			rc = 0; /* nowhere to place it: the console's --staging */
	}
	return rc ? rc : placement_get(db, machine_ref, out);
}

/* An active server by name: its row, whether it drains, whether it
 * advertises. -ESRCH if none. */
static int server_by_name(struct db *db, const char *name, int64_t *ref, int *draining,
			  int *advertised)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT id, draining_at IS NOT NULL, advertise IS NOT NULL FROM"
			    " staging_servers WHERE name = ? AND removed_at IS NULL");

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*ref = db_column_int64(st, 0);
		*draining = db_column_int64(st, 1) != 0;
		*advertised = db_column_int64(st, 2) != 0;
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ESRCH : db_err(db, rc, "looking up a staging server");
	}
	db_finalize(st);
	return rc;
}

/* A registered machine by its id: its row and current server. -ENOENT. */
static int machine_placed(struct db *db, const char *machine_id, int64_t *ref, int64_t *on)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT id, staging_ref FROM machines WHERE machine_id = ?"
			    " AND deregistered_at IS NULL");

	if (rc)
		return rc;
	db_bind_text(st, 1, machine_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*ref = db_column_int64(st, 0);
		*on = db_int_or(st, 1, 0);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "looking up a machine");
	}
	db_finalize(st);
	return rc;
}

int placement_pin(struct db *db, const char *machine_id, const char *server, int64_t now,
		  struct placement *out)
{
	int64_t m, on, s;
	int draining, advertised, rc = machine_placed(db, machine_id, &m, &on);

	if (!rc)
		rc = server_by_name(db, server, &s, &draining, &advertised);
	if (rc)
		return rc;
	if (draining)
		return -EBUSY;
	if (!advertised)
		return -EADDRNOTAVAIL;
	if (on == s) {
		struct db_stmt *st;

		rc = db_prepare(db, &st, "UPDATE machines SET staging_pinned = 1 WHERE id = ?");
		if (rc)
			return rc;
		db_bind_int64(st, 1, m);
		rc = run(db, st, "pinning a machine");
	} else {
		rc = place(db, m, s, 1, on, now);
	}
	return rc ? rc : placement_get(db, m, out);
}

int placement_unpin(struct db *db, const char *machine_id)
{
	struct db_stmt *st;
	int64_t m, on;
	int rc = machine_placed(db, machine_id, &m, &on);

	if (rc)
		return rc;
	rc = db_prepare(db, &st, "UPDATE machines SET staging_pinned = 0 WHERE id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, m);
	return run(db, st, "unpinning a machine");
}

/* The registered machines on server s, in row order (malloc'd). */
static int machines_on(struct db *db, int64_t s, int64_t **out, size_t *n)
{
	struct db_stmt *st;
	int64_t *v = NULL;
	size_t cap = 0;
	int rc = db_prepare(db, &st,
			    "SELECT id FROM machines WHERE staging_ref = ? AND deregistered_at IS NULL"
			    " ORDER BY id");

	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(st, 1, s);
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			int64_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[(*n)++] = db_column_int64(st, 0);
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing a server's machines");
	db_finalize(st);
	if (rc)
		free(v);
	else
		*out = v;
	return rc;
}

int placement_drain(struct db *db, const char *server, const char *by, int64_t now,
		    unsigned *moved)
{
	struct db_stmt *st;
	int64_t s, *ms = NULL;
	size_t n = 0;
	int draining, advertised, rc = server_by_name(db, server, &s, &draining, &advertised);

	*moved = 0;
	if (rc)
		return rc;
	if (draining)
		return -EALREADY;
	rc = db_prepare(db, &st,
			"UPDATE staging_servers SET draining_at = ?, draining_by = ? WHERE id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, by);
	db_bind_int64(st, 3, s);
	rc = run(db, st, "draining a staging server");
	if (!rc)
		rc = machines_on(db, s, &ms, &n);
	/* one after the other: each choice counts the machines placed before */
	for (size_t i = 0; !rc && i < n; i++) {
		struct placement to;

		rc = placement_choose(db, now, &to);
		if (rc == -ENOENT)
			rc = -ENOSPC;
		if (!rc)
			rc = place(db, ms[i], to.ref, 0, s, now);
		if (!rc)
			(*moved)++;
	}
	free(ms);
	return rc;
}

int placement_undrain(struct db *db, const char *server)
{
	struct db_stmt *st;
	int64_t s;
	int draining, advertised, rc = server_by_name(db, server, &s, &draining, &advertised);

	if (rc)
		return rc;
	if (!draining)
		return -EALREADY;
	rc = db_prepare(db, &st,
			"UPDATE staging_servers SET draining_at = NULL, draining_by = NULL WHERE id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, s);
	return run(db, st, "ending a drain");
}

int placement_arrived(struct db *db, int64_t staging_ref)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE machines SET staging_moved_from = NULL WHERE staging_ref = ?"
			    " AND staging_moved_from IS NOT NULL AND id IN (SELECT machine_ref FROM"
			    " staging_machines WHERE staging_ref = ?)");

	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, staging_ref);
	return run(db, st, "noting machines that arrived");
}

int placement_count(struct db *db, const char *name, int64_t *n)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT COUNT(*) FROM machines m JOIN staging_servers s ON"
			    " s.id = m.staging_ref WHERE s.name = ? AND m.deregistered_at IS NULL");

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(st);
	*n = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	rc = rc == DB_ROW ? 0 : db_err(db, rc, "counting a server's machines");
	db_finalize(st);
	return rc;
}

static json_t *placement_doc(const struct placement *p)
{
	if (!p->ref)
		return json_null();
	return json_pack("{s:s, s:s, s:b, s:o}", "server", p->server, "address", p->address,
			 "pinned", p->pinned, "moving_from",
			 p->moving_from[0] ? json_string(p->moving_from) : json_null());
}

int placement_json(struct db *db, int64_t machine_ref, json_t **out)
{
	struct placement p;
	int rc = placement_get(db, machine_ref, &p);

	if (rc)
		return rc;
	*out = placement_doc(&p);
	return *out ? 0 : -ENOMEM;
}

int placement_list_json(struct db *db, json_t **out)
{
	json_t *list = json_array();
	struct db_stmt *st;
	int rc;

	if (!list)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"SELECT m.machine_id, m.hostname, s.name, m.staging_pinned, f.name"
			" FROM machines m LEFT JOIN staging_servers s ON s.id = m.staging_ref"
			" LEFT JOIN staging_servers f ON f.id = m.staging_moved_from"
			" WHERE m.deregistered_at IS NULL ORDER BY m.machine_id");
	if (rc) {
		json_decref(list);
		return rc;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *o = json_pack("{s:s, s:s, s:o, s:b, s:o}", "machine", db_text(st, 0),
				      "hostname", db_text(st, 1), "server", db_json_text(st, 2),
				      "pinned", db_column_int64(st, 3) != 0, "moving_from",
				      db_json_text(st, 4));

		if (!o || json_array_append_new(list, o)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing placements");
	db_finalize(st);
	if (rc)
		json_decref(list);
	else
		*out = list;
	return rc;
}
