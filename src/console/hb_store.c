// SPDX-License-Identifier: GPL-2.0-or-later
/* A heartbeat stored under its machine's row lock, or the writers' lock
 * when its lifecycle has work (hb_store.h). */
#include "hb_store.h"

#include <errno.h>

#include "lifecycle.h"
#include "machines.h"

/* Under the row lock: the machine still holds its license. A removal,
 * deregistration or finalize that committed while this heartbeat waited
 * for the lock is seen here (each statement reads the latest commits). */
static int registered(struct db *db, int64_t ref)
{
	struct db_stmt *st;
	int rc = db_prepare(db, &st, "SELECT deregistered_at IS NULL FROM machines WHERE id = ?");

	if (rc)
		return rc;
	db_bind_int64(st, 1, ref);
	rc = db_step(st);
	if (rc == DB_ROW)
		rc = db_column_int64(st, 0) ? 0 : -ESTALE;
	else
		rc = rc == DB_DONE ? -ESTALE : db_err(db, rc, "reading a machine's registration");
	db_finalize(st);
	return rc;
}

/* One attempt; writers: under the writers' lock, with the lifecycle's
 * work. -EAGAIN: without it, and the lifecycle has work (rolled back). */
static int attempt(struct db *db, const struct heartbeat *hb, int writers, json_t **cutover)
{
	int rc;

	if (writers) {
		rc = db_begin(db);
		if (!rc)
			rc = db_lock_machine(db, hb->ref);
	} else {
		rc = db_begin_machine(db, hb->ref);
	}
	if (rc == -ENOENT)
		rc = -ESTALE;
	if (!rc)
		rc = registered(db, hb->ref);
	if (!rc && !writers) {
		rc = lifecycle_heartbeat_due(db, hb->ref, hb->now);
		if (rc > 0)
			rc = -EAGAIN;
	}
	if (!rc)
		rc = machine_status_store(db, hb->ref, hb->text, hb->state, hb->now,
					  hb->history_max);
	/* the agent's cutover report, and the cutover's wait moved on */
	if (!rc && writers)
		rc = lifecycle_agent_report(db, hb->ref, hb->doc, hb->now);
	if (!rc && writers)
		rc = lifecycle_tick(db, hb->ref, hb->now, hb->cutover_timeout_s);
	if (!rc)
		rc = lifecycle_cutover_request(db, hb->ref, cutover);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		json_decref(*cutover);
		*cutover = NULL;
	}
	return rc;
}

int hb_store(struct db *db, const struct heartbeat *hb, json_t **cutover)
{
	int rc;

	*cutover = NULL;
	rc = attempt(db, hb, 0, cutover);
	/* never waits for the writers' lock holding the row: rolled back
	 * first, then both taken in the order every writer takes them */
	if (rc == -EAGAIN)
		rc = attempt(db, hb, 1, cutover);
	return rc;
}
