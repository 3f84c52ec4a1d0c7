#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source machine of the end-to-end migration test: a Debian 12 server as
# an operator would have it, on two disks.
#   sda  MBR, GRUB i386-pc, ext4 root (/dev/sda1), initramfs MODULES=most;
#        systemd, Debian's kernel with its headers, DKMS and a compiler,
#        PostgreSQL 15, LVM, ssh (root by key), the agent's runtime libraries
#        (the guest reaches no Debian mirror, only the test's repository)
#   sdb  LVM: VG vgdata, LV pgdata (ext4), mounted on /var/lib/postgresql
#        by /dev/mapper name: PostgreSQL 15's cluster, pgbench tables
# e1000 NIC with a fixed MAC named ens3, static 10.0.2.15/24 (QEMU user
# networking); console.e2e.test and staging.e2e.test are 10.0.2.100, where
# QEMU forwards to the host's loopback. e2e-report.service is the fixture's
# health check (tests/e2e/e2e-report.sh).
#   source_image.sh     prints "ROOT_IMAGE DATA_IMAGE SSH_KEY" (cached)
# Made once: debootstrap (its own tarball), the disks without mounting
# anything (tests/lib/bios_disk.sh), then one boot under QEMU that makes the
# LVM volume, moves the cluster onto it and runs `pgbench -i`, and powers
# off. The cached files are read-only; the test copies them.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib/debootstrap_cache.sh"
. "$HERE/../lib/bios_disk.sh"
. "$HERE/vm_lib.sh"

