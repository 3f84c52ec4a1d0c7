// SPDX-License-Identifier: GPL-2.0-or-later
/* In the copy's chroot: the target's drivers into each kernel's initramfs
 * (only when its listing shows them missing: a rebuild is the slow part of
 * a conversion), and GRUB's configuration regenerated with root by UUID. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "native.h"
#include "run.h"
#include "text_edit.h"

/* what a virtio machine needs before the root file system is reachable */
static const char *const target_drivers[] = { "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", NULL };

/* a text file of the guest's tree (modules.builtin, grub.cfg), or NULL */
static char *read_host_file(const char *path)
{
	char *text = NULL;

	return read_small_file(path, &text, NULL, 64u << 20) ? NULL : text;
}

/* "/virtio_blk.ko" followed by nothing or a compression suffix */
static int lists_module(const char *listing, const char *mod)
{
	char needle[64];
	const char *p = listing;
	size_t nl;

	snprintf(needle, sizeof(needle), "/%s.ko", mod);
	nl = strlen(needle);
	while (listing && (p = strstr(p, needle))) {
		char next = p[nl];

		if (next == '\n' || next == '\0' || next == '.')
			return 1;
		p += nl;
	}
	return 0;
}

/* which target drivers are neither built in nor in the initramfs; into
 * missing (space-separated). 0 or negative errno. */
static int missing_drivers(struct conv *c, struct native *n, const struct conv_kernel *k, char *missing,
			   size_t len)
{
	const char *itools[] = { "lsinitramfs", k->initrd, NULL };
	const char *dracut[] = { "lsinitrd", k->initrd, NULL };
	char path[900], *builtin, *listing = NULL;
	int rc;

	missing[0] = '\0';
	snprintf(path, sizeof(path), "%s/lib/modules/%s/modules.builtin", n->root, k->version);
	builtin = read_host_file(path);
	snprintf(path, sizeof(path), "%s%s", n->root, k->initrd);
	if (access(path, R_OK) == 0) {
		rc = native_chroot(c, n, c->initramfs == INITRAMFS_DRACUT ? dracut : itools, &listing);
		if (rc) {
			rc = conv_fail(c, -EIO, "cannot list the initramfs %s: %s exited %d", k->initrd,
				       c->initramfs == INITRAMFS_DRACUT ? "lsinitrd" : "lsinitramfs", rc);
			free(listing);
			free(builtin);
			return rc;
		}
	}
	for (const char *const *d = target_drivers; *d; d++)
		if (!lists_module(builtin, *d) && !lists_module(listing, *d)) {
			size_t used = strlen(missing);

			snprintf(missing + used, len - used, "%s%s", used ? " " : "", *d);
		}
	free(listing);
	free(builtin);
	return 0;
}

static int add_drivers_config(struct conv *c, struct native *n, const char *missing)
{
	char path[900];
	FILE *f;

	if (c->initramfs == INITRAMFS_DRACUT)
		snprintf(path, sizeof(path), "%s/etc/dracut.conf.d/90-livemig-virtio.conf", n->root);
	else
		snprintf(path, sizeof(path), "%s/etc/initramfs-tools/modules", n->root);
	f = fopen(path, c->initramfs == INITRAMFS_DRACUT ? "we" : "ae");
	if (!f)
		return conv_fail(c, -errno, "cannot write %s: %s", path + strlen(n->root), strerror(errno));
	if (c->initramfs == INITRAMFS_DRACUT) {
		fprintf(f, "# livemig: the target's virtual hardware\nadd_drivers+=\" %s \"\n", missing);
	} else {
		char list[256], *save = NULL;

		snprintf(list, sizeof(list), "%s", missing);
		fprintf(f, "# livemig: the target's virtual hardware\n");
		for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save))
			fprintf(f, "%s\n", m);
	}
	if (fclose(f))
		return conv_fail(c, -EIO, "cannot write %s", path + strlen(n->root));
	conv_change(c, "initramfs", path + strlen(n->root), "added %s", missing);
	return 0;
}

static int rebuild(struct conv *c, struct native *n, struct conv_kernel *k)
{
	const char *itools[] = { "update-initramfs", "-u", "-k", k->version, NULL };
	const char *dracut[] = { "dracut", "-f", k->initrd, k->version, NULL };
	char *out = NULL, line[300];
	int rc;

	rc = native_chroot(c, n, c->initramfs == INITRAMFS_DRACUT ? dracut : itools, &out);
	if (rc)
		rc = conv_fail(c, -EIO, "the guest's %s failed for %s: %s",
			       c->initramfs == INITRAMFS_DRACUT ? "dracut" : "update-initramfs", k->version,
			       last_line(out, line, sizeof(line)));
	free(out);
	return rc;
}

