// SPDX-License-Identifier: GPL-2.0-or-later
/* What the guest is, from libguestfs's inspection: one Linux root, its file
 * systems and where they lie in the disk, the kernels and their initramfs,
 * the initramfs tool, the boot loader and the firmware it boots with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int depth(const char *mp)
{
	int n = 0;

	for (; *mp; mp++)
		n += *mp == '/';
	return n;
}

static int by_depth(const void *a, const void *b)
{
	const struct conv_mount *x = a, *y = b;
	int dx = strcmp(x->mountpoint, "/") ? depth(x->mountpoint) : 0;
	int dy = strcmp(y->mountpoint, "/") ? depth(y->mountpoint) : 0;

	return dx != dy ? dx - dy : strcmp(x->mountpoint, y->mountpoint);
}

/* What the native phase mounts: the guest's tools and what they read and
 * write (kernels, initramfs, GRUB, update-initramfs's state in /var). Data
 * file systems, on whichever disk, stay unmounted: nothing native reads
 * them, and this host's kernel need not know their file system. */
static int native_needs(const char *mp, int required)
{
	static const char *const sys[] = { "/", "/boot", "/usr", "/var", NULL };

	for (const char *const *p = sys; *p; p++)
		if (!strcmp(mp, *p))
			return !required || strcmp(*p, "/var");
	return 0;
}

/* which disk and where in it a partition lies, for the native loop devices */
static int locate(struct conv *c, struct conv_mount *m)
{
	struct guestfs_partition_list *pl;
	char *disk;
	int num;
	uint32_t i;

	m->disk = -1;
	num = guestfs_part_to_partnum(c->g, m->device);
	disk = num >= 1 ? guestfs_part_to_dev(c->g, m->device) : NULL;
	if (num < 1 || !disk) {
		free(disk);
		/* a data file system on LVM, RAID or a whole disk is the guest's
		 * own business at boot: nothing native touches it */
		if (!native_needs(m->mountpoint, 1))
			return 0;
		return conv_fail(c, -ENOTSUP, "the file system for %s is on %s, not on a partition "
				 "(LVM, RAID or a whole disk are not converted yet)", m->mountpoint, m->device);
	}
	m->disk = guestfs_device_index(c->g, disk);
	pl = m->disk >= 0 ? guestfs_part_list(c->g, disk) : NULL;
	free(disk);
	if (!pl)
		return conv_fail(c, -EIO, "cannot read the partition table: %s", guestfs_last_error(c->g));
	for (i = 0; i < pl->len; i++)
		if (pl->val[i].part_num == num) {
			m->start = pl->val[i].part_start;
			m->size = pl->val[i].part_size;
		}
	guestfs_free_partition_list(pl);
	/* the ESP is edited through libguestfs; this host's kernel may lack vfat */
	m->native = native_needs(m->mountpoint, 0) && strcmp(m->fstype, "vfat") && strcmp(m->fstype, "swap");
	return m->size ? 0 : conv_fail(c, -EIO, "partition %d of %s not found", num, m->device);
}

static int read_mounts(struct conv *c)
{
	char **mp = guestfs_inspect_get_mountpoints(c->g, c->root);
	int rc = 0;

	if (!mp)
		return conv_fail(c, -EIO, "inspection gave no mount points: %s", guestfs_last_error(c->g));
	for (char **p = mp; p[0] && p[1]; p += 2) {
		struct conv_mount *m;
		char *s;

		if (c->n_mounts == CONV_MAX_MOUNTS) {
			rc = conv_fail(c, -E2BIG, "more than %d file systems", CONV_MAX_MOUNTS);
			break;
		}
		s = guestfs_vfs_type(c->g, p[1]);
		if (!s) {
			/* fstab names a device none of the disks given has (a disk
			 * left out): the edits comment its entry out, and the copy
			 * boots without it; the system's own cannot be left out */
			if (native_needs(p[0], 1)) {
				rc = conv_fail(c, -ENOENT, "the file system for %s (%s) is on none of the %d disks "
					       "given: give every disk of the machine, in its order", p[0], p[1],
					       c->opt->n_disks);
				break;
			}
			conv_change(c, "warning", "/etc/fstab", "%s (%s) is on none of the %d disks given: not "
				    "mounted in the copy", p[1], p[0], c->opt->n_disks);
			continue;
		}
		m = &c->mounts[c->n_mounts++];
		snprintf(m->mountpoint, sizeof(m->mountpoint), "%s", p[0]);
		snprintf(m->device, sizeof(m->device), "%s", p[1]);
		snprintf(m->fstype, sizeof(m->fstype), "%s", s);
		free(s);
		s = guestfs_vfs_uuid(c->g, m->device);
		snprintf(m->uuid, sizeof(m->uuid), "%s", s ? s : "");
		free(s);
		rc = locate(c, m);
		if (rc)
			break;
	}
	free_strv(mp);
	if (rc)
		return rc;
	qsort(c->mounts, (size_t)c->n_mounts, sizeof(c->mounts[0]), by_depth);
	for (int i = 0; i < c->n_mounts; i++)
		if (guestfs_mount(c->g, c->mounts[i].device, c->mounts[i].mountpoint) < 0)
			return conv_fail(c, -EIO, "cannot mount %s on %s: %s", c->mounts[i].device,
					 c->mounts[i].mountpoint, guestfs_last_error(c->g));
	return 0;
}

static int is_exec(struct conv *c, const char *const *paths)
{
	for (; *paths; paths++)
		if (guestfs_is_file_opts(c->g, *paths, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) > 0)
			return 1;
	return 0;
}

