#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Compile probes for livemig_cbt: try tiny compiles against the target
# kernel's headers and write cbt_config.h. Features are detected by what
# compiles, never by version numbers (distribution kernels backport).
#
#   livemig-cbt-probe.sh KDIR [OUTDIR [CACHEDIR]]
# KDIR: the kernel build directory (DKMS: $kernel_source_dir). OUTDIR: where
# cbt_config.h goes (default: the current directory, DKMS's build tree).
# CACHEDIR (DKMS: /var/cache/livemig-cbt): results kept per key (this
# script, the headers' identity, kbuild's compiler), so a rebuild for the
# same headers does not compile the probes again; without it, always probe.
# LIVEMIG_CBT_PROBE_NOCACHE=1: probe anyway and replace the kept results.
set -eu

KDIR=${1:?usage: livemig-cbt-probe.sh KDIR [OUTDIR [CACHEDIR]]}
OUT=${2:-.}
CACHE=${3:-}
[ -f "$KDIR/Makefile" ] || { echo "probe: no kernel build tree at $KDIR" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/livemig-cbt-probe.XXXXXX")
entry_tmp=
trap 'rm -rf "$work" ${entry_tmp:+"$entry_tmp"}' EXIT INT TERM

# name: one line of C per probe, compiled as a function body's surroundings.
probe() {
	name=$1
	shift
	{
		echo '#include <linux/module.h>'
		printf '%s\n' "$@"
	} >"$work/$name.c"
	names="${names:-} $name"
}

probe HAVE_BIO_BI_BDEV \
	'#include <linux/bio.h>' \
	'#include <linux/blkdev.h>' \
	'struct gendisk *p(struct bio *b); struct gendisk *p(struct bio *b) { return b->bi_bdev->bd_disk; }'

probe HAVE_TP_BIO_QUEUE_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void f(void *d, struct bio *b) { }' \
	'void p(void); void p(void) { check_trace_callback_type_block_bio_queue(f); }'

probe HAVE_TP_BIO_QUEUE_Q_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void f(void *d, struct request_queue *q, struct bio *b) { }' \
	'void p(void); void p(void) { check_trace_callback_type_block_bio_queue(f); }'

probe HAVE_TP_RQ_COMPLETE_RQ_ERR_BYTES \
	'#include <linux/tracepoint.h>' \
	'#include <linux/blk-mq.h>' \
	'#include <trace/events/block.h>' \
	'static void f(void *d, struct request *rq, blk_status_t e, unsigned int n) { }' \
	'void p(void); void p(void) { check_trace_callback_type_block_rq_complete(f); }'

# 5.10: block_rq_complete's error is an int, not a blk_status_t
probe HAVE_TP_RQ_COMPLETE_RQ_INT_BYTES \
	'#include <linux/tracepoint.h>' \
	'#include <linux/blk-mq.h>' \
	'#include <trace/events/block.h>' \
	'static void f(void *d, struct request *rq, int e, unsigned int n) { }' \
	'void p(void); void p(void) { check_trace_callback_type_block_rq_complete(f); }'

probe HAVE_TP_BIO_COMPLETE_Q_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void f(void *d, struct request_queue *q, struct bio *b) { }' \
	'void p(void); void p(void) { check_trace_callback_type_block_bio_complete(f); }'

probe HAVE_REQUEST_RQ_DISK \
	'#include <linux/blkdev.h>' \
	'#include <linux/blk-mq.h>' \
	'struct gendisk *p(struct request *r); struct gendisk *p(struct request *r) { return r->rq_disk; }'

probe HAVE_DISK_DISKSEQ \
	'#include <linux/blkdev.h>' \
	'u64 p(struct gendisk *d); u64 p(struct gendisk *d) { return d->diskseq; }'

probe HAVE_ENUM_REQ_OP \
	'#include <linux/blk_types.h>' \
	'enum req_op p(void); enum req_op p(void) { return REQ_OP_WRITE; }'

# before 5.18 SCSI passthrough (SG_IO) had its own ops, not REQ_OP_DRV_*
probe HAVE_REQ_OP_SCSI_OUT \
	'#include <linux/blk_types.h>' \
	'int p(void); int p(void) { return REQ_OP_SCSI_OUT; }'

probe HAVE_FOR_EACH_KERNEL_TRACEPOINT \
	'#include <linux/tracepoint.h>' \
	'static void f(struct tracepoint *tp, void *priv) { }' \
	'void p(void); void p(void) { for_each_kernel_tracepoint(f, NULL); tracepoint_synchronize_unregister(); }'

probe HAVE_DISK_LIVE \
	'#include <linux/blkdev.h>' \
	'bool p(struct gendisk *d); bool p(struct gendisk *d) { return disk_live(d); }'

probe HAVE_FILE_BDEV \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'struct block_device *p(struct file *f); struct block_device *p(struct file *f) { return file_bdev(f); }'

probe HAVE_COPY_STRUCT_FROM_USER \
	'#include <linux/uaccess.h>' \
	'int p(void *d, const void __user *s); int p(void *d, const void __user *s) { return copy_struct_from_user(d, 8, s, 16); }'

# the freeze of a block device's file system: bdev_freeze() since 6.8,
# freeze_bdev() returning int from 5.11, returning the super block on 5.10
probe HAVE_BDEV_FREEZE \
	'#include <linux/blkdev.h>' \
	'int p(struct block_device *b); int p(struct block_device *b) { return bdev_freeze(b) ?: bdev_thaw(b); }'

probe HAVE_FREEZE_BDEV_INT \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'int p(struct block_device *b); int p(struct block_device *b) { int r = freeze_bdev(b); return r ?: thaw_bdev(b); }'

probe HAVE_FREEZE_BDEV_SB \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'int p(struct block_device *b); int p(struct block_device *b) { struct super_block *s = freeze_bdev(b); return IS_ERR(s) ? PTR_ERR(s) : thaw_bdev(b, s); }'

{
	echo '# generated by livemig-cbt-probe.sh'
	# -g0: whether it compiles is all a probe tells; its debug information
	# is work thrown away
	echo 'ccflags-y := -Werror -g0'
	for n in $names; do echo "obj-m += $n.o"; done
} >"$work/Kbuild"

release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$KDIR/include/generated/utsrelease.h" 2>/dev/null || true)
release=${release:-$KDIR}

# The compiler kbuild itself picks for the probes' make (Debian's headers
# name gcc-12, gcc-14...; LLVM=1 means clang). "check…" goals are among
# those kbuild's Makefile handles without the kernel's configuration, so
# asking is cheap (a whole cached run: 0.06 CPU s with 6.12's headers;
# chroot_dkms.sh checks the answer is the configured one). Empty when
# kbuild does not answer: then no cache.
kbuild_cc() {
	# shellcheck disable=SC2016 # $(CC) is make's, not the shell's
	make -s --no-print-directory -C "$KDIR" M="$work" \
		--eval 'checklivemig-cc: ; @echo "$(strip $(CC))"' checklivemig-cc 2>/dev/null || true
}

# The key of a result: every input that decides it. The probes and the way
# their results become cbt_config.h are this script; the headers are named
# by their release, their build (UTS_VERSION: Debian's package version, a
# custom kernel's build number and time), configuration and exported
# symbols; the compiler by kbuild's command and what it says it is.
# Takes kbuild's compiler command ($cc) and its --version ($ccv).
cache_key() {
	{
		echo 'livemig-cbt-probe key 1'
		echo "script $(sha256sum <"$0")"
		for f in include/generated/utsrelease.h include/generated/utsversion.h \
			include/generated/compile.h include/generated/autoconf.h .config Module.symvers; do
			if [ -f "$KDIR/$f" ]; then echo "$f $(sha256sum <"$KDIR/$f")"; else echo "$f absent"; fi
		done
		echo "cc $cc"
		printf '%s\n' "$ccv"
		echo "env ARCH=${ARCH:-} CROSS_COMPILE=${CROSS_COMPILE:-} LLVM=${LLVM:-} KCFLAGS=${KCFLAGS:-} KCPPFLAGS=${KCPPFLAGS:-}"
	} | sha256sum | cut -d ' ' -f 1
}

# An entry's "NAME 0|1" lines, exactly this script's probes in order,
# between its first line and "end"; anything else (truncated, garbled, an
# older format) fails and the entry is ignored.
read_entry() {
	awk -v names="$names" '
		BEGIN { n = split(names, want, " ") }
		bad { next }
		NR == 1 { if ($0 != "livemig-cbt-probe results 1") bad = 1; next }
		/^#/ { next }
		$0 == "end" { if (done || i != n) bad = 1; done = 1; next }
		done || NF != 2 || $1 != want[i + 1] || ($2 != "0" && $2 != "1") { bad = 1; next }
		{ i++; print }
		END { exit (bad || !done) }' "$1"
}

# tmp + rename in the cache's own directory: a reader sees the whole entry
# or none. A cache that cannot be written costs only the next probe run.
store_entry() {
	if mkdir -p "$CACHE" 2>/dev/null && entry_tmp=$(mktemp "$CACHE/.tmp.XXXXXX" 2>/dev/null) &&
		{
			echo 'livemig-cbt-probe results 1'
			echo "# kernel $release, headers $KDIR"
			echo "# compiler $cc: $(printf '%s\n' "$ccv" | sed -n 1p)"
			cat "$work/results"
			echo end
		} >"$entry_tmp" && chmod 0644 "$entry_tmp" && mv -f "$entry_tmp" "$1"; then
		entry_tmp=
		echo "probe: results kept in $1" >&2
	else
		echo "probe: could not write $1: results not kept" >&2
	fi
}

entry=
if [ -n "$CACHE" ]; then
	cc=$(kbuild_cc)
	# word splitting wanted: kbuild's CC may be "ccache gcc-12"
	# shellcheck disable=SC2086
	if [ -n "$cc" ] && [ -r "$0" ] && ccv=$($cc --version 2>/dev/null) && [ -n "$ccv" ]; then
		entry=$CACHE/$(cache_key)
	else
		echo "probe: cannot tell kbuild's compiler at $KDIR: results not cached" >&2
	fi
fi

cached=0
if [ -n "$entry" ] && [ -e "$entry" ] && [ "${LIVEMIG_CBT_PROBE_NOCACHE:-0}" != 1 ]; then
	if read_entry "$entry" >"$work/results" &&
		grep -qx 'HAVE_FOR_EACH_KERNEL_TRACEPOINT 1' "$work/results"; then
		cached=1
		echo "probe: cached results for $release from $entry" >&2
	else
		echo "probe: ignoring the damaged cache entry $entry" >&2
	fi
fi

if [ $cached = 0 ]; then
	targets=
	for n in $names; do targets="$targets $n.o"; done
	# -k: one failing probe must not stop the others. Output kept for debugging.
	# -j: the probes are independent compiles (DKMS's own make gets -j too)
	# shellcheck disable=SC2086 # one word per target
	make -k -j "$(nproc 2>/dev/null || echo 1)" -C "$KDIR" M="$work" $targets >"$work/probe.log" 2>&1 || true
	for n in $names; do
		if [ -s "$work/$n.o" ]; then echo "$n 1"; else echo "$n 0"; fi
	done >"$work/results"
fi

tmp="$OUT/cbt_config.h.tmp"
{
	echo '/* SPDX-License-Identifier: GPL-2.0-only */'
	echo "/* Generated by livemig-cbt-probe.sh for $KDIR. Do not edit. */"
	echo '#ifndef LIVEMIG_CBT_CONFIG_H'
	echo '#define LIVEMIG_CBT_CONFIG_H'
	while read -r n v; do
		echo "#define CBT_$n $v"
		echo "probe: CBT_$n=$v" >&2
	done <"$work/results"
	echo '#endif'
} >"$tmp"

if ! grep -qx 'HAVE_FOR_EACH_KERNEL_TRACEPOINT 1' "$work/results"; then
	echo "probe: the kernel at $KDIR offers no for_each_kernel_tracepoint; the probes' log:" >&2
	sed -n '1,40p' "$work/probe.log" >&2
	rm -f "$tmp"
	exit 1
fi
mv "$tmp" "$OUT/cbt_config.h"

if [ -n "$entry" ] && [ $cached = 0 ]; then
	store_entry "$entry"
fi
