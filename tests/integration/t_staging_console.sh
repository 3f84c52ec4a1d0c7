#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# The staging <-> console channel, all real (console, staging, livemigd, TLS
# on loopback): staging that never reached its console accepts every
# certificate of the agent CA as before; once it has, only each machine's
# current certificate connects: an unregistered certificate is refused, a
# machine's fresh certificate is accepted at once, the old certificate is
# refused after deregistration and after re-registration (a live session of
# it is cut too) within the bound of docs/staging-console.md, and a staging
# restart without the console keeps enforcing. The machines staging stores
# and their recovery points reach the console's API; a job goes to staging
# and its log and result come back.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"
need_root

LOGIN=alice@acme:operator-password
A=$T/agents
INTERVAL=1 # --console-interval, seconds
BOUND=10   # what the test allows for a revocation to take effect, seconds

setup_pki
start_console
admin create-account acme --licenses 5 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
admin add-staging st1 >"$T/st1.secret" 2>"$T/add.err" || die "add-staging: $(cat "$T/add.err")"
chmod 600 "$T/st1.secret"
grep -qE '^lmg_[0-9a-f]{64}$' "$T/st1.secret" || die "add-staging printed: $(cat "$T/st1.secret")"
admin add-staging st1 >/dev/null 2>"$T/add2.err" && die "a second st1 was added"
pass "add-staging prints a secret once; a name is not reused: $(cat "$T/add2.err")"
# staging trusts what the console signs, as in production
AGENT_CA=$CONSOLE_CA/ca.pem

# frames_as CERT_PREFIX MACHINE [frames.py command...]: connect to staging
# with that certificate and key, claiming MACHINE.
frames_as() {
	local prefix=$1 m=$2
	shift 2
	python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" \
		--cert "$prefix.pem" --key "$prefix.key" --machine "$m" --disk 1:vda:16M "$@"
}
# accepted PREFIX MACHINE / refused PREFIX MACHINE WHAT
accepted() {
	local out
	out=$(frames_as "$1" "$2" hello 2>&1) || die "$2 with $1.pem refused: $out"
	grep -q '^WELCOME' <<<"$out" || die "$2 with $1.pem: $out"
}
refused() {
	local out
	out=$(frames_as "$1" "$2" hello 2>&1) && die "$3: $2 with $1.pem accepted: $out"
	grep -q "^ERROR 3 this certificate is not machine $2's current one" <<<"$out" ||
		die "$3: $2 with $1.pem: unexpected answer: $out"
}
register() { # MACHINE: a registration with a new key; keeps the certificate as $A/MACHINE.N
	local out n
	local proof=()
	# an active machine re-registers only with its current agent secret
	[ -f "$A/$1.secret" ] && proof=(--agent-secret "$(cat "$A/$1.secret")")
	out=$(api register --dir "$A" --machine "$1" --token "$TOKEN" "${proof[@]}")
	[ "$(api_status "$out")" = 201 ] || [ "$(api_status "$out")" = 200 ] || die "register $1: $out"
	chmod 600 "$A/$1.secret"
	n=$(find "$A" -name "$1.[0-9]*.pem" | wc -l)
	cp "$A/$1.pem" "$A/$1.$n.pem"
	cp "$A/$1.key" "$A/$1.$n.key"
	CERT=$A/$1.$n
}
# log_ms FILE REGEX: the time of FILE's first line matching REGEX, in ms
# since the epoch (every program logs an RFC 3339 time first).
log_ms() {
	python3 - "$1" "$2" <<-'PY'
		import datetime, re, sys
		for line in open(sys.argv[1], errors="replace"):
		    if re.search(sys.argv[2], line):
		        t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
		        print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))
		        break
		else:
		    sys.exit("no line matches " + sys.argv[2])
	PY
}
# revoked_after MACHINE CONSOLE_REGEX: ms from the console's change to
# staging cutting MACHINE's live session
revoked_after() {
	local t1 t2
	t1=$(log_ms "$CONSOLE_LOG" "$2") || die "console log: no $2"
	t2=$(log_ms "$STAGING_LOG" "revoked this certificate of machine $1 while it was connected") ||
		die "staging did not cut $1's session"
	echo $((t2 - t1))
}
staging_with_console() { # [PORT]: staging syncing with the console (or a dead port)
	start_staging --console "https://127.0.0.1:${1:-$CONSOLE_PORT}" --console-ca "$SERVER_CA" \
		--console-credential "$T/st1.secret" --console-interval "${INTERVAL}s"
}

