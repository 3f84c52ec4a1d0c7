// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz what livemig-launch parses from the replicated machine: its fstab,
 * /etc/default/grub and /etc/hosts (edited by the conversion, as root, on
 * the target host) and the first-boot marker line read from its serial
 * console (src/launch/text_edit.c). The input's first byte picks the
 * parser; the rest is the file or line.
 * Properties checked beyond "no crash, leak or UB" (a violation aborts):
 *   - the rewritten fstab has no active entry (spec and mount point) that
 *     names a bus device;
 *   - the rewritten grub defaults set GRUB_DISABLE_LINUX_UUID=false and
 *     carry console=ttyS0 in an active GRUB_CMDLINE_LINUX line;
 *   - renaming a host to itself changes nothing;
 *   - an address from a marker is non-empty, fits, and has no blank or '/'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_edit.h"

static int fake_uuid(void *arg, const char *spec, const char *mp, char *uuid, size_t len)
{
	(void)arg;
	(void)mp;
	if (spec[strlen(spec) - 1] == '9')
		return -1; /* unknown: commented out */
	snprintf(uuid, len, "0000-%zu", strlen(spec));
	return 0;
}

static void ignore(void *arg, const char *spec, const char *mp, const char *uuid)
{
	(void)arg;
	(void)spec;
	(void)mp;
	(void)uuid;
}

static void check_fstab(const char *out)
{
	const char *p = out;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char spec[256], mp[256], *line = strndup(p, n);

		/* an entry (two fields at least) never names a bus device */
		if (line && line[0] != '#' && sscanf(line, "%255s %255s", spec, mp) == 2 && bus_device_name(spec))
			abort();
		free(line);
		p += n + (p[n] == '\n');
	}
}

static void check_grub(const char *out)
{
	const char *p = out;
	int uuid = 0, console = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, "GRUB_DISABLE_LINUX_UUID=false", 29) && n == 29)
			uuid = 1;
		if (!strncmp(p, "GRUB_CMDLINE_LINUX=", 19)) {
			char *line = strndup(p, n);

			console = strstr(line, "console=ttyS0") != NULL;
			free(line);
		}
		p += n + (p[n] == '\n');
	}
	if (!uuid || !console)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *out, addr[64];
	int changed;

	if (size < 1)
		return 0;
	/* the guest's files are text: an embedded NUL ends them, as for the
	 * conversion, which reads them as C strings */
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	switch (data[0] % 4) {
	case 0:
		out = fstab_rewrite(text, fake_uuid, ignore, NULL, &changed);
		if (out)
			check_fstab(out);
		free(out);
		break;
	case 1:
		out = grub_defaults_rewrite(size > 1 ? text : NULL);
		if (out)
			check_grub(out);
		free(out);
		break;
	case 2: {
		/* the old name is the first word of the text itself */
		char name[64];

		if (sscanf(text, "%63s", name) == 1) {
			out = hosts_rename(text, name, name);
			if (out && strcmp(out, text))
				abort();
			free(out);
			out = hosts_rename(text, name, "renamed-test");
			free(out);
		}
		break;
	}
	default:
		if (!marker_address(text, addr, sizeof(addr)) &&
		    (!addr[0] || strlen(addr) >= sizeof(addr) || strpbrk(addr, " /\r\n")))
			abort();
	}
	free(text);
	return 0;
}
