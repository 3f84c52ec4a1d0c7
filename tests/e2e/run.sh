#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check-e2e`: the whole migration of a running Debian 12 server with
# PostgreSQL (tests/e2e/t_migration.sh), with a private libvirtd for
# staging's launches (tests/launch/libvirt_lib.sh).
#   tests/e2e/run.sh BUILD DEBDIR DEBDIR_NEXT
# DEBDIR holds the built .debs, DEBDIR_NEXT the same rebuilt as the next
# version for the upgrade (tests/packages/build_deb.sh).
set -uo pipefail
BUILD=${1:-build}
DEBS=${2:?usage: tests/e2e/run.sh BUILD DEBDIR DEBDIR_NEXT}
DEBS_NEXT=${3:?usage: tests/e2e/run.sh BUILD DEBDIR DEBDIR_NEXT}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "check-e2e: FAIL: needs root (debootstrap, QEMU, libvirtd)" >&2
	exit 1
fi
[ -x "$BUILD/livemig-launch" ] || { echo "check-e2e: FAIL: $BUILD/livemig-launch not built" >&2; exit 1; }
. "$HERE/../launch/libvirt_lib.sh"
t0=$(date +%s)
WORK=$(mktemp -d /tmp/livemig-e2e-run.XXXXXX)
trap 'libvirt_stop; rm -rf "$WORK"' EXIT
# an interrupted run (Ctrl-C, a CI timeout) still stops its libvirtd
trap 'exit 130' INT TERM

s=$(date +%s)
"$HERE/source_image.sh" >/dev/null || { echo "== source images: FAILED"; exit 1; }
echo "== source images: ready in $(($(date +%s) - s)) s"
s=$(date +%s)
libvirt_start "$WORK/libvirt" || exit 1
echo "== private libvirtd: up in $(($(date +%s) - s)) s"
rc=0
# niced by default, as the other guests' tiers: the machine stays usable
# (.ci/run gives 0: there the test is on the run's longest lane)
nice -n "${E2E_NICE:-10}" "$HERE/t_migration.sh" "$BUILD" "$DEBS" "$DEBS_NEXT" || rc=$?
echo "check-e2e: $(($(date +%s) - t0)) s in all"
if [ "$rc" -ne 0 ]; then
	echo "check-e2e: FAILED"
	exit 1
fi
echo "check-e2e: passed"
