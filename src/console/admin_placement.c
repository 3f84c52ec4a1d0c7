// SPDX-License-Identifier: GPL-2.0-or-later
/* admin pin-staging, unpin-staging, drain-staging, undrain-staging,
 * placement (admin.h; docs/staging-placement.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "console.h"
#include "db.h"
#include "machines.h"
#include "placement.h"

static int no_opts(void *ctx, int c, const char *arg)
{
	(void)ctx, (void)c, (void)arg;
	return 2;
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int audit_server(struct admin *a, const char *action, const char *name, json_t *detail)
{
	char target[96];
	int rc;

	snprintf(target, sizeof(target), "staging %s", name);
	rc = admin_audit_write(a, &(struct audit_rec){ .action = action, .target = target,
						       .detail = detail },
			       console_now());
	json_decref(detail);
	return rc;
}

static int audit_machine(struct admin *a, const char *machine_id, const char *action,
			 json_t *detail)
{
	struct machine_ref m;
	int rc = machine_lookup(a->db, machine_id, &m);

	if (!rc)
		rc = admin_audit_write(a, &(struct audit_rec){ .account_id = m.account_id,
							       .machine_ref = m.ref,
							       .action = action,
							       .detail = detail },
				       console_now());
	json_decref(detail);
	return rc;
}

/* Commit, or roll back on rc; 0 or rc. */
static int finish(struct admin *a, int rc)
{
	if (!rc)
		rc = db_commit(a->db);
	if (rc)
		db_rollback(a->db);
	return rc;
}

int admin_pin_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE pin-staging MACHINE SERVER\n"
		"Place MACHINE (its machine id) on the staging server SERVER and keep it\n"
		"there: drains of other servers leave it alone. If it replicated\n"
		"elsewhere, its agent moves at its next heartbeat and mirrors afresh to\n"
		"SERVER (docs/staging-placement.md).\n";
	struct placement p;
	const char *mid, *srv;
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 2);

	if (rc || (rc = admin_open(a)))
		return rc;
	mid = argv[optind];
	srv = argv[optind + 1];
	rc = db_begin(a->db);
	if (!rc)
		rc = placement_pin(a->db, mid, srv, console_now(), &p);
	if (!rc)
		rc = audit_machine(a, mid, "machine.pin_staging",
				   json_pack("{s:s}", "server", srv));
	rc = finish(a, rc);
	switch (rc) {
	case 0:
		printf("pinned machine %s on staging server %s (%s)%s%s\n", mid, p.server, p.address,
		       p.moving_from[0] ? ": it moves from " : "", p.moving_from);
		return 0;
	case -ENOENT:
		fprintf(stderr, PROG " admin: no registered machine '%s' (machine ids: list-machines "
				"ACCOUNT, or placement)\n", mid);
		return 1;
	case -ESRCH:
		fprintf(stderr, PROG " admin: no active staging server '%s' (see list-staging)\n", srv);
		return 1;
	case -EBUSY:
		fprintf(stderr, PROG " admin: staging server '%s' is draining: pin on another one, or "
				"undrain-staging %s first\n", srv, srv);
		return 1;
	case -EADDRNOTAVAIL:
		fprintf(stderr, PROG " admin: staging server '%s' advertises no address agents could "
				"connect to: start it with --advertise HOST:PORT\n", srv);
		return 1;
	default:
		fprintf(stderr, PROG " admin: cannot pin '%s': %s\n", mid, strerror(-rc));
		return 1;
	}
}

int admin_unpin_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE unpin-staging MACHINE\n"
				   "Drop MACHINE's pin; it stays on its staging server.\n";
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 1);

	if (rc || (rc = admin_open(a)))
		return rc;
	rc = db_begin(a->db);
	if (!rc)
		rc = placement_unpin(a->db, argv[optind]);
	if (!rc)
		rc = audit_machine(a, argv[optind], "machine.unpin_staging", NULL);
	rc = finish(a, rc);
	if (rc == -ENOENT) {
		fprintf(stderr, PROG " admin: no registered machine '%s'\n", argv[optind]);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin: cannot unpin '%s': %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	printf("unpinned machine %s\n", argv[optind]);
	return 0;
}

