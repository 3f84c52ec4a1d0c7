// SPDX-License-Identifier: GPL-2.0-or-later
/* `livemig-console serve`: options, setup, then wait for SIGTERM (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "audit.h"
#include "ca.h"
#include "cli.h"
#include "conn.h"
#include "console.h"
#include "db.h"
#include "http.h"
#include "jobs.h"
#include "hb_limit.h"
#include "lifecycle.h"
#include "log.h"
#include "login_limit.h"
#include "web.h"

#define PEM_MAX (1u << 20)

struct serve_opts {
	const char *listen, *db, *cert, *key, *ca_cert, *ca_key, *staging, *staging_ca, *console_ca;
	uint64_t interval_s, timeout_s, history, cutover_timeout_s, audit_keep, audit_max_age_s;
	uint64_t job_lease_s;
	enum log_level level;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " serve --listen HOST:PORT --db FILE --tls-cert FILE --tls-key FILE\n"
		"           --agent-ca-cert FILE --agent-ca-key FILE --staging HOST:PORT [options]\n"
		"\n"
		"Serve the console's HTTPS JSON API (docs/console-api.md) and its web page\n"
		"(docs/console.md) on the same address. Prints\n"
		"'listening on HOST:PORT' when ready; SIGTERM stops it cleanly.\n"
		"\n"
		"  --listen HOST:PORT          address to listen on (port 0: any free port)\n"
		"  --db FILE                   SQLite database (created and migrated if needed),\n"
		"                              or a postgresql://USER@HOST:PORT/DB URI (migrated\n"
		"                              if needed; several instances may share it)\n"
		"  --tls-cert FILE             this server's certificate chain (PEM)\n"
		"  --tls-key FILE              this server's private key (PEM)\n"
		"  --agent-ca-cert FILE        the agent CA certificate (the --ca staging trusts)\n"
		"  --agent-ca-key FILE         its private key (make both with 'admin init-ca DIR')\n"
		"  --staging HOST:PORT         the staging server agents replicate to\n"
		"  --staging-ca FILE           the CA that signed staging's certificate (PEM),\n"
		"                              handed to agents at registration\n"
		"  --console-ca FILE           the CA certificate installers need to trust this\n"
		"                              server, offered on the token page (default: the\n"
		"                              last certificate of --tls-cert)\n"
		"  --heartbeat-interval DUR    how often agents report (default 10s)\n"
		"  --heartbeat-timeout DUR     silent longer than this: DISCONNECTED (default 30s)\n"
		"  --history N                 status reports kept per machine (default 500)\n"
		"  --cutover-timeout DUR       a cutover fails when the agent's final recovery\n"
		"                              point has not reached the console within this\n"
		"                              (default 1h; docs/launch.md)\n"
		"  --job-lease DUR             a job staging took stays its own this long after\n"
		"                              its last sync; then another staging server that\n"
		"                              stores the machine may take it over (default 10m;\n"
		"                              docs/console-database.md)\n"
		"  --audit-keep N              audit records kept per account (default 50000)\n"
		"  --audit-max-age DUR         audit records older than this are removed\n"
		"                              (default 400d; docs/console-api.md)\n"
		"  --log-level LEVEL           error, warn, info (default) or debug\n"
		"  --help                      show this help\n");
}


static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "agent-ca-cert", required_argument, NULL, 'A' },
		{ "agent-ca-key", required_argument, NULL, 'K' },
		{ "staging", required_argument, NULL, 's' },
		{ "staging-ca", required_argument, NULL, 'S' },
		{ "console-ca", required_argument, NULL, 'C' },
		{ "heartbeat-interval", required_argument, NULL, 'i' },
		{ "heartbeat-timeout", required_argument, NULL, 't' },
		{ "history", required_argument, NULL, 'H' },
		{ "cutover-timeout", required_argument, NULL, 'T' },
		{ "job-lease", required_argument, NULL, 'J' },
		{ "audit-keep", required_argument, NULL, 'N' },
		{ "audit-max-age", required_argument, NULL, 'M' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 'd': o->db = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'A': o->ca_cert = optarg; break;
		case 'K': o->ca_key = optarg; break;
		case 's': o->staging = optarg; break;
		case 'S': o->staging_ca = optarg; break;
		case 'C': o->console_ca = optarg; break;
		case 'i':
		case 't':
		case 'T':
		case 'J':
			if (parse_seconds(optarg, c == 'i'   ? &o->interval_s
						  : c == 't' ? &o->timeout_s
						  : c == 'J' ? &o->job_lease_s
							     : &o->cutover_timeout_s))
				return bad_usage("serve", "%s '%s' is not a duration of at least 1s "
						 "(for example 10s, 2m)", argv[optind - 1], optarg);
			break;
		case 'H':
			errno = 0;
			o->history = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || !o->history || o->history > 100000)
				return bad_usage("serve", "--history '%s' must be 1 to 100000", optarg);
			break;
		case 'N':
			errno = 0;
			o->audit_keep = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || !o->audit_keep ||
			    o->audit_keep > 100000000)
				return bad_usage("serve", "--audit-keep '%s' must be 1 to 100000000",
						 optarg);
			break;
		case 'M':
			if (parse_seconds(optarg, &o->audit_max_age_s))
				return bad_usage("serve", "--audit-max-age '%s' is not a duration of at "
						 "least 1s (for example 400d, 12h)", optarg);
			break;
		case 'L':
			if (log_level_parse(optarg, &o->level))
				return bad_usage("serve", "--log-level '%s' is not one of error, warn, "
						 "info, debug", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return bad_usage("serve", "option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("serve", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("serve", "unexpected argument '%s'", argv[optind]);
	if (!o->listen)
		return bad_usage("serve", "--listen HOST:PORT is required (for example 0.0.0.0:8443)");
	if (!o->db)
		return bad_usage("serve", "--db FILE is required (the SQLite database, or a "
				 "postgresql:// URI)");
	if (!o->cert || !o->key)
		return bad_usage("serve", "--tls-cert and --tls-key are required (this server's "
				 "certificate and key)");
	if (!o->ca_cert || !o->ca_key)
		return bad_usage("serve", "--agent-ca-cert and --agent-ca-key are required "
				 "(create them with '" PROG " admin init-ca DIR')");
	if (!o->staging)
		return bad_usage("serve", "--staging HOST:PORT is required (where agents replicate "
				 "to)");
	return 0;
}

static int read_pem(const char *opt, const char *path, char **out)
{
	size_t len;
	int rc = read_small_file(path, out, &len, PEM_MAX);

	if (rc)
		log_error("cannot read %s %s: %s", opt, path, strerror(-rc));
	return rc;
}

/* What the retention no longer keeps goes at start too: a console with a
 * shorter --audit-max-age, or one where nobody acts for a while. */
