/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Can the change-tracking module (livemig_cbt) run here, and if not, why not
 * in words an operator can act on. Shared by livemigd (tracker = auto falls
 * back to `scan` with the reason) and `livemig check` (the secure-boot and
 * kmod-loadable checks). Secure Boot matters because a kernel that enforces
 * module signatures refuses a DKMS-built module until the key DKMS signs
 * with is enrolled as a Machine Owner Key.
 */
#ifndef LIVEMIG_KMOD_PROBE_H
#define LIVEMIG_KMOD_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define KMOD_NAME       "livemig_cbt"
#define KMOD_DEVICE     "/dev/livemig-cbt"
/* the package that ships the module's source for DKMS (debian/ and rpm/) */
#define KMOD_PACKAGE    "livemig-cbt-dkms"
/* where DKMS 3 keeps the key it signs modules with */
#define KMOD_DKMS_MOK   "/var/lib/dkms/mok.pub"
#define KMOD_MOK_REMEDY "mokutil --import " KMOD_DKMS_MOK \
	", reboot and enroll the key in MokManager (it asks for the password you chose)"

enum kmod_sb {
	KMOD_SB_UNKNOWN,
	KMOD_SB_NOT_EFI,  /* booted by BIOS: no Secure Boot */
	KMOD_SB_DISABLED,
	KMOD_SB_ENABLED,
};

const char *kmod_sb_name(enum kmod_sb s);
/* The SecureBoot EFI variable as efivarfs shows it: 4 bytes of attributes,
 * then the value (1 = enabled). */
enum kmod_sb kmod_sb_from_efivar(const uint8_t *buf, size_t len);
/* `mokutil --sb-state` output. */
enum kmod_sb kmod_sb_from_mokutil(const char *text);
/* Secure Boot state of the system whose root is host directory root ("/"
 * normally): efivarfs first, mokutil when that is unreadable (only for "/").
 * how says where the answer came from. */
enum kmod_sb kmod_secure_boot(const char *root, char *how, size_t n);

/* Turn modprobe's exit status (or -errno when it could not run) and output
 * into why (a clause) and remedy ("" when there is none to give). */
void kmod_explain_modprobe(int status, const char *output, enum kmod_sb sb, char *why,
			   size_t n, char *remedy, size_t rn);

/* Make KMOD_DEVICE exist: 0 if it does already or `modprobe livemig_cbt`
 * made it; otherwise -1 with why and remedy filled. */
int kmod_load(char *why, size_t n, char *remedy, size_t rn);

#endif
