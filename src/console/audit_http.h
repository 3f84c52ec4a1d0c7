/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audit records of the HTTP side (audit.h): who the request's caller is,
 * from the request's client address, and the write that also prunes with
 * serve's retention (--audit-keep, --audit-max-age).
 */
#ifndef LIVEMIG_CONSOLE_AUDIT_HTTP_H
#define LIVEMIG_CONSOLE_AUDIT_HTTP_H

#include "accounts.h"
#include "audit.h"
#include "http.h"

/* A user of account a: "USER@ACCOUNT" with the user's role. 0 or -errno. */
int audit_who_user(struct request *rq, const struct account *a, const char *user,
		   struct audit_who *w);
/* Any other caller: actor as given ("agent ID"), no role. */
void audit_who_other(struct request *rq, const char *actor, struct audit_who *w);
/* audit_write, then the pruning of r's account (in the same transaction). */
int audit_request(struct request *rq, const struct audit_who *w, const struct audit_rec *r,
		  int64_t now);

#endif
