// SPDX-License-Identifier: GPL-2.0-or-later
/* admin add-staging, list-staging, remove-staging (admin.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"
#include "placement.h"
#include "staging_servers.h"
#include "util.h"

static int no_opts(void *ctx, int c, const char *arg)
{
	(void)ctx, (void)c, (void)arg;
	return 2;
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Staging servers serve every account: their records are console-wide. */
static int audit_staging(struct admin *a, const char *action, const char *name)
{
	char target[96];

	snprintf(target, sizeof(target), "staging %s", name);
	return admin_audit_write(a, &(struct audit_rec){ .action = action, .target = target },
				 console_now());
}

int admin_add_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE add-staging NAME\n"
		"A credential for the staging server NAME to sync with this console\n"
		"(docs/staging-console.md). The secret is printed once, alone on stdout;\n"
		"the console keeps only its SHA-256. Put it in a file of mode 0600 that\n"
		"livemig-staging reads with --console-credential.\n";
	char secret[SECRET_STR_MAX];
	const char *name;
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 1);

	if (rc)
		return rc;
	name = argv[optind];
	if (!name_valid(name))
		return bad_usage(argv[0], "staging name '%s': use 1 to 63 characters of A-Z a-z 0-9 "
				 "_ - . (not starting with a dot)", name);
	if ((rc = admin_open(a)))
		return rc;
	rc = db_begin(a->db);
	if (!rc)
		rc = staging_add(a->db, name, console_now(), secret);
	if (!rc)
		rc = audit_staging(a, "staging.add", name);
	if (!rc)
		rc = db_commit(a->db);
	if (rc)
		db_rollback(a->db);
	if (rc == -EEXIST) {
		fprintf(stderr, PROG " admin: a staging server named '%s' exists already (names are "
				"never reused; choose another)\n", name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin: cannot add staging server '%s': %s\n", name,
			strerror(-rc));
		return 1;
	}
	printf("%s\n", secret);
	fflush(stdout);
	OPENSSL_cleanse(secret, sizeof(secret));
	fprintf(stderr, "added staging server %s: give it the secret above (shown once) with "
			"--console-credential FILE\n", name);
	return 0;
}

int admin_remove_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE remove-staging NAME\n"
		"Refuse NAME's secret from now on. Its points stay listed until another\n"
		"server reports the machines. Refused while machines are placed on it\n"
		"(drain-staging NAME first).\n";
	int64_t placed = 0;
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 1);

	if (rc || (rc = admin_open(a)))
		return rc;
	rc = db_begin(a->db);
	/* its machines' agents would be left pointing at a server that no
	 * longer syncs: they move first */
	if (!rc && !(rc = placement_count(a->db, argv[optind], &placed)) && placed)
		rc = -EBUSY;
	if (!rc)
		rc = staging_remove(a->db, argv[optind], console_now());
	if (!rc)
		rc = audit_staging(a, "staging.remove", argv[optind]);
	if (!rc)
		rc = db_commit(a->db);
	if (rc)
		db_rollback(a->db);
	if (rc == -ENOENT) {
		fprintf(stderr, PROG " admin: no active staging server '%s' (see list-staging)\n",
			argv[optind]);
		return 1;
	}
	if (rc == -EBUSY) {
		fprintf(stderr, PROG " admin: %lld machine%s placed on staging server '%s': move "
				"them first with drain-staging %s, then remove it\n", (long long)placed,
			placed == 1 ? " is" : "s are", argv[optind], argv[optind]);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin: cannot remove '%s': %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	printf("removed staging server %s: its secret is refused from now on\n", argv[optind]);
	return 0;
}

int admin_list_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE list-staging [--json]\n"
				   "Staging servers: where agents reach them, machines placed there and\n"
				   "stored there, last sync, free space, and drains in progress.\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *list = NULL, *s;
	int json = 0, rc = admin_parse(argc, argv, help, opts, admin_json_opt, &json, 0);
	size_t i;

	if (rc || (rc = admin_open(a)))
		return rc;
	if ((rc = staging_list_json(a->db, &list))) {
		fprintf(stderr, PROG " admin: cannot list staging servers: %s\n", strerror(-rc));
		return 1;
	}
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(list);
		return 0;
	}
	printf("%-16s %-22s %-6s %-6s %-24s %10s %s\n", "NAME", "ADVERTISE", "PLACED", "STORED",
	       "LAST SYNC", "FREE", "STATE");
	json_array_foreach(list, i, s) {
		char when[64] = "never", fb[32] = "-", state[64];
		json_t *ls = json_object_get(s, "last_sync"), *fr = json_object_get(s, "free_bytes");
		const char *adv = json_string_value(json_object_get(s, "advertise"));
		json_int_t moving = json_integer_value(json_object_get(s, "moving"));

		if (json_is_integer(ls))
			admin_time(json_integer_value(ls), when, sizeof(when));
		if (json_is_integer(fr))
			fmt_bytes((uint64_t)json_integer_value(fr), fb, sizeof(fb));
		/* a drain is in progress while machines it moved have not
		 * been reported by their new server */
		if (!json_is_null(json_object_get(s, "removed")))
			snprintf(state, sizeof(state), "removed");
		else if (json_is_null(json_object_get(s, "draining")))
			snprintf(state, sizeof(state), "active");
		else if (moving)
			snprintf(state, sizeof(state), "draining (%lld moving)", (long long)moving);
		else
			snprintf(state, sizeof(state), "drained");
		printf("%-16s %-22s %-6lld %-6lld %-24s %10s %s\n",
		       json_string_value(json_object_get(s, "name")), adv ? adv : "-",
		       (long long)json_integer_value(json_object_get(s, "placed")),
		       (long long)json_integer_value(json_object_get(s, "machines")), when, fb, state);
	}
	json_decref(list);
	return 0;
}
