// SPDX-License-Identifier: GPL-2.0-or-later
/* Recovery points and stored machines as staging reports them (staging_sync.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "machines.h"
#include "staging_sync.h"

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

/* The point ids this staging reported last time, with their documents. */
static int stored_points(struct db *db, int64_t staging_ref, int64_t machine_ref, json_t **out)
{
	json_t *map = json_object();
	struct db_stmt *st;
	char key[32];
	int rc;

	if (!map)
		return -ENOMEM;
	rc = db_prepare(db, &st, "SELECT point_id, doc FROM recovery_points"
				 " WHERE staging_ref = ? AND machine_ref = ?");
	if (rc) {
		json_decref(map);
		return rc;
	}
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, machine_ref);
	while ((rc = db_step(st)) == DB_ROW) {
		snprintf(key, sizeof(key), "%lld", (long long)db_column_int64(st, 0));
		if (json_object_set_new(map, key, json_string(db_text(st, 1)))) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "reading recovery points");
	db_finalize(st);
	if (rc)
		json_decref(map);
	else
		*out = map;
	return rc;
}

static int point_upsert(struct db *db, int64_t staging_ref, int64_t machine_ref, const json_t *p,
			const char *doc)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO recovery_points (staging_ref, machine_ref, point_id, time_ns, doc)"
			    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (staging_ref, machine_ref, point_id)"
			    " DO UPDATE SET time_ns = ?4, doc = ?5");

	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, machine_ref);
	db_bind_int64(st, 3, json_integer_value(json_object_get(p, "id")));
	db_bind_int64(st, 4, json_integer_value(json_object_get(p, "time_ns")));
	db_bind_text(st, 5, doc);
	return run(db, st, "storing a recovery point");
}

static int point_delete(struct db *db, int64_t staging_ref, int64_t machine_ref, const char *id)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "DELETE FROM recovery_points WHERE staging_ref = ? AND"
				     " machine_ref = ? AND point_id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, machine_ref);
	db_bind_int64(st, 3, strtoll(id, NULL, 10));
	return run(db, st, "deleting a recovery point");
}

/* Write only what changed: a sync every few seconds must not rewrite every
 * point of every machine each time. */
static int machine_points(struct db *db, int64_t staging_ref, int64_t machine_ref,
			  const json_t *points)
{
	json_t *old = NULL, *p;
	const char *key;
	char id[32];
	size_t i;
	void *tmp;
	int rc = stored_points(db, staging_ref, machine_ref, &old);

	if (rc)
		return rc;
	json_array_foreach(points, i, p) {
		char *doc = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
		const char *was;

		if (!doc) {
			rc = -ENOMEM;
			break;
		}
		snprintf(id, sizeof(id), "%lld",
			 (long long)json_integer_value(json_object_get(p, "id")));
		was = json_string_value(json_object_get(old, id));
		if (!was || strcmp(was, doc))
			rc = point_upsert(db, staging_ref, machine_ref, p, doc);
		free(doc);
		json_object_del(old, id);
		if (rc)
			break;
	}
	json_object_foreach_safe(old, tmp, key, p)
		if (!rc)
			rc = point_delete(db, staging_ref, machine_ref, key);
	json_decref(old);
	return rc;
}

/* digest: staging's label of the list just stored (NULL: none); keep: the
 * list was not sent, the digest stays as it was */
static int stored_on(struct db *db, int64_t staging_ref, int64_t machine_ref, int64_t now,
		     const char *digest, int keep)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO staging_machines (staging_ref, machine_ref, reported_at,"
			    " points_digest) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (staging_ref, machine_ref)"
			    " DO UPDATE SET reported_at = ?3, points_digest = CASE WHEN ?5 <> 0"
			    " THEN staging_machines.points_digest ELSE ?4 END");

	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, machine_ref);
	db_bind_int64(st, 3, now);
	if (digest && !keep)
		db_bind_text(st, 4, digest);
	db_bind_int64(st, 5, keep);
	return run(db, st, "recording a stored machine");
}

/* Machines this staging no longer reports: it deleted their store. */
static int forget_unreported(struct db *db, int64_t staging_ref, int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "DELETE FROM recovery_points WHERE staging_ref = ?1 AND machine_ref IN"
			    " (SELECT machine_ref FROM staging_machines WHERE staging_ref = ?1"
			    "  AND reported_at < ?2)");

	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, now);
	if ((rc = run(db, st, "forgetting points of unreported machines")))
		return rc;
	rc = db_prepare(db, &st,
			"DELETE FROM staging_machines WHERE staging_ref = ? AND reported_at < ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, staging_ref);
	db_bind_int64(st, 2, now);
	return run(db, st, "forgetting unreported machines");
}

