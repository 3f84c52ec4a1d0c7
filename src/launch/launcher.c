// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "launcher.h"

const struct launcher *launcher_find(const char *name)
{
	static const struct launcher *const all[] = { &launcher_libvirt, &launcher_export, NULL };

	for (const struct launcher *const *l = all; *l; l++)
		if (!strcmp((*l)->name, name))
			return *l;
	return NULL;
}
