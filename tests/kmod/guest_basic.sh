#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/kmod/run.sh (runs in the guest, chrooted into the
# host's userland over 9p). Disks: /dev/vda 64 GiB with vda1 at 1 MiB,
# /dev/vdb untracked. Exit 0 only if every check passed.
set -u
OUT=$1
# shellcheck source=tests/kmod/guest_module_lib.sh
. /mnt/repo/tests/kmod/guest_module_lib.sh
# 100 reloads pass too (RELOADS=100 tests/kmod/run.sh) but took 270 s in
# TCG on a loaded 2-core host (2.7 s a reload): too long for make check
RELOADS=${RELOADS:-20}
failures=0
# a map's header before its bits (struct cbt_map: 5 words on 64-bit)
MAPHDR=40

# write 4 KiB of random data at byte offset $2 of device $1 (O_DIRECT)
wr() { dd if=/dev/urandom of="$1" bs=4096 count="${3:-1}" seek=$(($2 / 4096)) oflag=direct status=none || fail "dd $*"; }
snap() { "$T" snapshot /dev/vda | sed 's/.*blocks=//'; }
rd() { "$T" read /dev/vda "$@" 2>/dev/null; }
stat_of() { cat "$S/$1"; }

echo "== load and attach"
insmod "$KO" || { fail insmod; exit 1; }
[ -c /dev/livemig-cbt ] && pass "/dev/livemig-cbt exists" || fail "/dev/livemig-cbt missing"
check "sysfs block_size" "$(stat_of block_size)" 65536
a=$("$T" attach /dev/vda) || fail attach
echo "   $a"
check "block_shift" "$(echo "$a" | sed 's/.*block_shift=\([0-9]*\).*/\1/')" 16
check "nr_blocks" "$(echo "$a" | sed 's/.*nr_blocks=\([0-9]*\).*/\1/')" $((64 * 1024 * 1024 * 1024 / BS))
check "sysfs tracked_disks" "$(stat_of tracked_disks)" 1
check "sysfs bitmap_bytes (one map)" "$(stat_of bitmap_bytes)" $((MAPHDR + 131072))

echo "== writes at known offsets, whole disk and partition"
wr /dev/vda 0                                # block 0
wr /dev/vda $((10 * 1048576 + 4096))         # block 160
wr /dev/vda $((300 * BS - 4096)) 2           # straddles blocks 299, 300
wr /dev/vda1 0                               # vda1 starts at 1 MiB: block 16
wr /dev/vda1 $((5 * 1048576))                # disk 6 MiB: block 96
wr /dev/vda $((40 * 1024 * 1048576))         # 40 GiB: block 655360
dd if=/dev/vda of=/dev/null bs=1M count=4 iflag=direct status=none  # reads do not mark
dd if=/dev/urandom of=/dev/vdb bs=4096 count=1 oflag=direct status=none  # untracked disk
want="0 16 96 160 299 300 655360"
check "sysfs dirty_blocks" "$(stat_of dirty_blocks)" 7
check "SNAPSHOT blocks" "$(snap)" 7
check "sysfs generations" "$(stat_of generations)" 1
check "READ bitmap, 4 KiB pages" "$(rd bitmap 4096)" "$want"
check "READ bitmap, 8-byte pages" "$(rd bitmap 8)" "$want"
check "READ extents, 2 per page" "$(rd extents 32)" "$want"
check "READ extents, 1 per page" "$(rd extents 16)" "$want"
check "bitmap_bytes with a frozen map" "$(stat_of bitmap_bytes)" $((2 * (MAPHDR + 131072)))

echo "== ABORT puts the frozen bits back"
wr /dev/vda $((500 * BS))                    # lands in the new active map
"$T" abort /dev/vda || fail abort
check "SNAPSHOT after ABORT" "$(snap)" 8
check "READ after ABORT" "$(rd bitmap 4096)" "0 16 96 160 299 300 500 655360"

