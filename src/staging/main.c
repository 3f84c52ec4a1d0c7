// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig-staging: options, setup, then the accept loop (server.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conn.h"
#include "console_sync.h"
#include "launch_job.h"
#include "log.h"
#include "metrics_http.h"
#include "revocation.h"
#include "points.h"
#include "points_cli.h"
#include "server.h"
#include "store.h"
#include "store_backend.h"
#include "usage.h"
#include "util.h"

#define PROG "livemig-staging"

struct options {
	const char *listen, *store, *ca, *cert, *key, *points_mode;
	const char *console, *console_ca, *console_credential, *revocation_state, *advertise;
	const char *metrics;
	const char *image_store, *ceph_conf, *ceph_id;
	const char *launch_driver, *launcher, *launch_uri, *launch_dir, *launch_nic, *launch_ceph_secret;
	unsigned launch_timeout_s;
	uint64_t sync_bytes, console_interval_ns;
	enum log_level level;
	struct retention_policy keep;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " --listen HOST:PORT --store DIR --ca AGENT_CA.pem\n"
		"                       --cert SERVER.pem --key SERVER.key [options]\n"
		"       " PROG " points list|show|export|serve|pin|unpin|delete|prune ...\n"
		"                       (see '" PROG " points --help')\n"
		"\n"
		"Receive replicated disks from livemig agents over TLS 1.3 (mutual\n"
		"authentication) and keep them as sparse images under DIR/<machine>/,\n"
		"with a recovery point for every consistent point the agent marks.\n"
		"\n"
		"  --listen HOST:PORT   address to listen on, e.g. 0.0.0.0:7450 or [::]:7450\n"
		"  --store DIR          staging store directory (created, mode 0700)\n"
		"  --ca FILE            CA that signs agent certificates (PEM)\n"
		"  --cert FILE          this server's certificate chain (PEM)\n"
		"  --key FILE           this server's private key (PEM)\n"
		"  --sync-bytes SIZE    sync at least every SIZE bytes written (default 8M)\n"
		"  --points-mode MODE   auto (default: reflink where the store's file system\n"
		"                       can clone files, else cow), reflink or cow; with\n"
		"                       --image-store rbd: always RBD snapshots\n"
		"  --image-store STORE  where the disks' bytes go: files (default, sparse\n"
		"                       images under DIR) or rbd:POOL (one Ceph RBD image per\n"
		"                       disk, points as snapshots; DIR keeps the metadata)\n"
		"  --ceph-conf FILE     Ceph configuration for rbd: (default $CEPH_CONF, else\n"
		"                       /etc/ceph/ceph.conf)\n"
		"  --ceph-id NAME       Ceph user for rbd: (client.NAME; default admin)\n"
		"  --keep-all DURATION  keep every recovery point this young (default 1h)\n"
		"  --keep-hourly N      and the first point of each of the last N hours (24)\n"
		"  --keep-daily N       and the first point of each of the last N days (7)\n"
		"\n"
		"The channel to livemig-console (docs/staging-console.md); off unless --console\n"
		"is given. Once the console has answered, only each machine's current\n"
		"certificate may connect:\n"
		"  --console URL               the console, e.g. https://console.example:8443\n"
		"  --console-ca FILE           CA that signed the console's certificate (PEM)\n"
		"  --console-credential FILE   the secret from 'livemig-console admin add-staging'\n"
		"                              (mode 0600)\n"
		"  --console-interval DUR      sync every DUR (default 2s)\n"
		"  --revocation-state FILE     the last certificate list, kept across restarts\n"
		"                              (default DIR/.revocation.json)\n"
		"  --advertise HOST:PORT       where agents reach this server: the console may\n"
		"                              place machines here (docs/staging-placement.md);\n"
		"                              this server's certificate must name HOST\n"
		"\n"
		"Launches (the console's launch and destroy jobs, docs/launch.md); off unless\n"
		"--launch-driver is given:\n"
		"  --launch-driver D     libvirt (start the converted copy as a domain) or\n"
		"                        export (write it as a qcow2 image for a cloud)\n"
		"  --launcher PATH       the livemig-launch program (default: next to\n"
		"                        livemig-staging, else on PATH)\n"
		"  --launch-uri URI      libvirt connection (default qemu:///system)\n"
		"  --launch-dir DIR      one directory per instance: the exported disk, the\n"
		"                        converted copy, serial log (default DIR/.launches)\n"
		"  --launch-nic NIC      user (default), network:NAME or bridge:NAME\n"
		"  --launch-timeout SECONDS  bound for a launched copy to be up (default 900)\n"
		"  --launch-ceph-secret UUID  with --image-store rbd: and libvirt (required\n"
		"                        there): the libvirt secret holding the --ceph-id\n"
		"                        user's key; launches boot clones of the point's\n"
		"                        snapshots, nothing is exported\n"
		"\n"
		"  --metrics HOST:PORT  answer GET /metrics (Prometheus, plain HTTP) there,\n"
		"                       e.g. 127.0.0.1:9471 (docs/metrics.md)\n"
		"  --log-level LEVEL    error, warn, info (default) or debug\n"
		"  --help               show this help\n"
		"  --version            show the version\n");
}


