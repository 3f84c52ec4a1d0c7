// SPDX-License-Identifier: GPL-2.0-or-later
/* livemigd: the replication agent daemon. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "agent_config.h"
#include "console_client.h"
#include "control.h"
#include "engine.h"
#include "finalize.h"
#include "heartbeat.h"
#include "identity_check.h"
#include "log.h"
#include "notify.h"

#define DEFAULT_CONFIG "/etc/livemig/livemigd.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: livemigd [OPTION]...\n"
		"Replicate this machine's disks to a livemig staging server: an initial\n"
		"mirror, then continuous change copy until cutover.\n"
		"\n"
		"  -c, --config FILE      configuration file (default " DEFAULT_CONFIG ")\n"
		"      --check-config     validate the configuration and exit\n"
		"  -l, --log-level LEVEL  error, warn, info (default) or debug\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"Operate it with `livemig status|pause|resume|sync`. See docs/configuration.md.\n");
}

/* set before the control socket starts, freed after it stopped */
static struct heartbeat *heartbeat;

static json_t *h_status(void *ctx)
{
	json_t *doc = status_json(ctx);

	if (heartbeat)
		heartbeat_status_add(heartbeat, doc);
	return doc;
}
static int h_pause(void *ctx, char *err, size_t n) { return engine_pause(ctx, err, n); }
static int h_resume(void *ctx, char *err, size_t n) { return engine_resume(ctx, err, n); }
static int h_sync(void *ctx, uint64_t *ns, char *err, size_t n) { return engine_sync(ctx, ns, err, n); }
static int h_point(void *ctx, uint64_t *id, uint64_t *ns, char *err, size_t n) { return engine_point(ctx, id, ns, err, n); }


/*
 * Whether this machine may replicate ([console] only): not if the console
 * said it was deregistered, nor if its identity changed since registration.
 * 0, or -EPERM with the NOT_READY reason in reason.
 */
static int may_replicate(const struct agent_config *cfg, const char *secret,
			 struct identity_report *id, int *have_id, char *reason, size_t n)
{
	*have_id = 0;
	if (!cfg->console.present)
		return 0;
	if (heartbeat_was_deregistered(cfg, secret, reason, n))
		return -EPERM;
	if (!cfg->console.identity_source[0])
		return 0;
	*have_id = 1;
	return identity_check_run(&cfg->console, id, reason, n) ? -EPERM : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG;
	enum log_level level = LOG_LVL_INFO;
	int check_only = 0, opt, sig;
	static struct agent_config cfg;
	static struct engine e;
	struct control_handlers h = { h_status, h_pause, h_resume, h_sync, h_point, &e };
	static char secret[CONSOLE_SECRET_MAX + 1];
	static struct identity_report id;
	char err[1024], hold[512] = "", finalized[512];
	int have_id, fin, rc = 0;
	sigset_t set;

	while ((opt = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'C': check_only = 1; break;
		case 'l':
			if (log_level_parse(optarg, &level)) {
				fprintf(stderr, "livemigd: --log-level: expected error, warn, info or debug\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("livemigd %s\n", LIVEMIG_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "livemigd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	log_init("livemigd", level, !getenv("JOURNAL_STREAM"));
	agent_config_defaults(&cfg);
	if (agent_config_load(config, &cfg, err, sizeof(err)) ||
	    agent_config_files_check(config, &cfg, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	if (cfg.console.present &&
	    console_client_load_secret(cfg.console.secret_file, secret, sizeof(secret), err,
				       sizeof(err))) {
		log_error("%s: %s", config, err);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration is valid (%u disk%s)\n", config, cfg.ndisks,
		       cfg.ndisks == 1 ? "" : "s");
		return 0;
	}
	/* production load comes first: replication runs at a lower priority */
	setpriority(PRIO_PROCESS, 0, cfg.nice);

	/* signals are taken by sigwait below, never by the worker threads */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1); /* the heartbeat thread: the console finalized the machine */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* once, before any thread: libcurl's global state */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("libcurl initialisation failed");
		return 1;
	}
	if (engine_init(&e, &cfg, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	if (may_replicate(&cfg, secret, &id, &have_id, hold, sizeof(hold)))
		engine_hold(&e, hold); /* the control socket and heartbeats still report it */
	if (cfg.console.present &&
	    heartbeat_start(&heartbeat, &e, &cfg, secret, have_id ? &id : NULL, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	explicit_bzero(secret, sizeof(secret));
	if (control_start(cfg.socket_path, &h, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	if (!hold[0] && engine_start(&e, err, sizeof(err))) {
		log_error("%s", err);
		control_stop();
		goto fail;
	}
	if (!hold[0])
		log_info("replicating %u disk%s of machine %s to %s:%s (tracker %s)", cfg.ndisks,
			 cfg.ndisks == 1 ? "" : "s", cfg.machine, e.stg_host, e.stg_port,
			 e.tracker->name);
	notify_ready(cfg.socket_path);
	if (heartbeat)
		log_info("reporting to the console at %s every %llu s", cfg.console.url,
			 (unsigned long long)(cfg.console.heartbeat_interval_ns / 1000000000u));
	do
		sigwait(&set, &sig);
	while (sig == SIGHUP || (sig == SIGUSR1 && !heartbeat_finalized(heartbeat, finalized,
									   sizeof(finalized))));
	fin = heartbeat_finalized(heartbeat, finalized, sizeof(finalized));
	if (!fin)
		log_info("stopping (signal %d): saving checkpoint", sig);
	notify_stopping();
	/* heartbeats first: none should report a half-stopped engine; the
	 * engine next: that releases a `livemig sync` waiting on it */
	heartbeat_stop(heartbeat);
	engine_stop(&e);
	control_stop();
	heartbeat_free(heartbeat);
	heartbeat = NULL;
	engine_free(&e);
	curl_global_cleanup();
	if (fin) {
		/* a failure exits 1: the unit (Restart=on-failure) tries again, and
		 * the console answers "finalized" again */
		rc = finalize_remove(config, &cfg, err, sizeof(err)) ? 1 : 0;
		if (rc)
			log_error("finalized, but %s", err);
		else
			log_info("finalized: %s; livemigd exits and does not start again", err);
		return rc;
	}
	log_info("stopped");
	return 0;
fail:
	/* as before heartbeats: the engine is left to exit(), which is all a
	 * half-started one can safely get */
	heartbeat_free(heartbeat);
	curl_global_cleanup();
	return 1;
}
