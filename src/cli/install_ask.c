// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The install questions: the prerequisite report, the token or the user's
 * credentials, the disks. Each answer the command line gave is taken as is;
 * the rest is asked on the terminal, or is an error under --no-prompt.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "install.h"
#include "install_prompt.h"
#include "install_run.h"
#include "prereq.h"

/* The failing checks that are not waived, as "a, b", and their ids (the
 * check table's own strings, which outlive res) appended to o->waive when
 * the person at the terminal agrees. 1 when they did. */
static int offer_waivers(struct install_opts *o, const struct prereq_result *res, size_t n)
{
	const char *ids[PREREQ_MAX_RESULTS];
	char list[PREREQ_MAX_RESULTS * 34] = "", prompt[sizeof(list) + 200], answer[16];
	size_t nids = 0, w;

	for (size_t i = 0; i < n; i++) {
		const char *id = NULL;

		if (res[i].verdict != PREREQ_FAIL || res[i].waived)
			continue;
		for (size_t k = 0; (id = prereq_check_id(k)) && strcmp(id, res[i].id); k++)
			;
		if (!id)
			continue;
		ids[nids++] = id;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", nids > 1 ? ", " : "",
			 id);
	}
	if (!nids)
		return 0;
	snprintf(prompt, sizeof(prompt), "Waive the failing check%s %s and install anyway? Each "
					 "waiver is reported to the console [y/N]:",
		 nids > 1 ? "s" : "", list);
	for (;;) {
		int rc = prompt_line(prompt, 0, answer, sizeof(answer));

		if (rc && rc != -ENAMETOOLONG)
			return 0; /* end of input: no */
		if (!rc && (!strcasecmp(answer, "y") || !strcasecmp(answer, "yes")))
			break;
		if (!rc && (!answer[0] || !strcasecmp(answer, "n") || !strcasecmp(answer, "no")))
			return 0;
		printf("  answer y or n\n");
	}
	for (w = 0; o->waive[w]; w++)
		;
	memcpy(&o->waive[w], ids, nids * sizeof(*ids));
	o->waive[w + nids] = NULL;
	printf("  waived: %s (the same as --waive on the command line)\n", list);
	return 1;
}

int ask_prerequisites(const struct cli_global *g, struct install_opts *o, int interactive)
{
	struct prereq_result res[PREREQ_MAX_RESULTS];
	struct prereq_options po = { .root = o->prereq_root, .waive = o->waive };
	const char *argv[64] = { "check", "--root", o->prereq_root };
	int argc = 3, n, ready;

	n = prereq_run(&po, res, PREREQ_MAX_RESULTS);
	if (n < 0) {
		fprintf(stderr, "%s install: cannot run the prerequisite checks on %s: %s\n",
			g->prog, o->prereq_root, strerror(-n));
		return INSTALL_PREREQ;
	}
	ready = prereq_ready(res, (size_t)n);
	if (interactive || !ready) {
		/* `livemig check` prints the report: the same words either way */
		for (size_t i = 0; o->waive[i] && argc + 2 < 64; i++) {
			argv[argc++] = "--waive";
			argv[argc++] = o->waive[i];
		}
		printf("Prerequisites (`%s check`):\n", g->prog);
		optind = 0;
		check_main(g, argc, (char **)argv);
		fflush(stdout);
	}
	if (ready || (interactive && offer_waivers(o, res, (size_t)n)))
		return INSTALL_OK;
	fprintf(stderr, "%s install: the prerequisites are not met (report above): fix the failing "
			"checks, or waive one with --waive ID\n", g->prog);
	return INSTALL_PREREQ;
}

static int copy(char *dst, size_t len, const char *src, const char *what, char *msg,
		size_t msglen)
{
	if (strlen(src) >= len) {
		snprintf(msg, msglen, "%s is longer than %zu characters", what, len - 1);
		return INSTALL_USAGE;
	}
	memcpy(dst, src, strlen(src) + 1);
	return INSTALL_OK;
}

/* Ask until the answer is not empty. */
static int ask(const char *prompt, int secret, char *out, size_t len, char *msg, size_t msglen)
{
	for (;;) {
		int rc = prompt_line(prompt, secret, out, len);

		if (rc == -ENAMETOOLONG) {
			printf("  that is longer than %zu characters\n", len - 1);
			continue;
		}
		if (rc) {
			snprintf(msg, msglen, "no answer to \"%s\" (end of input)", prompt);
			return INSTALL_NO_INPUT;
		}
		if (out[0])
			return INSTALL_OK;
	}
}

