#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A machine of three disks converted together, without a boot (no TCG
# guest: the boot of a machine with a data disk is t_lifecycle.sh's): the
# bios source disk (sda) whose fstab, as its owner left it, mounts a
# partition of the second disk by device name (/dev/sdb1 on /srv/data, the
# `data` disk), a logical volume of the third (a whole-disk PV, as a
# database's volume often is: /dev/mapper/lmdata-pg on /srv/pg) and a
# partition of a fourth disk the conversion is not given (/dev/sdd1).
# The conversion must succeed with every disk in order; /dev/sdb1 becomes
# its UUID; the LV is left to the guest (no native mount, disk null); the
# missing disk's entry is commented out with a warning; the inputs are not
# written.
#   t_convert_datadisks.sh BUILD
. "$(dirname "$0")/../integration/lib.sh" "$1"
need_root
command -v guestfish >/dev/null || die "guestfish is missing (ci/deps.sh launch installs libguestfs-tools)"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
LAUNCH=$BUILD/livemig-launch

step_t0=0
step() { step_t0=$(date +%s); echo "-- $*"; }
took() { echo "   ($1: $(($(date +%s) - step_t0)) s)"; }

step "the machine's disks: bios (an overlay, its fstab edited), data, and an LVM disk"
SRC=$("$TESTS/../launch/guest_image.sh" bios) || die "cannot build the bios source image"
DATA=$("$TESTS/../launch/guest_image.sh" data) || die "cannot build the data disk"
sha_src=$(file_sha "$SRC")
sha_data=$(file_sha "$DATA")
qemu-img create -q -f qcow2 -b "$SRC" -F raw "$T/sda.qcow2" || die "qemu-img create"
truncate -s 128M "$T/lvm.raw"
# this host may have no device-mapper: the volume is made in libguestfs's appliance
guestfish -a "$T/sda.qcow2" -a "$T/lvm.raw" >"$T/guestfish.log" 2>&1 <<'EOF' || die "guestfish: $(cat "$T/guestfish.log")"
run
pvcreate /dev/sdb
vgcreate lmdata /dev/sdb
lvcreate pg lmdata 120
mkfs ext4 /dev/lmdata/pg
mount /dev/sda1 /
mkdir-p /srv/pg
mkdir-p /srv/gone
write /etc/fstab "# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/sda1 / ext4 errors=remount-ro 0 1\n/dev/sdb1 /srv/data ext4 defaults 0 2\n/dev/mapper/lmdata-pg /srv/pg ext4 defaults 0 2\n/dev/sdd1 /srv/gone ext4 defaults 0 2\n"
umount-all
EOF
sha_lvm=$(file_sha "$T/lvm.raw")
data_uuid=$(blkid -o value -s UUID -p --offset 1048576 "$DATA") || die "blkid of the data disk"
took "disks"

step "convert the three disks"
"$LAUNCH" convert --input "$T/sda.qcow2" --output "$T/copy-sda.qcow2" --input "$DATA" --output "$T/copy-sdb.qcow2" \
	--input "$T/lvm.raw" --output "$T/copy-sdc.qcow2" --workdir "$T" --report "$T/conv.json" 2>"$T/convert.log" ||
	{ cat "$T/convert.log"; fail "the conversion of three disks failed"; }
took convert
R=$T/conv.json
jq -c .timings_ms "$R"
check "the report lists the three disks in order, formats from their headers" \
	jq -e --arg t "$T" --arg d "$DATA" '[.disks[] | [.input, .input_format, .output]] ==
		[[$t + "/sda.qcow2", "qcow2", $t + "/copy-sda.qcow2"], [$d, "raw", $t + "/copy-sdb.qcow2"],
		 [$t + "/lvm.raw", "raw", $t + "/copy-sdc.qcow2"]] and .output == $t + "/copy-sda.qcow2"' "$R"
jq -e '[.mounts[] | [.mountpoint, .disk]] | sort == [["/", 0], ["/srv/data", 1], ["/srv/pg", null]]' "$R" >/dev/null ||
	fail "the mounts: $(jq -c .mounts "$R")"
pass "mounts: / on disk 0, /srv/data on disk 1, the LV not on a partition (disk null), /srv/gone absent"
jq -e --arg u "$data_uuid" '[.changes[] | select(.what == "fstab" or .what == "warning") | .detail] as $d |
		($d | index("/dev/sdb1 -> UUID=" + $u + " (/srv/data)")) != null and
		($d | index("/dev/sdd1 (/srv/gone) commented out: no UUID found")) != null and
		($d | index("/dev/sdd1 (/srv/gone) is on none of the 3 disks given: not mounted in the copy")) != null' "$R" \
	>/dev/null || fail "the fstab changes: $(jq -c '[.changes[] | select(.what == "fstab" or .what == "warning")]' "$R")"
pass "fstab: /dev/sdb1 by its UUID, /dev/sdd1 commented out with a warning"
for d in sda:"$T/sda.qcow2" sdb:"$DATA" sdc:"$T/lvm.raw"; do
	check "copy-${d%%:*} is an overlay on its input" \
		bash -c "qemu-img info --output=json '$T/copy-${d%%:*}.qcow2' | jq -e --arg s '${d#*:}' '.[\"backing-filename\"] == \$s' >/dev/null"
done

step "the copy's fstab, read-only on this host"
touch "$T/copy.raw"
qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$T/copy-sda.qcow2,read-only=on" \
	--blockdev driver=qcow2,node-name=q,file=f,read-only=on \
	--export "type=fuse,id=e,node-name=q,mountpoint=$T/copy.raw" --pidfile "$T/qsd.pid" --daemonize ||
	fail "qemu-storage-daemon could not export the copy"
track_pid "$(cat "$T/qsd.pid")"
off=$(jq -r '.mounts[] | select(.mountpoint == "/") | .offset' "$R")
size=$(jq -r '.mounts[] | select(.mountpoint == "/") | .size' "$R")
loop=$(losetup -f --show -r -o "$off" --sizelimit "$size" "$T/copy.raw") || fail "losetup on the copy"
debugfs -R 'cat /etc/fstab' "$loop" >"$T/fstab" 2>"$T/debugfs.err"
losetup -d "$loop"
kill "$(cat "$T/qsd.pid")"
check "UUID=$data_uuid on /srv/data" grep -Eq "^UUID=$data_uuid /srv/data ext4 " "$T/fstab"
check "the LV's entry as it was" grep -Eq "^/dev/mapper/lmdata-pg /srv/pg ext4 " "$T/fstab"
check "/dev/sdd1 commented out, no bus device left" \
	bash -c "grep -Eq '^#.*/dev/sdd1 /srv/gone' '$T/fstab' && ! grep -Eq '^/dev/(sd|hd|vd)' '$T/fstab'"

[ "$(file_sha "$SRC")" = "$sha_src" ] || fail "the bios source image changed"
[ "$(file_sha "$DATA")" = "$sha_data" ] || fail "the data disk changed"
[ "$(file_sha "$T/lvm.raw")" = "$sha_lvm" ] || fail "the LVM disk changed"
pass "the inputs are unchanged (sha256)"
