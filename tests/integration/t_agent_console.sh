#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# livemigd and livemig-console, all real: machines registered through the
# console's API, staging trusting the console's agent CA, the daemon with a
# [console] section. Heartbeats carry the status (the console's view follows
# what the agent sends, at the interval the console asks for); the console going away leaves replication alone and shows as
# "console unreachable since"; heartbeats resume when it is back; a
# deregistration stops replication (NOT_READY, remembered across a restart);
# a refused secret is said once; an identity that changed (metadata instance
# id, MAC) keeps the machine NOT_READY with the reinstall message and no
# traffic to staging, also shown in the console; a metadata service that
# does not answer is no reason to stop; a group-readable secret is refused.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

# an operator's removal (DELETE with a login): the agent names who removed it
DEREG="removed by the console operator (alice@acme at "
REINSTALL="the seed requires reinstalling: livemig uninstall && livemig install"
LOGIN=alice@acme:operator-password
A=$T/agents

setup_pki
CONSOLE_PORT_FIXED=$(free_port)
console_up() {
	start_console --listen "127.0.0.1:$CONSOLE_PORT_FIXED" --heartbeat-interval 1s --heartbeat-timeout 60s # never DISCONNECTED while it runs
}
console_up
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
# staging trusts what the console signs, as in production
AGENT_CA=$CONSOLE_CA/ca.pem
start_staging

# The MAC this machine's identity would be, if it has a physical NIC.
MAC=$("$BUILD/livemig" identity --json --metadata-url http://127.0.0.1:1 --timeout 300ms 2>/dev/null |
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["value"] if d["source"] == "mac" else "")' 2>/dev/null) || MAC=

register() { # MACHINE IDENTITY
	local out
	out=$(api register --dir "$A" --machine "$1" --token "$TOKEN" --identity "$2")
	[ "$(api_status "$out")" = 201 ] || die "register $1: $out"
	chmod 600 "$A/$1.secret"
}

# conf MACHINE DEVICE [EXTRA [console] LINES...]: the hand-written
# configuration, as livemig install would write it.
conf() {
	local m=$1 dev=$2 id
	shift 2
	mkdir -p "$T/$m.state"
	# the machine id is the console's, from the registration's answer
	id=$(cat "$A/$m.id")
	cat >"$T/$m.conf" <<-CONF
		[agent]
		machine = $id
		state_dir = $T/$m.state
		socket = $T/$m.sock
		scan_interval = 300ms
		nice = 0
		bandwidth_limit = 2M
		queue_depth = 4
		[staging]
		address = 127.0.0.1:$STAGING_PORT
		ca = $SERVER_CA
		cert = $A/$m.pem
		key = $A/$m.key
		[console]
		url = https://127.0.0.1:$CONSOLE_PORT_FIXED
		ca = $SERVER_CA
		machine_id = $id
		secret_file = ${SECRET_FILE:-$A/$m.secret}
		heartbeat_interval = 3s
	CONF
	printf '%s\n' "$@" >>"$T/$m.conf"
	printf '[disk]\nname = d0\npath = %s\n' "$dev" >>"$T/$m.conf"
}

console_machine() { # MACHINE: the operator's view
	api_body "$(api call GET "/api/v1/machines/$(cat "$A/$1.id")?history=20" --basic "$LOGIN")"
}

# wait_view MACHINE PYEXPR: wait until PYEXPR over the operator's view `d` is
# true (heartbeats arrive when a busy machine lets them: waited for, not timed)
wait_view() {
	local view i
	for ((i = 0; i < 120; i++)); do
		view=$(console_machine "$1")
		[ "$(json_get "$view" "$2" 2>/dev/null)" = True ] && return 0
		sleep 0.5
	done
	die "the console's view of $1 never had: $2: $view"
}

sessions() { # MACHINE: sessions staging opened for it so far
	grep -c "machine $(cat "$A/$1.id") connected from" "$STAGING_LOG"
}

python3 "$TESTS/make_disk.py" "$T/m1.img" 160M --zeros 0 --files 0 --random 1 --seed 41
dev1=$(make_loop "$T/m1.img")
register m1 "mac=${MAC:-02:00:00:00:00:01}"

