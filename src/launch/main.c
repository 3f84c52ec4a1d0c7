// SPDX-License-Identifier: GPL-2.0-or-later
/* livemig-launch: convert a recovery point's disk image for the target and
 * launch it. A program of its own, apart from livemig-staging, because it
 * links libguestfs and libvirt, which a staging host that only receives
 * replicas does not need. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "launcher.h"
#include "log.h"
#include "rbd_disk.h"
#include "usage.h"
#include "util.h"

#define PROG "livemig-launch"

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

/* raw unless the file starts with qcow2's magic */
static const char *guess_format(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rbe");

	if (f) {
		if (fread(magic, 1, 4, f) != 4)
			magic[0] = 0;
		fclose(f);
	}
	return memcmp(magic, "QFI\xfb", 4) ? "raw" : "qcow2";
}

static void convert_usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " convert --input IMAGE --output COPY.qcow2 [--input IMAGE2 --output COPY2.qcow2 ...] [options]\n"
		"\n"
		"Make a copy of a recovery point's disks bootable on virtio (BIOS or UEFI): per\n"
		"disk a qcow2 overlay on its IMAGE (never written), edited with libguestfs, the\n"
		"initramfs rebuilt by the guest's own tools only when it lacks the virtio drivers.\n"
		"\n"
		"  --input IMAGE          a disk of the point (from `livemig-staging points export`),\n"
		"                         or its RBD snapshot rbd:POOL/IMAGE@SNAP; once per disk,\n"
		"                         in the machine's order: the first boots\n"
		"  --input-format FMT     raw or qcow2 (default: from the file's header); once for\n"
		"                         every input, or once per input\n"
		"  --output FILE          the converted copy to create (qcow2, backed by its IMAGE),\n"
		"                         or for an RBD snapshot its clone rbd:POOL/CLONE (the\n"
		"                         snapshot is protected); once per input, in the same order\n"
		"  --purpose P            test (default: new hostname suffix and machine-id) or cutover\n"
		"  --hostname-suffix S    appended to a test launch's hostname (default -test)\n"
		"  --workdir DIR          scratch space for the native mounts (default /tmp)\n"
		"  --ceph-conf FILE       RBD disks: the Ceph configuration (monitors, keyring;\n"
		"                         default $CEPH_CONF, /etc/ceph/ceph.conf)\n"
		"  --ceph-id NAME         RBD disks: the cephx user (default admin)\n"
		"  --report FILE          write the JSON report of every change to FILE\n"
		"  --json                 print the JSON report on stdout\n"
		"  --log-level LEVEL      error, warn, info (default) or debug\n"
		"  --help                 show this help\n"
		"\n"
		"Exit status: 0 converted, 1 not converted (one line says why), 2 usage.\n"
		"Runs as root (loop devices, mounts). libguestfs honours LIBGUESTFS_BACKEND and\n"
		"LIBGUESTFS_BACKEND_SETTINGS (force_tcg where KVM is unusable).\n");
}

/* path made absolute: the overlay records its backing file, libvirt opens
 * the copy. An output need not exist yet: its directory must. */
static int absolute(const char *path, int exists, char *out, size_t len)
{
	char dir[PATH_MAX], *slash;

	if (exists)
		return realpath(path, out) ? 0 : -1;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (dir[0] ? dir : "/") : ".", out))
		return -1;
	snprintf(out + strlen(out), len - strlen(out), "/%s", slash ? slash + 1 : path);
	return 0;
}

/* An RBD disk: the point's snapshot in, a clone of it out; raw, as
 * staging's RBD store keeps its images */
