// SPDX-License-Identifier: GPL-2.0-or-later
/* Staging server rows and their credentials (staging_servers.h). */
#include "staging_servers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int staging_add(struct db *db, const char *name, int64_t now, char secret[SECRET_STR_MAX])
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc = secret_new(STAGING_PREFIX, secret, SECRET_STR_MAX);

	if (rc)
		return rc;
	secret_hash(secret, hash);
	rc = db_prepare(db, &st,
			"INSERT INTO staging_servers (name, secret_hash, created_at) VALUES (?, ?, ?)");
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, hash);
	db_bind_int64(st, 3, now);
	return run(db, st, "adding a staging server");
}

int staging_remove(struct db *db, const char *name, int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE staging_servers SET removed_at = ? WHERE name = ? AND removed_at IS NULL");

	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, name);
	rc = run(db, st, "removing a staging server");
	if (!rc && db_changes(db) == 0)
		rc = -ENOENT;
	return rc;
}

int staging_by_secret(struct db *db, const char *secret, struct staging_ref *out)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	secret_hash(secret, hash);
	rc = db_prepare(db, &st,
			"SELECT id, name FROM staging_servers WHERE secret_hash = ? AND removed_at IS NULL");
	if (rc)
		return rc;
	db_bind_text(st, 1, hash);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->ref = db_column_int64(st, 0);
		snprintf(out->name, sizeof(out->name), "%s", db_text(st, 1));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "looking up a staging server");
	}
	db_finalize(st);
	return rc;
}

int staging_synced(struct db *db, int64_t ref, int64_t now, const char *version,
		   int64_t free_bytes, int64_t total_bytes, const char *advertise)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE staging_servers SET last_sync_at = ?, version = ?, free_bytes = ?,"
			    " total_bytes = ?, advertise = COALESCE(?, advertise) WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, version);
	if (free_bytes >= 0)
		db_bind_int64(st, 3, free_bytes);
	if (total_bytes >= 0)
		db_bind_int64(st, 4, total_bytes);
	if (advertise)
		db_bind_text(st, 5, advertise);
	db_bind_int64(st, 6, ref);
	return run(db, st, "recording a staging sync");
}

int staging_list_json(struct db *db, json_t **out)
{
	json_t *list = json_array();
	struct db_stmt *st;
	int rc;

	if (!list)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"SELECT s.name, s.created_at, s.last_sync_at, s.version, s.free_bytes,"
			" s.total_bytes, s.removed_at, (SELECT COUNT(*) FROM staging_machines sm"
			" WHERE sm.staging_ref = s.id), s.advertise, s.draining_at,"
			" (SELECT COUNT(*) FROM machines m WHERE m.staging_ref = s.id"
			" AND m.deregistered_at IS NULL),"
			" (SELECT COUNT(*) FROM machines m WHERE m.staging_moved_from = s.id"
			" AND m.deregistered_at IS NULL)"
			" FROM staging_servers s ORDER BY s.name");
	if (rc) {
		json_decref(list);
		return rc;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:I, s:I}",
				      "name", db_text(st, 0),
				      "created", (json_int_t)db_column_int64(st, 1),
				      "last_sync", db_json_int(st, 2),
				      "version", db_json_text(st, 3),
				      "free_bytes", db_json_int(st, 4),
				      "total_bytes", db_json_int(st, 5),
				      "removed", db_json_int(st, 6),
				      "machines", (json_int_t)db_column_int64(st, 7),
				      "advertise", db_json_text(st, 8),
				      "draining", db_json_int(st, 9),
				      "placed", (json_int_t)db_column_int64(st, 10),
				      "moving", (json_int_t)db_column_int64(st, 11));

		if (!o || json_array_append_new(list, o)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing staging servers");
	db_finalize(st);
	if (rc)
		json_decref(list);
	else
		*out = list;
	return rc;
}

/*
 * Every machine the console has, with the fingerprints that may connect:
 * its current certificate while registered, none once deregistered. A
 * re-registration replaces the fingerprint, so the old one drops out.
 */
int staging_certificates_json(struct db *db, json_t **out)
{
	json_t *map = json_object();
	struct db_stmt *st;
	int rc;

	if (!map)
		return -ENOMEM;
	rc = db_prepare(db, &st, "SELECT machine_id, cert_fingerprint, deregistered_at FROM machines");
	if (rc) {
		json_decref(map);
		return rc;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *fprs = db_column_is_null(st, 2)
				       ? json_pack("[s]", db_text(st, 1))
				       : json_array();

		if (!fprs || json_object_set_new(map, db_text(st, 0), fprs)) {
			rc = -ENOMEM;
			break;
		}
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing machine certificates");
	db_finalize(st);
	if (rc)
		json_decref(map);
	else
		*out = map;
	return rc;
}
