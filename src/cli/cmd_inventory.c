// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig inventory: what the agent collects about this machine. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "inventory.h"
#include "subcommands.h"
#include "util.h"

/* docs/inventory.md: the inventory could not be collected at all */
#define EXIT_NO_INVENTORY 1

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s inventory [--json] [--sysfs DIR] [--proc DIR] [--os-release FILE]\n"
		"                         [--machine-id FILE]\n\n"
		"Shows what the agent collects and sends at registration: host, OS, RAM,\n"
		"cores, hardware, disks with partitions (and which hold /), NICs.\n\n"
		"  --json               print the JSON document (docs/inventory.md)\n"
		"  --sysfs DIR          read DMI, CPUs, NICs and the root walk from DIR (tests)\n"
		"  --proc DIR           read meminfo, cpuinfo and mountinfo from DIR (tests)\n"
		"  --os-release FILE    instead of /etc/os-release\n"
		"  --machine-id FILE    instead of /etc/machine-id\n",
		prog);
}

/* A string member or "-". */
static const char *s_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : dflt;
}

static const char *size_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? fmt_bytes((uint64_t)json_integer_value(v), buf, len) : "-";
}

static void print_header(json_t *doc)
{
	json_t *os = json_object_get(doc, "os"), *k = json_object_get(doc, "kernel");
	json_t *hw = json_object_get(doc, "hardware"), *cores = json_object_get(doc, "cores");
	const char *model = json_string_value(json_object_get(doc, "cpu_model"));
	char b[64];

	printf("host:       %s\n", s_or(doc, "hostname", "-"));
	printf("machine-id: %s\n", s_or(doc, "machine_id", "-"));
	printf("os:         %s\n", s_or(os, "pretty_name", s_or(os, "name", "unknown")));
	printf("kernel:     %s (%s)\n", s_or(k, "release", "-"), s_or(k, "machine", "-"));
	printf("memory:     %s\n", size_str(doc, "memory_bytes", b, sizeof(b)));
	if (json_is_integer(cores))
		printf("cores:      %lld%s%s%s\n", (long long)json_integer_value(cores),
		       model ? " (" : "", model ? model : "", model ? ")" : "");
	else
		printf("cores:      -\n");
	if (json_is_null(json_object_get(hw, "source")))
		printf("hardware:   unknown (no DMI)\n");
	else
		printf("hardware:   %s %s%s%s\n", s_or(hw, "vendor", "-"), s_or(hw, "product", "-"),
		       json_string_value(json_object_get(hw, "serial")) ? ", serial " : "",
		       s_or(hw, "serial", ""));
}

static void print_root(json_t *doc)
{
	json_t *rm = json_object_get(doc, "root_mount"), *rd = json_object_get(doc, "root_disks"), *v;
	size_t i;

	if (!json_is_object(rm)) {
		printf("root:       unknown\n");
		return;
	}
	printf("root:       / is %s on %s", s_or(rm, "fstype", "?"), s_or(rm, "source", "?"));
	if (json_array_size(rd)) {
		printf(", held by");
		json_array_foreach(rd, i, v)
			printf(" %s", json_string_value(v));
	}
	putchar('\n');
}

static void print_disks(json_t *doc)
{
	json_t *disks = json_object_get(doc, "disks"), *d, *p;
	size_t i, j;
	char b[64];

	printf("\n%-14s %10s  %-20s %-20s %-4s  %s\n", "DISK", "SIZE", "MODEL", "SERIAL", "ROOT",
	       "NOTES");
	json_array_foreach(disks, i, d) {
		char notes[512] = "";

		if (json_is_true(json_object_get(d, "virtual")))
			snprintf(notes, sizeof(notes), "virtual");
		if (json_object_get(d, "backing_file"))
			snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes), "%s%s",
				 notes[0] ? ", " : "", s_or(d, "backing_file", ""));
		if (json_is_true(json_object_get(d, "removable")))
			snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes), "%sremovable",
				 notes[0] ? ", " : "");
		printf("%-14s %10s  %-20.20s %-20.20s %-4s  %s\n", s_or(d, "device", "?"),
		       size_str(d, "size", b, sizeof(b)), s_or(d, "model", "-"),
		       s_or(d, "serial", "-"), json_is_true(json_object_get(d, "root")) ? "yes" : "",
		       notes);
		json_array_foreach(json_object_get(d, "partitions"), j, p) {
			char st[64];

			printf("  %-12s %10s  partition %lld at %s\n", s_or(p, "device", "?"),
			       size_str(p, "size", b, sizeof(b)),
			       (long long)json_integer_value(json_object_get(p, "number")),
			       size_str(p, "start", st, sizeof(st)));
		}
	}
	json_array_foreach(json_object_get(doc, "stacked_devices"), i, d) {
		json_t *s;

		printf("%-14s %10s  on", s_or(d, "device", "?"), size_str(d, "size", b, sizeof(b)));
		json_array_foreach(json_object_get(d, "slaves"), j, s)
			printf(" %s", json_string_value(s));
		putchar('\n');
	}
}

static void print_nics(json_t *doc)
{
	json_t *n, *a;
	size_t i, j;

	printf("\n%-12s %-17s %-8s %-4s  %s\n", "NIC", "MAC", "PHYSICAL", "UP", "ADDRESSES");
	json_array_foreach(json_object_get(doc, "nics"), i, n) {
		printf("%-12s %-17s %-8s %-4s ", s_or(n, "name", "?"), s_or(n, "mac", "-"),
		       json_is_true(json_object_get(n, "physical")) ? "yes" : "no",
		       json_is_true(json_object_get(n, "up")) ? "yes" : "no");
		json_array_foreach(json_object_get(n, "addresses"), j, a)
			printf(" %s/%lld", s_or(a, "address", "?"),
			       (long long)json_integer_value(json_object_get(a, "prefixlen")));
		putchar('\n');
	}
}

int inventory_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },
		{ "os-release", required_argument, NULL, 'o' },
		{ "machine-id", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inventory_options o = { 0 };
	json_t *doc, *w;
	char err[1024];
	int c, as_json = 0;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = 1;
			break;
		case 's':
			o.sysfs = optarg;
			break;
		case 'p':
			o.proc = optarg;
			break;
		case 'o':
			o.os_release = optarg;
			break;
		case 'm':
			o.machine_id = optarg;
			break;
		case 'h':
			usage(stdout, g->prog);
			return CLI_OK;
		default:
			usage(stderr, g->prog);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s inventory: unexpected argument '%s'\n", g->prog, argv[optind]);
		return CLI_USAGE;
	}
	doc = inventory_collect(&o, err, sizeof(err));
	if (!doc) {
		fprintf(stderr, "%s: %s\n", g->who, err);
		return EXIT_NO_INVENTORY;
	}
	if (as_json) {
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_header(doc);
		print_root(doc);
		print_disks(doc);
		print_nics(doc);
		if (json_array_size(json_object_get(doc, "warnings")))
			printf("\nwarnings:\n");
		json_array_foreach(json_object_get(doc, "warnings"), i, w)
			printf("  %s\n", json_string_value(w));
	}
	json_decref(doc);
	return CLI_OK;
}
