// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: the per-generation bitmap and its piece masks.
 *
 * One bit per block; marking is one atomic set_bit() per block (skipped when
 * the bit is already set, so hot blocks do not bounce their cache line
 * between CPUs).
 *
 * A block written only in part also gets a 16-bit mask of the pieces (1/16
 * of a block: 4 KiB of a 64 KiB block) its writes touched, so the agent reads
 * and sends those instead of the whole block. Masks live in pages allocated
 * by the first partial write into the 2 * PAGE_SIZE / 4 blocks a page covers
 * (128 MiB of disk with 4 KiB pages), from the probe (GFP_NOWAIT), found
 * through directory pages allocated the same way (one per 64 GiB), so that
 * only the small top array (8 bytes per 64 GiB) grows with the disk; all
 * those pages together are bounded by piece_cap_kib. A block with no page or
 * a zero mask is whole; 0xffff is whole too. A partial write that finds no
 * page and cannot get one marks its block whole.
 *
 * The one rule: once every marker has returned (the generation is frozen
 * after synchronize_rcu()), a marked block's mask is never narrower than
 * what was written to it: it is 0 or 0xffff (whole), or it holds every
 * piece of every write. Masks only grow (atomic OR), so a write's pieces,
 * once ORed in, stay. What must not happen is a block marked whole (its bit
 * set, no mask) before any mask existed, then a partial write leaving its
 * own pieces as the block's mask. The ordering that prevents it, with
 * fully ordered atomics (test_and_set_bit, atomic_fetch_or, cmpxchg):
 *
 *   whole write:   set the bit; then, if the block's page exists, OR 0xffff.
 *   partial write: get the page (installing it, and its directory page,
 *                  with cmpxchg); old =
 *                  fetch_or(pieces); if old was 0 (this write made the mask
 *                  non-zero, which happens once per block): test_and_set the
 *                  bit, and if it was set already, OR 0xffff.
 *
 * Take the partial write P that made the mask non-zero and a whole write W.
 * If W set the bit before P's test_and_set, P finds it set and makes the
 * mask whole. Otherwise P set the bit first; P installed (or found) the page
 * and its directory page before that, so W, which reads those pointers after
 * seeing the bit set (its own test_and_set_bit, or test_bit and smp_rmb()),
 * finds the page and ORs 0xffff. Either way the block ends whole. Partial writes other than P
 * only OR their pieces into a mask already non-zero: P sets the bit (a
 * probe's marking is over before synchronize_rcu() returns). A block whose
 * bit is set and whose page is missing is whole, and a partial write that
 * then installs the page is P above: it finds the bit set, mask whole.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/overflow.h>

#include "cbt.h"

/* Two 16-bit masks per atomic_t (no 16-bit atomics on every kernel). */
#define CBT_SLOTS_PER_PAGE	(PAGE_SIZE / sizeof(atomic_t) * 2)
/* A directory page: pointers to mask pages (64 GiB of disk at 4 KiB pages). */
#define CBT_PTRS_PER_PAGE	(PAGE_SIZE / sizeof(void *))
#define CBT_BLOCKS_PER_DIR	(CBT_SLOTS_PER_PAGE * CBT_PTRS_PER_PAGE)

struct cbt_map *cbt_map_alloc(unsigned long nbits, unsigned int sector_shift)
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
	/* pieces of a sector at least; without a directory, blocks are whole */
	if (sector_shift < 4)
		return map;
	map->dir_len = DIV_ROUND_UP(nbits, CBT_BLOCKS_PER_DIR);
	map->dir = kvcalloc(map->dir_len, sizeof(*map->dir), GFP_KERNEL);
	if (!map->dir) {
		map->dir_len = 0;
		return map;
	}
	map->piece_shift = sector_shift - 4;
	atomic_long_add(map->dir_len * sizeof(*map->dir),
			&cbt_stats.piece_bytes);
	return map;
}

static void cbt_page_free(void *page)
{
	free_page((unsigned long)page);
	atomic_long_dec(&cbt_stats.piece_pages);
	atomic_long_sub(PAGE_SIZE, &cbt_stats.piece_bytes);
}

void cbt_map_free(struct cbt_map *map)
{
	unsigned long i, j;
	void **dir;

	if (!map)
		return;
	for (i = 0; i < map->dir_len; i++) {
		dir = map->dir[i];
		if (!dir)
			continue;
		for (j = 0; j < CBT_PTRS_PER_PAGE; j++)
			if (dir[j])
				cbt_page_free(dir[j]);
		cbt_page_free(dir);
	}
	if (map->dir) {
		atomic_long_sub(map->dir_len * sizeof(*map->dir),
				&cbt_stats.piece_bytes);
		kvfree(map->dir);
	}
	atomic_long_sub(map->bytes, &cbt_stats.bitmap_bytes);
	kvfree(map);
}

static atomic_t *cbt_mask_word(atomic_t *page, unsigned long b)
{
	return &page[(b % CBT_SLOTS_PER_PAGE) / 2];
}

