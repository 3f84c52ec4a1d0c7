#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the RPMs from rpm/livemig.spec with rpmbuild (Debian's rpm package).
# --nodeps: the BuildRequires name Fedora/RHEL packages, which a Debian host
# has under other names (ci/deps.sh installs them). --noclean keeps BUILD/
# for a later FROM.
#   tests/packages/build_rpm.sh OUTDIR [VERSION [FROM]]
# FROM: an OUTDIR built before, whose compiled programs go into the source
# tarball (make finds them up to date): the upgrade test's N+1 differs in
# its packaging only, and `make check` is spared a full compile.
set -euo pipefail
OUT=${1:?usage: build_rpm.sh OUTDIR [VERSION]}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=${2:-$(sed -n 's/^Version: *//p' "$REPO/rpm/livemig.spec")}
FROM=${3:-}

rm -rf "$OUT"
mkdir -p "$OUT"/{SOURCES,SPECS,BUILD,RPMS,SRPMS,tmp}
stage=$OUT/tmp/livemig-$VERSION
mkdir -p "$stage"
(cd "$REPO" && git ls-files -co --exclude-standard -z) |
	(cd "$REPO" && xargs -0 cp --parents -a -t "$stage" 2>/dev/null || true)
rm -rf "$stage/build"
if [ -n "$FROM" ]; then
	prev=$(ls -d "$FROM"/BUILD/livemig-*/build 2>/dev/null | sed -n 1p)
	[ -n "$prev" ] && cp -a "$prev" "$stage/build"
fi
tar -C "$OUT/tmp" -czf "$OUT/SOURCES/livemig-$VERSION.tar.gz" "livemig-$VERSION"
sed "s/^Version: .*/Version:        $VERSION/" "$REPO/rpm/livemig.spec" >"$OUT/SPECS/livemig.spec"
rpmbuild --define "_topdir $OUT" --nodeps --noclean -ba "$OUT/SPECS/livemig.spec" >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "build_rpm: rpmbuild failed; log: $OUT/build.log" >&2
	exit 1
}
find "$OUT/RPMS" "$OUT/SRPMS" -name '*.rpm' | sort
