// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The `kmod` tracker: the livemig_cbt kernel module records which blocks of
 * each whole disk are written (docs/kmod-abi.md). Per round: SNAPSHOT freezes
 * the blocks written since the last one, READ hands them out as extents
 * (adjacent ones merged, sent without comparing hashes), ACK releases them
 * once staging made the round durable, ABORT gives them back to the active
 * map so the next round sends them again.
 *
 * The extents are the pieces written (LIVEMIG_CBT_READ_PIECES: 4 KiB of a
 * 64 KiB block), so a round reads and sends about what was written, not
 * whole blocks; a module without that format (EINVAL) gives whole blocks,
 * which is said once and costs only bytes.
 *
 * The tracking lives in the kernel, not in this process: a restarted agent
 * finds it with INFO and goes on under the same epoch (no rescan), giving
 * back a round a dead predecessor left frozen. The device is opened for each
 * call and never held, so the module can be unloaded at any time; a reload,
 * a resize, a removed disk or writes the module could not see end the epoch,
 * and the engine re-attaches and rescans (TRACKER_LOST).
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../../kmod/uapi/livemig_cbt.h"
#include "log.h"
#include "util.h"

#define READ_EXTENTS 1024 /* per READ call: 16 KiB */

struct kmod_disk {
	uint32_t major, minor;
	uint8_t epoch[LIVEMIG_CBT_EPOCH_LEN];
	uint64_t frozen;     /* generation frozen by this round's SNAPSHOT, 0 if none */
	uint64_t next_block; /* READ position in the frozen generation */
	int whole;           /* the module has no READ_PIECES: whole blocks */
	int read_end;        /* READ said nothing follows */
	unsigned n, pos;     /* extents in ext[], next one to hand out */
	int have;            /* cur holds an extent being merged */
	struct livemig_cbt_extent cur;
	struct livemig_cbt_extent ext[READ_EXTENTS];
};

_Static_assert(LIVEMIG_CBT_EPOCH_LEN == FRAME_EPOCH_LEN, "epoch sizes differ");

static const char *invalid_name(uint32_t reason)
{
	switch (reason) {
	case LIVEMIG_CBT_INVALID_REMOVED: return "the disk was removed";
	case LIVEMIG_CBT_INVALID_RESIZED: return "the disk was resized";
	case LIVEMIG_CBT_INVALID_OVERFLOW: return "a write fell outside the tracking map";
	case LIVEMIG_CBT_INVALID_PASSTHROUGH: return "a passthrough write of unknown range";
	case LIVEMIG_CBT_INVALID_INFLIGHT: return "more writes in flight than the module can follow";
	}
	return "the module invalidated it";
}

/* One ioctl on a freshly opened device: 0 or -errno. */
static int cbt_call(unsigned long req, void *arg)
{
	int fd = open(LIVEMIG_CBT_DEVICE, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, arg))
		rc = -errno;
	close(fd);
	return rc;
}

static void gen_init(struct livemig_cbt_gen *g, const struct kmod_disk *k, uint64_t generation)
{
	memset(g, 0, sizeof(*g));
	g->size = sizeof(*g);
	g->version = LIVEMIG_CBT_ABI_VERSION;
	g->major = k->major;
	g->minor = k->minor;
	memcpy(g->epoch, k->epoch, sizeof(g->epoch));
	g->generation = generation;
}

static int gen_call(unsigned long req, const struct kmod_disk *k, uint64_t generation,
		    struct livemig_cbt_gen *out)
{
	struct livemig_cbt_gen g;
	int rc;

	gen_init(&g, k, generation);
	rc = cbt_call(req, &g);
	if (!rc && out)
		*out = g;
	return rc;
}

static int info(struct kmod_disk *k, struct livemig_cbt_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	in->version = LIVEMIG_CBT_ABI_VERSION;
	in->major = k->major;
	in->minor = k->minor;
	return cbt_call(LIVEMIG_CBT_IOC_INFO, in);
}

/* Why an ioctl on the tracking failed, for the log. */
static const char *lost_why(struct kmod_disk *k, int rc)
{
	struct livemig_cbt_info in;

	switch (rc) {
	case -ENOENT: return "the module is not loaded (" LIVEMIG_CBT_DEVICE " is missing)";
	case -ENODEV: return "the module no longer tracks the disk (was it reloaded?)";
	case -ESTALE: return "the disk is tracked under another epoch";
	case -EIDRM:
		if (!info(k, &in))
			return invalid_name(in.invalid_reason);
		return "the module invalidated it";
	}
	return NULL;
}

