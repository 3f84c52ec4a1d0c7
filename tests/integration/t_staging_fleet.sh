#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# Several staging servers behind one console, all real (console, two
# staging servers with their own stores and ports, six livemigd on loop
# devices, TLS on loopback; docs/staging-placement.md): six registrations
# are placed 3/3 and each registration answer names its server; each agent
# replicates there; a drain of st1 moves its three machines to st2 (their
# agents are told in a heartbeat answer, reconnect and mirror afresh) and
# all six replicas on st2 verify by sha256 against their loop devices;
# list-staging and placement show it; a pin on a draining server is
# refused; after undrain a pin moves a machine back to st1, whose old
# replica is brought up to date, and it verifies there too; a server with
# machines placed on it cannot be removed; a moved agent restarted goes
# straight to its new server; staging's own counts show what travelled (the
# non-zero blocks for a fresh mirror, nothing for a re-seed of an unchanged
# disk).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

A=$T/agents
N=6
BOUND=600 # seconds for a whole mirror of every disk: a hang's bound, not a speed

setup_pki
start_console --heartbeat-interval 1s --heartbeat-timeout 600s
admin create-account acme --licenses "$N" >/dev/null || die "create-account"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
# staging trusts what the console signs, as in production
AGENT_CA=$CONSOLE_CA/ca.pem

# start_server NAME: a staging server with its own store and port that
# syncs with the console and advertises its address
declare -A SPORT SSTORE
start_server() {
	local name=$1
	admin add-staging "$name" >"$T/$name.secret" 2>/dev/null || die "add-staging $name"
	chmod 600 "$T/$name.secret"
	SSTORE[$name]=$T/store-$name
	SPORT[$name]=$(free_port)
	STAGING_STORE=${SSTORE[$name]} STAGING_WANT_PORT=${SPORT[$name]} start_staging \
		--console "https://127.0.0.1:$CONSOLE_PORT" --console-ca "$SERVER_CA" \
		--console-credential "$T/$name.secret" --console-interval 1s \
		--advertise "127.0.0.1:${SPORT[$name]}"
}
start_server st1
start_server st2

# staging_json PYEXPR: PYEXPR over `d`, list-staging --json as a dict by name
staging_json() {
	local out
	out=$(admin list-staging --json) || die "list-staging --json"
	json_get "$out" "(lambda d: $1)({s['name']: s for s in d})"
}
# until_true WHAT PYEXPR: wait (bounded) for a list-staging condition
until_true() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(staging_json "$2" 2>/dev/null)" = True ] && return 0
		sleep 0.5
	done
	die "never true: $1: $(admin list-staging)"
}
until_true "both servers synced with their address" \
	"all(d[n]['advertise'] == '127.0.0.1:%d' % p for n, p in (('st1', ${SPORT[st1]}), ('st2', ${SPORT[st2]})))"
pass "both staging servers report where agents reach them"

# --- placement: six registrations, 3/3, the answer names the server ---
declare -A DEV ID
for i in $(seq 1 $N); do
	m=m$i
	python3 "$TESTS/make_disk.py" "$T/$m.img" 24M --zeros 1 --files 1 --random 1 --seed $((50 + i))
	DEV[$m]=$(make_loop "$T/$m.img")
	out=$(api register --dir "$A" --machine "$m" --token "$TOKEN")
	[ "$(api_status "$out")" = 201 ] || die "register $m: $out"
	chmod 600 "$A/$m.secret"
	ID[$m]=$(cat "$A/$m.id")
done
placed=$(python3 - "$A" "$N" <<-'PY'
	import json, sys
	names = []
	for i in range(1, int(sys.argv[2]) + 1):
	    a = json.load(open("%s/m%d.json" % (sys.argv[1], i)))
	    names.append("%s@%s" % (a["staging"]["server"], a["staging"]["address"]))
	print(" ".join(names))
PY
)
n1=$(grep -o 'st1@' <<<"$placed" | wc -l)
n2=$(grep -o 'st2@' <<<"$placed" | wc -l)
if [ "$n1" != 3 ] || [ "$n2" != 3 ]; then die "placement is not 3/3: $placed"; fi
for s in st1 st2; do
	grep -q "$s@127.0.0.1:${SPORT[$s]}" <<<"$placed" || die "$s's answers name another address: $placed"
done
[ "$(staging_json "d['st1']['placed'] == 3 and d['st2']['placed'] == 3")" = True ] ||
	die "list-staging does not count 3/3: $(admin list-staging)"
pass "six registrations placed 3/3, each answer naming its server: $placed"

server_of() { # MACHINE: the server its registration answer named
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["staging"]["server"])' "$A/$1.json"
}

