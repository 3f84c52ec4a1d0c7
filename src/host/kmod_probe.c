// SPDX-License-Identifier: GPL-2.0-or-later
#include "kmod_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prereq_internal.h"
#include "util.h"

#define SB_VAR "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

const char *kmod_sb_name(enum kmod_sb s)
{
	switch (s) {
	case KMOD_SB_NOT_EFI: return "not an EFI boot";
	case KMOD_SB_DISABLED: return "disabled";
	case KMOD_SB_ENABLED: return "enabled";
	case KMOD_SB_UNKNOWN: break;
	}
	return "unknown";
}

enum kmod_sb kmod_sb_from_efivar(const uint8_t *buf, size_t len)
{
	if (len < 5)
		return KMOD_SB_UNKNOWN;
	return buf[4] == 1 ? KMOD_SB_ENABLED : KMOD_SB_DISABLED;
}

enum kmod_sb kmod_sb_from_mokutil(const char *text)
{
	if (strstr(text, "SecureBoot enabled"))
		return KMOD_SB_ENABLED;
	if (strstr(text, "SecureBoot disabled"))
		return KMOD_SB_DISABLED;
	if (strstr(text, "not supported"))
		return KMOD_SB_NOT_EFI;
	return KMOD_SB_UNKNOWN;
}

/* The first of paths that is executable, or NULL. */
static const char *find_program(const char *const *paths)
{
	for (; *paths; paths++)
		if (!access(*paths, X_OK))
			return *paths;
	return NULL;
}

enum kmod_sb kmod_secure_boot(const char *root, char *how, size_t n)
{
	static const char *const mokutil[] = { "/usr/bin/mokutil", "/bin/mokutil", NULL };
	const char *r = strcmp(root, "/") ? root : "";
	char path[PATH_MAX], out[512];
	uint8_t buf[16];
	const char *prog;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/sys/firmware/efi", r);
	if (access(path, F_OK)) {
		snprintf(how, n, "no /sys/firmware/efi");
		return KMOD_SB_NOT_EFI;
	}
	snprintf(path, sizeof(path), "%s%s", r, SB_VAR);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (len >= 5) {
			snprintf(how, n, "EFI variable SecureBoot");
			return kmod_sb_from_efivar(buf, (size_t)len);
		}
	} else if (errno == ENOENT) {
		/* firmware without the variable has no Secure Boot to enforce */
		snprintf(path, sizeof(path), "%s/sys/firmware/efi/efivars", r);
		if (!access(path, F_OK)) {
			snprintf(how, n, "no SecureBoot EFI variable");
			return KMOD_SB_DISABLED;
		}
	}
	prog = r[0] ? NULL : find_program(mokutil);
	if (prog) {
		char *argv[] = { (char *)prog, "--sb-state", NULL };

		if (prereq_capture(argv, out, sizeof(out), 10000) >= 0) {
			snprintf(how, n, "mokutil --sb-state");
			return kmod_sb_from_mokutil(out);
		}
	}
	snprintf(how, n, "efivarfs not readable and no mokutil");
	return KMOD_SB_UNKNOWN;
}

void kmod_explain_modprobe(int status, const char *out, enum kmod_sb sb, char *why, size_t n,
			   char *remedy, size_t rn)
{
	remedy[0] = '\0';
	if (status == -ENOENT) {
		snprintf(why, n, "modprobe is not installed");
		snprintf(remedy, rn, "apt-get install kmod (Debian/Ubuntu) or yum install kmod");
	} else if (status < 0) {
		snprintf(why, n, "modprobe could not run: %s", strerror(-status));
		snprintf(remedy, rn, "run modprobe %s as root to see why", KMOD_NAME);
	} else if (strstr(out, "Key was rejected") || strstr(out, "Required key not available") ||
		   (sb == KMOD_SB_ENABLED && strstr(out, "Operation not permitted"))) {
		snprintf(why, n, "Secure Boot rejected the module: it is not signed by an "
			 "enrolled key");
		snprintf(remedy, rn, "%s", KMOD_MOK_REMEDY);
	} else if (strstr(out, "not found")) {
		snprintf(why, n, "module %s is not built for this kernel (no DKMS build: kernel "
			 "headers missing, or the " KMOD_PACKAGE " package is not installed)",
			 KMOD_NAME);
		snprintf(remedy, rn, "install this kernel's headers and the " KMOD_PACKAGE
			 " package, then run dkms autoinstall");
	} else if (strstr(out, "Function not implemented")) {
		snprintf(why, n, "this kernel cannot load modules");
		snprintf(remedy, rn, "boot a kernel built with module support (CONFIG_MODULES), "
			 "or keep the scan tracker (tracker = scan)");
	} else if (strstr(out, "Invalid module format") || strstr(out, "Exec format error")) {
		snprintf(why, n, "the installed module was built for another kernel");
		snprintf(remedy, rn, "dkms autoinstall (rebuilds it for the running kernel)");
	} else if (strstr(out, "Operation not permitted")) {
		snprintf(why, n, "loading modules is not permitted (not root, or the kernel is "
			 "locked down)");
		snprintf(remedy, rn, "run as root; if /sys/kernel/security/lockdown says "
			 "[integrity] or [confidentiality], boot without lockdown or keep the scan "
			 "tracker (tracker = scan)");
	} else {
		size_t len = strcspn(out, "\n");

		snprintf(why, n, "modprobe %s failed (status %d): %.*s", KMOD_NAME, status,
			 (int)len, out);
		snprintf(remedy, rn, "run modprobe %s as root for the whole message", KMOD_NAME);
	}
}

int kmod_load(char *why, size_t n, char *remedy, size_t rn)
{
	static const char *const modprobe[] = { "/usr/sbin/modprobe", "/sbin/modprobe", NULL };
	char out[1024], how[64];
	const char *prog;
	int status;

	if (!access(KMOD_DEVICE, F_OK))
		return 0;
	prog = find_program(modprobe);
	out[0] = '\0';
	if (!prog) {
		status = -ENOENT;
	} else {
		char *argv[] = { (char *)prog, KMOD_NAME, NULL };

		status = prereq_capture(argv, out, sizeof(out), 60000);
	}
	/* udev may create the node a moment after the module registered it */
	for (int i = 0; status == 0 && i < 50 && access(KMOD_DEVICE, F_OK); i++)
		sleep_ns(20000000);
	if (!access(KMOD_DEVICE, F_OK))
		return 0;
	if (status == 0) {
		snprintf(why, n, "modprobe %s succeeded but %s did not appear", KMOD_NAME,
			 KMOD_DEVICE);
		snprintf(remedy, rn, "check that udev runs (systemctl status systemd-udevd) and "
			 "that dmesg shows no %s error", KMOD_NAME);
		return -1;
	}
	kmod_explain_modprobe(status, out, kmod_secure_boot("/", how, sizeof(how)), why, n,
			      remedy, rn);
	return -1;
}