static int lost(struct engine *e, unsigned disk, struct kmod_disk *k, int rc, const char *what)
{
	const char *why = lost_why(k, rc);

	if (!why) {
		log_warn("%s: change tracking: %s failed: %s", e->disks[disk].cfg->name, what,
			 strerror(-rc));
		return rc;
	}
	log_warn("%s: change tracking was interrupted: %s", e->disks[disk].cfg->name, why);
	k->frozen = 0;
	return -TRACKER_LOST;
}

static int kmod_attach(struct engine *e, unsigned disk, uint8_t epoch[FRAME_EPOCH_LEN])
{
	struct engine_disk *d = &e->disks[disk];
	struct kmod_disk *k = d->tracker_state;
	struct livemig_cbt_attach a;
	struct livemig_cbt_info in;
	struct stat st;
	int rc;

	if (fstat(d->src.fd, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode)) {
		log_error("%s: the kmod tracker needs a block device, %s is not one",
			  d->cfg->name, d->cfg->path);
		return -ENOTBLK;
	}
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return -ENOMEM;
		d->tracker_state = k;
	}
	k->major = major(st.st_rdev);
	k->minor = minor(st.st_rdev);
	k->frozen = 0;
	k->whole = 0; /* a reloaded module may be a newer one */
	rc = info(k, &in);
	if (!rc && !(in.flags & LIVEMIG_CBT_F_INVALID)) {
		/* tracked since an earlier run: its epoch is still unbroken */
		memcpy(k->epoch, in.epoch, sizeof(k->epoch));
		if (in.flags & LIVEMIG_CBT_F_FROZEN) {
			rc = gen_call(LIVEMIG_CBT_IOC_ABORT, k, in.frozen_generation, NULL);
			if (rc)
				return rc;
			log_info("%s: gave back generation %llu that an earlier run left unacknowledged",
				 d->cfg->name, (unsigned long long)in.frozen_generation);
		}
		log_info("%s: kmod tracking continues (generation %llu, %u KiB blocks)",
			 d->cfg->name, (unsigned long long)in.generation, (1u << in.block_shift) >> 10);
		memcpy(epoch, k->epoch, FRAME_EPOCH_LEN);
		return 0;
	}
	if (!rc) {
		log_warn("%s: kmod tracking found invalid (%s): starting a new one",
			 d->cfg->name, invalid_name(in.invalid_reason));
		memcpy(k->epoch, in.epoch, sizeof(k->epoch));
		rc = gen_call(LIVEMIG_CBT_IOC_DETACH, k, 0, NULL);
		if (rc && rc != -ENODEV)
			return rc;
	} else if (rc != -ENODEV) {
		return rc;
	}
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.version = LIVEMIG_CBT_ABI_VERSION;
	a.fd = d->src.fd;
	rc = cbt_call(LIVEMIG_CBT_IOC_ATTACH, &a);
	if (rc == -EINVAL) {
		log_error("%s: %s is a partition; replicate the whole disk with tracker = kmod",
			  d->cfg->name, d->cfg->path);
		return rc;
	}
	if (rc)
		return rc;
	memcpy(k->epoch, a.epoch, sizeof(k->epoch));
	memcpy(epoch, k->epoch, FRAME_EPOCH_LEN);
	log_info("%s: kmod tracking attached (%u:%u, %u KiB blocks, %llu blocks)", d->cfg->name,
		 a.major, a.minor, (1u << a.block_shift) >> 10, (unsigned long long)a.nr_blocks);
	return 0;
}

static int kmod_round_begin(struct engine *e, unsigned disk)
{
	struct kmod_disk *k = e->disks[disk].tracker_state;
	struct livemig_cbt_gen g;
	struct livemig_cbt_info in;
	int rc;

	k->frozen = 0;
	k->next_block = 0;
	k->read_end = 0;
	k->n = k->pos = 0;
	k->have = 0;
	rc = gen_call(LIVEMIG_CBT_IOC_SNAPSHOT, k, 0, &g);
	if (rc == -EBUSY && !info(k, &in) && (in.flags & LIVEMIG_CBT_F_FROZEN)) {
		/* a round whose ABORT did not reach the module: give it back first */
		rc = gen_call(LIVEMIG_CBT_IOC_ABORT, k, in.frozen_generation, NULL);
		if (!rc)
			rc = gen_call(LIVEMIG_CBT_IOC_SNAPSHOT, k, 0, &g);
	}
	if (rc)
		return lost(e, disk, k, rc, "SNAPSHOT");
	k->frozen = g.generation;
	return 0;
}

