#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# An operator removes a machine, all real: a console, a staging server
# syncing with it (so enforcing the console's certificate list) and livemigd
# replicating with a [console] section. `livemig-console admin
# remove-machine` asks first (the machine id typed back on a terminal;
# refused off a terminal without --yes, and nothing changes), then frees the
# license at once; livemigd is told at its next heartbeat (410 removed, who
# and when), stops replicating, logs why, and `livemig status` says "removed
# by the console operator" with the remedy, also after a restart with the
# console away; staging refuses the machine's certificate. A removal through
# the API keeps the user who asked; an agent's own deregistration is no
# removal.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

LOGIN=alice@acme:operator-password
A=$T/agents
REMOVED="removed by the console operator"

setup_pki
CONSOLE_PORT_FIXED=$(free_port)
console_up() {
	start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s --heartbeat-timeout 60s
}
console_up
admin create-account acme --licenses 3 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>/dev/null || die "add-staging"
chmod 600 "$T/st1.secret"
AGENT_CA=$CONSOLE_CA/ca.pem
start_staging --console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
	--console-credential "$T/st1.secret" --console-interval 1s
wait_for_log "$STAGING_LOG" "enforcing its certificate list" 30 || die "staging never synced"

register() { # NAME N: certificate, key, secret and answer in $A/NAME.*
	local out
	out=$(api register --dir "$A" --machine "$1" --token "$TOKEN" --identity "mac=02:00:00:00:00:0$2")
	[ "$(api_status "$out")" = 201 ] || die "register $1: $out"
	chmod 600 "$A/$1.secret"
}
# the machine id the console answered for NAME (it may derive its own)
id_of() {
	json_get "$(cat "$A/$1.json")" 'd["machine_id"]'
}
in_use() {
	json_get "$(admin list-machines acme --json)" 'd["licenses"]["in_use"]'
}
# hello NAME: what staging answers to a connection with NAME's certificate
hello() {
	python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$A/$1.pem" \
		--key "$A/$1.key" --machine "$(id_of "$1")" --disk 1:vda:16M hello 2>&1 || true
}
heartbeat() { # NAME
	api call POST "/api/v1/machines/$(id_of "$1")/status" --bearer "$(cat "$A/$1.secret")" \
		--json '{"state": "CHANGE_COPY", "disks": []}'
}

register m1 1
register m2 2
M1=$(id_of m1)
M2=$(id_of m2)
python3 "$TESTS/make_disk.py" "$T/m1.img" 16M --zeros 0 --files 0 --random 1 --seed 9 >/dev/null
dev1=$(make_loop "$T/m1.img")
mkdir -p "$T/m1.state"
cat >"$T/m1.conf" <<CONF
[agent]
machine = $M1
state_dir = $T/m1.state
socket = $T/m1.sock
scan_interval = 300ms
nice = 0
[staging]
address = 127.0.0.1:$STAGING_PORT
ca = $SERVER_CA
cert = $A/m1.pem
key = $A/m1.key
[console]
url = https://127.0.0.1:$CONSOLE_PORT
ca = $SERVER_CA
machine_id = $M1
secret_file = $A/m1.secret
[disk]
name = d0
path = $dev1
CONF
start_agent m1
wait_status "s['state'] == 'CHANGE_COPY'" 120
[ "$(in_use)" = 2 ] || die "licenses in use before: $(in_use)"
pass "m1 replicates (CHANGE_COPY) with staging enforcing the console's list; 2 of 3 licenses in use"

# --- asked first: nothing happens without a confirmation ---
rc=0
admin remove-machine acme "$M1" </dev/null >"$T/rm.out" 2>"$T/rm.err" || rc=$?
[ "$rc" = 1 ] || die "remove-machine off a terminal without --yes exited $rc: $(cat "$T/rm.out" "$T/rm.err")"
grep -q "not removed: confirm with --yes" "$T/rm.err" || die "refusal: $(cat "$T/rm.err")"
rc=0
printf '%s\n' "$M2" | script -qec "$BUILD/livemig-console admin --db $CONSOLE_DB remove-machine acme $M1" \
	/dev/null >"$T/rm-tty.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "a wrong machine id typed on the terminal: exit $rc: $(cat "$T/rm-tty.out")"
grep -q "Type the machine id to confirm" "$T/rm-tty.out" || die "no question: $(cat "$T/rm-tty.out")"
grep -q "the machine id typed does not match $M1" "$T/rm-tty.out" || die "mismatch: $(cat "$T/rm-tty.out")"
[ "$(in_use)" = 2 ] || die "a refused removal changed the license count: $(in_use)"
[ "$(status_get "s['state']")" = CHANGE_COPY ] || die "a refused removal stopped the agent"
rc=0
admin remove-machine acme nope --yes >"$T/rm.out" 2>"$T/rm.err" || rc=$?
[ "$rc" = 1 ] || die "remove-machine of an unknown machine exited $rc"
grep -q "account acme has no machine nope" "$T/rm.err" || die "unknown machine: $(cat "$T/rm.err")"
pass "remove-machine asks first: refused without --yes off a terminal, and when the id typed is wrong; nothing changed"