static unsigned int cbt_mask_shift(unsigned long b)
{
	return (b & 1) * 16;
}

static u32 cbt_mask_of(atomic_t *page, unsigned long b)
{
	return ((u32)atomic_read(cbt_mask_word(page, b)) >>
		cbt_mask_shift(b)) & CBT_MASK_WHOLE;
}

/* OR @m into block @b's mask (no ordering needed: nothing follows it). */
static void cbt_mask_or(atomic_t *page, unsigned long b, u32 m)
{
	if ((cbt_mask_of(page, b) & m) != m)
		atomic_or((int)(m << cbt_mask_shift(b)), cbt_mask_word(page, b));
}

/* Block @b's directory entry: where its mask page's pointer is, or NULL. */
static void **cbt_dir_slot(const struct cbt_map *map, unsigned long b)
{
	void **dir = READ_ONCE(map->dir[b / CBT_BLOCKS_PER_DIR]);

	if (!dir)
		return NULL;
	return &dir[(b / CBT_SLOTS_PER_PAGE) % CBT_PTRS_PER_PAGE];
}

/* The page holding block @b's mask, or NULL when it has none (yet). */
static atomic_t *cbt_page_find(const struct cbt_map *map, unsigned long b)
{
	void **slot = cbt_dir_slot(map, b);

	return slot ? READ_ONCE(*slot) : NULL;
}

/* The page at @slot, a zeroed one installed if missing; NULL if none. */
static void *cbt_page_install(void **slot, gfp_t gfp)
{
	long cap = (long)cbt_piece_cap_kib * 1024 / PAGE_SIZE;
	void *page = READ_ONCE(*slot), *old;

	if (page)
		return page;
	/* at the cap, a read: no write to a line every CPU shares */
	if (atomic_long_read(&cbt_stats.piece_pages) >= cap)
		return NULL;
	if (atomic_long_inc_return(&cbt_stats.piece_pages) > cap)
		goto none;
	page = (void *)get_zeroed_page(gfp);
	if (!page)
		goto none;
	/* fully ordered: installed before this write's mask and bit */
	old = cmpxchg(slot, NULL, page);
	if (old) {
		free_page((unsigned long)page);
		atomic_long_dec(&cbt_stats.piece_pages);
		return old;
	}
	atomic_long_add(PAGE_SIZE, &cbt_stats.piece_bytes);
	return page;
none:
	atomic_long_dec(&cbt_stats.piece_pages);
	return NULL;
}

/*
 * The page holding block @b's mask, installed (with its directory page) if
 * missing; NULL if none can be had. Both pages count against the cap.
 */
static atomic_t *cbt_page_get(struct cbt_map *map, unsigned long b, gfp_t gfp)
{
	void **dir = cbt_page_install(&map->dir[b / CBT_BLOCKS_PER_DIR], gfp);

	if (!dir)
		return NULL;
	return cbt_page_install(&dir[(b / CBT_SLOTS_PER_PAGE) %
				     CBT_PTRS_PER_PAGE], gfp);
}

/* A write covering block @b: 1 if this call set its bit. */
static unsigned long cbt_mark_whole(struct cbt_map *map, unsigned long b)
{
	unsigned long n = 0;
	atomic_t *page;

	if (!test_bit(b, map->bits)) {
		if (!test_and_set_bit(b, map->bits))
			n = 1;
	} else {
		/* the page pointer after the bit: see the comment at the top */
		smp_rmb();
	}
	if (!map->dir)
		return n;
	page = cbt_page_find(map, b);
	if (page)
		cbt_mask_or(page, b, CBT_MASK_WHOLE);
	return n;
}

/* A write of pieces @m (not all) of block @b: 1 if this call set its bit. */
static unsigned long cbt_mark_part(struct cbt_map *map, unsigned long b,
				   u32 m, gfp_t gfp)
{
	unsigned int sh = cbt_mask_shift(b);
	atomic_t *page;
	bool set;
	u32 old;

	/* marked with no page: whole already (a later page makes it 0xffff) */
	set = test_bit(b, map->bits);
	/* the page pointer after the bit: a partial marker installs it first */
	smp_rmb();
	page = cbt_page_find(map, b);
	if (!page) {
		if (set)
			return 0;
		page = cbt_page_get(map, b, gfp);
		if (!page) {
			atomic_long_inc(&cbt_stats.piece_fallbacks);
			return cbt_mark_whole(map, b);
		}
	}
	/* non-zero and holding these pieces: its first writer sets the bit */
	if ((cbt_mask_of(page, b) & m) == m)
		return 0;
	old = ((u32)atomic_fetch_or((int)(m << sh), cbt_mask_word(page, b)) >>
	       sh) & CBT_MASK_WHOLE;
	if (old)
		return 0;
	if (!test_and_set_bit(b, map->bits))
		return 1;
	/* marked before any mask existed: a whole write may have come first */
	cbt_mask_or(page, b, CBT_MASK_WHOLE);
	return 0;
}

