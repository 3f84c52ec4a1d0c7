/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who is calling. Operators: HTTP basic auth as USER@ACCOUNT with the
 * user's password (until the web page brings sessions). Agents: the bearer
 * secret they received at registration ("Authorization: Bearer lma_...").
 * On failure each sets the 401/403 reply and returns -EACCES.
 */
#ifndef LIVEMIG_CONSOLE_API_AUTH_H
#define LIVEMIG_CONSOLE_API_AUTH_H

#include "accounts.h"
#include "http.h"
#include "machines.h"

/* Split "USER@ACCOUNT" at the last '@'. 0 or -EINVAL. */
int split_login(const char *login, char *user, size_t ulen, char *account, size_t alen);

int auth_operator(struct request *rq, struct reply *rp, struct account *acct);
/* The calling agent must be machine_id's. */
int auth_agent(struct request *rq, struct reply *rp, const char *machine_id,
	       struct machine_ref *m);
/* machine_id must be a machine of account a: else 404 no_such_machine,
 * worded alike whether another account has it or nobody does. */
int auth_own_machine(struct request *rq, struct reply *rp, const struct account *a,
		     const char *machine_id, struct machine_ref *m);
/* Whether the request carries a bearer secret (an agent) rather than a login. */
int request_is_agent(struct request *rq);

#endif
