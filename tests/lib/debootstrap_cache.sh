# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A Debian 12 root file system made once with debootstrap and kept as a
# tarball, for the tests that need a whole system (package chroots, launch
# source images). Sourced; needs bash.
#
#   debootstrap_tarball TARBALL INCLUDE MIRROR
#
# makes TARBALL (minbase plus the comma-separated INCLUDE packages) unless it
# exists. Concurrent callers for the same TARBALL wait for one debootstrap
# and take its result. The log of a failed run is TARBALL.log.

debootstrap_tarball() {
	local tarball=$1 include=$2 mirror=$3
	[ -s "$tarball" ] && return 0
	mkdir -p "$(dirname "$tarball")"
	(
		flock 9
		[ -s "$tarball" ] || _debootstrap_into_tarball "$tarball" "$include" "$mirror"
	) 9>"$tarball.lock"
}

_debootstrap_into_tarball() {
	local tarball=$1 include=$2 mirror=$3 work
	work=$(mktemp -d "$(dirname "$tarball")/debootstrap.XXXXXX")
	echo "debootstrap bookworm (minbase + $include) into $work; cached as $tarball" >&2
	if ! debootstrap --variant=minbase --include="$include" bookworm "$work" "$mirror" \
		>"$tarball.log" 2>&1; then
		tail -n 20 "$tarball.log" >&2
		rm -rf "$work"
		return 1
	fi
	# packages and indexes are what the tests install afresh; leave them out
	rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*_Packages
	tar -C "$work" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$work"
}
