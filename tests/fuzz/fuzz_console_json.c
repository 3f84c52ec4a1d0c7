// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the console's JSON request bodies as they come off the network:
 * request_json() (src/console/reply.c: JSON, an object, no duplicate keys)
 * and then the registration request's checks (register_parse(),
 * src/console/register_parse.c), the richest body the console takes
 * before authentication. Beyond "no crash, leak or UB": a body refused
 * gets a 400 with an error and a code; one accepted has the members the
 * registration needs, within their documented limits, and an identity
 * the machine id can be derived from. Its credential alone
 * (register_parse_credential(), the body of POST /api/v1/register/check)
 * holds a token or a user, password and account, never both. The same object is read as an
 * agent's status document for its "cutover" report (cutover_report_parse(),
 * src/console/lifecycle_rules.c): accepted, it has one of the documented
 * states, a point id >= 0 and a one-line error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "machine_id.h"
#include "register.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_console_json: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                          \
			abort();                                                     \
		}                                                                    \
	} while (0)

static void check_error(const struct reply *rp)
{
	CHECK(rp->status == 400 || rp->status == 500);
	CHECK(json_is_string(json_object_get(rp->body, "error")));
	CHECK(json_is_string(json_object_get(rp->body, "code")));
}

static void check_cutover(const json_t *doc)
{
	struct cutover_report cr;
	int rc = cutover_report_parse(doc, &cr);

	CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
	CHECK(rc != -ENOENT || !json_object_get(doc, "cutover"));
	if (rc)
		return;
	CHECK(!strcmp(cr.state, "running") || !strcmp(cr.state, "done") ||
	      !strcmp(cr.state, "failed"));
	CHECK(cr.point_id >= 0);
	CHECK(strlen(cr.error) < sizeof(cr.error));
	CHECK(!strchr(cr.error, '\n') && !strchr(cr.error, '\r'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request rq = { .method = "POST", .url = "/api/v1/register" };
	struct reply rp = { .status = 0 };
	struct reg_request r;
	char *body;
	json_t *j = NULL;

	if (size > HTTP_BODY_MAX)
		return 0;
	/* http.c hands handlers a NUL-terminated copy of the body */
	body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	rq.body = body;
	rq.len = size;
	if (request_json(&rq, &rp, &j)) {
		check_error(&rp);
		goto out;
	}
	CHECK(json_is_object(j));
	check_cutover(j);
	/* the body of POST /api/v1/register/check: the credential alone */
	memset(&r, 0, sizeof(r));
	if (register_parse_credential(j, &r, &rp)) {
		check_error(&rp);
		json_decref(rp.body);
		rp = (struct reply){ .status = 0 };
	} else {
		CHECK(r.token || (r.user && r.password && r.account));
		CHECK(!(r.token && (r.user || r.password || r.account)));
	}
	memset(&r, 0, sizeof(r));
	if (register_parse(j, &r, &rp)) {
		check_error(&rp);
	} else {
		CHECK(r.token || (r.user && r.password && r.account));
		CHECK(!(r.token && (r.user || r.password || r.account)));
		/* machine_id is optional (the console derives the id): when
		 * given it is a valid name */
		CHECK(!r.machine_id || (name_valid(r.machine_id) && strlen(r.machine_id) <= 63));
		CHECK(r.hostname && r.csr && r.id_source && r.id_value);
		/* the identity the id is derived from is in its one spelling */
		CHECK(!machine_identity_invalid(r.id_source, r.id_value));
		CHECK(!strcmp(r.id_source, "mac") || !strcmp(r.id_source, "metadata"));
		CHECK(r.inventory && strlen(r.inventory) <= 256 * 1024);
	}
	free(r.inventory);
out:
	json_decref(j);
	json_decref(rp.body);
	free(body);
	return 0;
}
