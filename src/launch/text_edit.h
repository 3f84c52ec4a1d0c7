/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text edits of a conversion, apart from libguestfs: the guest's files
 * and serial output come from the replicated machine and are parsed here,
 * where a fuzz harness reaches them (tests/fuzz/fuzz_launch_text.c).
 * Returned strings are malloc'd (caller frees); NULL means out of memory. */
#ifndef LIVEMIG_LAUNCH_TEXT_EDIT_H
#define LIVEMIG_LAUNCH_TEXT_EDIT_H

#include <stddef.h>

/* 0 and the UUID for what spec (a bus device name) meant for mount point
 * mp, or nonzero when unknown. */
typedef int (*fstab_uuid_fn)(void *arg, const char *spec, const char *mp, char *uuid, size_t len);
/* told each rewritten entry; uuid NULL: commented out */
typedef void (*fstab_note_fn)(void *arg, const char *spec, const char *mp, const char *uuid);

/* 1 for a name that follows the disk's bus (/dev/sd*, hd*, vd*, xvd*, nvme*) */
int bus_device_name(const char *spec);

/* fstab with every bus-device entry by UUID (or commented out). *changed
 * says whether anything was rewritten. */
char *fstab_rewrite(const char *text, fstab_uuid_fn uuid_of, fstab_note_fn note, void *arg, int *changed);

/* /etc/default/grub (text may be NULL: absent) with
 * GRUB_DISABLE_LINUX_UUID=false and console=ttyS0 in GRUB_CMDLINE_LINUX */
char *grub_defaults_rewrite(const char *text);

/* /etc/hosts with the whole word old replaced by new */
char *hosts_rename(const char *hosts, const char *old_name, const char *new_name);

/* the IPv4 address in a first-boot marker's "addr=IF=A.B.C.D/N" into out;
 * 0, or -ENOENT */
int marker_address(const char *line, char *out, size_t len);

#endif