/* 0, or an exit status for a usage error already reported. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "store", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "sync-bytes", required_argument, NULL, 'b' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "console", required_argument, NULL, 'C' },
		{ "console-ca", required_argument, NULL, 'T' },
		{ "console-credential", required_argument, NULL, 'S' },
		{ "console-interval", required_argument, NULL, 'I' },
		{ "revocation-state", required_argument, NULL, 'R' },
		{ "advertise", required_argument, NULL, 1007 },
		{ "points-mode", required_argument, NULL, 'P' },
		{ "image-store", required_argument, NULL, 1008 },
		{ "ceph-conf", required_argument, NULL, 1009 },
		{ "ceph-id", required_argument, NULL, 1010 },
		{ "keep-all", required_argument, NULL, 'A' },
		{ "keep-hourly", required_argument, NULL, 'H' },
		{ "keep-daily", required_argument, NULL, 'D' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "launch-driver", required_argument, NULL, 1001 },
		{ "launcher", required_argument, NULL, 1002 },
		{ "launch-uri", required_argument, NULL, 1003 },
		{ "launch-dir", required_argument, NULL, 1004 },
		{ "launch-nic", required_argument, NULL, 1005 },
		{ "launch-timeout", required_argument, NULL, 1006 },
		{ "launch-ceph-secret", required_argument, NULL, 1011 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* our own messages, with a remedy */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 's': o->store = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'b':
			if (parse_size(optarg, &o->sync_bytes) || o->sync_bytes == 0)
				return usage_error(PROG, NULL, "--sync-bytes '%s' is not a size (for example 8M or "
						 "512K)", optarg);
			break;
		case 'C': o->console = optarg; break;
		case 'T': o->console_ca = optarg; break;
		case 'S': o->console_credential = optarg; break;
		case 'R': o->revocation_state = optarg; break;
		case 1007: {
			char host[256], port[16];
			unsigned long p;
			char *end;

			if (split_host_port(optarg, host, sizeof(host), port, sizeof(port)) ||
			    (p = strtoul(port, &end, 10)) < 1 || p > 65535 || *end ||
			    strlen(optarg) > 261)
				return usage_error(PROG, NULL, "--advertise '%s' is not HOST:PORT (for example "
						 "st1.example:7450 or [2001:db8::1]:7450)", optarg);
			o->advertise = optarg;
			break;
		}
		case 'I':
			if (parse_duration(optarg, &o->console_interval_ns) ||
			    o->console_interval_ns < 100000000u)
				return usage_error(PROG, NULL, "--console-interval '%s' is not a duration of at "
						 "least 100ms (for example 2s)", optarg);
			break;
		case 'L':
			if (log_level_parse(optarg, &o->level))
				return usage_error(PROG, NULL, "--log-level '%s' is not one of error, warn, info, "
						 "debug", optarg);
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 1008: o->image_store = optarg; break;
		case 1009: o->ceph_conf = optarg; break;
		case 1010: o->ceph_id = optarg; break;
		case 'P':
			if (strcmp(optarg, "auto") && strcmp(optarg, "reflink") && strcmp(optarg, "cow"))
				return usage_error(PROG, NULL, "--points-mode '%s' is not one of auto, reflink, cow",
						 optarg);
			o->points_mode = optarg;
			break;
		case 'A':
			if (parse_duration(optarg, &o->keep.keep_all_ns))
				return usage_error(PROG, NULL, "--keep-all '%s' is not a duration (for example 1h or "
						 "30m)", optarg);
			break;
		case 'H':
		case 'D': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 100000)
				return usage_error(PROG, NULL, "--keep-%s '%s' is not a count (0 to 100000)",
						 c == 'H' ? "hourly" : "daily", optarg);
			if (c == 'H')
				o->keep.hourly = (unsigned)v;
			else
				o->keep.daily = (unsigned)v;
			break;
		}
		case 1001:
			if (strcmp(optarg, "libvirt") && strcmp(optarg, "export"))
				return usage_error(PROG, NULL, "--launch-driver '%s' is not one of libvirt, export",
						 optarg);
			o->launch_driver = optarg;
			break;
		case 1002: o->launcher = optarg; break;
		case 1003: o->launch_uri = optarg; break;
		case 1004: o->launch_dir = optarg; break;
		case 1005:
			if (strcmp(optarg, "user") && strncmp(optarg, "network:", 8) &&
			    strncmp(optarg, "bridge:", 7))
				return usage_error(PROG, NULL, "--launch-nic '%s' is not user, network:NAME or "
						 "bridge:NAME", optarg);
			o->launch_nic = optarg;
			break;
		case 1006: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || !v || v > 86400)
				return usage_error(PROG, NULL, "--launch-timeout '%s' is not a number of seconds "
						 "(1 to 86400)", optarg);
			o->launch_timeout_s = (unsigned)v;
			break;
		}
		case 1011:
			if (!launch_secret_valid(optarg))
				return usage_error(PROG, NULL, "--launch-ceph-secret '%s' is not a UUID (virsh "
						 "secret-list shows the secrets' UUIDs)", optarg);
			o->launch_ceph_secret = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " " LIVEMIG_VERSION "\n");
			exit(0);
		case ':':
			return usage_error(PROG, NULL, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error(PROG, NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(PROG, NULL, "unexpected argument '%s'", argv[optind]);
	if (!o->listen)
		return usage_error(PROG, NULL, "%s", "--listen HOST:PORT is required (for example --listen "
				 "0.0.0.0:7450)");
	if (!o->store)
		return usage_error(PROG, NULL, "%s", "--store DIR is required (where the machines' images go)");
	if (!o->ca || !o->cert || !o->key)
		return usage_error(PROG, NULL, "%s", "--ca, --cert and --key are required (the CA that signs "
				 "agent certificates, and this server's certificate and key)");
	if (o->console && (!o->console_ca || !o->console_credential))
		return usage_error(PROG, NULL, "%s", "--console needs --console-ca (the CA of the console's "
				 "certificate) and --console-credential (the file with the secret "
				 "from 'livemig-console admin add-staging NAME')");
	if (!o->launch_driver && (o->launcher || o->launch_uri || o->launch_dir || o->launch_nic ||
				  o->launch_timeout_s || o->launch_ceph_secret))
		return usage_error(PROG, NULL, "%s", "--launcher, --launch-uri, --launch-dir, --launch-nic, "
				 "--launch-timeout and --launch-ceph-secret go with --launch-driver libvirt|export");
	if (o->launch_ceph_secret && (strcmp(o->launch_driver, "libvirt") || !o->image_store ||
				      strncmp(o->image_store, "rbd:", 4)))
		return usage_error(PROG, NULL, "%s", "--launch-ceph-secret goes with --launch-driver libvirt "
				 "and --image-store rbd:POOL (launches from clones of the point's snapshots)");
	if (o->launch_driver && !strcmp(o->launch_driver, "libvirt") && o->image_store &&
	    !strncmp(o->image_store, "rbd:", 4) && !o->launch_ceph_secret)
		return usage_error(PROG, NULL, "%s", "--launch-driver libvirt with --image-store rbd:POOL needs "
				 "--launch-ceph-secret UUID: the libvirt secret holding the Ceph user's key, "
				 "with which the launched machine opens its clones (docs/launch.md)");
	if (o->launch_driver && !o->console)
		return usage_error(PROG, NULL, "%s", "--launch-driver goes with --console URL: launches are "
				 "the console's jobs");
	if (!o->console && (o->console_ca || o->console_credential || o->revocation_state ||
			    o->advertise))
		return usage_error(PROG, NULL, "%s", "--console-ca, --console-credential, --revocation-state "
				 "and --advertise go with --console URL");
	return 0;
}

static int check_readable(const char *opt, const char *path, const char *what)
{
	if (access(path, R_OK) == 0)
		return 0;
	fprintf(stderr, PROG ": cannot read %s %s: %s (pass %s)\n", opt, path, strerror(errno),
		what);
	return -1;
}

/* Print the address actually bound (port 0 picks one): "WHAT HOST:PORT". */
static void announce(int fd, const char *what)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&sa, &sl) ||
	    getnameinfo((struct sockaddr *)&sa, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		log_info("%s", what);
		return;
	}
	log_info(strchr(host, ':') ? "%s [%s]:%s" : "%s %s:%s", what, host, port);
}

