// SPDX-License-Identifier: GPL-2.0-or-later
/* The lifecycle row, the points it launches and its staging jobs (lifecycle_store.h). */
#include "lifecycle_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "jobs.h"
#include "machines.h"

static void copy(char *dst, size_t n, struct db_stmt *st, int col)
{
	snprintf(dst, n, "%s", db_text(st, col));
}

int lc_load(struct db *db, int64_t machine_ref, struct lc_row *r)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT m.machine_id, m.deregistered_at, m.registered_at, l.state, l.since,"
			    " l.instance_name, l.instance_purpose, l.instance_point,"
			    " l.instance_staging_ref, l.instance_job, l.instance_state,"
			    " l.instance_address, l.cutover_requested_at, l.cutover_requested_by,"
			    " l.cutover_job, l.cutover_agent_state, l.finalized_at, l.finalized_by"
			    " FROM machines m LEFT JOIN machine_lifecycle l ON l.machine_ref = m.id"
			    " WHERE m.id = ?");

	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	db_bind_int64(st, 1, machine_ref);
	rc = db_step(st);
	if (rc != DB_ROW) {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "reading a machine's lifecycle");
		db_finalize(st);
		return rc;
	}
	r->machine_ref = machine_ref;
	copy(r->machine_id, sizeof(r->machine_id), st, 0);
	r->registered = db_column_is_null(st, 1);
	r->state = LC_READY_FOR_TEST;
	r->since = db_column_int64(st, 2);
	if (!db_column_is_null(st, 3)) {
		/* written only by lc_save from the enum: another value is a
		 * damaged database, said rather than guessed */
		if (lc_state_parse(db_text(st, 3), &r->state)) {
			db_finalize(st);
			return db_err(db, -EIO, "reading a machine's lifecycle state");
		}
		r->since = db_column_int64(st, 4);
	}
	copy(r->inst_name, sizeof(r->inst_name), st, 5);
	copy(r->inst_purpose, sizeof(r->inst_purpose), st, 6);
	r->inst_point = db_int_or(st, 7, 0);
	r->inst_staging = db_int_or(st, 8, 0);
	r->inst_job = db_int_or(st, 9, 0);
	copy(r->inst_state, sizeof(r->inst_state), st, 10);
	copy(r->inst_address, sizeof(r->inst_address), st, 11);
	r->cut_at = db_int_or(st, 12, 0);
	copy(r->cut_by, sizeof(r->cut_by), st, 13);
	r->cut_job = db_int_or(st, 14, 0);
	copy(r->cut_agent, sizeof(r->cut_agent), st, 15);
	r->fin_at = db_int_or(st, 16, 0);
	copy(r->fin_by, sizeof(r->fin_by), st, 17);
	db_finalize(st);
	return 0;
}

static void bind_text_or_null(struct db_stmt *st, int i, const char *s)
{
	if (s[0])
		db_bind_text(st, i, s);
}

static void bind_int_or_null(struct db_stmt *st, int i, int64_t v)
{
	if (v)
		db_bind_int64(st, i, v);
}

int lc_save(struct db *db, const struct lc_row *r)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    "INSERT INTO machine_lifecycle (machine_ref, state, since, instance_name,"
			    " instance_purpose, instance_point, instance_staging_ref, instance_job,"
			    " instance_state, instance_address, cutover_requested_at,"
			    " cutover_requested_by, cutover_job, cutover_agent_state, finalized_at,"
			    " finalized_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			    " ?13, ?14, ?15, ?16) ON CONFLICT (machine_ref) DO UPDATE SET state = ?2,"
			    " since = ?3, instance_name = ?4, instance_purpose = ?5,"
			    " instance_point = ?6, instance_staging_ref = ?7, instance_job = ?8,"
			    " instance_state = ?9, instance_address = ?10, cutover_requested_at = ?11,"
			    " cutover_requested_by = ?12, cutover_job = ?13, cutover_agent_state = ?14,"
			    " finalized_at = ?15, finalized_by = ?16");

	if (rc)
		return rc;
	db_bind_int64(st, 1, r->machine_ref);
	db_bind_text(st, 2, lc_state_name(r->state));
	db_bind_int64(st, 3, r->since);
	bind_text_or_null(st, 4, r->inst_name);
	bind_text_or_null(st, 5, r->inst_purpose);
	bind_int_or_null(st, 6, r->inst_point);
	bind_int_or_null(st, 7, r->inst_staging);
	bind_int_or_null(st, 8, r->inst_job);
	bind_text_or_null(st, 9, r->inst_state);
	bind_text_or_null(st, 10, r->inst_address);
	bind_int_or_null(st, 11, r->cut_at);
	bind_text_or_null(st, 12, r->cut_by);
	bind_int_or_null(st, 13, r->cut_job);
	bind_text_or_null(st, 14, r->cut_agent);
	bind_int_or_null(st, 15, r->fin_at);
	bind_text_or_null(st, 16, r->fin_by);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err(db, rc, "storing a machine's lifecycle");
}

void lc_facts_of(const struct lc_row *r, struct lc_facts *f)
{
	f->state = r->state;
	f->launching = r->inst_name[0] && !strcmp(r->inst_state, INSTANCE_LAUNCHING);
	f->instance_ok = r->inst_name[0] && (!strcmp(r->inst_state, INSTANCE_UP) ||
					     !strcmp(r->inst_state, INSTANCE_EXPORTED));
	f->registered = r->registered;
}

void lc_move(struct lc_row *r, enum lc_state to, int64_t now)
{
	if (r->state != to) {
		r->state = to;
		r->since = now;
	}
}

