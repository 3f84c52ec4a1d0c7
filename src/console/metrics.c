// SPDX-License-Identifier: GPL-2.0-or-later
/* The console's /metrics text (metrics.h). */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{account="A",machine="M"} value, for every machine that has a number
 * at path (progress member or top-level member) */
static void per_machine(FILE *f, const struct metrics_input *in, const char *name,
			const char *type, const char *help, const char *member, int in_progress,
			double scale)
{
	const json_t *m;
	size_t i;

	family(f, name, type, help);
	json_array_foreach(in->machines, i, m) {
		const json_t *holder = in_progress ? json_object_get(m, "progress") : m;
		const json_t *v = json_object_get(holder, member);

		if (!json_is_number(v))
			continue;
		fprintf(f, "%s{account=\"", name);
		put_label(f, in->account);
		fputs("\",machine=\"", f);
		put_label(f, json_string_value(json_object_get(m, "machine_id")));
		fprintf(f, "\"} %.17g\n", json_number_value(v) * scale);
	}
}

static void states(FILE *f, const struct metrics_input *in)
{
	json_t *count = json_object();
	const json_t *m, *n;
	const char *state;
	size_t i;

	family(f, "livemig_machines", "gauge",
	       "Machines of the account by the state the console shows.");
	/* the console's own states always appear, so a dashboard sees 0 */
	json_object_set_new(count, "REGISTERED", json_integer(0));
	json_object_set_new(count, "DISCONNECTED", json_integer(0));
	json_object_set_new(count, "DEREGISTERED", json_integer(0));
	json_array_foreach(in->machines, i, m) {
		state = json_string_value(json_object_get(m, "state"));
		if (!state)
			continue;
		n = json_object_get(count, state);
		json_object_set_new(count, state, json_integer(json_integer_value(n) + 1));
	}
	json_object_foreach(count, state, n) {
		fputs("livemig_machines{account=\"", f);
		put_label(f, in->account);
		fputs("\",state=\"", f);
		put_label(f, state);
		fprintf(f, "\"} %lld\n", (long long)json_integer_value(n));
	}
	json_decref(count);

	family(f, "livemig_machine_state", "gauge",
	       "1 for each machine, labelled with the state the console shows.");
	json_array_foreach(in->machines, i, m) {
		fputs("livemig_machine_state{account=\"", f);
		put_label(f, in->account);
		fputs("\",machine=\"", f);
		put_label(f, json_string_value(json_object_get(m, "machine_id")));
		fputs("\",state=\"", f);
		put_label(f, json_string_value(json_object_get(m, "state")));
		fputs("\"} 1\n", f);
	}
}

static void point_ages(FILE *f, const struct metrics_input *in)
{
	const char *machine;
	const json_t *t;

	family(f, "livemig_machine_last_point_age_seconds", "gauge",
	       "Age of the machine's newest recovery point on staging.");
	json_object_foreach((json_t *)in->newest_points, machine, t) {
		double age = (double)(in->now_ns - json_integer_value(t)) / 1e9;

		fputs("livemig_machine_last_point_age_seconds{account=\"", f);
		put_label(f, in->account);
		fputs("\",machine=\"", f);
		put_label(f, machine);
		fprintf(f, "\"} %.3f\n", age < 0 ? 0 : age);
	}
}

char *metrics_console_text(const struct metrics_input *in)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	family(f, "livemig_licenses", "gauge", "The account's licenses.");
	fputs("livemig_licenses{account=\"", f);
	put_label(f, in->account);
	fprintf(f, "\"} %lld\n", (long long)in->licenses_total);
	family(f, "livemig_licenses_in_use", "gauge",
	       "Licenses held by registered machines.");
	fputs("livemig_licenses_in_use{account=\"", f);
	put_label(f, in->account);
	fprintf(f, "\"} %lld\n", (long long)in->licenses_in_use);
	states(f, in);
	per_machine(f, in, "livemig_machine_last_seen_timestamp_seconds", "gauge",
		    "When the machine's agent last reported (Unix time).", "last_seen", 0, 1);
	per_machine(f, in, "livemig_machine_lag_seconds", "gauge",
		    "Change-copy lag the agent reported: how far staging is behind the source.",
		    "lag_seconds", 1, 1);
	per_machine(f, in, "livemig_machine_backlog_bytes", "gauge",
		    "Bytes known changed on the source and not yet durable on staging.",
		    "backlog_bytes", 1, 1);
	per_machine(f, in, "livemig_machine_copied_bytes", "gauge",
		    "Bytes of the initial mirror done, over all disks.", "bytes_done", 1, 1);
	per_machine(f, in, "livemig_machine_disk_bytes", "gauge",
		    "Size of the replicated disks.", "bytes_total", 1, 1);
	per_machine(f, in, "livemig_machine_throughput_bytes_per_second", "gauge",
		    "Source read rate the agent reported.", "throughput_bps", 1, 1);
	point_ages(f, in);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
