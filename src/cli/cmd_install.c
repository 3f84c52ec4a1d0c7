// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * livemig install: register this machine with the console and start
 * replicating (docs/install-flow.md). This file reads the command line;
 * install_run.c does the work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "install.h"
#include "install_console.h"
#include "install_run.h"
#include "prereq.h"
#include "subcommands.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s install --console URL --console-ca FILE [options]\n\n"
		"Registers this machine with the livemig console (which takes a license),\n"
		"writes the agent's configuration and starts replication. Without --no-prompt\n"
		"on a terminal it shows the prerequisite report and asks for what the command\n"
		"line leaves out: the token (or user, account and password) and the disks.\n\n"
		"  --console URL          the console, https://HOST:PORT\n"
		"  --console-ca FILE      the CA that signed the console's certificate (PEM)\n"
		"  --token TOKEN          an installation token (visible to `ps`: prefer --token-file)\n"
		"  --token-file FILE      the token, on the first line of FILE\n"
		"  --delete-token-file    delete --token-file once the machine is registered\n"
		"  --user NAME            sign in as this console user instead of a token,\n"
		"  --account NAME         of this account (with a token: the token's account,\n"
		"                         which the machine id includes; docs/install-flow.md)\n"
		"  --password-file FILE   the user's password, on the first line of FILE\n"
		"  --devices LIST         disks to replicate: vda,vdb (default: every disk that\n"
		"                         is neither virtual nor a drive for removable media);\n"
		"                         the root disk cannot be left out\n"
		"  --root-disk NAME       treat disk NAME as the root disk instead of the one\n"
		"                         holding / (tests, demos replicating a loop device)\n"
		"  --no-prompt            never ask: fail when an answer is missing\n"
		"  --no-replication       register and configure, but do not start livemigd\n"
		"                         (start it later with `%s start`)\n"
		"  --config-dir DIR       where the configuration goes (default %s)\n"
		"  --state-dir DIR        livemigd's state (default %s)\n"
		"  --socket PATH          livemigd's control socket (default %s)\n"
		"  --metadata-url URL     the cloud metadata service for the identity\n"
		"  --proxy URL            reach the console through this HTTP(S) proxy (also\n"
		"                         livemigd; proxies in the environment are ignored)\n"
		"  --waive CHECK          do not let the failing prerequisite CHECK block (repeatable)\n"
		"  --prereq-root DIR      check the prerequisites of the system under DIR (tests)\n"
		"  --retries N            console unreachable: tries after the first, with\n"
		"                         backoff 1, 2, 4, 8, 8... s (default %d)\n"
		"  --reregister           on a registered machine: withdraw its registration\n"
		"                         (as `%s uninstall`), then install again; without it\n"
		"                         a registered machine is left as it is (exit 10)\n"
		"  -h, --help             show this help\n\n"
		"Exit status: 0 installed; 2 usage; 10 already registered; 12 prerequisites;\n"
		"13 disks; 14 an answer is missing; 15 no identity; 16 local error; 20 console\n"
		"unreachable; 21 console certificate; 22-29 the console refused (token invalid,\n"
		"expired, revoked, used up; wrong credentials; no license; machine id taken;\n"
		"bad CSR); 30 other refusal; 31 token of another account; 32 files not written;\n"
		"33 livemigd did not start. docs/install-flow.md has the table.\n",
		prog, prog, INSTALL_DEFAULT_CONFIG_DIR, INSTALL_DEFAULT_STATE_DIR,
		INSTALL_DEFAULT_SOCKET, CONSOLE_DEFAULT_RETRIES, prog);
}

enum {
	OPT_CONSOLE = 256, OPT_CONSOLE_CA, OPT_TOKEN, OPT_TOKEN_FILE, OPT_DELETE_TOKEN_FILE,
	OPT_USER, OPT_ACCOUNT, OPT_PASSWORD_FILE, OPT_DEVICES, OPT_ROOT_DISK, OPT_NO_PROMPT,
	OPT_NO_REPLICATION, OPT_CONFIG_DIR, OPT_STATE_DIR, OPT_SOCKET, OPT_METADATA_URL,
	OPT_WAIVE, OPT_PREREQ_ROOT, OPT_RETRIES, OPT_PROXY, OPT_REREGISTER,
};

static int bad(const struct cli_global *g, const char *what)
{
	fprintf(stderr, "%s install: %s\n", g->prog, what);
	fprintf(stderr, "Try '%s install --help'.\n", g->prog);
	return INSTALL_USAGE;
}

