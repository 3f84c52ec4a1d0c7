// SPDX-License-Identifier: GPL-2.0-or-later
/* Machine rows: registration, deregistration, status (machines.h). */
#include "machines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"
#include "db.h"

static int lookup(struct db *db, const char *where, const char *value, struct machine_ref *out)
{
	char sql[256];
	struct db_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT id, account_id, deregistered_at, machine_id FROM machines WHERE %s = ?",
		 where);
	rc = db_prepare(db, &st, sql);
	if (rc)
		return rc;
	db_bind_text(st, 1, value);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->ref = db_column_int64(st, 0);
		out->account_id = db_column_int64(st, 1);
		out->deregistered_at = db_int_or(st, 2, 0);
		snprintf(out->machine_id, sizeof(out->machine_id), "%s", db_text(st, 3));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "looking up a machine");
	}
	db_finalize(st);
	return rc;
}

int machine_lookup(struct db *db, const char *machine_id, struct machine_ref *out)
{
	return lookup(db, "machine_id", machine_id, out);
}

int machine_by_secret(struct db *db, const char *secret, struct machine_ref *out)
{
	char hash[SECRET_HASH_HEX];

	secret_hash(secret, hash);
	return lookup(db, "agent_secret_hash", hash, out);
}

static int run(struct db *db, struct db_stmt *st, const char *what)
{
	int rc = db_step(st);

	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, what);
}

int machine_save(struct db *db, const struct machine_reg *m, int64_t existing, int64_t now)
{
	struct db_stmt *st;
	int rc;

	if (existing)
		rc = db_prepare(db, &st,
				"UPDATE machines SET account_id = ?1, machine_id = ?2,"
				" identity_source = ?3, identity_value = ?4, hostname = ?5,"
				" inventory = ?6, cert_serial = ?7, cert_fingerprint = ?8,"
				" agent_secret_hash = ?9, registered_at = ?10, last_seen = ?10,"
				" state = ?11, deregistered_at = NULL WHERE id = ?12");
	else
		rc = db_prepare(db, &st,
				"INSERT INTO machines (account_id, machine_id, identity_source,"
				" identity_value, hostname, inventory, cert_serial, cert_fingerprint,"
				" agent_secret_hash, registered_at, last_seen, state)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)");
	if (rc)
		return rc;
	db_bind_int64(st, 1, m->account_id);
	db_bind_text(st, 2, m->machine_id);
	db_bind_text(st, 3, m->identity_source);
	db_bind_text(st, 4, m->identity_value);
	db_bind_text(st, 5, m->hostname);
	db_bind_text(st, 6, m->inventory);
	db_bind_text(st, 7, m->cert_serial);
	db_bind_text(st, 8, m->cert_fingerprint);
	db_bind_text(st, 9, m->agent_secret_hash);
	db_bind_int64(st, 10, now);
	db_bind_text(st, 11, MACHINE_STATE_REGISTERED);
	if (existing)
		db_bind_int64(st, 12, existing);
	return run(db, st, "saving a machine");
}

int machine_deregister(struct db *db, int64_t ref, int64_t now)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "UPDATE machines SET deregistered_at = ?, state = ?"
			    " WHERE id = ? AND deregistered_at IS NULL");

	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, MACHINE_STATE_DEREGISTERED);
	db_bind_int64(st, 3, ref);
	return run(db, st, "deregistering a machine");
}

int machine_remove(struct db *db, int64_t ref, const char *by, int64_t now, int *removed)
{
	json_t *j;
	char *doc;
	struct db_stmt *st;
	int rc = machine_deregister(db, ref, now);

	*removed = !rc && db_changes(db) > 0;
	if (rc || !*removed)
		return rc;
	j = json_pack("{s:s+, s:s}", "reason", MACHINE_REMOVED_REASON " ", by, "removed_by", by);
	doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!doc)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"INSERT INTO status_history (machine_ref, received_at, state, doc)"
			" VALUES (?, ?, ?, ?)");
	if (!rc) {
		db_bind_int64(st, 1, ref);
		db_bind_int64(st, 2, now);
		db_bind_text(st, 3, MACHINE_STATE_DEREGISTERED);
		db_bind_text(st, 4, doc);
		rc = run(db, st, "recording a removal");
	}
	free(doc);
	return rc;
}

