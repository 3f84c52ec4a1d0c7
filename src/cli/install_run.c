// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The install flow. Nothing is written on this machine before the console
 * has accepted the registration, and if writing then fails the registration
 * is withdrawn: either both sides know the machine, or neither does.
 */
#include "install_run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "atomic_file.h"
#include "identity.h"
#include "install.h"
#include "install_config.h"
#include "install_console.h"
#include "install_csr.h"
#include "install_daemon.h"
#include "install_pending.h"
#include "install_prompt.h"
#include "install_register.h"
#include "inventory.h"
#include "prereq.h"

#define INSTALL_CREDENTIAL_TRIES 3

struct run {
	const struct cli_global *g;
	const struct install_opts *o; /* &opts */
	struct install_opts opts;     /* the command line's, and waivers agreed to */
	struct install_paths paths;
	struct console_client console;
	struct install_secrets secrets;
	struct identity id;
	json_t *inventory;
	struct disk_set disks;
	char *key_pem, *csr_pem, *console_ca_pem;
	struct reg_result reg;
	char msg[3 * PATH_MAX]; /* messages name paths: never cut them short */
};

static int fail(struct run *r, int status)
{
	fprintf(stderr, "%s install: %s\n", r->g->prog, r->msg);
	return status;
}

/* An install uninstalled while the console was away left its
 * deregistration behind: deliver it first, so its license is free again. */
static void send_pending(struct run *r)
{
	if (!pending_exists(r->o->state_dir))
		return;
	if (pending_send(r->o->state_dir, 0, r->msg, sizeof(r->msg)) == 0)
		printf("%s\n", r->msg);
	else
		fprintf(stderr, "%s install: %s (kept; `%s uninstall --retry-pending` sends it)\n",
			r->g->prog, r->msg, r->g->prog);
}

/* A machine that is registered stays as it is, unless --reregister: then
 * its registration is withdrawn as `livemig uninstall` does, and the
 * install goes on. */
static int already_registered(struct run *r)
{
	const char *cd = strcmp(r->paths.dir, INSTALL_DEFAULT_CONFIG_DIR) ? " --config-dir " : "";
	const char *dir = cd[0] ? r->paths.dir : "";
	struct installed in;
	char err[512];
	int rc;

	if (installed_load(&r->paths, &in, err, sizeof(err))) {
		snprintf(r->msg, sizeof(r->msg), "already installed: %s exists, but %s; run `%s "
						 "uninstall%s%s` first",
			 r->paths.conf, err, r->g->prog, cd, dir);
		return fail(r, INSTALL_ALREADY);
	}
	if (!r->o->reregister) {
		snprintf(r->msg, sizeof(r->msg), "already registered: this machine is %s with %s "
						 "(%s); nothing was changed. To register it again "
						 "(another console, account or token), add "
						 "--reregister, which withdraws this registration "
						 "first (as `%s uninstall%s%s` does)",
			 in.machine_id, in.console_url, r->paths.conf, r->g->prog, cd, dir);
		return fail(r, INSTALL_ALREADY);
	}
	printf("--reregister: withdrawing machine %s's registration with %s first\n", in.machine_id,
	       in.console_url);
	rc = uninstall_run(r->g, r->paths.dir, in.state_dir, r->o->retries);
	if (rc != INSTALL_OK && rc != INSTALL_QUEUED) {
		snprintf(r->msg, sizeof(r->msg), "--reregister: the registration of %s could not be "
						 "withdrawn (above); nothing new was registered",
			 in.machine_id);
		return fail(r, rc);
	}
	return INSTALL_OK;
}

static int identify(struct run *r)
{
	struct identity_options io = { .metadata_url = r->o->metadata_url };
	char err[1024];
	int rc = identity_detect(&io, &r->id, err, sizeof(err));

	if (rc) {
		snprintf(r->msg, sizeof(r->msg), "no machine identity: %s", err);
		return fail(r, rc == -ENODEV ? INSTALL_IDENTITY : INSTALL_LOCAL);
	}
	r->inventory = inventory_collect(NULL, err, sizeof(err));
	if (!r->inventory) {
		snprintf(r->msg, sizeof(r->msg), "%s", err);
		return fail(r, INSTALL_LOCAL);
	}
	if (disks_from_inventory(r->inventory, r->o->root_disk, &r->disks, r->msg, sizeof(r->msg)))
		return fail(r, INSTALL_DISKS);
	return INSTALL_OK;
}

