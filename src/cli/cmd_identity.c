// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig identity: how this machine would be identified at registration. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "subcommands.h"
#include "util.h"

/* docs/identity.md: neither a metadata service nor a usable NIC; with
 * --verify, the identity changed */
#define EXIT_NO_IDENTITY 1
/* --verify: the metadata service did not answer, so no verdict */
#define EXIT_CANNOT_TELL 3

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s identity [--metadata-url URL] [--timeout DURATION] [--account NAME]\n"
		"                        [--json] [--sysfs DIR] [--verify SOURCE:VALUE]\n\n"
		"Shows what identifies this machine: the cloud metadata service's instance id\n"
		"when it answers, else the permanent MAC address of the first physical NIC.\n\n"
		"  --metadata-url URL   the metadata service (default %s)\n"
		"  --timeout DURATION   how long to wait for it, in all (default %dms)\n"
		"  --account NAME       also print the machine id for this account\n"
		"  --json               print a JSON object\n"
		"  --sysfs DIR          read NICs from DIR instead of /sys (tests)\n"
		"  --verify SOURCE:VALUE\n"
		"                       whether a registered identity (metadata:i-0abc...,\n"
		"                       mac:aa:bb:cc:dd:ee:ff) still holds: exit 0 yes, 1 no\n"
		"                       (reinstall needed), 3 cannot tell now\n",
		prog, IDENTITY_DEFAULT_METADATA_URL, IDENTITY_DEFAULT_TIMEOUT_MS);
}

static int print_json(const struct identity *id, const char *account)
{
	char mid[33];
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s?}", "source", id->source, "value",
			      id->value, "nic", id->nic[0] ? id->nic : NULL, "method", id->method,
			      "note", id->note[0] ? id->note : NULL);

	if (!o)
		return -1;
	if (account) {
		identity_machine_id(id, account, mid);
		json_object_set_new(o, "account", json_string(account));
		json_object_set_new(o, "machine_id", json_string(mid));
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
	return 0;
}

/* --verify SOURCE:VALUE, as stored at registration */
static int verify_main(const struct cli_global *g, const struct identity_options *o,
		       const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct identity stored = { 0 };
	char msg[1024];
	int rc;

	if (!colon || colon == arg || !colon[1] || (size_t)(colon - arg) >= sizeof(stored.source) ||
	    strlen(colon + 1) >= sizeof(stored.value)) {
		fprintf(stderr, "%s identity: --verify wants SOURCE:VALUE, e.g. mac:02:00:00:00:00:01\n",
			g->prog);
		return CLI_USAGE;
	}
	memcpy(stored.source, arg, (size_t)(colon - arg));
	snprintf(stored.value, sizeof(stored.value), "%s", colon + 1);
	rc = identity_verify(o, &stored, msg, sizeof(msg));
	if (rc == 0) {
		printf("identity %s:%s still holds\n", stored.source, stored.value);
		return CLI_OK;
	}
	fprintf(stderr, "%s: %s\n", g->who, msg);
	if (rc == -EINVAL)
		return CLI_USAGE;
	return rc == -EAGAIN ? EXIT_CANNOT_TELL : EXIT_NO_IDENTITY;
}

int identity_main(const struct cli_global *g, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "metadata-url", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "account", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "verify", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct identity_options o = { 0 };
	const char *account = NULL, *verify = NULL;
	struct identity id;
	char err[1024], mid[33];
	uint64_t ns;
	int c, as_json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			o.metadata_url = optarg;
			break;
		case 't':
			if (parse_duration(optarg, &ns) || ns < 1000000u || ns > 60000000000u) {
				fprintf(stderr, "%s identity: --timeout must be 1ms..60s, not '%s'\n",
					g->prog, optarg);
				return CLI_USAGE;
			}
			o.timeout_ms = (long)(ns / 1000000u);
			break;
		case 'a':
			if (!*optarg) {
				fprintf(stderr, "%s identity: --account needs a name\n", g->prog);
				return CLI_USAGE;
			}
			account = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 's':
			o.sysfs = optarg;
			break;
		case 'v':
			verify = optarg;
			break;
		case 'h':
			usage(stdout, g->prog);
			return CLI_OK;
		default:
			usage(stderr, g->prog);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s identity: unexpected argument '%s'\n", g->prog, argv[optind]);
		return CLI_USAGE;
	}
	if (verify)
		return verify_main(g, &o, verify);
	if (identity_detect(&o, &id, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", g->who, err);
		return EXIT_NO_IDENTITY;
	}
	if (as_json)
		return print_json(&id, account) ? EXIT_NO_IDENTITY : CLI_OK;
	printf("source:     %s (%s)\n", id.source, id.method);
	printf("value:      %s\n", id.value);
	if (id.nic[0])
		printf("nic:        %s\n", id.nic);
	if (id.note[0])
		printf("note:       %s\n", id.note);
	if (account) {
		identity_machine_id(&id, account, mid);
		printf("machine id: %s (account %s)\n", mid, account);
	}
	return CLI_OK;
}
