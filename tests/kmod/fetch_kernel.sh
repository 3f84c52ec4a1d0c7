#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch a Debian release's newest amd64 kernel (image, headers, common
# headers, kbuild) with `apt-get download` under a private apt configuration
# (its own sources list, state, cache and an empty dpkg status: the host's
# apt sources and package database are never read or changed), and extract
# the image privately with dpkg-deb -x. Nothing is installed on the host.
#
#   tests/kmod/fetch_kernel.sh SUITE      e.g. bullseye, trixie, sid
#   tests/kmod/fetch_kernel.sh --queries-only SUITE
#                                         the metadata queries alone, on the
#                                         cached package lists (an update only
#                                         when there are none): prints the
#                                         versions line, downloads nothing
# Environment: KCACHE (default /var/cache/livemig-tests),
#   MIRROR (default http://deb.debian.org/debian).
# Result in $KCACHE/kernels/SUITE/:
#   debs/*.deb   the downloaded packages
#   root/        the extracted image: boot/vmlinuz-KVER, lib/modules/KVER
#                (with modules.dep from depmod -b)
#   kernel.env   KVER=, COMPILER= (the gcc the headers want), COMPILER_PKG=
#                (the package the headers depend on for it), BUILD_DEPS=
#                (what headers and kbuild need from their release), PACKAGES=
#                (name=version, space separated)
# A second run with the same versions downloads nothing; runs for the same
# SUITE wait for each other.
set -euo pipefail

QUERIES_ONLY=0
[ "${1:-}" = --queries-only ] && { QUERIES_ONLY=1; shift; }
SUITE=${1:?usage: fetch_kernel.sh [--queries-only] SUITE}
KCACHE=${KCACHE:-/var/cache/livemig-tests}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
say() { echo "fetch-kernel[$SUITE]: $*" >&2; }

for t in apt-get apt-cache dpkg-deb depmod; do
	command -v $t >/dev/null || { say "missing $t (apt-get install apt dpkg kmod)"; exit 2; }
done
[ -r "$KEYRING" ] || { say "no $KEYRING (apt-get install debian-archive-keyring)"; exit 2; }

A=$KCACHE/apt/$SUITE
K=$KCACHE/kernels/$SUITE
mkdir -p "$A"/{lists/partial,archives/partial,parts,prefs} "$K/debs"
# One fetch of a release at a time: two at once (two check-kernels, or a
# warming beside a tier) rename each other's apt caches away ("Problem
# renaming the file .../srcpkgcache.bin") and fail. The second waits and
# finds the first's result.
exec 9>"$A.lock"
flock 9
# rewritten only when they change: a newer mtime makes apt rebuild its caches
sources="deb [signed-by=$KEYRING] $MIRROR $SUITE main"
[ "$(cat "$A/sources.list" 2>/dev/null)" = "$sources" ] || echo "$sources" >"$A/sources.list"
[ -f "$A/status" ] && [ ! -s "$A/status" ] || : >"$A/status"
# Every Dir that names host state is redirected; the host's apt.conf.d
# (proxies) still applies, as it would to any apt client here. The binary
# package caches are kept beside the lists (apt rebuilds them when the lists
# change): without them each of the dozen apt-cache calls below parses the
# whole release's package lists again.
APT=(-o "Dir::Etc::sourcelist=$A/sources.list" -o "Dir::Etc::sourceparts=$A/parts"
	-o "Dir::Etc::preferences=$A/prefs/none" -o "Dir::Etc::preferencesparts=$A/prefs"
	-o "Dir::State=$A" -o "Dir::State::lists=$A/lists" -o "Dir::State::status=$A/status"
	-o "Dir::Cache=$A" -o "Dir::Cache::archives=$A/archives"
	-o "Dir::Cache::pkgcache=$A/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$A/srcpkgcache.bin"
	-o APT::Architecture=amd64 -o APT::Architectures::=amd64
	-o "APT::Get::List-Cleanup=0" -o "Acquire::Languages=none")

if [ "$QUERIES_ONLY" = 0 ] || [ -z "$(ls "$A/lists" | grep -v -x -e partial -e lock)" ]; then
	apt-get "${APT[@]}" -q update >"$A/update.log" 2>&1 ||
		{ cat "$A/update.log" >&2; say "apt-get update of $SUITE failed"; exit 1; }
fi

# The awk programs below read their input to the end (a flag, no `exit`):
# under pipefail an awk that exits at the first match can kill apt-cache
# with SIGPIPE and fail the fetch at random.
# name: the first Depends of $2 whose name matches $1
dep() { apt-cache "${APT[@]}" depends --no-recommends --no-suggests "$2" |
	awk -v re="$1" '!found && $1 ~ /Depends:$/ && $2 ~ re { print $2; found = 1 }'; }
