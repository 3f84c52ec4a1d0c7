// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What operators see of their machines (GET /api/v1/machines[/ID], admin
 * list-machines): identity, inventory summary, the state to show (with
 * DISCONNECTED computed on read from last_seen, so no sweeper thread has to
 * write anything) and a progress summary of the latest status document.
 */
#include "machines.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

#define VIEW_COLS                                                                     \
	"m.id, m.machine_id, m.hostname, m.identity_source, m.identity_value,"       \
	" m.registered_at, m.last_seen, m.state, m.deregistered_at, m.inventory,"    \
	" s.doc, s.received_at, m.cert_serial, m.cert_fingerprint,"                 \
	" m.replication_request, m.replication_requested_at, m.replication_requested_by,"  \
	" COALESCE(l.state, 'READY_FOR_TEST'), ps.name, m.staging_pinned, pf.name"
/* a machine that never left READY_FOR_TEST has no lifecycle row (lifecycle.h) */
#define VIEW_FROM                                                                      \
	" FROM machines m LEFT JOIN status s ON s.machine_ref = m.id"                  \
	" LEFT JOIN machine_lifecycle l ON l.machine_ref = m.id"                       \
	" LEFT JOIN staging_servers ps ON ps.id = m.staging_ref AND ps.removed_at IS NULL" \
	" LEFT JOIN staging_servers pf ON pf.id = m.staging_moved_from"
enum { C_REF, C_MID, C_HOST, C_ISRC, C_IVAL, C_REG, C_SEEN, C_STATE, C_DEREG, C_INV, C_DOC,
       C_RECV, C_SERIAL, C_FPR, C_RREQ, C_RAT, C_RBY, C_LIFECYCLE, C_PSERVER, C_PPINNED,
       C_PFROM };

static json_t *str_or_null(const json_t *j)
{
	return json_is_string(j) ? json_string(json_string_value(j)) : json_null();
}

static json_t *first_string(const json_t *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		const json_t *v = json_object_get(obj, *keys);

		if (json_is_string(v) && json_string_length(v))
			return json_string(json_string_value(v));
	}
	return json_null();
}

static json_t *first_number(const json_t *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		const json_t *v = json_object_get(obj, *keys);

		if (json_is_number(v))
			return json_deep_copy(v);
	}
	return json_null();
}

/* livemig inventory puts {"kernel": {"release": ...}} at the top; accept a
 * plain string there or under "os" too. */
static json_t *kernel_of(const json_t *inv, const json_t *os)
{
	const json_t *k = json_object_get(inv, "kernel");

	if (json_is_object(k))
		return str_or_null(json_object_get(k, "release"));
	if (json_is_string(k))
		return str_or_null(k);
	return str_or_null(json_object_get(os, "kernel"));
}

json_t *inventory_summary(const json_t *inv)
{
	static const char *const os_keys[] = { "pretty_name", "name", NULL };
	static const char *const cores_keys[] = { "cores", "cpus", NULL };
	static const char *const mem_keys[] = { "memory_bytes", "ram_bytes", "memory", NULL };
	const json_t *os = json_object_get(inv, "os"), *disks = json_object_get(inv, "disks"), *d;
	json_t *out, *dl = json_array();
	size_t i;

	json_array_foreach(disks, i, d) {
		json_array_append_new(dl, json_pack("{s:o, s:o}", "name",
						    str_or_null(json_object_get(d, "name")), "size",
						    first_number(d, (const char *const[]){ "size",
											   "size_bytes",
											   NULL })));
	}
	out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			"hostname", str_or_null(json_object_get(inv, "hostname")),
			"os", json_is_object(os) ? first_string(os, os_keys) : str_or_null(os),
			"kernel", kernel_of(inv, os),
			"cores", first_number(inv, cores_keys),
			"memory_bytes", first_number(inv, mem_keys),
			"disks", dl);
	return out;
}

/* Totals over the disks of a status document (docs/control.md). */
static json_t *progress_summary(const json_t *doc)
{
	const json_t *disks = json_object_get(doc, "disks"), *d, *staging;
	double done = 0, total = 0, backlog = 0, eta = -1;
	size_t i;

	if (!json_is_object(doc))
		return json_null();
	json_array_foreach(disks, i, d) {
		const json_t *e = json_object_get(d, "eta_seconds");

		done += json_number_value(json_object_get(d, "bytes_done"));
		total += json_number_value(json_object_get(d, "bytes_total"));
		backlog += json_number_value(json_object_get(d, "backlog_bytes"));
		if (json_is_number(e) && json_number_value(e) > eta)
			eta = json_number_value(e);
	}
	staging = json_object_get(doc, "staging");
	return json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:o, s:o, s:o}",
			 "bytes_done", (json_int_t)done, "bytes_total", (json_int_t)total,
			 "percent", total > 0 ? json_real(100.0 * done / total) : json_null(),
			 "backlog_bytes", (json_int_t)backlog,
			 "throughput_bps", first_number(doc, (const char *const[]){ "throughput_bps", NULL }),
			 "eta_seconds", eta >= 0 ? json_real(eta) : json_null(),
			 "lag_seconds", first_number(doc, (const char *const[]){ "lag_seconds", NULL }),
			 "reason", str_or_null(json_object_get(doc, "reason")),
			 "last_error", str_or_null(json_object_get(staging, "last_error")));
}

static json_t *load_doc(struct db_stmt *st, int col)
{
	const char *text = db_column_text(st, col);

	return text ? json_loads(text, 0, NULL) : NULL;
}