static int read_page(struct engine *e, unsigned disk, struct kmod_disk *k)
{
	struct livemig_cbt_read rd;
	int rc;

	memset(&rd, 0, sizeof(rd));
	rd.size = sizeof(rd);
	rd.version = LIVEMIG_CBT_ABI_VERSION;
	rd.major = k->major;
	rd.minor = k->minor;
	memcpy(rd.epoch, k->epoch, sizeof(rd.epoch));
	rd.generation = k->frozen;
	rd.start_block = k->next_block;
	rd.buf = (uint64_t)(uintptr_t)k->ext;
	rd.buf_len = sizeof(k->ext);
	rd.format = k->whole ? LIVEMIG_CBT_READ_EXTENTS : LIVEMIG_CBT_READ_PIECES;
	rc = cbt_call(LIVEMIG_CBT_IOC_READ, &rd);
	if (rc == -EINVAL && !k->whole) {
		/* an older module: the format is all it can refuse here */
		log_info("%s: the livemig_cbt module does not tell the pieces written (an older module): rounds send whole blocks",
			 e->disks[disk].cfg->name);
		k->whole = 1;
		rd.format = LIVEMIG_CBT_READ_EXTENTS;
		rc = cbt_call(LIVEMIG_CBT_IOC_READ, &rd);
	}
	if (rc)
		return lost(e, disk, k, rc, "READ");
	if (rd.count > READ_EXTENTS)
		return -EPROTO;
	k->n = rd.count;
	k->pos = 0;
	k->next_block = rd.next_block;
	k->read_end = !!(rd.out_flags & LIVEMIG_CBT_READ_END);
	/* a page that neither ends the map nor moves on would loop forever */
	if (!k->read_end && !rd.count && rd.next_block <= rd.start_block)
		return -EPROTO;
	return 0;
}

static int kmod_next_extent(struct engine *e, unsigned disk, struct tracker_extent *x)
{
	struct kmod_disk *k = e->disks[disk].tracker_state;

	for (;;) {
		const struct livemig_cbt_extent *c;

		if (k->pos == k->n) {
			int rc;

			if (k->read_end || !k->frozen)
				break;
			rc = read_page(e, disk, k);
			if (rc)
				return rc;
			continue;
		}
		c = &k->ext[k->pos];
		if (k->have && k->cur.offset + k->cur.length == c->offset) {
			k->cur.length += c->length; /* runs split by READ's pages */
			k->pos++;
			continue;
		}
		if (k->have)
			break;
		k->cur = *c;
		k->have = 1;
		k->pos++;
	}
	if (!k->have)
		return 0;
	k->have = 0;
	x->offset = k->cur.offset;
	x->length = k->cur.length;
	x->compare = 0;
	return 1;
}

static int kmod_round_commit(struct engine *e, unsigned disk)
{
	struct kmod_disk *k = e->disks[disk].tracker_state;
	int rc;

	if (!k->frozen)
		return 0;
	rc = gen_call(LIVEMIG_CBT_IOC_ACK, k, k->frozen, NULL);
	k->frozen = 0;
	/* staging holds the round already; a lost tracking shows at the next SNAPSHOT */
	if (rc)
		log_warn("%s: change tracking: ACK failed: %s", e->disks[disk].cfg->name,
			 strerror(-rc));
	return 0;
}

static int kmod_round_abort(struct engine *e, unsigned disk)
{
	struct kmod_disk *k = e->disks[disk].tracker_state;
	int rc;

	if (!k || !k->frozen)
		return 0;
	rc = gen_call(LIVEMIG_CBT_IOC_ABORT, k, k->frozen, NULL);
	k->frozen = 0;
	if (rc) /* then the next SNAPSHOT tells whether the tracking survived */
		log_warn("%s: change tracking: ABORT failed: %s", e->disks[disk].cfg->name,
			 strerror(-rc));
	return rc;
}

static void kmod_detach(struct engine *e, unsigned disk)
{
	/* the kernel tracking stays: the next start goes on under its epoch */
	free(e->disks[disk].tracker_state);
	e->disks[disk].tracker_state = NULL;
}

const struct tracker_ops tracker_kmod_ops = {
	.name = "kmod",
	.attach = kmod_attach,
	.round_begin = kmod_round_begin,
	.next_extent = kmod_next_extent,
	.round_commit = kmod_round_commit,
	.round_abort = kmod_round_abort,
	.detach = kmod_detach,
};
