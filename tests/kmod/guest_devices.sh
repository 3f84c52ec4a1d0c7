#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/kmod/run.sh guest_devices.sh: what happens to a
# tracked disk's tracking when the disk goes, changes or is written around
# the block layer. Passthrough (SG_IO on the virtio-scsi disk), loop detach
# and re-attach (same device number), loop resize, null_blk removal through
# configfs and by unloading its driver, and device-mapper and md raid1
# writes landing on the right blocks of the physical disks.
# Exit 0 only if every check passed.
set -u
OUT=$1
. /mnt/repo/tests/kmod/guest_module_lib.sh
failures=0

field() { "$T" info "$1" 2>/dev/null | sed -n "s/^$2=//p"; }
epoch() { field "$1" epoch; }
# the errno name an ioctl failed with, or "ok"
err() { "$T" "$@" >/dev/null 2>/tmp/err && echo ok || sed 's/.*: //' /tmp/err; }
wr() { dd if=/dev/urandom of="$1" bs=4096 count=1 seek=$(($2 / 4096)) oflag=direct status=none || fail "dd $*"; }
waitdev() { for _ in $(seq 100); do [ -b "$1" ] && return 0; sleep 0.1; done; return 1; }

insmod "$KO" || { fail insmod; exit 1; }

echo "== passthrough: SG_IO on a tracked virtio-scsi disk"
modprobe virtio_scsi && modprobe sd_mod || fail "modprobe virtio_scsi sd_mod"
waitdev /dev/sda || fail "no /dev/sda"
"$T" attach /dev/sda >/dev/null || fail "attach sda"
wr /dev/sda $((3 * BS))
"$T" sgread /dev/sda 0 || fail "SG_IO READ(10)"
check "block write and SG_IO read: still valid" "$(field /dev/sda invalid_reason)" 0
check "SNAPSHOT sees the block write" "$(snapblocks /dev/sda) $(rd /dev/sda)" "1 3"
"$T" ack /dev/sda || fail "ack sda"
p0=$(cat $S/passthrough_writes)
"$T" sgwrite /dev/sda 2048 || fail "SG_IO WRITE(10)"
check "SG_IO write: invalid_reason PASSTHROUGH" "$(field /dev/sda invalid_reason)" 4
check "sysfs passthrough_writes" "$(($(cat $S/passthrough_writes) - p0))" 1
check "SNAPSHOT refused" "$(err snapshot /dev/sda)" "Identifier removed"
"$T" detach /dev/sda || fail "detach invalid sda"
"$T" attach /dev/sda >/dev/null || fail "re-attach sda"
check "re-attached: valid" "$(field /dev/sda invalid_reason)" 0
"$T" detach /dev/sda || fail "detach sda"

echo "== loop: detach and set up again with other media, no ioctl in between"
modprobe loop || fail "modprobe loop"
truncate -s 32M /tmp/a.img /tmp/b.img /tmp/c.img
losetup /dev/loop0 /tmp/a.img || fail "losetup a"
"$T" attach /dev/loop0 >/dev/null || fail "attach loop0"
e0=$(epoch /dev/loop0)
wr /dev/loop0 $BS
losetup -d /dev/loop0 || fail "losetup -d"
losetup /dev/loop0 /tmp/b.img || fail "losetup b"
if [ -e /sys/block/loop0/diskseq ]; then
	check "same size, new media: REMOVED" "$(field /dev/loop0 invalid_reason)" 1
	check "INFO keeps the old epoch" "$(epoch /dev/loop0)" "$e0"
	check "SNAPSHOT with the old epoch refused" "$(err snapshot /dev/loop0)" "Identifier removed"
else
	# no diskseq before 5.15: a media change with no ioctl in between is
	# not seen (docs/kmod-abi.md); livemigd keeps its disks open, and an
	# open loop device is only detached at its last close
	echo "not on $(uname -r): no diskseq, so new media of the same size is not detected"
	check "INFO keeps the old epoch" "$(epoch /dev/loop0)" "$e0"
fi
check "ATTACH while the old tracking stays" "$(err attach /dev/loop0)" "File exists"
"$T" detach /dev/loop0 || fail "detach removed loop0"
"$T" attach /dev/loop0 >/dev/null || fail "attach new loop0"
[ "$(epoch /dev/loop0)" != "$e0" ] && pass "new media, new epoch" || fail "epoch reused"
check "new tracking valid" "$(field /dev/loop0 invalid_reason)" 0
losetup -d /dev/loop0 || fail "losetup -d"
check "detached loop: REMOVED" "$(field /dev/loop0 invalid_reason)" 1
"$T" detach /dev/loop0 || fail "detach loop0"

echo "== loop: resize (losetup -c)"
losetup /dev/loop1 /tmp/c.img || fail "losetup c"
"$T" attach /dev/loop1 >/dev/null || fail "attach loop1"
truncate -s 48M /tmp/c.img
losetup -c /dev/loop1 || fail "losetup -c"
check "resized: RESIZED" "$(field /dev/loop1 invalid_reason)" 2
"$T" detach /dev/loop1 || fail "detach loop1"
losetup -d /dev/loop1

echo "== null_blk: removed through configfs while tracked"
modprobe null_blk nr_devices=0 || fail "modprobe null_blk"
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
nullb nbgone size=16 memory_backed=1 || fail "nullb nbgone"
"$T" attach /dev/nbgone >/dev/null || fail "attach nbgone"
dev=$(cat /sys/block/$(kname nbgone)/dev)
wr /dev/nbgone 0
echo 0 >$NB/nbgone/power && rmdir $NB/nbgone || fail "remove nbgone"
rm -f /dev/nbgone # the link nullb() made on kernels before 5.14, if any
check "removed disk ($dev): REMOVED" "$(field "$dev" invalid_reason)" 1
check "SNAPSHOT refused" "$(err snapshot "$dev")" "Identifier removed"
"$T" detach "$dev" || fail "detach removed nbgone"
check "tracked_disks after DETACH" "$(cat $S/tracked_disks)" 0