static json_t *machine_json(struct db_stmt *st, unsigned timeout_s, int64_t now, json_t **doc_out,
			    json_t **inv_out)
{
	int64_t seen = db_column_int64(st, C_SEEN), dereg = db_int_or(st, C_DEREG, 0);
	const char *stored = db_text(st, C_STATE), *shown = stored;
	json_t *doc = load_doc(st, C_DOC), *inv = load_doc(st, C_INV), *m;
	char reason[128] = "";

	if (dereg) {
		shown = MACHINE_STATE_DEREGISTERED;
	} else if (now - seen > (int64_t)timeout_s) {
		shown = MACHINE_STATE_DISCONNECTED;
		snprintf(reason, sizeof(reason), "no heartbeat for %lld s (timeout %u s)",
			 (long long)(now - seen), timeout_s);
	}
	m = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:I, s:I, s:o, s:o, s:o, s:o}",
		      "machine_id", db_text(st, C_MID), "hostname", db_text(st, C_HOST),
		      "state", shown, "reported_state", stored,
		      "identity", "source", db_text(st, C_ISRC), "value", db_text(st, C_IVAL),
		      "registered_at", (json_int_t)db_column_int64(st, C_REG),
		      "last_seen", (json_int_t)seen,
		      "deregistered_at", dereg ? json_integer(dereg) : json_null(),
		      "disconnected_reason", reason[0] ? json_string(reason) : json_null(),
		      "inventory_summary", inventory_summary(inv),
		      "progress", progress_summary(doc));
	json_object_set_new(m, "agent_version", str_or_null(json_object_get(doc, "agent_version")));
	json_object_set_new(m, "paused", json_boolean(json_is_true(json_object_get(doc, "paused"))));
	json_object_set_new(m, "lifecycle", json_string(db_text(st, C_LIFECYCLE)));
	/* the staging server it is placed on (docs/staging-placement.md) */
	json_object_set_new(m, "staging",
			    db_column_is_null(st, C_PSERVER)
				    ? json_null()
				    : json_pack("{s:s, s:b, s:o}", "server", db_text(st, C_PSERVER),
						"pinned", db_column_int64(st, C_PPINNED) != 0,
						"moving_from", db_json_text(st, C_PFROM)));
	/* what an operator asked of replication in the web page */
	json_object_set_new(m, "replication_request",
			    db_column_is_null(st, C_RREQ)
				    ? json_null()
				    : json_pack("{s:s, s:I, s:s}", "state", db_text(st, C_RREQ),
						"requested_at", (json_int_t)db_int_or(st, C_RAT, 0),
						"requested_by", db_text(st, C_RBY)));
	if (doc_out)
		*doc_out = doc;
	else
		json_decref(doc);
	if (inv_out)
		*inv_out = inv;
	else
		json_decref(inv);
	return m;
}

int machines_list_json(struct db *db, int64_t account_id, unsigned timeout_s, int64_t now,
		       json_t **out)
{
	json_t *arr = json_array();
	struct db_stmt *st = NULL;
	int rc;

	if (!arr)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"SELECT " VIEW_COLS VIEW_FROM
			" WHERE m.account_id = ? AND m.deregistered_at IS NULL ORDER BY m.machine_id");
	if (rc)
		goto out;
	db_bind_int64(st, 1, account_id);
	while ((rc = db_step(st)) == DB_ROW)
		json_array_append_new(arr, machine_json(st, timeout_s, now, NULL, NULL));
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "listing machines");
out:
	db_finalize(st);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

static int history_json(struct db *db, int64_t ref, unsigned limit, json_t **out)
{
	json_t *arr = json_array();
	struct db_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, &st,
			"SELECT received_at, state, doc FROM status_history WHERE machine_ref = ?"
			" ORDER BY id DESC LIMIT ?");
	if (rc)
		goto out;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, limit);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *doc = load_doc(st, 2);

		json_array_append_new(arr, json_pack("{s:I, s:s, s:o}", "received_at",
						     (json_int_t)db_column_int64(st, 0), "state",
						     db_text(st, 1), "status",
						     doc ? doc : json_null()));
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "reading status history");
out:
	db_finalize(st);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

int machine_detail_json(struct db *db, int64_t account_id, const char *machine_id,
			unsigned timeout_s, int64_t now, unsigned history, json_t **out)
{
	json_t *m = NULL, *doc = NULL, *inv = NULL, *hist = NULL;
	struct db_stmt *st = NULL;
	int64_t ref = 0;
	int rc;

	rc = db_prepare(db, &st,
			"SELECT " VIEW_COLS VIEW_FROM
			" WHERE m.account_id = ? AND m.machine_id = ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, machine_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		ref = db_column_int64(st, C_REF);
		m = machine_json(st, timeout_s, now, &doc, &inv);
		json_object_set_new(m, "certificate",
				    json_pack("{s:s, s:s}", "serial", db_text(st, C_SERIAL),
					      "sha256_fingerprint", db_text(st, C_FPR)));
		json_object_set_new(m, "status_received_at",
				    db_column_is_null(st, C_RECV)
					    ? json_null()
					    : json_integer(db_column_int64(st, C_RECV)));
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a machine");
	}
	db_finalize(st);
	if (!rc)
		rc = history_json(db, ref, history, &hist);
	if (rc) {
		json_decref(m);
		json_decref(doc);
		json_decref(inv);
		return rc;
	}
	json_object_set_new(m, "inventory", inv ? inv : json_object());
	json_object_set_new(m, "status", doc ? doc : json_null());
	json_object_set_new(m, "history", hist);
	*out = m;
	return 0;
}