# --- a secret others can read is refused, with what to do ---
cp "$A/m1.secret" "$T/open.secret"
chmod 644 "$T/open.secret"
SECRET_FILE=$T/open.secret conf m1 "$dev1"
if "$BUILD/livemigd" -c "$T/m1.conf" >"$T/open.out" 2>&1; then
	die "livemigd started with a secret file of mode 0644"
fi
grep -q "secret_file $T/open.secret has mode 0644: group or others can read the agent secret.*chmod 600" "$T/open.out" ||
	die "unclear refusal: $(cat "$T/open.out")"
"$BUILD/livemigd" --check-config -c "$T/m1.conf" >/dev/null 2>&1 && die "--check-config accepted the 0644 secret"
pass "a secret file of mode 0644 is refused: $(sed 's/^.*secret_file/secret_file/' "$T/open.out")"

# --- heartbeats carry the status; the console sets the pace ---
if [ -n "$MAC" ]; then
	conf m1 "$dev1" "identity = mac:$MAC"
else
	conf m1 "$dev1"
fi
# The disk keeps changing from the start, so that there is always something
# to send, whether a slow run is still in the mirror or already in change
# copy: the checks below follow the wire, not the mirror's end.
python3 "$TESTS/writer.py" "$dev1" --seed 43 --rate 50 >"$T/writer.out" 2>&1 &
WRITER=$!
track_pid "$WRITER"
start_agent m1
REPLICATING="('INITIAL_MIRROR', 'CHANGE_COPY')"
wait_status "s['console']['connected'] and s['state'] in $REPLICATING" 20
wait_for_log "$AGENT_LOG" "the console asks for a heartbeat every 1 s" 5 ||
	die "the console's interval was not followed"
t0=$(date +%s)
view=$(console_machine m1)
w0=$(json_get "$view" 'd["status"]["wire_bytes"]')
# two heartbeats after t0, the console's view moving with the agent
wait_view m1 'd["status_received_at"] >= '"$t0"' + 1 and d["status"]["wire_bytes"] > '"$w0"' and len([h for h in d["history"] if h["received_at"] >= '"$t0"']) >= 2'
view=$(console_machine m1)
[ "$(json_get "$view" 'd["state"] in '"$REPLICATING"' and d["state"] == d["status"]["state"]')" = True ] ||
	die "console shows: $view"
w1=$(json_get "$view" 'd["status"]["wire_bytes"]')
received=$(json_get "$view" 'd["status_received_at"]')
local_wire=$("$BUILD/livemig" --socket "$AGENT_SOCK" status --json | jq .wire_bytes)
# the agent sent at most 2 MiB/s since that heartbeat (plus a slot and a second)
gap_max=$(((($(date +%s) - received + 2) * 2 + 1) << 20))
if [ "$w1" -gt "$local_wire" ] || [ $((local_wire - w1)) -gt "$gap_max" ]; then
	die "console's wire bytes $w1 are far from the agent's $local_wire (2 MiB/s, at most $gap_max apart)"
fi
[ "$(json_get "$view" 'd["progress"]["bytes_total"]')" = $((160 << 20)) ] || die "progress: $view"
[ "$(json_get "$view" 'd["status"]["agent_version"] == d["status"]["version"] and d["status"]["console"]["connected"]')" = True ] ||
	die "heartbeat lacks agent_version or console: $view"
# one heartbeat a second, not every 3 s as configured: the agent says which
# interval it keeps in every heartbeat (counting heartbeats per second would
# measure the machine's speed)
[ "$(json_get "$view" 'd["status"]["console"]["heartbeat_interval"]')" = 1 ] ||
	die "the agent does not keep the console's interval: $(json_get "$view" 'd["status"]["console"]')"
if [ -n "$MAC" ]; then
	[ "$(json_get "$view" 'd["status"]["identity"]["check"], d["status"]["identity"]["value"]')" = "('holds', '$MAC')" ] ||
		die "identity report: $view"
fi
pass "heartbeats every second: the console shows $(json_get "$view" 'd["state"]') at $w1 wire bytes (agent $local_wire), $((160 << 20)) bytes in all"

