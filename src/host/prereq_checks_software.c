// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Installed software: Python (the installer's helper scripts run under it)
 * and dhclient (the replica brings its network up with it in the target).
 *
 * Python's version comes from `python --version` on the running system.
 * Under another --root its binaries may not even run here (another
 * architecture, missing libraries), so there the version comes from names:
 * the link python3 -> python3.11, or a python3.11 beside it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prereq_internal.h"

#define PYTHON_TIMEOUT_MS 5000

static const char *const bin_dirs[] = { "/usr/bin", "/usr/local/bin", "/bin" };
#define NDIRS (sizeof(bin_dirs) / sizeof(bin_dirs[0]))

/* Digits at *p into *v; 1 if there were any. */
static int number(const char **p, int *v)
{
	long n = 0;

	if (!isdigit((unsigned char)**p))
		return 0;
	while (isdigit((unsigned char)**p)) {
		if (n < 100000)
			n = n * 10 + (**p - '0');
		(*p)++;
	}
	*v = (int)n;
	return 1;
}

int prereq_python_version_text(const char *s, int *major, int *minor)
{
	const char *p = strstr(s, "Python ");

	*major = *minor = -1;
	if (!p)
		return -EINVAL;
	p += 7;
	if (!number(&p, major))
		return -EINVAL;
	if (*p == '.') {
		p++;
		number(&p, minor);
	}
	return 0;
}

int prereq_python_version_name(const char *name, int *major, int *minor)
{
	const char *p = name;

	*major = *minor = -1;
	if (strncmp(p, "python", 6))
		return -EINVAL;
	p += 6;
	if (!*p)
		return 0; /* plain "python": a name that says nothing */
	if (!number(&p, major))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!number(&p, minor))
			return -EINVAL;
	}
	/* ABI suffixes of old builds: python3.6m */
	while (*p >= 'a' && *p <= 'z')
		p++;
	return *p ? -EINVAL : 0;
}

struct python {
	char path[PATH_MAX]; /* in-root */
	int major, minor;
	char version[48];    /* as printed or derived, for the report */
	const char *how;     /* where the version came from */
};

static int meets(const struct python *py)
{
	return py->major >= 3 || (py->major == 2 && py->minor >= 4);
}

static int unknown(const struct python *py)
{
	return py->major < 0 || (py->major == 2 && py->minor < 0);
}

/* The highest pythonMAJOR.N beside dir/name (any major if major < 0). */
static void sibling_version(const struct prereq_ctx *c, const char *dir, struct python *py)
{
	char real[PATH_MAX], host[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (prereq_resolve(c, dir, real, sizeof(real)) ||
	    prereq_host_path(c, real, host, sizeof(host)) || !(d = opendir(host)))
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		int ma, mi;

		if (prereq_python_version_name(e->d_name, &ma, &mi) || mi < 0 ||
		    (py->major >= 0 && ma != py->major))
			continue;
		if (ma > py->major || (ma == py->major && mi > py->minor)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (!prereq_is_executable(c, path))
				continue;
			py->major = ma;
			py->minor = mi;
			py->how = "from a versioned binary beside it";
		}
	}
	closedir(d);
}

static void version_from_names(const struct prereq_ctx *c, const char *dir, const char *name,
			       struct python *py)
{
	char real[PATH_MAX];
	const char *base;

	prereq_python_version_name(name, &py->major, &py->minor);
	py->how = "from its name";
	if (!prereq_resolve(c, py->path, real, sizeof(real))) {
		int ma, mi;

		base = strrchr(real, '/') + 1;
		if (strcmp(base, name) && !prereq_python_version_name(base, &ma, &mi) &&
		    (ma > py->major || (ma == py->major && mi > py->minor))) {
			py->major = ma;
			py->minor = mi;
			py->how = "from the file it links to";
		}
	}
	if (py->minor < 0)
		sibling_version(c, dir, py);
	if (py->major < 0)
		snprintf(py->version, sizeof(py->version), "version unknown");
	else if (py->minor < 0)
		snprintf(py->version, sizeof(py->version), "Python %d", py->major);
	else
		snprintf(py->version, sizeof(py->version), "Python %d.%d", py->major, py->minor);
}

