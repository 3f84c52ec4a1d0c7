// SPDX-License-Identifier: GPL-2.0-or-later
/* admin server-cert: a server's TLS key and certificate (admin.h, server_cert.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "server_cert.h"

#define DEFAULT_SERVER_CA_DIR "/etc/livemig/server-ca"

struct opts {
	struct server_cert_req req;
	const char *owner;
};

static int on_opt(void *ctx, int c, const char *arg)
{
	struct opts *o = ctx;
	char *end;
	long days;

	switch (c) {
	case 'd':
	case 'i':
		if ((c == 'd' ? o->req.n_dns : o->req.n_ips) >= SERVER_CERT_MAX_NAMES)
			return bad_usage("admin server-cert", "at most %d --dns and %d --ip",
					 SERVER_CERT_MAX_NAMES, SERVER_CERT_MAX_NAMES);
		if (c == 'd')
			o->req.dns[o->req.n_dns++] = arg;
		else
			o->req.ips[o->req.n_ips++] = arg;
		return 0;
	case 'c':
		o->req.ca_dir = arg;
		return 0;
	case 'o':
		o->req.prefix = arg;
		return 0;
	case 'u':
		o->owner = arg;
		return 0;
	case 'f':
		o->req.force = 1;
		return 0;
	case 'D':
		errno = 0;
		days = strtol(arg, &end, 10);
		if (errno || *end || end == arg || days < 1 || days > SERVER_CERT_MAX_DAYS)
			return bad_usage("admin server-cert", "--days '%s': give 1 to %d", arg,
					 SERVER_CERT_MAX_DAYS);
		o->req.days = (int)days;
		return 0;
	default:
		return 2;
	}
}

static int owner_ids(const char *owner, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(owner);

	if (!pw) {
		fprintf(stderr,
			PROG " admin server-cert: --owner %s: no such user (the packages make "
			"livemig-console and livemig-staging; install livemig-server first)\n", owner);
		return 1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int admin_server_cert(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin server-cert --out PREFIX (--dns NAME | --ip ADDRESS)...\n"
		"           [--ca DIR] [--owner USER] [--days N] [--force]\n"
		"Make a server's TLS key and certificate, signed by the server CA in DIR\n"
		"(created there on first use: DIR/ca.pem, DIR/ca.key mode 0600):\n"
		"  PREFIX.key     EC P-256 key, mode 0600\n"
		"  PREFIX.pem     the certificate, then the CA's: serve --tls-cert, staging --cert\n"
		"  PREFIX-ca.pem  the CA alone: what clients trust (agents' console_ca,\n"
		"                 serve --staging-ca, staging --console-ca)\n"
		"\n"
		"  --out PREFIX     where to write, e.g. /etc/livemig/console (required)\n"
		"  --dns NAME       a host name clients connect to (repeat for more)\n"
		"  --ip ADDRESS     an IPv4 or IPv6 address clients connect to (repeat)\n"
		"                   every name and address goes in subjectAltName; the\n"
		"                   first is the subject's CN\n"
		"  --ca DIR         the server CA (default " DEFAULT_SERVER_CA_DIR "); keep it\n"
		"                   apart from the agent CA of init-ca\n"
		"  --owner USER     owner of PREFIX.key and PREFIX.pem (the service's user:\n"
		"                   livemig-console, livemig-staging); default root\n"
		"  --days N         validity (default 825, at most 3650)\n"
		"  --force          replace an existing PREFIX.key and PREFIX.pem\n"
		"Needs no --db.\n";
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "dns", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, 'c' },
		{ "owner", required_argument, NULL, 'u' },
		{ "days", required_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.req = { .ca_dir = DEFAULT_SERVER_CA_DIR, .days = SERVER_CERT_DAYS,
			 .uid = (uid_t)-1, .gid = (gid_t)-1 },
	};
	char err[1024];
	int made_ca = 0, rc = admin_parse(argc, argv, help, longopts, on_opt, &o, 0);

	(void)a;
	if (rc)
		return rc;
	if (!o.req.prefix)
		return bad_usage(argv[0], "--out PREFIX is required (e.g. --out /etc/livemig/console)");
	if (o.owner && (rc = owner_ids(o.owner, &o.req.uid, &o.req.gid)))
		return rc;
	rc = server_cert_make(&o.req, &made_ca, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG " admin server-cert: %s\n", err);
		return 1;
	}
	if (made_ca)
		printf("created the server CA %s/ca.pem and %s/ca.key (keep ca.key secret)\n",
		       o.req.ca_dir, o.req.ca_dir);
	printf("wrote %s.key (mode 0600%s%s), %s.pem (certificate for", o.req.prefix,
	       o.owner ? ", owner " : "", o.owner ? o.owner : "", o.req.prefix);
	for (size_t i = 0; i < o.req.n_dns; i++)
		printf(" %s", o.req.dns[i]);
	for (size_t i = 0; i < o.req.n_ips; i++)
		printf(" %s", o.req.ips[i]);
	printf(", valid %d days, then its CA)\nand %s-ca.pem (the CA clients must trust)\n",
	       o.req.days, o.req.prefix);
	return 0;
}
