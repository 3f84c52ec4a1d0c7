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
#
# How the probes compile. A probe costs almost only the parsing of the
# kernel's headers (natively ~0.35 CPU s; ~20-35 s on one vCPU under QEMU
# TCG), so by default (batch) all of them are one translation unit: their
# #includes hoisted to the top in one order that keeps each probe's own,
# then each probe's lines after `#line N "NAME.c"`, so every diagnostic,
# macro-expansion notes included, names the probe it comes from. Each
# probe's identifiers are its own (lmp_NAME, lmp_NAME_cb: no two probes may
# define the same name). One kbuild compile (-Werror -g0, make -k); a probe
# is 0 when a diagnostic names its NAME.c, 1 otherwise; then the probes
# judged 1 are compiled together once more and must compile. When the batch
# is not clearly right (a diagnostic names no probe: a hoisted header
# missing, a fatal error; the confirming compile fails; no
# for_each_kernel_tracepoint), the script says why and compiles each probe
# alone as its own object, as LIVEMIG_CBT_PROBE_MODE=each always does.
# LIVEMIG_CBT_PROBE_TEST_BREAK=batch|confirm (tests only): that compile
# also includes a header no kernel has, to prove the fallback; the results
# are the fallback's, so it cannot make them wrong.
set -eu

KDIR=${1:?usage: livemig-cbt-probe.sh KDIR [OUTDIR [CACHEDIR]]}
OUT=${2:-.}
CACHE=${3:-}
mode=${LIVEMIG_CBT_PROBE_MODE:-batch}
case $mode in
batch | each) ;;
*) echo "probe: LIVEMIG_CBT_PROBE_MODE=$mode: want batch or each" >&2; exit 1 ;;
esac
[ -f "$KDIR/Makefile" ] || { echo "probe: no kernel build tree at $KDIR" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/livemig-cbt-probe.XXXXXX")
entry_tmp=
trap 'rm -rf "$work" ${entry_tmp:+"$entry_tmp"}' EXIT INT TERM

# probe NAME LINE...: NAME.c is <linux/module.h>, then the lines: its own
# #includes first, then C whose identifiers start lmp_ and its name in
# lower case (the batch puts every probe in one file).
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
	'struct gendisk *lmp_bio_bi_bdev(struct bio *b); struct gendisk *lmp_bio_bi_bdev(struct bio *b) { return b->bi_bdev->bd_disk; }'

probe HAVE_TP_BIO_QUEUE_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void lmp_tp_bio_queue_bio_cb(void *d, struct bio *b) { }' \
	'void lmp_tp_bio_queue_bio(void); void lmp_tp_bio_queue_bio(void) { check_trace_callback_type_block_bio_queue(lmp_tp_bio_queue_bio_cb); }'

probe HAVE_TP_BIO_QUEUE_Q_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void lmp_tp_bio_queue_q_bio_cb(void *d, struct request_queue *q, struct bio *b) { }' \
	'void lmp_tp_bio_queue_q_bio(void); void lmp_tp_bio_queue_q_bio(void) { check_trace_callback_type_block_bio_queue(lmp_tp_bio_queue_q_bio_cb); }'

probe HAVE_TP_RQ_COMPLETE_RQ_ERR_BYTES \
	'#include <linux/tracepoint.h>' \
	'#include <linux/blk-mq.h>' \
	'#include <trace/events/block.h>' \
	'static void lmp_tp_rq_complete_rq_err_bytes_cb(void *d, struct request *rq, blk_status_t e, unsigned int n) { }' \
	'void lmp_tp_rq_complete_rq_err_bytes(void); void lmp_tp_rq_complete_rq_err_bytes(void) { check_trace_callback_type_block_rq_complete(lmp_tp_rq_complete_rq_err_bytes_cb); }'

# 5.10: block_rq_complete's error is an int, not a blk_status_t
probe HAVE_TP_RQ_COMPLETE_RQ_INT_BYTES \
	'#include <linux/tracepoint.h>' \
	'#include <linux/blk-mq.h>' \
	'#include <trace/events/block.h>' \
	'static void lmp_tp_rq_complete_rq_int_bytes_cb(void *d, struct request *rq, int e, unsigned int n) { }' \
	'void lmp_tp_rq_complete_rq_int_bytes(void); void lmp_tp_rq_complete_rq_int_bytes(void) { check_trace_callback_type_block_rq_complete(lmp_tp_rq_complete_rq_int_bytes_cb); }'

probe HAVE_TP_BIO_COMPLETE_Q_BIO \
	'#include <linux/tracepoint.h>' \
	'#include <trace/events/block.h>' \
	'static void lmp_tp_bio_complete_q_bio_cb(void *d, struct request_queue *q, struct bio *b) { }' \
	'void lmp_tp_bio_complete_q_bio(void); void lmp_tp_bio_complete_q_bio(void) { check_trace_callback_type_block_bio_complete(lmp_tp_bio_complete_q_bio_cb); }'

probe HAVE_REQUEST_RQ_DISK \
	'#include <linux/blkdev.h>' \
	'#include <linux/blk-mq.h>' \
	'struct gendisk *lmp_request_rq_disk(struct request *r); struct gendisk *lmp_request_rq_disk(struct request *r) { return r->rq_disk; }'

probe HAVE_DISK_DISKSEQ \
	'#include <linux/blkdev.h>' \
	'u64 lmp_disk_diskseq(struct gendisk *d); u64 lmp_disk_diskseq(struct gendisk *d) { return d->diskseq; }'

probe HAVE_ENUM_REQ_OP \
	'#include <linux/blk_types.h>' \
	'enum req_op lmp_enum_req_op(void); enum req_op lmp_enum_req_op(void) { return REQ_OP_WRITE; }'

# before 5.18 SCSI passthrough (SG_IO) had its own ops, not REQ_OP_DRV_*
probe HAVE_REQ_OP_SCSI_OUT \
	'#include <linux/blk_types.h>' \
	'int lmp_req_op_scsi_out(void); int lmp_req_op_scsi_out(void) { return REQ_OP_SCSI_OUT; }'

probe HAVE_FOR_EACH_KERNEL_TRACEPOINT \
	'#include <linux/tracepoint.h>' \
	'static void lmp_for_each_kernel_tracepoint_cb(struct tracepoint *tp, void *priv) { }' \
	'void lmp_for_each_kernel_tracepoint(void); void lmp_for_each_kernel_tracepoint(void) { for_each_kernel_tracepoint(lmp_for_each_kernel_tracepoint_cb, NULL); tracepoint_synchronize_unregister(); }'

probe HAVE_DISK_LIVE \
	'#include <linux/blkdev.h>' \
	'bool lmp_disk_live(struct gendisk *d); bool lmp_disk_live(struct gendisk *d) { return disk_live(d); }'

probe HAVE_FILE_BDEV \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'struct block_device *lmp_file_bdev(struct file *fp); struct block_device *lmp_file_bdev(struct file *fp) { return file_bdev(fp); }'

probe HAVE_COPY_STRUCT_FROM_USER \
	'#include <linux/uaccess.h>' \
	'int lmp_copy_struct_from_user(void *d, const void __user *s); int lmp_copy_struct_from_user(void *d, const void __user *s) { return copy_struct_from_user(d, 8, s, 16); }'

# the freeze of a block device's file system: bdev_freeze() since 6.8,
# freeze_bdev() returning int from 5.11, returning the super block on 5.10
probe HAVE_BDEV_FREEZE \
	'#include <linux/blkdev.h>' \
	'int lmp_bdev_freeze(struct block_device *b); int lmp_bdev_freeze(struct block_device *b) { return bdev_freeze(b) ?: bdev_thaw(b); }'

probe HAVE_FREEZE_BDEV_INT \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'int lmp_freeze_bdev_int(struct block_device *b); int lmp_freeze_bdev_int(struct block_device *b) { int r = freeze_bdev(b); return r ?: thaw_bdev(b); }'

probe HAVE_FREEZE_BDEV_SB \
	'#include <linux/blkdev.h>' \
	'#include <linux/fs.h>' \
	'int lmp_freeze_bdev_sb(struct block_device *b); int lmp_freeze_bdev_sb(struct block_device *b) { struct super_block *s = freeze_bdev(b); return IS_ERR(s) ? PTR_ERR(s) : thaw_bdev(b, s); }'

{
	echo '# generated by livemig-cbt-probe.sh'
	# -g0: whether it compiles is all a probe tells; its debug information
	# is work thrown away
	echo 'ccflags-y := -Werror -g0'
	for n in $names; do echo "obj-m += $n.o"; done
	echo 'obj-m += livemig_probes_batch.o livemig_probes_confirm.o'
} >"$work/Kbuild"

# The batch (see the top): every probe in one translation unit, so the
# kernel's headers are parsed once instead of once per probe.

# The probes' #include lines in one order that keeps each probe's own
# (a header may want another before it), and otherwise the order in which
# the probes name them. Fails when the probes' orders contradict.
include_order() {
	awk '
		FNR == 1 { prev = "" }
		/^#include / {
			if (!($0 in seen)) { seen[$0] = 1; order[++n] = $0; indeg[$0] = 0 }
			if (prev != "" && !((prev, $0) in edge)) { edge[prev, $0] = 1; indeg[$0]++ }
			prev = $0
		}
		END {
			for (k = 0; k < n; k++) {
				pick = ""
				for (i = 1; i <= n && pick == ""; i++)
					if (!(order[i] in done) && indeg[order[i]] == 0) pick = order[i]
				if (pick == "") exit 1
				done[pick] = 1
				print pick
				for (i = 1; i <= n; i++) if ((pick, order[i]) in edge) indeg[order[i]]--
			}
		}' "$@"
}

