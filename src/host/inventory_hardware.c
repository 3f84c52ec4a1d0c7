// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The machine's maker and model from SMBIOS/DMI (sysfs class/dmi/id), or
 * from the device tree on machines without DMI (most ARM boards). Serial
 * numbers and the UUID are readable by root only; as another user they are
 * null and a warning says why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inventory_internal.h"
#include "sysfs_attr.h"

static const struct {
	const char *attr, *field;
} dmi[] = {
	{ "sys_vendor", "vendor" },
	{ "product_name", "product" },
	{ "product_version", "version" },
	{ "product_serial", "serial" },
	{ "product_uuid", "uuid" },
	{ "board_vendor", "board_vendor" },
	{ "board_name", "board_name" },
	{ "bios_vendor", "bios_vendor" },
	{ "bios_version", "bios_version" },
};

int inv_hardware(json_t *doc, json_t *warnings, const char *sysfs)
{
	json_t *hw = json_object();
	char dir[4096], val[256];
	const char *source = NULL;
	int rc;

	if (!hw)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s/class/dmi/id", sysfs);
	if (access(dir, F_OK) == 0)
		source = "dmi";
	for (size_t i = 0; i < sizeof(dmi) / sizeof(dmi[0]); i++) {
		json_t *v = json_null();

		if (source) {
			rc = attr_readf(val, sizeof(val), "%s/%s", dir, dmi[i].attr);
			if (rc == 0) {
				attr_clean(val);
				v = json_string(val);
			} else if (rc == -EACCES) {
				inv_warn(warnings, "hardware: %s/%s is readable by root only", dir,
					 dmi[i].attr);
			}
		}
		if (json_object_set_new(hw, dmi[i].field, v))
			goto nomem;
	}
	if (!source &&
	    attr_readf(val, sizeof(val), "%s/firmware/devicetree/base/model", sysfs) == 0) {
		source = "devicetree";
		attr_clean(val);
		if (json_object_set_new(hw, "product", json_string(val)))
			goto nomem;
	}
	if (!source)
		inv_warn(warnings, "hardware: no DMI (%s) and no device tree model", dir);
	if (json_object_set_new(hw, "source", inv_str_or_null(source)))
		goto nomem;
	return json_object_set_new(doc, "hardware", hw) ? -ENOMEM : 0;
nomem:
	json_decref(hw);
	return -ENOMEM;
}
