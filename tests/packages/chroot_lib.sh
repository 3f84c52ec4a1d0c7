# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A Debian 12 chroot for the package tests, made once by debootstrap from
# Debian's registry and cached as a tarball between runs:
#   chroot_tarball            path of the cached tarball; builds it if missing
#   chroot_launch_tarball     the same plus what livemig-launch depends on
#                             (libguestfs, libvirt, QEMU's tools): a tarball
#                             of its own, so the other chroots stay small
#   chroot_unpack DIR [launch]
#                             a fresh chroot in DIR from the tarball (the
#                             launch tarball with "launch")
#   chroot_mount DIR          /proc, /sys, /dev (bind, for identity, inventory
#                             and DKMS) and a policy-rc.d that forbids starting
#                             services (systemd is not PID 1 in a chroot)
#   chroot_umount DIR         undo chroot_mount (lazy, in reverse order)
#   in_chroot DIR CMD...      run CMD in the chroot, noninteractive
#
# What the tarball holds besides minbase is what the packages depend on
# (runtime libraries, dkms, the kernel headers DKMS builds against), so that
# installing them needs only the local repository of our .debs.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/debootstrap_cache.sh"

CHROOT_CACHE=${CHROOT_CACHE:-/var/cache/livemig-tests}
CHROOT_MIRROR=${CHROOT_MIRROR:-http://deb.debian.org/debian}
# bump the suffix when the list changes, so a stale cache is not used.
# systemd: installed, not running (systemd-analyze verify --root, systemctl
# enable); python3-apt: what Ansible's apt module needs on its target
# librbd1, librados2: livemig-staging's RBD image store (docs/staging-store.md)
CHROOT_INCLUDE="systemd,python3-apt,dkms,linux-headers-amd64,make,gcc,kmod,python3,init-system-helpers,ca-certificates,libssl3,libcurl4,libjansson4,libisal2,libudev1,zlib1g,libsystemd0,libmicrohttpd12,libsqlite3-0,libpq5,adduser,procps,librbd1,librados2"
CHROOT_TARBALL=$CHROOT_CACHE/bookworm-minbase-v5.tar.gz
# livemig-launch's Depends: libguestfs0 (which pulls QEMU and supermin),
# libvirt0, qemu-utils (qemu-img), qemu-system-common (qemu-storage-daemon)
CHROOT_LAUNCH_INCLUDE="$CHROOT_INCLUDE,libguestfs0,libvirt0,qemu-utils,qemu-system-common,mount"
# debootstrap does not resolve virtual packages: perl-openssl-abi-3 (of
# libnet-ssleay-perl, under libguestfs0's icoutils) is perl-openssl-defaults's
CHROOT_LAUNCH_INCLUDE="$CHROOT_LAUNCH_INCLUDE,perl-openssl-defaults"
CHROOT_LAUNCH_TARBALL=$CHROOT_CACHE/bookworm-launch-v3.tar.gz

chroot_tarball() {
	debootstrap_tarball "$CHROOT_TARBALL" "$CHROOT_INCLUDE" "$CHROOT_MIRROR" || return 1
	echo "$CHROOT_TARBALL"
}

chroot_launch_tarball() {
	debootstrap_tarball "$CHROOT_LAUNCH_TARBALL" "$CHROOT_LAUNCH_INCLUDE" "$CHROOT_MIRROR" || return 1
	echo "$CHROOT_LAUNCH_TARBALL"
}

chroot_unpack() {
	local dir=$1 tarball
	if [ "${2:-}" = launch ]; then
		tarball=$(chroot_launch_tarball) || return 1
	else
		tarball=$(chroot_tarball) || return 1
	fi
	mkdir -p "$dir"
	tar -C "$dir" -xzf "$tarball"
	# the tarball's "." is debootstrap's mktemp directory (0700): a root
	# directory non-root services can traverse, as on a real system
	chmod 0755 "$dir"
}

chroot_mount() {
	local dir=$1
	mount -t proc proc "$dir/proc"
	mount --rbind /sys "$dir/sys"
	mount --make-rslave "$dir/sys"
	mount --bind /dev "$dir/dev"
	mount --bind /dev/pts "$dir/dev/pts"
	# Debian's way to keep maintainer scripts from starting services in a
	# chroot: invoke-rc.d and deb-systemd-invoke ask this and get "forbidden".
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 0755 "$dir/usr/sbin/policy-rc.d"
}

chroot_umount() {
	local dir=$1 m
	for m in dev/pts dev sys proc; do
		umount -l "$dir/$m" 2>/dev/null || true
	done
}

in_chroot() {
	local dir=$1
	shift
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}