static int ask_user(const struct install_opts *o, int interactive, struct install_secrets *s,
		    char *msg, size_t msglen)
{
	int rc;

	if (!s->user[0] && (rc = ask("User name:", 0, s->user, sizeof(s->user), msg, msglen)))
		return rc;
	if (!s->account[0] && (rc = ask("Account:", 0, s->account, sizeof(s->account), msg, msglen)))
		return rc;
	if (o->password_file) {
		if (read_secret_file("--password-file", o->password_file, s->password,
				     sizeof(s->password), msg, msglen))
			return INSTALL_LOCAL;
		return INSTALL_OK;
	}
	if (!interactive) {
		snprintf(msg, msglen, "--user needs --password-file under --no-prompt or without a "
				      "terminal (a password is never taken from the command line)");
		return INSTALL_NO_INPUT;
	}
	return ask("Password:", 1, s->password, sizeof(s->password), msg, msglen);
}

int ask_credentials(const struct install_opts *o, int interactive, struct install_secrets *s,
		    char *msg, size_t msglen)
{
	int rc;

	if (o->account && (rc = copy(s->account, sizeof(s->account), o->account, "--account",
				     msg, msglen)))
		return rc;
	if (o->token)
		return copy(s->token, sizeof(s->token), o->token, "--token", msg, msglen);
	if (o->token_file)
		return read_secret_file("--token-file", o->token_file, s->token, sizeof(s->token),
					msg, msglen) ? INSTALL_LOCAL : INSTALL_OK;
	if (o->user) {
		if ((rc = copy(s->user, sizeof(s->user), o->user, "--user", msg, msglen)))
			return rc;
		return ask_user(o, interactive, s, msg, msglen);
	}
	if (!interactive) {
		snprintf(msg, msglen, "no credentials: give --token, --token-file, or --user with "
				      "--account and --password-file");
		return INSTALL_NO_INPUT;
	}
	rc = prompt_line("Installation token (or leave empty to sign in with a user):", 1,
			 s->token, sizeof(s->token));
	if (rc) {
		snprintf(msg, msglen, rc == -ENAMETOOLONG ? "the token is too long"
							  : "no token given (end of input)");
		return INSTALL_NO_INPUT;
	}
	if (s->token[0])
		return INSTALL_OK;
	return ask_user(o, interactive, s, msg, msglen);
}

/* Ask until the choice keeps the root disk. */
static int ask_disk_choice(struct disk_set *disks, char *msg, size_t msglen)
{
	char dflt[512], answer[1024], why[512], prompt[700];
	struct disk_set d0 = *disks;

	disks_choose_default(&d0);
	disks_chosen_names(&d0, dflt, sizeof(dflt));
	printf("Disks on this machine:\n");
	disks_print(stdout, disks);
	snprintf(prompt, sizeof(prompt), "Disks to replicate, names or numbers separated by "
					 "commas (Enter = %s; \"all\" = every disk above):",
		 dflt[0] ? dflt : "none");
	for (;;) {
		int rc = prompt_line(prompt, 0, answer, sizeof(answer));

		if (rc == -ENAMETOOLONG) {
			printf("  that answer is too long\n");
			continue;
		}
		if (rc) {
			snprintf(msg, msglen, "no disks chosen (end of input)");
			return INSTALL_NO_INPUT;
		}
		if (!answer[0]) {
			*disks = d0;
		} else if (disks_choose(disks, answer, why, sizeof(why))) {
			printf("  %s\n", why);
			continue;
		}
		if (disks_check(disks, why, sizeof(why)) == 0)
			return INSTALL_OK;
		printf("  %s\n", why);
	}
}

int ask_disks(const struct install_opts *o, int interactive, struct disk_set *disks, char *msg,
	      size_t msglen)
{
	char why[512];

	if (o->devices) {
		if (disks_choose(disks, o->devices, msg, msglen))
			return INSTALL_DISKS;
		if (disks_check(disks, why, sizeof(why)) == 0)
			return INSTALL_OK;
		if (!interactive) {
			snprintf(msg, msglen, "--devices %s: %s; add it to --devices", o->devices, why);
			return INSTALL_DISKS;
		}
		printf("--devices %s: %s\n", o->devices, why);
		return ask_disk_choice(disks, msg, msglen);
	}
	if (interactive)
		return ask_disk_choice(disks, msg, msglen);
	disks_choose_default(disks);
	return disks_check(disks, msg, msglen) ? INSTALL_DISKS : INSTALL_OK;
}
