#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Static checks of the kernel module: sparse over every file (make C=2)
# against Debian's kernel headers, any sparse warning fails; and the kernel's
# checkpatch.pl (coding style) when one is at hand: Debian ships it only
# inside linux-source-X's tarball, so it runs when CHECKPATCH names it, when
# an unpacked /usr/src/linux-source-*/scripts/checkpatch.pl exists, or from
# the tarball (its three files unpacked into a cache), and says so when none
# is there.
#
#   tests/kmod/static_checks.sh      environment: KVER, CHECKPATCH
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -1)}
KDIR=/lib/modules/$KVER/build
say() { echo "kmod-static: $*"; }
[ -n "$KVER" ] && [ -f "$KDIR/Makefile" ] || { say "no kernel headers (apt-get install linux-headers-amd64)"; exit 2; }
command -v sparse >/dev/null || { say "sparse missing (apt-get install sparse)"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/livemig-kmod-static.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$REPO"/kmod/. "$work/"
rm -f "$work/cbt_config.h"
"$REPO/dkms/livemig-cbt-probe.sh" "$KDIR" "$work" 2>/dev/null
# C=2: check every file, not only the ones rebuilt
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$KDIR" M="$work" C=2 CHECK=sparse modules >"$work/sparse.log" 2>&1; then
	cat "$work/sparse.log"
	say "FAIL: build with sparse"
	exit 1
fi
if grep -E 'warning:|error:' "$work/sparse.log"; then
	say "FAIL: sparse warnings"
	exit 1
fi
say "sparse clean ($(grep -c ' CHECK ' "$work/sparse.log") files, $KVER)"

cp=${CHECKPATCH:-$(ls /usr/src/linux-source-*/scripts/checkpatch.pl 2>/dev/null | tail -1 || true)}
# linux-source's tarball (ci/deps.sh installs it): its three checkpatch files,
# unpacked once into a cache
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$cp" ] && [ -n "$tarball" ]; then
	top=$(basename "$tarball" .tar.xz)
	cache=${KCACHE:-/var/cache/livemig-tests}/checkpatch/$top
	if [ ! -f "$cache/$top/scripts/checkpatch.pl" ] || [ "$tarball" -nt "$cache/$top/scripts/checkpatch.pl" ]; then
		rm -rf "$cache"
		mkdir -p "$cache"
		tar -xJf "$tarball" -C "$cache" "$top/scripts/checkpatch.pl" \
			"$top/scripts/spelling.txt" "$top/scripts/const_structs.checkpatch"
	fi
	cp=$cache/$top/scripts/checkpatch.pl
fi
if [ -z "$cp" ] || [ ! -f "$cp" ]; then
	say "checkpatch.pl not run: Debian ships it only in linux-source's tarball;"
	say "  unpack scripts/checkpatch.pl, scripts/spelling.txt and"
	say "  scripts/const_structs.checkpatch from it and set CHECKPATCH=path"
	exit 0
fi
if ! perl "$cp" --no-tree --terse -f "$REPO"/kmod/*.c "$REPO"/kmod/*.h \
	"$REPO"/kmod/uapi/*.h >"$work/checkpatch.log" 2>&1 ||
	[ -n "$(grep -v '^total: 0 errors, 0 warnings' "$work/checkpatch.log")" ]; then
	cat "$work/checkpatch.log"
	say "FAIL: checkpatch"
	exit 1
fi
say "checkpatch clean ($cp)"