# write_batch FILE EXTRA NAME...: the includes, EXTRA (a line, test knob
# only), then each named probe's own lines after `#line N "NAME.c"`, so a
# diagnostic (a macro's expansion notes too) names the probe and the line
# its own NAME.c has in each mode.
write_batch() {
	file=$1 extra=$2
	shift 2
	{
		echo '/* generated by livemig-cbt-probe.sh: the probes in one compile */'
		cat "$work/includes"
		[ -z "$extra" ] || printf '%s\n' "$extra"
		for n in "$@"; do
			awk -v n="$n" '/^#include / { want = 1; next }
				want || FNR == 1 { printf "#line %d \"%s.c\"\n", FNR, n; want = 0 }
				{ print }' "$work/$n.c"
		done
	} >"$file"
}

# judge LOG: "NAME 0|1" per probe, 0 when a line of the compiler's output
# names NAME.c. Fails when a diagnostic, with its context and notes, names
# no probe (a hoisted header missing, an internal error): then the batch
# says nothing reliable about any probe.
judge() {
	awk -v names="$names" '
		BEGIN { n = split(names, want, " ") }
		function names_probe(line, i) {
			for (i = 1; i <= n; i++)
				if (match(line, "(^|[^A-Za-z0-9_])" want[i] "\\.c:")) { bad[want[i]] = 1; hit = 1 }
			return hit
		}
		function close_group() { if (open && !named) unclear = 1; open = 0; named = 0 }
		{ hit = 0; names_probe($0) }
		/: (fatal error|error|warning): / { close_group(); open = 1; named = ctx || hit; ctx = 0; next }
		/: note: / { if (hit) named = 1; next }
		/: In function |: In file included from |^ +from |: At top level:/ { close_group(); ctx = ctx || hit; next }
		{ if (hit) named = 1 }
		END {
			close_group()
			for (i = 1; i <= n; i++) print want[i], (want[i] in bad) ? 0 : 1
			exit unclear
		}' "$1"
}

