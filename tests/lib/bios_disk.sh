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
#
#   serial_grub ROOT KVER ROOTDEV [KERNEL_ARGS]
#
# GRUB's settings as a device-name install has them, the console on serial:
# ROOT/etc/default/grub and ROOT/boot/grub/grub.cfg booting KVER from ROOTDEV.

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

serial_grub() {
	local root=$1 kver=$2 rootdev=$3 args=${4:-}
	cat >"$root/etc/default/grub" <<-'GRUB'
		GRUB_DEFAULT=0
		GRUB_TIMEOUT=1
		GRUB_DISTRIBUTOR=Debian
		GRUB_CMDLINE_LINUX_DEFAULT=""
		GRUB_CMDLINE_LINUX="console=ttyS0,115200"
		GRUB_DISABLE_LINUX_UUID=true
		GRUB_DISABLE_OS_PROBER=true
	GRUB
	mkdir -p "$root/boot/grub"
	printf '%s\n' 'set timeout=1' "menuentry 'Debian GNU/Linux' {" $'\tinsmod ext2' \
		$'\t'"linux /boot/vmlinuz-$kver root=$rootdev ro console=ttyS0,115200${args:+ $args}" \
		$'\t'"initrd /boot/initrd.img-$kver" '}' >"$root/boot/grub/grub.cfg"
}
