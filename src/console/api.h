/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The REST handlers (docs/console-api.md). Each fills rp; none fails silently.
 * Those on /api/v1/machines/{machine}... find the machine id in rq->param
 * (routes.c). */
#ifndef LIVEMIG_CONSOLE_API_H
#define LIVEMIG_CONSOLE_API_H

#include "http.h"

void api_register(struct request *rq, struct reply *rp);
/* the credential alone, before the installer asks its other questions
 * (api_register_check.c) */
void api_register_check(struct request *rq, struct reply *rp);
void api_status_post(struct request *rq, struct reply *rp);
void api_machines_list(struct request *rq, struct reply *rp);
void api_machine_get(struct request *rq, struct reply *rp);
void api_machine_delete(struct request *rq, struct reply *rp);
/* staging servers (api_staging.c) and what they report (api_points.c) */
void api_staging_sync(struct request *rq, struct reply *rp);
void api_points_get(struct request *rq, struct reply *rp);
/* Prometheus metrics of the caller's account (api_metrics.c) */
void api_metrics_get(struct request *rq, struct reply *rp);
void api_jobs_list(struct request *rq, struct reply *rp);
void api_jobs_post(struct request *rq, struct reply *rp);
void api_job_get(struct request *rq, struct reply *rp);
/* the launch lifecycle (api_lifecycle.c) */
void api_lifecycle_get(struct request *rq, struct reply *rp);
void api_lifecycle_post(struct request *rq, struct reply *rp);
/* the audit log (api_audit.c) */
void api_audit_get(struct request *rq, struct reply *rp);
void api_machine_audit_get(struct request *rq, struct reply *rp);

#endif
