// SPDX-License-Identifier: GPL-2.0-or-later
/* The copy's file systems mounted on this host, for what is slow inside
 * libguestfs's emulated appliance: the guest's own initramfs tools and
 * update-grub, run in a chroot at native speed. The qcow2 overlay (or the
 * RBD clone) is exported as a raw file by qemu-storage-daemon over FUSE;
 * each partition is a loop device with an offset (loop devices here get no
 * partition nodes). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

#include "convert.h"
#include "native.h"
#include "run.h"
#include "util.h"

static int fail_cmd(struct conv *c, const char *what, const char *out)
{
	char line[300];

	return conv_fail(c, -EIO, "%s failed: %s", what, last_line(out, line, sizeof(line)));
}

/* One qemu-storage-daemon exports every disk's copy, disk i as
 * DIR/disk<i>.raw. */
static int export_start(struct conv *c, struct native *n)
{
	char blk[CONV_MAX_DISKS][2][1200], exp[CONV_MAX_DISKS][1200];
	const char *argv[6 * CONV_MAX_DISKS + 8];
	char *out = NULL;
	int rc, fd, a = 0;

	snprintf(n->pidfile, sizeof(n->pidfile), "%s/qsd.pid", n->dir);
	argv[a++] = "qemu-storage-daemon";
	for (int i = 0; i < c->opt->n_disks; i++) {
		char raw[sizeof(n->raw[0])];

		/* through a local: GCC cannot tell raw[i] from dir (-Wrestrict) */
		snprintf(raw, sizeof(raw), "%s/disk%d.raw", n->dir, i);
		memcpy(n->raw[i], raw, sizeof(raw));
		fd = open(n->raw[i], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			return conv_fail(c, -errno, "cannot create %s: %s", n->raw[i], strerror(errno));
		close(fd);
		n->n_raw = i + 1;
		if (c->opt->disks[i].rbd) {
			/* the clone through QEMU's rbd driver (qemu-block-extra):
			 * the configuration names the monitors and the keyring */
			struct rbd_name clone;

			if (rbd_name_parse(c->opt->disks[i].output, 0, &clone))
				return conv_fail(c, -EINVAL, "bad RBD name %s", c->opt->disks[i].output);
			snprintf(blk[i][0], sizeof(blk[i][0]), "driver=rbd,node-name=disk%d,pool=%s,image=%s,user=%s%s%s",
				 i, clone.pool, clone.image, c->opt->ceph_id ? c->opt->ceph_id : "admin",
				 c->opt->ceph_conf ? ",conf=" : "", c->opt->ceph_conf ? c->opt->ceph_conf : "");
		} else {
			snprintf(blk[i][0], sizeof(blk[i][0]), "driver=file,node-name=file%d,filename=%s", i,
				 c->opt->disks[i].output);
			snprintf(blk[i][1], sizeof(blk[i][1]), "driver=qcow2,node-name=disk%d,file=file%d", i, i);
		}
		snprintf(exp[i], sizeof(exp[i]), "type=fuse,id=exp%d,node-name=disk%d,mountpoint=%s,writable=on",
			 i, i, n->raw[i]);
		argv[a++] = "--blockdev";
		argv[a++] = blk[i][0];
		if (!c->opt->disks[i].rbd) {
			argv[a++] = "--blockdev";
			argv[a++] = blk[i][1];
		}
		argv[a++] = "--export";
		argv[a++] = exp[i];
	}
	argv[a++] = "--pidfile";
	argv[a++] = n->pidfile;
	argv[a++] = "--daemonize";
	argv[a] = NULL;
	rc = run_capture(argv, &out);
	if (rc) {
		rc = fail_cmd(c, "qemu-storage-daemon (FUSE export of the copy)", out);
		free(out);
		return rc;
	}
	free(out);
	n->exported = 1;
	return 0;
}

static int export_stop(struct native *n)
{
	FILE *f = fopen(n->pidfile, "re");
	int pid = 0;

	if (!n->exported)
		return 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	n->exported = 0;
	if (pid <= 0)
		return -ESRCH;
	kill(pid, SIGTERM);
	/* the overlay is complete only once the daemon has flushed and exited */
	for (int i = 0; i < 600 && kill(pid, 0) == 0; i++)
		usleep(100 * 1000);
	return kill(pid, 0) == 0 ? -ETIMEDOUT : 0;
}

/* The chroot's /dev: a tmpfs of its own with the few nodes the guest's
 * tools use, the loop devices under their names, and the by-uuid links
 * udev would make (grub-mkconfig writes root=UUID= only when
 * /dev/disk/by-uuid/UUID exists; this host may run no udev, and the host's
 * /dev must not change). */
static int private_dev(struct conv *c, struct native *n)
{
	static const struct { const char *name; unsigned maj, min; } chr[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 },
		{ "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	char dev[700], path[900], target[64];
	struct stat st;

	snprintf(dev, sizeof(dev), "%s/dev", n->root);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
		return conv_fail(c, -errno, "cannot mount a tmpfs on the chroot's /dev: %s", strerror(errno));
	snprintf(n->mounted[n->n_mounted++], sizeof(n->mounted[0]), "%s", dev);
	for (size_t i = 0; i < sizeof(chr) / sizeof(chr[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, chr[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(chr[i].maj, chr[i].min)) < 0)
			return conv_fail(c, -errno, "mknod %s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/disk", dev);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/disk/by-uuid", dev);
	mkdir(path, 0755);
	for (int i = 0; i < c->n_mounts; i++) {
		const struct conv_mount *m = &c->mounts[i];
		const char *loop, *name;

		if (n->loop_of[i] < 0)
			continue;
		loop = n->loops[n->loop_of[i]];
		name = strrchr(loop, '/') + 1;
		if (stat(loop, &st) < 0)
			return conv_fail(c, -errno, "stat %s: %s", loop, strerror(errno));
		snprintf(path, sizeof(path), "%s/%s", dev, name);
		if (mknod(path, S_IFBLK | 0660, st.st_rdev) < 0)
			return conv_fail(c, -errno, "mknod %s: %s", path, strerror(errno));
		if (m->uuid[0]) {
			snprintf(path, sizeof(path), "%s/disk/by-uuid/%s", dev, m->uuid);
			snprintf(target, sizeof(target), "../../%s", name);
			if (symlink(target, path) < 0)
				return conv_fail(c, -errno, "symlink %s: %s", path, strerror(errno));
		}
	}
	return 0;
}

/* where the guest's mount m is mounted on this host */
static void mount_target(const struct native *n, const struct conv_mount *m, char *out, size_t len)
{
	snprintf(out, len, "%s%s", n->root, strcmp(m->mountpoint, "/") ? m->mountpoint : "");
}

static int mount_all(struct conv *c, struct native *n)
{
	char *out = NULL;
	int rc = 0;

	snprintf(n->root, sizeof(n->root), "%s/root", n->dir);
	if (mkdir(n->root, 0700) < 0 && errno != EEXIST)
		return conv_fail(c, -errno, "cannot create %s", n->root);
	for (int i = 0; i < c->n_mounts; i++)
		n->loop_of[i] = -1;
	for (int i = 0; i < c->n_mounts && !rc; i++) {
		const struct conv_mount *m = &c->mounts[i];
		char off[32], lim[32], target[600];
		const char *los[] = { "losetup", "-f", "--show", "-o", off, "--sizelimit", lim, NULL, NULL };

		/* only what the guest's tools need (guest_inspect.c) */
		if (!m->native || m->disk < 0 || m->disk >= n->n_raw)
			continue;
		los[7] = n->raw[m->disk];
		snprintf(off, sizeof(off), "%llu", (unsigned long long)m->start);
		snprintf(lim, sizeof(lim), "%llu", (unsigned long long)m->size);
		rc = run_capture(los, &out);
		if (rc) {
			rc = fail_cmd(c, "losetup", out);
			break;
		}
		out[strcspn(out, "\n")] = '\0';
		n->loop_of[i] = n->n_loops;
		snprintf(n->loops[n->n_loops++], sizeof(n->loops[0]), "%s", out);
		free(out);
		out = NULL;
		mount_target(n, m, target, sizeof(target));
		{
			const char *mnt[] = { "mount", "-t", m->fstype, n->loops[n->n_loops - 1], target, NULL };

			rc = run_capture(mnt, &out);
		}
		if (rc) {
			rc = fail_cmd(c, "mount", out);
			break;
		}
		snprintf(n->mounted[n->n_mounted++], sizeof(n->mounted[0]), "%s", target);
		free(out);
		out = NULL;
	}
	free(out);
	if (!rc)
		rc = private_dev(c, n);
	for (int i = 0; i < 2 && !rc; i++) {
		static const char *const api[] = { "/proc", "/sys" };
		char target[600];
		const char *mnt[] = { "mount", "--rbind", api[i], target, NULL };

		snprintf(target, sizeof(target), "%s%s", n->root, api[i]);
		rc = run_capture(mnt, &out);
		if (rc)
			rc = fail_cmd(c, "mount --rbind", out);
		else
			snprintf(n->mounted[n->n_mounted++], sizeof(n->mounted[0]), "%s", target);
		free(out);
		out = NULL;
	}
	return rc;
}

/*
 * What the chroot wrote, made whole on the copy before anything is
 * unmounted: a freeze writes every dirty page and checkpoints the journal,
 * so the metadata is in place, not only in the journal. GRUB reads the
 * file system without replaying a journal: a grub.cfg rewritten here whose
 * new block map were only in the journal would boot with the old one (the
 * suspect in one e2e test launch that booted the source's root=/dev/sda1).
 * That needs the unmount below to fail (a process the chroot left holding
 * the mount), which ends lazily, possibly after the export has stopped.
 * A file system without freeze gets syncfs.
 */
static int settle_all(struct conv *c, struct native *n)
{
	for (int i = 0; i < c->n_mounts; i++) {
		const struct conv_mount *m = &c->mounts[i];
		char target[600];
		int fd, rc = 0;

		if (n->loop_of[i] < 0)
			continue;
		mount_target(n, m, target, sizeof(target));
		fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return conv_fail(c, -errno, "cannot open %s to flush it: %s", m->mountpoint, strerror(errno));
		if (ioctl(fd, FIFREEZE, 0) == 0) {
			if (ioctl(fd, FITHAW, 0) < 0)
				rc = -errno;
		} else if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EINVAL) {
			if (syncfs(fd) < 0)
				rc = -errno;
		} else {
			rc = -errno;
		}
		close(fd);
		if (rc)
			return conv_fail(c, rc, "cannot flush the copy's %s (%s): %s", m->mountpoint, m->fstype,
					 strerror(-rc));
	}
	return 0;
}

static void unmount_all(struct native *n)
{
	while (n->n_mounted > 0) {
		const char *um[] = { "umount", "-R", n->mounted[--n->n_mounted], NULL };

		if (run_capture(um, NULL)) {
			const char *lazy[] = { "umount", "-R", "-l", n->mounted[n->n_mounted], NULL };

			run_capture(lazy, NULL);
		}
	}
	while (n->n_loops > 0) {
		const char *det[] = { "losetup", "-d", n->loops[--n->n_loops], NULL };

		run_capture(det, NULL);
	}
}

int native_chroot(struct conv *c, struct native *n, const char *const *cmd, char **out)
{
	const char *argv[32] = { "chroot", n->root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				 "LANG=C.UTF-8", "HOME=/root" };
	int i = 7;

	(void)c;
	for (; *cmd && i < 31; cmd++)
		argv[i++] = *cmd;
	argv[i] = NULL;
	return run_capture(argv, out);
}

int native_convert(struct conv *c)
{
	struct native n = { 0 };
	char tmpl[512];
	int rc;

	snprintf(tmpl, sizeof(tmpl), "%s/livemig-convert.XXXXXX", c->opt->workdir ? c->opt->workdir : "/tmp");
	if (!mkdtemp(tmpl))
		return conv_fail(c, -errno, "cannot create a scratch directory %s: %s", tmpl, strerror(errno));
	snprintf(n.dir, sizeof(n.dir), "%s", tmpl);
	rc = export_start(c, &n);
	if (!rc)
		rc = mount_all(c, &n);
	if (!rc)
		rc = native_initramfs(c, &n);
	if (!rc)
		rc = native_grub(c, &n);
	if (!rc)
		rc = settle_all(c, &n);
	unmount_all(&n);
	if (export_stop(&n) && !rc)
		rc = conv_fail(c, -EIO, "qemu-storage-daemon did not stop: the copy may be incomplete");
	for (int i = 0; i < n.n_raw; i++)
		unlink(n.raw[i]);
	unlink(n.pidfile);
	rmdir(n.root);
	rmdir(n.dir);
	return rc;
}