static int write_files(struct run *r)
{
	char identity[200];
	struct install_settings s = {
		.machine_id = r->reg.machine_id, .state_dir = r->o->state_dir,
		.socket = r->o->socket, .staging_address = r->reg.staging_address,
		.staging_ca_pem = r->reg.staging_ca, .cert_pem = r->reg.certificate,
		.key_pem = r->key_pem, .console_url = r->o->console,
		.console_ca_pem = r->console_ca_pem, .secret = r->reg.secret,
		.heartbeat_interval_s = r->reg.heartbeat_interval_s, .identity = identity,
		.metadata_url = r->o->metadata_url, .disks = &r->disks,
		.proxy = r->o->proxy, .waived = r->o->waive,
	};
	struct console_answer a;
	struct console_client dc = r->console;
	char err[512];
	int rc;

	snprintf(identity, sizeof(identity), "%s:%s", r->id.source, r->id.value);
	if (csr_cert_matches(r->reg.certificate, r->key_pem, r->reg.machine_id, err, sizeof(err))) {
		snprintf(r->msg, sizeof(r->msg), "%s", err);
		rc = -EPROTO;
	} else {
		rc = install_write(&r->paths, &s, err, sizeof(err));
		if (rc)
			snprintf(r->msg, sizeof(r->msg), "%s", err);
	}
	if (!rc)
		return INSTALL_OK;
	dc.bearer = r->reg.secret;
	if (console_deregister(&dc, r->reg.machine_id, &a))
		snprintf(r->msg + strlen(r->msg), sizeof(r->msg) - strlen(r->msg),
			 "; and the registration could not be withdrawn (%s): deregister %s in the "
			 "console", a.error, r->reg.machine_id);
	else
		snprintf(r->msg + strlen(r->msg), sizeof(r->msg) - strlen(r->msg),
			 "; the registration was withdrawn, nothing is left installed");
	console_answer_clear(&a);
	return fail(r, rc == -EPROTO ? INSTALL_REFUSED : INSTALL_WRITE);
}

static void summary(struct run *r, const char *daemon)
{
	char names[512], sock[PATH_MAX + 16] = "";

	disks_chosen_names(&r->disks, names, sizeof(names));
	if (strcmp(r->o->socket, INSTALL_DEFAULT_SOCKET))
		snprintf(sock, sizeof(sock), "--socket %s ", r->o->socket);
	printf("\nInstalled: machine %s registered with %s\n", r->reg.machine_id, r->o->console);
	printf("  identity:  %s %s%s%s%s\n", r->id.source, r->id.value, r->id.nic[0] ? " (" : "",
	       r->id.nic, r->id.nic[0] ? ")" : "");
	printf("  account:   %s\n", r->reg.account);
	printf("  license:   %s; %lld of %lld in use in account %s\n",
	       r->reg.license_reused ? "reused (this machine already held one)" : "taken",
	       r->reg.licenses_in_use, r->reg.licenses_total, r->reg.account);
	printf("  console:   machine %s, state REGISTERED until the first heartbeat (every %ld s)\n",
	       r->reg.machine_id, r->reg.heartbeat_interval_s);
	if (r->reg.staging_server)
		printf("  staging:   %s (server %s, placed by the console)\n", r->reg.staging_address,
		       r->reg.staging_server);
	else
		printf("  staging:   %s\n", r->reg.staging_address);
	printf("  disks:     %s\n", names);
	printf("  config:    %s (state in %s)\n", r->paths.conf, r->o->state_dir);
	if (daemon) {
		printf("  livemigd:  %s\n", daemon);
		printf("replication started: follow it with `%s %sstatus` or in the console\n",
		       r->g->prog, sock);
	} else {
		printf("replication not started (--no-replication): start it with `%s start%s%s`\n",
		       r->g->prog, strcmp(r->paths.dir, INSTALL_DEFAULT_CONFIG_DIR) ? " --config-dir "
										: "",
		       strcmp(r->paths.dir, INSTALL_DEFAULT_CONFIG_DIR) ? r->paths.dir : "");
	}
}

static int start(struct run *r)
{
	struct daemon_ctl d = { .conf = r->paths.conf, .state_dir = r->o->state_dir,
				.socket = r->o->socket };
	char how[600];
	int rc;

	if (r->o->no_replication) {
		summary(r, NULL);
		return INSTALL_OK;
	}
	rc = daemon_start(&d, how, sizeof(how));
	if (rc && rc != -EALREADY) {
		snprintf(r->msg, sizeof(r->msg), "registered and configured, but livemigd did not "
						 "start: %s; fix that and run `%s start`",
			 how, r->g->prog);
		return fail(r, INSTALL_START);
	}
	summary(r, how);
	return INSTALL_OK;
}

static struct reg_credentials credentials(const struct run *r)
{
	return (struct reg_credentials){
		.token = r->secrets.token[0] ? r->secrets.token : NULL,
		.user = r->secrets.user, .password = r->secrets.password,
		.account = r->secrets.account[0] ? r->secrets.account : NULL,
	};
}

