// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: the module notifier that lets a tracked disk's driver be
 * unloaded.
 */
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/blkdev.h>

#include "cbt.h"

/*
 * A driver module is going (its exit function has run, its code is still
 * there): invalidate the trackings of its disks and drop their gendisks now,
 * while the release callback it may own can still run. The trackings stay,
 * invalid (REMOVED), until DETACH, so INFO reports what happened.
 */
static int cbt_module_event(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct module *mod = data;
	struct cbt_disk *t;
	struct gendisk *disk;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&cbt_mutex);
	list_for_each_entry(t, &cbt_disks, node) {
		if (!t->disk || t->owner != mod)
			continue;
		cbt_invalidate(t, LIVEMIG_CBT_INVALID_REMOVED);
		disk = t->disk;
		WRITE_ONCE(t->disk, NULL);
		t->owner = NULL;
		/* no probe compares against the old pointer after this */
		synchronize_rcu();
		put_device(disk_to_dev(disk));
	}
	mutex_unlock(&cbt_mutex);
	return NOTIFY_OK;
}

static struct notifier_block cbt_module_nb = {
	.notifier_call = cbt_module_event,
};

int cbt_watch_register(void)
{
	return register_module_notifier(&cbt_module_nb);
}

void cbt_watch_unregister(void)
{
	unregister_module_notifier(&cbt_module_nb);
}
