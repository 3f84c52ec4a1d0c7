// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The change-tracking module: Secure Boot state, and whether livemig_cbt can
 * load. A problem fails the check when livemigd is configured with
 * tracker = kmod (it would not start) and warns otherwise: with auto livemigd
 * falls back to the slower `scan` tracker, with scan (or nothing configured
 * yet) the module is not used now, but a module that cannot load is never a
 * pass; the warning says what it costs and carries the remedy.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmod_probe.h"
#include "prereq_internal.h"

/* The verdict for a problem, by the configured tracker. */
static enum prereq_verdict problem(const struct prereq_ctx *c)
{
	return !strcmp(c->tracker, "kmod") ? PREREQ_FAIL : PREREQ_WARN;
}

static const char *consequence(const struct prereq_ctx *c)
{
	if (!strcmp(c->tracker, "kmod"))
		return "; livemigd (tracker = kmod) will not start";
	if (!strcmp(c->tracker, "scan"))
		return "; not used now (tracker = scan hashes whole disks every round)";
	if (!strcmp(c->tracker, "auto"))
		return "; livemigd (tracker = auto) falls back to the scan tracker";
	return "; livemig install writes tracker = auto: livemigd would fall back to the "
	       "scan tracker";
}

/* "enrolled", "not enrolled" or NULL (cannot tell) for the DKMS key. */
static const char *dkms_key_enrolled(const struct prereq_ctx *c)
{
	static const char *const mokutil[] = { "/usr/bin/mokutil", "/bin/mokutil" };
	char out[512];

	if (!c->is_host)
		return NULL;
	for (size_t i = 0; i < sizeof(mokutil) / sizeof(mokutil[0]); i++) {
		char *argv[] = { (char *)mokutil[i], "--test-key", KMOD_DKMS_MOK, NULL };

		if (access(mokutil[i], X_OK))
			continue;
		if (prereq_capture(argv, out, sizeof(out), 10000) < 0)
			return NULL;
		if (strstr(out, "not enrolled"))
			return "not enrolled";
		if (strstr(out, "already enrolled"))
			return "enrolled";
		return NULL;
	}
	return NULL;
}

static void secure_boot(const struct prereq_ctx *c, struct prereq_result *r)
{
	char how[64], host[PATH_MAX];
	enum kmod_sb sb = kmod_secure_boot(c->is_host ? "/" : c->root, how, sizeof(how));
	const char *key;

	if (sb == KMOD_SB_NOT_EFI) {
		prereq_set(r, PREREQ_PASS, "no Secure Boot: not booted through EFI (%s)", how);
		return;
	}
	if (sb == KMOD_SB_DISABLED) {
		prereq_set(r, PREREQ_PASS, "Secure Boot disabled (%s): unsigned modules may load",
			   how);
		return;
	}
	if (sb == KMOD_SB_UNKNOWN) {
		prereq_set(r, problem(c), "cannot tell whether Secure Boot is on (%s)%s", how,
			   consequence(c));
		prereq_install_cmd(c, "mokutil", "mokutil", "mokutil", host, sizeof(host));
		prereq_set_remedy(r, "%s, then livemig check again", host);
		return;
	}
	if (prereq_host_path(c, KMOD_DKMS_MOK, host, sizeof(host)) || access(host, F_OK)) {
		prereq_set(r, problem(c), "Secure Boot enabled (%s) and there is no DKMS signing "
			   "key (%s) yet to enroll%s", how, KMOD_DKMS_MOK, consequence(c));
		prereq_set_remedy(r, "install " KMOD_PACKAGE " (DKMS creates the key at its "
				  "first build), then %s", KMOD_MOK_REMEDY);
		return;
	}
	key = dkms_key_enrolled(c);
	if (key && !strcmp(key, "enrolled")) {
		prereq_set(r, PREREQ_PASS, "Secure Boot enabled (%s); the DKMS signing key %s "
			   "is enrolled", how, KMOD_DKMS_MOK);
		return;
	}
	prereq_set(r, problem(c), "Secure Boot enabled (%s); the DKMS signing key %s is %s%s",
		   how, KMOD_DKMS_MOK, key ? key : "perhaps not enrolled (no mokutil to ask)",
		   consequence(c));
	prereq_set_remedy(r, "%s", KMOD_MOK_REMEDY);
}

/* An in-root path of livemig_cbt.ko* built for c->kver, or "" when none. */
static void find_module(const struct prereq_ctx *c, char *out, size_t n)
{
	static const char *const dirs[] = { "updates/dkms", "updates", "extra", "kernel/extra" };
	char dir[PATH_MAX], host[PATH_MAX];

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "/lib/modules/%s/%s", c->kver, dirs[i]);
		if (prereq_host_path(c, dir, host, sizeof(host)) || !(d = opendir(host)))
			continue;
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, KMOD_NAME ".ko", strlen(KMOD_NAME ".ko")))
				break;
		if (e)
			snprintf(out, n, "%.200s/%.60s", dir, e->d_name);
		closedir(d);
		if (out[0])
			return;
	}
}

static void kmod_loadable(const struct prereq_ctx *c, struct prereq_result *r)
{
	char why[256], remedy[256], file[PATH_MAX];

	if (c->is_host && !access(KMOD_DEVICE, F_OK)) {
		prereq_set(r, PREREQ_PASS, "%s is loaded (%s exists)", KMOD_NAME, KMOD_DEVICE);
		return;
	}
	if (c->is_host && geteuid() == 0) {
		/* what livemigd does with tracker = auto or kmod: the real answer */
		if (!kmod_load(why, sizeof(why), remedy, sizeof(remedy))) {
			prereq_set(r, PREREQ_PASS, "modprobe %s loaded it", KMOD_NAME);
			return;
		}
		prereq_set(r, problem(c), "%s cannot load: %s%s", KMOD_NAME, why, consequence(c));
		prereq_set_remedy(r, "%s", remedy);
		return;
	}
	find_module(c, file, sizeof(file));
	if (file[0]) {
		prereq_set(r, c->is_host ? PREREQ_WARN : PREREQ_PASS, "%s is built for %s (%s)%s",
			   KMOD_NAME, c->kver, file,
			   c->is_host ? "; not loaded, and only root can try" : "");
		if (c->is_host)
			prereq_set_remedy(r, "run livemig check as root");
		return;
	}
	prereq_set(r, problem(c), "%s is not built for %s (nothing in /lib/modules/%s/updates "
		   "or extra)%s", KMOD_NAME, c->kver, c->kver, consequence(c));
	prereq_set_remedy(r, "install this kernel's headers and the " KMOD_PACKAGE " package, "
			  "then run dkms autoinstall");
}

/* A pass carries no remedy (docs/prerequisites.md), even one that only
 * informs about a module the configured tracker does not use. */
void prereq_check_secure_boot(const struct prereq_ctx *c, struct prereq_result *r)
{
	secure_boot(c, r);
	if (r->verdict == PREREQ_PASS)
		r->remedy[0] = '\0';
}

void prereq_check_kmod_loadable(const struct prereq_ctx *c, struct prereq_result *r)
{
	kmod_loadable(c, r);
	if (r->verdict == PREREQ_PASS)
		r->remedy[0] = '\0';
}
