// SPDX-License-Identifier: GPL-2.0-only
/*
 * livemig_cbt: ranges of writes in flight on bio-based tracked disks.
 *
 * A bio-based driver (dm, md, null_blk in bio mode, brd) may trim a bio it
 * split, so at block_bio_complete only the remainder is visible. The range
 * seen at block_bio_queue is kept here, keyed by the bio's address, until
 * the bio completes; the completion probe re-marks that whole range in the
 * generation active at completion (see cbt_probe.c for why).
 *
 * One global open-addressed table, lock free: a slot's key is 0 (free),
 * CBT_SLOT_BUSY (being filled or emptied) or the bio's address. A writer
 * claims a slot with cmpxchg() and publishes the key last with a release
 * store; a reader takes a slot by cmpxchg()ing its key to CBT_SLOT_BUSY.
 * Lookups scan a fixed window, so deleting needs no tombstones. When the
 * window is full the range cannot be kept: the caller invalidates the
 * tracking (LIVEMIG_CBT_INVALID_INFLIGHT) rather than risk a silent miss.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/hash.h>
#include <linux/log2.h>

#include "cbt.h"

#define CBT_SLOT_BUSY	1UL
#define CBT_PROBE	32

struct cbt_slot {
	unsigned long key;
	struct cbt_disk *t;
	sector_t sector;
	unsigned int nr;
};

static unsigned int cbt_inflight_slots = 16384;
module_param_named(inflight_slots, cbt_inflight_slots, uint, 0444);
MODULE_PARM_DESC(inflight_slots,
		 "writes in flight followed on bio-based disks (default 16384)");

static struct cbt_slot *cbt_slots;
static unsigned int cbt_slot_bits;

/* cbt_mutex held; before the first bio-based disk is published. */
int cbt_inflight_alloc(void)
{
	unsigned int n;
	struct cbt_slot *s;

	lockdep_assert_held(&cbt_mutex);
	if (cbt_slots)
		return 0;
	n = roundup_pow_of_two(clamp(cbt_inflight_slots, 256U, 1U << 22));
	s = kvcalloc(n, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	cbt_slot_bits = ilog2(n);
	/* Published before any tracking that makes a probe use it. */
	smp_store_release(&cbt_slots, s);
	return 0;
}

/* Module exit, after the probes are gone. */
void cbt_inflight_free(void)
{
	kvfree(cbt_slots);
	cbt_slots = NULL;
}

static struct cbt_slot *cbt_slot(struct cbt_slot *slots, unsigned int h,
				 unsigned int i)
{
	return &slots[(h + i) & ((1U << cbt_slot_bits) - 1)];
}

/* Probe context. False when no slot was free in the window. */
bool cbt_inflight_add(const struct bio *bio, struct cbt_disk *t,
		      sector_t sector, unsigned int nr)
{
	/* pairs with the release in cbt_inflight_alloc(): bits, then table */
	struct cbt_slot *slots = smp_load_acquire(&cbt_slots), *s;
	unsigned long key = (unsigned long)bio, k;
	unsigned int h, i;

	if (!slots)
		return false;
	h = hash_ptr(bio, cbt_slot_bits);
	for (i = 0; i < CBT_PROBE; i++) {
		s = cbt_slot(slots, h, i);
		k = READ_ONCE(s->key);
		/*
		 * A bio is in flight once: a slot that still names it is left
		 * over from a completion that was not traced. Reuse it.
		 */
		if (k != 0 && k != key)
			continue;
		if (cmpxchg(&s->key, k, CBT_SLOT_BUSY) != k)
			continue;
		s->t = t;
		s->sector = sector;
		s->nr = nr;
		/* the range is visible before the key that names it */
		smp_store_release(&s->key, key);
		return true;
	}
	return false;
}

/* Probe context. Take the range kept for @bio, if any. */
struct cbt_disk *cbt_inflight_take(const struct bio *bio, sector_t *sector,
				   unsigned int *nr)
{
	/* pairs with the release in cbt_inflight_alloc(): bits, then table */
	struct cbt_slot *slots = smp_load_acquire(&cbt_slots), *s;
	unsigned long key = (unsigned long)bio;
	unsigned int h, i;
	struct cbt_disk *t;

	if (!slots)
		return NULL;
	h = hash_ptr(bio, cbt_slot_bits);
	for (i = 0; i < CBT_PROBE; i++) {
		s = cbt_slot(slots, h, i);
		if (READ_ONCE(s->key) != key)
			continue;
		if (cmpxchg_acquire(&s->key, key, CBT_SLOT_BUSY) != key)
			continue;
		t = s->t;
		*sector = s->sector;
		*nr = s->nr;
		/* the range is read before the slot can be claimed again */
		smp_store_release(&s->key, 0);
		return t;
	}
	return NULL;
}

/*
 * cbt_mutex held, @t unlisted and an RCU grace period passed, so no probe
 * adds a slot for @t any more. The caller waits another grace period before
 * freeing @t (a completion may have taken a slot naming it just now).
 */
void cbt_inflight_forget(struct cbt_disk *t)
{
	unsigned long i, k;

	lockdep_assert_held(&cbt_mutex);
	if (!cbt_slots)
		return;
	for (i = 0; i < (1UL << cbt_slot_bits); i++) {
		k = READ_ONCE(cbt_slots[i].key);
		if (k > CBT_SLOT_BUSY && READ_ONCE(cbt_slots[i].t) == t)
			cmpxchg(&cbt_slots[i].key, k, 0);
	}
}
