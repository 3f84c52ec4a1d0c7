// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig status [--json] [--watch [SECONDS]]: the daemon's status document
 * (schema in docs/control.md) as text, or as pretty JSON. Any field may be
 * missing or null (unknown yet); those print as "-" rather than failing.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_client.h"
#include "fmt.h"
#include "install.h"
#include "subcommands.h"
#include "util.h"

#define STATUS_TIMEOUT_MS 10000
#define BAR_WIDTH         20
#define NCOLS             8

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

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

/* Recovery points made while the source runs: the last one, or why none. */
static void print_points(FILE *f, json_t *p)
{
	json_t *last = json_object_get(p, "last");
	const char *s;
	char a[64];
	uint64_t n;
	double d;

	if (!json_is_object(p))
		return;
	fprintf(f, "%-17s", "recovery points:");
	if (!json_is_true(json_object_get(p, "available"))) {
		fprintf(f, "only at final sync: %s\n", (s = get_str(p, "why_not")) ? s : "-");
		return;
	}
	if (get_bytes(p, "interval_s", &n) && n)
		fprintf(f, "every %s", fmt_duration((double)n, a, sizeof(a)));
	else
		fprintf(f, "on request and at final sync");
	if (get_bytes(p, "made", &n))
		fprintf(f, ", %llu made", (unsigned long long)n);
	if (json_is_object(last) && get_bytes(last, "id", &n)) {
		fprintf(f, "; last %llu", (unsigned long long)n);
		if (get_bytes(last, "time_ns", &n))
			fprintf(f, " at %s", fmt_time_iso(n, a, sizeof(a)));
		if ((s = get_str(last, "consistency")))
			fprintf(f, ", %s-consistent", s);
		if (get_num(last, "freeze_ms", &d))
			fprintf(f, ", frozen %.0f ms", d);
		if ((s = get_str(last, "note")) && s[0])
			fprintf(f, " (%s)", s);
	}
	fputc('\n', f);
	if ((s = get_str(p, "put_off_reason")) && s[0])
		fprintf(f, "%-17s%s\n", "point put off:", s);
}

/* ---- header ---- */

static void render_header(FILE *f, json_t *st)
{
	json_t *staging = json_object_get(st, "staging");
	const char *state = get_str(st, "state"), *s;
	char a[64], b[64], c[64];
	uint64_t n;
	double d;

	fprintf(f, "%-17s%s\n", "machine:", (s = get_str(st, "machine")) ? s : "-");
	fprintf(f, "%-17s%s", "state:", state ? state : "-");
	if ((s = get_str(st, "reason")))
		fprintf(f, " (%s)", s);
	if (json_is_true(json_object_get(st, "paused")) && !(state && !strcmp(state, "PAUSED")))
		fprintf(f, ", paused");
	fputc('\n', f);
	fprintf(f, "%-17s%s\n", "tracker:", (s = get_str(st, "tracker")) ? s : "-");

	fprintf(f, "%-17s%s", "staging:", (s = get_str(staging, "address")) ? s : "-");
	if (json_is_boolean(json_object_get(staging, "connected")))
		fprintf(f, ", %s",
			json_is_true(json_object_get(staging, "connected")) ? "connected"
									    : "disconnected");
	if ((s = get_str(staging, "last_error")))
		fprintf(f, " (last error: %s)", s);
	fputc('\n', f);

	fprintf(f, "%-17s%s", "throughput:",
		get_num(st, "throughput_bps", &d) ? fmt_rate(d, a, sizeof(a)) : "-");
	if (get_bytes(st, "sent_bytes", &n)) {
		fprintf(f, " (%s sent", fmt_bytes(n, b, sizeof(b)));
		if (get_bytes(st, "wire_bytes", &n))
			fprintf(f, ", %s on the wire", fmt_bytes(n, c, sizeof(c)));
		if (get_bytes(st, "rounds", &n))
			fprintf(f, ", %llu round%s", (unsigned long long)n, n == 1 ? "" : "s");
		fputc(')', f);
	}
	fputc('\n', f);

	fprintf(f, "%-17s", "last consistent:");
	if (!get_bytes(st, "last_consistent_ns", &n))
		fprintf(f, "-\n");
	else if (n == 0)
		fprintf(f, "none yet\n");
	else {
		double ago = ((double)now_real_ns() - (double)n) / 1e9;

		fprintf(f, "%s", fmt_time_iso(n, a, sizeof(a)));
		if (ago >= 0)
			fprintf(f, " (%s ago)", fmt_duration(ago, b, sizeof(b)));
		fputc('\n', f);
	}
	fprintf(f, "%-17s%s\n", "lag:",
		get_num(st, "lag_seconds", &d) ? fmt_duration(d, a, sizeof(a)) : "-");
	print_points(f, json_object_get(st, "points"));
}