# --- never reached: every certificate of the agent CA, as before ---
make_cert "$CONSOLE_CA" stranger "$T/stranger"
dead=$(free_port)
STAGING_STORE=$T/store staging_with_console "$dead"
accepted "$T/stranger" stranger
[ -e "$T/store/.revocation.json" ] && die "a certificate list was kept without a console"
stop_staging
pass "staging that never reached its console accepts any certificate of the agent CA"

# --- reached: enforcing; unknown certificates refused, fresh ones at once ---
staging_with_console
wait_for_log "$STAGING_LOG" "enforcing its certificate list" 20 || die "staging never synced"
refused "$T/stranger" stranger "a certificate the console never issued"
register m1
M1_A=$CERT
M1=$(cat "$A/m1.id") # the console's id for it, derived from the account and the identity
accepted "$M1_A" "$M1"
pass "a certificate the console never issued is refused; m1's is accepted right after its registration"

# --- the real agent replicates; the console learns what staging stores ---
python3 "$TESTS/make_disk.py" "$T/m1.img" 32M --zeros 0 --files 0 --random 1 --seed 7
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
cert = $M1_A.pem
key = $M1_A.key
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
lm sync >"$T/sync.out" 2>&1 || die "final sync: $(cat "$T/sync.out")"
points_api() { api_body "$(api call GET "/api/v1/machines/$M1/points" --basic "$LOGIN")"; }
for _ in $(seq 100); do
	view=$(points_api)
	[ "$(json_get "$view" '[s["staging"] for s in d["stored_on"]]')" = "['st1']" ] && break
	sleep 0.2
done
[ "$(json_get "$view" '[s["staging"] for s in d["stored_on"]]')" = "['st1']" ] || die "points view: $view"
# --- a job round trip: queued, delivered, run on staging, log and result back ---
out=$(api call POST "/api/v1/machines/$M1/jobs" --json '{"kind": "refresh-points"}' --basic "$LOGIN")
[ "$(api_status "$out")" = 201 ] || die "job create: $out"
job=$(json_get "$(api_body "$out")" 'd["id"]')
[ "$(json_get "$(api_body "$out")" 'd["state"], d["owner"]')" = "('queued', 'alice@acme')" ] || die "job: $out"
for _ in $(seq 150); do
	view=$(api_body "$(api call GET "/api/v1/machines/$M1/jobs/$job" --basic "$LOGIN")")
	[ "$(json_get "$view" 'd["state"]')" = succeeded ] && break
	sleep 0.2
done
[ "$(json_get "$view" 'd["state"]')" = succeeded ] || die "job did not succeed: $view"
npoints=$(json_get "$(points_api)" 'len(d["points"])')
[ "$(json_get "$view" 'd["result"]["points"]')" = "$npoints" ] || die "job result: $view"
[ "$(json_get "$view" 'd["staging"] == "st1" and d["started"] is not None and d["ended"] >= d["started"]')" = True ] ||
	die "job times: $view"
json_get "$view" '"\n".join(l["line"] for l in d["log"])' >"$T/job.log"
grep -q "^machine $M1 has $npoints recovery point" "$T/job.log" || die "job log: $(cat "$T/job.log")"
[ "$(json_get "$view" '[l["seq"] for l in d["log"]] == list(range(1, len(d["log"]) + 1))')" = True ] ||
	die "job log numbering: $view"
out=$(api call POST "/api/v1/machines/$M1/jobs" --json '{"kind": "format-disk"}' --basic "$LOGIN")
expect_error "an unknown job kind" 400 unknown_kind "$out"
pass "job $job: queued by alice@acme, run by st1, $(wc -l <"$T/job.log") log lines, result $(json_get "$view" 'd["result"]')"
"$BUILD/livemig-staging" points list "$M1" --store "$STAGING_STORE" --json >"$T/points.json" 2>"$T/points.err" ||
	die "livemig-staging points list: $(cat "$T/points.json" "$T/points.err")"