static int prune_audit(struct db *db, const struct console *c)
{
	struct audit_retention ret = { c->audit_keep, c->audit_max_age_s };
	int64_t removed = 0;
	int rc = db_begin(db);

	if (!rc)
		rc = audit_prune(db, -1, &ret, console_now(), &removed);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		log_error("cannot prune the audit log: %s", strerror(-rc));
		return rc;
	}
	if (removed)
		log_info("audit log: removed %lld records past --audit-keep %lld or --audit-max-age "
			 "%lld s", (long long)removed, (long long)ret.keep, (long long)ret.max_age_s);
	return 0;
}

static int setup(const struct serve_opts *o, struct console *c, char **cert, char **key)
{
	char err[512], host[256], port[32];
	struct db *db;
	int rc;

	if (split_host_port(o->staging, host, sizeof(host), port, sizeof(port))) {
		log_error("--staging '%s' is not HOST:PORT", o->staging);
		return -EINVAL;
	}
	snprintf(c->staging_addr, sizeof(c->staging_addr), "%s", o->staging);
	if ((rc = read_pem("--tls-cert", o->cert, cert)) || (rc = read_pem("--tls-key", o->key, key)) ||
	    (rc = read_pem("--agent-ca-cert", o->ca_cert, &c->agent_ca_pem)) ||
	    (o->staging_ca && (rc = read_pem("--staging-ca", o->staging_ca, &c->staging_ca_pem))) ||
	    (o->console_ca && (rc = read_pem("--console-ca", o->console_ca, &c->console_ca_pem))))
		return rc;
	if (!o->console_ca && (rc = console_ca_from_chain(*cert, &c->console_ca_pem))) {
		log_error("--tls-cert %s holds no certificate", o->cert);
		return rc;
	}
	rc = agent_ca_load(o->ca_cert, o->ca_key, &c->ca, err, sizeof(err));
	if (rc) {
		log_error("agent CA: %s", err);
		return rc;
	}
	rc = db_open(o->db, 1, &db, err, sizeof(err));
	if (!rc)
		rc = db_migrate(db, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		db_close(db);
		return rc;
	}
	rc = prune_audit(db, c);
	db_close(db);
	return rc;
}

