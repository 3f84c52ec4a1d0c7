// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every disk, through libudev: kernel name, device node, size, model,
 * serial, rotational, removable and its partitions. Without a running udev
 * daemon there is no udev database and so no ID_* properties; libudev still
 * enumerates from sysfs, and model and serial then come from sysfs
 * attributes, or are null.
 *
 * Left out: RAM disks (ram*, zram*: their contents are not kept), loop
 * devices with no backing file (nothing attached), and disks of size 0 (no
 * medium). Device-mapper and md devices, whose data lives on the disks in
 * their slaves/, go to "stacked_devices" instead. Attached loop devices are
 * listed, marked virtual, as are other devices under /sys/devices/virtual.
 */
#include <dirent.h>
#include <errno.h>
#include <libudev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory_internal.h"
#include "sysfs_attr.h"

#define SECTOR 512 /* sysfs sizes and starts count 512-byte sectors, always */

/* A sysfs attribute of d, cleaned; NULL when absent or empty. */
static const char *sysattr(struct udev_device *d, const char *name, char *buf, size_t len)
{
	const char *v = udev_device_get_sysattr_value(d, name);

	if (!v)
		return NULL;
	snprintf(buf, len, "%s", v);
	attr_clean(buf);
	return buf[0] ? buf : NULL;
}

static uint64_t sysattr_u64(struct udev_device *d, const char *name)
{
	const char *v = udev_device_get_sysattr_value(d, name);

	return v ? strtoull(v, NULL, 10) : 0;
}

static int sysattr_flag(struct udev_device *d, const char *name)
{
	const char *v = udev_device_get_sysattr_value(d, name);

	return v && v[0] == '1';
}

/* The first of the udev properties, else the first of the sysfs attributes
 * (NULL-terminated lists), cleaned; NULL when none has a value. */
static const char *first_of(struct udev_device *d, const char *const *props,
			    const char *const *attrs, char *buf, size_t len)
{
	for (; *props; props++) {
		const char *v = udev_device_get_property_value(d, *props);

		if (v && *v) {
			snprintf(buf, len, "%s", v);
			attr_clean(buf);
			if (buf[0])
				return buf;
		}
	}
	for (; *attrs; attrs++)
		if (sysattr(d, *attrs, buf, len))
			return buf;
	return NULL;
}

/* Names in syspath/slaves, as a JSON array (empty for a plain disk). */
static json_t *slaves_of(const char *syspath)
{
	char path[4096];
	json_t *a = json_array();
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/slaves", syspath);
	if (!a || !(dir = opendir(path)))
		return a;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			json_array_append_new(a, json_string(de->d_name));
	closedir(dir);
	return a;
}

static int part_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "number"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "number"));

	return (x > y) - (x < y);
}

static int name_cmp(const void *a, const void *b)
{
	return strverscmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
			  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Replace array a's items by the same items in qsort order. */
static int sort_array(json_t *a, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(a);
	json_t **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
	return 0;
}

static const char *devnode(struct udev_device *d, char *buf, size_t len)
{
	const char *n = udev_device_get_devnode(d);

	if (n)
		return n;
	/* cciss!c0d0 is /dev/cciss/c0d0 */
	snprintf(buf, len, "/dev/%s", udev_device_get_sysname(d));
	for (char *p = buf; *p; p++)
		if (*p == '!')
			*p = '/';
	return buf;
}

static json_t *partitions_of(struct udev *u, struct udev_device *disk)
{
	struct udev_enumerate *e = udev_enumerate_new(u);
	struct udev_list_entry *le;
	json_t *parts = json_array();

	if (!e || !parts)
		goto fail;
	if (udev_enumerate_add_match_parent(e, disk) < 0 ||
	    udev_enumerate_add_match_subsystem(e, "block") < 0 || udev_enumerate_scan_devices(e) < 0)
		goto fail;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *p = udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		const char *type = p ? udev_device_get_devtype(p) : NULL;
		char nodebuf[300];
		json_t *o;

		if (!type || strcmp(type, "partition")) {
			udev_device_unref(p);
			continue;
		}
		o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", udev_device_get_sysname(p),
			      "device", devnode(p, nodebuf, sizeof(nodebuf)), "number",
			      (json_int_t)sysattr_u64(p, "partition"), "start",
			      (json_int_t)(sysattr_u64(p, "start") * SECTOR), "size",
			      (json_int_t)(sysattr_u64(p, "size") * SECTOR));
		udev_device_unref(p);
		if (!o || json_array_append_new(parts, o))
			goto fail;
	}
	udev_enumerate_unref(e);
	if (sort_array(parts, part_cmp))
		goto fail_parts;
	return parts;
fail:
	udev_enumerate_unref(e);
fail_parts:
	json_decref(parts);
	return NULL;
}

static const char *const model_props[] = { "ID_MODEL", NULL };
static const char *const model_attrs[] = { "device/model", NULL };
static const char *const vendor_props[] = { "ID_VENDOR", NULL };
static const char *const vendor_attrs[] = { "device/vendor", NULL };
static const char *const serial_props[] = { "ID_SERIAL_SHORT", "ID_SERIAL", NULL };
/* virtio: serial; NVMe: device/serial (the controller's) */
static const char *const serial_attrs[] = { "serial", "device/serial", NULL };
/* SCSI and NVMe world-wide names, when nothing better is known */
static const char *const wwid_attrs[] = { "wwid", "device/wwid", NULL };
static const char *const none[] = { NULL };

/* A SCSI or SATA disk's serial number from its Unit Serial Number VPD page
 * (0x80), which the kernel caches in sysfs: a 4-byte header whose bytes 2-3
 * give the length, then the ASCII serial. What udev's scsi_id would report. */