# --- the console goes away: replication goes on ---
stop_console
wait_status "not s['console']['connected'] and s['console']['last_error'].startswith('console unreachable since 20')" 10
w0=$(status_get "s['wire_bytes']")
sleep 3 # several retries
wait_status "s['wire_bytes'] > $w0" 60
w1=$(status_get "s['wire_bytes']")
# a slow run may have finished the 160 MiB mirror meanwhile
[ "$(status_get "s['state'] in ('INITIAL_MIRROR', 'CHANGE_COPY')")" = True ] || die "state changed without the console"
[ "$(grep -c 'console unreachable since' "$AGENT_LOG")" = 1 ] ||
	die "the outage is not logged exactly once: $(grep 'console unreachable' "$AGENT_LOG")"
pass "console stopped: replication goes on ($w0 -> $w1 wire bytes), status says: $(status_get "s['console']['last_error']" | cut -c1-80)..."

# --- the console is back: heartbeats resume ---
t0=$(date +%s)
console_up
wait_status "s['console']['connected'] and s['console']['last_error'] == ''" 10
wait_for_log "$AGENT_LOG" "console reachable again after [0-9]+ s" 5 || die "no log line for the recovery"
wait_view m1 'd["status_received_at"] >= '"$t0"' and d["state"] in ("INITIAL_MIRROR", "CHANGE_COPY")'
pass "console back: heartbeats resume"

# --- deregistered in the console: replication stops ---
out=$(api call DELETE "/api/v1/machines/$(cat "$A/m1.id")" --basic "$LOGIN")
[ "$(api_status "$out")" = 200 ] || die "deregister: $out"
wait_status "s['state'] == 'NOT_READY' and s['reason'].startswith('$DEREG')" 10
[ "$(status_get "s['disks'][0]['state'], s['paused']")" = "('NOT_READY', False)" ] || die "disk state or paused"
# slots already read complete (4 MiB at 2 MiB/s), then nothing moves
w0=$(wait_still "s['wire_bytes']")
sleep 3
w1=$(status_get "s['wire_bytes']")
[ "$w0" = "$w1" ] || die "replication went on after deregistration ($w0 -> $w1)"
grep -qF "not replicating: $DEREG" "$AGENT_LOG" || die "not logged"
lm resume >"$T/resume.out" 2>&1 && die "resume succeeded on a deregistered machine"
grep -qF "$DEREG" "$T/resume.out" || die "resume refusal: $(cat "$T/resume.out")"
lm sync >"$T/sync.out" 2>&1 && die "sync succeeded on a deregistered machine"
grep -qF "$DEREG" "$T/sync.out" || die "sync refusal: $(cat "$T/sync.out")"
pass "deregistered: NOT_READY ($DEREG), nothing sent ($w0 wire bytes) while the disk kept changing, resume and sync refused"
kill -TERM "$WRITER"
wait "$WRITER"
# ... and a restart while the console is away does not replicate either
stop_agent
stop_console
n=$(sessions m1)
start_agent m1
wait_status "s['state'] == 'NOT_READY' and s['reason'].startswith('$DEREG')" 5
sleep 2
[ "$(sessions m1)" = "$n" ] || die "a session with staging after the restart"
[ "$(status_get "s['wire_bytes']")" = 0 ] || die "replicated after the restart"
pass "restarted without the console: still NOT_READY, no session with staging"
stop_agent
console_up

