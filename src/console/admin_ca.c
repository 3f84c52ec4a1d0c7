// SPDX-License-Identifier: GPL-2.0-or-later
/* admin init-ca: the agent CA's key and certificate (admin.h, ca_init.c). */
#include <stdio.h>

#include "admin.h"
#include "ca.h"
#include "cli.h"

static int cn_opt(void *ctx, int c, const char *arg)
{
	if (c != 'n')
		return 2;
	*(const char **)ctx = arg;
	return 0;
}

int admin_init_ca(struct admin *a, int argc, char **argv)
{
	static const char help[] =
		"Usage: " PROG " admin init-ca DIR [--cn NAME]\n"
		"Create the agent CA: DIR/ca.key (EC P-256, mode 0600) and DIR/ca.pem\n"
		"(valid 10 years). Give ca.pem to staging (--ca) and both to 'serve'\n"
		"(--agent-ca-cert, --agent-ca-key). Never replaces an existing CA.\n";
	static const struct option opts[] = {
		{ "cn", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cn = "livemig agent CA";
	char err[512];
	int rc = admin_parse(argc, argv, help, opts, cn_opt, &cn, 1);

	(void)a;
	if (rc)
		return rc;
	rc = agent_ca_init(argv[optind], cn, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG " admin init-ca: %s\n", err);
		return 1;
	}
	printf("created %s/ca.pem and %s/ca.key (keep ca.key secret; staging needs only ca.pem)\n",
	       argv[optind], argv[optind]);
	return 0;
}
