// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: changed-block tracking for livemig by observing block-layer
 * tracepoints. Module init and exit.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "cbt.h"

/* Fixed cap on one bitmap; above it the block size is raised. */
unsigned int cbt_bitmap_cap_kib = 16384;
module_param_named(bitmap_cap_kib, cbt_bitmap_cap_kib, uint, 0444);
MODULE_PARM_DESC(bitmap_cap_kib,
		 "largest bitmap per disk and generation, KiB (default 16384)");

/*
 * Cap on the pages of piece masks, all disks and generations together: each
 * covers 128 MiB of disk (4 KiB pages); past the cap, blocks are whole.
 */
unsigned int cbt_piece_cap_kib = 8192;
module_param_named(piece_cap_kib, cbt_piece_cap_kib, uint, 0444);
MODULE_PARM_DESC(piece_cap_kib,
		 "most memory for piece masks, KiB (default 8192; 0: whole blocks)");

static int __init cbt_init(void)
{
	int ret;

	if (cbt_bitmap_cap_kib < 1)
		cbt_bitmap_cap_kib = 1;
	ret = cbt_watch_register();
	if (ret)
		return ret;
	ret = cbt_probes_register();
	if (ret)
		goto err_watch;
	ret = cbt_freeze_init();
	if (ret)
		goto err_probes;
	ret = cbt_dev_register();
	if (ret)
		goto err_freeze;
	return 0;
err_freeze:
	cbt_freeze_exit();
err_probes:
	cbt_probes_unregister();
err_watch:
	cbt_watch_unregister();
	return ret;
}

static void __exit cbt_exit(void)
{
	/* No new ioctl or sysfs read can start after this returns. */
	cbt_dev_unregister();
	/* every file descriptor is closed (they pin the module): no freeze */
	cbt_freeze_exit();
	cbt_probes_unregister();
	/* Before the watch goes: a driver leaving now waits for us. */
	cbt_detach_all();
	cbt_watch_unregister();
	cbt_inflight_free();
}

module_init(cbt_init);
module_exit(cbt_exit);

MODULE_DESCRIPTION("livemig changed-block tracking (observes block tracepoints)");
MODULE_AUTHOR("livemig developers");
MODULE_LICENSE("GPL");
