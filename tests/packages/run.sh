#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check-packages`: build the .debs (N, and N+1 for the upgrade), lint
# them, install them into a Debian 12 chroot; build the RPMs, rpmlint them,
# run their scriptlets with `rpm --root`; the Ansible role against a chroot.
#   tests/packages/run.sh BUILD
set -uo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$BUILD" && pwd)/packages
mkdir -p "$OUT"
failed=()
t0=$(date +%s)

step() {
	local name=$1 s
	shift
	s=$(date +%s)
	echo "== $name"
	if "$@"; then
		echo "== $name: passed in $(($(date +%s) - s)) s"
	else
		echo "== $name: FAILED"
		failed+=("$name")
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "check-packages: FAIL: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi
step "build .debs" "$HERE/build_deb.sh" "$OUT/deb"
step "build .debs N+1" "$HERE/build_deb.sh" "$OUT/deb-next" 0.1.0+next1 "$OUT/deb"
step "lintian" "$HERE/lint_deb.sh" "$OUT/deb"
step "Debian chroot" "$HERE/t_deb_chroot.sh" "$BUILD" "$OUT/deb" "$OUT/deb-next"
step "build RPMs" "$HERE/build_rpm.sh" "$OUT/rpm"
step "build RPMs N+1" "$HERE/build_rpm.sh" "$OUT/rpm-next" 0.1.1 "$OUT/rpm"
for t in "$HERE"/t_rpm*.sh "$HERE"/t_ansible*.sh; do
	[ -e "$t" ] && step "$(basename "$t" .sh)" "$t" "$BUILD" "$OUT"
done
echo "check-packages: $(($(date +%s) - t0)) s"
if [ "${#failed[@]}" -ne 0 ]; then
	echo "check-packages: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "check-packages: all passed"
