#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of tests/kmod/run.sh: FREEZE and THAW (docs/kmod-abi.md). Two
# ext4 file systems, one on the partition vda1, one on a dm-linear device
# over vdb, frozen together by cbt_tool; a writer (4 KiB + fsync) started
# during the freeze must block until the thaw and then finish. Each way a
# freeze ends: THAW; the timeout (THAW then says ETIMEDOUT); kill -9 of the
# process holding it (the kernel releases its file descriptor) long before
# the timeout, told apart by the module's counters. Then the errors: EBUSY
# for a file system frozen by someone else (and the device frozen before it
# thawed again), ENOTBLK, a second FREEZE on the same descriptor, THAW with
# nothing frozen, a bad timeout.
set -u
OUT=$1
failures=0
# shellcheck source=tests/kmod/guest_module_lib.sh
. "$(dirname "$0")/guest_module_lib.sh"
D=/tmp/freeze
mkdir -p $D/a $D/b

# wait_for FILE WORD [TENTHS]: until FILE holds WORD (default 60 s)
wait_for() {
	local i
	for i in $(seq "${3:-600}"); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# writer DIR: 4 KiB written and fsync'd in the background; its pid in $wpid.
# Its "done" marker lives beside DIR, on the guest's tmpfs: nothing but the
# writer itself may touch a file system that may be frozen (even rm -f of a
# missing file waits for the thaw).
writer() {
	rm -f "$1.done"
	(dd if=/dev/urandom of="$1/data" bs=4096 count=1 conv=fsync status=none && touch "$1.done") &
	wpid=$!
}
# writer_done DIR [TENTHS]: the writer finished (default: within 60 s)
writer_done() {
	local i
	for i in $(seq "${2:-600}"); do
		[ -e "$1.done" ] && return 0
		sleep 0.1
	done
	return 1
}
stat_of() { cat "$S/$1"; }

echo "== setup: ext4 on vda1 and on dm-linear over vdb"
insmod "$KO" || { fail insmod; exit 1; }
modprobe ext4 && modprobe dm_mod || fail "modprobe ext4 dm_mod"
dmsetup --noudevsync create cbtfz --table "0 $(blockdev --getsz /dev/vdb) linear /dev/vdb 0" || fail "dmsetup create"
# no udev in the guest: use the kernel's node for the dm device
DM=/dev/$(dmsetup info -c --noheadings -o blkdevname cbtfz)
mkfs.ext4 -q -F /dev/vda1 && mkfs.ext4 -q -F "$DM" || fail mkfs
mount /dev/vda1 $D/a && mount "$DM" $D/b || fail mount
DEVS="/dev/vda1 $DM"

echo "== THAW ends the freeze; writers wait for it"
rm -f $D/ctl && mkfifo $D/ctl
# shellcheck disable=SC2086
"$T" freeze 600000 stdin $DEVS <$D/ctl >$D/out1 &
hpid=$!
exec 7>$D/ctl
wait_for $D/out1 frozen || fail "freeze: $(cat $D/out1)"
writer $D/a
wa=$wpid
writer $D/b
sleep 1
# frozen: neither writer can have finished, however fast the machine
[ -e $D/a.done ] && fail "a write to the frozen vda1 finished" || pass "writer on vda1 waits"
[ -e $D/b.done ] && fail "a write to the frozen dm device finished" || pass "writer on dm waits"
check "sysfs freezes" "$(stat_of freezes)" 1
echo go >&7
exec 7>&-
wait $hpid
check "THAW" "$(sed -n 2p $D/out1 | sed 's/frozen_ns=.*//')" "thawed "
echo "   $(sed -n 2p $D/out1)"
writer_done $D/a && pass "writer on vda1 finished after THAW" || fail "writer on vda1 still blocked"
writer_done $D/b && pass "writer on dm finished after THAW" || fail "writer on dm still blocked"
wait $wa $wpid
# not frozen any more: FITHAW on a file system that is not frozen is EINVAL
fsfreeze -u $D/a 2>/dev/null && fail "vda1 was still frozen" || pass "vda1 not frozen"

echo "== the timeout thaws; THAW then says ETIMEDOUT"
rm -f $D/ctl && mkfifo $D/ctl
# shellcheck disable=SC2086
"$T" freeze 1500 stdin $DEVS <$D/ctl >$D/out2 &
hpid=$!
exec 7>$D/ctl
wait_for $D/out2 frozen || fail "freeze: $(cat $D/out2)"
writer $D/a
writer_done $D/a && pass "writer finished after the timeout" || fail "writer still blocked after the timeout"
wait $wpid
check "sysfs freeze_timeouts" "$(stat_of freeze_timeouts)" 1
echo go >&7
exec 7>&-
wait $hpid
check "THAW after the timeout" "$(sed -n 2p $D/out2)" "thaw: ETIMEDOUT"

echo "== kill -9 of the holder thaws at once (timeout 10 min)"
# shellcheck disable=SC2086
"$T" freeze 600000 hold $DEVS >$D/out3 &
hpid=$!
wait_for $D/out3 frozen || fail "freeze: $(cat $D/out3)"
writer $D/a
wa=$wpid
writer $D/b
sleep 1
[ -e $D/a.done ] && fail "a write to the frozen vda1 finished" || pass "writer waits while the holder lives"
t0=$(date +%s)
kill -9 $hpid
wait $hpid 2>/dev/null
# 5 min: well inside the 10 min timeout, so only the release can have
# thawed (the counters below say which did)
writer_done $D/a 3000 && pass "writer on vda1 finished after kill -9 ($(($(date +%s) - t0)) s)" ||
	fail "writer on vda1 blocked 5 min after kill -9"
writer_done $D/b 3000 && pass "writer on dm finished after kill -9" || fail "writer on dm blocked"
wait $wa $wpid
check "sysfs freeze_releases" "$(stat_of freeze_releases)" 1
check "sysfs freeze_timeouts (unchanged)" "$(stat_of freeze_timeouts)" 1
echo more >>$D/a/data && sync && pass "writes go on" || fail "write after kill -9"

echo "== errors"
fsfreeze -f $D/a || fail "fsfreeze -f"
# the dm device freezes first, vda1 (frozen by someone else) fails: all or none
out=$("$T" freeze 600000 stdin "$DM" /dev/vda1 </dev/null)
case $out in
"freeze: EBUSY failed=1")
	pass "FREEZE of a file system frozen by FIFREEZE: EBUSY, nothing left frozen (freeze_bdev does not nest with FIFREEZE)" ;;
