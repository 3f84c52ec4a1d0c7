#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Make sure the Debian packages a tier needs are installed.
# As root: installs what is missing (apt-get update once, then install).
# Otherwise: prints the exact apt-get line and fails.
# Usage: ci/deps.sh build|test|bench|launch|e2e
set -eu

build="build-essential pkg-config libsystemd-dev libssl-dev zlib1g-dev libjansson-dev libisal-dev libcurl4-openssl-dev libudev-dev libmicrohttpd-dev libsqlite3-dev libpq-dev"
test_extra="libcmocka-dev clang libclang-rt-14-dev openssl python3 util-linux socat procps e2fsprogs sqlite3 curl fdisk jq iproute2 stress-ng"
# the man pages are formatted with man-db's man (t_man_pages.sh)
test_extra="$test_extra man-db"
bench_extra="netcat-openbsd zstd gzip libdeflate-dev iproute2"
# recovery points: an XFS store with reflink, qcow2 exports, read-only NBD
points_extra="xfsprogs qemu-utils nbdkit"
test_extra="$test_extra $points_extra"
bench_extra="$bench_extra $points_extra"
# /metrics is checked with promtool (in Debian's prometheus package)
test_extra="$test_extra prometheus"
# the console's database tests on PostgreSQL 15: a scratch cluster made with
# initdb/pg_ctl (tests/with_postgresql.sh, make check-console-pg)
test_extra="$test_extra postgresql-15"
# the Ceph RBD image store: librbd to build it, and a single-node cluster
# that tests/with_ceph.sh brings up for t_staging_rbd.sh (make check-rbd)
test_extra="$test_extra ceph-mon ceph-mgr ceph-osd ceph-common librbd-dev uuid-runtime"
# the pictures in docs/diagrams are checked against their Graphviz sources
test_extra="$test_extra graphviz"
# the kernel module is built with DKMS against Debian's kernel and tested in QEMU
kmod_extra="qemu-system-x86 linux-image-amd64 linux-headers-amd64 dkms busybox-static cpio kmod fdisk fio dmsetup mdadm sparse linux-source"
# make check-kernels: chroots of other releases
kmod_extra="$kmod_extra debootstrap zstd xz-utils"
# the console's web page is tested in Debian's chromium driven by node
# (playwright-core from npm); npm only when the installed node lacks one
web_extra="chromium nodejs"
command -v npm >/dev/null 2>&1 || web_extra="$web_extra npm"
# the packages: built, linted and installed into a debootstrap chroot (tests/packages)
pkg_extra="debhelper dh-dkms lintian rpm rpmlint debootstrap apt-utils ansible systemd"
# the packages always build livemig-launch (LAUNCH=1): its libraries' -dev
pkg_extra="$pkg_extra libguestfs-dev libvirt-dev"
# and livemig-staging with the RBD image store (RBD=1)
pkg_extra="$pkg_extra librbd-dev"
# conversion and launch (make check-launch, docs/launch.md): libguestfs and
# libvirt (C APIs), a private libvirtd with QEMU TCG, OVMF for UEFI guests,
# qemu-storage-daemon/qemu-img, and what builds the guest disks without a mount
# make check builds livemig-launch too: staging's launch jobs run it
# (t_staging_launch.sh)
# qemu-block-extra: QEMU's rbd driver, for conversions and launches from
# Ceph RBD clones (make check-launch-rbd; its cluster's daemons are test's)
launch_extra="libguestfs-tools libguestfs-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev ovmf dnsmasq-base qemu-utils qemu-system-x86 qemu-block-extra linux-image-amd64 debootstrap dosfstools mtools fdisk uuid-runtime e2fsprogs jq"

# make check-e2e: the source machine (debootstrap, QEMU TCG, ssh, socat for
# QEMU's forwards), the .debs it installs (apt-ftparchive indexes them), and
# the launch's libvirt and libguestfs
e2e_extra="$launch_extra $pkg_extra qemu-system-x86 openssh-client socat python3 openssl uuid-runtime"

case "${1:-build}" in
build) want="$build" ;;
test) want="$build $test_extra $bench_extra $kmod_extra $web_extra $pkg_extra $launch_extra" ;;
bench) want="$build $test_extra $bench_extra" ;;
launch) want="$build $launch_extra" ;;
e2e) want="$build $test_extra $e2e_extra" ;;
*) echo "usage: $0 build|test|bench|launch|e2e" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != 'install ok installed' ]; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "livemig: missing packages:$missing" >&2
	echo "install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "livemig: installing missing packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# Installing a tool must not start its service (prometheus has one): Debian's
# policy-rc.d says no to every start, unless this host already has its own.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
rc=0
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing >&2 || rc=$?
[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
exit "$rc"
