// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Privileges: the agent reads raw disks and loads a kernel module, so the
 * user installing it must be root or able to become root through sudo. The
 * user is SUDO_USER when set (the person behind sudo), else the real user.
 * Names and groups come from the root's own /etc/passwd and /etc/group, so a
 * --root image is judged by its own accounts; on the running system the name
 * service (LDAP, sssd) fills in users the files do not know.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prereq_internal.h"

#define MAX_GROUPS 64

struct account {
	char name[64];
	unsigned uid, gid;
	int known;
	char *groups[MAX_GROUPS + 1]; /* NULL-terminated, strdup'd */
	int ngroups;
};

static void add_group(struct account *a, const char *g, size_t len)
{
	for (int i = 0; i < a->ngroups; i++)
		if (strlen(a->groups[i]) == len && !strncmp(a->groups[i], g, len))
			return;
	if (a->ngroups < MAX_GROUPS && (a->groups[a->ngroups] = strndup(g, len)))
		a->ngroups++;
}

static void free_account(struct account *a)
{
	for (int i = 0; i < a->ngroups; i++)
		free(a->groups[i]);
	a->ngroups = 0;
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

/* Field i (0-based) of a colon-separated line; its length in *len. */
static const char *col(const char *line, int i, size_t *len)
{
	const char *p = line;

	while (i-- > 0) {
		p = strpbrk(p, ":\n");
		if (!p || *p == '\n')
			return NULL;
		p++;
	}
	*len = strcspn(p, ":\n");
	return p;
}

/* By name when name is set, else by uid. */
static void find_passwd(const struct prereq_ctx *c, const char *name, unsigned uid,
			struct account *a)
{
	char *text = NULL;

	if (prereq_read_file(c, "/etc/passwd", &text, 16 << 20))
		return;
	for (const char *line = text; line && *line; line = next_line(line)) {
		size_t nl, ul, gl;
		const char *n = col(line, 0, &nl), *u = col(line, 2, &ul), *g = col(line, 3, &gl);

		if (!n || !u || !g || nl >= sizeof(a->name))
			continue;
		if (name ? (strlen(name) != nl || strncmp(n, name, nl)) : strtoul(u, NULL, 10) != uid)
			continue;
		snprintf(a->name, sizeof(a->name), "%.*s", (int)nl, n);
		a->uid = (unsigned)strtoul(u, NULL, 10);
		a->gid = (unsigned)strtoul(g, NULL, 10);
		a->known = 1;
		break;
	}
	free(text);
}

static void find_groups(const struct prereq_ctx *c, struct account *a)
{
	char *text = NULL;
	size_t ulen = strlen(a->name);

	if (prereq_read_file(c, "/etc/group", &text, 16 << 20))
		return;
	for (const char *line = text; line && *line; line = next_line(line)) {
		size_t nl, gl, ml;
		const char *n = col(line, 0, &nl), *g = col(line, 2, &gl), *m = col(line, 3, &ml);

		if (!n || !g)
			continue;
		if (strtoul(g, NULL, 10) == a->gid) {
			add_group(a, n, nl);
			continue;
		}
		for (const char *p = m, *end = m ? m + ml : NULL; p && p < end;) {
			size_t len = strcspn(p, ",:\n");

			if (len == ulen && !strncmp(p, a->name, ulen)) {
				add_group(a, n, nl);
				break;
			}
			p += len + 1;
		}
	}
	free(text);
}

/* The name service's view, for accounts the files do not hold. */
static void nss_lookup(const char *name, unsigned uid, struct account *a)
{
	struct passwd *pw = name ? getpwnam(name) : getpwuid(uid);
	gid_t gids[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (!pw)
		return;
	snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	a->known = 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &n) < 0)
		n = MAX_GROUPS;
	for (int i = 0; i < n; i++) {
		struct group *g = getgrgid(gids[i]);

		if (g)
			add_group(a, g->gr_name, strlen(g->gr_name));
	}
}

static void groups_text(const struct account *a, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < a->ngroups && len + 1 < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", a->groups[i]);
}

void prereq_check_privileges(const struct prereq_ctx *c, struct prereq_result *r)
{
	const char *sudo_user = getenv("SUDO_USER");
	struct account a = { .known = 0 };
	char where[PATH_MAX + 16], groups[128];
	int rc;

	if (geteuid() == 0) {
		if (sudo_user && *sudo_user)
			prereq_set(r, PREREQ_PASS, "running as root (through sudo, by %s)", sudo_user);
		else
			prereq_set(r, PREREQ_PASS, "running as root");
		return;
	}
	if (sudo_user && !*sudo_user)
		sudo_user = NULL;
	find_passwd(c, sudo_user, getuid(), &a);
	if (!a.known && c->is_host)
		nss_lookup(sudo_user, getuid(), &a);
	if (!a.known) {
		if (sudo_user)
			snprintf(a.name, sizeof(a.name), "%s", sudo_user);
		else
			snprintf(a.name, sizeof(a.name), "#%u", (unsigned)getuid());
		a.uid = getuid();
		a.gid = getgid();
	}
	find_groups(c, &a);
	a.groups[a.ngroups] = NULL;
	groups_text(&a, groups, sizeof(groups));
	if (a.known && a.uid == 0) {
		/* root ran "sudo -u someone livemig check": the person is root */
		prereq_set(r, PREREQ_PASS, "invoked by %s through sudo (SUDO_USER)", a.name);
		free_account(&a);
		return;
	}

	rc = prereq_sudoers_lists(c, "/etc/sudoers", a.name, a.uid, (const char *const *)a.groups,
				  where, sizeof(where));
	if (rc > 0) {
		prereq_set(r, PREREQ_PASS, "%s is in sudoers (%s)", a.name, where);
	} else if (rc == 0) {
		prereq_set(r, PREREQ_FAIL, "%s (uid %u, groups %s) is not root and not in "
			   "/etc/sudoers or the files it includes", a.name, a.uid,
			   groups[0] ? groups : "none");
		prereq_set_remedy(r, "run as root (sudo livemig ...), or as root add %s with visudo: "
				  "visudo -f /etc/sudoers.d/%s, with the line '%s ALL=(ALL:ALL) ALL'",
				  a.name, a.name, a.name);
	} else if (rc == -ENOENT) {
		char cmd[96];

		prereq_install_cmd(c, "sudo", "sudo", "sudo", cmd, sizeof(cmd));
		prereq_set(r, PREREQ_FAIL, "%s (uid %u) is not root, and there is no /etc/sudoers: "
			   "sudo is not installed", a.name, a.uid);
		prereq_set_remedy(r, "run as root; or, as root, %s and add %s with visudo -f "
				  "/etc/sudoers.d/%s", cmd, a.name, a.name);
	} else {
		/* /etc/sudoers is 0440 root: an ordinary user cannot read it */
		prereq_set(r, PREREQ_WARN, "%s (uid %u, groups %s) is not root; cannot read "
			   "/etc/sudoers to see whether %s is listed: %s", a.name, a.uid,
			   groups[0] ? groups : "none", a.name, strerror(-rc));
		prereq_set_remedy(r, "run the check as root (sudo livemig check); if sudo refuses, "
				  "add %s with visudo", a.name);
	}
	free_account(&a);
}
