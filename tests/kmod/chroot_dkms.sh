#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build livemig-cbt with DKMS for a kernel fetched by fetch_kernel.sh, inside
# a debootstrap chroot of the kernel's own release: its headers want that
# release's compiler (gcc-10 for bullseye, gcc-14 for trixie, gcc-16 for
# sid) and its kbuild tools link that release's libc. The headers are
# installed in the chroot (apt-get install of the downloaded .debs), never
# on the host; DKMS then runs there exactly as on a user's machine (add,
# build -k KVER with the compile probes as PRE_BUILD).
#
#   tests/kmod/chroot_dkms.sh SUITE OUTDIR
# Result: OUTDIR/livemig_cbt.ko (uncompressed), OUTDIR/make.log (DKMS's log).
# CHROOT_ONLY=1: only make the cached chroot (below), build nothing.
# The chroot is cached as $KCACHE/chroots/SUITE.tar.zst (debootstrap once,
# about a minute); each run unpacks it into a scratch directory, works in a
# private mount namespace (nothing stays mounted) and deletes it.
set -euo pipefail

SUITE=${1:?usage: chroot_dkms.sh SUITE OUTDIR}
DEST=${2:?usage: chroot_dkms.sh SUITE OUTDIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KCACHE=${KCACHE:-/var/cache/livemig-tests}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
K=$KCACHE/kernels/$SUITE
TARBALL=$KCACHE/chroots/$SUITE.tar.zst
V=0.0.0-test
say() { echo "chroot-dkms[$SUITE]: $*" >&2; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

for t in debootstrap zstd unshare chroot; do
	command -v $t >/dev/null || { say "missing $t (apt-get install debootstrap zstd util-linux)"; exit 2; }
done
[ -f "$K/kernel.env" ] || { say "run tests/kmod/fetch_kernel.sh $SUITE first"; exit 2; }
# shellcheck disable=SC1091
. "$K/kernel.env"
mkdir -p "$KCACHE/chroots" "$DEST"

# What the headers need beyond a minimal system (their compiler, pahole,
# libraries: BUILD_DEPS from fetch_kernel.sh), so a cached chroot installs
# them without downloading; dkms itself, and openssl (DKMS signs modules with
# a key it generates).
include=make,dkms,kmod,openssl
for d in ${BUILD_DEPS:-$COMPILER_PKG}; do include="$include,$d"; done

# debootstrap fetches with wget, which ignores apt's configuration: hand it
# apt's proxy, if the host has one
eval "$(apt-config shell APT_PROXY Acquire::http::Proxy)"
[ -z "${APT_PROXY:-}" ] || export http_proxy=${http_proxy:-$APT_PROXY}

if [ ! -s "$TARBALL" ]; then
	t=$(now)
	tmp=$KCACHE/chroots/$SUITE.new
	rm -rf "$tmp"
	say "debootstrap $SUITE (--include=$include)"
	if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$tmp" "$MIRROR" \
		>"$KCACHE/chroots/$SUITE.debootstrap.log" 2>&1; then
		tail -20 "$KCACHE/chroots/$SUITE.debootstrap.log" >&2
		say "debootstrap failed (log $KCACHE/chroots/$SUITE.debootstrap.log)"
		rm -rf "$tmp"
		exit 1
	fi
	tar -C "$tmp" -cf - . | zstd -q -T0 -3 >"$TARBALL.tmp"
	mv "$TARBALL.tmp" "$TARBALL"
	rm -rf "$tmp"
	say "chroot cached as $TARBALL ($(du -h "$TARBALL" | cut -f1)) in $(took "$t") s"
fi

# CHROOT_ONLY=1 (kernels.sh --prepare): the cached chroot is all that is wanted
[ "${CHROOT_ONLY:-0}" = 1 ] && exit 0

t=$(now)
C=$(mktemp -d "$KCACHE/chroots/$SUITE.run.XXXXXX")
trap 'rm -rf "$C"' EXIT
zstd -qdc "$TARBALL" | tar -C "$C" -xf -
mkdir -p "$C/tmp/debs"
for f in "$K"/debs/linux-headers-* "$K"/debs/linux-kbuild-* "$K"/debs/linux-base-*; do
	[ -e "$f" ] && cp "$f" "$C/tmp/debs/"
done
"$REPO/dkms/stage.sh" "$C/usr/src/livemig-cbt-$V" "$V"

# Inside the chroot, in a mount namespace of its own: install the headers
# (apt resolves anything the cached chroot lacks from the release itself),
# then DKMS as a user would run it for a kernel that is not running.
cat >"$C/tmp/build.sh" <<'EOS'
#!/bin/sh
set -eu
KVER=$1 V=$2
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
inst() { apt-get install -y -q --no-install-recommends /tmp/debs/*.deb; }
inst >/tmp/apt.log 2>&1 || { apt-get update -q >>/tmp/apt.log 2>&1 && inst >>/tmp/apt.log 2>&1; } ||
	{ cat /tmp/apt.log; echo "installing the headers failed"; exit 1; }
[ -f "/lib/modules/$KVER/build/Makefile" ] || { echo "no /lib/modules/$KVER/build after install"; exit 1; }
echo "dkms-version: $(dkms --version)"
dkms add -m livemig-cbt -v "$V" -k "$KVER"
dkms build -m livemig-cbt -v "$V" -k "$KVER"
EOS
chmod +x "$C/tmp/build.sh"
set +e
unshare -m --propagation private sh -c '
	mount -t proc proc "$1/proc" && mount -t sysfs sys "$1/sys" &&
	mount --bind /dev "$1/dev" && exec chroot "$1" /tmp/build.sh "$2" "$3"' \
	sh "$C" "$KVER" "$V" >"$DEST/dkms.out" 2>&1
rc=$?
set -e
log=$(find "$C/var/lib/dkms/livemig-cbt/$V" -name make.log 2>/dev/null | sed -n 1p)
[ -n "$log" ] && cp "$log" "$DEST/make.log"
if [ $rc != 0 ]; then
	cat "$DEST/dkms.out" "${log:-/dev/null}" >&2
	say "FAIL dkms build for $KVER"
	exit 1
fi
ko=$(find "$C/var/lib/dkms/livemig-cbt/$V/$KVER" -name 'livemig_cbt.ko*' | sed -n 1p)
[ -n "$ko" ] || { cat "$DEST/dkms.out" >&2; say "FAIL dkms built no module"; exit 1; }
case $ko in
*.xz) xz -dc "$ko" >"$DEST/livemig_cbt.ko" ;;
*.zst) zstd -qdc "$ko" >"$DEST/livemig_cbt.ko" ;;
*.gz) gzip -dc "$ko" >"$DEST/livemig_cbt.ko" ;;
*) cp "$ko" "$DEST/livemig_cbt.ko" ;;
esac
# a warning in the module's own code fails, as in run.sh's host build
if grep -E '^[^ ]*\.[ch]:[0-9]+:[0-9]+: (warning|error):' "$DEST/make.log" "$DEST/dkms.out"; then
	say "FAIL: the build printed warnings"
	exit 1
fi
say "built with $(sed -n 's/^dkms-version: //p' "$DEST/dkms.out") and ${COMPILER:-the default gcc} in $(took "$t") s"
