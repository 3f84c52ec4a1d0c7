#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# lintian on every .deb of a build: 0 errors and 0 warnings. Overrides live
# in debian/*.lintian-overrides, each with a comment saying why.
#   tests/packages/lint_deb.sh DEBDIR
set -euo pipefail
DIR=${1:?usage: lint_deb.sh DEBDIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

for f in "$REPO"/debian/*.lintian-overrides; do
	[ -e "$f" ] || continue
	# every override line must follow a comment line
	awk -v f="$f" '/^#/ { c = 1; next } /^[[:space:]]*$/ { next }
		{ if (!c) { print "FAIL: " f ": override without a comment: " $0; bad = 1 } c = 0 }
		END { exit bad }' "$f"
done
changes=$(ls "$DIR"/*.changes)
rc=0
out=$(lintian --fail-on error,warning --display-level '>=warning' "$changes" 2>&1) || rc=$?
out=$(grep -v 'running with root privileges' <<<"$out" || true)
if [ "$rc" -ne 0 ] || [ -n "$(grep '^[EW]: ' <<<"$out")" ]; then
	echo "$out"
	echo "FAIL: lintian: errors or warnings on $(basename "$changes")" >&2
	exit 1
fi
n=$(ls "$DIR"/*.deb | wc -l)
names=$(cd "$DIR" && printf '%s ' ./*.deb)
echo "ok: lintian: $n .debs (${names//.\//}), 0 errors, 0 warnings"
