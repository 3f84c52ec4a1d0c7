// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: the per-generation bitmap. One bit per block; marking is one
 * atomic set_bit() per block (skipped when the bit is already set, so hot
 * blocks do not bounce their cache line between CPUs).
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/bitmap.h>
#include <linux/overflow.h>

#include "cbt.h"

struct cbt_map *cbt_map_alloc(unsigned long nbits)
{
	struct cbt_map *map;
	size_t bytes;

	bytes = struct_size(map, bits, BITS_TO_LONGS(nbits));
	map = kvzalloc(bytes, GFP_KERNEL);
	if (!map)
		return NULL;
	map->nbits = nbits;
	map->bytes = bytes;
	atomic_long_add(bytes, &cbt_stats.bitmap_bytes);
	return map;
}

void cbt_map_free(struct cbt_map *map)
{
	if (!map)
		return;
	atomic_long_sub(map->bytes, &cbt_stats.bitmap_bytes);
	kvfree(map);
}

/*
 * Hot path: any context, no lock. @last is inclusive and < nbits. Returns
 * how many bits this call set (0 when all were set already).
 */
unsigned long cbt_map_mark(struct cbt_map *map, unsigned long first,
			   unsigned long last)
{
	unsigned long b, n = 0;

	for (b = first; b <= last; b++)
		if (!test_bit(b, map->bits) && !test_and_set_bit(b, map->bits))
			n++;
	return n;
}

/*
 * OR @src (frozen, no writer) into @dst (live: probes may be marking).
 * Returns the bits this call set in @dst.
 */
unsigned long cbt_map_merge(struct cbt_map *dst, const struct cbt_map *src)
{
	unsigned long b, n = min(dst->nbits, src->nbits), set = 0;

	for_each_set_bit(b, src->bits, n)
		if (!test_bit(b, dst->bits) && !test_and_set_bit(b, dst->bits))
			set++;
	return set;
}

unsigned long cbt_map_weight(const struct cbt_map *map)
{
	return bitmap_weight(map->bits, map->nbits);
}

static int cbt_read_bitmap(const struct cbt_map *map,
			   struct livemig_cbt_read *rd, u8 *kbuf, size_t len)
{
	unsigned long start = rd->start_block, b, nbytes, i;

	if (start % 64)
		return -EINVAL;
	if (start >= map->nbits) {
		rd->count = 0;
		rd->next_block = map->nbits;
		rd->out_flags = LIVEMIG_CBT_READ_END;
		return 0;
	}
	nbytes = min_t(unsigned long, len, DIV_ROUND_UP(map->nbits - start, 8));
	for (i = 0; i < nbytes; i++) {
		b = start + i * 8;
		kbuf[i] = (map->bits[BIT_WORD(b)] >> (b % BITS_PER_LONG)) & 0xff;
	}
	rd->count = nbytes;
	rd->next_block = min_t(u64, start + nbytes * 8, map->nbits);
	rd->out_flags = rd->next_block >= map->nbits ? LIVEMIG_CBT_READ_END : 0;
	return 0;
}

static int cbt_read_extents(const struct cbt_map *map,
			    struct livemig_cbt_read *rd,
			    struct livemig_cbt_extent *x, size_t len,
			    unsigned int block_shift, u64 disk_bytes)
{
	unsigned long max = len / sizeof(*x);
	unsigned long b = rd->start_block, end, n = 0;

	if (!max)
		return -EINVAL;
	while (n < max) {
		if (b < map->nbits)
			b = find_next_bit(map->bits, map->nbits, b);
		if (b >= map->nbits)
			break;
		end = find_next_zero_bit(map->bits, map->nbits, b);
		x[n].offset = (u64)b << block_shift;
		x[n].length = min_t(u64, (u64)end << block_shift, disk_bytes) -
			      x[n].offset;
		n++;
		b = end;
	}
	if (b < map->nbits)
		b = find_next_bit(map->bits, map->nbits, b);
	rd->count = n;
	rd->next_block = min_t(u64, b, map->nbits);
	rd->out_flags = rd->next_block >= map->nbits ? LIVEMIG_CBT_READ_END : 0;
	return 0;
}

/*
 * One page of a frozen map (no writer) into @kbuf (@len bytes); the caller
 * copies it to user space after dropping cbt_mutex. Returns the bytes filled
 * or a negative errno.
 */
long cbt_map_read(const struct cbt_map *map, struct livemig_cbt_read *rd,
		  void *kbuf, size_t len, unsigned int block_shift,
		  u64 disk_bytes)
{
	int ret;

	/* no ?: between ret and count: -EINVAL would become unsigned */
	switch (rd->format) {
	case LIVEMIG_CBT_READ_BITMAP:
		ret = cbt_read_bitmap(map, rd, kbuf, len);
		if (ret)
			return ret;
		return rd->count;
	case LIVEMIG_CBT_READ_EXTENTS:
		ret = cbt_read_extents(map, rd, kbuf, len, block_shift,
				       disk_bytes);
		if (ret)
			return ret;
		return (long)rd->count * sizeof(struct livemig_cbt_extent);
	default:
		return -EINVAL;
	}
}