/* The pieces of block @b that sectors [start, end) cover. */
static u32 cbt_pieces_of(const struct cbt_map *map, unsigned long b,
			 sector_t start, sector_t end, unsigned int sector_shift)
{
	sector_t bs = (sector_t)b << sector_shift;
	sector_t be = bs + ((sector_t)1 << sector_shift);
	unsigned int p0, p1;

	if (start <= bs && end >= be)
		return CBT_MASK_WHOLE;
	p0 = (max(start, bs) - bs) >> map->piece_shift;
	p1 = (min(end, be) - 1 - bs) >> map->piece_shift;
	return GENMASK(p1, p0);
}

/*
 * Hot path: any context, no lock. Marks sectors [start, end), which the
 * caller clipped to the map. Returns how many bits this call set (0 when
 * all were set already).
 */
unsigned long cbt_map_mark(struct cbt_map *map, sector_t start, sector_t end,
			   unsigned int sector_shift)
{
	unsigned long b, first = start >> sector_shift;
	unsigned long last = (end - 1) >> sector_shift, n = 0;
	u32 m;

	for (b = first; b <= last; b++) {
		m = map->dir ? cbt_pieces_of(map, b, start, end, sector_shift) :
			       CBT_MASK_WHOLE;
		if (m == CBT_MASK_WHOLE)
			n += cbt_mark_whole(map, b);
		else
			n += cbt_mark_part(map, b, m,
					   GFP_NOWAIT | __GFP_NOWARN);
	}
	return n;
}

/* Block @b's pieces in a frozen map: CBT_MASK_WHOLE unless narrower. */
static u32 cbt_map_mask(const struct cbt_map *map, unsigned long b)
{
	atomic_t *page;
	u32 m;

	if (!map->dir)
		return CBT_MASK_WHOLE;
	page = cbt_page_find(map, b);
	m = page ? cbt_mask_of(page, b) : 0;
	return m ? m : CBT_MASK_WHOLE;
}

/*
 * OR @src (frozen, no writer) into @dst (live: probes may be marking), each
 * block as a write of the pieces @src holds for it, so the rule above holds
 * in @dst. Same disk: same geometry. Returns the bits this call set in @dst.
 */
unsigned long cbt_map_merge(struct cbt_map *dst, const struct cbt_map *src)
{
	unsigned long b, n = min(dst->nbits, src->nbits), set = 0;
	u32 m;

	for_each_set_bit(b, src->bits, n) {
		m = cbt_map_mask(src, b);
		if (m == CBT_MASK_WHOLE || !dst->dir ||
		    dst->piece_shift != src->piece_shift)
			set += cbt_mark_whole(dst, b);
		else
			set += cbt_mark_part(dst, b, m, GFP_KERNEL);
		cond_resched();
	}
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

/* Append [off, end) to the extents, merged with the last when they touch. */
static void cbt_add_extent(struct livemig_cbt_extent *x, unsigned long *n,
			   u64 off, u64 end)
{
	if (off >= end)
		return;
	if (*n && x[*n - 1].offset + x[*n - 1].length == off) {
		x[*n - 1].length += end - off;
		return;
	}
	x[*n].offset = off;
	x[*n].length = end - off;
	(*n)++;
}

/*
 * As cbt_read_extents, each block narrowed to its pieces. A block's pieces
 * make at most CBT_PIECES / 2 runs; a page stops before a block whose runs
 * might not fit, so a block is never split between pages.
 */
static int cbt_read_pieces(const struct cbt_map *map,
			   struct livemig_cbt_read *rd,
			   struct livemig_cbt_extent *x, size_t len,
			   unsigned int block_shift, u64 disk_bytes)
{
	unsigned long max = len / sizeof(*x);
	unsigned long b = rd->start_block, n = 0;
	u64 base, piece = 1ULL << (block_shift - 4);
	unsigned int p, q;
	u32 m;

	if (max < CBT_PIECES / 2)
		return -EINVAL;
	for (;;) {
		if (b < map->nbits)
			b = find_next_bit(map->bits, map->nbits, b);
		if (b >= map->nbits || n + CBT_PIECES / 2 > max)
			break;
		m = cbt_map_mask(map, b);
		base = (u64)b << block_shift;
		for (p = 0; p < CBT_PIECES; p = q) {
			if (!(m & BIT(p))) {
				q = p + 1;
				continue;
			}
			for (q = p + 1; q < CBT_PIECES && (m & BIT(q)); q++)
				;
			cbt_add_extent(x, &n, base + p * piece,
				       min_t(u64, base + q * piece, disk_bytes));
		}
		b++;
	}
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
	case LIVEMIG_CBT_READ_PIECES:
		ret = cbt_read_pieces(map, rd, kbuf, len, block_shift,
				      disk_bytes);
		if (ret)
			return ret;
		return (long)rd->count * sizeof(struct livemig_cbt_extent);
	default:
		return -EINVAL;
	}
}