const char *inv_vpd_serial(const char *syspath, char *buf, size_t len)
{
	unsigned char page[256];
	char path[4096];
	size_t n, plen;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/device/vpd_pg80", syspath) >= (int)sizeof(path))
		return NULL;
	f = fopen(path, "rbe");
	if (!f)
		return NULL;
	n = fread(page, 1, sizeof(page), f);
	fclose(f);
	if (n < 4 || page[1] != 0x80)
		return NULL;
	plen = (size_t)page[2] << 8 | page[3];
	if (plen > n - 4)
		plen = n - 4;
	if (plen >= len)
		plen = len - 1;
	memcpy(buf, page + 4, plen);
	buf[plen] = '\0';
	attr_clean(buf);
	return buf[0] ? buf : NULL;
}

/* The driver of the nearest ancestor that has one: virtio_blk, sd, nvme... */
static const char *driver_of(struct udev_device *d)
{
	for (struct udev_device *p = udev_device_get_parent(d); p; p = udev_device_get_parent(p)) {
		const char *drv = udev_device_get_driver(p);

		if (drv)
			return drv;
	}
	return NULL;
}

/* One disk as JSON, or NULL and *skip set when it is left out. */
static json_t *disk_json(struct udev *u, struct udev_device *d, json_t *stacked, int *skip)
{
	const char *name = udev_device_get_sysname(d), *syspath = udev_device_get_syspath(d);
	char model[256], vendor[256], serial[256], backing[4096], nodebuf[300];
	uint64_t size = sysattr_u64(d, "size") * SECTOR;
	int is_loop = !strncmp(name, "loop", 4);
	const char *ser;
	json_t *o, *slaves, *parts;

	*skip = 1;
	if (!strncmp(name, "ram", 3) || !strncmp(name, "zram", 4))
		return NULL;
	if (is_loop && !sysattr(d, "loop/backing_file", backing, sizeof(backing)))
		return NULL;
	if (size == 0)
		return NULL;
	slaves = slaves_of(syspath);
	if (!slaves)
		return NULL;
	if (json_array_size(slaves)) {
		o = json_pack("{s:s, s:s, s:I, s:o}", "name", name, "device",
			      devnode(d, nodebuf, sizeof(nodebuf)), "size", (json_int_t)size,
			      "slaves", slaves);
		*skip = !o || json_array_append_new(stacked, o) ? -1 : 1;
		return NULL;
	}
	json_decref(slaves);
	ser = first_of(d, serial_props, serial_attrs, serial, sizeof(serial));
	if (!ser)
		ser = inv_vpd_serial(syspath, serial, sizeof(serial));
	if (!ser)
		ser = first_of(d, none, wwid_attrs, serial, sizeof(serial));
	parts = partitions_of(u, d);
	if (!parts) {
		*skip = -1;
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:b, s:I, s:o}", "name",
		      name, "device", devnode(d, nodebuf, sizeof(nodebuf)), "size", (json_int_t)size,
		      "model", inv_str_or_null(first_of(d, model_props, model_attrs, model, sizeof(model))),
		      "vendor",
		      inv_str_or_null(first_of(d, vendor_props, vendor_attrs, vendor, sizeof(vendor))),
		      "serial", inv_str_or_null(ser),
		      "driver", inv_str_or_null(driver_of(d)), "rotational",
		      sysattr_flag(d, "queue/rotational"), "removable", sysattr_flag(d, "removable"),
		      "read_only", sysattr_flag(d, "ro"), "virtual",
		      strstr(syspath, "/devices/virtual/") != NULL, "logical_block_size",
		      (json_int_t)sysattr_u64(d, "queue/logical_block_size"), "partitions", parts);
	if (!o) {
		*skip = -1;
		return NULL;
	}
	if (is_loop && json_object_set_new(o, "backing_file", json_string(backing))) {
		json_decref(o);
		*skip = -1;
		return NULL;
	}
	if (json_object_set_new(o, "root", json_false())) {
		json_decref(o);
		*skip = -1;
		return NULL;
	}
	*skip = 0;
	return o;
}

int inv_disks(json_t *doc, json_t *warnings)
{
	json_t *disks = json_array(), *stacked = json_array();
	struct udev_list_entry *le;
	struct udev_enumerate *e;
	struct udev *u;
	int rc = -ENOMEM;

	if (!disks || !stacked)
		goto out;
	u = udev_new();
	if (!u) {
		inv_warn(warnings, "disks: libudev unusable (udev_new failed)");
		rc = -ENODEV;
		goto out;
	}
	e = udev_enumerate_new(u);
	if (!e || udev_enumerate_add_match_subsystem(e, "block") < 0 ||
	    udev_enumerate_scan_devices(e) < 0) {
		inv_warn(warnings, "disks: libudev cannot enumerate block devices");
		rc = -ENODEV;
		goto out_udev;
	}
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *d = udev_device_new_from_syspath(u, udev_list_entry_get_name(le));
		const char *type = d ? udev_device_get_devtype(d) : NULL;
		json_t *o = NULL;
		int skip = 1;

		if (type && !strcmp(type, "disk"))
			o = disk_json(u, d, stacked, &skip);
		udev_device_unref(d);
		if (skip < 0)
			goto out_udev;
		if (o && json_array_append_new(disks, o))
			goto out_udev;
	}
	if (sort_array(disks, name_cmp) || sort_array(stacked, name_cmp))
		goto out_udev;
	rc = json_object_set(doc, "disks", disks) || json_object_set(doc, "stacked_devices", stacked) ?
		     -ENOMEM : 0;
out_udev:
	udev_enumerate_unref(e);
	udev_unref(u);
out:
	json_decref(disks);
	json_decref(stacked);
	return rc;
}
