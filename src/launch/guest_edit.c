// SPDX-License-Identifier: GPL-2.0-or-later
/* The edits made through libguestfs: fstab by UUID, GRUB's defaults, the
 * UEFI fallback path, the agent disabled, the identity of a test launch,
 * and the first-boot unit. The network is guest_network.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_files.h"
#include "text_edit.h"
#include "util.h"

static const struct conv_mount *mount_at(const struct conv *c, const char *mp)
{
	for (int i = 0; i < c->n_mounts; i++)
		if (!strcmp(c->mounts[i].mountpoint, mp))
			return &c->mounts[i];
	return NULL;
}

/* the UUID of what a device name meant on the source (swap too) */
static int uuid_of_spec(void *arg, const char *spec, const char *mp, char *uuid, size_t len)
{
	struct conv *c = arg;
	const struct conv_mount *m = mount_at(c, mp);
	char *dev, *u;

	if (m && m->uuid[0]) {
		snprintf(uuid, len, "%s", m->uuid);
		return 0;
	}
	dev = guestfs_canonical_device_name(c->g, spec);
	u = dev ? guestfs_vfs_uuid(c->g, dev) : NULL;
	free(dev);
	if (!u || !u[0]) {
		free(u);
		return -ENOENT;
	}
	snprintf(uuid, len, "%s", u);
	free(u);
	return 0;
}

static void fstab_note(void *arg, const char *spec, const char *mp, const char *uuid)
{
	if (uuid)
		conv_change(arg, "fstab", "/etc/fstab", "%s -> UUID=%s (%s)", spec, uuid, mp);
	else
		conv_change(arg, "fstab", "/etc/fstab", "%s (%s) commented out: no UUID found", spec, mp);
}

static int fstab_by_uuid(struct conv *c)
{
	char *text = gf_read(c, "/etc/fstab"), *out;
	int changed, rc = 0;

	if (!text)
		return 0;
	out = fstab_rewrite(text, uuid_of_spec, fstab_note, c, &changed);
	if (!out)
		rc = conv_fail(c, -ENOMEM, "out of memory rewriting /etc/fstab");
	else if (changed)
		rc = gf_write(c, "/etc/fstab", out, 0644);
	free(out);
	free(text);
	return rc;
}

/* /etc/default/grub: root by UUID (update-grub writes root=UUID=...), the
 * kernel's console also on the first serial port (the launch watches it).
 * update-grub itself runs natively (native.c). */
static int grub_defaults(struct conv *c)
{
	char *text = gf_read(c, "/etc/default/grub"), *out = grub_defaults_rewrite(text);
	int rc;

	rc = out ? gf_write(c, "/etc/default/grub", out, 0644) : conv_fail(c, -ENOMEM, "out of memory");
	if (!rc)
		conv_change(c, "boot-loader", "/etc/default/grub", "%s: GRUB_DISABLE_LINUX_UUID=false (root by "
			    "UUID), console on ttyS0", text ? "edited" : "created");
	free(out);
	free(text);
	return rc;
}

/* A new UEFI machine has no boot entry for the guest: give its loader the
 * removable-media path the firmware tries by itself. */
static int uefi_fallback(struct conv *c)
{
	static const char *const order[] = { "shimx64.efi", "grubx64.efi", NULL };
	char **dirs;
	int rc = 0;

	if (c->firmware != FW_UEFI || gf_exists(c, "/boot/efi/EFI/BOOT/BOOTX64.EFI"))
		return 0;
	dirs = gf_glob(c, "/boot/efi/EFI/*/");
	for (const char *const *name = order; *name && !rc; name++)
		for (char **d = dirs; d && *d; d++) {
			char src[512], grub[512];

			snprintf(src, sizeof(src), "%s%s", *d, *name);
			if (strstr(*d, "/EFI/BOOT/") || !gf_is_file(c, src))
				continue;
			if (guestfs_mkdir_p(c->g, "/boot/efi/EFI/BOOT") < 0 ||
			    guestfs_cp(c->g, src, "/boot/efi/EFI/BOOT/BOOTX64.EFI") < 0) {
				rc = conv_fail(c, -EIO, "cannot copy %s to EFI/BOOT: %s", src,
					       guestfs_last_error(c->g));
				break;
			}
			/* shim loads grubx64.efi from its own directory */
			snprintf(grub, sizeof(grub), "%sgrubx64.efi", *d);
			if (!strcmp(*name, "shimx64.efi") && gf_is_file(c, grub))
				guestfs_cp(c->g, grub, "/boot/efi/EFI/BOOT/grubx64.efi");
			conv_change(c, "boot-loader", "/boot/efi/EFI/BOOT/BOOTX64.EFI",
				    "copied from %s: the fallback path a new UEFI NVRAM boots", src);
			rc = 1;
			break;
		}
	gf_free_strv(dirs);
	if (rc == 1)
		return 0;
	if (!rc)
		return conv_fail(c, -ENOENT, "UEFI guest without a boot loader in /boot/efi/EFI/*/ "
				 "(shimx64.efi or grubx64.efi)");
	return rc;
}