# conf MACHINE: what livemig install writes, with the answer's address
conf() {
	local m=$1 addr
	addr=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["staging"]["address"])' "$A/$m.json")
	mkdir -p "$T/$m.state"
	cat >"$T/$m.conf" <<-CONF
		[agent]
		machine = ${ID[$m]}
		state_dir = $T/$m.state
		socket = $T/$m.sock
		scan_interval = 300ms
		nice = 0
		queue_depth = 4
		[staging]
		address = $addr
		ca = $SERVER_CA
		cert = $A/$m.pem
		key = $A/$m.key
		[console]
		url = https://127.0.0.1:$CONSOLE_PORT
		ca = $SERVER_CA
		machine_id = ${ID[$m]}
		secret_file = $A/$m.secret
		heartbeat_interval = 1s
		[disk]
		name = d0
		path = ${DEV[$m]}
	CONF
}
declare -A ALOG APID
run_agent() { # MACHINE: start its livemigd (appending to its log)
	ALOG[$1]=$T/$1.agent.log
	_LIB_LOGS+=("${ALOG[$1]}")
	"$BUILD/livemigd" -c "$T/$1.conf" >>"${ALOG[$1]}" 2>&1 &
	APID[$1]=$!
	track_pid "${APID[$1]}"
}
for i in $(seq 1 $N); do
	conf "m$i"
	run_agent "m$i"
done

replica_of() { # MACHINE SERVER
	echo "${SSTORE[$2]}/${ID[$1]}/disk-d0.img"
}
# until_same SERVER MACHINE...: wait until each machine's replica on SERVER
# is byte-identical to its loop device (the disks do not change), then
# print the sha256 of each
until_same() {
	local s=$1 m end
	shift
	end=$((SECONDS + BOUND))
	for m in "$@"; do
		until [ -f "$(replica_of "$m" "$s")" ] && cmp -s "${DEV[$m]}" "$(replica_of "$m" "$s")"; do
			[ "$SECONDS" -le "$end" ] || {
				tail -n 5 "${ALOG[$m]}" >&2
				die "$m's replica on $s never matched its disk"
			}
			sleep 1
		done
	done
	for m in "$@"; do
		[ "$(file_sha "${DEV[$m]}")" = "$(file_sha "$(replica_of "$m" "$s")")" ] ||
			die "$m on $s: sha256 differs"
		printf '%s=%s ' "$m" "$(file_sha "$(replica_of "$m" "$s")" | cut -c1-12)"
	done
}
on1=() on2=()
for i in $(seq 1 $N); do
	if [ "$(server_of "m$i")" = st1 ]; then on1+=("m$i"); else on2+=("m$i"); fi
done
pass "replicas on st1 verify: $(until_same st1 "${on1[@]}")"
pass "replicas on st2 verify: $(until_same st2 "${on2[@]}")"
for m in "${on1[@]}"; do
	[ ! -e "${SSTORE[st2]}/${ID[$m]}" ] || die "$m (placed on st1) has a store on st2"
done

# --- drain st1: its machines move to st2 and mirror afresh ---
out=$(admin drain-staging st1) || die "drain-staging st1: $out"
grep -q "draining staging server st1: 3 machines placed on other servers" <<<"$out" ||
	die "drain said: $out"
[ "$(staging_json "d['st1']['draining'] is not None and d['st1']['placed'] == 0 and d['st2']['placed'] == 6")" = True ] ||
	die "after the drain: $(admin list-staging)"
view=$(admin list-staging)
pass "drain-staging st1: $out; list-staging right after: $(grep '^st1' <<<"$view")"
for m in "${on1[@]}"; do
	wait_for_log "${ALOG[$m]}" "the console places this machine on staging server st2 \(127.0.0.1:${SPORT[st2]}; was 127.0.0.1:${SPORT[st1]}\): reconnecting there" 120 ||
		die "$m was not told to move: $(tail -n 5 "${ALOG[$m]}")"
done
pass "the three agents on st1 were told to move in a heartbeat answer"
pass "all six replicas on st2 verify: $(until_same st2 "${on1[@]}" "${on2[@]}")"
until_true "the drain is over" "d['st1']['moving'] == 0"
view=$(admin list-staging)
grep -qE '^st1 .* drained$' <<<"$view" || die "list-staging: $view"
grep -qE '^st2 +127\.0\.0\.1:[0-9]+ +6 +6 ' <<<"$view" || die "list-staging: $view"
pl=$(admin placement --json) || die "placement"
[ "$(json_get "$pl" "sorted(set(m['server'] for m in d))")" = "['st2']" ] || die "placement: $pl"
[ "$(json_get "$pl" "[m['moving_from'] for m in d if m['moving_from']]")" = "[]" ] || die "placement: $pl"
pass "list-staging shows the placement and the drain's end:
$view"
for m in "${on1[@]}"; do
	grep -q "staging's store for this machine was replaced: rescanning" "${ALOG[$m]}" ||
		die "$m did not rescan on its new server"
	[ -f "$T/$m.state/console-staging.json" ] || die "$m did not keep its new server"
