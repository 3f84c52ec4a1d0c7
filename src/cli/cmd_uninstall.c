// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig uninstall: stop replication, deregister (the console frees the
 * license), remove what install wrote. With the console away, the
 * deregistration is queued in the state directory and delivered by a later
 * `livemig uninstall` (docs/install-flow.md, "Uninstall").
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "install.h"
#include "install_config.h"
#include "install_console.h"
#include "install_daemon.h"
#include "install_pending.h"
#include "install_prompt.h"
#include "install_register.h"
#include "subcommands.h"

struct uninstall {
	const struct cli_global *g;
	const char *config_dir, *state_dir;
	unsigned retries;
	int retry_pending;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s uninstall [--config-dir DIR] [--state-dir DIR] [--retries N]\n"
		"       %s uninstall --retry-pending [--state-dir DIR]\n\n"
		"Stops livemigd, deregisters this machine from the console (its license is\n"
		"freed) and removes the configuration and livemigd's state. When the console\n"
		"cannot be reached, the deregistration is queued in the state directory and\n"
		"sent by the next `%s uninstall` (or install); --retry-pending sends only that.\n\n"
		"  --config-dir DIR   where install wrote the configuration (default %s)\n"
		"  --state-dir DIR    where a queued deregistration waits when the\n"
		"                     configuration is gone (default %s)\n"
		"  --retries N        console unreachable: tries after the first (default %d)\n"
		"  --retry-pending    only send a queued deregistration\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 done, 2 usage, 11 not installed and nothing queued, 20/21\n"
		"console unreachable / certificate (with --retry-pending: still queued), 30\n"
		"the console refused, 33 livemigd could not be stopped, 34 uninstalled but\n"
		"the deregistration is queued.\n",
		prog, prog, prog, INSTALL_DEFAULT_CONFIG_DIR, INSTALL_DEFAULT_STATE_DIR,
		CONSOLE_DEFAULT_RETRIES);
}

/* Remove livemigd's files, then the directory if that empties it. */
static void state_clear(const struct uninstall *u, const char *dir)
{
	char left[512];

	install_state_clear(dir, left, sizeof(left));
	if (left[0])
		fprintf(stderr, "%s uninstall: left in %s (not livemigd's): %s\n", u->g->prog, dir,
			left);
}

/* Deliver a queued deregistration. An exit status; quiet when none. */
static int send_pending(const struct uninstall *u, const char *state_dir, int *none)
{
	char msg[1024];
	int rc = pending_send(state_dir, u->retries, msg, sizeof(msg));

	*none = rc == -ENOENT;
	if (*none)
		return INSTALL_OK;
	if (rc == 0) {
		printf("%s\n", msg);
		rmdir(state_dir); /* it held only the queue */
		return INSTALL_OK;
	}
	fprintf(stderr, "%s uninstall: %s; still queued in %s/" PENDING_FILE "\n", u->g->prog, msg,
		state_dir);
	return rc == -EKEYREJECTED ? INSTALL_TLS : rc == -EHOSTUNREACH ? INSTALL_UNREACHABLE
								    : INSTALL_REFUSED;
}

static int not_installed(const struct uninstall *u, const struct install_paths *p,
			 const char *state_dir)
{
	int none, rc = send_pending(u, state_dir, &none);

	if (!none)
		return rc;
	if (u->retry_pending) {
		printf("no deregistration is queued in %s: nothing to send\n", state_dir);
		return INSTALL_OK;
	}
	fprintf(stderr, "%s uninstall: not installed (no %s) and no deregistration queued in %s\n",
		u->g->prog, p->conf, state_dir);
	return INSTALL_NOT_INSTALLED;
}

