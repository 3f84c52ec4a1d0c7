# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced first by a test that needs a Ceph cluster: outside one, the test
# runs again under tests/with_ceph.sh (which sets LIVEMIG_TEST_CEPH_POOL and
# removes the cluster after it); inside one, this does nothing.
# shellcheck shell=bash
if [ -z "${LIVEMIG_TEST_CEPH_POOL:-}" ]; then
	# no cluster for a test that cannot run (loop devices, libvirt: root)
	[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root" >&2; exit 1; }
	_here=$(cd "$(dirname "$0")" && pwd)
	exec "$(dirname "${BASH_SOURCE[0]}")/with_ceph.sh" bash "$_here/$(basename "$0")" "$@"
fi
