/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A source disk opened for replication: a block device or an image file. */
#ifndef LIVEMIG_SRC_DISK_H
#define LIVEMIG_SRC_DISK_H

#include <stddef.h>
#include <stdint.h>

struct src_disk {
	int fd_direct; /* O_DIRECT: bypasses the page cache so a mirror does not evict the workload's */
	int fd;        /* buffered, for an unaligned tail or where O_DIRECT is refused */
	uint64_t size;
	int is_blockdev;
};

int src_disk_open(struct src_disk *d, const char *path, char *err, size_t errlen);
/* Read len bytes at off into buf (aligned to 4096). 0 or -errno. */
int src_disk_read(struct src_disk *d, uint8_t *buf, size_t len, uint64_t off);
void src_disk_close(struct src_disk *d);

#endif
