// SPDX-License-Identifier: GPL-2.0-or-later
/* The launch and destroy jobs (launch_job.h). */
#include "launch_job.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launch_child.h"
#include "point_export.h"
#include "point_reader.h"
#include "points.h"
#include "util.h"

#define NO_LAUNCHER "this staging server has no launcher (--launch-driver): docs/launch.md"
#define STOPPED     "staging stopped"

static struct launch_config cfg;

void launch_configure(const struct launch_config *c)
{
	cfg = *c;
}

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int launch_find_launcher(char *out, size_t len)
{
	char self[PATH_MAX], *slash, *path, *dir, *save = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && snprintf(out, len, "%.*s/livemig-launch", (int)(slash - self), self) < (int)len &&
		    executable(out))
			return 0;
	}
	path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (dir = path ? strtok_r(path, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save))
		if (*dir && snprintf(out, len, "%s/livemig-launch", dir) < (int)len && executable(out)) {
			free(path);
			return 0;
		}
	free(path);
	return -ENOENT;
}

/* The job cannot run here: no driver, or no launcher program. */
static int check_launcher(char *error, size_t errlen)
{
	if (!cfg.driver) {
		snprintf(error, errlen, NO_LAUNCHER);
		return -ENOTSUP;
	}
	if (!cfg.launcher || !executable(cfg.launcher)) {
		snprintf(error, errlen, "the launcher %s cannot be run: %s (install livemig-launch on this "
			 "staging server, or pass --launcher PATH): docs/launch.md",
			 cfg.launcher ? cfg.launcher : "livemig-launch",
			 cfg.launcher && access(cfg.launcher, F_OK) == 0 ? "not an executable file"
									: "no such file");
		return -ENOENT;
	}
	return 0;
}

static int instance_dir(char *out, const char *name)
{
	return snprintf(out, PATH_MAX, "%s/%s", cfg.dir, name) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) ? -errno : 0;
}

/* rm -r that never crosses into another file system: a conversion stopped
 * in the middle may leave the copy's partitions mounted under its workdir,
 * with /dev, /proc and /sys bound inside. */