static int rbd_disk_args(struct conv_options *o, int i, const char *in, const char *out, const char *format)
{
	struct rbd_name parent, clone;

	if (rbd_name_parse(in, 1, &parent))
		return usage_error(PROG, "convert", "--input %s: an RBD disk's input is a snapshot, "
				   "rbd:POOL/IMAGE@SNAP (with the --output an RBD clone)", in);
	if (rbd_name_parse(out, 0, &clone))
		return usage_error(PROG, "convert", "--output %s: an RBD snapshot's copy is a clone, "
				   "rbd:POOL/IMAGE", out);
	if (format && strcmp(format, "raw"))
		return usage_error(PROG, "convert", "--input-format: an RBD snapshot is raw");
	o->disks[i].rbd = 1;
	o->disks[i].input_format = "raw";
	return 0;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },   { "input-format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },  { "purpose", required_argument, NULL, 'p' },
		{ "hostname-suffix", required_argument, NULL, 's' },
		{ "workdir", required_argument, NULL, 'w' }, { "report", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },          { "log-level", required_argument, NULL, 'L' },
		{ "ceph-conf", required_argument, NULL, 'C' }, { "ceph-id", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	struct conv_options o = { .purpose = PURPOSE_TEST };
	static char abs_in[CONV_MAX_DISKS][PATH_MAX], abs_out[CONV_MAX_DISKS][PATH_MAX + 256];
	const char *inputs[CONV_MAX_DISKS], *outputs[CONV_MAX_DISKS], *formats[CONV_MAX_DISKS];
	int n_in = 0, n_out = 0, n_fmt = 0;
	const char *report_path = NULL;
	enum log_level level = LOG_LVL_INFO;
	json_t *report = NULL;
	int c, json = 0, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'o':
		case 'f': {
			int *n = c == 'i' ? &n_in : c == 'o' ? &n_out : &n_fmt;
			const char **v = c == 'i' ? inputs : c == 'o' ? outputs : formats;

			if (*n == CONV_MAX_DISKS)
				return usage_error(PROG, "convert", "at most %d disks", CONV_MAX_DISKS);
			v[(*n)++] = optarg;
			break;
		}
		case 's': o.hostname_suffix = optarg; break;
		case 'w': o.workdir = optarg; break;
		case 'C': o.ceph_conf = optarg; break;
		case 'I': o.ceph_id = strncmp(optarg, "client.", 7) ? optarg : optarg + 7; break;
		case 'r': report_path = optarg; break;
		case 'j': json = 1; break;
		case 'p':
			if (!strcmp(optarg, "test"))
				o.purpose = PURPOSE_TEST;
			else if (!strcmp(optarg, "cutover"))
				o.purpose = PURPOSE_CUTOVER;
			else
				return usage_error(PROG, "convert", "--purpose must be test or cutover, not '%s'", optarg);
			break;
		case 'L':
			if (log_level_parse(optarg, &level))
				return usage_error(PROG, "convert", "unknown log level '%s'", optarg);
			break;
		case 'h': convert_usage(stdout); return 0;
		default: return usage_error(PROG, "convert", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!n_in || !n_out)
		return usage_error(PROG, "convert", "--input and --output are required");
	if (n_out != n_in)
		return usage_error(PROG, "convert", "one --output per --input: %d inputs, %d outputs", n_in, n_out);
	if (n_fmt > 1 && n_fmt != n_in)
		return usage_error(PROG, "convert", "--input-format: once for all inputs, or once per input");
	for (int i = 0; i < n_in; i++) {
		struct conv_disk *d = &o.disks[i];

		if (rbd_spec(inputs[i]) || rbd_spec(outputs[i])) {
			rc = rbd_disk_args(&o, i, inputs[i], outputs[i], n_fmt ? formats[n_fmt > 1 ? i : 0] : NULL);
			if (rc)
				return rc;
			snprintf(abs_in[i], sizeof(abs_in[i]), "%s", inputs[i]);
			snprintf(abs_out[i], sizeof(abs_out[i]), "%s", outputs[i]);
		} else if (access(inputs[i], R_OK))
			return usage_error(PROG, "convert", "cannot read --input %s: %s", inputs[i], strerror(errno));
		else if (absolute(inputs[i], 1, abs_in[i], sizeof(abs_in[i])))
			return usage_error(PROG, "convert", "cannot resolve --input %s: %s", inputs[i], strerror(errno));
		else if (absolute(outputs[i], 0, abs_out[i], sizeof(abs_out[i])))
			return usage_error(PROG, "convert", "cannot resolve the directory of --output %s: %s",
					 outputs[i], strerror(errno));
		for (int k = 0; k < i; k++)
			if (!strcmp(abs_out[k], abs_out[i]) || !strcmp(abs_in[k], abs_in[i]))
				return usage_error(PROG, "convert", "disk %d and disk %d share an --input or "
						 "--output (%s)", k, i, !strcmp(abs_out[k], abs_out[i]) ?
						 abs_out[i] : abs_in[i]);
		d->input = abs_in[i];
		d->output = abs_out[i];
		if (d->rbd)
			continue;
		d->input_format = n_fmt ? formats[n_fmt > 1 ? i : 0] : guess_format(d->input);
		if (strcmp(d->input_format, "raw") && strcmp(d->input_format, "qcow2"))
			return usage_error(PROG, "convert", "--input-format must be raw or qcow2");
	}
	o.n_disks = n_in;
	if (o.hostname_suffix && (strlen(o.hostname_suffix) > 20 || strpbrk(o.hostname_suffix, " \t\n/")))
		return usage_error(PROG, "convert", "--hostname-suffix: at most 20 characters, no blanks or '/'");
	log_init(PROG, level, 0);
	rc = convert_run(&o, &report);
	if (report && report_path && json_dump_file(report, report_path, JSON_INDENT(2)) < 0)
		log_error("cannot write the report %s", report_path);
	if (report && json)
		print_json(report);
	if (rc)
		fprintf(stderr, PROG " convert: not converted: %s\n",
			json_string_value(json_object_get(report, "error")));
	json_decref(report);
	return rc ? 1 : 0;
}

static void launch_usage(FILE *out, const char *cmd)
{
	if (!strcmp(cmd, "destroy")) {
		fprintf(out,
			"Usage: " PROG " destroy --driver libvirt|export --name NAME [--uri URI] [--output FILE]\n"
			"                        [--conversion REPORT.json]\n"
			"                        [--snapshot rbd:POOL/IMAGE@SNAP --clone rbd:POOL/CLONE ...]\n"
			"                        [--ceph-conf FILE] [--ceph-id NAME]\n"
			"\n"
			"Stop and remove what `launch` made: the libvirt domain (and its NVRAM), or\n"
			"the exported image and its description. With the conversion's report of a\n"
			"launch from RBD clones, also the clones, and each snapshot unprotected once\n"
			"no clone of it is left.\n"
			"\n"
			"  --snapshot, --clone  (libvirt) an RBD clone to remove and the snapshot it is\n"
			"                       a clone of, paired in order: the conversion's --input\n"
			"                       and --output. For a conversion cut short, which wrote no\n"
			"                       report; one that does not exist is not an error, an image\n"
			"                       that is not a clone of that snapshot is left alone\n"
			"  --ceph-conf FILE     the Ceph configuration (default: the report's, else\n"
			"                       $CEPH_CONF, /etc/ceph/ceph.conf)\n"
			"  --ceph-id NAME       the cephx user (default: the report's, else admin)\n");
		return;
	}
	fprintf(out,
		"Usage: " PROG " launch --driver libvirt|export --conversion REPORT.json --name NAME [options]\n"
		"\n"
		"Launch a converted copy (REPORT.json is `convert --report`'s file: every disk's\n"
		"copy, firmware, first-boot marker). libvirt: define and start a domain with the\n"
		"disks as vda, vdb... (vda boots), then wait until the guest's first-boot marker\n"
		"says multi-user and network are up; export: write an image per disk and a JSON\n"
		"description of the machine for a cloud's image import.\n"
		"\n"
		"  --driver D          libvirt or export\n"
		"  --conversion FILE   the conversion's JSON report\n"
		"  --name NAME         domain or instance name ([A-Za-z0-9_.-], 1..63)\n"
		"  --vcpus N           virtual CPUs (default 1)\n"
		"  --memory MIB        memory in MiB (default 1024)\n"
		"  --nic NIC           user (default), network:NAME or bridge:NAME (virtio)\n"
		"  --uri URI           libvirt connection (default qemu:///system)\n"
		"  --ceph-secret UUID  RBD clones: the libvirt secret (usage ceph) holding the\n"
		"                      key of the conversion's Ceph user\n"
		"  --state-dir DIR     serial log and UEFI variables (default /var/lib/livemig/launch)\n"
		"  --timeout SECONDS   bound for \"up\" (default 900)\n"
		"  --keep-on-failure   leave a domain that did not come up defined, to look at it\n"
		"  --output FILE       export: the boot disk's image (disk N: STEM-diskN.EXT beside\n"
		"                      it; the description: FILE.json)\n"
		"  --format F          export: qcow2 (default) or raw\n"
		"  --json              print the result as JSON on stdout\n"
		"  --help              show this help\n"
		"\n"
		"Exit status: 0 up (or exported), 1 failed (one line says why, the serial\n"
		"console's last lines follow), 2 usage.\n");
}

static int from_conversion(const char *cmd, const char *path, struct launch_request *rq, json_t **conv)
{
	json_error_t e;
	char why[200];

	*conv = json_load_file(path, 0, &e);
	if (!*conv)
		return usage_error(PROG, cmd, "cannot read --conversion %s: %s", path, e.text);
	if (launch_request_from_report(*conv, rq, why, sizeof(why)))
		return usage_error(PROG, cmd, "--conversion %s: %s", path, why);
	return 0;
}

/* mkdir -p, mode 0700: serial logs may show what the guest prints */
static int mkdir_p_state(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* destroy's --snapshot/--clone pairs into rq */
static int destroy_clones(struct launch_request *rq, const char *driver, const char **snaps, int n_snaps,
			  const char **clones, int n_clones)
{
	char why[300];

	if (n_snaps != n_clones)
		return usage_error(PROG, "destroy", "one --snapshot per --clone: %d snapshots, %d clones", n_snaps,
				   n_clones);
	if (n_clones && strcmp(driver, "libvirt"))
		return usage_error(PROG, "destroy", "RBD clones are launched, and destroyed, with --driver libvirt");
	for (int i = 0; i < n_clones; i++)
		if (launch_request_add_clone(rq, clones[i], snaps[i], why, sizeof(why)))
			return usage_error(PROG, "destroy", "%s", why);
	return 0;
}

static int cmd_launch(int argc, char **argv, int destroy)
{
	static const struct option longopts[] = {
		{ "driver", required_argument, NULL, 'd' },   { "conversion", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },     { "vcpus", required_argument, NULL, 'v' },
		{ "memory", required_argument, NULL, 'm' },   { "nic", required_argument, NULL, 'N' },
		{ "uri", required_argument, NULL, 'u' },      { "state-dir", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },  { "keep-on-failure", no_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },   { "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },           { "help", no_argument, NULL, 'h' },
		{ "ceph-secret", required_argument, NULL, 'S' }, { "snapshot", required_argument, NULL, 'P' },
		{ "clone", required_argument, NULL, 'K' },   { "ceph-conf", required_argument, NULL, 'C' },
		{ "ceph-id", required_argument, NULL, 'I' }, { NULL, 0, NULL, 0 },
	};
	const char *cmd = destroy ? "destroy" : "launch";
	struct launch_request rq = { .vcpus = 1, .memory_mib = 1024, .nic = "user", .uri = "qemu:///system",
				     .state_dir = "/var/lib/livemig/launch", .timeout_s = 900, .format = "qcow2" };
	const char *driver = NULL, *conv_path = NULL, *ceph_conf = NULL, *ceph_id = NULL;
	const char *snaps[LAUNCH_MAX_DISKS], *clones[LAUNCH_MAX_DISKS];
	int n_snaps = 0, n_clones = 0;
	const struct launcher *l;
	json_t *conv = NULL, *result = NULL;
	int c, json = 0, rc;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case 'c': conv_path = optarg; break;
		case 'n': rq.name = optarg; break;
		case 'N': rq.nic = optarg; break;
		case 'u': rq.uri = optarg; break;
		case 's': rq.state_dir = optarg; break;
		case 'k': rq.keep_on_failure = 1; break;
		case 'o': rq.output = optarg; break;
		case 'f': rq.format = optarg; break;
		case 'j': json = 1; break;
		case 'S': rq.ceph_secret = optarg; break;
		case 'C':
		case 'I':
			if (!destroy)
				return usage_error(PROG, cmd, "a launch takes the Ceph configuration and user from "
						   "the conversion's report");
			if (c == 'C')
				ceph_conf = optarg;
			else
				ceph_id = strncmp(optarg, "client.", 7) ? optarg : optarg + 7;
			break;
		case 'P':
		case 'K': {
			int *n = c == 'P' ? &n_snaps : &n_clones;

			if (!destroy)
				return usage_error(PROG, cmd, "--snapshot and --clone are destroy's");
			if (*n == LAUNCH_MAX_DISKS)
				return usage_error(PROG, cmd, "at most %d clones", LAUNCH_MAX_DISKS);
			(c == 'P' ? snaps : clones)[(*n)++] = optarg;
			break;
		}
		case 'v':
		case 'm':
		case 't': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > (c == 't' ? 86400ul : c == 'v' ? 64ul : 1048576ul))
				return usage_error(PROG, cmd, "bad number '%s' for --%s", optarg,
						 c == 't' ? "timeout" : c == 'v' ? "vcpus" : "memory");
			if (c == 'v')
				rq.vcpus = (unsigned)v;
			else if (c == 'm')
				rq.memory_mib = (unsigned)v;
			else
				rq.timeout_s = v;
			break;
		}
		case 'h': launch_usage(stdout, cmd); return 0;
		default: return usage_error(PROG, cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!driver || !(l = launcher_find(driver)))
		return usage_error(PROG, cmd, "--driver must be libvirt or export");
	if (!rq.name || !name_valid(rq.name))
		return usage_error(PROG, cmd, "--name: 1..63 characters of [A-Za-z0-9_.-]");
	if (!strcmp(driver, "export") && !rq.output)
		return usage_error(PROG, cmd, "the export driver needs --output FILE");
	log_init(PROG, LOG_LVL_INFO, 0);
	if (destroy) {
		/* a launch from RBD clones: the report names them, and the
		 * command line those of a conversion that wrote none */
		if (conv_path && (rc = from_conversion(cmd, conv_path, &rq, &conv)))
			return rc;
		rc = destroy_clones(&rq, driver, snaps, n_snaps, clones, n_clones);
		if (rc)
			return rc;
		if (ceph_conf)
			rq.ceph_conf = ceph_conf;
		if (ceph_id)
			rq.ceph_id = ceph_id;
		rc = l->destroy(&rq, &result);
	} else {
		if (!conv_path)
			return usage_error(PROG, cmd, "--conversion REPORT.json is required");
		rc = from_conversion(cmd, conv_path, &rq, &conv);
		if (rc)
			return rc;
		if (rq.n_rbd && strcmp(driver, "libvirt"))
			return usage_error(PROG, cmd, "a conversion to RBD clones launches with --driver libvirt");
		if (rq.n_rbd && !rq.ceph_secret)
			return usage_error(PROG, cmd, "its disks are RBD clones: --ceph-secret UUID (a libvirt secret "
					   "of usage ceph holding client.%s's key; docs/launch.md)", rq.ceph_id);
		if (!strcmp(driver, "libvirt") && mkdir_p_state(rq.state_dir))
			return usage_error(PROG, cmd, "cannot create --state-dir %s: %s", rq.state_dir, strerror(errno));
		log_info("launching %s with %s (%s firmware, %d disk%s)", rq.name, driver, rq.firmware, rq.n_disks,
			 rq.n_disks == 1 ? "" : "s");
		rc = l->launch(&rq, &result);
	}
	if (json)
		print_json(result);
	if (rc) {
		const char *tail = json_string_value(json_object_get(result, "serial_tail"));

		fprintf(stderr, PROG " %s: %s: %s\n", cmd, rq.name,
			json_string_value(json_object_get(result, "error")) ?: strerror(-rc));
		if (tail && *tail)
			fprintf(stderr, "last lines of the serial console:\n%s\n", tail);
	} else if (!json) {
		const char *addr = json_string_value(json_object_get(result, "address"));

		printf("%s: %s%s%s\n", rq.name, json_string_value(json_object_get(result, "state")),
		       addr ? ", address " : "", addr ? addr : "");
	}
	json_decref(result);
	json_decref(conv);
	return rc ? 1 : 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " COMMAND [options]\n"
		"\n"
		"  convert   make a copy of a point's disk bootable on virtio (BIOS or UEFI)\n"
		"  launch    start a converted copy (libvirt) or export it for a cloud\n"
		"  destroy   stop and remove a launched copy\n"
		"\n"
		"`" PROG " COMMAND --help` describes each; docs/launch.md the whole.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr), 2;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout), 0;
	if (!strcmp(argv[1], "--version"))
		return printf(PROG " %s\n", LIVEMIG_VERSION), 0;
	if (!strcmp(argv[1], "convert"))
		return cmd_convert(argc - 1, argv + 1);
	if (!strcmp(argv[1], "launch"))
		return cmd_launch(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "destroy"))
		return cmd_launch(argc - 1, argv + 1, 1);
	fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
