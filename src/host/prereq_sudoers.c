// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Is a user listed in sudoers? Enough of sudoers(5) to answer that the way
 * sudo would: user specifications with user names, %group, #uid, ALL, "!"
 * negation (the last matching item wins) and User_Alias; the include
 * directives (#include, @include, #includedir, @includedir, the latter
 * skipping names with a '.' or ending in '~', as sudo does); line
 * continuations; comments. Defaults and the other alias kinds are skipped.
 * Whether the rule grants every command is not judged: the seed asks for a
 * user "in the sudoers list".
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prereq_internal.h"

#define MAX_DEPTH   8
#define MAX_ALIASES 32

struct who {
	const struct prereq_ctx *c;
	const char *user;
	unsigned uid;
	const char *const *groups;
	char aliases[MAX_ALIASES][64]; /* User_Alias names that include the user */
	int naliases;
	char *where;
	size_t wn;
};

static int in_groups(const struct who *w, const char *g)
{
	for (const char *const *p = w->groups; p && *p; p++)
		if (!strcmp(*p, g))
			return 1;
	return 0;
}

static int item_matches(const struct who *w, const char *item)
{
	if (!strcmp(item, "ALL") || !strcmp(item, w->user))
		return 1;
	if (item[0] == '%')
		return item[1] != '#' && item[1] != ':' && in_groups(w, item + 1);
	if (item[0] == '#' && isdigit((unsigned char)item[1]))
		return strtoul(item + 1, NULL, 10) == w->uid;
	for (int i = 0; i < w->naliases; i++)
		if (!strcmp(item, w->aliases[i]))
			return 1;
	return 0;
}

/*
 * Evaluate the user list at *p ("alice, %admin, !bob"), leaving *p after
 * it. Items are separated by commas; the list ends at a blank not next to a
 * comma, or at '='/':' (alias definitions).
 */
static int list_matches(const struct who *w, const char **p)
{
	int result = 0;

	for (;;) {
		char item[128];
		size_t n = 0;
		int neg = 0;

		while (**p == ' ' || **p == '\t')
			(*p)++;
		while (**p == '!') {
			neg = !neg;
			(*p)++;
		}
		while (**p && !strchr(" \t,=:", **p) && n + 1 < sizeof(item)) {
			if (**p == '\\' && (*p)[1])
				(*p)++;
			item[n++] = *(*p)++;
		}
		item[n] = '\0';
		if (n && item_matches(w, item))
			result = !neg;
		while (**p == ' ' || **p == '\t')
			(*p)++;
		if (**p != ',')
			return result;
		(*p)++;
	}
}

static void user_alias(struct who *w, const char *p)
{
	/* NAME = list [: NAME = list]... */
	for (;;) {
		char name[64];
		size_t n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		while ((isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_') &&
		       n + 1 < sizeof(name))
			name[n++] = *p++;
		name[n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!n || *p != '=')
			return;
		p++;
		if (list_matches(w, &p) && w->naliases < MAX_ALIASES)
			snprintf(w->aliases[w->naliases++], sizeof(w->aliases[0]), "%s", name);
		if (*p != ':')
			return;
		p++;
	}
}

static int parse_file(struct who *w, const char *path, int depth);

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int include_dir(struct who *w, const char *dir, int depth)
{
	char real[PATH_MAX], host[PATH_MAX], *names[256];
	size_t n = 0;
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (prereq_resolve(w->c, dir, real, sizeof(real)) ||
	    prereq_host_path(w->c, real, host, sizeof(host)))
		return 0;
	if (!(d = opendir(host)))
		return errno == EACCES ? -EACCES : 0; /* sudo skips a missing directory */
	while ((e = readdir(d)) && n < 256) {
		size_t len = strlen(e->d_name);

		if (strchr(e->d_name, '.') || e->d_name[len - 1] == '~')
			continue;
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];

		if (rc <= 0 && snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
					(int)sizeof(path)) {
			int r = parse_file(w, path, depth + 1);

			if (r > 0 || (r < 0 && rc == 0))
				rc = r;
		}
		free(names[i]);
	}
	return rc;
}

