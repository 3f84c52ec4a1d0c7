/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which disks to replicate. The seed: "The root disk of the source server
 * cannot be omitted ... because the machine must be launched in the target
 * infrastructure", and every other disk is replicated by default. The
 * candidates come from the inventory (docs/inventory.md), which marks the
 * disks holding "/".
 */
#ifndef LIVEMIG_INSTALL_DISKS_H
#define LIVEMIG_INSTALL_DISKS_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define DISKS_MAX 64

struct disk_choice {
	char name[64];          /* kernel name: vda, nvme0n1, loop3 */
	char device[PATH_MAX];  /* /dev/vda */
	uint64_t size;
	char model[48];         /* "" when unknown */
	int root;               /* holds "/" (or named by --root-disk) */
	int is_virtual;         /* loop, nbd...: not in the default set */
	int removable;          /* floppy, CD/DVD, USB stick: not in the default set */
	int chosen;
};

struct disk_set {
	struct disk_choice d[DISKS_MAX];
	size_t n;
	int root_known; /* the inventory (or --root-disk) named the root disks */
};

/*
 * The inventory's disks. root_override (a kernel name, or NULL) is the disk
 * to treat as the root disk instead of those holding "/": tests and the demo
 * replicate a loop device and must not be made to take the real root disk.
 * 0, or -ENOENT with err set when root_override is not one of the disks.
 */
int disks_from_inventory(json_t *inv, const char *root_override, struct disk_set *s, char *err,
			 size_t errlen);

/* The default choice: every disk that is neither virtual nor removable (a
 * drive for removable media: floppy, CD/DVD, USB stick), and the root disks. */
void disks_choose_default(struct disk_set *s);

/*
 * The operator's choice: names (vda or /dev/vda) or the numbers of
 * disks_print(), separated by commas or blanks; "all" takes every disk. The
 * previous choice is replaced. 0, or -ENOENT/-EINVAL with err set.
 */
int disks_choose(struct disk_set *s, const char *list, char *err, size_t errlen);

/* 0 when at least one disk is chosen and no root disk is left out;
 * -EPERM (root left out) or -ENODATA (none) with the refusal in err. */
int disks_check(const struct disk_set *s, char *err, size_t errlen);

/* A numbered list with size, model and the root marker. */
void disks_print(FILE *f, const struct disk_set *s);

/* "vda, vdb" of the chosen disks. */
void disks_chosen_names(const struct disk_set *s, char *out, size_t len);

#endif
