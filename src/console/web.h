/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's web page (docs/console.md): the page and its assets, built
 * into the program (web_assets.c), and the calls only the page needs
 * (their routes are in routes.c with the API's):
 *   POST/GET/DELETE /api/v1/session            sign in, who am I, sign out
 *   GET/POST        /api/v1/tokens             installation tokens
 *   DELETE          /api/v1/tokens/ID          revoke
 *   POST            /api/v1/machines/ID/replication   pause or resume
 *   GET             /api/v1/machines/ID/timeline      throughput series, events
 *   GET             /api/v1/ca/console.pem     the CA certificate installers trust
 * The operator API (GET /api/v1/machines...) takes the page's session too
 * (api_auth.c), so the page and scripts read the same documents.
 */
#ifndef LIVEMIG_CONSOLE_WEB_H
#define LIVEMIG_CONSOLE_WEB_H

#include <stddef.h>

#include "accounts.h"
#include "http.h"
#include "signin.h"

struct MHD_Response;

/* Headers every answer carries: Set-Cookie when asked, and the page's
 * security policy (no framing, no sniffing, no foreign script). */
void web_headers(struct MHD_Response *resp, const struct reply *rp);

/* A request that carries the session cookie (and no Authorization header). */
int request_has_session(struct request *rq);
/* The session's account (and user): 401 session_expired for a session
 * that ended, 403 csrf_required for a state-changing method without the
 * session's X-CSRF-Token. 0 or -EACCES with rp set. */
int auth_session(struct request *rq, struct reply *rp, struct session *s);
/* A session or, for scripts, basic auth: the account and the user's name. */
int auth_web_operator(struct request *rq, struct reply *rp, struct account *acct, char *user,
		      size_t ulen);

/* The body as a JSON object, sent as application/json (else 415). */
int web_json_body(struct request *rq, struct reply *rp, json_t **out);

/* The page's static files: 0 with the bytes and type, or -ENOENT. */
int web_asset(const char *path, const char **data, size_t *len, const char **type);

/* Handlers (web_session.c, web_tokens.c, web_machines.c). */
void web_session_post(struct request *rq, struct reply *rp);
void web_session_get(struct request *rq, struct reply *rp);
void web_session_delete(struct request *rq, struct reply *rp);
void web_tokens_list(struct request *rq, struct reply *rp);
void web_tokens_create(struct request *rq, struct reply *rp);
void web_token_revoke(struct request *rq, struct reply *rp);
void web_replication_post(struct request *rq, struct reply *rp);
void web_timeline_get(struct request *rq, struct reply *rp);
void web_ca_get(struct request *rq, struct reply *rp);

/* The last certificate of a PEM chain, re-encoded (malloc'd): the console's
 * CA certificate when serve has no --console-ca. 0, -EINVAL or -ENOMEM. */
int console_ca_from_chain(const char *chain_pem, char **out);

#endif
