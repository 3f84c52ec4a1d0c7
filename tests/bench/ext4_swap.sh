#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmark and probe (not a test): could EXT4_IOC_MOVE_EXT replace copy-out
# copy-on-write for recovery points on ext4? Builds tests/bench/ext4_swap.c,
# then on loop-mounted ext4 file systems it creates (removed at exit):
#   * probe on a default ext4, on one mounted data=journal and on a bigalloc
#     one: what MOVE_EXT does to both files' contents and extents;
#   * bench: plain writes, copy-out and three swap variants, interleaved, as
#     ratios to plain (ext4_swap.c's header says how each way works).
#
#   tests/bench/ext4_swap.sh BUILD_DIR        (needs root)
# Knobs: BENCH_MIB=1024 (file size), BENCH_WRITES=1024 (1 MiB overwrites per
# run), BENCH_RUNS=3 (rounds). Results and conclusion: docs/recovery-points.md.
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
need_root

MIB=${BENCH_MIB:-1024}
WRITES=${BENCH_WRITES:-1024}
RUNS=${BENCH_RUNS:-3}

cc -O2 -std=c11 -Wall -Wextra -Werror "$TESTS/../bench/ext4_swap.c" -o "$T/ext4_swap" -lcrypto ||
	die "cannot build ext4_swap.c"

# ext4_fs NAME SIZE [MKFS_ARGS] [-- MOUNT_OPTS]: a fresh ext4 on $T/NAME
ext4_fs() {
	local name=$1 size=$2 mkfs_args=$3 mount_opts=${4:-defaults} img=$T/$1.img dev
	truncate -s "$size" "$img"
	dev=$(make_loop "$img") || die "no loop device for $img"
	# shellcheck disable=SC2086 # MKFS_ARGS are words
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 $mkfs_args "$dev" ||
		die "mkfs.ext4 $mkfs_args failed"
	mkdir -p "$T/$name"
	mount -o "$mount_opts" "$dev" "$T/$name" || die "cannot mount $dev on $T/$name"
	track_mount "$T/$name"
}

ext4_fs plain 12G ""
ext4_fs journal 256M "" data=journal
ext4_fs bigalloc 256M "-O bigalloc -C 65536"

echo "== probe: ext4, default mount ($(uname -r))"
"$T/ext4_swap" probe "$T/plain" || die "probe failed"
echo "== probe: ext4 mounted data=journal (first case only)"
out=$("$T/ext4_swap" probe "$T/journal") || die "probe failed"
sed -n 1,4p <<<"$out"
echo "== probe: ext4 with bigalloc (first case only)"
out=$("$T/ext4_swap" probe "$T/bigalloc") || die "probe failed"
sed -n 1,4p <<<"$out"
rm -f "$T/plain/orig" "$T/plain/donor"

echo "== bench: $WRITES random 1 MiB overwrites of a $MIB MiB file, $RUNS rounds"
nice "$T/ext4_swap" bench "$T/plain" "$MIB" "$WRITES" "$RUNS" || die "bench failed"
