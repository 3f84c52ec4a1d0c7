// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig-staging points list|show|export|serve|pin|unpin|delete|prune */
#include "points_cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "point_export.h"
#include "point_reader.h"
#include "points.h"
#include "store_backend.h"
#include "usage.h"
#include "util.h"

#define PROG "livemig-staging points"

struct cli {
	const char *store, *disk, *format, *output, *socket, *pin;
	int json, progress;
	struct retention_policy keep;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " COMMAND MACHINE [ID] --store DIR [options]\n"
		"\n"
		"The recovery points staging keeps of each machine: one per consistent\n"
		"point the agent marked (final sync, periodic, requested), covering all\n"
		"of the machine's disks.\n"
		"\n"
		"Commands:\n"
		"  list MACHINE              the machine's points, oldest first\n"
		"  show MACHINE ID           one point\n"
		"  export MACHINE ID --disk NAME --format raw|qcow2 --output FILE\n"
		"                            write one disk as of the point to FILE\n"
		"  serve MACHINE ID --disk NAME --socket PATH\n"
		"                            serve one disk read-only over NBD (nbdkit)\n"
		"                            until interrupted\n"
		"  pin MACHINE ID [--name NAME]    keep the point until unpinned\n"
		"  unpin MACHINE ID [--name NAME]  remove that pin (default name: manual)\n"
		"  delete MACHINE ID         delete an unpinned point\n"
		"  prune MACHINE [--keep-all DURATION] [--keep-hourly N] [--keep-daily N]\n"
		"                            delete what the retention policy does not keep\n"
		"                            (defaults 1h, 24, 7; pinned points stay)\n"
		"\n"
		"Options:\n"
		"  --store DIR     the staging store (livemig-staging's --store)\n"
		"  --json          machine-readable output (list, show)\n"
		"  --help          show this help\n"
		"\n"
		"Exports and NBD serving may run while replication goes on. Points of an\n"
		"RBD image store are read from and deleted in Ceph, with the pool and\n"
		"Ceph options livemig-staging recorded in DIR/" STORE_BACKEND_FILE ".\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The image store the server recorded in the store. 0, or 1 (reported). */
static int open_image_store(const char *store)
{
	struct store_backend_config bc = { .root = store };
	char err[1024];

	if (store_backend_setup(&bc, 0, err, sizeof(err)))
		return fail("%s", err);
	return 0;
}

static int parse_id(const char *s, uint64_t *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 10);
	return !*s || *end || errno || !*id || s[0] == '-' ? -1 : 0;
}

