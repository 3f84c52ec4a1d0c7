// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GET /metrics: the caller's account in Prometheus' text format
 * (docs/metrics.md). An operator login (HTTP basic auth, as Prometheus'
 * basic_auth sends it), scoped like every operator call.
 */
#include <errno.h>

#include "accounts.h"
#include "api.h"
#include "api_auth.h"
#include "console.h"
#include "machines.h"
#include "metrics.h"
#include "staging_sync.h"

void api_metrics_get(struct request *rq, struct reply *rp)
{
	struct metrics_input in = { 0 };
	json_t *machines = NULL, *newest = NULL;
	struct account a;
	int64_t in_use = 0, now = console_now();
	int rc;

	if (auth_operator(rq, rp, &a))
		return;
	rc = licenses_in_use(rq->db, a.id, &in_use);
	if (!rc)
		rc = machines_list_json(rq->db, a.id, rq->c->heartbeat_timeout_s, now, &machines);
	if (!rc)
		rc = points_newest_json(rq->db, a.id, &newest);
	if (rc) {
		reply_internal(rp, rc);
		goto out;
	}
	in.account = a.name;
	in.licenses_total = a.licenses;
	in.licenses_in_use = in_use;
	in.machines = machines;
	in.newest_points = newest;
	in.now_ns = now * 1000000000LL;
	rp->text = metrics_console_text(&in);
	if (!rp->text) {
		reply_internal(rp, -ENOMEM);
		goto out;
	}
	rp->status = 200;
	rp->content_type = "text/plain; version=0.0.4; charset=utf-8";
out:
	json_decref(machines);
	json_decref(newest);
}
