// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A machine's timeline for the page (web_db.h): the figures of each stored
 * report (the status history, bounded by serve --history) for the
 * throughput chart, and an event log found by comparing consecutive
 * reports: state changes with their reasons (which carry the remedy, e.g.
 * "reinstall"), staging errors, consistent points.
 */
#include "web_db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

#define EVENTS_MAX 200

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* Only what needs someone's attention is coloured: a failure (error) or a
 * hold or detour with its remedy in the reason (warning). Starting, copying,
 * an operator's pause and recovering from any of these are normal. */
static const char *level_of(const char *state)
{
	if (!strcmp(state, "STALLED") || !strcmp(state, "DISCONNECTED"))
		return "error";
	if (!strcmp(state, "RESCAN") || !strcmp(state, "BACKLOG") || !strcmp(state, "NOT_READY"))
		return "warning";
	return "info";
}

static void event(json_t *events, int64_t t, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void event(json_t *events, int64_t t, const char *level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(events, json_pack("{s:I, s:s, s:s}", "t", (json_int_t)t, "level",
						level, "text", text));
}

/* Totals of the disks, as in the machines list's progress summary. */
static json_t *point(int64_t t, const char *state, const json_t *doc)
{
	const json_t *disks = json_object_get(doc, "disks"), *d;
	double done = 0, total = 0, backlog = 0;
	size_t i;

	json_array_foreach(disks, i, d) {
		done += json_number_value(json_object_get(d, "bytes_done"));
		total += json_number_value(json_object_get(d, "bytes_total"));
		backlog += json_number_value(json_object_get(d, "backlog_bytes"));
	}
	return json_pack("{s:I, s:s, s:o, s:f, s:I, s:o}", "t", (json_int_t)t, "state", state,
			 "percent", total > 0 ? json_real(100.0 * done / total) : json_null(),
			 "throughput_bps", json_number_value(json_object_get(doc, "throughput_bps")),
			 "backlog_bytes", (json_int_t)backlog, "lag_seconds",
			 json_is_number(json_object_get(doc, "lag_seconds"))
				 ? json_deep_copy(json_object_get(doc, "lag_seconds"))
				 : json_null());
}

static void compare(json_t *events, int64_t t, const char *state, const json_t *doc,
		    const char *pstate, const json_t *prev)
{
	const char *reason = str(doc, "reason");
	const char *serr = str(json_object_get(doc, "staging"), "last_error");
	json_int_t cons = json_integer_value(json_object_get(doc, "last_consistent_ns"));
	const char *sep = reason[0] ? ": " : "";

	if (!prev) {
		event(events, t, level_of(state), "reporting: %s%s%s", state, sep, reason);
		return;
	}
	if (strcmp(state, pstate))
		event(events, t, level_of(state), "%s \u2192 %s%s%s", pstate, state, sep, reason);
	else if (reason[0] && strcmp(reason, str(prev, "reason")))
		event(events, t, level_of(state), "%s: %s", state, reason);
	if (serr[0] && strcmp(serr, str(json_object_get(prev, "staging"), "last_error")))
		event(events, t, "error", "staging: %s", serr);
	if (cons && cons != json_integer_value(json_object_get(prev, "last_consistent_ns")))
		event(events, t, "info", "consistent point recorded on staging (%lld ns)",
		      (long long)cons);
}

int machine_timeline_json(struct db *db, int64_t ref, unsigned points, json_t **out)
{
	json_t *rows = json_array(), *series = json_array(), *events = json_array(), *prev = NULL;
	char pstate[40] = "";
	struct db_stmt *st = NULL;
	size_t i, n;
	int rc;

	rc = db_prepare(db, &st,
			"SELECT received_at, state, doc FROM status_history WHERE machine_ref = ?"
			" ORDER BY id DESC LIMIT ?");
	if (rc)
		goto out;
	db_bind_int64(st, 1, ref);
	db_bind_int64(st, 2, points);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *text = db_column_text(st, 2);
		json_t *doc = text ? json_loads(text, 0, NULL) : NULL;

		json_array_append_new(rows, json_pack("{s:I, s:s, s:o}", "t",
						      (json_int_t)db_column_int64(st, 0), "state",
						      db_text(st, 1), "doc",
						      doc ? doc : json_object()));
	}
	rc = rc == DB_DONE ? 0 : db_err(db, rc, "reading status history");
	if (rc)
		goto out;
	/* newest first from the query; the chart and the comparison go forward */
	n = json_array_size(rows);
	for (i = n; i-- > 0;) {
		json_t *r = json_array_get(rows, i), *doc = json_object_get(r, "doc");
		int64_t t = json_integer_value(json_object_get(r, "t"));
		const char *state = str(r, "state");

		json_array_append_new(series, point(t, state, doc));
		compare(events, t, state, doc, pstate, prev);
		prev = doc;
		snprintf(pstate, sizeof(pstate), "%s", state);
	}
	/* newest first, bounded */
	{
		json_t *ev = json_array();

		n = json_array_size(events);
		for (i = n; i-- > 0 && json_array_size(ev) < EVENTS_MAX;)
			json_array_append(ev, json_array_get(events, i));
		json_decref(events);
		events = ev;
	}
	*out = json_pack("{s:o, s:o}", "series", series, "events", events);
	series = events = NULL;
	rc = *out ? 0 : -ENOMEM;
out:
	db_finalize(st);
	json_decref(rows);
	json_decref(series);
	json_decref(events);
	return rc;
}
