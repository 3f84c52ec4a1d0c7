/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of the inventory, one file each; separate so tests reach them. */
#ifndef LIVEMIG_INVENTORY_INTERNAL_H
#define LIVEMIG_INVENTORY_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

/* Each part adds its keys to doc and explains what it could not read by
 * appending strings to warnings. 0 or -ENOMEM (-errno for disks). */

/* hostname, machine_id, memory_bytes, cores, cpu_model, kernel */
int inv_system(json_t *doc, json_t *warnings, const char *sysfs, const char *proc,
	       const char *machine_id_path);
/* os: from os-release (path NULL: /etc/os-release, then /usr/lib/os-release) */
int inv_os(json_t *doc, json_t *warnings, const char *path);
/* hardware: DMI, or the device tree's model where there is no DMI */
int inv_hardware(json_t *doc, json_t *warnings, const char *sysfs);
/* disks and stacked_devices, through libudev */
int inv_disks(json_t *doc, json_t *warnings);
/* nics, through getifaddrs */
int inv_nics(json_t *doc, json_t *warnings, const char *sysfs);
/* root_mount and root_disks; sets "root": true on the disks listed in doc */
int inv_root(json_t *doc, json_t *warnings, const char *sysfs, const char *proc);

/*
 * The physical disks under block device major:minor: a partition leads to
 * its disk, a device-mapper or md device to every device in its slaves/,
 * recursively. Appends kernel names ("sda") to names, each once.
 * 0, or -errno with err set (a missing device, a loop deeper than 16).
 */
int inv_root_walk(const char *sysfs, unsigned major, unsigned minor, json_t *names, char *err,
		  size_t errlen);

/* The serial number in syspath/device/vpd_pg80 (SCSI Unit Serial Number
 * page), cleaned, in buf; NULL when there is none. */
const char *inv_vpd_serial(const char *syspath, char *buf, size_t len);

/* "0-3,6,8-9" -> 7; -EINVAL for anything else. */
int inv_count_cpu_list(const char *s);

/* Appends a printf-formatted message to the warnings array. */
void inv_warn(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A string, or JSON null for NULL: "not known" is explicit in the document. */
json_t *inv_str_or_null(const char *s);

#endif