# --- removed: the license at once, the agent at its next heartbeat, staging at its next sync ---
printf '%s\n' "$M1" | script -qec "$BUILD/livemig-console admin --db $CONSOLE_DB remove-machine acme $M1" \
	/dev/null >"$T/rm-tty.out" 2>&1 || die "remove-machine with the id typed: $(cat "$T/rm-tty.out")"
grep -q "machine $M1 removed from account acme: its license is free (1 of 3 in use)" "$T/rm-tty.out" ||
	die "remove-machine said: $(cat "$T/rm-tty.out")"
[ "$(in_use)" = 1 ] || die "licenses in use after the removal: $(in_use)"
[ "$(json_get "$(admin list-machines acme --json)" '[m["machine_id"] for m in d["machines"]]')" = "['$M2']" ] ||
	die "m1 still listed: $(admin list-machines acme)"
pass "removed with the machine id typed: 1 of 3 licenses in use at once, m1 no longer listed"

wait_status "s['state'] == 'NOT_READY' and s['reason'].startswith('$REMOVED (livemig-console admin (')" 60
reason=$(status_get "s['reason']")
grep -q "livemig uninstall && livemig install" <<<"$reason" || die "no remedy in: $reason"
wait_for_log "$AGENT_LOG" "not replicating: $REMOVED" 10 || die "the agent did not log why it stopped"
lm status >"$T/status.txt" || die "livemig status failed"
grep -q "$REMOVED" "$T/status.txt" || die "livemig status: $(cat "$T/status.txt")"
lm sync >"$T/sync.out" 2>&1 && die "sync succeeded on a removed machine"
grep -q "$REMOVED" "$T/sync.out" || die "sync refusal: $(cat "$T/sync.out")"
pass "livemigd told: NOT_READY, logged, livemig status says: $reason; sync refused"

for _ in $(seq 150); do
	out=$(hello m1)
	grep -q "^ERROR 3 this certificate is not machine $M1's current one" <<<"$out" && break
	sleep 0.2
done
grep -q "^ERROR 3 this certificate is not machine $M1's current one" <<<"$out" ||
	die "staging still accepts m1's certificate: $out"
grep -q '^WELCOME' <<<"$(hello m2)" || die "m2's certificate is refused too: $(hello m2)"
pass "staging refuses m1's certificate (m2's still welcome): $(sed -n 1p <<<"$out")"

admin remove-machine acme "$M1" --yes >"$T/rm.out" 2>&1 || die "second removal: $(cat "$T/rm.out")"
grep -q "machine $M1 was already deregistered at" "$T/rm.out" || die "second removal: $(cat "$T/rm.out")"
pass "removing again changes nothing: $(cat "$T/rm.out")"

# --- through the API: the user is kept and told to the agent ---
out=$(api call DELETE "/api/v1/machines/$M2" --basic "$LOGIN")
[ "$(api_status "$out")" = 200 ] || die "API removal: $out"
[ "$(json_get "$(api_body "$out")" 'd["removed_by"], d["licenses"]["in_use"]')" = "('alice@acme', 0)" ] ||
	die "API removal answer: $out"
out=$(heartbeat m2)
expect_error "m2's heartbeat after alice removed it" 410 removed "$out"
[ "$(json_get "$(api_body "$out")" 'd["removed_by"]')" = alice@acme ] || die "410 without who: $out"
tl=$(api_body "$(api call GET "/api/v1/machines/$M2/timeline" --basic "$LOGIN")")
[ "$(json_get "$tl" 'any("removed by the console operator alice@acme" in e["text"] for e in d["events"])')" = True ] ||
	die "no removal event in the timeline: $tl"
pass "removed through the API: the answer, the agent's 410 and the timeline name alice@acme"
register m3 3
out=$(api call DELETE "/api/v1/machines/$(id_of m3)" --bearer "$(cat "$A/m3.secret")")
[ "$(api_status "$out")" = 200 ] || die "m3's own deregistration: $out"
[ "$(json_get "$(api_body "$out")" '"removed_by" in d')" = False ] || die "a deregistration named a remover: $out"
expect_error "m3's heartbeat after its own deregistration" 410 deregistered "$(heartbeat m3)"

# --- a restart with the console away stays removed, with the same words ---
stop_agent
stop_console
start_agent m1
wait_status "s['state'] == 'NOT_READY' and s['reason'] == '''$reason'''" 10
[ "$(status_get "s['wire_bytes']")" = 0 ] || die "replicated after the restart"
pass "restarted without the console: still NOT_READY, removed by the console operator, nothing sent"