/* Combinations the flow cannot reconcile. */
static int validate(const struct cli_global *g, struct install_opts *o)
{
	char err[512];
	int forms = !!o->token + !!o->token_file + !!o->user;

	if (!o->console)
		return bad(g, "--console URL is required (the console's https://HOST:PORT)");
	if (console_url_check(o->console, err, sizeof(err)))
		return bad(g, err);
	if (!o->console_ca)
		return bad(g, "--console-ca FILE is required: the console's certificate is always "
			      "verified, against the CA that signed it");
	if (o->proxy && strncmp(o->proxy, "http://", 7) && strncmp(o->proxy, "https://", 8))
		return bad(g, "--proxy: expected http://HOST:PORT or https://HOST:PORT");
	if (forms > 1)
		return bad(g, "give one of --token, --token-file and --user");
	if (o->user && !o->account)
		return bad(g, "--user needs --account");
	if (o->password_file && !o->user)
		return bad(g, "--password-file goes with --user");
	if (o->delete_token_file && !o->token_file)
		return bad(g, "--delete-token-file goes with --token-file");
	for (const char *const *p = (const char *const[]){ o->config_dir, o->state_dir,
							     o->socket, NULL }; *p; p++)
		if (**p != '/')
			return bad(g, "--config-dir, --state-dir and --socket need absolute paths "
				      "(livemigd runs from /)");
	return INSTALL_OK;
}

int install_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "console-ca", required_argument, NULL, OPT_CONSOLE_CA },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "delete-token-file", no_argument, NULL, OPT_DELETE_TOKEN_FILE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "devices", required_argument, NULL, OPT_DEVICES },
		{ "root-disk", required_argument, NULL, OPT_ROOT_DISK },
		{ "no-prompt", no_argument, NULL, OPT_NO_PROMPT },
		{ "no-replication", no_argument, NULL, OPT_NO_REPLICATION },
		{ "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "metadata-url", required_argument, NULL, OPT_METADATA_URL },
		{ "waive", required_argument, NULL, OPT_WAIVE },
		{ "prereq-root", required_argument, NULL, OPT_PREREQ_ROOT },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "proxy", required_argument, NULL, OPT_PROXY },
		{ "reregister", no_argument, NULL, OPT_REREGISTER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct install_opts o = {
		.config_dir = INSTALL_DEFAULT_CONFIG_DIR, .state_dir = INSTALL_DEFAULT_STATE_DIR,
		.socket = INSTALL_DEFAULT_SOCKET, .prereq_root = "/",
		.retries = CONSOLE_DEFAULT_RETRIES,
	};
	size_t nwaive = 0;
	char *end;
	unsigned long n;
	int c, rc;

	/* progress lines and errors interleave in order in a log */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* at most one waiver per argument */
	o.waive = calloc((size_t)argc + 1, sizeof(*o.waive));
	if (!o.waive) {
		fprintf(stderr, "%s install: out of memory\n", g->prog);
		return INSTALL_LOCAL;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONSOLE: o.console = optarg; break;
		case OPT_CONSOLE_CA: o.console_ca = optarg; break;
		case OPT_TOKEN: o.token = optarg; break;
		case OPT_TOKEN_FILE: o.token_file = optarg; break;
		case OPT_DELETE_TOKEN_FILE: o.delete_token_file = 1; break;
		case OPT_USER: o.user = optarg; break;
		case OPT_ACCOUNT: o.account = optarg; break;
		case OPT_PASSWORD_FILE: o.password_file = optarg; break;
		case OPT_DEVICES: o.devices = optarg; break;
		case OPT_ROOT_DISK: o.root_disk = optarg; break;
		case OPT_NO_PROMPT: o.no_prompt = 1; break;
		case OPT_NO_REPLICATION: o.no_replication = 1; break;
		case OPT_CONFIG_DIR: o.config_dir = optarg; break;
		case OPT_STATE_DIR: o.state_dir = optarg; break;
		case OPT_SOCKET: o.socket = optarg; break;
		case OPT_METADATA_URL: o.metadata_url = optarg; break;
		case OPT_PREREQ_ROOT: o.prereq_root = optarg; break;
		case OPT_PROXY: o.proxy = optarg; break;
		case OPT_REREGISTER: o.reregister = 1; break;
		case OPT_WAIVE:
			if (!prereq_known_id(optarg)) {
				check_unknown_id(g->who, optarg);
				rc = INSTALL_USAGE;
				goto out;
			}
			o.waive[nwaive++] = optarg;
			break;
		case OPT_RETRIES:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || n > 20) {
				rc = bad(g, "--retries: expected 0 to 20");
				goto out;
			}
			o.retries = (unsigned)n;
			break;
		case 'h':
			usage(stdout, g->prog);
			rc = INSTALL_OK;
			goto out;
		default:
			fprintf(stderr, "Try '%s install --help'.\n", g->prog);
			rc = INSTALL_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		rc = bad(g, "unexpected argument (every value goes with an option)");
		goto out;
	}
	rc = validate(g, &o);
	if (rc == INSTALL_OK)
		rc = install_run(g, &o);
out:
	free(o.waive);
	return rc;
}