# --- a secret the console does not know: said once, replication goes on ---
python3 "$TESTS/make_disk.py" "$T/m2.img" 32M --seed 42
dev2=$(make_loop "$T/m2.img")
register m2 metadata=i-0aaaaaaaaaaaaaaaa
printf 'lma_%064d\n' 0 >"$T/wrong.secret"
chmod 600 "$T/wrong.secret"
SECRET_FILE=$T/wrong.secret conf m2 "$dev2"
start_agent m2
wait_status "'refused this agent' in s['console']['last_error'] and 'bad_agent_secret' in s['console']['last_error']" 10
sleep 3
[ "$(grep -c "refused this agent's secret" "$AGENT_LOG")" = 1 ] || die "not said exactly once"
[ "$(status_get "s['state'] != 'NOT_READY' and s['wire_bytes'] > 0")" = True ] || die "a refused secret stopped replication"
pass "a wrong secret: $(status_get "s['console']['last_error']" | cut -c1-100)..."
stop_agent

# --- identity: metadata instance id ---
md_start() { # INSTANCE_ID: sets MD_PORT
	python3 "$TESTS/metadata_server.py" --instance-id "$1" >"$T/md.$1.out" 2>&1 &
	MD_PID=$!
	track_pid "$MD_PID"
	wait_for_log "$T/md.$1.out" "listening on" 10 || die "metadata server did not start"
	MD_PORT=$(sed -n 's/listening on //p' "$T/md.$1.out")
}
md_stop() {
	kill "$MD_PID"
	wait "$MD_PID" 2>/dev/null
}
md_start i-0aaaaaaaaaaaaaaaa
conf m2 "$dev2" "identity = metadata:i-0aaaaaaaaaaaaaaaa" "metadata_url = http://127.0.0.1:$MD_PORT"
start_agent m2
# replicating, not necessarily sending: the earlier run may have finished the mirror
wait_status "s['identity']['check'] == 'holds' and s['console']['connected'] and s['staging']['connected'] and s['state'] in ('INITIAL_MIRROR', 'CHANGE_COPY')" 20
pass "the registered instance id holds: replicating"
stop_agent
md_stop

md_start i-0bbbbbbbbbbbbbbbb
conf m2 "$dev2" "identity = metadata:i-0aaaaaaaaaaaaaaaa" "metadata_url = http://127.0.0.1:$MD_PORT"
n=$(sessions m2)
start_agent m2
want="this machine's identity changed (was metadata:i-0aaaaaaaaaaaaaaaa, now metadata:i-0bbbbbbbbbbbbbbbb): $REINSTALL"
wait_status "s['state'] == 'NOT_READY' and s['reason'] == \"$want\"" 5
sleep 2
[ "$(sessions m2)" = "$n" ] || die "a session with staging was opened"
[ "$(status_get "(s['wire_bytes'], s['staging']['connected'], s['identity']['check'])")" = "(0, False, 'changed')" ] ||
	die "traffic or identity: $(lm status --json)"
grep -q "instance id is i-0bbbbbbbbbbbbbbbb, registered as i-0aaaaaaaaaaaaaaaa" "$AGENT_LOG" || die "no error logged"
wait_view m2 '(d["state"], d["progress"]["reason"], d["status"]["identity"]["check"]) == ("NOT_READY", "'"$want"'", "changed")'
pass "another instance id: NOT_READY, no traffic, the console shows: $want"
stop_agent
md_stop

# the service not answering is no reason to stop
start_agent m2
wait_status "s['identity']['check'] == 'unknown' and s['state'] != 'NOT_READY'" 10
wait_status "s['wire_bytes'] > 0 or s['state'] == 'CHANGE_COPY'" 20
grep -q "cannot check this machine's identity now" "$AGENT_LOG" || die "no warning"
pass "metadata service silent: warned, replicating"
stop_agent

# --- identity: a MAC no NIC has any more ---
conf m2 "$dev2" "identity = mac:02:00:5e:10:00:99"
start_agent m2
now=${MAC:+mac:$MAC}
want="this machine's identity changed (was mac:02:00:5e:10:00:99, now ${now:-no usable MAC}): $REINSTALL"
wait_status "s['state'] == 'NOT_READY' and s['reason'] == \"$want\"" 5
pass "a MAC no NIC has: NOT_READY: $want"
stop_agent

# --- SIGTERM while a heartbeat hangs: the daemon still stops at once ---
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)  # connections complete, nobody ever answers
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$T/silent.port" &
track_pid $!
wait_for_log "$T/silent.port" "^[0-9]+$" 10 || die "silent listener"
conf m2 "$dev2"
sed -i "s|^url = .*|url = https://127.0.0.1:$(cat "$T/silent.port")|" "$T/m2.conf"
start_agent m2
# the first heartbeat waits for a TLS answer that never comes: its
# connection is established (the listener never accepts it)
port=$(cat "$T/silent.port")
for ((i = 0; i < 600; i++)); do
	conns=$(ss -Htn state established "( dport = :$port )")
	[ -n "$conns" ] && break
	sleep 0.1
done
[ -n "$conns" ] || die "the agent never connected to the silent console"
t0=$(date +%s%N)
stop_agent
ms=$((($(date +%s%N) - t0) / 1000000))
# well under the 10 s request timeout, with room for a busy machine
[ "$ms" -lt 8000 ] || die "stopping took $ms ms with a heartbeat in progress"
pass "SIGTERM during a hanging heartbeat: stopped in $ms ms (request timeout 10 s)"

stop_staging
stop_console