echo "== null_blk: its driver unloaded while a disk is tracked"
modprobe -r null_blk || fail "unload null_blk"
modprobe null_blk nr_devices=1 gb=1 memory_backed=1 || fail "modprobe null_blk nr_devices=1"
waitdev /dev/nullb0 || fail "no nullb0"
"$T" attach /dev/nullb0 >/dev/null || fail "attach nullb0"
dev=$(cat /sys/block/nullb0/dev)
e0=$(epoch "$dev")
wr /dev/nullb0 $((5 * BS))
modprobe -r null_blk || fail "unload null_blk while nullb0 is tracked"
check "null_blk unloaded" "$([ -e /sys/module/null_blk ] && echo loaded || echo gone)" gone
check "driver gone: REMOVED" "$(field "$dev" invalid_reason)" 1
modprobe null_blk nr_devices=1 gb=1 memory_backed=1 || fail "reload null_blk"
waitdev /dev/nullb0 || fail "no new nullb0"
check "new nullb0 has the same number" "$(cat /sys/block/nullb0/dev)" "$dev"
check "INFO: still the old tracking, REMOVED" "$(field /dev/nullb0 invalid_reason)" 1
check "old epoch kept" "$(epoch /dev/nullb0)" "$e0"
d0=$(field /dev/nullb0 dirty_blocks)
wr /dev/nullb0 $((9 * BS))
check "writes to the new disk do not mark the old tracking" "$(field /dev/nullb0 dirty_blocks)" "$d0"
check "ATTACH of the new disk while the old tracking stays" "$(err attach /dev/nullb0)" "File exists"
"$T" detach /dev/nullb0 || fail "detach old nullb0"
"$T" attach /dev/nullb0 >/dev/null || fail "attach new nullb0"
[ "$(epoch /dev/nullb0)" != "$e0" ] && pass "new disk, new epoch" || fail "epoch reused"
wr /dev/nullb0 $((9 * BS))
check "the new tracking marks" "$(snapblocks /dev/nullb0) $(rd /dev/nullb0)" "1 9"
"$T" ack /dev/nullb0
"$T" detach /dev/nullb0 || fail "detach nullb0"
modprobe -r null_blk || fail "unload null_blk"
modprobe null_blk nr_devices=0 || fail "modprobe null_blk"
check "bitmap_bytes with nothing tracked" "$(cat $S/bitmap_bytes)" 0

echo "== device-mapper: dm-linear writes mark the physical disk's blocks"
modprobe dm_mod || fail "modprobe dm_mod"
# /dev/vdb: dm sector 0 is vdb sector 4096 (2 MiB, block 32)
echo "0 8192 linear /dev/vdb 4096" | dmsetup --noudevsync create cbtlin || fail "dmsetup create"
DM=/dev/$(dmsetup info -c --noheadings -o blkdevname cbtlin)
"$T" attach /dev/vdb >/dev/null || fail "attach vdb"
wr "$DM" $((BS + 4096))
check "dm write: physical block" "$(snapblocks /dev/vdb) $(rd /dev/vdb)" "1 33"
"$T" ack /dev/vdb
dmsetup --noudevsync remove cbtlin || fail "dmsetup remove"

echo "== md raid1: a write to the array marks both members"
modprobe raid1 || fail "modprobe raid1"
nullb nbr1 size=64 memory_backed=1 && nullb nbr2 size=64 memory_backed=1 || fail "nullb members"
mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
	--assume-clean --bitmap=none /dev/nbr1 /dev/nbr2 </dev/null || fail "mdadm --create"
waitdev /dev/md0 || fail "no md0"
off=$(cat /sys/block/md0/md/dev-$(kname nbr1)/offset 2>/dev/null)
echo "   md0 data offset ${off:-?} sectors"
"$T" attach /dev/nbr1 >/dev/null && "$T" attach /dev/nbr2 >/dev/null || fail "attach members"
# start from empty maps: md may update its superblocks at any time
"$T" snapshot /dev/nbr1 >/dev/null && "$T" ack /dev/nbr1
"$T" snapshot /dev/nbr2 >/dev/null && "$T" ack /dev/nbr2
wr /dev/md0 $((20 * BS))
want=$(((off * 512 + 20 * BS) / BS))
for m in nbr1 nbr2; do
	"$T" snapshot /dev/$m >/dev/null
	got=$(rd /dev/$m)
	case " $got " in *" $want "*) pass "md0 block 20 marks $m block $want ($got)" ;;
	*) fail "md0 block 20: $m has '$got', want $want among them" ;; esac
	"$T" ack /dev/$m
done
mdadm --stop /dev/md0 --quiet || fail "mdadm --stop"
"$T" detach /dev/nbr1 && "$T" detach /dev/nbr2 || fail "detach members"

echo "== unload with everything detached or removed"
"$T" detach /dev/vdb || fail "detach vdb"
for d in nbr1 nbr2; do echo 0 >$NB/$d/power; rmdir $NB/$d; [ ! -L /dev/$d ] || rm /dev/$d; done
rmmod livemig_cbt || fail rmmod
kernel_log_check
echo "== $failures failure(s)"
[ "$failures" = 0 ]