int machine_removed_by(struct db *db, int64_t ref, char *by, size_t n)
{
	struct db_stmt *st;
	int rc;

	by[0] = '\0';
	/* the removal's event is the one made at the deregistration's time:
	 * an older one belongs to an earlier registration */
	rc = db_prepare(db, &st,
			"SELECT h.doc FROM status_history h"
			" JOIN machines m ON m.id = h.machine_ref"
			" WHERE h.machine_ref = ? AND h.state = ? AND h.received_at = m.deregistered_at"
			" ORDER BY h.id DESC LIMIT 1");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_text(st, 2, MACHINE_STATE_DEREGISTERED);
	rc = db_step(st);
	if (rc == DB_ROW) {
		json_t *doc = json_loads(db_text(st, 0), 0, NULL);
		const char *who = json_string_value(json_object_get(doc, "removed_by"));

		snprintf(by, n, "%s", who ? who : "");
		json_decref(doc);
	}
	rc = rc == DB_ROW || rc == DB_DONE ? 0 : db_err(db, rc, "reading a removal");
	db_finalize(st);
	return rc;
}

int machine_same(struct db *db, int64_t ref, const char *agent_secret, const char *id_source,
		 const char *id_value)
{
	char hash[SECRET_HASH_HEX];
	struct db_stmt *st;
	int rc;

	if (!agent_secret)
		return -EACCES;
	secret_hash(agent_secret, hash);
	rc = db_prepare(db, &st,
			"SELECT 1 FROM machines WHERE id = ? AND agent_secret_hash = ?"
			" AND identity_source = ? AND identity_value = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_text(st, 2, hash);
	db_bind_text(st, 3, id_source);
	db_bind_text(st, 4, id_value);
	rc = db_step(st);
	db_finalize(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? -EACCES : db_err(db, rc, "checking a re-registration");
}

int machine_event(struct db *db, int64_t ref, const char *state, const char *what, int64_t now)
{
	json_t *j = json_pack("{s:s}", "reason", what);
	char *doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct db_stmt *st;
	int rc = doc ? 0 : -ENOMEM;

	json_decref(j);
	if (!rc)
		rc = db_prepare(db, &st,
				"INSERT INTO status_history (machine_ref, received_at, state, doc)"
				" VALUES (?, ?, ?, ?)");
	if (!rc) {
		db_bind_int64(st, 1, ref);
		db_bind_int64(st, 2, now);
		db_bind_text(st, 3, state);
		db_bind_text(st, 4, doc);
		rc = run(db, st, "recording a machine event");
	}
	free(doc);
	return rc;
}

int machine_status_store(struct db *db, int64_t ref, const char *doc, const char *state,
			 int64_t now, unsigned keep)
{
	struct db_stmt *st;
	int rc;

	/* ON CONFLICT ... DO UPDATE is spelled the same in PostgreSQL. */
	rc = db_prepare(db, &st,
			"INSERT INTO status (machine_ref, received_at, doc) VALUES (?1, ?2, ?3)"
			" ON CONFLICT (machine_ref) DO UPDATE SET received_at = ?2, doc = ?3");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, doc);
	if ((rc = run(db, st, "storing the latest status")))
		return rc;

	rc = db_prepare(db, &st,
			"INSERT INTO status_history (machine_ref, received_at, state, doc)"
			" VALUES (?, ?, ?, ?)");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, state);
	db_bind_text(st, 4, doc);
	if ((rc = run(db, st, "storing status history")))
		return rc;

	/* Keep the newest `keep` rows: everything at or below the id of the
	 * (keep+1)-th newest goes. One indexed range per heartbeat, so the
	 * table never grows past keep rows per machine. */
	rc = db_prepare(db, &st,
			"DELETE FROM status_history WHERE machine_ref = ?1 AND id <="
			" (SELECT id FROM status_history WHERE machine_ref = ?1"
			"  ORDER BY id DESC LIMIT 1 OFFSET ?2)");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, keep);
	if ((rc = run(db, st, "trimming status history")))
		return rc;
	/* and no more than HISTORY_BYTES_MAX of documents: the newest rows
	 * whose running total fits stay */
	rc = db_prepare(db, &st,
			"DELETE FROM status_history WHERE machine_ref = ?1 AND id <="
			" (SELECT MAX(id) FROM (SELECT id, SUM(LENGTH(doc)) OVER (ORDER BY id DESC)"
			"  AS total FROM status_history WHERE machine_ref = ?1) AS t WHERE total > ?2)");
	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, HISTORY_BYTES_MAX);
	if ((rc = run(db, st, "trimming status history to its bytes")))
		return rc;

	rc = db_prepare(db, &st, "UPDATE machines SET last_seen = ?, state = ? WHERE id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, state);
	db_bind_int64(st, 3, ref);
	return run(db, st, "updating last_seen");
}