/* ---- disks: a table with columns sized to their contents ---- */

static const char *const col_title[NCOLS] = {
	"DISK", "PATH", "STATE", "DONE / TOTAL", "PROGRESS", "RATE", "ETA", "BACKLOG",
};
static const int col_right[NCOLS] = { 0, 0, 0, 1, 1, 1, 1, 1 };

struct row {
	char cell[NCOLS][96];
};

static void disk_row(json_t *d, int bars, struct row *r)
{
	char done[32], total[32], pct[16];
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
	if (p >= 0) {
		if (p > 100)
			p = 100;
		snprintf(pct, sizeof(pct), "%.1f%%", p);
	} else {
		snprintf(pct, sizeof(pct), "-");
	}
	if (bars) {
		char bar[BAR_WIDTH + 1];
		int fill = p >= 0 ? (int)(p / 100.0 * BAR_WIDTH + 0.5) : 0;

		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
		bar[BAR_WIDTH] = '\0';
		snprintf(r->cell[4], sizeof(r->cell[4]), "[%s] %6s", bar, pct);
	} else {
		snprintf(r->cell[4], sizeof(r->cell[4]), "%s", pct);
	}

	if (get_num(d, "throughput_bps", &v))
		fmt_rate(v, r->cell[5], sizeof(r->cell[5]));
	else
		snprintf(r->cell[5], sizeof(r->cell[5]), "-");
	if (get_num(d, "eta_seconds", &v))
		fmt_duration(v, r->cell[6], sizeof(r->cell[6]));
	else
		snprintf(r->cell[6], sizeof(r->cell[6]), "-");
	snprintf(r->cell[7], sizeof(r->cell[7]), "%s", bytes_or_dash(d, "backlog_bytes", done,
		 sizeof(done)));
}

