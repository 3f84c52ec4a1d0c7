// SPDX-License-Identifier: GPL-2.0-or-later
/* Assembles the inventory document from its parts (inventory_*.c). */
#include "inventory.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "inventory_internal.h"

void inv_warn(json_t *warnings, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(msg));
}

json_t *inv_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *inventory_collect(const struct inventory_options *o, char *err, size_t errlen)
{
	const char *sysfs = o && o->sysfs ? o->sysfs : "/sys";
	const char *proc = o && o->proc ? o->proc : "/proc";
	const char *mid = o && o->machine_id ? o->machine_id : "/etc/machine-id";
	json_t *doc = json_object(), *warnings = json_array();
	int rc = -ENOMEM;

	if (!doc || !warnings || json_object_set_new(doc, "schema", json_integer(INVENTORY_SCHEMA)))
		goto fail;
	/* the order of the parts is the order of keys in the document */
	if ((rc = inv_system(doc, warnings, sysfs, proc, mid)) ||
	    (rc = inv_os(doc, warnings, o ? o->os_release : NULL)) ||
	    (rc = inv_hardware(doc, warnings, sysfs)) || (rc = inv_disks(doc, warnings)) ||
	    (rc = inv_root(doc, warnings, sysfs, proc)) || (rc = inv_nics(doc, warnings, sysfs)))
		goto fail;
	if (json_object_set(doc, "warnings", warnings))
		goto fail;
	json_decref(warnings);
	return doc;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "inventory: out of memory");
	else if (warnings && json_array_size(warnings))
		snprintf(err, errlen, "inventory: %s",
			 json_string_value(json_array_get(warnings, json_array_size(warnings) - 1)));
	else
		snprintf(err, errlen, "inventory: error %d", rc);
	json_decref(doc);
	json_decref(warnings);
	return NULL;
}
