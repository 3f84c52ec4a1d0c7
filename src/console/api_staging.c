// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POST /api/v1/staging/sync (docs/staging-console.md): a staging server
 * reports its store, the machines it holds with their recovery points and
 * its jobs' progress; the answer tells it which certificate of each
 * machine may connect (revocation) and which jobs to run. One transaction:
 * a sync is applied whole or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "api.h"
#include "console.h"
#include "db.h"
#include "jobs.h"
#include "lifecycle.h"
#include "log.h"
#include "placement.h"
#include "staging_servers.h"
#include "staging_sync.h"

static int auth_staging(struct request *rq, struct reply *rp, struct staging_ref *s)
{
	const char *h = request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	int rc;

	if (h && !strncasecmp(h, "Bearer ", 7))
		for (h += 7; *h == ' '; h++)
			;
	else
		h = NULL;
	if (!h || strncmp(h, STAGING_PREFIX, strlen(STAGING_PREFIX)))
		return reply_error(rp, 401, "auth_required",
				   "authentication required: \"Authorization: Bearer <staging "
				   "secret>\" as printed by 'livemig-console admin add-staging'");
	rc = staging_by_secret(rq->db, h, s);
	if (rc == -ENOENT)
		return reply_error(rp, 401, "bad_staging_secret",
				   "unknown or removed staging secret: issue a new one with "
				   "'livemig-console admin add-staging NAME'");
	if (rc)
		return reply_internal(rp, rc);
	snprintf(rp->who, sizeof(rp->who), "staging=%s", s->name);
	return 0;
}

static json_int_t opt_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v ? json_integer_value(v) : -1;
}

void api_staging_sync(struct request *rq, struct reply *rp)
{
	json_t *req = NULL, *certs = NULL, *jobs = NULL, *known = NULL, *store;
	struct staging_ref s;
	int64_t now = console_now();
	unsigned unknown = 0;
	const char *version;
	char why[256];
	int rc;

	if (auth_staging(rq, rp, &s) || request_json(rq, rp, &req))
		return;
	if (sync_request_check(req, why, sizeof(why))) {
		reply_error(rp, 400, "malformed", "malformed sync: %s", why);
		goto out;
	}
	store = json_object_get(req, "store");
	version = json_string_value(json_object_get(req, "version"));
	rc = db_begin(rq->db);
	if (!rc)
		rc = staging_synced(rq->db, s.ref, now, version ? version : "", opt_int(store, "free_bytes"),
				    opt_int(store, "total_bytes"),
				    json_string_value(json_object_get(req, "advertise")));
	if (!rc)
		rc = points_report(rq->db, s.ref, json_object_get(req, "machines"), now, &unknown);
	/* machines a drain sent here have arrived once reported */
	if (!rc)
		rc = placement_arrived(rq->db, s.ref);
	if (!rc && json_object_get(req, "jobs"))
		rc = jobs_apply_reports(rq->db, s.ref, json_object_get(req, "jobs"), now);
	/* new points may be a cutover's; its launch goes out in this answer */
	if (!rc)
		rc = lifecycle_tick(rq->db, 0, now, rq->c->cutover_timeout_s);
	if (!rc)
		rc = staging_certificates_json(rq->db, &certs);
	if (!rc)
		rc = points_known_json(rq->db, s.ref, &known);
	if (!rc)
		rc = db_commit(rq->db);
	/* the jobs after the reports' commit, in a transaction of their own
	 * that on PostgreSQL locks only the jobs it takes
	 * (docs/console-database.md) */
	if (!rc)
		rc = db_begin_rows(rq->db);
	if (!rc)
		rc = jobs_for_staging(rq->db, s.ref, now, rq->c->job_lease_s, &jobs);
	if (!rc)
		rc = db_commit(rq->db);
	if (rc) {
		db_rollback(rq->db);
		reply_internal(rp, rc);
		goto out;
	}
	if (unknown)
		log_debug("staging %s stores %u machine%s this console does not know", s.name,
			  unknown, unknown == 1 ? "" : "s");
	reply_json(rp, 200, json_pack("{s:s, s:I, s:{s:o}, s:o, s:o}", "staging", s.name, "time",
				      (json_int_t)now, "revocation", "machines", certs, "jobs",
				      jobs, "points_known", known));
	certs = jobs = known = NULL;
out:
	json_decref(known);
	json_decref(certs);
	json_decref(jobs);
	json_decref(req);
}