/* A refusal the person at the terminal can answer by typing again. */
static int retypable(const struct install_opts *o, int status)
{
	return !o->token && !o->token_file && !o->password_file &&
	       status >= INSTALL_INVALID_TOKEN && status <= INSTALL_BAD_CREDENTIALS;
}

/* The credential; on a terminal, checked with the console before the other
 * questions, and asked again (up to three times) when it is refused. */
static int ask_checked_credentials(struct run *r, int interactive)
{
	struct reg_credentials cred;
	int rc;

	for (int tries = 1;; tries++) {
		rc = ask_credentials(r->o, interactive, &r->secrets, r->msg, sizeof(r->msg));
		if (rc || !interactive)
			return rc ? fail(r, rc) : INSTALL_OK;
		cred = credentials(r);
		rc = reg_check(&r->console, &cred, r->msg, sizeof(r->msg));
		if (rc == INSTALL_OK) {
			if (r->msg[0])
				printf("  the console accepts it: %s\n", r->msg);
			return INSTALL_OK;
		}
		if (!retypable(r->o, rc) || tries == INSTALL_CREDENTIAL_TRIES)
			return fail(r, rc);
		printf("  %s\n", r->msg);
		OPENSSL_cleanse(&r->secrets, sizeof(r->secrets));
	}
}

static int run_steps(struct run *r, int interactive)
{
	struct reg_credentials cred;
	int rc;

	if ((rc = ask_prerequisites(r->g, &r->opts, interactive)))
		return rc;
	if ((rc = ask_checked_credentials(r, interactive)))
		return rc;
	if ((rc = identify(r)))
		return rc;
	if ((rc = ask_disks(r->o, interactive, &r->disks, r->msg, sizeof(r->msg))))
		return fail(r, rc);
	/* the console names the certificate (CN = the machine id it derives
	 * from the account and the identity): the CSR's subject is a placeholder */
	if (csr_make("livemig-agent", &r->key_pem, &r->csr_pem, r->msg, sizeof(r->msg)))
		return fail(r, INSTALL_LOCAL);
	cred = credentials(r);
	printf("Registering this machine (%s %s) with %s...\n", r->id.source, r->id.value,
	       r->o->console);
	fflush(stdout);
	rc = reg_register(&r->console, &cred, &r->id, r->inventory, r->csr_pem, &r->reg, r->msg,
			  sizeof(r->msg));
	if (rc)
		return fail(r, rc);
	if ((rc = write_files(r)))
		return rc;
	if (r->o->delete_token_file && r->o->token_file && unlink(r->o->token_file))
		fprintf(stderr, "%s install: cannot delete --token-file %s: %s\n", r->g->prog,
			r->o->token_file, strerror(errno));
	return start(r);
}

int install_run(const struct cli_global *g, const struct install_opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	size_t len, n;
	int rc, interactive = !o->no_prompt && prompt_tty();

	if (!r) {
		fprintf(stderr, "%s install: out of memory\n", g->prog);
		return INSTALL_LOCAL;
	}
	r->g = g;
	r->opts = *o;
	r->o = &r->opts;
	/* the command line's waivers, and room for those agreed to on the terminal */
	for (n = 0; o->waive[n]; n++)
		;
	r->opts.waive = calloc(n + PREREQ_MAX_RESULTS + 1, sizeof(*r->opts.waive));
	if (!r->opts.waive) {
		snprintf(r->msg, sizeof(r->msg), "out of memory");
		rc = fail(r, INSTALL_LOCAL);
		goto out;
	}
	memcpy(r->opts.waive, o->waive, n * sizeof(*o->waive));
	r->console = (struct console_client){ .url = o->console, .ca = o->console_ca,
					      .retries = o->retries, .proxy = o->proxy };
	if (install_paths_init(&r->paths, o->config_dir)) {
		snprintf(r->msg, sizeof(r->msg), "--config-dir %s: path too long", o->config_dir);
		rc = fail(r, INSTALL_USAGE);
		goto out;
	}
	if (access(r->paths.conf, F_OK) == 0 && (rc = already_registered(r)))
		goto out;
	rc = read_small_file(o->console_ca, &r->console_ca_pem, &len, 1u << 20);
	if (rc) {
		snprintf(r->msg, sizeof(r->msg), "cannot read --console-ca %s: %s", o->console_ca,
			 strerror(-rc));
		rc = fail(r, INSTALL_LOCAL);
		goto out;
	}
	send_pending(r);
	rc = run_steps(r, interactive);
out:
	reg_result_clear(&r->reg);
	csr_free_secret(r->key_pem);
	free(r->csr_pem);
	free(r->console_ca_pem);
	json_decref(r->inventory);
	OPENSSL_cleanse(&r->secrets, sizeof(r->secrets));
	free(r->opts.waive);
	free(r);
	return rc;
}
