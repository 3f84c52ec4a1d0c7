#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check-packages`: build the .debs (N, and N+1 for the upgrade), lint
# them, install them into a Debian 12 chroot; build the RPMs, rpmlint them,
# run their scriptlets with `rpm --root`; the Ansible role against a chroot;
# docs/quickstart.md followed literally in two chroots; livemig-launch's
# packages beside livemig-server's (the staging unit that can launch).
# The chroot tests wait mostly on disk and DKMS, not on the CPU: they
# run side by side (each in its own chroot, with its own console), their
# output printed whole when each ends.
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

# in the background; `collect` prints its output and verdict
declare -A bg_pid bg_start
background() {
	local name=$1
	shift
	bg_start[$name]=$(date +%s)
	"$@" >"$OUT/$name.log" 2>&1 &
	bg_pid[$name]=$!
	echo "== $name: started"
}
collect() {
	local name=$1
	echo "== $name"
	if wait "${bg_pid[$name]}"; then
		cat "$OUT/$name.log"
		echo "== $name: passed in $(($(date +%s) - bg_start[$name])) s"
	else
		cat "$OUT/$name.log"
		echo "== $name: FAILED"
		failed+=("$name")
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "check-packages: FAIL: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi
# the cached chroots first, so that the tests do not race to make them
step "chroot tarball" bash -c ". '$HERE/chroot_lib.sh' && chroot_tarball"
step "launch chroot tarball" bash -c ". '$HERE/chroot_lib.sh' && chroot_launch_tarball"
step "build .debs" "$HERE/build_deb.sh" "$OUT/deb"
step "build .debs N+1" "$HERE/build_deb.sh" "$OUT/deb-next" 0.1.0+next1 "$OUT/deb"
step "lintian" "$HERE/lint_deb.sh" "$OUT/deb"
background t_deb_chroot "$HERE/t_deb_chroot.sh" "$BUILD" "$OUT/deb" "$OUT/deb-next"
background t_ansible "$HERE/t_ansible.sh" "$BUILD" "$OUT"
background t_quickstart "$HERE/t_quickstart.sh" "$BUILD" "$OUT/deb"
step "build RPMs" "$HERE/build_rpm.sh" "$OUT/rpm"
step "build RPMs N+1" "$HERE/build_rpm.sh" "$OUT/rpm-next" 0.1.1 "$OUT/rpm"
background t_rpm_chroot "$HERE/t_rpm_chroot.sh" "$BUILD" "$OUT"
background t_launch_chroot "$HERE/t_launch_chroot.sh" "$BUILD" "$OUT"
collect t_deb_chroot
collect t_ansible
collect t_quickstart
collect t_rpm_chroot
collect t_launch_chroot
echo "check-packages: $(($(date +%s) - t0)) s"
if [ "${#failed[@]}" -ne 0 ]; then
	echo "check-packages: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "check-packages: all passed"