done
pass "the moved agents rescanned on st2 and keep their new address in state_dir"

# a moved agent restarted goes to st2 at once, not to its configured st1
m=${on1[1]}
kill -TERM "${APID[$m]}"
wait "${APID[$m]}" || die "livemigd of $m exited with $? after SIGTERM"
mv "${ALOG[$m]}" "${ALOG[$m]}.before"
run_agent "$m"
wait_for_log "${ALOG[$m]}" "connected to staging at 127.0.0.1:${SPORT[st2]}" 120 ||
	die "$m restarted did not connect to st2: $(cat "${ALOG[$m]}")"
grep -q "connected to staging at 127.0.0.1:${SPORT[st1]}" "${ALOG[$m]}" &&
	die "$m restarted went to its configured st1 first"
grep -q "as the console placed this machine" "${ALOG[$m]}" || die "$m: $(cat "${ALOG[$m]}")"
pass "$m restarted connects straight to st2: $(grep -m1 'as the console placed this machine' "${ALOG[$m]}" | cut -d' ' -f3-)"

# --- pin: refused on a draining server; after undrain it moves back ---
m=${on1[0]}
if out=$(admin pin-staging "${ID[$m]}" st1 2>&1); then die "a pin on a draining server: $out"; fi
grep -q "is draining" <<<"$out" || die "unclear refusal: $out"
admin undrain-staging st1 >/dev/null || die "undrain-staging"
out=$(admin pin-staging "${ID[$m]}" st1) || die "pin-staging: $out"
grep -q "pinned machine ${ID[$m]} on staging server st1 (127.0.0.1:${SPORT[st1]}): it moves from st2" <<<"$out" ||
	die "pin said: $out"
wait_for_log "${ALOG[$m]}" "the console places this machine on staging server st1" 120 ||
	die "$m was not told to move back"
pass "pinned $m back on st1 (its old replica there is brought up to date): $(until_same st1 "$m")"
pl=$(admin placement --json)
[ "$(json_get "$pl" "[(x['server'], x['pinned']) for x in d if x['machine'] == '${ID[$m]}']")" = "[('st1', True)]" ] ||
	die "placement after the pin: $pl"
pass "placement shows the pin: $(admin placement | grep "${ID[$m]}")"
if out=$(admin remove-staging st2 2>&1); then die "remove-staging of a server with machines: $out"; fi
grep -q "5 machines are placed on staging server 'st2': move them first with drain-staging st2" <<<"$out" ||
	die "unclear refusal: $out"
pass "remove-staging refuses a server machines are placed on: $out"

# --- what travelled: a fresh mirror on st2, a re-seed on st1 ---
# Both agents stop; every session they had ends with staging's summary of
# what it received (data bytes; zero extents apart).
sessions() { # SERVER MACHINE: sessions opened there
	grep -c "machine ${ID[$2]} connected from" "$T/staging.${SPORT[$1]}.log"
}
summaries() { # SERVER MACHINE: the data bytes of each ended session there
	grep -E "machine ${ID[$2]} at .*: received [0-9]+ source bytes" "$T/staging.${SPORT[$1]}.log" |
		sed -E 's/.*received ([0-9]+) source bytes.*/\1/'
}
fresh=${on1[2]}
for a in "$fresh" "$m"; do
	kill -TERM "${APID[$a]}"
	wait "${APID[$a]}" || die "livemigd of $a exited with $? after SIGTERM"
done
for sa in "st2 $fresh" "st1 $m"; do
	read -r s a <<<"$sa"
	end=$((SECONDS + 120))
	until [ "$(summaries "$s" "$a" | wc -l)" -ge "$(sessions "$s" "$a")" ]; do
		[ "$SECONDS" -le "$end" ] || die "staging $s never summed up $a's sessions"
		sleep 0.5
	done
done
fresh_bytes=$(summaries st2 "$fresh" | awk '{s += $1} END {print s + 0}')
reseed_bytes=$(summaries st1 "$m" | sed -n '$p')
[ "$fresh_bytes" -gt 0 ] || die "the fresh mirror of $fresh sent nothing to st2"
[ $((reseed_bytes * 8)) -lt "$fresh_bytes" ] ||
	die "re-seeding $m on st1 sent $reseed_bytes bytes, a fresh mirror $fresh_bytes: not only the differing blocks"
pass "the drain's fresh mirror of $fresh sent $fresh_bytes data bytes to st2 (the non-zero blocks of its 24 MiB disk); re-seeding $m on st1, whose old replica was there, sent $reseed_bytes"