static int print_json(json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2));

	if (!text)
		return fail("out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

static int machine_error(const char *machine, int rc, const char *store)
{
	if (rc == -ENOENT)
		return fail("the store %s holds no machine %s (its directory has no manifest.json)",
			    store, machine);
	if (rc == -EINVAL)
		return fail("'%s' is not a machine name", machine);
	return fail("cannot read the points of %s in %s: %s", machine, store, strerror(-rc));
}

static int cmd_list(const struct cli *c, const char *machine)
{
	json_t *o, *p;
	size_t i;
	int rc = points_list_json(c->store, machine, &o);

	if (rc)
		return machine_error(machine, rc, c->store);
	if (c->json) {
		rc = print_json(o);
		json_decref(o);
		return rc;
	}
	printf("%-6s %-24s %-10s %-11s %-6s %s\n", "ID", "TIME (UTC)", "ORIGIN", "CONSISTENCY",
	       "PINNED", "DISKS");
	json_array_foreach(json_object_get(o, "points"), i, p) {
		json_t *d;
		size_t j;

		printf("%-6" JSON_INTEGER_FORMAT " %-24s %-10s %-11s %-6s ",
		       json_integer_value(json_object_get(p, "id")),
		       json_string_value(json_object_get(p, "time")),
		       json_string_value(json_object_get(p, "origin")),
		       json_string_value(json_object_get(p, "consistency")),
		       json_is_true(json_object_get(p, "pinned")) ? "yes" : "no");
		json_array_foreach(json_object_get(p, "disks"), j, d)
			printf("%s%s", j ? "," : "", json_string_value(json_object_get(d, "name")));
		printf("\n");
	}
	if (!json_array_size(json_object_get(o, "points")))
		printf("(no points yet: staging makes one for each consistent point the agent "
		       "marks, e.g. after 'livemig sync')\n");
	json_decref(o);
	return 0;
}

static int cmd_show(const struct cli *c, const char *machine, uint64_t id)
{
	json_t *o, *v;
	size_t i;
	int rc = points_show_json(c->store, machine, id, &o);

	if (rc == -ENOENT && points_list_json(c->store, machine, &v) == 0) {
		json_decref(v);
		return fail("machine %s has no point %" PRIu64 " (see '" PROG " list %s')",
			    machine, id, machine);
	}
	if (rc)
		return machine_error(machine, rc, c->store);
	if (c->json) {
		rc = print_json(o);
		json_decref(o);
		return rc;
	}
	printf("point:        %" PRIu64 "\n", id);
	printf("time:         %s\n", json_string_value(json_object_get(o, "time")));
	printf("origin:       %s\n", json_string_value(json_object_get(o, "origin")));
	printf("consistency:  %s\n", json_string_value(json_object_get(o, "consistency")));
	printf("created:      %s\n", json_string_value(json_object_get(o, "created")));
	printf("pins:        ");
	json_array_foreach(json_object_get(o, "pins"), i, v)
		printf(" %s", json_string_value(v));
	printf("%s\n", json_array_size(json_object_get(o, "pins")) ? "" : " (none)");
	json_array_foreach(json_object_get(o, "disks"), i, v)
		printf("disk:         %s, %" JSON_INTEGER_FORMAT " bytes\n",
		       json_string_value(json_object_get(v, "name")),
		       json_integer_value(json_object_get(v, "size")));
	json_decref(o);
	return 0;
}

static int cmd_read(const struct cli *c, const char *cmd, const char *machine, uint64_t id)
{
	struct point_reader r;
	enum export_format fmt = EXPORT_RAW;
	char err[1024];
	int rc;

	if (!c->disk)
		return usage_error("livemig-staging", "points", "%s needs --disk NAME (see '" PROG " show %s %" PRIu64 "')", cmd,
				 machine, id);
	if (!strcmp(cmd, "export")) {
		if (!c->output)
			return usage_error("livemig-staging", "points", "export needs --output FILE");
		if (!c->format || (strcmp(c->format, "raw") && strcmp(c->format, "qcow2")))
			return usage_error("livemig-staging", "points", "export needs --format raw or --format qcow2");
		fmt = strcmp(c->format, "raw") ? EXPORT_QCOW2 : EXPORT_RAW;
	} else if (!c->socket) {
		return usage_error("livemig-staging", "points", "serve needs --socket PATH (where nbdkit listens)");
	}
	rc = point_reader_open(&r, c->store, machine, id, c->disk, err, sizeof(err));
	if (rc)
		return fail("%s", err);
	if (!strcmp(cmd, "export"))
		rc = point_export(&r, fmt, c->output, c->progress, err, sizeof(err));
	else
		rc = point_serve(&r, c->socket, c->progress, err, sizeof(err));
	point_reader_close(&r);
	if (rc)
		return fail("%s", err);
	if (!strcmp(cmd, "export"))
		printf("exported point %" PRIu64 " disk %s to %s (%s)\n", id, c->disk, c->output,
		       c->format);
	return 0;
}

static int cmd_pin(const struct cli *c, const char *machine, uint64_t id, int on)
{
	const char *name = c->pin ? c->pin : "manual";
	int rc = points_pin(c->store, machine, id, name, on);

	if (rc == -EINVAL)
		return usage_error("livemig-staging", "points", "--name '%s' is not a name ([A-Za-z0-9_.-], 1 to 63 characters)",
				 name);
	if (rc == -ENOENT && !on)
		return fail("point %" PRIu64 " of %s is not pinned by %s (or does not exist; see "
			    "'" PROG " show %s %" PRIu64 "')", id, machine, name, machine, id);
	if (rc == -ENOENT)
		return fail("machine %s has no point %" PRIu64 " (see '" PROG " list %s')", machine,
			    id, machine);
	if (rc == -ENOSPC)
		return fail("point %" PRIu64 " already has %d pins", id, POINT_MAX_PINS);
	if (rc)
		return machine_error(machine, rc, c->store);
	printf("point %" PRIu64 " of %s %s %s\n", id, machine, on ? "pinned by" : "unpinned by",
	       name);
	return 0;
}

static int cmd_delete(const struct cli *c, const char *machine, uint64_t id)
{
	char err[512];
	int rc = points_delete(c->store, machine, id, err, sizeof(err));

	if (rc == -ENOENT && !strncmp(err, "there is no point", 17))
		return fail("machine %s has no point %" PRIu64 " (see '" PROG " list %s')", machine,
			    id, machine);
	if (rc == -ENOENT || rc == -EINVAL)
		return machine_error(machine, rc, c->store);
	if (rc)
		return fail("%s", err);
	printf("deleted point %" PRIu64 " of %s\n", id, machine);
	return 0;
}

static int cmd_prune(const struct cli *c, const char *machine)
{
	unsigned pruned, held;
	json_t *o;
	int rc = points_list_json(c->store, machine, &o);

	if (rc)
		return machine_error(machine, rc, c->store);
	json_decref(o);
	rc = points_prune(c->store, machine, &c->keep, now_real_ns(), &pruned, &held);
	if (rc)
		return fail("cannot prune the points of %s: %s", machine, strerror(-rc));
	printf("pruned %u point%s of %s\n", pruned, pruned == 1 ? "" : "s", machine);
	if (held)
		printf("kept %u point%s the policy would prune: held by clones of their snapshots "
		       "(see '" PROG " delete')\n", held, held == 1 ? "" : "s");
	return 0;
}

int points_cli(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "disk", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "socket", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'n' },
		{ "keep-all", required_argument, NULL, 'A' },
		{ "keep-hourly", required_argument, NULL, 'H' },
		{ "keep-daily", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .keep = RETENTION_DEFAULT, .progress = isatty(2) };
	const char *cmd, *machine;
	uint64_t id = 0;
	int opt, needs_id;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': c.store = optarg; break;
		case 'j': c.json = 1; break;
		case 'd': c.disk = optarg; break;
		case 'f': c.format = optarg; break;
		case 'o': c.output = optarg; break;
		case 'S': c.socket = optarg; break;
		case 'n': c.pin = optarg; break;
		case 'A':
			if (parse_duration(optarg, &c.keep.keep_all_ns))
				return usage_error("livemig-staging", "points", "--keep-all '%s' is not a duration (e.g. 1h)", optarg);
			break;
		case 'H':
		case 'D': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 100000)
				return usage_error("livemig-staging", "points", "'%s' is not a count", optarg);
			*(opt == 'H' ? &c.keep.hourly : &c.keep.daily) = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("livemig-staging", "points", "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("livemig-staging", "points", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("livemig-staging", "points", "a command is required: list, show, export, serve, pin, unpin, "
				 "delete or prune");
	cmd = argv[optind++];
	needs_id = strcmp(cmd, "list") && strcmp(cmd, "prune");
	if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "export") &&
	    strcmp(cmd, "serve") && strcmp(cmd, "pin") && strcmp(cmd, "unpin") &&
	    strcmp(cmd, "delete") && strcmp(cmd, "prune"))
		return usage_error("livemig-staging", "points", "unknown command '%s'", cmd);
	if (optind >= argc)
		return usage_error("livemig-staging", "points", "%s needs a MACHINE%s", cmd, needs_id ? " and a point ID" : "");
	machine = argv[optind++];
	if (needs_id) {
		if (optind >= argc)
			return usage_error("livemig-staging", "points", "%s needs a point ID (see '" PROG " list %s')", cmd, machine);
		if (parse_id(argv[optind], &id))
			return usage_error("livemig-staging", "points", "'%s' is not a point id (a number from 1)", argv[optind]);
		optind++;
	}
	if (optind < argc)
		return usage_error("livemig-staging", "points", "unexpected argument '%s'", argv[optind]);
	if (!c.store)
		return usage_error("livemig-staging", "points", "--store DIR is required (the directory livemig-staging keeps its "
				 "machines in)");
	if (!name_valid(machine))
		return usage_error("livemig-staging", "points", "'%s' is not a machine name", machine);
	/* the points' bytes may be in the image store (RBD snapshots) */
	if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "pin") &&
	    strcmp(cmd, "unpin") && open_image_store(c.store))
		return 1;
	if (!strcmp(cmd, "list"))
		return cmd_list(&c, machine);
	if (!strcmp(cmd, "show"))
		return cmd_show(&c, machine, id);
	if (!strcmp(cmd, "export") || !strcmp(cmd, "serve"))
		return cmd_read(&c, cmd, machine, id);
	if (!strcmp(cmd, "pin") || !strcmp(cmd, "unpin"))
		return cmd_pin(&c, machine, id, !strcmp(cmd, "pin"));
	if (!strcmp(cmd, "delete"))
		return cmd_delete(&c, machine, id);
	return cmd_prune(&c, machine);
}