echo "== ACK releases"
"$T" ack /dev/vda || fail ack
check "frozen_blocks after ACK" "$("$T" info /dev/vda | sed -n 's/^frozen_blocks=//p')" 0
check "bitmap_bytes after ACK" "$(stat_of bitmap_bytes)" $((MAPHDR + 131072))
check "SNAPSHOT with nothing written" "$(snap)" 0
check "READ empty" "$(rd extents 4096)" ""
"$T" ack /dev/vda || fail ack

echo "== discard and write-zeroes mark"
if blkdiscard -o $((1000 * BS)) -l $((3 * BS)) /dev/vda; then :; else fail "blkdiscard"; fi
if blkdiscard -z -o $((2000 * BS)) -l $BS /dev/vda; then :; else fail "blkdiscard -z"; fi
echo "   vda discard_max_bytes=$(cat /sys/block/vda/queue/discard_max_bytes) write_zeroes_max_bytes=$(cat /sys/block/vda/queue/write_zeroes_max_bytes)"
check "SNAPSHOT after discard" "$(snap)" 4
check "READ after discard" "$(rd bitmap 4096)" "1000 1001 1002 2000"
"$T" ack /dev/vda || fail ack

echo "== bad ioctls"
"$T" badioctl /dev/vda /dev/vdb || fail "badioctl"
"$T" info /dev/vda >/dev/null || fail "info after badioctl"

echo "== detach"
"$T" detach /dev/vda || fail detach
check "tracked_disks after detach" "$(stat_of tracked_disks)" 0
check "bitmap_bytes after detach" "$(stat_of bitmap_bytes)" 0
"$T" info /dev/vda 2>/dev/null && fail "INFO after detach succeeded"
rmmod livemig_cbt || fail rmmod

echo "== block size raised above the cap"
insmod "$KO" bitmap_cap_kib=16 || fail "insmod cap"
a=$("$T" attach /dev/vda) || fail attach
# 64 GiB in at most 16 KiB * 8 bits: 512 KiB per bit
check "block_shift under a 16 KiB cap" "$(echo "$a" | sed 's/.*block_shift=\([0-9]*\).*/\1/')" 19
wr /dev/vda $((3 * 524288 + 8192))
check "SNAPSHOT at 512 KiB blocks" "$(snap)" 1
check "READ at 512 KiB blocks" "$(rd extents 4096)" "3"
rmmod livemig_cbt || fail "rmmod with tracking active"

echo "== $RELOADS reloads with tracking active and a frozen generation"
vm() { awk '/^VmallocUsed:/ { print $2 }' /proc/meminfo; }
epochs=
base=
t0=$(date +%s)
for i in $(seq 1 "$RELOADS"); do
	insmod "$KO" || { fail "insmod $i"; break; }
	a=$("$T" attach /dev/vda) || { fail "attach $i"; break; }
	epochs="$epochs ${a%% *}"
	wr /dev/vda $((i * BS))
	"$T" snapshot /dev/vda >/dev/null || fail "snapshot $i"
	wr /dev/vda $((i * BS + 4096))
	b=$(stat_of bitmap_bytes)
	[ "$b" = $((2 * (MAPHDR + 131072))) ] || fail "reload $i: bitmap_bytes $b"
	rmmod livemig_cbt || { fail "rmmod $i"; break; }
	[ "$i" = 2 ] && base=$(vm)
done
now=$(vm)
echo "   $RELOADS reloads in $(($(date +%s) - t0)) s; VmallocUsed after reload 2: ${base} kB, after $RELOADS: ${now} kB"
# each leaked generation would cost 2 x 128 KiB of vmalloc
[ -n "$base" ] && [ $((now - base)) -lt 512 ] && pass "no vmalloc growth over $((RELOADS - 2)) reloads" ||
	fail "vmalloc grew from $base to $now kB"
check "$RELOADS distinct epochs" "$(echo $epochs | tr ' ' '\n' | sort -u | wc -l)" "$RELOADS"
[ -e /sys/module/livemig_cbt ] && fail "module still loaded"
kernel_log_check

echo "== $failures failure(s)"
[ "$failures" = 0 ]