/* Deregister with the secret; queue when the console does not answer. */
static int deregister(const struct uninstall *u, const struct installed *in, int *queued)
{
	const char *proxy = in->proxy[0] ? in->proxy : NULL;
	struct console_client c = { .url = in->console_url, .ca = in->console_ca,
				    .retries = u->retries, .proxy = proxy };
	struct pending q = { .machine_id = in->machine_id, .console_url = in->console_url,
			     .console_ca = in->console_ca, .proxy = proxy };
	struct console_answer a = { 0 };
	char secret[512], msg[1024];
	int rc, status = INSTALL_OK;

	*queued = 0;
	if (read_secret_file("secret_file", in->secret_file, secret, sizeof(secret), msg,
			     sizeof(msg))) {
		fprintf(stderr, "%s uninstall: %s; deregister machine %s in the console\n",
			u->g->prog, msg, in->machine_id);
		return INSTALL_LOCAL;
	}
	c.bearer = secret;
	rc = console_deregister(&c, in->machine_id, &a);
	if (rc == 0) {
		json_t *lic = json_object_get(a.body, "licenses");

		printf("machine %s deregistered from %s: its license is free (%lld of %lld in use)\n",
		       in->machine_id, in->console_url,
		       (long long)json_integer_value(json_object_get(lic, "in_use")),
		       (long long)json_integer_value(json_object_get(lic, "total")));
	} else if (rc == -EHOSTUNREACH) {
		q.secret = secret;
		if (pending_queue(in->state_dir, &q, msg, sizeof(msg))) {
			fprintf(stderr, "%s uninstall: the console is unreachable and %s\n", u->g->prog,
				msg);
			status = INSTALL_LOCAL;
		} else {
			*queued = 1;
			fprintf(stderr, "%s uninstall: cannot reach the console at %s (%s): the "
					"deregistration is queued in %s/" PENDING_FILE "; `%s uninstall "
					"--retry-pending%s%s` sends it (so does any later uninstall or "
					"install)\n",
				u->g->prog, in->console_url, a.error, in->state_dir, u->g->prog,
				strcmp(in->state_dir, INSTALL_DEFAULT_STATE_DIR) ? " --state-dir " : "",
				strcmp(in->state_dir, INSTALL_DEFAULT_STATE_DIR) ? in->state_dir : "");
		}
	} else if (rc == -EPERM && (!strcmp(a.code, "bad_agent_secret") || a.status == 404)) {
		/* a newer registration of this machine id holds the license */
		fprintf(stderr, "%s uninstall: the console no longer knows this registration of %s "
				"(%s): nothing to release there\n", u->g->prog, in->machine_id,
			a.error);
	} else {
		status = reg_failure(rc == -EPERM ? 0 : rc, &a, &c, "deregistration", msg,
				     sizeof(msg));
		fprintf(stderr, "%s uninstall: %s; livemigd is stopped, nothing else was changed: "
				"run `%s uninstall` again once that is fixed\n", u->g->prog, msg,
			u->g->prog);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	console_answer_clear(&a);
	return status;
}

static int uninstall(const struct uninstall *u)
{
	struct install_paths p;
	struct installed in;
	struct daemon_ctl d;
	char msg[1024];
	int rc, none, queued;

	if (install_paths_init(&p, u->config_dir)) {
		fprintf(stderr, "%s uninstall: --config-dir too long\n", u->g->prog);
		return INSTALL_USAGE;
	}
	rc = installed_load(&p, &in, msg, sizeof(msg));
	if (rc == -ENOENT)
		return not_installed(u, &p, u->state_dir);
	if (rc == 0 && u->retry_pending)
		return not_installed(u, &p, in.state_dir);
	if (rc) {
		fprintf(stderr, "%s uninstall: %s\n", u->g->prog, msg);
		return INSTALL_NOT_INSTALLED;
	}
	send_pending(u, in.state_dir, &none); /* an older install's, if any */
	d = (struct daemon_ctl){ .conf = p.conf, .state_dir = in.state_dir, .socket = in.socket };
	if (daemon_stop(&d, msg, sizeof(msg))) {
		fprintf(stderr, "%s uninstall: %s\n", u->g->prog, msg);
		return INSTALL_START;
	}
	printf("%s\n", msg);
	rc = deregister(u, &in, &queued);
	if (rc)
		return rc;
	install_remove(&p);
	state_clear(u, in.state_dir);
	printf("removed %s and livemigd's state in %s\n", p.conf, in.state_dir);
	return queued ? INSTALL_QUEUED : INSTALL_OK;
}

int uninstall_run(const struct cli_global *g, const char *config_dir, const char *state_dir,
		  unsigned retries)
{
	struct uninstall u = { .g = g, .config_dir = config_dir, .state_dir = state_dir,
			       .retries = retries };

	return uninstall(&u);
}

int uninstall_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "retries", required_argument, NULL, 'r' },
		{ "retry-pending", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct uninstall u = { .g = g, .config_dir = INSTALL_DEFAULT_CONFIG_DIR,
			       .state_dir = INSTALL_DEFAULT_STATE_DIR,
			       .retries = CONSOLE_DEFAULT_RETRIES };
	unsigned long n;
	char *end;
	int c;

	/* progress lines and errors interleave in order in a log */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': u.config_dir = optarg; break;
		case 's': u.state_dir = optarg; break;
		case 'p': u.retry_pending = 1; break;
		case 'r':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || n > 20) {
				fprintf(stderr, "%s uninstall: --retries: expected 0 to 20\n", g->prog);
				return INSTALL_USAGE;
			}
			u.retries = (unsigned)n;
			break;
		case 'h':
			usage(stdout, g->prog);
			return INSTALL_OK;
		default:
			fprintf(stderr, "Try '%s uninstall --help'.\n", g->prog);
			return INSTALL_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s uninstall: unexpected argument '%s'\n", g->prog, argv[optind]);
		return INSTALL_USAGE;
	}
	return uninstall(&u);
}