int admin_drain_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE drain-staging SERVER\n"
		"Place no new machine on SERVER, and place each of its machines on the\n"
		"other servers (pins on SERVER included). Each agent moves at its next\n"
		"heartbeat and mirrors afresh to its new server; SERVER keeps its replicas\n"
		"and points until it is removed (docs/staging-placement.md).\n";
	const char *srv;
	unsigned moved = 0;
	char by[AUDIT_ACTOR_MAX];
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 1);

	if (rc || (rc = admin_open(a)))
		return rc;
	srv = argv[optind];
	{
		struct audit_who w;

		admin_who(&w);
		snprintf(by, sizeof(by), "%s", w.actor);
	}
	rc = db_begin(a->db);
	if (!rc)
		rc = placement_drain(a->db, srv, by, console_now(), &moved);
	if (!rc)
		rc = audit_server(a, "staging.drain", srv,
				  json_pack("{s:I}", "moved", (json_int_t)moved));
	rc = finish(a, rc);
	switch (rc) {
	case 0:
		printf("draining staging server %s: %u machine%s placed on other servers; their "
		       "agents move at their next heartbeat (follow with list-staging)\n",
		       srv, moved, moved == 1 ? "" : "s");
		return 0;
	case -ESRCH:
		fprintf(stderr, PROG " admin: no active staging server '%s' (see list-staging)\n", srv);
		return 1;
	case -EALREADY:
		fprintf(stderr, PROG " admin: staging server '%s' is draining already\n", srv);
		return 1;
	case -ENOSPC:
		fprintf(stderr, PROG " admin: cannot drain '%s': no other staging server can take its "
				"machines (each must be active, not draining, started with --advertise "
				"and have synced in the last %d s); nothing was changed\n", srv,
			PLACEMENT_FRESH_S);
		return 1;
	default:
		fprintf(stderr, PROG " admin: cannot drain '%s': %s\n", srv, strerror(-rc));
		return 1;
	}
}

int admin_undrain_staging(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin --db FILE undrain-staging SERVER\n"
		"SERVER takes new machines again. Machines a drain moved stay where they\n"
		"are (pin-staging moves one back).\n";
	int rc = admin_parse(argc, argv, help, help_only, no_opts, NULL, 1);

	if (rc || (rc = admin_open(a)))
		return rc;
	rc = db_begin(a->db);
	if (!rc)
		rc = placement_undrain(a->db, argv[optind]);
	if (!rc)
		rc = audit_server(a, "staging.undrain", argv[optind], NULL);
	rc = finish(a, rc);
	if (rc == -ESRCH || rc == -EALREADY) {
		fprintf(stderr, PROG " admin: no active staging server '%s' that drains (see "
				"list-staging)\n", argv[optind]);
		return 1;
	}
	if (rc) {
		fprintf(stderr, PROG " admin: cannot undrain '%s': %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	printf("staging server %s takes new machines again\n", argv[optind]);
	return 0;
}

int admin_placement(struct admin *a, int argc, char **argv)
{
	static const char help[] = "Usage: " PROG " admin --db FILE placement [--json]\n"
				   "Each registered machine's staging server.\n";
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *list = NULL, *m;
	int json = 0, rc = admin_parse(argc, argv, help, opts, admin_json_opt, &json, 0);
	size_t i;

	if (rc || (rc = admin_open(a)))
		return rc;
	if ((rc = placement_list_json(a->db, &list))) {
		fprintf(stderr, PROG " admin: cannot list placements: %s\n", strerror(-rc));
		return 1;
	}
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(list);
		return 0;
	}
	printf("%-34s %-24s %-24s %s\n", "MACHINE", "HOSTNAME", "STAGING", "NOTE");
	json_array_foreach(list, i, m) {
		const char *srv = json_string_value(json_object_get(m, "server")),
			   *from = json_string_value(json_object_get(m, "moving_from"));
		char note[96] = "";

		if (json_is_true(json_object_get(m, "pinned")))
			snprintf(note, sizeof(note), "pinned");
		if (from)
			snprintf(note + strlen(note), sizeof(note) - strlen(note), "%smoving from %s",
				 note[0] ? ", " : "", from);
		printf("%-34s %-24s %-24s %s\n", json_string_value(json_object_get(m, "machine")),
		       json_string_value(json_object_get(m, "hostname")),
		       srv ? srv : "(configured)", note);
	}
	json_decref(list);
	return 0;
}
