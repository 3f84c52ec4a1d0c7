/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/register for the installer, and what each outcome means for
 * the operator: the console's error codes become install's exit statuses
 * (install.h) and one-line messages that say what to do.
 */
#ifndef LIVEMIG_INSTALL_REGISTER_H
#define LIVEMIG_INSTALL_REGISTER_H

#include <stddef.h>

#include <jansson.h>

#include "identity.h"
#include "install_console.h"

struct reg_credentials {
	const char *token;    /* or: */
	const char *user;
	const char *account;  /* with user; with a token, only to check the answer */
	const char *password;
};

/* What install needs from a successful answer (pointers into the answer). */
struct reg_result {
	json_t *answer;
	const char *machine_id, *account, *certificate, *secret;
	const char *staging_address, *staging_ca; /* staging_ca may be NULL */
	const char *staging_server; /* the server the console placed it on; NULL: none */
	long heartbeat_interval_s;
	int license_reused;
	long long licenses_in_use, licenses_total;
	int http_status;
};

/*
 * Register. INSTALL_OK with r filled (release with reg_result_clear()), or
 * the exit status for the failure with a one-line message for the operator
 * in msg (no secret in it). The console derives the machine id from the
 * account and the identity (docs/identity.md); the request names none, and
 * the answer's id must be identity_machine_id(id, answer's account). An
 * answer install cannot use is deregistered
 * again before returning, so the console is left as it was.
 */
int reg_register(const struct console_client *c, const struct reg_credentials *cred,
		 const struct identity *id, json_t *inventory, const char *csr,
		 struct reg_result *r, char *msg, size_t msglen);
void reg_result_clear(struct reg_result *r);

/*
 * POST /api/v1/register/check: the credential alone, nothing recorded.
 * INSTALL_OK with what the console said in msg ("account acme: 1 of 2
 * licenses in use"; "" from a console too old to know the request, which
 * is not an error), or reg_register's exit status and message for the
 * refusal.
 */
int reg_check(const struct console_client *c, const struct reg_credentials *cred, char *msg,
	      size_t msglen);

/*
 * The exit status and message for a console_call() that failed (rc) or was
 * answered with an error (a->code): unreachable, certificate, each code.
 * what: "registration", "deregistration".
 */
int reg_failure(int rc, const struct console_answer *a, const struct console_client *c,
		const char *what, char *msg, size_t msglen);

#endif
