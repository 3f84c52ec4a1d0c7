#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers and uninstall take livemig's options, not the script's arguments
# livemig install on a terminal (a pseudo-terminal driven like a person):
# the prerequisite report comes first; failing checks are offered to be
# waived (declined: exit 12; accepted: in waived_checks); a wrong token is
# refused before the disk questions and asked again; the token typed at the prompt is not
# echoed (the transcript never shows it); the disks are listed with the root
# marker, leaving the root disk out is refused and asked again; signing in
# with a user, account and password (not echoed) works, Enter taking the
# default disks; failing prerequisites stop before any question; Ctrl-C at
# the secret prompt leaves the terminal echoing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/install_lib.sh"
need_root

start_install_servers
admin create-account acme --licenses 2 >/dev/null || die "create-account"
PASSWORD='Tr0ub4dor&3-not-echoed'
printf '%s\n' "$PASSWORD" >"$T/pw"
admin create-user acme alice --password-file "$T/pw" >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null)
truncate -s 16M "$T/a.img" "$T/b.img"
A=$(basename "$(make_loop "$T/a.img")")
B=$(basename "$(make_loop "$T/b.img")")

# pty NAME STEPS... -- ARGS: livemig install ARGS on a terminal; sets PTY_OUT
# (the driver's verdict lines) and TRANSCRIPT
pty() {
	local name=$1
	shift
	local steps=()
	while [ "$1" != -- ]; do
		steps+=(--step "$1" "$2")
		shift 2
	done
	shift
	TRANSCRIPT=$T/$name.transcript
	PTY_OUT=$(python3 "$TESTS/install_pty.py" --transcript "$TRANSCRIPT" "${steps[@]}" -- \
		"$BUILD/livemig" install --console "$CONSOLE_URL" --console-ca "$SERVER_CA" \
		--config-dir "$IDIR" --state-dir "$ISTATE" --socket "$ISOCK" --metadata-url "$MD_URL" \
		"${WAIVE[@]}" "$@") || { show <"$TRANSCRIPT"; fail "$name: the dialogue stalled: $PTY_OUT"; }
	show <"$TRANSCRIPT"
}

# --- a token, typed; the root disk refused once ---
pty token \
	'Installation token \(or leave empty to sign in with a user\):' "$TOKEN\n" \
	'Disks to replicate[^\n]*:' "$B\n" \
	"the root disk $A cannot be left out: the machine is launched from it in the target cloud" '' \
	'Disks to replicate[^\n]*:' "$A, $B\n" \
	-- --root-disk "$A" --no-replication
grep -q "^exit 0" <<<"$PTY_OUT" || fail "interactive token install: $PTY_OUT"
! grep -qF "$TOKEN" "$TRANSCRIPT" || fail "the token was echoed"
! grep -qF "${TOKEN:4:20}" "$TRANSCRIPT" || fail "part of the token was echoed"
pass "the token typed at the prompt is not in the transcript"
# the report before the first question
report=$(grep -n "^Prerequisites" "$TRANSCRIPT" | sed -n 1p | cut -d: -f1)
ask=$(grep -n "Installation token" "$TRANSCRIPT" | sed -n 1p | cut -d: -f1)
{ [ -n "$report" ] && [ "$report" -lt "$ask" ]; } || fail "the prerequisite report does not come first"
grep -q "Replication can start" "$TRANSCRIPT" || fail "no verdict in the report"
grep -Eq "^ +[0-9]+\) $A +16\.0 MiB .*root: holds /, cannot be left out; virtual" "$TRANSCRIPT" ||
	fail "disk $A not listed with its size and root marker"
grep -Eq "^ +[0-9]+\) $B +16\.0 MiB" "$TRANSCRIPT" || fail "disk $B not listed"
[ "$(grep -c "cannot be left out: the machine is launched" "$TRANSCRIPT")" = 1 ] || fail "no refusal"
{ [ "$(grep -c '^name = ' "$IDIR/livemigd.conf")" = 2 ] && grep -qx "name = $A" "$IDIR/livemigd.conf" &&
	grep -qx "name = $B" "$IDIR/livemigd.conf"; } || fail "disks in the configuration: $(grep name "$IDIR/livemigd.conf")"
pass "report first; disks listed with size and root marker; leaving out $A refused, asked again; $A and $B configured"
uninstall >/dev/null || fail "uninstall"

# --- a user: empty token, name, account, password (not echoed); Enter = default disks ---
want=$("$BUILD/livemig" inventory --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(x["name"] for x in d["disks"] if not x["virtual"] or x["name"] == sys.argv[1]))' "$A")
pty user \
	'Installation token[^\n]*:' '\n' \
	'User name:' 'alice\n' \
	'Account:' 'acme\n' \
	'Password:' "$PASSWORD\n" \
	"Disks to replicate[^\n]*\(Enter = [^)]*\)" '\n' \
	-- --root-disk "$A" --no-replication
