// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig check [--json] [--root DIR] [--waive ID]... [--tracker T]
 * [--config FILE]: the prerequisite report (docs/prerequisites.md). It runs the checks itself, without
 * livemigd, so it works before anything is installed. Exit 0 when
 * replication can start, 1 when it cannot, 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_tracker.h"
#include "prereq.h"
#include "subcommands.h"
#include "suggest.h"

enum { CHECK_READY = 0, CHECK_NOT_READY = 1 };

#define CHECK_DEFAULT_CONFIG "/etc/livemig/livemigd.conf"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s check [--json] [--root DIR] [--waive ID]... [--tracker T]\n\n"
		"Checks that this machine meets the agent's prerequisites and says whether\n"
		"replication can start. Each failure comes with the command that fixes it.\n\n"
		"  --json        print {\"ready\": bool, \"checks\": [...]} instead of the report\n"
		"  --root DIR    examine the system installed under DIR (default /)\n"
		"  --waive ID    do not let the failing check ID block replication (repeatable)\n"
		"  --tracker T   judge the kernel module checks for tracker T (scan, kmod,\n"
		"                auto); default: [agent] tracker of --config FILE\n"
		"                (default ROOT" CHECK_DEFAULT_CONFIG ")\n"
		"  --config FILE livemigd's configuration, for its tracker\n"
		"  -h, --help    show this help\n\n"
		"Checks:",
		prog);
	for (size_t i = 0; prereq_check_id(i); i++)
		fprintf(f, " %s", prereq_check_id(i));
	fprintf(f, "\n\nExit status: 0 replication can start, 1 it cannot, 2 usage error.\n");
}

static const char *label(const struct prereq_result *r)
{
	switch (r->verdict) {
	case PREREQ_PASS: return "PASS";
	case PREREQ_WARN: return "WARN";
	case PREREQ_FAIL: return "FAIL";
	}
	return "FAIL";
}

/* "a, b, c" of the ids with verdict v and the given waived state. */
static void ids(const struct prereq_result *r, size_t n, enum prereq_verdict v, int waived,
		char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used + 1 < len; i++)
		if (r[i].verdict == v && (v != PREREQ_FAIL || r[i].waived == waived))
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
						 r[i].id);
}

static void report(FILE *f, const struct prereq_result *r, size_t n)
{
	size_t fails = 0, waived = 0, warns = 0;
	char list[512];

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s  %-26s %s: %s\n", label(&r[i]), r[i].id, r[i].title, r[i].seen);
		if (r[i].verdict != PREREQ_PASS && r[i].remedy[0])
			fprintf(f, "      remedy: %s\n", r[i].remedy);
		if (r[i].waived)
			fprintf(f, "      waived (--waive %s): does not block replication\n", r[i].id);
		fails += r[i].verdict == PREREQ_FAIL && !r[i].waived;
		waived += r[i].waived;
		warns += r[i].verdict == PREREQ_WARN;
	}
	fputc('\n', f);
	if (fails) {
		ids(r, n, PREREQ_FAIL, 0, list, sizeof(list));
		fprintf(f, "Replication cannot start: %zu check%s fail%s (%s). Fix %s, or waive with "
			   "--waive ID.\n", fails, fails == 1 ? "" : "s", fails == 1 ? "s" : "", list,
			fails == 1 ? "it" : "them");
		return;
	}
	fprintf(f, "Replication can start: ");
	if (!warns && !waived) {
		fprintf(f, "every prerequisite is met.\n");
		return;
	}
	if (waived) {
		ids(r, n, PREREQ_FAIL, 1, list, sizeof(list));
		fprintf(f, "%zu failing check%s waived (%s)%s", waived, waived == 1 ? "" : "s", list,
			warns ? "; " : ".\n");
	}
	if (warns) {
		ids(r, n, PREREQ_WARN, 0, list, sizeof(list));
		fprintf(f, "%zu warning%s to review (%s).\n", warns, warns == 1 ? "" : "s", list);
	}
}

/* What --waive was given that names no check, shared with `livemig install`. */
void check_unknown_id(const char *who, const char *id)
{
	const char *near = suggest_check_id(id);

	fprintf(stderr, "%s: unknown check id '%s'", who, id);
	if (near)
		fprintf(stderr, " (did you mean %s?)", near);
	fprintf(stderr, "; `livemig check --help` lists the ids\n");
}

int check_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "waive", required_argument, NULL, 'w' },
		{ "tracker", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prereq_result res[PREREQ_MAX_RESULTS];
	struct prereq_options o = { .root = "/" };
	const char **waive;
	const char *config = NULL, *tracker = NULL;
	char conf_tracker[16], cerr[512], conf_path[PATH_MAX];
	size_t nwaive = 0;
	int json = 0, c, n, rc = CLI_USAGE;

	/* at most one waiver per argument: argc bounds them */
	waive = calloc((size_t)argc + 1, sizeof(*waive));
	if (!waive) {
		fprintf(stderr, "%s check: out of memory\n", g->prog);
		return CHECK_NOT_READY;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'r':
			if (!*optarg) {
				fprintf(stderr, "%s check: --root needs a directory\n", g->prog);
				goto out;
			}
			o.root = optarg;
			break;
		case 'w':
			if (!prereq_known_id(optarg)) {
				check_unknown_id(g->who, optarg);
				goto out;
			}
			waive[nwaive++] = optarg;
			break;
		case 't':
			if (strcmp(optarg, "scan") && strcmp(optarg, "kmod") && strcmp(optarg, "auto")) {
				fprintf(stderr, "%s check: --tracker %s: expected scan, kmod or auto\n",
					g->prog, optarg);
				goto out;
			}
			tracker = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout, g->prog);
			rc = CLI_OK;
			goto out;
		default:
			fprintf(stderr, "Try '%s check --help'.\n", g->prog);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s check: unexpected argument '%s'\n", g->prog, argv[optind]);
		goto out;
	}
	o.waive = waive;
	if (!tracker) {
		int trc;

		/* the examined system's configuration, not this one's */
		if (!config) {
			snprintf(conf_path, sizeof(conf_path), "%s%s",
				 strcmp(o.root, "/") ? o.root : "", CHECK_DEFAULT_CONFIG);
			config = conf_path;
		}
		trc = check_tracker_from_config(config, conf_tracker, sizeof(conf_tracker), cerr,
						sizeof(cerr));
		if (trc == -ENOENT && config != conf_path) {
			/* only the default may be missing: not configured yet */
			fprintf(stderr, "%s check: --config %s: no such file\n", g->prog, config);
			goto out;
		}
		if (trc == -EINVAL) {
			fprintf(stderr, "%s check: %s\n", g->prog, cerr);
			goto out;
		}
		tracker = trc ? NULL : conf_tracker; /* NULL: not configured yet */
	}
	o.tracker = tracker;

	n = prereq_run(&o, res, PREREQ_MAX_RESULTS);
	if (n < 0) {
		fprintf(stderr, "%s check: --root %s: %s\n", g->prog, o.root, strerror(-n));
		goto out;
	}
	if (json) {
		json_t *doc = prereq_json(res, (size_t)n);

		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF) {
			fprintf(stderr, "%s check: cannot write the JSON report\n", g->prog);
			json_decref(doc);
			rc = CHECK_NOT_READY;
			goto out;
		}
		json_decref(doc);
	} else {
		report(stdout, res, (size_t)n);
	}
	rc = prereq_ready(res, (size_t)n) ? CHECK_READY : CHECK_NOT_READY;
out:
	free(waive);
	return rc;
}