void lc_instance_clear(struct lc_row *r)
{
	r->inst_name[0] = r->inst_purpose[0] = r->inst_state[0] = r->inst_address[0] = '\0';
	r->inst_point = r->inst_staging = r->inst_job = 0;
}

int lc_point_find(struct db *db, int64_t machine_ref, int64_t want, int64_t after_ns, int newest,
		  struct lc_point *p)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st,
			    newest ? "SELECT p.staging_ref, p.point_id, p.time_ns, s.name"
				     " FROM recovery_points p JOIN staging_servers s ON s.id = p.staging_ref"
				     " WHERE p.machine_ref = ?1 AND (?2 = 0 OR p.point_id = ?2)"
				     " AND p.time_ns >= ?3 AND s.removed_at IS NULL"
				     " ORDER BY p.time_ns DESC, p.point_id DESC LIMIT 1"
				   : "SELECT p.staging_ref, p.point_id, p.time_ns, s.name"
				     " FROM recovery_points p JOIN staging_servers s ON s.id = p.staging_ref"
				     " WHERE p.machine_ref = ?1 AND (?2 = 0 OR p.point_id = ?2)"
				     " AND p.time_ns >= ?3 AND s.removed_at IS NULL"
				     " ORDER BY p.time_ns, p.point_id LIMIT 1");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	db_bind_int64(st, 2, want);
	db_bind_int64(st, 3, after_ns);
	rc = db_step(st);
	if (rc == DB_ROW) {
		p->staging_ref = db_column_int64(st, 0);
		p->id = db_column_int64(st, 1);
		p->time_ns = db_column_int64(st, 2);
		copy(p->staging, sizeof(p->staging), st, 3);
		rc = 0;
	} else {
		rc = rc == DB_DONE ? -ENOENT : db_err(db, rc, "finding a recovery point");
	}
	db_finalize(st);
	return rc;
}

/* CPU and memory from the machine's inventory, when it says. */
static int add_size(struct db *db, int64_t machine_ref, json_t *params)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT inventory FROM machines WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, machine_ref);
	if (db_step(st) == DB_ROW) {
		json_t *inv = json_loads(db_text(st, 0), 0, NULL);
		json_t *sum = inv ? inventory_summary(inv) : NULL;
		json_t *cores = json_object_get(sum, "cores"), *mem = json_object_get(sum, "memory_bytes");

		if (json_is_integer(cores) && json_integer_value(cores) > 0)
			json_object_set_new(params, "cpus", json_integer(json_integer_value(cores)));
		if (json_is_number(mem) && json_number_value(mem) >= 1048576)
			json_object_set_new(params, "memory_mib",
					    json_integer((json_int_t)(json_number_value(mem) / 1048576)));
		json_decref(sum);
		json_decref(inv);
	}
	db_finalize(st);
	return 0;
}

int lc_launch(struct db *db, struct lc_row *r, const char *purpose, const struct lc_point *p,
	      const struct lc_size *size, const char *owner, int64_t now, int64_t *job)
{
	json_t *params = json_pack("{s:s, s:I}", "purpose", purpose, "point", (json_int_t)p->id);
	char name[sizeof(r->inst_name)];
	int rc;

	if (!params)
		return -ENOMEM;
	if (!strcmp(purpose, "test"))
		json_object_set_new(params, "hostname_suffix", json_string("-test"));
	rc = add_size(db, r->machine_ref, params);
	/* the operator's choice over the inventory's */
	if (!rc && size && size->cpus)
		rc = json_object_set_new(params, "cpus", json_integer(size->cpus)) ? -ENOMEM : 0;
	if (!rc && size && size->memory_mib)
		rc = json_object_set_new(params, "memory_mib", json_integer(size->memory_mib)) ?
			     -ENOMEM : 0;
	if (!rc)
		rc = job_create_on(db, r->machine_ref, p->staging_ref, JOB_KIND_LAUNCH, params, owner,
				   now, job);
	/* the name carries the job's id, known only now */
	snprintf(name, sizeof(name), "%s-%s-%lld", r->machine_id, purpose, (long long)*job);
	if (!rc)
		rc = json_object_set_new(params, "name", json_string(name)) ? -ENOMEM : 0;
	if (!rc)
		rc = job_params_set(db, *job, params);
	json_decref(params);
	if (rc)
		return rc;
	snprintf(r->inst_name, sizeof(r->inst_name), "%s", name);
	snprintf(r->inst_purpose, sizeof(r->inst_purpose), "%s", purpose);
	snprintf(r->inst_state, sizeof(r->inst_state), "%s", INSTANCE_LAUNCHING);
	r->inst_address[0] = '\0';
	r->inst_point = p->id;
	r->inst_staging = p->staging_ref;
	r->inst_job = *job;
	return 0;
}

int lc_destroy(struct db *db, int64_t machine_ref, int64_t staging_ref, const char *name,
	       int64_t point, const char *owner, int64_t now, int64_t *job)
{
	json_t *params = json_pack("{s:s, s:I}", "name", name, "point", (json_int_t)point);
	int rc;

	if (!params)
		return -ENOMEM;
	rc = job_create_on(db, machine_ref, staging_ref, JOB_KIND_DESTROY, params, owner, now, job);
	json_decref(params);
	return rc;
}

int lc_destroy_instance(struct db *db, struct lc_row *r, const char *owner, int64_t now,
			int64_t *job)
{
	int rc;

	*job = 0;
	if (!r->inst_name[0])
		return 0;
	rc = lc_destroy(db, r->machine_ref, r->inst_staging, r->inst_name, r->inst_point, owner,
			now, job);
	if (!rc)
		snprintf(r->inst_state, sizeof(r->inst_state), "%s", INSTANCE_DESTROYING);
	return rc;
}