/* kernels that have modules and an initramfs path of the tool's naming */
static int find_kernels(struct conv *c)
{
	char **k = guestfs_glob_expand(c->g, "/boot/vmlinuz-*");
	int rc = 0;

	for (char **p = k; p && *p && c->n_kernels < CONV_MAX_KERNELS; p++) {
		struct conv_kernel *ke = &c->kernels[c->n_kernels];
		const char *ver = *p + strlen("/boot/vmlinuz-");
		char mod[300];

		snprintf(ke->version, sizeof(ke->version), "%s", ver);
		snprintf(mod, sizeof(mod), "/lib/modules/%s", ver);
		if (guestfs_is_dir_opts(c->g, mod, GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 1, -1) <= 0)
			continue; /* a kernel without its modules cannot boot a rebuilt initramfs */
		if (c->initramfs == INITRAMFS_DRACUT)
			snprintf(ke->initrd, sizeof(ke->initrd), "/boot/initramfs-%.127s.img", ver);
		else
			snprintf(ke->initrd, sizeof(ke->initrd), "/boot/initrd.img-%.127s", ver);
		c->n_kernels++;
	}
	free_strv(k);
	if (!c->n_kernels)
		rc = conv_fail(c, -ENOENT, "no kernel found: no /boot/vmlinuz-* with its /lib/modules directory");
	return rc;
}

static void detect_firmware(struct conv *c)
{
	const struct conv_mount *esp = NULL;

	for (int i = 0; i < c->n_mounts; i++)
		if (!strcmp(c->mounts[i].mountpoint, "/boot/efi") && !strcmp(c->mounts[i].fstype, "vfat"))
			esp = &c->mounts[i];
	/* an ESP the guest mounts with a boot loader in it: it booted by UEFI */
	if (esp && guestfs_is_dir(c->g, "/boot/efi/EFI") > 0) {
		char **bins = guestfs_glob_expand(c->g, "/boot/efi/EFI/*/*.efi");

		if (bins && bins[0])
			c->firmware = FW_UEFI;
		free_strv(bins);
	}
	if (c->firmware == FW_UNKNOWN)
		c->firmware = FW_BIOS;
}

int guest_inspect(struct conv *c)
{
	static const char *const grub2[] = { "/usr/sbin/grub-mkconfig", "/usr/sbin/grub2-mkconfig",
					     "/sbin/grub2-mkconfig", NULL };
	static const char *const itools[] = { "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL };
	static const char *const dracut[] = { "/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut", NULL };
	char **roots, *s;
	int rc;

	roots = guestfs_inspect_os(c->g);
	if (!roots || !roots[0]) {
		free_strv(roots);
		return conv_fail(c, -ENOENT, "unknown operating system: inspection found no root file system");
	}
	if (roots[1]) {
		free_strv(roots);
		return conv_fail(c, -ENOTSUP, "more than one operating system on the disk (multi-boot is "
				 "not converted)");
	}
	c->root = roots[0];
	free(roots);
	s = guestfs_inspect_get_type(c->g, c->root);
	snprintf(c->os_type, sizeof(c->os_type), "%s", s ? s : "unknown");
	free(s);
	s = guestfs_inspect_get_distro(c->g, c->root);
	snprintf(c->distro, sizeof(c->distro), "%s", s ? s : "unknown");
	free(s);
	s = guestfs_inspect_get_product_name(c->g, c->root);
	snprintf(c->product, sizeof(c->product), "%s", s ? s : "unknown");
	free(s);
	c->major = guestfs_inspect_get_major_version(c->g, c->root);
	c->minor = guestfs_inspect_get_minor_version(c->g, c->root);
	if (strcmp(c->os_type, "linux"))
		return conv_fail(c, -ENOTSUP, "unknown operating system: %s (%s); only Linux guests are "
				 "converted", c->os_type, c->product);
	rc = read_mounts(c);
	if (rc)
		return rc;
	if (is_exec(c, itools))
		c->initramfs = INITRAMFS_TOOLS;
	else if (is_exec(c, dracut))
		c->initramfs = INITRAMFS_DRACUT;
	else
		return conv_fail(c, -ENOENT, "no initramfs tool in the guest (neither update-initramfs "
				 "nor dracut)");
	rc = find_kernels(c);
	if (rc)
		return rc;
	if (is_exec(c, grub2) && (guestfs_is_dir(c->g, "/boot/grub") > 0 || guestfs_is_dir(c->g, "/boot/grub2") > 0))
		c->loader = LOADER_GRUB2;
	else if (guestfs_is_file(c->g, "/boot/grub/menu.lst") > 0 || guestfs_is_file(c->g, "/boot/grub/grub.conf") > 0)
		c->loader = LOADER_GRUB1;
	if (c->loader == LOADER_NONE)
		return conv_fail(c, -ENOTSUP, "no boot loader found (GRUB 2 or GRUB 1 in /boot/grub)");
	if (c->loader == LOADER_GRUB1)
		return conv_fail(c, -ENOTSUP, "GRUB 1 (legacy) boot loader: not converted (its menu.lst "
				 "root= would need rewriting by hand)");
	detect_firmware(c);
	s = guestfs_cat(c->g, "/etc/hostname");
	if (s) {
		s[strcspn(s, " \t\r\n")] = '\0';
		snprintf(c->hostname, sizeof(c->hostname), "%s", s);
		free(s);
	}
	return 0;
}