static void version_by_running(const char *host, struct python *py)
{
	char *argv[] = { (char *)host, "--version", NULL };
	char out[256];
	int rc = prereq_capture(argv, out, sizeof(out), PYTHON_TIMEOUT_MS);

	/* Python 2 prints its version on stderr, 3 on stdout: both are captured */
	if (rc == 0 && !prereq_python_version_text(out, &py->major, &py->minor)) {
		char *nl;

		snprintf(py->version, sizeof(py->version), "%s", strstr(out, "Python "));
		if ((nl = strchr(py->version, '\n')))
			*nl = '\0';
		py->how = "from --version";
		return;
	}
	py->major = py->minor = -1;
	snprintf(py->version, sizeof(py->version), "--version failed");
	py->how = rc < 0 ? strerror(-rc) : "no version printed";
}

/* Fills py for dir/name; 0 if that file exists and is executable. */
static int probe(const struct prereq_ctx *c, const char *dir, const char *name,
		 struct python *py)
{
	char real[PATH_MAX], host[PATH_MAX];

	memset(py, 0, sizeof(*py));
	snprintf(py->path, sizeof(py->path), "%s/%s", dir, name);
	if (!prereq_is_executable(c, py->path))
		return -ENOENT;
	if (c->is_host && !prereq_resolve(c, py->path, real, sizeof(real)) &&
	    !prereq_host_path(c, real, host, sizeof(host)))
		version_by_running(host, py);
	else
		version_from_names(c, dir, name, py);
	return 0;
}

void prereq_check_python(const struct prereq_ctx *c, struct prereq_result *r)
{
	static const char *const names[] = { "python3", "python2", "python" };
	struct python py, vague = { .major = -1 }, old = { .major = -1 };
	int have_vague = 0, have_old = 0;
	char cmd[160];

	for (size_t n = 0; n < 3; n++) {
		for (size_t d = 0; d < NDIRS; d++) {
			if (probe(c, bin_dirs[d], names[n], &py))
				continue;
			if (meets(&py)) {
				prereq_set(r, PREREQ_PASS, "%s at %s (%s)", py.version, py.path,
					   py.how);
				return;
			}
			if (unknown(&py) && !have_vague) {
				vague = py;
				have_vague = 1;
			} else if (!unknown(&py) && !have_old) {
				old = py;
				have_old = 1;
			}
		}
	}
	prereq_install_cmd(c, "python3", "python3", "python3", cmd, sizeof(cmd));
	if (have_vague) {
		prereq_set(r, PREREQ_WARN, "%s at %s: cannot tell whether it is 2.4 or later (%s)",
			   vague.version, vague.path, vague.how);
		prereq_set_remedy(r, "check with %s --version, or %s", vague.path, cmd);
	} else if (have_old) {
		prereq_set(r, PREREQ_FAIL, "%s at %s is too old (2.4 or 3.0 needed)", old.version,
			   old.path);
		prereq_set_remedy(r, "%s", cmd);
	} else {
		prereq_set(r, PREREQ_FAIL, "no python3, python2 or python in /usr/bin, "
			   "/usr/local/bin or /bin");
		prereq_set_remedy(r, "%s", cmd);
	}
}

void prereq_check_dhclient(const struct prereq_ctx *c, struct prereq_result *r)
{
	static const char *const where[] = { "/sbin/dhclient", "/usr/sbin/dhclient" };
	char cmd[160];

	for (size_t i = 0; i < 2; i++) {
		if (prereq_is_executable(c, where[i])) {
			prereq_set(r, PREREQ_PASS, "%s", where[i]);
			return;
		}
	}
	prereq_set(r, PREREQ_FAIL, "no dhclient in /sbin or /usr/sbin");
	prereq_install_cmd(c, "isc-dhcp-client", "dhclient", "dhcp-client", cmd, sizeof(cmd));
	prereq_set_remedy(r, "%s", cmd);
}
