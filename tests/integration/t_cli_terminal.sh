#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig in a terminal: -V; `livemig help CMD` is `livemig CMD --help` for
# every command; "did you mean" for a mistyped command or check id; every
# error line starts with `livemig CMD: `; a --config that does not exist is
# an error.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
need_root

L=$BUILD/livemig

# --- the command line, no daemon needed ---
v=$("$L" -V) || die "-V failed"
[ "$v" = "$("$L" --version)" ] || die "-V and --version differ: $v"
grep -qE '^livemig [0-9]' <<<"$v" || die "-V prints '$v'"
pass "-V: $v"

usage=$("$L" --help)
cmds=$(sed -n '/^Available commands:/,/^$/p' <<<"$usage" | awk '/^  / { print $1 }')
[ "$(wc -w <<<"$cmds")" -ge 10 ] || die "commands not found in --help: $usage"
for c in $cmds; do
	a=$("$L" help "$c") || die "livemig help $c failed"
	b=$("$L" "$c" --help) || die "livemig $c --help failed"
	[ "$a" = "$b" ] || die "livemig help $c and livemig $c --help differ"
	grep -q "^Usage: livemig $c" <<<"$a" || die "livemig help $c: $a"
done
pass "livemig help CMD = livemig CMD --help for: $(tr '\n' ' ' <<<"$cmds")"

# a usage error: exit 2, the one line given
expect_usage() {
	local want=$1 out rc=0
	shift
	out=$("$L" "$@" 2>&1) || rc=$?
	[ "$rc" = 2 ] || die "livemig $*: exit $rc, not 2: $out"
	grep -qF -- "$want" <<<"$out" || die "livemig $*: '$out' lacks '$want'"
	pass "livemig $*: $(sed -n 1p <<<"$out")"
}
expect_usage "livemig: 'stauts' is not a livemig command (did you mean status?)" stauts
expect_usage "livemig: 'frobnicate' is not a livemig command. Try 'livemig --help'." frobnicate
expect_usage "livemig: 'staus' is not a livemig command (did you mean status?)" help staus
expect_usage "livemig check: unknown check id 'dhclent' (did you mean dhclient?)" \
	check --waive dhclent
expect_usage "livemig check: unknown check id 'zzz';" check --waive zzz
expect_usage "livemig check: --config $T/none.conf: no such file" check --config "$T/none.conf"

# every message of a command against a daemon that is not there
for c in status pause resume sync; do
	rc=0
	out=$("$L" --socket "$T/nobody.sock" "$c" 2>&1) || rc=$?
	[ "$rc" = 3 ] || die "livemig $c without a daemon: exit $rc"
	[ "$(grep -vc "^livemig $c: " <<<"$out")" = 0 ] || die "livemig $c: a line without the prefix: $out"
done
pass "no daemon: every line starts with 'livemig CMD: '"