static void render_disks(FILE *f, json_t *st, int bars)
{
	json_t *disks = json_object_get(st, "disks");
	size_t n = json_array_size(disks);
	struct row *rows;
	int width[NCOLS];

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
		disk_row(json_array_get(disks, i), bars, &rows[i + 1]);
	for (int c = 0; c < NCOLS; c++) {
		width[c] = 0;
		for (size_t i = 0; i <= n; i++) {
			int w = (int)strlen(rows[i].cell[c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t i = 0; i <= n; i++) {
		for (int c = 0; c < NCOLS; c++) {
			const char *sep = c ? "  " : "";

			if (c == NCOLS - 1 && !col_right[c])
				fprintf(f, "%s%s", sep, rows[i].cell[c]); /* no trailing blanks */
			else
				fprintf(f, "%s%*s", sep, col_right[c] ? width[c] : -width[c],
					rows[i].cell[c]);
		}
		fputc('\n', f);
	}
	free(rows);
}

/* ---- fetching and the watch loop ---- */

static int fetch(const struct cli_global *g, json_t **status)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *reply = NULL;
	int rc = control_run(g, req, STATUS_TIMEOUT_MS, &reply);

	json_decref(req);
	if (rc != CLI_OK)
		return rc;
	*status = json_incref(json_object_get(reply, "status"));
	json_decref(reply);
	if (!json_is_object(*status)) {
		fprintf(stderr, "%s: livemigd's reply has no status document\n", g->prog);
		json_decref(*status);
		return CLI_DAEMON_ERROR;
	}
	return CLI_OK;
}

/* One screenful into a memory buffer, so a redraw is a single write and the
 * screen never shows half a frame. */
static int show(const struct cli_global *g, json_t *st, int as_json, int tty, double every)
{
	char *text = NULL, when[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		fprintf(stderr, "%s: %s\n", g->prog, strerror(errno));
		return CLI_DAEMON_ERROR;
	}
	if (every > 0 && tty) {
		fputs("\033[H\033[2J", f); /* home, clear */
		fprintf(f, "every %gs: %s status    %s\n\n", every, g->prog,
			fmt_time_iso(now_real_ns(), when, sizeof(when)));
	}
	if (as_json) {
		json_dumpf(st, f, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
		fputc('\n', f);
	} else {
		render_header(f, st);
		render_disks(f, st, tty);
	}
	fclose(f);
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	free(text);
	return CLI_OK;
}

static int watch(const struct cli_global *g, int as_json, int tty, double every)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int first = 1, rc;

	/* no SA_RESTART: Ctrl-C must cut the sleep and any request short */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!interrupted) {
		json_t *st = NULL;
		struct timespec ts;

		rc = fetch(g, &st);
		if (interrupted)
			break;
		if (rc != CLI_OK)
			return rc; /* the daemon went away or refused: control_run said why */
		if (!first && !tty)
			fputc('\n', stdout); /* plain output: a blank line between reports */
		first = 0;
		show(g, st, as_json, tty, every);
		json_decref(st);
		ts.tv_sec = (time_t)every;
		ts.tv_nsec = (long)((every - (double)ts.tv_sec) * 1e9);
		while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return CLI_OK;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s status [--json] [--watch [SECONDS]]\n\n"
		   "Shows the replication state, the staging connection, and each disk's\n"
		   "progress, rate, ETA and backlog.\n\n"
		   "  --json             print the daemon's status document as JSON\n"
		   "  --watch [SECONDS]  refresh every SECONDS (default 1) until Ctrl-C\n",
		prog);
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.1 && v <= 86400))
		return -EINVAL;
	*out = v;
	return 0;
}

/* The package could not register (the console did not answer): its token
 * waits in /etc/livemig/token for livemig-register.service (docs/install.md) */
static void say_if_registration_pending(const struct cli_global *g)
{
	if (access(INSTALL_DEFAULT_CONFIG_DIR "/token", F_OK) == 0 &&
	    access(INSTALL_DEFAULT_CONFIG_DIR "/livemigd.conf", F_OK) != 0)
		fprintf(stderr,
			"%s status: not registered yet: the console did not answer when the package "
			"was installed; livemig-register.service retries every minute with the token "
			"in " INSTALL_DEFAULT_CONFIG_DIR "/token (journalctl -u livemig-register)\n",
			g->prog);
}

int status_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int as_json = 0, watching = 0, every_given = 0, tty = isatty(1), c, rc;
	double every = 1;
	json_t *st = NULL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = 1;
			break;
		case 'w':
			watching = 1;
			every_given = optarg != NULL;
			if (optarg && parse_interval(optarg, &every) < 0) {
				fprintf(stderr,
					"%s status: --watch takes 0.1..86400 seconds, not '%s'\n",
					g->prog, optarg);
				return CLI_USAGE;
			}
			break;
		case 'h':
			usage(stdout, g->prog);
			return CLI_OK;
		default:
			usage(stderr, g->prog);
			return CLI_USAGE;
		}
	}
	/* "--watch 5" as well as "--watch=5": getopt leaves the 5 as an operand */
	if (watching && !every_given && optind == argc - 1 &&
	    parse_interval(argv[optind], &every) == 0)
		optind++;
	if (optind < argc) {
		fprintf(stderr, "%s status: unexpected argument '%s'\n", g->prog, argv[optind]);
		usage(stderr, g->prog);
		return CLI_USAGE;
	}

	if (watching)
		return watch(g, as_json, tty, every);
	rc = fetch(g, &st);
	if (rc != CLI_OK) {
		say_if_registration_pending(g);
		return rc;
	}
	rc = show(g, st, as_json, tty, 0);
	json_decref(st);
	return rc;
}
