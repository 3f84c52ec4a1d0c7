# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A BIOS-bootable raw disk from a root file system tree, without mounting
# anything: MBR with one bootable partition from 1 MiB, GRUB i386-pc's
# boot.img in the MBR and core.img after it (prefix (hd0,msdos1)/boot/grub),
# the partition an ext4 made by mkfs.ext4 -d. The tree must hold
# /usr/lib/grub/i386-pc (grub-pc-bin) and its own /boot/grub/grub.cfg.
# Sourced; needs bash.
#
#   bios_disk ROOT WORK SIZE_MIB UUID OUT
#
# ROOT is changed (GRUB's modules copied to ROOT/boot/grub); WORK is a
# scratch directory; OUT is written (sparse).

bios_disk() {
	local root=$1 work=$2 mib=$3 uuid=$4 out=$5
	cp -a "$root/usr/lib/grub/i386-pc" "$root/boot/grub/"
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' biosdisk part_msdos ext2 || return 1
	mv "$root/tmp/core.img" "$work/"
	rm -f "$out"
	truncate -s "${mib}M" "$out"
	sfdisk -q "$out" <<-SFDISK || return 1
		label: dos
		start=2048, type=83, bootable
	SFDISK
	# boot.img's code into the MBR (partition table kept), core.img after it
	dd if="$root/usr/lib/grub/i386-pc/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none &&
		dd if="$work/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none || return 1
	mkfs.ext4 -q -F -U "$uuid" -d "$root" "$work/root.img" "$((mib - 2))M" || return 1
	dd if="$work/root.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
	rm -f "$work/root.img" "$work/core.img"
}