static int remove_tree(const char *dir, char *error, size_t errlen)
{
	int rc;

	if (access(dir, F_OK))
		return 0;
	rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (rc < 0)
		rc = -errno;
	if (rc || access(dir, F_OK) == 0) {
		snprintf(error, errlen, "cannot remove %s: %s (a mount left by a stopped conversion? "
			 "see findmnt)", dir, strerror(rc ? -rc : ENOTEMPTY));
		return rc ? rc : -ENOTEMPTY;
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* The conversion's report in dir when it says converted and the launch is
 * from clones: destroy needs it to find them. Not for a failed conversion,
 * which removed what clones it made (and whose report destroy refuses). */
static const char *clones_report(const char *dir, char *out, size_t len)
{
	json_t *r;
	int converted;

	if (!launch_from_clones(&cfg) || snprintf(out, len, "%s/conversion.json", dir) >= (int)len)
		return NULL;
	r = json_load_file(out, 0, NULL);
	converted = !strcmp(json_string_value(json_object_get(r, "result")) ?: "", "converted");
	json_decref(r);
	return converted ? out : NULL;
}

/* `livemig-launch destroy` (a: room for its command line), then
 * LAUNCH_DIR/<name>. lc: the clones a launch of the point makes (from
 * clones), named whether or not they exist, or NULL. Idempotent. */
static int destroy_instance(struct job *j, struct launch_argv *a, const char *name,
			    const struct launch_clones *lc, char *error, size_t errlen)
{
	char dir[PATH_MAX], report[PATH_MAX + 24];
	const char *conv = NULL;
	int rc, clones;

	rc = instance_dir(dir, name);
	if (!rc) {
		conv = clones_report(dir, report, sizeof(report));
		rc = launch_destroy_argv(a, &cfg, name, dir, conv, lc);
	}
	if (rc) {
		snprintf(error, errlen, "instance name too long for %s", cfg.dir);
		return rc;
	}
	clones = launch_from_clones(&cfg) && (conv || lc);
	job_log(j, "destroying instance %s (%s%s)", name, cfg.driver, clones ? ", its RBD clones with it" : "");
	rc = child_run(j, a->argv, NULL, error, errlen);
	if (rc == -ECANCELED) {
		snprintf(error, errlen, STOPPED);
		return rc;
	}
	if (rc > 0) {
		snprintf(error, errlen, "livemig-launch destroy %s failed (exit status %d; its reason is "
			 "in the log)", name, rc);
		return -EIO;
	}
	if (rc)
		return rc;
	rc = remove_tree(dir, error, errlen);
	if (!rc)
		job_log(j, "instance %s destroyed, %s removed", name, dir);
	return rc;
}

static int parse_params(const json_t *p, struct launch_params *lp, int destroy, char *error,
			size_t errlen)
{
	const json_t *v;

	memset(lp, 0, sizeof(*lp));
	lp->name = json_string_value(json_object_get(p, "name"));
	if (!lp->name || !name_valid(lp->name)) {
		snprintf(error, errlen, "params.name must be an instance name (1 to 63 of [A-Za-z0-9_.-])");
		return -EINVAL;
	}
	v = json_object_get(p, "point");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
		snprintf(error, errlen, "params.point must be a recovery point id (an integer from 1)");
		return -EINVAL;
	}
	lp->point = v ? (uint64_t)json_integer_value(v) : 0;
	if (destroy)
		return 0;
	if (!lp->point) {
		snprintf(error, errlen, "params.point is required: the recovery point to launch");
		return -EINVAL;
	}
	lp->purpose = json_string_value(json_object_get(p, "purpose"));
	if (!lp->purpose || (strcmp(lp->purpose, "test") && strcmp(lp->purpose, "cutover"))) {
		snprintf(error, errlen, "params.purpose must be test or cutover");
		return -EINVAL;
	}
	lp->hostname_suffix = json_string_value(json_object_get(p, "hostname_suffix"));
	if (json_object_get(p, "hostname_suffix") && !lp->hostname_suffix) {
		snprintf(error, errlen, "params.hostname_suffix must be a string");
		return -EINVAL;
	}
	lp->cpus = json_integer_value(json_object_get(p, "cpus"));
	lp->memory_mib = json_integer_value(json_object_get(p, "memory_mib"));
	if ((json_object_get(p, "cpus") && (lp->cpus < 1 || lp->cpus > 64)) ||
	    (json_object_get(p, "memory_mib") && (lp->memory_mib < 64 || lp->memory_mib > 1048576))) {
		snprintf(error, errlen, "params.cpus must be 1 to 64 and params.memory_mib 64 to 1048576");
		return -EINVAL;
	}
	return 0;
}

/* Disk NAME of the point into LAUNCH_DIR/<name>/disk-NAME.qcow2. */
static int export_disk(struct job *j, const struct launch_params *lp, const char *disk, const char *dir,
		       char *error, size_t errlen)
{
	struct point_reader r;
	char out[PATH_MAX + 96];
	time_t t0 = time(NULL);
	uint64_t size;
	int rc;

	snprintf(out, sizeof(out), "%s/disk-%s.qcow2", dir, disk);
	job_log(j, "exporting disk %s of point %" PRIu64 " to %s", disk, lp->point, out);
	rc = point_reader_open(&r, job_store(), job_machine(j), lp->point, disk, error, errlen);
	if (rc)
		return rc;
	size = r.size;
	rc = point_export(&r, EXPORT_QCOW2, out, 0, error, errlen);
	point_reader_close(&r);
	if (!rc)
		job_log(j, "exported disk %s (%" PRIu64 " bytes) in %lld s", disk, size,
			(long long)(time(NULL) - t0));
	return rc;
}

/* The conversion's one-line reason, from its report. */
static void conversion_error(const char *report, int status, char *error, size_t errlen)
{
	json_t *r = json_load_file(report, 0, NULL);
	const char *why = json_string_value(json_object_get(r, "error"));

	if (why)
		snprintf(error, errlen, "conversion failed: %s", why);
	else
		snprintf(error, errlen, "livemig-launch convert failed (exit status %d; its reason is in "
			 "the log)", status);
	json_decref(r);
}

static int convert(struct job *j, struct launch_argv *a, const struct launch_params *lp,
		   const struct point_disks *pd, const char *dir, char *error, size_t errlen)
{
	time_t t0 = time(NULL);
	int rc;

	rc = launch_convert_argv(a, &cfg, job_machine(j), lp, pd, dir);
	if (rc) {
		snprintf(error, errlen, "the names of point %" PRIu64 "'s disks are too long for the launcher",
			 lp->point);
		return rc;
	}
	if (launch_from_clones(&cfg))
		job_log(j, "converting %d clone%s of point %" PRIu64 "'s snapshots in pool %s for the target "
			"(livemig-launch convert --purpose %s)", pd->n, pd->n == 1 ? "" : "s", lp->point,
			cfg.rbd_pool, lp->purpose);
	else
		job_log(j, "converting the copy of %d disk%s for the target (livemig-launch convert "
			"--purpose %s)", pd->n, pd->n == 1 ? "" : "s", lp->purpose);
	rc = child_run(j, a->argv, NULL, error, errlen);
	if (rc == -ECANCELED)
		snprintf(error, errlen, STOPPED);
	if (rc > 0) {
		conversion_error(a->report, rc, error, errlen);
		rc = -EIO;
	}
	if (!rc)
		job_log(j, "converted in %lld s", (long long)(time(NULL) - t0));
	return rc;
}

/* `livemig-launch launch --json`: its result into *out. */
static int launch(struct job *j, struct launch_argv *a, const struct launch_params *lp, const char *dir,
		  json_t **out, char *error, size_t errlen)
{
	char *text = NULL;
	json_t *res;
	int rc;

	rc = launch_launch_argv(a, &cfg, lp, dir);
	if (rc) {
		snprintf(error, errlen, "instance name too long for %s", cfg.dir);
		return rc;
	}
	job_log(j, "launching %s (livemig-launch launch --driver %s)", lp->name, cfg.driver);
	rc = child_run(j, a->argv, &text, error, errlen);
	res = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (rc == -ECANCELED)
		snprintf(error, errlen, STOPPED);
	if (rc > 0) {
		const char *why = json_string_value(json_object_get(res, "error"));

		if (why)
			snprintf(error, errlen, "%s", why);
		else
			snprintf(error, errlen, "livemig-launch launch failed (exit status %d; its reason is "
				 "in the log)", rc);
		rc = -EIO;
	}
	if (!rc && !json_is_object(res)) {
		snprintf(error, errlen, "livemig-launch launch printed no JSON result");
		rc = -EPROTO;
	}
	if (rc)
		json_decref(res);
	else
		*out = res;
	return rc;
}

/* Every disk of the point, or -ENOENT (no such point, no disk) or -E2BIG
 * with error set. */
static int point_disks(struct job *j, uint64_t point, struct point_disks *pd, char *error, size_t errlen)
{
	json_t *p = NULL, *d;
	size_t i;
	int rc = points_show_json(job_store(), job_machine(j), point, &p);

	if (rc == -ENOENT) {
		snprintf(error, errlen, "machine %s has no recovery point %" PRIu64 " on this staging "
			 "server", job_machine(j), point);
		return rc;
	}
	if (rc) {
		snprintf(error, errlen, "cannot read point %" PRIu64 " of %s: %s", point, job_machine(j),
			 strerror(-rc));
		return rc;
	}
	pd->n = 0;
	json_array_foreach(json_object_get(p, "disks"), i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));

		if (!name || strlen(name) > FRAME_NAME_MAX)
			continue;
		if (pd->n == LAUNCH_MAX_DISKS) {
			snprintf(error, errlen, "point %" PRIu64 " of %s has %zu disks: a launch takes at "
				 "most %d", point, job_machine(j), json_array_size(json_object_get(p, "disks")),
				 LAUNCH_MAX_DISKS);
			rc = -E2BIG;
			break;
		}
		snprintf(pd->name[pd->n++], sizeof(pd->name[0]), "%s", name);
	}
	if (!rc && !pd->n) {
		snprintf(error, errlen, "point %" PRIu64 " of %s has no disk", point, job_machine(j));
		rc = -ENOENT;
	}
	json_decref(p);
	return rc;
}

