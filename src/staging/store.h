/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The staging store on disk (docs/staging-store.md): per machine a directory
 * with manifest.json, checkpoint.json and one sparse raw image per disk.
 * Callers hold the machine's lock (machines.h) around store_open and
 * store_write_checkpoint.
 */
#ifndef LIVEMIG_STAGING_STORE_H
#define LIVEMIG_STAGING_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct store_volume;

#define STORE_FORMAT    1
#define STORE_MAX_DISKS 1024 /* disks a machine may accumulate over its life */

struct store_state {
	uint8_t store_id[FRAME_EPOCH_LEN];
	int was_new;
	uint64_t consistent_ns; /* from checkpoint.json, 0 if none */
};

/* Create dir (mode 0700) if missing and check it is a writable directory.
 * 0, or -errno with a message and remedy in err. */
int store_prepare_root(const char *dir, char *err, size_t errlen);

/*
 * Open the store of machine for a HELLO's disks, creating the store or new
 * disks as needed (in the store backend, store_backend.h), and open each
 * disk's volume read-write into vols[i].
 * Returns 0; -EINVAL when the disks contradict the store (err says how);
 * -EUCLEAN for damaged metadata; -ENOSPC; other -errno for I/O errors.
 * On failure no descriptor is left open.
 */
int store_open(const char *root, const char *machine, uint32_t block_size,
	       const struct hello_disk *disks, unsigned ndisks, struct store_volume **vols,
	       struct store_state *st, char *err, size_t errlen);

/* Record a consistent point durably (atomic replace of checkpoint.json). */
int store_write_checkpoint(const char *root, const char *machine, uint64_t consistent_ns,
			   uint64_t seq, char *err, size_t errlen);

#endif