int points_report(struct db *db, int64_t staging_ref, const json_t *machines, int64_t now,
		  unsigned *unknown)
{
	const json_t *m;
	size_t i;
	int rc = 0;

	*unknown = 0;
	json_array_foreach(machines, i, m) {
		const json_t *pts;
		struct machine_ref ref;

		rc = machine_lookup(db, json_string_value(json_object_get(m, "machine")), &ref);
		if (rc == -ENOENT) {
			(*unknown)++;
			rc = 0;
			continue;
		}
		pts = json_object_get(m, "points");
		rc = stored_on(db, staging_ref, ref.ref, now,
			       json_string_value(json_object_get(m, "points_digest")), !pts);
		if (!rc && pts)
			rc = machine_points(db, staging_ref, ref.ref, pts);
		if (rc)
			return rc;
	}
	return forget_unreported(db, staging_ref, now);
}

/* {column 0: column 1 as a JSON integer (integers) or string} for every
 * row of sql, whose one parameter is id. */
static int machine_map_json(struct db *db, const char *sql, int integers, int64_t id,
			    const char *what, json_t **out)
{
	json_t *map = json_object();
	struct db_stmt *st;
	int rc;

	if (!map)
		return -ENOMEM;
	rc = db_prepare(db, &st, sql);
	if (rc) {
		json_decref(map);
		return rc;
	}
	db_bind_int64(st, 1, id);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *v = integers
				    ? json_integer((json_int_t)db_column_int64(st, 1))
				    : json_string(db_text(st, 1));

		if (json_object_set_new(map, db_text(st, 0), v)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, what);
	db_finalize(st);
	if (rc)
		json_decref(map);
	else
		*out = map;
	return rc;
}

int points_known_json(struct db *db, int64_t staging_ref, json_t **out)
{
	return machine_map_json(db,
				"SELECT m.machine_id, sm.points_digest FROM staging_machines sm JOIN"
				" machines m ON m.id = sm.machine_ref WHERE sm.staging_ref = ? AND"
				" sm.points_digest IS NOT NULL",
				0, staging_ref, "listing known point lists", out);
}

static int stored_on_json(struct db *db, int64_t machine_ref, json_t *list)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT s.name, sm.reported_at FROM staging_machines sm JOIN"
			    " staging_servers s ON s.id = sm.staging_ref WHERE sm.machine_ref = ?"
			    " ORDER BY s.name");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	while ((rc = db_step(st)) == DB_ROW)
		if (json_array_append_new(list, json_pack("{s:s, s:I}", "staging", db_text(st, 0),
							  "reported",
							  (json_int_t)db_column_int64(st, 1)))) {
			rc = -ENOMEM;
			break;
		}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing where a machine is stored");
	db_finalize(st);
	return rc;
}

int points_machine_json(struct db *db, int64_t machine_ref, json_t **out)
{
	json_t *points = json_array(), *where = json_array();
	struct db_stmt *st;
	int rc;

	if (!points || !where) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = db_prepare(db, &st,
			"SELECT s.name, p.doc FROM recovery_points p JOIN staging_servers s"
			" ON s.id = p.staging_ref WHERE p.machine_ref = ?"
			" ORDER BY p.time_ns DESC, p.point_id DESC");
	if (rc)
		goto fail;
	db_bind_int64(st, 1, machine_ref);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *p = json_loads(db_text(st, 1), 0, NULL);

		/* written by points_report from checked JSON: a row that does not
		 * parse is a damaged database, said rather than hidden */
		if (!p) {
			rc = -EIO;
			break;
		}
		if (json_object_set_new(p, "staging", json_string(db_text(st, 0))) ||
		    json_array_append_new(points, p)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing recovery points");
	db_finalize(st);
	if (!rc)
		rc = stored_on_json(db, machine_ref, where);
	if (rc)
		goto fail;
	*out = json_pack("{s:o, s:o}", "points", points, "stored_on", where);
	return *out ? 0 : -ENOMEM;
fail:
	json_decref(points);
	json_decref(where);
	return rc;
}

int points_newest_json(struct db *db, int64_t account_id, json_t **out)
{
	return machine_map_json(db,
				"SELECT m.machine_id, MAX(p.time_ns) FROM recovery_points p JOIN"
				" machines m ON m.id = p.machine_ref WHERE m.account_id = ? GROUP BY m.id",
				1, account_id, "finding the newest recovery points", out);
}