/* The copy must not act as the source: no agent, no change tracking, no
 * credentials to the console or staging. */
static int agent_disable(struct conv *c)
{
	static const char *const units[] = { "livemigd.service", "livemig-register.service", NULL };
	static const char *const secrets[] = { "/etc/livemig/agent.key", "/etc/livemig/agent.pem",
					       "/etc/livemig/token", NULL };
	char **links;
	int rc = 0;

	links = gf_glob(c, "/etc/systemd/system/*.wants/livemig*");
	for (char **l = links; l && *l && !rc; l++)
		rc = gf_remove(c, "agent", *l, "the agent must not start in the launched copy");
	gf_free_strv(links);
	for (const char *const *u = units; *u && !rc; u++) {
		char path[256];

		snprintf(path, sizeof(path), "/etc/systemd/system/%s", *u);
		if (gf_is_file(c, path))
			rc = gf_set_aside(c, "agent", path, "replaced by a mask");
		if (!rc && guestfs_ln_sf(c->g, "/dev/null", path) < 0)
			rc = conv_fail(c, -EIO, "cannot mask %s: %s", *u, guestfs_last_error(c->g));
		if (!rc)
			conv_change(c, "agent", path, "masked (-> /dev/null)");
	}
	if (rc)
		return rc;
	links = gf_glob(c, "/etc/modules-load.d/*livemig*");
	for (char **l = links; l && *l && !rc; l++)
		rc = gf_remove(c, "agent", *l, "livemig_cbt is not loaded in the launched copy");
	gf_free_strv(links);
	if (!rc && guestfs_mkdir_p(c->g, "/etc/modprobe.d") == 0)
		rc = gf_write(c, "/etc/modprobe.d/livemig-launched.conf",
			      "# livemig: this is a launched copy, not the replicated source\n"
			      "blacklist livemig_cbt\ninstall livemig_cbt /bin/false\n", 0644);
	if (!rc)
		conv_change(c, "agent", "/etc/modprobe.d/livemig-launched.conf", "livemig_cbt blacklisted");
	for (const char *const *s = secrets; *s && !rc; s++)
		if (gf_exists(c, *s))
			rc = gf_remove(c, "credentials", *s, "the source's credential to the console or staging");
	if (!rc && guestfs_is_dir(c->g, "/var/lib/livemig") > 0) {
		if (guestfs_rm_rf(c->g, "/var/lib/livemig") < 0)
			return conv_fail(c, -EIO, "cannot remove /var/lib/livemig: %s", guestfs_last_error(c->g));
		conv_change(c, "credentials", "/var/lib/livemig", "removed: the agent's state and keys");
	}
	return rc;
}

/* A test launch runs beside the source: its own name and machine-id. */
static int test_identity(struct conv *c)
{
	const char *suffix = c->opt->hostname_suffix ? c->opt->hostname_suffix : "-test";
	char name[256], line[400], id[33];
	uint8_t raw[16];
	char *hosts;
	int rc;

	if (c->opt->purpose != PURPOSE_TEST)
		return 0;
	snprintf(name, sizeof(name), "%.*s%s", (int)(63 - strlen(suffix)),
		 c->hostname[0] ? c->hostname : "launched", suffix);
	snprintf(line, sizeof(line), "%s\n", name);
	rc = gf_write(c, "/etc/hostname", line, 0644);
	if (rc)
		return rc;
	conv_change(c, "identity", "/etc/hostname", "%s -> %s", c->hostname, name);
	hosts = gf_read(c, "/etc/hosts");
	if (hosts && c->hostname[0]) {
		char *out = hosts_rename(hosts, c->hostname, name);

		rc = out ? gf_write(c, "/etc/hosts", out, 0644) : conv_fail(c, -ENOMEM, "out of memory");
		if (!rc)
			conv_change(c, "identity", "/etc/hosts", "%s -> %s", c->hostname, name);
		free(out);
	}
	free(hosts);
	snprintf(c->hostname, sizeof(c->hostname), "%s", name);
	if (rc)
		return rc;
	rc = random_bytes(raw, sizeof(raw));
	if (rc)
		return conv_fail(c, rc, "no random source for a machine-id");
	raw[6] = (raw[6] & 0x0f) | 0x40; /* a v4 UUID, as systemd makes them */
	raw[8] = (raw[8] & 0x3f) | 0x80;
	hex_encode(raw, sizeof(raw), id);
	snprintf(line, sizeof(line), "%s\n", id);
	rc = gf_write(c, "/etc/machine-id", line, 0444);
	if (rc)
		return rc;
	conv_change(c, "identity", "/etc/machine-id", "new machine-id %s", id);
	if (gf_is_file(c, "/var/lib/dbus/machine-id"))
		rc = gf_remove(c, "identity", "/var/lib/dbus/machine-id", "D-Bus takes /etc/machine-id");
	return rc;
}

