#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the .debs from a copy of the tree (dpkg-buildpackage writes beside
# its source directory, and must not touch the worktree), then lintian them.
#   tests/packages/build_deb.sh OUTDIR [VERSION [FROM]]
# VERSION: rebuild as another version (a changelog entry is added to the
# copy): the upgrade test's N+1. FROM: an OUTDIR built before, whose
# compiled programs are reused (the N+1 differs in its packaging only; this
# saves a full compile in `make check`).
set -euo pipefail
OUT=${1:?usage: build_deb.sh OUTDIR [VERSION]}
VERSION=${2:-}
FROM=${3:-}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

rm -rf "$OUT"
mkdir -p "$OUT/src"
# the tracked files plus what is not committed yet, never build products
(cd "$REPO" && git ls-files -co --exclude-standard -z) |
	(cd "$REPO" && xargs -0 cp --parents -a -t "$OUT/src" 2>/dev/null || true)
rm -rf "$OUT/src/build"
nc=
if [ -n "$FROM" ] && [ -d "$FROM/src/build" ]; then
	cp -a "$FROM/src/build" "$OUT/src/build"
	nc=-nc # no clean: keep build/ (make finds it up to date)
fi
if [ -n "$VERSION" ]; then
	cl=$OUT/src/debian/changelog
	{
		echo "livemig ($VERSION) bookworm; urgency=medium"
		echo
		echo "  * Rebuild as $VERSION."
		echo
		echo " -- livemig developers <livemig@example.org>  $(date -R)"
		echo
		cat "$cl"
	} >"$cl.new" && mv "$cl.new" "$cl"
fi
(cd "$OUT/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b $nc) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "build_deb: dpkg-buildpackage failed; log: $OUT/build.log" >&2
	exit 1
}
ls "$OUT"/*.deb
