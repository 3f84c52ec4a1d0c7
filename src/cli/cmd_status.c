// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig status [--json] [--watch [SECONDS]]: the daemon's status document
 * (schema in docs/control.md) as text fitted to the terminal (status_text.c),
 * or as pretty JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "control_client.h"
#include "fmt.h"
#include "atomic_file.h"
#include "install.h"
#include "status_text.h"
#include "subcommands.h"
#include "util.h"

#define STATUS_TIMEOUT_MS 10000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* What the text must fit: the terminal's width, else $COLUMNS, else 80 on a
 * terminal and no limit for a pipe or a file (scripts read whole lines). */
static int output_width(int tty)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int n = env ? atoi(env) : 0;

	if (tty && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (n >= 20 && n <= 1000)
		return n;
	return tty ? 80 : STATUS_TEXT_UNLIMITED;
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
		fprintf(stderr, "%s: livemigd's reply has no status document\n", g->who);
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
		fprintf(stderr, "%s: %s\n", g->who, strerror(errno));
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
		status_text_render(f, st, tty, output_width(tty));
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

/* The package tried to register and could not: livemig-setup kept why and
 * what to do, as "key = value" lines (docs/install.md, "Failing well").
 * 0 when it said so. */
static int say_registration_failure(const struct cli_global *g)
{
	static const char *const keys[] = { "reason", "remedy", "time" };
	const char *val[3] = { NULL, NULL, NULL };
	char *text = NULL, *line, *next;
	size_t len;

	if (read_small_file(INSTALL_REGISTRATION_FAILURE, &text, &len, 64u << 10))
		return -ENOENT;
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		for (size_t i = 0; i < 3; i++) {
			size_t klen = strlen(keys[i]);

			if (!strncmp(line, keys[i], klen) && !strncmp(line + klen, " = ", 3))
				val[i] = line + klen + 3;
		}
	}
	fprintf(stderr, "%s status: not registered: %s (the package's registration, %s)\n",
		g->prog, val[0] ? val[0] : "the reason was not kept", val[2] ? val[2] : "time unknown");
	if (val[1])
		fprintf(stderr, "  remedy: %s\n", val[1]);
	free(text);
	return 0;
}

/* The packaged agent, not registered: its configuration is missing. */
static int package_unregistered(const struct cli_global *g)
{
	return !strcmp(g->socket, INSTALL_DEFAULT_SOCKET) &&
	       access(INSTALL_DEFAULT_CONFIG_DIR "/livemigd.conf", F_OK) != 0;
}

/* The console did not answer when the package was installed: the token
 * waits in /etc/livemig/token for livemig-register.service (docs/install.md) */
static void say_if_registration_pending(const struct cli_global *g)
{
	if (package_unregistered(g) && access(INSTALL_DEFAULT_CONFIG_DIR "/token", F_OK) == 0)
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

	/* the package's registration failed: why, rather than "livemigd does
	 * not run" (it cannot) */
	if (package_unregistered(g) && say_registration_failure(g) == 0)
		return CLI_UNREACHABLE;
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