static void cleanup(struct console *c, char *cert, char *key)
{
	agent_ca_free(c->ca);
	free(c->agent_ca_pem);
	free(c->staging_ca_pem);
	free(c->console_ca_pem);
	free(cert);
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
}

int serve_main(int argc, char **argv)
{
	struct serve_opts o = {
		.interval_s = DEFAULT_HEARTBEAT_INTERVAL_S, .timeout_s = DEFAULT_HEARTBEAT_TIMEOUT_S,
		.history = DEFAULT_HISTORY, .level = LOG_LVL_INFO,
		.cutover_timeout_s = CUTOVER_TIMEOUT_DEFAULT_S, .audit_keep = AUDIT_KEEP_DEFAULT,
		.audit_max_age_s = AUDIT_MAX_AGE_DEFAULT_S, .job_lease_s = JOB_LEASE_DEFAULT_S,
	};
	struct console c = { .db_path = NULL };
	struct http_server *srv = NULL;
	char *cert = NULL, *key = NULL, host[256], port[32], bound[300], err[512];
	sigset_t sigs;
	int rc, sig = 0;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	log_init(PROG, o.level, 1);
	if (split_host_port(o.listen, host, sizeof(host), port, sizeof(port)))
		return bad_usage("serve", "--listen '%s' is not HOST:PORT (for example "
				 "127.0.0.1:8443 or [::1]:8443)", o.listen);
	if (o.timeout_s <= o.interval_s)
		log_warn("--heartbeat-timeout (%llus) is not longer than --heartbeat-interval "
			 "(%llus): machines will flap to DISCONNECTED",
			 (unsigned long long)o.timeout_s, (unsigned long long)o.interval_s);
	c.db_path = o.db;
	c.heartbeat_interval_s = (unsigned)o.interval_s;
	c.heartbeat_timeout_s = (unsigned)o.timeout_s;
	c.history_max = (unsigned)o.history;
	c.cutover_timeout_s = (unsigned)o.cutover_timeout_s;
	c.job_lease_s = (unsigned)o.job_lease_s;
	c.audit_keep = (int64_t)o.audit_keep;
	c.audit_max_age_s = (int64_t)o.audit_max_age_s;
	c.login_limiter = calloc(1, sizeof(*c.login_limiter));
	if (!c.login_limiter) {
		rc = -ENOMEM;
		goto out;
	}
	limiter_init(c.login_limiter, NULL, NULL);
	c.hb_limiter = calloc(1, sizeof(*c.hb_limiter));
	if (!c.hb_limiter) {
		rc = -ENOMEM;
		goto out;
	}
	hb_limiter_init(c.hb_limiter, NULL, NULL);
	rc = setup(&o, &c, &cert, &key);
	if (rc)
		goto out;

	/* Block the stop signals before libmicrohttpd starts its threads, so
	 * they inherit the mask and only sigwait() below sees them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = http_start(&c, host, port, cert, key, &srv, bound, sizeof(bound), err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		goto out;
	}
	log_info("listening on %s", bound);
	while (sigwait(&sigs, &sig) || (sig != SIGTERM && sig != SIGINT))
		;
	log_info("stopping (signal %d)", sig);
	http_stop(srv);
	log_info("stopped");
out:
	if (c.hb_limiter) {
		hb_limiter_destroy(c.hb_limiter);
		free(c.hb_limiter);
	}
	if (c.login_limiter) {
		limiter_destroy(c.login_limiter);
		free(c.login_limiter);
	}
	cleanup(&c, cert, key);
	return rc ? 1 : 0;
}
