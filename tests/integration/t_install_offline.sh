#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers and uninstall take livemig's options, not the script's arguments
# livemig uninstall while the console is down: livemigd is stopped, the
# configuration and state removed, and the deregistration queued in the
# state directory (exit 34); the license stays taken meanwhile. While the
# console is still down, --retry-pending keeps it queued (exit 20); once the
# console is back, a later uninstall sends it and the license is free. A
# queued deregistration is also delivered by the next install.
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
admin create-account acme --licenses 1 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme 2>/dev/null)
truncate -s 16M "$T/a.img"
A=$(basename "$(make_loop "$T/a.img")")

restart_console() {
	start_console --staging "127.0.0.1:$STAGING_PORT" --listen "127.0.0.1:$CONSOLE_PORT"
	[ "https://127.0.0.1:$CONSOLE_PORT" = "$CONSOLE_URL" ] || die "console came back on another port"
}

install --no-prompt --token "$TOKEN" --devices "$A" --root-disk "$A"
[ "$INSTALL_RC" = 0 ] || die "install: $INSTALL_OUT"
pid=$(installed_pid)
track_pid "$pid"
machine=$(sed -n 's/^machine = //p' "$IDIR/livemigd.conf")
secret=$(cat "$IDIR/agent-secret")

# --- the console goes away; uninstall queues ---
stop_console
t0=$(date +%s%N)
out=$(uninstall --retries 1 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
show <<<"$out"
[ "$rc" = 34 ] || fail "offline uninstall: exit $rc, want 34: $out"
{ grep -q "cannot reach the console at $CONSOLE_URL" <<<"$out" &&
	grep -q "the deregistration is queued in $ISTATE/pending-deregistration.json; \`livemig uninstall --retry-pending --state-dir $ISTATE\` sends it" <<<"$out"; } ||
	fail "offline uninstall message: $out"
! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || fail "livemigd still runs"
[ ! -e "$IDIR" ] || fail "configuration left: $(ls "$IDIR")"
[ "$(find "$ISTATE" -mindepth 1 -printf '%f\n' | sort | paste -sd' ')" = "pending-console-ca.pem pending-deregistration.json" ] ||
	fail "state dir holds: $(find "$ISTATE" -mindepth 1)"
[ "$(stat -c %a "$ISTATE/pending-deregistration.json")" = 600 ] || fail "queue file mode"
python3 - "$ISTATE/pending-deregistration.json" "$machine" "$CONSOLE_URL" "$secret" "$ISTATE" <<'PY' || fail "queue file"
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["machine_id"], d["console_url"], d["secret"]) == tuple(sys.argv[2:5]), d
assert d["console_ca"] == sys.argv[5] + "/pending-console-ca.pem", d
PY
! grep -qF "$secret" <<<"$out" || fail "the secret was printed"
[ "$(machines_in_use acme)" = 1 ] || fail "the license should still be taken while the console is away"
pass "console down: uninstall exit 34 after $ms ms; livemigd stopped, files removed, deregistration queued (0600)"

out=$(uninstall --retry-pending --state-dir "$ISTATE" --retries 0 2>&1)
rc=$?
{ [ "$rc" = 20 ] && grep -q "still queued in $ISTATE/pending-deregistration.json" <<<"$out"; } ||
	fail "--retry-pending while down: exit $rc: $out"
pass "--retry-pending while the console is down: exit 20, still queued"

# --- the console is back: any uninstall sends it ---
restart_console
out=$(uninstall --state-dir "$ISTATE" 2>&1) || fail "uninstall with a queued deregistration: $out"
show <<<"$out"
grep -q "machine $machine deregistered at $CONSOLE_URL (queued deregistration sent): its license is free" <<<"$out" ||
	fail "message: $out"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed"
[ ! -e "$ISTATE" ] || fail "state dir left: $(ls -a "$ISTATE")"
out=$(uninstall --retry-pending --state-dir "$ISTATE" 2>&1) || fail "--retry-pending with nothing queued: $out"
grep -q "nothing to send" <<<"$out" || fail "nothing queued: $out"
pass "console back: a later uninstall sends the queued deregistration, license free (0 of 1), queue gone"

# --- queued again; this time the next install delivers it first ---
install --no-prompt --token "$TOKEN" --devices "$A" --root-disk "$A" --no-replication
[ "$INSTALL_RC" = 0 ] || die "install: $INSTALL_OUT"
stop_console
out=$(uninstall --retries 0 2>&1)
[ $? = 34 ] || fail "second offline uninstall: $out"
restart_console
install --no-prompt --token "$TOKEN" --devices "$A" --root-disk "$A" --no-replication
[ "$INSTALL_RC" = 0 ] || die "install with a queued deregistration: $INSTALL_OUT"
grep -q "queued deregistration sent" <<<"$INSTALL_OUT" || fail "install did not send the queue: $INSTALL_OUT"
grep -q "license:   taken; 1 of 1 in use" <<<"$INSTALL_OUT" || fail "license: $INSTALL_OUT"
[ ! -e "$ISTATE/pending-deregistration.json" ] || fail "queue left after install"
uninstall >/dev/null || fail "final uninstall"
[ "$(machines_in_use acme)" = 0 ] || fail "license not freed"
pass "install delivers a queued deregistration before registering"