grep -q "^exit 0" <<<"$PTY_OUT" || fail "interactive user install: $PTY_OUT"
! grep -qF "$PASSWORD" "$TRANSCRIPT" || fail "the password was echoed"
{ grep -q "User name: alice" "$TRANSCRIPT" && grep -q "Account: acme" "$TRANSCRIPT"; } || fail "user name and account are echoed as typed"
got=$(sed -n 's/^name = //p' "$IDIR/livemigd.conf" | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] || fail "Enter chose '$got', want the default '$want'"
grep -q "license:   taken; 1 of 2 in use in account acme" "$TRANSCRIPT" || fail "no license line"
pass "user, account, password (not echoed); Enter takes the default disks: $want"
uninstall >/dev/null || fail "uninstall"

# --- failing prerequisites: the report, the offer to waive them declined ---
mkdir -p "$T/bare"
pty prereq 'Waive the failing checks [^\n]* and install anyway\? [^\n]*\[y/N\]:' '\n' -- --prereq-root "$T/bare"
grep -q "^exit 12" <<<"$PTY_OUT" || fail "prerequisites: $PTY_OUT"
grep -q "Replication cannot start" "$TRANSCRIPT" || fail "no report"
! grep -q "Installation token" "$TRANSCRIPT" || fail "asked for a token despite failing prerequisites"
nothing_installed "waivers declined"
pass "failing prerequisites: report shown, the waivers offered and declined (Enter = no), exit 12, nothing else asked"

# --- waived on the terminal; a wrong token refused before the disk
# questions and asked again; the right one accepted ---
# offered: what fails under the bare root and this host's --waive list does not waive
given=$(printf '%s\n' "${WAIVE[@]}" | grep -vx -- --waive | paste -s -d ,)
failing=$("$BUILD/livemig" check --root "$T/bare" --json | python3 -c 'import json, sys
given = sys.argv[1].split(",")
print(",".join(c["id"] for c in json.load(sys.stdin)["checks"] if c["verdict"] == "fail" and c["id"] not in given))' "$given")
[ -n "$failing" ] || die "nothing fails under an empty root"
pty waive_retype \
	'Waive the failing checks [^\n]* and install anyway\?[^\n]*:' 'y\n' \
	'Installation token \(or leave empty to sign in with a user\):' "lmt_wrong$RANDOM\n" \
	'Installation token \(or leave empty to sign in with a user\):' "$TOKEN\n" \
	'Disks to replicate[^\n]*:' '\n' \
	-- --prereq-root "$T/bare" --root-disk "$A" --no-replication
grep -q "^exit 0" <<<"$PTY_OUT" || fail "waive and retype: $PTY_OUT"
grep -q "waived: ${failing//,/, } (the same as --waive" "$TRANSCRIPT" || fail "the waivers were not confirmed ($failing)"
grep -q "^waived_checks = ${given:+$given,}$failing$" "$IDIR/livemigd.conf" || fail "waived_checks: $(grep waived "$IDIR/livemigd.conf")"
refused=$(grep -n "the console refused the token: .*(invalid_token)" "$TRANSCRIPT" | sed -n 1p | cut -d: -f1)
accepted=$(grep -n "the console accepts it: account acme: 0 of 2 licenses in use" "$TRANSCRIPT" | sed -n 1p | cut -d: -f1)
disks=$(grep -n "^Disks on this machine" "$TRANSCRIPT" | sed -n 1p | cut -d: -f1)
[ -n "$refused" ] && [ -n "$accepted" ] && [ -n "$disks" ] && [ "$refused" -lt "$accepted" ] && [ "$accepted" -lt "$disks" ] ||
	fail "the token was not checked before the disk questions (refused at line $refused, accepted $accepted, disks $disks)"
[ "$(grep -c "Installation token" "$TRANSCRIPT")" = 2 ] || fail "the token was not asked exactly twice"
! grep -qF "$TOKEN" "$TRANSCRIPT" && ! grep -q "lmt_wrong" "$TRANSCRIPT" || fail "a token was echoed"
[ "$(machines_in_use acme)" = 1 ] || fail "licenses in use: $(machines_in_use acme)"
pass "the failing checks waived on the terminal ($failing, in waived_checks); a wrong token refused before the disk questions and asked again; the right one registered"
uninstall >/dev/null || fail "uninstall"

# --- Ctrl-C at the token prompt: echo is back on ---
pty interrupt 'Installation token[^\n]*:' 'lmt_half\x03' -- --no-replication
grep -q "^signal 2" <<<"$PTY_OUT" || fail "Ctrl-C: $PTY_OUT"
grep -q "^echo on" <<<"$PTY_OUT" || fail "Ctrl-C left the terminal without echo"
! grep -q "lmt_half" "$TRANSCRIPT" || fail "the half-typed token was echoed"
nothing_installed "Ctrl-C"
pass "Ctrl-C at the token prompt: killed by SIGINT, the terminal echoes again, nothing installed"
