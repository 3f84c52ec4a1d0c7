// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot loader. The replica is booted in the target cloud through GRUB,
 * so the source must boot with GRUB 1 or 2. What is installed is read from
 * the files each loader keeps: GRUB 2's grub.cfg, GRUB 1's menu.lst or
 * grub.conf, GRUB's EFI binary on the EFI system partition, and for the
 * others (systemd-boot, extlinux/syslinux, LILO, rEFInd) theirs. When GRUB
 * and another loader are both present the files cannot say which one boots,
 * so that is a warning, not a pass.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "prereq_internal.h"

struct found {
	char text[200];
	int n;
};

static void add(struct found *f, const char *what, const char *path)
{
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%s%s %s", f->n ? ", " : "", what, path);
	f->n++;
}

static int is_file(const struct prereq_ctx *c, const char *path)
{
	struct stat st;

	return !prereq_stat(c, path, &st) && S_ISREG(st.st_mode);
}

/* Entries of an in-root directory matching pattern, case-insensitively
 * (the EFI system partition is FAT). Calls fn for each; stops at 8. */
static void each_match(const struct prereq_ctx *c, const char *dir, const char *pattern,
		       void (*fn)(const struct prereq_ctx *c, const char *path, void *arg),
		       void *arg)
{
	char real[PATH_MAX], host[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (prereq_resolve(c, dir, real, sizeof(real)) ||
	    prereq_host_path(c, real, host, sizeof(host)) || !(d = opendir(host)))
		return;
	while ((e = readdir(d)) && n < 8) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.' || fnmatch(pattern, e->d_name, FNM_CASEFOLD))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
			     e->d_name) >= (int)sizeof(path))
			continue;
		fn(c, path, arg);
		n++;
	}
	closedir(d);
}

struct efi_scan {
	struct found *grub, *other;
};

static void efi_binary(const struct prereq_ctx *c, const char *path, void *arg)
{
	struct efi_scan *s = arg;
	const char *base = strrchr(path, '/') + 1;

	if (!is_file(c, path))
		return;
	if (!fnmatch("grub*.efi", base, FNM_CASEFOLD))
		add(s->grub, "GRUB 2 (EFI)", path);
	else if (!fnmatch("systemd-boot*.efi", base, FNM_CASEFOLD))
		add(s->other, "systemd-boot", path);
	else if (!fnmatch("refind*.efi", base, FNM_CASEFOLD))
		add(s->other, "rEFInd", path);
}

static void efi_vendor(const struct prereq_ctx *c, const char *path, void *arg)
{
	each_match(c, path, "*.efi", efi_binary, arg);
}

static void efi_dir(const struct prereq_ctx *c, const char *path, void *arg)
{
	/* scanning /boot for an ESP mounted there finds /boot/efi, scanned on its own */
	if (!strcmp(path, "/boot/efi"))
		return;
	each_match(c, path, "*", efi_vendor, arg);
}

void prereq_check_bootloader(const struct prereq_ctx *c, struct prereq_result *r)
{
	static const struct {
		const char *path, *what;
		int grub;
	} files[] = {
		{ "/boot/grub/grub.cfg", "GRUB 2", 1 },
		{ "/boot/grub2/grub.cfg", "GRUB 2", 1 },
		{ "/boot/grub/menu.lst", "GRUB 1", 1 },
		{ "/boot/grub/grub.conf", "GRUB 1", 1 },
		{ "/boot/loader/loader.conf", "systemd-boot", 0 },
		{ "/boot/efi/loader/loader.conf", "systemd-boot", 0 },
		{ "/efi/loader/loader.conf", "systemd-boot", 0 },
		{ "/boot/extlinux/extlinux.conf", "extlinux", 0 },
		{ "/boot/extlinux.conf", "extlinux", 0 },
		{ "/boot/syslinux/syslinux.cfg", "syslinux", 0 },
		{ "/etc/lilo.conf", "LILO", 0 },
	};
	/* where distributions mount the EFI system partition */
	static const char *const esps[] = { "/boot/efi", "/efi", "/boot" };
	struct found grub = { .n = 0 }, other = { .n = 0 };
	struct efi_scan scan = { &grub, &other };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (is_file(c, files[i].path))
			add(files[i].grub ? &grub : &other, files[i].what, files[i].path);
	for (size_t i = 0; i < sizeof(esps) / sizeof(esps[0]); i++)
		each_match(c, esps[i], "efi", efi_dir, &scan);

	if (grub.n && !other.n) {
		prereq_set(r, PREREQ_PASS, "%s", grub.text);
		return;
	}
	if (grub.n) {
		prereq_set(r, PREREQ_WARN, "%s; but also %s: make sure GRUB is the one that boots",
			   grub.text, other.text);
		prereq_set_remedy(r, "on EFI, efibootmgr -v shows the boot order (efibootmgr -o "
				  "puts GRUB first); remove the other loader's files if unused");
		return;
	}
	if (other.n)
		prereq_set(r, PREREQ_FAIL, "no GRUB; found %s", other.text);
	else
		prereq_set(r, PREREQ_FAIL, "no boot loader found: no /boot/grub/grub.cfg, "
			   "/boot/grub2/grub.cfg, /boot/grub/menu.lst, /boot/grub/grub.conf or "
			   "EFI/*/grub*.efi on the EFI partition");
	switch (c->family) {
	case FAMILY_DEBIAN:
		prereq_set_remedy(r, "switch to GRUB 2: apt-get install grub-pc (BIOS) or "
				  "grub-efi-amd64 (EFI), then grub-install and update-grub");
		break;
	case FAMILY_RHEL:
		prereq_set_remedy(r, "switch to GRUB 2: yum install grub2-pc (BIOS) or grub2-efi-x64 "
				  "shim-x64 (EFI), then grub2-mkconfig -o /boot/grub2/grub.cfg");
		break;
	case FAMILY_SUSE:
		prereq_set_remedy(r, "switch to GRUB 2: zypper install grub2, then grub2-install and "
				  "grub2-mkconfig -o /boot/grub2/grub.cfg");
		break;
	case FAMILY_UNKNOWN:
		prereq_set_remedy(r, "switch the boot loader to GRUB 2 (grub-install, then "
				  "grub-mkconfig -o /boot/grub/grub.cfg)");
		break;
	}
}
