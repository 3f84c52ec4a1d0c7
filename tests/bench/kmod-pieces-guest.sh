#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of tests/bench/kmod-pieces.sh (started by tests/kmod/run.sh,
# chrooted into the host's userland over 9p). A benchmark, not a test: it
# prints figures and fails only when it cannot measure.
#
# Write amplification of the kmod tracker's rounds: the real livemigd
# (tracker = kmod) replicates /dev/vdb (64 MiB) to a livemig-staging in the
# guest; once the mirror is done, fio writes N random direct writes of 4 KiB,
# then N of 8 KiB at 4 KiB alignment (some straddle two 64 KiB blocks), at a
# modest rate while the rounds run, and `livemig sync` waits until they are
# all sent. Per run, over the bytes fio wrote:
#   read  what the agent read from the disk (/sys/block/vdb/stat: only the
#         agent reads vdb)
#   sent  the source bytes staging acknowledged (status sent_bytes)
#   wire  the bytes on the wire (status wire_bytes; compression = none, so
#         frame headers are all they add)
# Twice, in one boot, with the same fio seeds: the module loaded with
# piece_cap_kib=0 (no masks: every marked block goes whole, as before the
# masks existed), then with its default cap (the pieces written).
. /mnt/repo/tests/kmod/guest_agent_lib.sh "$1"

N=${PIECES_BENCH_IOS:-600}
RATE=${PIECES_BENCH_IOPS:-30}
DEV=$(basename "$DISK")

sectors_read() { awk '{ print $3 }' "/sys/block/$DEV/stat"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# one tracker setting: $1 a label, $2... insmod parameters
measure() {
	local label=$1 name bs r0 s0 w0 r1 s1 w1 written
	shift
	[ -d /sys/module/livemig_cbt ] && rmmod livemig_cbt
	insmod "$KO" "$@" || die "insmod $KO $*"
	name=pieces-$label
	write_agent_config "$name" "$DISK"
	sed -i 's/^scan_interval = .*/scan_interval = 200ms\ntracker = kmod\ncompression = none/' "$T/$name.conf"
	start_agent "$name"
	wait_st '.state == "CHANGE_COPY"' 600
	[ "$(st .tracker)" = kmod ] || die "the agent runs tracker $(st .tracker), not kmod"
	lm sync >/dev/null || die "livemig sync"
	for bs in 4k 8k; do
		r0=$(sectors_read)
		s0=$(st .sent_bytes)
		w0=$(st .wire_bytes)
		fio --name="w$bs" --filename="$DISK" --rw=randwrite --bs="$bs" --blockalign=4k \
			--ioengine=psync --direct=1 --number_ios="$N" --size=64M --rate_iops="$RATE" \
			--randseed=7 --output=/dev/null >/dev/null 2>&1 || die "fio $bs"
		lm sync >/dev/null || die "livemig sync"
		r1=$(sectors_read)
		s1=$(st .sent_bytes)
		w1=$(st .wire_bytes)
		written=$((N * ${bs%k} * 1024))
		echo "bench: $label bs=$bs written=$written read=$(((r1 - r0) * 512)) sent=$((s1 - s0)) wire=$((w1 - w0))" \
			"read/written=$(ratio $(((r1 - r0) * 512)) $written)" \
			"sent/written=$(ratio $((s1 - s0)) $written)" \
			"wire/written=$(ratio $((w1 - w0)) $written)" \
			"piece_bytes=$(cat /sys/class/misc/livemig-cbt/piece_bytes)" \
			"piece_fallbacks=$(cat /sys/class/misc/livemig-cbt/piece_fallbacks)"
	done
	grep -q "does not tell the pieces" "$AGENT_LOG" && echo "bench: $label: the agent fell back to whole blocks"
	stop_agent_checked
}

start_staging
measure whole piece_cap_kib=0
measure pieces
rmmod livemig_cbt
echo "bench: done"
