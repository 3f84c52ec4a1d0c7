// SPDX-License-Identifier: GPL-2.0-or-later
/* The queued deregistration: write it, deliver it, forget it. */
#include "install_pending.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "atomic_file.h"
#include "install_config.h"
#include "install_console.h"

static void paths(const char *state_dir, char *file, char *ca)
{
	snprintf(file, PATH_MAX, "%s/" PENDING_FILE, state_dir);
	snprintf(ca, PATH_MAX, "%s/" PENDING_CA_FILE, state_dir);
}

int pending_exists(const char *state_dir)
{
	char file[PATH_MAX], ca[PATH_MAX];

	paths(state_dir, file, ca);
	return access(file, F_OK) == 0;
}

int pending_queue(const char *state_dir, const struct pending *p, char *err, size_t errlen)
{
	char file[PATH_MAX], ca[PATH_MAX], *ca_pem = NULL, *text = NULL;
	size_t len;
	json_t *doc = NULL;
	int rc;

	paths(state_dir, file, ca);
	/* the configuration directory goes away: keep our own copy of the CA */
	if ((rc = read_small_file(p->console_ca, &ca_pem, &len, 1u << 20))) {
		snprintf(err, errlen, "cannot read %s: %s", p->console_ca, strerror(-rc));
		return rc;
	}
	if ((rc = mkdir_p(state_dir, 0700))) {
		snprintf(err, errlen, "cannot create %s: %s", state_dir, strerror(-rc));
		goto out;
	}
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I}", "machine_id", p->machine_id,
			"console_url", p->console_url, "console_ca", ca, "secret", p->secret, "proxy",
			p->proxy, "queued_at", (json_int_t)time(NULL));
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = atomic_write_file(ca, ca_pem, len, 0644)) ||
	    (rc = atomic_write_file(file, text, strlen(text), 0600)))
		snprintf(err, errlen, "cannot write the queued deregistration in %s: %s", state_dir,
			 strerror(-rc));
out:
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	json_decref(doc);
	free(ca_pem);
	return rc;
}

int pending_send(const char *state_dir, unsigned retries, char *msg, size_t msglen)
{
	char file[PATH_MAX], ca[PATH_MAX];
	struct console_answer a;
	struct console_client c = { .retries = retries };
	const char *machine;
	json_t *doc;
	int rc;

	paths(state_dir, file, ca);
	doc = json_load_file(file, 0, NULL);
	if (!doc) {
		if (access(file, F_OK) && errno == ENOENT)
			return -ENOENT;
		snprintf(msg, msglen, "%s is unreadable: delete it and deregister the machine in "
				      "the console", file);
		return -EINVAL;
	}
	machine = json_string_value(json_object_get(doc, "machine_id"));
	c.url = json_string_value(json_object_get(doc, "console_url"));
	c.ca = json_string_value(json_object_get(doc, "console_ca"));
	c.bearer = json_string_value(json_object_get(doc, "secret"));
	c.proxy = json_string_value(json_object_get(doc, "proxy"));
	if (!machine || !c.url || !c.ca || !c.bearer) {
		snprintf(msg, msglen, "%s lacks machine_id, console_url, console_ca or secret: "
				      "delete it and deregister the machine in the console", file);
		json_decref(doc);
		return -EINVAL;
	}
	rc = console_deregister(&c, machine, &a);
	if (rc == -EPERM && (!strcmp(a.code, "bad_agent_secret") || a.status == 404)) {
		/* a registration since then replaced the secret: that one holds
		 * the license now, and is not ours to release */
		snprintf(msg, msglen, "the console no longer knows the queued registration of %s "
				      "(registered again since): nothing to release", machine);
		rc = 0;
	} else if (rc == 0) {
		snprintf(msg, msglen, "machine %s deregistered at %s (queued deregistration "
				      "sent): its license is free", machine, c.url);
	} else {
		snprintf(msg, msglen, "queued deregistration of %s not sent: %s", machine,
			 a.error[0] ? a.error : strerror(-rc));
	}
	if (rc == 0) {
		unlink(file);
		unlink(ca);
	}
	console_answer_clear(&a);
	OPENSSL_cleanse((char *)c.bearer, strlen(c.bearer));
	json_decref(doc);
	return rc;
}