frozen*)
	# bdev_freeze (6.8 and later) keeps a kernel holder beside the user's:
	# the module freezes too, and its thaw must leave the user's freeze
	pass "FREEZE of a file system frozen by FIFREEZE nests with it (bdev_freeze holders)" ;;
*)
	fail "FREEZE of a file system frozen by FIFREEZE: got '$out'" ;;
esac
writer $D/b
writer_done $D/b && pass "the dm device was thawed again" || fail "dm device left frozen"
wait $wpid
# FITHAW succeeds only on a frozen file system: the user's freeze is intact
fsfreeze -u $D/a && pass "vda1 still frozen by its FIFREEZE until fsfreeze -u" ||
	fail "vda1 was thawed by the module, not by its FIFREEZE's owner"
check "FREEZE of a regular file" "$("$T" freeze 1000 stdin /dev/vda1 $D/a/data </dev/null)" "freeze: ENOTBLK failed=1"
check "FREEZE twice on one descriptor" "$("$T" freeze 600000 again /dev/vda1 | tr '\n' ' ' | sed 's/frozen_ns=[0-9]*//')" \
	"frozen freeze: EBUSY failed=0 thawed  "
check "THAW with nothing frozen" "$("$T" thaw)" "thaw: ENOENT"
check "FREEZE timeout 0" "$("$T" freeze 0 stdin /dev/vda1 </dev/null)" "freeze: EINVAL failed=0"
check "FREEZE timeout above the cap" "$("$T" freeze 600001 stdin /dev/vda1 </dev/null)" "freeze: EINVAL failed=0"
echo x >$D/a/after && sync && pass "vda1 writable at the end" || fail "vda1 not writable"

echo "== teardown"
umount $D/a $D/b || fail umount
dmsetup --noudevsync remove cbtfz || fail "dmsetup remove"
rmmod livemig_cbt || fail rmmod
echo "guest_freeze: $failures failure(s)"
[ "$failures" = 0 ]