/* Load the persisted certificate list (enforced from here on if there is
 * one), then start syncing. 0 or -1 (logged). */
static int start_console_sync(const struct options *o)
{
	struct console_sync_config sc = {
		.url = o->console, .ca = o->console_ca, .credential = o->console_credential,
		.store_dir = o->store, .interval_ns = o->console_interval_ns,
		.advertise = o->advertise,
	};
	char path[4096], err[512];

	if (o->revocation_state)
		snprintf(path, sizeof(path), "%s", o->revocation_state);
	else
		snprintf(path, sizeof(path), "%s/.revocation.json", o->store);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_error("libcurl initialisation failed");
		return -1;
	}
	if (revocation_init(path, err, sizeof(err)) || console_sync_start(&sc, err, sizeof(err))) {
		log_error("%s", err);
		revocation_shutdown();
		return -1;
	}
	return 0;
}

static void stop_console_sync(const struct options *o)
{
	if (!o->console)
		return;
	console_sync_stop();
	revocation_shutdown();
	curl_global_cleanup();
}

/* The launch jobs' configuration (launch_job.h): the launcher program and
 * the directory of the instances, made absolute (the launcher and libvirt
 * get these paths). 0 or -1 (logged). */
static int setup_launches(const struct options *o)
{
	static char launcher[PATH_MAX], dir[PATH_MAX];
	struct launch_config lc = { .driver = o->launch_driver, .uri = o->launch_uri,
				    .nic = o->launch_nic, .timeout_s = o->launch_timeout_s,
				    .ceph_conf = o->ceph_conf, .ceph_id = o->ceph_id,
				    .ceph_secret = o->launch_ceph_secret };
	char want[PATH_MAX];
	int rc;

	if (!o->launch_driver) {
		launch_configure(&lc);
		return 0;
	}
	if (o->launch_dir)
		snprintf(want, sizeof(want), "%s", o->launch_dir);
	else
		snprintf(want, sizeof(want), "%s/" LAUNCH_DIR_NAME, o->store);
	rc = mkdir(want, 0700) < 0 && errno != EEXIST ? -errno : 0;
	if (rc || !realpath(want, dir)) {
		log_error("--launch-dir %s: %s (create it, or choose another directory)", want,
			  strerror(rc ? -rc : errno));
		return -1;
	}
	if (o->launcher) {
		if (!realpath(o->launcher, launcher))
			snprintf(launcher, sizeof(launcher), "%s", o->launcher);
	} else if (launch_find_launcher(launcher, sizeof(launcher))) {
		snprintf(launcher, sizeof(launcher), "livemig-launch");
	}
	lc.launcher = launcher;
	lc.dir = dir;
	/* the store's pool: parse_options and setup_store checked the spec */
	if (o->image_store && !strncmp(o->image_store, "rbd:", 4))
		lc.rbd_pool = o->image_store + 4;
	launch_configure(&lc);
	if (access(launcher, X_OK))
		log_warn("launches: the launcher %s cannot be run (%s): launch jobs will fail until "
			 "livemig-launch is installed here or --launcher names it (docs/launch.md)",
			 launcher, strerror(errno));
	else
		log_info("launches: driver %s, launcher %s, instances in %s%s%s", o->launch_driver, launcher,
			 dir, launch_from_clones(&lc) ? ", from clones of the point's snapshots in pool " : "",
			 launch_from_clones(&lc) ? lc.rbd_pool : "");
	return 0;
}

