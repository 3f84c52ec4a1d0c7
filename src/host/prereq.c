// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runner: the table of checks in the seed's order, waivers, the verdict
 * for the whole machine and its JSON form. The checks themselves live in
 * prereq_checks_*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prereq_internal.h"

static const struct {
	const char *id;
	const char *title;
	prereq_check_fn fn;
} checks[] = {
	{ "root-free-space", "At least 1 GB free on /", prereq_check_root_free_space },
	{ "python", "Python 2.4+ or 3.0+ installed", prereq_check_python },
	{ "tmp-writable", "/tmp mounted read-write with at least 50 MB free",
	  prereq_check_tmp_writable },
	{ "bootloader-grub", "GRUB 1 or 2 is the active boot loader", prereq_check_bootloader },
	{ "tmp-exec", "/tmp mounted with exec: scripts there can run", prereq_check_tmp_exec },
	{ "privileges", "Running as root or as a user in sudoers", prereq_check_privileges },
	{ "dhclient", "dhclient installed", prereq_check_dhclient },
	{ "kernel-headers", "Kernel headers exactly match the running kernel",
	  prereq_check_kernel_headers },
	{ "kernel-headers-not-symlink", "Kernel headers folder is not a symbolic link",
	  prereq_check_headers_not_symlink },
	{ "secure-boot", "Secure Boot off, or the DKMS signing key enrolled",
	  prereq_check_secure_boot },
	{ "kmod-loadable", "The change-tracking module livemig_cbt can load",
	  prereq_check_kmod_loadable },
};

#define NCHECKS (sizeof(checks) / sizeof(checks[0]))
_Static_assert(NCHECKS <= PREREQ_MAX_RESULTS, "PREREQ_MAX_RESULTS too small");

const char *prereq_check_id(size_t i)
{
	return i < NCHECKS ? checks[i].id : NULL;
}

int prereq_known_id(const char *id)
{
	for (size_t i = 0; i < NCHECKS; i++)
		if (!strcmp(id, checks[i].id))
			return 1;
	return 0;
}

static int is_waived(const struct prereq_options *o, const char *id)
{
	if (!o->waive)
		return 0;
	for (const char *const *w = o->waive; *w; w++)
		if (!strcmp(*w, id))
			return 1;
	return 0;
}

int prereq_run(const struct prereq_options *o, struct prereq_result *out, size_t max)
{
	static const struct prereq_options defaults = { .root = "/" };
	struct prereq_ctx c;
	size_t i;
	int rc;

	if (!o)
		o = &defaults;
	rc = prereq_ctx_init(&c, o->root ? o->root : "/");
	if (rc)
		return rc;
	if (o->tracker)
		snprintf(c.tracker, sizeof(c.tracker), "%s", o->tracker);
	for (i = 0; i < NCHECKS && i < max; i++) {
		struct prereq_result *r = &out[i];

		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", checks[i].id);
		snprintf(r->title, sizeof(r->title), "%s", checks[i].title);
		checks[i].fn(&c, r);
		/* a waiver only matters where something would block */
		r->waived = r->verdict == PREREQ_FAIL && is_waived(o, r->id);
	}
	return (int)i;
}

int prereq_ready(const struct prereq_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].verdict == PREREQ_FAIL && !r[i].waived)
			return 0;
	return 1;
}

const char *prereq_verdict_name(enum prereq_verdict v)
{
	switch (v) {
	case PREREQ_PASS: return "pass";
	case PREREQ_WARN: return "warn";
	case PREREQ_FAIL: return "fail";
	}
	return "fail";
}

json_t *prereq_json(const struct prereq_result *r, size_t n)
{
	json_t *doc = json_object(), *arr = json_array();

	if (!doc || !arr)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", r[i].id, "title",
				      r[i].title, "verdict", prereq_verdict_name(r[i].verdict),
				      "seen", r[i].seen, "remedy", r[i].remedy, "waived",
				      r[i].waived);

		if (!o || json_array_append_new(arr, o))
			goto fail;
	}
	if (json_object_set_new(doc, "ready", json_boolean(prereq_ready(r, n))) ||
	    json_object_set_new(doc, "checks", arr))
		goto fail_doc;
	return doc;
fail:
	json_decref(arr);
fail_doc:
	json_decref(doc);
	return NULL;
}

void prereq_set(struct prereq_result *r, enum prereq_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->seen, sizeof(r->seen), fmt, ap);
	va_end(ap);
}

void prereq_set_remedy(struct prereq_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->remedy, sizeof(r->remedy), fmt, ap);
	va_end(ap);
}

void prereq_install_cmd(const struct prereq_ctx *c, const char *deb, const char *rpm,
			const char *suse, char *out, size_t n)
{
	switch (c->family) {
	case FAMILY_DEBIAN:
		snprintf(out, n, "apt-get install %s", deb);
		break;
	case FAMILY_RHEL:
		snprintf(out, n, "yum install %s", rpm);
		break;
	case FAMILY_SUSE:
		snprintf(out, n, "zypper install %s", suse);
		break;
	case FAMILY_UNKNOWN:
		/* no os-release we recognise: name both families the seed knows */
		snprintf(out, n, "apt-get install %s (Debian/Ubuntu) or yum install %s (RHEL family)",
			 deb, rpm);
		break;
	}
}