/* The boot verification: once multi-user.target is active and an IPv4
 * address is configured, one line on the serial console; then the unit
 * removes itself. It reaches for nothing on the network. */
static const char firstboot_script[] =
	"#!/bin/sh\n"
	"# livemig first boot: say on the serial console that the launched copy is up\n"
	"token=%s\n"
	"result=no-network\n"
	"i=0\n"
	"while [ $i -lt 900 ]; do\n"
	"\tst=$(systemctl is-active multi-user.target)\n"
	"\taddr=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ if (!a) a = $2 \"=\" $4 } END { print a }')\n"
	"\tif [ \"$st\" = active ] && [ -n \"$addr\" ]; then result=up; break; fi\n"
	"\tsleep 1\n"
	"\ti=$((i + 1))\n"
	"done\n"
	/* fstab's file systems, mounted or not: a data disk left behind shows */
	"mounted=; unmounted=\n"
	"for t in $(findmnt --fstab -n -o TARGET 2>/dev/null); do\n"
	"\tcase $t in /*) ;; *) continue ;; esac\n"
	"\tif mountpoint -q \"$t\"; then mounted=\"$mounted${mounted:+,}$t\"; else unmounted=\"$unmounted${unmounted:+,}$t\"; fi\n"
	"done\n"
	"msg=\"" FIRSTBOOT_MARKER " token=$token result=$result host=$(hostname) addr=${addr:-none}"
	" livemigd=$(systemctl is-active livemigd.service) mounted=${mounted:-none} unmounted=${unmounted:-none}\"\n"
	"for tty in /dev/ttyS0 /dev/console; do echo \"$msg\" >\"$tty\" 2>/dev/null; done\n"
	"rm -f /etc/systemd/system/multi-user.target.wants/livemig-firstboot.service \\\n"
	"\t/etc/systemd/system/livemig-firstboot.service /usr/local/sbin/livemig-firstboot\n";

static const char firstboot_unit[] =
	"[Unit]\n"
	"Description=livemig: report the launched copy up on the serial console (runs once)\n"
	"Wants=network-online.target\n"
	"After=network-online.target\n"
	"\n"
	"[Service]\n"
	/* simple, not oneshot: multi-user.target must not wait for us */
	"Type=simple\n"
	"ExecStart=/usr/local/sbin/livemig-firstboot\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

static int firstboot(struct conv *c)
{
	char script[sizeof(firstboot_script) + 64];
	int rc;

	snprintf(script, sizeof(script), firstboot_script, c->token);
	if (guestfs_mkdir_p(c->g, "/usr/local/sbin") < 0 ||
	    guestfs_mkdir_p(c->g, "/etc/systemd/system/multi-user.target.wants") < 0)
		return conv_fail(c, -EIO, "cannot create the first-boot unit's directories: %s",
				 guestfs_last_error(c->g));
	rc = gf_write(c, "/usr/local/sbin/livemig-firstboot", script, 0755);
	if (!rc)
		rc = gf_write(c, "/etc/systemd/system/livemig-firstboot.service", firstboot_unit, 0644);
	if (!rc && guestfs_ln_sf(c->g, "/etc/systemd/system/livemig-firstboot.service",
				 "/etc/systemd/system/multi-user.target.wants/livemig-firstboot.service") < 0)
		rc = conv_fail(c, -EIO, "cannot enable the first-boot unit: %s", guestfs_last_error(c->g));
	if (!rc)
		conv_change(c, "first-boot", "/etc/systemd/system/livemig-firstboot.service",
			    "prints \"" FIRSTBOOT_MARKER " token=%s ...\" on ttyS0 when multi-user and "
			    "IPv4 are up, then removes itself", c->token);
	return rc;
}

int guest_edit(struct conv *c)
{
	int rc;

	if (guestfs_is_dir(c->g, "/etc/systemd/system") <= 0)
		return conv_fail(c, -ENOTSUP, "the guest does not use systemd (its first-boot unit and "
				 "the agent's unit are systemd units)");
	rc = fstab_by_uuid(c);
	if (!rc)
		rc = grub_defaults(c);
	if (!rc)
		rc = uefi_fallback(c);
	if (!rc)
		rc = guest_network_reset(c);
	if (!rc)
		rc = agent_disable(c);
	if (!rc)
		rc = test_identity(c);
	if (!rc)
		rc = firstboot(c);
	return rc;
}
