// SPDX-License-Identifier: GPL-2.0-or-later
/* The audit log's records: append, prune, query (audit.h). */
#include "audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* NULL for the zero that means "none" (console-wide, no machine). */
static void bind_ref(struct db_stmt *st, int i, int64_t v)
{
	if (v > 0)
		db_bind_int64(st, i, v);
	else
		db_bind_null(st, i);
}

int audit_write(struct db *db, const struct audit_who *w, const struct audit_rec *r, int64_t now)
{
	struct db_stmt *st;
	char *detail;
	int rc;

	if (!r->action || !r->action[0] || !w->actor[0] || (r->detail && !json_is_object(r->detail)))
		return -EINVAL;
	detail = r->detail ? json_dumps(r->detail, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	if (!detail)
		return -ENOMEM;
	rc = db_prepare(db, &st,
			"INSERT INTO audit_log (at, account_id, machine_ref, actor, actor_role,"
			" source, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (rc) {
		free(detail);
		return rc;
	}
	db_bind_int64(st, 1, now);
	bind_ref(st, 2, r->account_id);
	bind_ref(st, 3, r->machine_ref);
	db_bind_text(st, 4, w->actor);
	if (w->role[0])
		db_bind_text(st, 5, w->role);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, w->from[0] ? w->from : "?");
	db_bind_text(st, 7, r->action);
	if (r->target)
		db_bind_text(st, 8, r->target);
	else
		db_bind_null(st, 8);
	db_bind_text(st, 9, detail);
	rc = db_step(st);
	db_finalize(st);
	free(detail);
	return rc == DB_DONE ? 0 : db_err(db, rc, "writing an audit record");
}

/* account_id equals ?1, NULL included (bind_ref binds 0 as NULL); SQLite's
 * `IS ?1` is not PostgreSQL's, nor are indexes used for IS NOT DISTINCT
 * FROM there */
#define ACCOUNT_IS_1 "(account_id = ?1 OR (?1 IS NULL AND account_id IS NULL))"

/* All but the newest ret->keep records of one account (0: console-wide). */
static int prune_count(struct db *db, int64_t account_id, int64_t keep, int64_t *removed)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "DELETE FROM audit_log WHERE " ACCOUNT_IS_1 " AND id <= (SELECT id FROM"
			    " audit_log WHERE " ACCOUNT_IS_1 " ORDER BY id DESC LIMIT 1 OFFSET ?2)");

	if (rc)
		return rc;
	bind_ref(st, 1, account_id);
	db_bind_int64(st, 2, keep);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err(db, rc, "pruning the audit log");
	*removed += db_changes(db);
	return 0;
}

int audit_prune(struct db *db, int64_t account_id, const struct audit_retention *ret, int64_t now,
		int64_t *removed)
{
	int64_t n = 0, ids[1024];
	struct db_stmt *st;
	int rc, count = 0;

	if (ret->keep < 1 || ret->max_age_s < 1)
		return -EINVAL;
	rc = db_prepare(db, &st, "DELETE FROM audit_log WHERE at < ?");
	if (rc)
		return rc;
	db_bind_int64(st, 1, now - ret->max_age_s);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err(db, rc, "pruning the audit log");
	n += db_changes(db);
	if (account_id >= 0) {
		rc = prune_count(db, account_id, ret->keep, &n);
	} else {
		/* every account holding records, and the console-wide ones (0) */
		rc = db_prepare(db, &st, "SELECT DISTINCT COALESCE(account_id, 0) FROM audit_log");
		if (rc)
			return rc;
		while (count < (int)(sizeof(ids) / sizeof(ids[0])) &&
		       (rc = db_step(st)) == DB_ROW)
			ids[count++] = db_column_int64(st, 0);
		db_finalize(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return db_err(db, rc, "listing the audit log's accounts");
		rc = 0;
		for (int i = 0; !rc && i < count; i++)
			rc = prune_count(db, ids[i], ret->keep, &n);
	}
	if (!rc && removed)
		*removed = n;
	return rc;
}

static json_t *record_json(struct db_stmt *st)
{
	json_t *detail = json_loads(db_text(st, 9), 0, NULL);

	return json_pack("{s:I, s:I, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "id",
			 (json_int_t)db_column_int64(st, 0), "at",
			 (json_int_t)db_column_int64(st, 1), "actor", db_text(st, 2), "role",
			 db_json_text(st, 3), "from", db_text(st, 4), "action", db_text(st, 5),
			 "account", db_json_text(st, 6), "machine_id", db_json_text(st, 7), "target",
			 db_json_text(st, 8), "detail", json_is_object(detail) ? detail : json_object());
}

int audit_list_json(struct db *db, const struct audit_query *q, json_t **out, int64_t *next_cursor)
{
	struct db_stmt *st;
	json_t *list;
	int64_t last = 0;
	unsigned n = 0, limit = q->limit;
	size_t alen = q->action ? strlen(q->action) : 0;
	int prefix = alen && q->action[alen - 1] == '.', rc;

	*out = NULL;
	*next_cursor = 0;
	if (limit < 1 || limit > AUDIT_LIST_MAX)
		return -EINVAL;
	/* one more than asked: whether another page follows */
	rc = db_prepare(db, &st,
			"SELECT l.id, l.at, l.actor, l.actor_role, l.source, l.action, a.name,"
			" m.machine_id, l.target, l.detail FROM audit_log l"
			" LEFT JOIN accounts a ON a.id = l.account_id"
			" LEFT JOIN machines m ON m.id = l.machine_ref"
			" WHERE (l.account_id = ?1 OR (?1 IS NULL AND l.account_id IS NULL))"
			" AND (?2 = 0 OR l.machine_ref = ?2)"
			" AND (CAST(?3 AS TEXT) IS NULL OR l.actor = ?3)"
			" AND (CAST(?4 AS TEXT) IS NULL"
			"      OR (?5 <> 0 AND substr(l.action, 1, length(?4)) = ?4)"
			"      OR (?5 = 0 AND l.action = ?4))"
			" AND (?6 = 0 OR l.at >= ?6) AND (?7 = 0 OR l.at < ?7)"
			" AND (?8 = 0 OR l.id < ?8)"
			" ORDER BY l.id DESC LIMIT ?9");
	if (rc)
		return rc;
	bind_ref(st, 1, q->account_id);
	db_bind_int64(st, 2, q->machine_ref);
	if (q->actor)
		db_bind_text(st, 3, q->actor);
	if (q->action)
		db_bind_text(st, 4, q->action);
	db_bind_int64(st, 5, prefix);
	db_bind_int64(st, 6, q->since);
	db_bind_int64(st, 7, q->until);
	db_bind_int64(st, 8, q->cursor);
	db_bind_int64(st, 9, (int64_t)limit + 1);
	list = json_array();
	if (!list) {
		db_finalize(st);
		return -ENOMEM;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == limit) {
			*next_cursor = last;
			continue;
		}
		last = db_column_int64(st, 0);
		if (json_array_append_new(list, record_json(st))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(list);
		return db_err(db, rc, "reading the audit log");
	}
	*out = list;
	return 0;
}
