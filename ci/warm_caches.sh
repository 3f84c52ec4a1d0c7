#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fill the test caches that the long tiers would otherwise fill on CI's
# critical path: the other releases' kernels, their chroots
# (tests/kmod/kernels.sh --prepare), and the Debian 12 guest disks of
# the launch tests (tests/launch/guest_image.sh), the package tests'
# chroots (tests/packages/chroot_lib.sh: `make check` needs them in
# check-packages, some 15 minutes after it starts). Not the end-to-end
# test's source disks: .ci/run starts check-e2e at once, and it makes them
# at full priority on its own lane. Most of it is downloads,
# debootstraps and dpkg runs that wait on the network and the disk, so
# .ci/run runs this beside its lanes (all but the package chroots at low
# priority) and waits for it before the tiers that need it. Safe to run again: every step is cached
# and locked, a second run finds everything made.
#   ci/warm_caches.sh          (root; ci/deps.sh test first)
# Each step's time and result is printed; exit 0 only if every step worked
# (a step that failed here fails again, with its log, in its own tier).
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=build/warm-caches
mkdir -p "$LOGS"
failed=0
# step NAME COMMAND...: its output in $LOGS/NAME.log, its tail if it failed
step() {
	local name=$1 s rc=0
	shift
	s=$(date +%s)
	"$@" >"$LOGS/$name.log" 2>&1 || rc=$?
	echo "warm-caches: $name: exit $rc after $(($(date +%s) - s)) s"
	[ "$rc" = 0 ] || tail -n 20 "$LOGS/$name.log" | sed 's/^/  | /'
	return "$rc"
}
# The package tests' chroots at the caller's priority: make check reaches
# them about 17 minutes after it starts, and from empty caches at nice 10
# beside .ci/run's lanes they took 1388 s (check-packages waited for them:
# 952 s instead of 181). The rest at nice 10: no tier needs it before make
# check has ended (the kernels beside the guest disks: both mostly wait on
# the network).
step kernels nice -n 10 tests/kmod/kernels.sh --prepare &
kernels=$!
step package-chroots bash -c '. tests/packages/chroot_lib.sh && chroot_tarball && chroot_launch_tarball' || failed=1
for v in bios uefi novirtio data; do
	step "launch-image-$v" nice -n 10 tests/launch/guest_image.sh "$v" || failed=1
done
wait "$kernels" || failed=1
exit "$failed"