# make TARGET LOG: kbuild compiles one object; its result, output in LOG
kbuild() {
	make -k -C "$KDIR" M="$work" "$1" >"$2" 2>&1
}

# probe_batch: the probes' results in $work/results, or fails with the
# reason in $why (then nothing it wrote is used)
probe_batch() {
	knob=${LIVEMIG_CBT_PROBE_TEST_BREAK:-}
	broken='#include <linux/livemig-cbt-probe-test-no-such-header.h>'
	# shellcheck disable=SC2046 # one file per probe
	(cd "$work" && include_order $(for n in $names; do echo "$n.c"; done)) >"$work/includes" ||
		{ why="the probes' #include orders contradict each other"; return 1; }
	# shellcheck disable=SC2086
	write_batch "$work/livemig_probes_batch.c" "$([ "$knob" != batch ] || echo "$broken")" $names
	rc=0
	kbuild livemig_probes_batch.o "$work/batch.log" || rc=$?
	judge "$work/batch.log" >"$work/batch.results" ||
		{ why="a diagnostic names no probe: $(grep -m 1 -E ': (fatal error|error|warning): ' "$work/batch.log")"; return 1; }
	good=$(awk '$2 == 1 { print $1 }' "$work/batch.results")
	failed=$(awk '$2 == 0 { printf " %s", $1 }' "$work/batch.results")
	if [ $rc != 0 ] && [ -z "$failed" ]; then
		why="the compile failed and no diagnostic names a probe: $(tail -n 1 "$work/batch.log")"
		return 1
	fi
	if [ $rc = 0 ] && [ -n "$failed" ]; then
		why="the compile succeeded, yet the compiler named$failed"
		return 1
	fi
	grep -qx 'HAVE_FOR_EACH_KERNEL_TRACEPOINT 1' "$work/batch.results" ||
		{ why="HAVE_FOR_EACH_KERNEL_TRACEPOINT came out 0"; return 1; }
	# the probes judged 1, alone together: a probe that passed only because
	# another failed first (gcc reports an implicitly declared function
	# once per file) fails here
	if [ -n "$failed" ]; then
		# shellcheck disable=SC2086 # one word per probe
		write_batch "$work/livemig_probes_confirm.c" "$([ "$knob" != confirm ] || echo "$broken")" $good
		kbuild livemig_probes_confirm.o "$work/confirm.log" ||
			{ why="the confirming compile of the $(echo "$good" | wc -l) probes judged 1 failed: $(grep -m 1 -E ': (fatal error|error|warning): ' "$work/confirm.log")"; return 1; }
	fi
	cp "$work/batch.results" "$work/results"
	echo "probe: batch: $(wc -l <"$work/batch.results") probes in one compile, $(echo "$good" | wc -l) compiled (confirmed), failed:${failed:- none}" >&2
}

probe_each() {
	targets=
	for n in $names; do targets="$targets $n.o"; done
	# -k: one failing probe must not stop the others. Output kept for debugging.
	# -j: the probes are independent compiles (DKMS's own make gets -j too)
	# shellcheck disable=SC2086 # one word per target
	make -k -j "$(nproc 2>/dev/null || echo 1)" -C "$KDIR" M="$work" $targets >"$work/probe.log" 2>&1 || true
	for n in $names; do
		if [ -s "$work/$n.o" ]; then echo "$n 1"; else echo "$n 0"; fi
	done >"$work/results"
}

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
	why=
	case $mode in
	batch)
		if probe_batch; then
			cp "$work/batch.log" "$work/probe.log"
		else
			echo "probe: batch not clear ($why): compiling each probe alone" >&2
			probe_each
		fi
		;;
	each)
		echo "probe: compiling each probe alone (LIVEMIG_CBT_PROBE_MODE=each)" >&2
		probe_each
		;;
	esac
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
