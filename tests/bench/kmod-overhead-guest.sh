#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/bench/kmod-overhead.sh (started by tests/kmod/run.sh,
# chrooted into the host's userland over 9p). A benchmark, not a test: it
# prints figures; it fails only when it cannot measure.
#   1. fio 4 KiB random writes on null_blk (blk-mq, no backing memory, no
#      completion delay, so the block layer's own cost dominates), RUNS times
#      without the module and RUNS times with it loaded and the disk attached,
#      alternating; the medians and their ratio.
#   2. bitmap bytes per TiB: a 4 TiB null_blk attached at the default block
#      size, bitmap_bytes read from sysfs.
set -u
OUT=$1
KO=$OUT/build/livemig_cbt.ko
T=$OUT/cbt_tool
S=/sys/class/misc/livemig-cbt
# alternating runs, medians and the median of adjacent-pair ratios (which
# cancels slow drift); under -icount (the default) runs repeat within 0.1%,
# in wall-clock time on a shared host they vary by 2x
RUNS=5
SECS=3

die() { echo "bench: cannot measure: $*" >&2; exit 1; }
command -v fio >/dev/null || die "no fio in the host's userland (apt-get install fio)"
[ -d /sys/module/livemig_cbt ] && rmmod livemig_cbt
modprobe null_blk nr_devices=1 queue_mode=2 irqmode=0 memory_backed=0 gb=4096 bs=4096 ||
	die "modprobe null_blk failed"
udevadm settle 2>/dev/null || sleep 1
[ -b /dev/nullb0 ] || die "no /dev/nullb0"

iops() { # one fio run; prints write IOPS (integer)
	fio --name=w --filename=/dev/nullb0 --rw=randwrite --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=16 --size=64g --time_based \
		--runtime="$SECS" --norandommap --randrepeat=0 \
		--output-format=json 2>/dev/null |
		jq -r '.jobs[0].write.iops | floor'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END {
	if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

echo "== fio 4k randwrite on null_blk, $RUNS x ${SECS}s each way, alternating"
echo "   cpu: $(nproc) vCPU, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
iops >/dev/null # warm-up, not counted
off='' on=''
# Loading and unloading the module patches the kernel's text (the
# tracepoint's static key), which makes TCG retranslate: a short run after
# each change, not counted, so neither side pays for that.
settle() { SECS=1 iops >/dev/null; }
untracked() { settle; iops; }
tracked() { # prints IOPS with the module loaded and nullb0 attached
	insmod "$KO" || die "insmod"
	"$T" attach /dev/nullb0 >/dev/null || die "attach"
	settle
	iops
	d=$(cat "$S/dirty_blocks")
	rmmod livemig_cbt || die "rmmod"
	[ "$d" -gt 0 ] || die "tracking marked nothing: the tracked run did not measure tracking"
}
# the order flips every run, so a drift of the host does not favour one side
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) = 1 ]; then a=$(untracked); b=$(tracked) || exit 1
	else b=$(tracked) || exit 1; a=$(untracked); fi
	echo "run $i: untracked $a IOPS, tracked $b IOPS"
	off="$off $a" on="$on $b"
	pairs="${pairs:-} $(awk -v a="$b" -v b="$a" 'BEGIN { printf "%d", 1000 * a / b }')"
done
m0=$(echo "$off" | median)
m1=$(echo "$on" | median)
mp=$(echo "$pairs" | median)
echo "bench: median untracked $m0 IOPS, tracked $m1 IOPS"
echo "bench: ratio of medians tracked/untracked $(awk -v a="$m1" -v b="$m0" 'BEGIN { printf "%.3f", a / b }') (target >= 0.97)"
echo "bench: median of per-run ratios $(awk -v p="$mp" 'BEGIN { printf "%.3f", p / 1000 }')"

echo "== bitmap bytes per TiB"
insmod "$KO" || die "insmod"
a=$("$T" attach /dev/nullb0) || die "attach"
echo "   $a"
bytes=$(cat "$S/bitmap_bytes")
bsz=$(cat "$S/block_size")
disk=$(blockdev --getsize64 /dev/nullb0)
echo "bench: block size $bsz, disk $disk bytes, bitmap_bytes $bytes"
awk -v b="$bytes" -v d="$disk" 'BEGIN { t = 1099511627776;
	printf "bench: bitmap bytes per TiB %.0f (%.4f MiB; target <= 2 MiB)\n", b * t / d, b * t / d / 1048576 }'
rmmod livemig_cbt
rmmod null_blk
exit 0