static json_t *launch_result(const struct launch_params *lp, const struct point_disks *pd, const json_t *res,
			     time_t t0)
{
	json_t *disks = json_array();
	json_t *r;

	for (int i = 0; i < pd->n; i++)
		json_array_append_new(disks, json_string(pd->name[i]));
	r = json_pack("{s:s, s:s, s:I, s:s, s:O?, s:O?, s:O?, s:I, s:o}", "name", lp->name, "purpose", lp->purpose,
		      "point", (json_int_t)lp->point, "driver", cfg.driver, "state", json_object_get(res, "state"),
		      "address", json_object_get(res, "address"), "marker_line", json_object_get(res, "marker_line"),
		      "seconds", (json_int_t)(time(NULL) - t0), "disks", disks);

	if (r && json_object_get(res, "image"))
		json_object_set(r, "output", json_object_get(res, "image"));
	if (r && json_object_get(res, "description"))
		json_object_set(r, "description", json_object_get(res, "description"));
	if (r && json_object_get(res, "seconds"))
		json_object_set(r, "boot_seconds", json_object_get(res, "seconds"));
	return r;
}

static int run_launch(struct job *j, struct launch_argv *a, json_t **result, char *error, size_t errlen)
{
	char dir[PATH_MAX], why[JOB_LINE_LEN + 1];
	struct point_disks pd;
	struct launch_params lp;
	struct launch_clones lc = { .disks = &pd };
	json_t *res = NULL;
	time_t t0 = time(NULL);
	int rc, pinned = 0;

	rc = parse_params(job_params(j), &lp, 0, error, errlen);
	if (!rc)
		rc = check_launcher(error, errlen);
	if (!rc)
		rc = point_disks(j, lp.point, &pd, error, errlen);
	if (!rc && (rc = instance_dir(dir, lp.name)))
		snprintf(error, errlen, "instance name too long for %s", cfg.dir);
	if (rc)
		return rc;
	lc.machine = job_machine(j);
	lc.point = lp.point;
	/* a run cut short by a staging restart: start again from nothing (a
	 * conversion cut short wrote no report: its clones are named here) */
	if (access(dir, F_OK) == 0) {
		job_log(j, "%s exists: an earlier run of this launch did not finish (a staging "
			"restart); starting again from the beginning", dir);
		rc = destroy_instance(j, a, lp.name, &lc, error, errlen);
		if (rc)
			return rc;
	}
	rc = points_pin(job_store(), job_machine(j), lp.point, lp.name, 1);
	if (rc) {
		snprintf(error, errlen, "cannot pin point %" PRIu64 " of %s: %s", lp.point, job_machine(j),
			 rc == -ENOSPC ? "it has too many pins" : strerror(-rc));
		return rc;
	}
	pinned = 1;
	job_log(j, "point %" PRIu64 " of %s pinned (pin %s) for as long as the instance lives", lp.point,
		job_machine(j), lp.name);
	rc = mkdir_p(cfg.dir);
	if (!rc && mkdir(dir, 0700) < 0)
		rc = -errno;
	if (rc)
		snprintf(error, errlen, "cannot create %s: %s", dir, strerror(-rc));
	/* every disk: a machine's data disks launch with it; from clones,
	 * the conversion makes them, nothing is exported */
	for (int i = 0; i < pd.n && !rc && !launch_from_clones(&cfg); i++) {
		rc = export_disk(j, &lp, pd.name[i], dir, error, errlen);
		if (!rc && jobs_stopping()) {
			snprintf(error, errlen, STOPPED);
			rc = -ECANCELED;
		}
	}
	if (!rc)
		rc = convert(j, a, &lp, &pd, dir, error, errlen);
	if (!rc)
		rc = launch(j, a, &lp, dir, &res, error, errlen);
	if (!rc) {
		*result = launch_result(&lp, &pd, res, t0);
		json_decref(res);
		if (!*result)
			rc = -ENOMEM;
		else
			job_log(j, "%s is %s%s%s", lp.name, json_string_value(json_object_get(*result, "state")),
				json_is_string(json_object_get(*result, "address")) ? ", address " : "",
				json_string_value(json_object_get(*result, "address")) ?: "");
		return rc;
	}
	if (rc == -ECANCELED) {
		/* the console lists the job again after the restart, and that
		 * run destroys what this one made */
		job_log(j, "staging is stopping: %s and the pin stay until this job runs again", dir);
		return rc;
	}
	/* a failed launch leaves nothing behind: no instance, no copy, no pin */
	snprintf(why, sizeof(why), "%s", error);
	if (access(dir, F_OK) == 0 && destroy_instance(j, a, lp.name, &lc, error, errlen))
		job_log(j, "cleaning up after the failure: %s", error);
	if (pinned && points_pin(job_store(), job_machine(j), lp.point, lp.name, 0) == 0)
		job_log(j, "point %" PRIu64 " unpinned (pin %s)", lp.point, lp.name);
	snprintf(error, errlen, "%s", why);
	return rc;
}

