/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block hashes of a volume image, for the agent's rescan (HASH_REQ). */
#ifndef LIVEMIG_STAGING_HASHES_H
#define LIVEMIG_STAGING_HASHES_H

#include <stddef.h>
#include <stdint.h>

struct store_volume;

/*
 * Hash count blocks of bs bytes from offset into out (count * FRAME_HASH_LEN
 * bytes); the block that crosses size is clipped there. The caller has
 * checked that every block starts before size; count is 1 to
 * FRAME_MAX_HASHES. Blocks the volume says hold no data (one question for
 * the whole request, store_volume_data_ranges) hash as zeros unread. buf
 * is scratch space of buflen >= bs bytes; reads are made in pieces of up
 * to buflen. 0 or -errno.
 */
int hashes_compute(struct store_volume *v, uint64_t size, uint64_t offset, uint32_t bs,
		   uint32_t count, uint8_t *out, uint8_t *buf, size_t buflen);

#endif
