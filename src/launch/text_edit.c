// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_edit.h"

int bus_device_name(const char *spec)
{
	static const char *const prefixes[] = { "/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", NULL };

	for (const char *const *p = prefixes; *p; p++)
		if (!strncmp(spec, *p, strlen(*p)))
			return 1;
	return 0;
}

/* one line, without its newline, as a NUL-terminated copy */
static char *next_line(const char **p)
{
	size_t n = strcspn(*p, "\n");
	char *line = strndup(*p, n);

	*p += n + ((*p)[n] == '\n');
	return line;
}

char *fstab_rewrite(const char *text, fstab_uuid_fn uuid_of, fstab_note_fn note, void *arg, int *changed)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	const char *p = text;

	*changed = 0;
	if (!f)
		return NULL;
	while (*p) {
		char *line = next_line(&p), spec[256], mp[256], rest[512] = "", uuid[64];

		if (!line)
			break;
		if (line[0] == '#' || sscanf(line, "%255s %255s %511[^\n]", spec, mp, rest) < 2 ||
		    !bus_device_name(spec)) {
			fprintf(f, "%s\n", line);
		} else if (uuid_of(arg, spec, mp, uuid, sizeof(uuid))) {
			/* a device we cannot name stably would stop the boot */
			fprintf(f, "# livemig: no UUID for %s on the target\n#%s\n", spec, line);
			note(arg, spec, mp, NULL);
			*changed = 1;
		} else {
			fprintf(f, "UUID=%s %s %s\n", uuid, mp, rest);
			note(arg, spec, mp, uuid);
			*changed = 1;
		}
		free(line);
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

#define SERIAL_ARGS "console=tty0 console=ttyS0,115200"

char *grub_defaults_rewrite(const char *text)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	const char *p = text ? text : "";
	int uuid_done = 0, cmd_done = 0;

	if (!f)
		return NULL;
	while (*p) {
		char *line = next_line(&p);

		if (!line)
			break;
		if (!strncmp(line, "GRUB_DISABLE_LINUX_UUID=", 24)) {
			fprintf(f, "#%s\nGRUB_DISABLE_LINUX_UUID=false\n", line);
			uuid_done = 1;
		} else if (!strncmp(line, "GRUB_CMDLINE_LINUX=", 19)) {
			const char *v = line + 19;
			size_t vl = strlen(v);

			if (strstr(v, "console=ttyS0"))
				fprintf(f, "%s\n", line);
			else if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"' && !memchr(v + 1, '"', vl - 2))
				fprintf(f, "GRUB_CMDLINE_LINUX=\"%.*s%s" SERIAL_ARGS "\"\n", (int)(vl - 2), v + 1,
					vl > 2 ? " " : "");
			else /* a value we do not understand: kept, and ours after it */
				fprintf(f, "#%s\nGRUB_CMDLINE_LINUX=\"" SERIAL_ARGS "\"\n", line);
			cmd_done = 1;
		} else {
			fprintf(f, "%s\n", line);
		}
		free(line);
	}
	if (!uuid_done)
		fprintf(f, "GRUB_DISABLE_LINUX_UUID=false\n");
	if (!cmd_done)
		fprintf(f, "GRUB_CMDLINE_LINUX=\"" SERIAL_ARGS "\"\n");
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

char *hosts_rename(const char *hosts, const char *old_name, const char *new_name)
{
	char *out = NULL;
	size_t outlen = 0, ol = strlen(old_name);
	FILE *f;
	const char *p = hosts, *hit;

	if (!ol)
		return strdup(hosts);
	f = open_memstream(&out, &outlen);
	if (!f)
		return NULL;
	/* whole words only: "web" must not touch "web-db" */
	while ((hit = strstr(p, old_name))) {
		int before = hit == hosts || strchr(" \t\n", hit[-1]);
		int after = hit[ol] == '\0' || strchr(" \t\n", hit[ol]);

		fwrite(p, 1, (size_t)(hit - p), f);
		fputs(before && after ? new_name : old_name, f);
		p = hit + ol;
	}
	fputs(p, f);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

int marker_address(const char *line, char *out, size_t len)
{
	const char *a = strstr(line, " addr="), *eq;
	size_t n;

	if (!a || !len)
		return -ENOENT;
	a += 6;
	n = strcspn(a, " \r\n");
	eq = memchr(a, '=', n);
	if (eq) { /* IF=ADDR */
		n -= (size_t)(eq + 1 - a);
		a = eq + 1;
	}
	n = strcspn(a, "/ \r\n") < n ? strcspn(a, "/ \r\n") : n;
	if (!n || n >= len || !strcmp(a, "none") || !strncmp(a, "none", n))
		return -ENOENT;
	memcpy(out, a, n);
	out[n] = '\0';
	return 0;
}