/* The command lines' room (launch_args.h) on the heap: two paths per disk
 * would be much of a job thread's stack. */
static struct launch_argv *argv_room(char *error, size_t errlen)
{
	struct launch_argv *a = calloc(1, sizeof(*a));

	if (!a)
		snprintf(error, errlen, "out of memory");
	return a;
}

int launch_job_run(struct job *j, json_t **result, char *error, size_t errlen)
{
	struct launch_argv *a = argv_room(error, errlen);
	int rc;

	if (!a)
		return -ENOMEM;
	rc = run_launch(j, a, result, error, errlen);
	free(a);
	return rc;
}

/* Whether LAUNCH_DIR/<name> (the default one when none is configured)
 * exists: a launch of that name got as far as its export here. */
static int launched_here(const char *name)
{
	char dir[PATH_MAX];

	if (cfg.dir)
		snprintf(dir, sizeof(dir), "%s/%s", cfg.dir, name);
	else
		snprintf(dir, sizeof(dir), "%s/" LAUNCH_DIR_NAME "/%s", job_store(), name);
	return access(dir, F_OK) == 0;
}

int destroy_job_run(struct job *j, json_t **result, char *error, size_t errlen)
{
	struct launch_params lp;
	int rc;

	rc = parse_params(job_params(j), &lp, 1, error, errlen);
	if (!rc && !cfg.driver && !launched_here(lp.name))
		/* nothing can have been launched: the destroy that follows a
		 * launch this server refused has nothing to do but the pin */
		job_log(j, "this staging server has no launcher (--launch-driver), and nothing was "
			"launched here as %s: nothing to destroy", lp.name);
	else if (!rc && !(rc = check_launcher(error, errlen))) {
		struct launch_argv *a = argv_room(error, errlen);
		struct point_disks pd;
		struct launch_clones lc = { job_machine(j), lp.point, NULL };
		char why[256];

		/* from clones, the point's disks name them even when no report
		 * does; without the point (gone), the report alone */
		if (launch_from_clones(&cfg) && lp.point) {
			if (point_disks(j, lp.point, &pd, why, sizeof(why)))
				job_log(j, "%s: only a conversion's report can name the clones", why);
			else
				lc.disks = &pd;
		}
		rc = a ? destroy_instance(j, a, lp.name, lc.disks ? &lc : NULL, error, errlen) : -ENOMEM;
		free(a);
	}
	if (rc)
		return rc;
	if (lp.point) {
		rc = points_pin(job_store(), job_machine(j), lp.point, lp.name, 0);
		if (!rc)
			job_log(j, "point %" PRIu64 " unpinned (pin %s)", lp.point, lp.name);
		else if (rc == -ENOENT)
			job_log(j, "point %" PRIu64 " of %s has no pin %s (already unpinned, or the point "
				"is gone)", lp.point, job_machine(j), lp.name);
		else {
			snprintf(error, errlen, "cannot unpin point %" PRIu64 " of %s: %s", lp.point,
				 job_machine(j), strerror(-rc));
			return rc;
		}
	}
	*result = json_pack("{s:s, s:b}", "name", lp.name, "destroyed", 1);
	return *result ? 0 : -ENOMEM;
}
