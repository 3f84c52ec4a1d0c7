// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * admin remove-machine: what the page's Remove button does, for the
 * operator at the console's host (admin.h). The license is freed at once;
 * staging refuses the machine's certificate from its next sync with the
 * console, and the agent stops at its next heartbeat, told who removed it.
 * It asks first: on a terminal the machine id must be typed back; without
 * one, --yes says it.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"
#include "machines.h"

static int yes_opt(void *ctx, int c, const char *arg)
{
	(void)arg;
	if (c != 'y')
		return 2;
	*(int *)ctx = 1;
	return 0;
}

/* The machine id typed back on the terminal: 0 when it matches. */
static int confirm(const char *account, const char *machine_id)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc;

	printf("Remove machine %s from account %s? Its license is freed, staging refuses its "
	       "certificate and its agent stops replicating; replicating it again needs a "
	       "reinstall of the agent.\nType the machine id to confirm: ", machine_id, account);
	fflush(stdout);
	n = getline(&line, &cap, stdin);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	rc = n > 0 && !strcmp(line, machine_id) ? 0 : -ECANCELED;
	free(line);
	return rc;
}

int admin_remove_machine(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE remove-machine ACCOUNT MACHINE [--yes]\n"
		"Remove MACHINE from ACCOUNT, as the page's Remove button does: its license\n"
		"is free at once, staging refuses its certificate from its next sync, and\n"
		"its agent stops replicating at its next heartbeat (livemig status then says\n"
		"it was removed by the console operator). On a terminal it asks for the\n"
		"machine id; otherwise --yes is required.\n";
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char when[64];
	const char *machine_id;
	struct audit_who w;
	struct machine_ref m;
	struct account acct;
	int64_t in_use = 0, now = console_now();
	int yes = 0, removed = 0;
	int rc = admin_parse(argc, argv, help, opts, yes_opt, &yes, 2);

	if (rc || (rc = admin_open(a)) || (rc = admin_account(a, argv[optind], &acct)))
		return rc;
	machine_id = argv[optind + 1];
	rc = machine_lookup(a->db, machine_id, &m);
	if (rc == -ENOENT || (!rc && m.account_id != acct.id)) {
		fprintf(stderr, PROG " admin remove-machine: account %s has no machine %s (see "
			PROG " admin --db %s list-machines %s)\n", acct.name, machine_id, a->db_path,
			acct.name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin remove-machine: cannot read machine %s: %s\n",
			machine_id, strerror(-rc));
		return 1;
	}
	if (m.deregistered_at) {
		admin_time(m.deregistered_at, when, sizeof(when));
		printf("machine %s was already deregistered at %s: its license is free\n",
		       machine_id, when);
		return 0;
	}
	if (!yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, PROG " admin remove-machine: not removed: confirm with --yes (the "
			"input is not a terminal to ask on)\n");
		return 1;
	}
	if (!yes && confirm(acct.name, machine_id)) {
		fprintf(stderr, PROG " admin remove-machine: not removed: the machine id typed "
			"does not match %s\n", machine_id);
		return 1;
	}
	admin_who(&w);
	rc = db_begin(a->db);
	if (!rc)
		rc = machine_remove(a->db, m.ref, w.actor, now, &removed);
	if (!rc)
		rc = licenses_in_use(a->db, acct.id, &in_use);
	if (!rc && removed) {
		json_t *d = json_pack("{s:I}", "licenses_in_use", (json_int_t)in_use);

		rc = d ? audit_write(a->db, &w, &(struct audit_rec){ .account_id = acct.id,
					.machine_ref = m.ref, .action = "machine.remove",
					.detail = d }, now)
		       : -ENOMEM;
		json_decref(d);
	}
	if (!rc)
		rc = db_commit(a->db);
	if (rc) {
		db_rollback(a->db);
		fprintf(stderr, PROG " admin remove-machine: cannot remove %s: %s\n", machine_id,
			strerror(-rc));
		return 1;
	}
	printf("machine %s removed from account %s: its license is free (%lld of %lld in use); "
	       "staging refuses its certificate from its next sync; its agent stops replicating "
	       "at its next heartbeat\n", machine_id, acct.name, (long long)in_use,
	       (long long)acct.licenses);
	return 0;
}
