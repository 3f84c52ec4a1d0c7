#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages format without warnings; a file under /usr/share/doc that a
# page points to is one a package ships (debian/PKG.docs); livemig(1) lists
# every exit status livemig install, start and uninstall can return
# (src/cli/install.h).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"

REPO=$(cd "$TESTS/../.." && pwd)
command -v man >/dev/null || die "no man (apt-get install man-db; ci/deps.sh test installs it)"

for page in "$REPO"/docs/man/*.[18]; do
	warn=$(MANWIDTH=80 man -l --warnings "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || die "$(basename "$page"): $warn"
done
pass "every page formats without warnings: $(cd "$REPO/docs/man" && echo *.[18])"

n=0
while read -r page path; do
	pkg=${path#/usr/share/doc/}
	file=${pkg#*/}
	pkg=${pkg%%/*}
	[ "$file" != "$pkg" ] || die "$page points to the directory $path, not to a file in it"
	grep -qx -- "$file" "$REPO/debian/$pkg.docs" 2>/dev/null ||
		die "$page points to $path, which debian/$pkg.docs does not ship"
	n=$((n + 1))
done < <(grep -o '/usr/share/doc/[A-Za-z0-9._/-]*' "$REPO"/docs/man/*.[18] | sed 's/:/ /')
pass "$n pointers into /usr/share/doc, each to a shipped file"

codes=$(sed -n 's/^[[:space:]]*INSTALL_[A-Z_]* = \([0-9]*\),.*/\1/p' "$REPO/src/cli/install.h")
[ "$(wc -w <<<"$codes")" -ge 20 ] || die "exit statuses not found in install.h: $codes"
exits=$(MANWIDTH=200 man -l "$REPO/docs/man/livemig.1" 2>/dev/null | sed -n '/^EXIT STATUS/,/^SEE ALSO/p')
for c in $codes; do
	case $c in
	0 | 2) grep -qE "\b$c (done|usage)" <<<"$exits" || die "livemig(1) lacks exit status $c" ;;
	2[2-9]) grep -qE "\($c\)" <<<"$exits" || die "livemig(1) lacks exit status $c" ;;
	*) grep -qE "^ +$c +[a-z]" <<<"$exits" || die "livemig(1) lacks exit status $c" ;;
	esac
done
pass "livemig(1) lists all $(wc -w <<<"$codes") install statuses"