E2E_CACHE=${E2E_CACHE:-/var/cache/livemig-tests/e2e}
MIRROR=${CHROOT_MIRROR:-http://deb.debian.org/debian}
# bump when the package list (the tarball) or the fixture (the disks) changes
ROOTFS_TARBALL=$E2E_CACHE/bookworm-e2e-v1.tar.gz
FIXTURE_VERSION=v2
# the agent's runtime libraries: ldd build/livemigd build/livemig
AGENT_LIBS="libcurl4,libisal2,libjansson4,libssl3,libsystemd0,libudev1,zlib1g"
INCLUDE="systemd-sysv,udev,dbus,linux-image-amd64,linux-headers-amd64,initramfs-tools,zstd,grub-pc-bin,grub2-common,ifupdown,isc-dhcp-client,iproute2,kmod,e2fsprogs,procps,dkms,gcc,make,postgresql-15,lvm2,openssh-server,debconf-utils,python3,$AGENT_LIBS"
# Every byte of both disks is mirrored, hashed again at the rescan and
# converted at each launch, all under TCG: the disks are as small as the
# test allows. The root disk is the system's files plus ROOT_SPARE_MIB, in
# steps of 128 MiB: the installation's prerequisite check wants 1 GiB free
# on / for an unprivileged writer (root-free-space, docs/prerequisites.md),
# beside ext4's journal, inode tables and 5% root reserve, the packages and
# DKMS's build trees, the journal and the workload's logs (2048 MiB, with
# 768 spare, left 676 MiB and failed the check). The data disk holds
# PostgreSQL's cluster at pgbench -s 1 and its WAL: 256 MiB carried a whole
# run at 5 tps (docs/testing.md).
ROOT_SPARE_MIB=1280
DATA_MIB=256
PROVISION_TIMEOUT=${PROVISION_TIMEOUT:-1800} # one TCG boot, initdb, pgbench -i

ROOT_IMG=$E2E_CACHE/debian12-e2e-root-$FIXTURE_VERSION.raw
DATA_IMG=$E2E_CACHE/debian12-e2e-data-$FIXTURE_VERSION.raw
KEY=$E2E_CACHE/ssh-$FIXTURE_VERSION/id_ed25519
mkdir -p "$E2E_CACHE"

in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

write_fixture() {
	local kver=$1
	echo e2e-src >"$R/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\te2e-src\n%s\tconsole.e2e.test staging.e2e.test\n' "$VM_HOST_ADDR" >"$R/etc/hosts"
	echo 0123456789abcdef0123456789abcde2 >"$R/etc/machine-id"
	printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/sda1 / ext4 errors=remount-ro 0 1\n' >"$R/etc/fstab"
	cat >"$R/etc/network/interfaces" <<EOF
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto ens3
iface ens3 inet static
	address $VM_GUEST_ADDR/24
	gateway $VM_GATEWAY
EOF
	mkdir -p "$R/etc/systemd/network"
	printf '[Match]\nMACAddress=%s\n\n[Link]\nName=ens3\n' "$VM_MAC" >"$R/etc/systemd/network/10-ens3.link"
	# no mirror: the test writes the local repository's line
	: >"$R/etc/apt/sources.list"
	# root by key only (PermitRootLogin prohibit-password is Debian's default)
	install -d -m 0700 "$R/root/.ssh"
	install -m 0600 "$KEY.pub" "$R/root/.ssh/authorized_keys"
	# the operator's health check (one line on the serial console)
	install -m 0755 "$HERE/e2e-report.sh" "$R/usr/local/sbin/e2e-report"
	install -m 0755 "$HERE/records.py" "$R/usr/local/sbin/e2e-records"
	cat >"$R/etc/systemd/system/e2e-report.service" <<'EOF'
[Unit]
Description=health check: PostgreSQL's facts on the serial console
Wants=network-online.target
After=network-online.target postgresql.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/e2e-report

[Install]
WantedBy=multi-user.target
EOF
	ln -sf /etc/systemd/system/e2e-report.service "$R/etc/systemd/system/multi-user.target.wants/e2e-report.service"
	# what needs a running system, once, at the build
	install -m 0755 "$HERE/provision.sh" "$R/usr/local/sbin/e2e-provision"
	cat >"$R/etc/systemd/system/e2e-provision.service" <<'EOF'
[Unit]
Description=build-time provisioning of the e2e source (LVM, PostgreSQL, pgbench)
ConditionPathExists=/usr/local/sbin/e2e-provision
After=local-fs.target postgresql.service
Before=e2e-report.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/e2e-provision
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
	ln -sf /etc/systemd/system/e2e-provision.service "$R/etc/systemd/system/multi-user.target.wants/e2e-provision.service"
	# as CI and container images have it: no documentation (less to mirror),
	# no man-db index rebuilt by every package with a man page (minutes
	# under TCG when man-db is there)
	cat >"$R/etc/dpkg/dpkg.cfg.d/e2e-nodoc" <<'NODOC'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
NODOC
	rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/*
	[ ! -d "$R/usr/share/locale" ] ||
		find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
	if [ -d "$R/var/lib/man-db" ]; then
		echo 'man-db man-db/auto-update boolean false' | in_root debconf-set-selections
		rm -f "$R/var/lib/man-db/auto-update"
	fi
	serial_grub "$R" "$kver" /dev/sda1
	echo "root:livemig" | in_root chpasswd
}

build_images() {
	local work kver hver root_mib
	debootstrap_tarball "$ROOTFS_TARBALL" "$INCLUDE" "$MIRROR"
	work=$(mktemp -d "$E2E_CACHE/build.XXXXXX")
	R=$work/root
	mkdir -p "$R" "$(dirname "$KEY")"
	[ -s "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C livemig-e2e -f "$KEY"
	tar -C "$R" -xzf "$ROOTFS_TARBALL"
	kver=$(basename "$(ls -d "$R"/lib/modules/*-amd64 | sort -V | tail -n 1)")
	hver=$(basename "$(ls -d "$R"/usr/src/linux-headers-*-amd64 | sort -V | tail -n 1)")
	# DKMS builds for the running kernel: its headers must be that version's
	[ "$hver" = "linux-headers-$kver" ] || { echo "source_image.sh: kernel $kver, headers $hver" >&2; return 1; }
	# services start as on any system (debootstrap's policy-rc.d said no)
	rm -f "$R/usr/sbin/policy-rc.d"
	mkdir -p "$R/boot/grub"
	write_fixture "$kver"
	rm -f "$R/boot/initrd.img-$kver.bak"
	root_mib=$((($(du -sm "$R" | cut -f1) + ROOT_SPARE_MIB + 127) / 128 * 128))
	echo "source_image.sh: root disk $root_mib MiB, data disk $DATA_MIB MiB" >&2
	bios_disk "$R" "$work" "$root_mib" "$(uuidgen)" "$work/root.raw"
	truncate -s "${DATA_MIB}M" "$work/data.raw"
	rm -rf "$R"
	echo "source_image.sh: provisioning boot (LVM, PostgreSQL on it, pgbench -i); serial log $work/provision.log" >&2
	vm_start "$work/root.raw" "$work/data.raw" "$work/provision.log" ""
	if ! vm_wait_exit "$PROVISION_TIMEOUT" || ! grep -q 'E2E-PROVISIONED ok' "$work/provision.log"; then
		vm_kill
		echo "source_image.sh: the provisioning boot failed; serial log:" >&2
		tail -n 40 "$work/provision.log" >&2
		return 1
	fi
	chmod 0444 "$work/root.raw" "$work/data.raw"
	mv "$work/data.raw" "$DATA_IMG"
	mv "$work/root.raw" "$ROOT_IMG"
	rm -rf "$work"
}

if [ ! -s "$ROOT_IMG" ] || [ ! -s "$DATA_IMG" ]; then
	(
		flock 9
		[ -s "$ROOT_IMG" ] && [ -s "$DATA_IMG" ] || build_images
	) 9>"$E2E_CACHE/.build.lock"
fi
echo "$ROOT_IMG $DATA_IMG $KEY"