KEYS='json.dumps(sorted((p["id"], p["time_ns"], p["origin"], p["consistency"], p["pinned"]) for p in d["points"]))'
want=$(json_get "$(cat "$T/points.json")" "$KEYS")
[ "$want" != "[]" ] || die "the final sync made no recovery point: $(cat "$T/points.json")"
for _ in $(seq 100); do
	got=$(json_get "$(points_api)" "$KEYS")
	[ "$got" = "$want" ] && break
	sleep 0.2
done
[ "$got" = "$want" ] || die "console points $got, staging points $want"
pass "the console lists m1's recovery points as staging does: $got"
# a change on staging (a pin) reaches the console at the next sync
first=$(json_get "$(cat "$T/points.json")" 'd["points"][0]["id"]')
"$BUILD/livemig-staging" points pin "$M1" "$first" --name launch-7 --store "$STAGING_STORE" >/dev/null ||
	die "points pin $M1 $first"
for _ in $(seq 100); do
	pins=$(json_get "$(points_api)" '[(p["pinned"], p["pins"]) for p in d["points"] if p["id"] == '"$first"']')
	[ "$pins" = "[(True, ['launch-7'])]" ] && break
	sleep 0.2
done
[ "$pins" = "[(True, ['launch-7'])]" ] || die "the pin did not reach the console: $pins"
pass "a pin made on staging shows in the console: point $first $pins"

stop_agent

# --- deregistration: m1's certificate refused, its live session cut ---
rm -f "$T/stop-loop"
frames_as "$M1_A" "$M1" loop --length 64K --interval 0.05 --until-file "$T/stop-loop" >"$T/loop.out" 2>&1 &
loop=$!
track_pid "$loop"
wait_for_log "$T/loop.out" '^WELCOME' 60 || die "the stolen-key writer was not welcomed: $(cat "$T/loop.out")"
out=$(api call DELETE "/api/v1/machines/$M1" --basic "$LOGIN")
[ "$(api_status "$out")" = 200 ] || die "deregister: $out"
wait "$loop" && die "the old certificate's session survived deregistration: $(cat "$T/loop.out")"
cut_ms=$(revoked_after "$M1" "DELETE /api/v1/machines/$M1 -> 200")
grep -q "^ERROR 3 the console revoked this certificate of machine $M1 while it was connected" "$T/loop.out" ||
	die "session end: $(cat "$T/loop.out")"
[ "$cut_ms" -le $((BOUND * 1000)) ] || die "the live session was cut only after $cut_ms ms"
refused "$M1_A" "$M1" "after deregistration"
pass "deregistered: m1's live session cut $cut_ms ms after the console's answer (bound ${BOUND}s), new connections refused"

# --- re-registration: the old certificate refused at once, the new accepted ---
register m2
M2_A=$CERT
M2=$(cat "$A/m2.id")
accepted "$M2_A" "$M2"
frames_as "$M2_A" "$M2" loop --length 64K --interval 0.05 --until-file "$T/stop-loop" >"$T/loop2.out" 2>&1 &
loop=$!
track_pid "$loop"
wait_for_log "$T/loop2.out" '^WELCOME' 60 || die "m2's writer was not welcomed: $(cat "$T/loop2.out")"
register m2
M2_B=$CERT
# the new certificate connects only once the old session is cut: a new
# session of the machine would replace the old one itself, and whether the
# revocation or the replacement came first would be a race
wait "$loop" && die "the old certificate's session survived re-registration: $(cat "$T/loop2.out")"
cut_ms=$(revoked_after "$M2" "registered machine $M2 for account acme \\(same license")
[ "$cut_ms" -le $((BOUND * 1000)) ] || die "the live session was cut only after $cut_ms ms"
accepted "$M2_B" "$M2"
refused "$M2_A" "$M2" "after re-registration"
pass "re-registered: m2's new certificate accepted, the old one's session cut $cut_ms ms after the registration and refused"

# --- a restart without the console keeps enforcing the last list ---
stop_console
stop_staging
staging_with_console
refused "$M2_A" "$M2" "after a restart without the console"
refused "$M1_A" "$M1" "after a restart without the console"
refused "$T/stranger" stranger "after a restart without the console"
accepted "$M2_B" "$M2"
grep -q "enforcing the console's certificate list of .*/.revocation.json (2 machines)" "$STAGING_LOG" ||
	die "the persisted list was not loaded: $(grep -i revocation "$STAGING_LOG")"
stop_staging
pass "staging restarted with the console down keeps enforcing: old certificates refused, m2's current one accepted"