ver() { apt-cache "${APT[@]}" show --no-all-versions "$1" | awk '!found && /^Version:/ { print $2; found = 1 }'; }

image=$(dep '^linux-image-[0-9].*-amd64$' linux-image-amd64)
[ -n "$image" ] || { say "linux-image-amd64 in $SUITE names no image"; exit 1; }
KVER=${image#linux-image-}
headers=linux-headers-$KVER
common=$(dep '^linux-headers-.*-common' "$headers")
kbuild=$(dep '^linux-kbuild-' "$headers")
# older headers name their compiler through linux-compiler-gcc-N-x86
compiler_pkg=$(dep '^(gcc-[0-9]+(-for-host)?|linux-compiler-gcc-[0-9]+-x86)$' "$headers")
compiler=${compiler_pkg#linux-compiler-}
compiler=${compiler%-x86}
compiler=${compiler%-for-host}
[ -n "$common" ] && [ -n "$kbuild" ] ||
	{ say "$headers: cannot find its common headers / kbuild packages"; exit 1; }

# newer images are a shell over linux-binary-KVER (vmlinuz),
# linux-modules-KVER and linux-base-KVER (modules.builtin); fetch those too
parts=$(apt-cache "${APT[@]}" depends --no-recommends --no-suggests "$image" |
	awk -v k="$KVER" '$1 ~ /Depends:$/ && ($2 == "linux-binary-" k || $2 == "linux-modules-" k || $2 == "linux-base-" k) { print $2 }')
pkgs="$image $parts $headers $common $kbuild"
# what the headers and kbuild need from their release (the compiler,
# pahole or dwarves, libc...): a chroot built with these installs the
# downloaded headers without asking the network. First alternatives only.
build_deps=$(for p in $headers $common $kbuild; do
	apt-cache "${APT[@]}" depends --no-recommends --no-suggests "$p" |
		awk '$1 ~ /Depends:$/ && !alt && $2 !~ /^</ { print $2 } { alt = ($1 == "|Depends:") }'
done | grep -vxF -f <(printf '%s\n' $pkgs) | sort -u | tr '\n' ' ')
versions=
for p in $pkgs; do versions="$versions $p=$(ver "$p")"; done
versions=${versions# }
if [ "$QUERIES_ONLY" = 1 ]; then
	echo "$versions"
	exit 0
fi

if [ -f "$K/kernel.env" ] && grep -qxF "PACKAGES='$versions'" "$K/kernel.env" &&
	[ -f "$K/root/boot/vmlinuz-$KVER" ]; then
	say "cached: $versions"
	exit 0
fi

say "downloading $versions"
rm -rf "$K/debs" "$K/root" "$K/kernel.env"
mkdir -p "$K/debs" "$K/root"
read -ra want <<<"$versions"
(cd "$K/debs" && apt-get "${APT[@]}" -q download "${want[@]}") >"$A/download.log" 2>&1 ||
	{ cat "$A/download.log" >&2; say "apt-get download failed"; exit 1; }
for p in $image $parts; do dpkg-deb -x "$K/debs/${p}_"*.deb "$K/root"; done
# merged-/usr packages ship usr/lib/modules and usr/boot or boot
[ -d "$K/root/usr/lib/modules" ] && [ ! -e "$K/root/lib" ] && ln -s usr/lib "$K/root/lib"
vmlinuz=$(find "$K/root" \( -name "vmlinuz-$KVER" -o -path "*/modules/$KVER/vmlinuz" \) | sed -n 1p)
[ -n "$vmlinuz" ] || { say "no vmlinuz-$KVER in $image $parts"; exit 1; }
[ -e "$K/root/boot/vmlinuz-$KVER" ] || { mkdir -p "$K/root/boot" && ln -s "../${vmlinuz#$K/root/}" "$K/root/boot/vmlinuz-$KVER"; }
[ -d "$K/root/lib/modules/$KVER/kernel" ] || { say "no modules for $KVER in $image $parts"; exit 1; }
depmod -b "$K/root" "$KVER"
{
	echo "KVER='$KVER'"
	echo "COMPILER='$compiler'"
	echo "COMPILER_PKG='$compiler_pkg'"
	echo "BUILD_DEPS='${build_deps% }'"
	echo "PACKAGES='$versions'"
} >"$K/kernel.env"
say "ready: KVER=$KVER compiler=${compiler:-unknown}"
