#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Source disks for the launch tests: a Debian 12 system as a machine on
# other hardware would have it: systemd, Debian's kernel, GRUB 2, a static
# address on its old NIC name (ens3, MAC pinned by a persistent-net rule and
# a .link file), fstab and the kernel's root by device name (/dev/sda*),
# an enabled livemigd unit and the agent's credentials.
#   guest_image.sh VARIANT   prints the path of the cached raw image
# VARIANT: bios     MBR, GRUB i386-pc, initramfs MODULES=most; its fstab
#                   also mounts the data disk's /dev/sdb1 on /srv/data
#          uefi     GPT + ESP, GRUB x86_64-efi (EFI/debian only, as an
#                   installer leaves it), initramfs MODULES=most
#          novirtio like bios, but an initramfs with IDE/SATA drivers only
#          data     bios's second disk: 64 MiB, MBR, one ext4 partition
#                   holding /livemig-data-disk (no debootstrap needed)
# Made once (debootstrap, then no mount: mkfs.ext4 -d, mtools, dd) and cached
# under $LAUNCH_CACHE; the tests never write to these files.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/debootstrap_cache.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/bios_disk.sh"

LAUNCH_CACHE=${LAUNCH_CACHE:-/var/cache/livemig-tests/launch}
MIRROR=${CHROOT_MIRROR:-http://deb.debian.org/debian}
# bump when the package list or the fixture changes
ROOTFS_TARBALL=$LAUNCH_CACHE/bookworm-guest-v1.tar.gz
FIXTURE_VERSION=v3
INCLUDE="systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,zstd,grub-pc-bin,grub-efi-amd64-bin,grub2-common,ifupdown,isc-dhcp-client,iproute2,kmod,e2fsprogs,procps"
IMAGE_MIB=2048
ESP_MIB=64
DATA_MIB=64
DATA_MOUNT=/srv/data

variant=${1:?usage: guest_image.sh bios|uefi|novirtio|data}
case $variant in bios | uefi | novirtio | data) ;; *) echo "guest_image.sh: unknown variant $variant" >&2; exit 2 ;; esac
if [ "$variant" = data ]; then
	out=$LAUNCH_CACHE/data-$FIXTURE_VERSION.raw
else
	out=$LAUNCH_CACHE/debian12-$variant-$FIXTURE_VERSION.raw
fi
mkdir -p "$LAUNCH_CACHE"

rootfs_tarball() {
	debootstrap_tarball "$ROOTFS_TARBALL" "$INCLUDE" "$MIRROR"
}

in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# the system as its owner configured it on the old hardware
write_fixture() {
	local kver=$1 rootdev=$2
	echo "src-$variant" >"$R/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tsrc-%s\n' "$variant" >"$R/etc/hosts"
	# a machine-id, as a machine that has booted has one
	echo 0123456789abcdef0123456789abcdef >"$R/etc/machine-id"
	{
		echo "# <file system> <mount point> <type> <options> <dump> <pass>"
		echo "$rootdev / ext4 errors=remount-ro 0 1"
		[ "$variant" = uefi ] && echo "/dev/sda1 /boot/efi vfat umask=0077 0 1"
		# a data disk named by device, as an installer that predates UUIDs left it
		[ "$variant" = bios ] && echo "/dev/sdb1 $DATA_MOUNT ext4 defaults 0 2"
	} >"$R/etc/fstab"
	mkdir -p "$R/boot/efi" "$R$DATA_MOUNT"
	cat >"$R/etc/network/interfaces" <<'EOF'
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto ens3
iface ens3 inet static
	address 192.168.50.10/24
	gateway 192.168.50.1
EOF
	cat >"$R/etc/udev/rules.d/70-persistent-net.rules" <<'EOF'
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="52:54:00:0a:0b:0c", ATTR{type}=="1", KERNEL=="eth*", NAME="ens3"
EOF
	mkdir -p "$R/etc/systemd/network"
	printf '[Match]\nMACAddress=52:54:00:0a:0b:0c\n\n[Link]\nName=ens3\n' >"$R/etc/systemd/network/10-ens3.link"
	# the agent as installed on the source: an enabled unit and its credentials
	mkdir -p "$R/etc/livemig" "$R/var/lib/livemig"
	printf 'machine = src-%s\nhost = 10.9.9.9\nca = /etc/livemig/staging-ca.pem\ncert = /etc/livemig/agent.pem\nkey = /etc/livemig/agent.key\n' \
		"$variant" >"$R/etc/livemig/livemigd.conf"
	echo "-----BEGIN PRIVATE KEY----- fixture" >"$R/etc/livemig/agent.key"
	echo "-----BEGIN CERTIFICATE----- fixture" >"$R/etc/livemig/agent.pem"
	echo "-----BEGIN CERTIFICATE----- fixture" >"$R/etc/livemig/staging-ca.pem"
	echo "5c1f0e-token-fixture" >"$R/etc/livemig/token"
	chmod 0600 "$R/etc/livemig/agent.key" "$R/etc/livemig/token"
	printf '[Unit]\nDescription=livemig agent (test stand-in)\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' \
		>"$R/etc/systemd/system/livemigd.service"
	ln -sf /etc/systemd/system/livemigd.service "$R/etc/systemd/system/multi-user.target.wants/livemigd.service"
	echo livemig_cbt >"$R/etc/modules-load.d/livemig.conf"
	# GRUB as a device-name install has it; the first-boot console on serial;
	# a stuck initramfs gives up after 20 s instead of 180 (negative control)
	serial_grub "$R" "$kver" "$rootdev" rootdelay=20
	echo "root:livemig" | in_root chpasswd
}