/* The metrics listener; after the signal mask, so its thread inherits it. */
static int start_metrics(const char *addr, const char *store)
{
	char host[256], port[32], err[512];
	int fd;

	if (split_host_port(addr, host, sizeof(host), port, sizeof(port))) {
		log_error("--metrics '%s' is not HOST:PORT (for example 127.0.0.1:9471)", addr);
		return -1;
	}
	fd = tcp_listen(host, port, err, sizeof(err));
	if (fd < 0) {
		log_error("--metrics: %s (is another program listening there?)", err);
		return -1;
	}
	if (metrics_http_start(fd, store, err, sizeof(err))) {
		log_error("--metrics: %s", err);
		close(fd);
		return -1;
	}
	announce(fd, "metrics on");
	return 0;
}

/* The image store backend, and how recovery points are kept in it. 0 or -1
 * (logged). */
static int setup_store(const struct options *o, struct staging_config *cfg)
{
	struct store_backend_config bc = { .root = o->store, .spec = o->image_store,
					   .ceph_conf = o->ceph_conf, .ceph_id = o->ceph_id };
	char err[1024];
	int reflink;

	if ((o->ceph_conf || o->ceph_id) && (!o->image_store || strncmp(o->image_store, "rbd:", 4))) {
		log_error("--ceph-conf and --ceph-id go with --image-store rbd:POOL");
		return -1;
	}
	if (store_backend_setup(&bc, 1, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (store_backend_has_snapshots()) {
		if (strcmp(o->points_mode, "auto")) {
			log_error("--points-mode %s: the %s image store keeps recovery points as its "
				  "own snapshots (leave --points-mode out)", o->points_mode,
				  store_backend_name());
			store_backend_shutdown();
			return -1;
		}
		cfg->points_mode = POINT_MODE_SNAP;
		log_info("images in %s; recovery points: snapshots", o->image_store);
		return 0;
	}
	/* recovery points cost metadata only where the file system can clone */
	reflink = points_reflink_works(o->store);
	if (!strcmp(o->points_mode, "reflink") && !reflink) {
		log_error("--points-mode reflink: the file system of %s cannot clone files "
			  "(FICLONE); use XFS with reflink=1 or btrfs, or --points-mode cow",
			  o->store);
		return -1;
	}
	cfg->points_mode = !strcmp(o->points_mode, "cow") || !reflink ? POINT_MODE_COW
								      : POINT_MODE_REFLINK;
	log_info("recovery points: %s (the store's file system %s clone files)",
		 cfg->points_mode == POINT_MODE_REFLINK ? "reflink clones" :
		 "copy-on-write deltas", reflink ? "can" : "cannot");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .sync_bytes = 8u << 20, .level = LOG_LVL_INFO, .points_mode = "auto",
			     .keep = RETENTION_DEFAULT, .console_interval_ns = SYNC_INTERVAL_DEFAULT_NS };
	struct staging_config cfg = { 0 };
	char host[256], port[32], err[512];
	int rc, listen_fd, sig_fd;
	sigset_t sigs;

	if (argc > 1 && !strcmp(argv[1], "points"))
		return points_cli(argc - 1, argv + 1);
	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc;
	log_init(PROG, o.level, 1);
	if (split_host_port(o.listen, host, sizeof(host), port, sizeof(port)))
		return usage_error(PROG, NULL, "--listen '%s' is not HOST:PORT (for example 127.0.0.1:7450 or "
				 "[::1]:7450)", o.listen);
	if (check_readable("--ca", o.ca, "the PEM certificate of the CA that signs agent "
			   "certificates") ||
	    check_readable("--cert", o.cert, "this server's PEM certificate") ||
	    check_readable("--key", o.key, "this server's PEM private key"))
		return 1;
	cfg.store_dir = o.store;
	cfg.sync_bytes = o.sync_bytes;
	cfg.keep = o.keep;
	cfg.tls = tls_ctx_new(1, o.ca, o.cert, o.key, err, sizeof(err));
	if (!cfg.tls) {
		log_error("TLS setup failed: %s (check that --cert and --key are a matching PEM "
			  "pair and --ca is a PEM certificate)", err);
		return 1;
	}
	if (store_prepare_root(o.store, err, sizeof(err))) {
		log_error("%s", err);
		SSL_CTX_free(cfg.tls);
		return 1;
	}
	/* signals arrive through a descriptor the accept loop polls; every
	 * thread inherits the mask, so none is interrupted by them */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		SSL_CTX_free(cfg.tls);
		return 1;
	}
	/* after the signal mask: librados starts threads */
	if (setup_store(&o, &cfg)) {
		SSL_CTX_free(cfg.tls);
		close(sig_fd);
		return 1;
	}

	listen_fd = tcp_listen(host, port, err, sizeof(err));
	if (listen_fd < 0) {
		log_error("%s (is another program listening there? choose another --listen)", err);
		SSL_CTX_free(cfg.tls);
		close(sig_fd);
		return 1;
	}
	/* after the signal mask: the sync thread inherits it. Before the
	 * first connection: a persisted certificate list is enforced on it. */
	if (setup_launches(&o)) {
		close(listen_fd);
		SSL_CTX_free(cfg.tls);
		close(sig_fd);
		return 1;
	}
	if (o.console && start_console_sync(&o)) {
		close(listen_fd);
		SSL_CTX_free(cfg.tls);
		close(sig_fd);
		return 1;
	}
	if (o.metrics && start_metrics(o.metrics, o.store)) {
		stop_console_sync(&o);
		close(listen_fd);
		SSL_CTX_free(cfg.tls);
		close(sig_fd);
		return 1;
	}
	announce(listen_fd, "listening on");
	rc = server_run(&cfg, listen_fd, sig_fd);
	metrics_http_stop();
	stop_console_sync(&o);
	close(sig_fd);
	SSL_CTX_free(cfg.tls);
	store_backend_shutdown();
	log_info("stopped");
	return rc ? 1 : 0;
}
