#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers and uninstall take livemig's options, not the script's arguments
# Every way livemig install can be refused, each with its own exit status
# (docs/install-flow.md) and a one-line message that says what to do, and
# none leaving anything behind: no configuration on the machine, no machine
# holding a license on the console. Bad command lines; invalid, expired,
# revoked and used-up tokens; a wrong password; no free license; this
# machine's id held by an old registration of another account; a token of
# another account than --account; the
# console's certificate not from --console-ca; the console unreachable
# (bounded retries with backoff, timed); the root disk left out; unknown
# disks; missing answers under --no-prompt; failing prerequisites; files that
# cannot be written after the registration (it is withdrawn); a livemigd
# that does not start (installed: `livemig start` after the fix).
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
admin create-account acme --licenses 3 >/dev/null || die "create-account acme"
admin create-account full --licenses 0 >/dev/null || die "create-account full"
admin create-account other --licenses 3 >/dev/null || die "create-account other"
printf 'correct horse battery staple\n' >"$T/pw"
admin create-user acme alice --password-file "$T/pw" >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null)
truncate -s 16M "$T/a.img" "$T/b.img"
A=$(basename "$(make_loop "$T/a.img")")
B=$(basename "$(make_loop "$T/b.img")")
DISKS=(--devices "$A" --root-disk "$A")

# the outcome is the exit status and the message; nothing may be left
refused() {
	local status=$1 what=$2 msg=$3
	shift 3
	expect_install "$status" "$what" "$@"
	grep -qF -- "$msg" <<<"$INSTALL_OUT" || fail "$what: message lacks '$msg': $INSTALL_OUT"
	[ "$(grep -c "^livemig install: " <<<"$INSTALL_OUT")" = 1 ] ||
		fail "$what: not one error line: $INSTALL_OUT"
	nothing_installed "$what"
	[ "$(machines_in_use acme)" = 0 ] || fail "$what: a license of acme is in use"
}

# --- the command line ---
expect_install 2 "no --console" --console "" --no-prompt
out=$("$BUILD/livemig" install --no-prompt --console-ca "$SERVER_CA" 2>&1; echo "rc=$?")
{ grep -q "rc=2" <<<"$out" && grep -q -- "--console URL is required" <<<"$out"; } || fail "missing --console: $out"
refused 2 "http:// console" "the console speaks HTTPS only" --console "http://127.0.0.1:$CONSOLE_PORT" --no-prompt
refused 2 "--user without --account" "--user needs --account" --no-prompt --user alice --password-file "$T/pw"
refused 2 "token and user" "give one of --token, --token-file and --user" --no-prompt --token x --user alice --account acme
refused 2 "unknown --waive" "unknown check id 'nosuch';" --no-prompt --token x --waive nosuch
refused 2 "misspelt --waive" "unknown check id 'dhclent' (did you mean dhclient?)" --no-prompt --token x --waive dhclent
refused 14 "no credentials under --no-prompt" "no credentials: give --token, --token-file, or --user" --no-prompt "${DISKS[@]}"
refused 14 "--user without --password-file under --no-prompt" "--user needs --password-file" --no-prompt --user alice --account acme "${DISKS[@]}"
refused 16 "missing --token-file" "cannot read --token-file $T/nothing" --no-prompt --token-file "$T/nothing" "${DISKS[@]}"
: >"$T/empty"
refused 16 "empty --token-file" "is empty" --no-prompt --token-file "$T/empty" "${DISKS[@]}"
refused 16 "unreadable --console-ca" "cannot read --console-ca" --no-prompt --token "$TOKEN" "${DISKS[@]}" --console-ca "$T/nothing"

# --- prerequisites: an empty system fails most checks; the report is shown ---
mkdir -p "$T/bare-root"
refused 12 "failing prerequisites" "the prerequisites are not met" --no-prompt --token "$TOKEN" "${DISKS[@]}" --prereq-root "$T/bare-root"
grep -q "^FAIL  python" <<<"$INSTALL_OUT" || fail "no prerequisite report: $INSTALL_OUT"

# --- disks ---
refused 13 "root disk left out" "--devices $B: the root disk $A cannot be left out: the machine is launched from it in the target cloud; add it to --devices" \
	--no-prompt --token "$TOKEN" --devices "$B" --root-disk "$A"
refused 13 "unknown disk" "nosuchdisk: no such disk on this machine" --no-prompt --token "$TOKEN" --devices nosuchdisk --root-disk "$A"
refused 13 "unknown --root-disk" "--root-disk nosuchdisk: no such disk" --no-prompt --token "$TOKEN" --devices "$A" --root-disk nosuchdisk
root=$(basename "$("$BUILD/livemig" inventory --json | python3 -c 'import json, sys; print((json.load(sys.stdin)["root_disks"] or [""])[0])')")
if [ -n "$root" ]; then
	refused 13 "the real root disk $root left out" "the root disk $root cannot be left out" --no-prompt --token "$TOKEN" --devices "$A"
fi

# --- the console refuses ---
refused 22 "invalid token" "invalid installation token" --no-prompt --token "lmt_$(printf '0%.0s' $(seq 64))" "${DISKS[@]}"
expired=$(admin create-token acme --expires 1s 2>/dev/null)
revoked=$(admin create-token acme 2>"$T/revoked.err")
admin revoke-token "$(sed -n 's/^token \([0-9]*\) .*/\1/p' "$T/revoked.err")" >/dev/null
once=$(admin create-token other --max-uses 1 2>/dev/null)
python3 "$TESTS/console_client.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" register --dir "$T/agents" \
	--machine used-once --token "$once" >"$T/once.out" 2>&1; head -1 "$T/once.out" | has_line 201 || die "using up the one-use token: $(cat "$T/once.out")"
