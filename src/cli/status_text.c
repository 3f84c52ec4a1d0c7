// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The status document (docs/control.md) as text that fits the terminal:
 * labelled lines wrapped to the width, an overall line for all disks, and a
 * disk table whose progress bar takes what room is left. Any field may be
 * missing or null (unknown yet); those print as "-" rather than failing.
 */
#include "status_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "util.h"

#define LABEL_WIDTH   17
#define BAR_MAX       20
#define BAR_MIN       5
#define NCOLS         8
#define PATH_COL      1
#define PROGRESS_COL  4

/* ---- reading a document that may lack anything ---- */

static const char *get_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

static int get_num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return isfinite(*out);
}

static int get_bytes(json_t *o, const char *key, uint64_t *out)
{
	double d;

	if (!get_num(o, key, &d) || d < 0 || d > 1.8e19)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

static const char *bytes_or_dash(json_t *o, const char *key, char *buf, size_t len)
{
	uint64_t n;

	return get_bytes(o, key, &n) ? fmt_bytes(n, buf, len) : "-";
}

/* An ETA worth showing: something is left and the rate is known. */
static const char *eta_or_dash(double seconds, char *buf, size_t len)
{
	if (!(seconds >= 0.5))
		return "-";
	return fmt_duration(seconds, buf, len);
}

/* ---- labelled lines, wrapped at blanks to the width ---- */

static void field(FILE *f, int width, const char *label, const char *text)
{
	int room = width - LABEL_WIDTH;
	const char *p = text;

	if (room < 20)
		room = 20; /* a very narrow terminal wraps rather than loses words */
	fprintf(f, "%-*s", LABEL_WIDTH, label);
	for (int first = 1; *p; first = 0) {
		size_t len = strlen(p), cut = len;

		if ((int)len > room) {
			cut = (size_t)room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = (size_t)room; /* one long word: split it */
		}
		if (!first)
			fprintf(f, "%*s", LABEL_WIDTH, "");
		fprintf(f, "%.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
	if (p == text)
		fputc('\n', f);
}

static void fieldf(FILE *f, int width, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fieldf(FILE *f, int width, const char *label, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	field(f, width, label, text);
}

/* ---- the machine ---- */

static void render_state(FILE *f, json_t *st, int width)
{
	const char *state = get_str(st, "state"), *reason = get_str(st, "reason");
	int paused = json_is_true(json_object_get(st, "paused")) &&
		     !(state && !strcmp(state, "PAUSED"));

	fieldf(f, width, "state:", "%s%s%s%s%s", state ? state : "-", reason ? " (" : "",
	       reason ? reason : "", reason ? ")" : "", paused ? ", paused" : "");
}

static void render_tracker(FILE *f, json_t *st, int width)
{
	const char *name = get_str(st, "tracker"), *why = get_str(st, "tracker_reason");

	fieldf(f, width, "tracker:", "%s%s%s%s", name ? name : "-", why ? " (" : "",
	       why ? why : "", why ? ")" : "");
}

static void render_staging(FILE *f, json_t *st, int width)
{
	json_t *staging = json_object_get(st, "staging"), *conn;
	const char *addr = get_str(staging, "address"), *err = get_str(staging, "last_error");

	conn = json_object_get(staging, "connected");
	fieldf(f, width, "staging:", "%s%s%s%s%s", addr ? addr : "-",
	       !json_is_boolean(conn) ? "" : json_is_true(conn) ? ", connected" : ", disconnected",
	       err ? " (last error: " : "", err ? err : "", err ? ")" : "");
}

/* Present only when livemigd reports to a console ([console] configured). */
static void render_console(FILE *f, json_t *st, int width)
{
	json_t *c = json_object_get(st, "console");
	const char *url = get_str(c, "url"), *err = get_str(c, "last_error");
	char since[64] = "", when[48];
	uint64_t n;

	if (!json_is_object(c))
		return;
	if (!json_is_true(json_object_get(c, "connected")) &&
	    get_bytes(c, "unreachable_since", &n) && n)
		snprintf(since, sizeof(since), " since %s",
			 fmt_time_iso(n * 1000000000ull, when, sizeof(when)));
	fieldf(f, width, "console:", "%s, %s%s%s%s%s", url ? url : "-",
	       json_is_true(json_object_get(c, "connected")) ? "connected" : "unreachable", since,
	       err ? " (last error: " : "", err ? err : "", err ? ")" : "");
}

static void render_identity(FILE *f, json_t *st, int width)
{
	json_t *id = json_object_get(st, "identity");
	const char *src = get_str(id, "source"), *val = get_str(id, "value");
	const char *check = get_str(id, "check"), *now = get_str(id, "now");

	if (!json_is_object(id))
		return;
	fieldf(f, width, "identity:", "%s:%s, %s%s%s%s", src ? src : "-", val ? val : "-",
	       check ? check : "-", now ? " (now " : "", now ? now : "", now ? ")" : "");
}

static void render_counters(FILE *f, json_t *st, int width)
{
	char a[64], b[64], c[64], d[64];
	double src_rate, wire_rate;
	uint64_t n;

	fieldf(f, width, "rate:", "%s source, %s on the wire",
	       get_num(st, "throughput_bps", &src_rate) ? fmt_rate(src_rate, a, sizeof(a)) : "-",
	       get_num(st, "wire_bps", &wire_rate) ? fmt_rate(wire_rate, b, sizeof(b)) : "-");
	/* per run: the byte counters start at 0 with livemigd */
	fieldf(f, width, "since start:", "%s durable (zeros included), %s on the wire",
	       bytes_or_dash(st, "sent_bytes", c, sizeof(c)),
	       bytes_or_dash(st, "wire_bytes", d, sizeof(d)));
	/* cumulative: the checkpoint keeps the count across restarts */
	if (get_bytes(st, "rounds", &n))
		fieldf(f, width, "rounds:", "%llu change-copy round%s in all", (unsigned long long)n,
		       n == 1 ? "" : "s");
	else
		field(f, width, "rounds:", "-");
}

static void render_consistent(FILE *f, json_t *st, int width)
{
	char a[64], b[64];
	uint64_t n;
	double d;

	if (!get_bytes(st, "last_consistent_ns", &n)) {
		field(f, width, "last consistent:", "-");
	} else if (n == 0) {
		field(f, width, "last consistent:", "none yet");
	} else {
		double ago = ((double)now_real_ns() - (double)n) / 1e9;

		fmt_time_iso(n, a, sizeof(a));
		if (ago >= 0)
			fieldf(f, width, "last consistent:", "%s (%s ago)", a,
			       fmt_duration(ago, b, sizeof(b)));
		else
			field(f, width, "last consistent:", a);
	}
	field(f, width, "lag:", get_num(st, "lag_seconds", &d) ? fmt_duration(d, a, sizeof(a)) : "-");
}

/* All disks together: how far, and how long at the machine's rate. */
static void render_overall(FILE *f, json_t *st, int width)
{
	json_t *disks = json_object_get(st, "disks"), *d;
	uint64_t done = 0, total = 0, n;
	char a[32], b[32], c[32];
	double rate;
	size_t i;

	if (!json_array_size(disks))
		return;
	json_array_foreach(disks, i, d) {
		if (!get_bytes(d, "bytes_total", &n) || !n)
			return; /* one unknown disk makes the sum meaningless */
		total += n;
		if (!get_bytes(d, "bytes_done", &n))
			return;
		done += n < total ? n : total;
	}
	fieldf(f, width, "all disks:", "%.1f%% (%s / %s), ETA %s",
	       100.0 * (double)done / (double)total, fmt_bytes(done, a, sizeof(a)),
	       fmt_bytes(total, b, sizeof(b)),
	       get_num(st, "throughput_bps", &rate) && rate > 1
		       ? eta_or_dash((double)(total - done) / rate, c, sizeof(c))
		       : "-");
}

/* Recovery points made while the source runs: the last one, or why none. */
static void render_points(FILE *f, json_t *st, int width)
{
	json_t *p = json_object_get(st, "points"), *last;
	char line[1024], a[64];
	const char *s;
	size_t n = 0;
	uint64_t v;
	double d;

	if (!json_is_object(p))
		return;
	if (!json_is_true(json_object_get(p, "available"))) {
		fieldf(f, width, "recovery points:", "only at final sync: %s",
		       (s = get_str(p, "why_not")) ? s : "-");
		return;
	}
#define PUT(...) (n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, __VA_ARGS__))
	if (get_bytes(p, "interval_s", &v) && v)
		PUT("every %s", fmt_duration((double)v, a, sizeof(a)));
	else
		PUT("on request and at final sync");
	if (get_bytes(p, "made", &v))
		PUT(", %llu made", (unsigned long long)v);
	last = json_object_get(p, "last");
	if (json_is_object(last) && get_bytes(last, "id", &v)) {
		PUT("; last %llu", (unsigned long long)v);
		if (get_bytes(last, "time_ns", &v))
			PUT(" at %s", fmt_time_iso(v, a, sizeof(a)));
		if ((s = get_str(last, "consistency")))
			PUT(", %s-consistent", s);
		if (get_num(last, "freeze_ms", &d))
			PUT(", frozen %.0f ms", d);
		if ((s = get_str(last, "note")))
			PUT(" (%s)", s);
	}
#undef PUT
	field(f, width, "recovery points:", line);
	if ((s = get_str(p, "put_off_reason")))
		field(f, width, "point put off:", s);
}

/* Once the console asked for the cutover point (docs/agent-console.md). */
static void render_cutover(FILE *f, json_t *st, int width)
{
	json_t *c = json_object_get(st, "cutover");
	const char *state = get_str(c, "state"), *err = get_str(c, "error");
	char asked[48] = "-", when[48];
	uint64_t v, id = 0;

	if (!json_is_object(c) || !state)
		return;
	if (get_bytes(c, "requested_at", &v))
		fmt_time_iso(v * 1000000000ull, asked, sizeof(asked));
	get_bytes(c, "point_id", &id);
	if (!strcmp(state, "done") && get_bytes(c, "consistent_ns", &v)) {
		char point[48] = "";

		if (id)
			snprintf(point, sizeof(point), ", point %llu", (unsigned long long)id);
		fieldf(f, width, "cutover point:", "made, consistent as of %s%s (asked at %s)",
		       fmt_time_iso(v, when, sizeof(when)), point, asked);
	} else {
		fieldf(f, width, "cutover point:", "%s (asked at %s)%s%s", state, asked,
		       err ? ": " : "", err ? err : "");
	}
}

static void render_header(FILE *f, json_t *st, int width)
{
	const char *s = get_str(st, "machine");

	field(f, width, "machine:", s ? s : "-");
	render_state(f, st, width);
	render_tracker(f, st, width);
	render_staging(f, st, width);
	render_console(f, st, width);
	render_identity(f, st, width);
	render_counters(f, st, width);
	render_consistent(f, st, width);
	render_points(f, st, width);
	render_cutover(f, st, width);
	render_overall(f, st, width);
}

/* ---- disks: a table with columns sized to their contents ---- */

static const char *const col_title[NCOLS] = {
	"DISK", "PATH", "STATE", "DONE / TOTAL", "PROGRESS", "RATE", "ETA", "BACKLOG",
};
static const int col_right[NCOLS] = { 0, 0, 0, 1, 1, 1, 1, 1 };

struct row {
	char cell[NCOLS][512]; /* a path can be long */
	double percent; /* -1: unknown */
};

static void disk_row(json_t *d, struct row *r)
{
	char done[32], total[32];
	const char *s;
	uint64_t bd, bt;
	double p, v;

	snprintf(r->cell[0], sizeof(r->cell[0]), "%s", (s = get_str(d, "name")) ? s : "-");
	snprintf(r->cell[1], sizeof(r->cell[1]), "%s", (s = get_str(d, "path")) ? s : "-");
	snprintf(r->cell[2], sizeof(r->cell[2]), "%s", (s = get_str(d, "state")) ? s : "-");

	if (!get_bytes(d, "bytes_total", &bt) && !get_bytes(d, "size", &bt))
		bt = UINT64_MAX;
	snprintf(r->cell[3], sizeof(r->cell[3]), "%s / %s", bytes_or_dash(d, "bytes_done", done,
		 sizeof(done)), bt == UINT64_MAX ? "-" : fmt_bytes(bt, total, sizeof(total)));

	if (!get_num(d, "percent", &p)) {
		p = -1;
		if (get_bytes(d, "bytes_done", &bd) && bt != UINT64_MAX && bt > 0)
			p = 100.0 * (double)bd / (double)bt;
	}
	r->percent = p > 100 ? 100 : p;
	if (r->percent >= 0)
		snprintf(r->cell[4], sizeof(r->cell[4]), "%.1f%%", r->percent);
	else
		snprintf(r->cell[4], sizeof(r->cell[4]), "-");

	if (get_num(d, "throughput_bps", &v))
		fmt_rate(v, r->cell[5], sizeof(r->cell[5]));
	else
		snprintf(r->cell[5], sizeof(r->cell[5]), "-");
	snprintf(r->cell[6], sizeof(r->cell[6]), "%s",
		 get_num(d, "eta_seconds", &v) ? eta_or_dash(v, total, sizeof(total)) : "-");
	snprintf(r->cell[7], sizeof(r->cell[7]), "%s", bytes_or_dash(d, "backlog_bytes", done,
		 sizeof(done)));
}

/* Columns shown: all, or all but PATH. */
static int table_width(const int *w, int with_path)
{
	int sum = 0, cols = 0;

	for (int c = 0; c < NCOLS; c++) {
		if (c == PATH_COL && !with_path)
			continue;
		sum += w[c];
		cols++;
	}
	return sum + 2 * (cols - 1);
}

/* Shorten a path that does not fit to its head and tail: "/dev/disk/...part1". */
static void elide(char *s, int keep)
{
	int len = (int)strlen(s), head;

	if (len <= keep || keep < 8)
		return;
	head = (keep - 3) / 2;
	memmove(s + head + 3, s + len - (keep - 3 - head), (size_t)(keep - 3 - head) + 1);
	memcpy(s + head, "...", 3);
}

static void put_bar(FILE *f, double percent, int len)
{
	int fill = percent >= 0 ? (int)(percent / 100.0 * len + 0.5) : 0;

	fputc('[', f);
	for (int i = 0; i < len; i++)
		fputc(i < fill ? '#' : '.', f);
	fputc(']', f);
}

/*
 * One row per disk when it fits the width, the bar (on a terminal) in the
 * PROGRESS column if at least BAR_MIN marks fit. When the row does not fit,
 * the path leaves the table for a line of its own under the disk's row, and
 * the bar follows the path there.
 */
static void render_table(FILE *f, struct row *rows, size_t n, int bars, int width)
{
	int w[NCOLS], bar = 0, with_path;

	for (int c = 0; c < NCOLS; c++) {
		w[c] = 0;
		for (size_t i = 0; i <= n; i++) {
			int len = (int)strlen(rows[i].cell[c]);

			w[c] = len > w[c] ? len : w[c];
		}
	}
	with_path = table_width(w, 1) <= width;
	if (with_path && bars) {
		/* "[####....] " before the percentage */
		bar = width - table_width(w, 1) - 3;
		bar = bar > BAR_MAX ? BAR_MAX : bar;
		bar = bar < BAR_MIN ? 0 : bar;
		w[PROGRESS_COL] += bar ? bar + 3 : 0;
	}
	for (size_t i = 0; i <= n; i++) {
		int col = 0;

		for (int c = 0; c < NCOLS; c++) {
			const char *sep = col++ ? "  " : "";

			if (c == PATH_COL && !with_path) {
				col--;
				continue;
			}
			if (c == PROGRESS_COL && bar && i > 0) {
				fprintf(f, "%s", sep);
				put_bar(f, rows[i].percent, bar);
				fprintf(f, " %*s", w[c] - bar - 3, rows[i].cell[c]);
				continue;
			}
			fprintf(f, "%s%*s", sep, col_right[c] ? w[c] : -w[c], rows[i].cell[c]);
		}
		fputc('\n', f);
		if (!with_path && i > 0) {
			char *path = rows[i].cell[PATH_COL];
			/* on a terminal the path leaves room for a full bar */
			int room = bars && width - 6 - (BAR_MAX + 4) >= 16 ? width - 6 - (BAR_MAX + 4)
									    : width - 6;
			int len;

			elide(path, room);
			len = (int)strlen(path);
			fprintf(f, "      %s", path);
			bar = width - 6 - len - 4;
			bar = bar > BAR_MAX ? BAR_MAX : bar;
			if (bars && bar >= BAR_MIN) {
				fputs("  ", f);
				put_bar(f, rows[i].percent, bar);
			}
			fputc('\n', f);
		}
	}
}

static void render_disks(FILE *f, json_t *st, int bars, int width)
{
	json_t *disks = json_object_get(st, "disks");
	size_t n = json_array_size(disks);
	struct row *rows;

	fputc('\n', f);
	if (!json_is_array(disks)) {
		fprintf(f, "disks: unknown\n");
		return;
	}
	if (n == 0) {
		fprintf(f, "no disks\n");
		return;
	}
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows) {
		fprintf(f, "disks: out of memory\n");
		return;
	}
	for (int c = 0; c < NCOLS; c++)
		snprintf(rows[0].cell[c], sizeof(rows[0].cell[c]), "%s", col_title[c]);
	for (size_t i = 0; i < n; i++)
		disk_row(json_array_get(disks, i), &rows[i + 1]);
	render_table(f, rows, n, bars, width);
	free(rows);
}

void status_text_render(FILE *f, json_t *st, int bars, int width)
{
	render_header(f, st, width);
	render_disks(f, st, bars, width);
}