int native_initramfs(struct conv *c, struct native *n)
{
	int config_added = 0, rc;

	for (int i = 0; i < c->n_kernels; i++) {
		struct conv_kernel *k = &c->kernels[i];
		char missing[256];

		rc = missing_drivers(c, n, k, missing, sizeof(missing));
		if (rc)
			return rc;
		if (!missing[0]) {
			conv_change(c, "initramfs", k->initrd, "kept: already has %s %s %s %s (or built in)",
				    target_drivers[0], target_drivers[1], target_drivers[2], target_drivers[3]);
			continue;
		}
		if (!config_added) {
			rc = add_drivers_config(c, n, missing);
			if (rc)
				return rc;
			config_added = 1;
		}
		rc = rebuild(c, n, k);
		if (rc)
			return rc;
		k->rebuilt = 1;
		rc = missing_drivers(c, n, k, missing, sizeof(missing));
		if (rc)
			return rc;
		if (missing[0])
			return conv_fail(c, -ENOENT, "kernel %s has no %s driver: it cannot boot on virtio",
					 k->version, missing);
		conv_change(c, "initramfs", k->initrd, "rebuilt by the guest's %s with the virtio drivers",
			    c->initramfs == INITRAMFS_DRACUT ? "dracut" : "update-initramfs");
	}
	return 0;
}

/* the kernel's root by device name anywhere in GRUB's configuration? */
static int names_root_by_device(const char *cfg)
{
	static const char *const bad[] = { "root=/dev/sd", "root=/dev/hd", "root=/dev/vd", "root=/dev/xvd",
					   "root=/dev/nvme", NULL };

	for (const char *const *b = bad; *b; b++)
		if (strstr(cfg, *b))
			return 1;
	return 0;
}

/* every root=/dev/<bus name> in grub.cfg -> root=UUID=<the root's UUID> */
static int grub_cfg_root_by_uuid(struct conv *c, const char *path, const char *cfg_path)
{
	char *cfg = read_host_file(path), *out = NULL;
	const char *p, *hit;
	size_t len = 0;
	int n = 0;
	FILE *f;

	if (!cfg)
		return conv_fail(c, -ENOENT, "update-grub failed and there is no %s to edit", cfg_path);
	f = open_memstream(&out, &len);
	for (p = cfg; (hit = strstr(p, "root=/dev/")); p = hit + strcspn(hit, " \t\n")) {
		char dev[64];

		snprintf(dev, sizeof(dev), "%.*s", (int)strcspn(hit + 5, " \t\n"), hit + 5);
		fwrite(p, 1, (size_t)(hit - p), f);
		if (bus_device_name(dev)) {
			fprintf(f, "root=UUID=%s", c->mounts[0].uuid);
			n++;
		} else {
			fprintf(f, "root=%s", dev);
		}
	}
	fputs(p, f);
	fclose(f);
	free(cfg);
	f = fopen(path, "we");
	if (!f || fputs(out, f) < 0 || fclose(f)) {
		free(out);
		return conv_fail(c, -EIO, "cannot write %s", cfg_path);
	}
	free(out);
	conv_change(c, "boot-loader", cfg_path, "%d root=/dev/... replaced by root=UUID=%s", n, c->mounts[0].uuid);
	return 0;
}

int native_grub(struct conv *c, struct native *n)
{
	const char *debian[] = { "update-grub", NULL };
	const char *cfg_path = "/boot/grub/grub.cfg";
	char path[900], probe[900], *out = NULL, *cfg, line[300];
	int regenerated = 0;
	int rc;

	snprintf(probe, sizeof(probe), "%s/usr/sbin/update-grub", n->root);
	if (access(probe, X_OK) == 0) {
		rc = native_chroot(c, n, debian, &out);
	} else {
		const char *rh[] = { "grub2-mkconfig", "-o", "/boot/grub2/grub.cfg", NULL };

		cfg_path = "/boot/grub2/grub.cfg";
		rc = native_chroot(c, n, rh, &out);
	}
	snprintf(path, sizeof(path), "%s%s", n->root, cfg_path);
	if (rc) {
		/* the configuration the source booted with, its root by UUID */
		conv_change(c, "warning", cfg_path, "the guest's update-grub failed (%s): its grub.cfg is "
			    "edited instead", last_line(out, line, sizeof(line)));
		log_warn("update-grub said:\n%s", out ? out : "");
		free(out);
		rc = grub_cfg_root_by_uuid(c, path, cfg_path);
		if (rc)
			return rc;
	} else {
		free(out);
		regenerated = 1;
	}
	cfg = read_host_file(path);
	if (!cfg)
		return conv_fail(c, -ENOENT, "update-grub wrote no %s", cfg_path);
	rc = names_root_by_device(cfg) ? conv_fail(c, -EINVAL, "%s still names the root by device after "
						   "update-grub (GRUB_DEVICE set in /etc/default/grub?)", cfg_path) : 0;
	if (!rc && regenerated)
		conv_change(c, "boot-loader", cfg_path, "regenerated by the guest's update-grub: root=UUID=%s",
			    c->mounts[0].uuid);
	free(cfg);
	return rc;
}