/* "#include x", "@includedir x": 1 if line is a directive (its result in *rc). */
static int directive(struct who *w, const char *file, const char *line, int depth, int *rc)
{
	char target[PATH_MAX], dir[PATH_MAX];
	const char *arg;
	int is_dir;
	size_t n;

	if ((line[0] != '#' && line[0] != '@') || strncmp(line + 1, "include", 7))
		return 0;
	is_dir = !strncmp(line + 8, "dir", 3);
	arg = line + 8 + (is_dir ? 3 : 0);
	if (*arg != ' ' && *arg != '\t')
		return 0;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	n = strcspn(arg, " \t\"");
	if (!n)
		return 1;
	/* sudo 1.9: a relative path is relative to the including file */
	if (arg[0] == '/') {
		if (prereq_pathf(target, sizeof(target), "%.*s", (int)n, arg))
			return 1;
	} else {
		const char *slash = strrchr(file, '/');

		if (prereq_pathf(dir, sizeof(dir), "%.*s", (int)(slash - file), file) ||
		    prereq_pathf(target, sizeof(target), "%s/%.*s", dir, (int)n, arg))
			return 1;
	}
	if (depth >= MAX_DEPTH)
		*rc = 0;
	else if (is_dir)
		*rc = include_dir(w, target, depth);
	else
		*rc = parse_file(w, target, depth + 1);
	/* a missing include is sudo's warning, not our answer */
	if (*rc == -ENOENT)
		*rc = 0;
	return 1;
}

/* One logical line: 1 if it lists the user, <0 from an include, else 0. */
static int parse_line(struct who *w, const char *file, char *line, unsigned lineno, int depth)
{
	const char *p;
	int rc = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	if (directive(w, file, line, depth, &rc))
		return rc;
	/* '#' begins a comment unless it is a uid ("#1000") */
	for (char *h = line; (h = strchr(h, '#')); h++) {
		if (!isdigit((unsigned char)h[1]) || (h > line && h[-1] != ' ' &&
						       h[-1] != '\t' && h[-1] != ',' &&
						       h[-1] != '!')) {
			*h = '\0';
			break;
		}
	}
	if (!*line || !strncmp(line, "Defaults", 8))
		return 0;
	if (!strncmp(line, "User_Alias", 10) && (line[10] == ' ' || line[10] == '\t')) {
		user_alias(w, line + 11);
		return 0;
	}
	if (!strncmp(line, "Runas_Alias", 11) || !strncmp(line, "Host_Alias", 10) ||
	    !strncmp(line, "Cmnd_Alias", 10) || !strncmp(line, "Cmd_Alias", 9))
		return 0;
	/* a user specification: "users hosts = commands" */
	p = line;
	if (!strchr(line, '=') || !list_matches(w, &p))
		return 0;
	snprintf(w->where, w->wn, "%s:%u", file, lineno);
	return 1;
}

static int parse_file(struct who *w, const char *path, int depth)
{
	char *text = NULL, *line, *next;
	unsigned lineno = 1;
	int rc = prereq_read_file(w->c, path, &text, 4 << 20);

	if (rc)
		return rc;
	for (line = text; line && *line && rc <= 0; line = next) {
		unsigned start = lineno;
		char *eol, *out;

		/* join "\\\n" continuations into one logical line, in place */
		for (eol = line, out = line;; eol++) {
			if (*eol == '\\' && eol[1] == '\n') {
				eol++;
				lineno++;
				continue;
			}
			if (!*eol || *eol == '\n')
				break;
			*out++ = *eol;
		}
		next = *eol ? eol + 1 : NULL;
		*out = '\0';
		lineno++;
		{
			int r = parse_line(w, path, line, start, depth);

			if (r > 0 || (r < 0 && rc == 0))
				rc = r;
		}
	}
	free(text);
	return rc;
}

int prereq_sudoers_lists(const struct prereq_ctx *c, const char *sudoers, const char *user,
			 unsigned uid, const char *const *groups, char *where, size_t n)
{
	struct who *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->c = c;
	w->user = user;
	w->uid = uid;
	w->groups = groups;
	w->where = where;
	w->wn = n;
	rc = parse_file(w, sudoers, 0);
	free(w);
	return rc;
}
