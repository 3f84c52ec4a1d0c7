/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the agent collects about its machine (seed: host name and ID, RAM and
 * cores, hardware and OS, disks and their sizes with Linux block device
 * names), plus NICs and the disks holding "/". docs/inventory.md describes
 * every field of the JSON document.
 */
#ifndef LIVEMIG_INVENTORY_H
#define LIVEMIG_INVENTORY_H

#include <jansson.h>
#include <stddef.h>

#define INVENTORY_SCHEMA 1

struct inventory_options {
	const char *sysfs;      /* NULL = "/sys" (DMI, CPUs, NICs, the root walk) */
	const char *proc;       /* NULL = "/proc" (meminfo, cpuinfo, mountinfo) */
	const char *os_release; /* NULL = /etc/os-release, else /usr/lib/os-release */
	const char *machine_id; /* NULL = /etc/machine-id */
};

/*
 * The inventory document. A part that cannot be read is null (or empty) and
 * explained in "warnings"; NULL with err set only when nothing sensible can
 * be returned (out of memory, libudev unusable). Disks come from libudev,
 * which always reads the running kernel's /sys whatever o->sysfs says.
 * o may be NULL.
 */
json_t *inventory_collect(const struct inventory_options *o, char *err, size_t errlen);

#endif