sleep 1.1
refused 23 "expired token" "expired at" --no-prompt --token "$expired" "${DISKS[@]}"
refused 24 "revoked token" "was revoked at" --no-prompt --token "$revoked" "${DISKS[@]}"
refused 25 "used-up token" "is used up: 1 of 1 uses taken" --no-prompt --token "$once" "${DISKS[@]}"
printf 'wrong password\n' >"$T/badpw"
refused 26 "wrong password" "wrong user name or password for account acme" --no-prompt --user alice --account acme --password-file "$T/badpw" "${DISKS[@]}"
refused 26 "unknown user" "wrong user name or password" --no-prompt --user mallory --account acme --password-file "$T/pw" "${DISKS[@]}"
full=$(admin create-token full 2>/dev/null)
refused 27 "no free license" "account full has no free license: 0 of 0 in use" --no-prompt --token "$full" "${DISKS[@]}"

# the machine id this machine has in account acme: account other cannot take
# it first by naming it (the console derives ids from the account)
mac_id=$("$BUILD/livemig" identity --metadata-url "$MD_URL" --account acme --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["machine_id"])')
other=$(admin create-token other 2>/dev/null)
out=$(python3 "$TESTS/console_client.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" register --dir "$T/agents" \
	--machine squat --machine-id "$mac_id" --token "$other" 2>&1)
[ "$(sed -n 1p <<<"$out")" = 409 ] || die "account other naming $mac_id: $out"
grep -q '"machine_id_mismatch"' <<<"$out" || die "account other naming $mac_id: $out"
# a registration an older console let account other make with that id
db_query "INSERT INTO machines (account_id, machine_id, identity_source,
	identity_value, hostname, inventory, cert_serial, cert_fingerprint, registered_at, last_seen, state)
	SELECT id, '$mac_id', 'mac', '02:00:00:00:00:01', 'old', '{}', '01', '00', 1, 1, 'REGISTERED'
	FROM accounts WHERE name = 'other'" || die "writing the old registration"
refused 28 "machine id held by an old registration of another account" \
	"machine id $mac_id (derived from account acme and this identity) is held by a registration made before the console derived machine ids" \
	--no-prompt --token "$TOKEN" "${DISKS[@]}"
grep -q "ask the console's operator to remove it, then install again" <<<"$INSTALL_OUT" || fail "no remedy: $INSTALL_OUT"
db_query "DELETE FROM machines WHERE machine_id = '$mac_id'" ||
	die "removing the old registration"

# a token of acme given with --account other: registered, then withdrawn
refused 31 "token of another account than --account" "the token belongs to account acme, not other" --no-prompt --token "$TOKEN" --account other "${DISKS[@]}"

# --- the console's certificate ---
refused 21 "console certificate from another CA" "does not verify against $CONSOLE_CA/ca.pem" --no-prompt --token "$TOKEN" "${DISKS[@]}" --console-ca "$CONSOLE_CA/ca.pem"
grep -q "give the CA that signed the console's certificate" <<<"$INSTALL_OUT" || fail "no remedy: $INSTALL_OUT"

# --- unreachable: 2 retries back off 1 s then 2 s, then give up ---
closed=$(free_port)
t0=$(date +%s%N)
refused 20 "console unreachable" "cannot reach the console at https://127.0.0.1:$closed (3 attempts)" --no-prompt --token "$TOKEN" "${DISKS[@]}" --console "https://127.0.0.1:$closed" --retries 2 || true
ms=$((($(date +%s%N) - t0) / 1000000))
# at least the 3 s of backoff; the upper bound only rules out the default
# retries' backoff (a slow run spends seconds on the checks before it)
{ [ "$ms" -ge 3000 ] && [ "$ms" -lt 20000 ]; } || fail "unreachable with --retries 2 took $ms ms (want 3 s of backoff, bounded)"
[ "$(grep -c "retrying in" <<<"$INSTALL_OUT")" = 2 ] || fail "retries not announced: $INSTALL_OUT"
pass "unreachable: gave up after 3 attempts in $ms ms (backoff 1 s + 2 s)"

# --- registered, but the files cannot be written: the registration is withdrawn ---
: >"$T/a-file"
expect_install 32 "configuration directory cannot be made" --no-prompt --token "$TOKEN" "${DISKS[@]}" --config-dir "$T/a-file/etc"
grep -q "the registration was withdrawn, nothing is left installed" <<<"$INSTALL_OUT" || fail "write failure: $INSTALL_OUT"
[ "$(machines_in_use acme)" = 0 ] || fail "the withdrawn registration holds a license"
nothing_installed "write failure"

# --- registered and written, but livemigd cannot start: installed, start later ---
expect_install 33 "livemigd cannot start" --no-prompt --token "$TOKEN" "${DISKS[@]}" --socket "$T/a-file/livemigd.sock"
{ grep -q "registered and configured, but livemigd did not start: livemigd exited at once" <<<"$INSTALL_OUT" &&
	grep -q "run \`livemig start\`" <<<"$INSTALL_OUT"; } || fail "start failure: $INSTALL_OUT"
{ [ -e "$IDIR/livemigd.conf" ] && [ "$(machines_in_use acme)" = 1 ]; } || fail "start failure: not left installed"
out=$("$BUILD/livemig" start --config-dir "$IDIR" 2>&1; echo "rc=$?")
grep -q "rc=33" <<<"$out" || fail "livemig start with the same fault: $out"
out=$(uninstall 2>&1) || fail "uninstall after a failed start: $out"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed"
pass "livemigd that cannot start: installed and registered (exit 33), livemig start exit 33, uninstall cleans up"