build_image() {
	local work R kver uuid rootdev root_off
	rootfs_tarball
	work=$(mktemp -d "$LAUNCH_CACHE/build-$variant.XXXXXX")
	R=$work/root
	mkdir -p "$R"
	tar -C "$R" -xzf "$ROOTFS_TARBALL"
	kver=$(basename "$(ls -d "$R"/lib/modules/*-amd64 | sort -V | tail -n 1)")
	uuid=$(uuidgen)
	mkdir -p "$R/boot/grub"
	if [ "$variant" = uefi ]; then rootdev=/dev/sda2; else rootdev=/dev/sda1; fi
	write_fixture "$kver" "$rootdev"
	if [ "$variant" = novirtio ]; then
		# only what an IDE/SATA machine needs: no virtio in the initramfs
		sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
		printf 'ata_piix\nahci\nsd_mod\next4\n' >>"$R/etc/initramfs-tools/modules"
		mount -t proc proc "$R/proc"
		in_root update-initramfs -u -k "$kver" >"$work/initramfs.log" 2>&1 || { umount "$R/proc"; cat "$work/initramfs.log" >&2; return 1; }
		umount "$R/proc"
	fi
	rm -f "$R/boot/initrd.img-$kver.bak"
	if [ "$variant" = uefi ]; then
		truncate -s "${IMAGE_MIB}M" "$work/disk.raw"
		cp -a "$R/usr/lib/grub/x86_64-efi" "$R/boot/grub/"
		printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n' \
			"$uuid" >"$R/tmp/early.cfg"
		in_root grub-mkimage -O x86_64-efi -o /tmp/grubx64.efi -p /boot/grub -c /tmp/early.cfg \
			part_gpt part_msdos ext2 fat search search_fs_uuid configfile normal linux echo \
			all_video efi_gop serial terminal test true loadenv gzio minicmd regexp sleep probe echo
		mv "$R/tmp/grubx64.efi" "$work/"
		rm -f "$R/tmp/early.cfg"
		mkfs.vfat -n ESP -C "$work/esp.img" $((ESP_MIB * 1024)) >/dev/null
		mmd -i "$work/esp.img" ::/EFI ::/EFI/debian
		mcopy -i "$work/esp.img" "$work/grubx64.efi" ::/EFI/debian/grubx64.efi
		sfdisk -q "$work/disk.raw" <<EOF
label: gpt
start=2048, size=$((ESP_MIB * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
start=$((2048 + ESP_MIB * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
EOF
		dd if="$work/esp.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
		root_off=$((1 + ESP_MIB))
		mkfs.ext4 -q -F -U "$uuid" -d "$R" "$work/root.img" "$((IMAGE_MIB - root_off - 1))M"
		dd if="$work/root.img" of="$work/disk.raw" bs=1M seek="$root_off" conv=notrunc,sparse status=none
	else
		bios_disk "$R" "$work" "$IMAGE_MIB" "$uuid" "$work/disk.raw"
	fi
	mv "$work/disk.raw" "$out.tmp"
	chmod 0444 "$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$work"
}

# the data disk: one ext4 partition whose only file names it
build_data() {
	local work
	work=$(mktemp -d "$LAUNCH_CACHE/build-data.XXXXXX")
	mkdir "$work/fs"
	echo "livemig test data disk (the bios machine's /dev/sdb1)" >"$work/fs/livemig-data-disk"
	truncate -s "${DATA_MIB}M" "$work/disk.raw"
	sfdisk -q "$work/disk.raw" <<EOF
label: dos
start=2048, type=83
EOF
	truncate -s "$((DATA_MIB - 2))M" "$work/fs.img"
	mkfs.ext4 -q -F -L livemig-data -d "$work/fs" "$work/fs.img"
	dd if="$work/fs.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
	mv "$work/disk.raw" "$out.tmp"
	chmod 0444 "$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$work"
}

if [ ! -s "$out" ]; then
	(
		flock 9
		if [ -s "$out" ]; then :; elif [ "$variant" = data ]; then build_data; else build_image; fi
	) 9>"$LAUNCH_CACHE/.build.lock"
fi
echo "$out"
