#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Faults on the path to staging, each ending with a replica identical to the
# source: staging killed with SIGKILL mid-mirror and mid change copy (the agent
# reconnects with backoff and resends what was not acknowledged), and the
# connection reset mid-stream by a proxy that dies. And an agent whose
# certificate staging does not trust says so, with the remedy.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root
command -v socat >/dev/null || die "socat is needed (apt-get install socat)"

size=256M
[ "$SANITIZED" = 1 ] && size=64M
start_staging
python3 "$TESTS/make_disk.py" "$T/src.img" "$size" --seed 11
dev=$(make_loop "$T/src.img")

# --- staging crashes during the mirror and during change copy
write_agent_config crash "$dev" -- "bandwidth_limit = 40M"
start_agent crash
wait_status "s['disks'][0]['percent'] > 20" 60
kill_staging
pass "staging killed with SIGKILL at $(status_get "round(s['disks'][0]['percent'])")% of the mirror"
wait_status "not s['staging']['connected']" 30
sleep 1
restart_staging
wait_status "s['staging']['connected']" 30
pass "agent reconnected after staging restarted"
python3 "$TESTS/writer.py" "$dev" --seed 5 --rate 300 >"$T/writer1" 2>&1 &
wpid=$!
track_pid "$wpid"
wait_status "s['state'] == 'CHANGE_COPY' and s['rounds'] >= 1" 120
kill_staging
sleep 0.5
restart_staging
wait_status "s['staging']['connected'] and s['rounds'] >= 3" 60
kill -TERM "$wpid"
wait "$wpid"
lm sync >/dev/null || die "sync failed after staging restarts"
assert_same "$dev" "$(replica crash d0)" "staging SIGKILLed twice"
stop_agent

# --- connection reset mid-stream: the agent talks through a proxy that dies
proxy_port=$(free_port)
start_proxy() {
	socat "TCP-LISTEN:$proxy_port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$STAGING_PORT" &
	PROXY_PID=$!
	track_pid "$PROXY_PID"
	local i listening=
	for ((i = 0; i < 600; i++)); do # listening, however long socat takes to start
		listening=$(ss -Htln "( sport = :$proxy_port )")
		[ -n "$listening" ] && return 0
		sleep 0.1
	done
	die "socat did not listen on $proxy_port"
}
python3 "$TESTS/make_disk.py" "$T/src2.img" "$size" --seed 12
dev2=$(make_loop "$T/src2.img")
write_agent_config reset "$dev2" -- "bandwidth_limit = 40M"
sed -i "s/^address = .*/address = 127.0.0.1:$proxy_port/" "$T/reset.conf"
start_proxy
start_agent reset
for cut in 1 2 3; do
	wait_status "s['staging']['connected'] and s['disks'][0]['percent'] > $((cut * 20))" 60
	# killing socat and its per-connection children resets the TCP streams
	pkill -KILL -P "$PROXY_PID" socat
	kill -KILL "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null
	pass "connection reset at $(status_get "round(s['disks'][0]['percent'])")%"
	start_proxy
done
wait_status "s['state'] == 'CHANGE_COPY'" 120
lm sync >/dev/null || die "sync failed after resets"
assert_same "$dev2" "$(replica reset d0)" "three connection resets mid-stream"
grep -q "connection to staging lost\|sending to staging failed" "$AGENT_LOG" ||
	die "the agent did not report the lost connection"
pass "the agent logged the lost connection"
stop_agent

# --- a certificate staging does not trust: TLS 1.3 lets the agent finish its
# handshake before staging judges the certificate, so the refusal arrives as
# an alert at the agent's first read; the agent must name it, not "Broken pipe"
make_ca "other CA" "$T/other-ca"
make_cert "$T/other-ca" stranger "$T/stranger"
write_agent_config stranger "$dev2"
sed -i "s|^cert = .*|cert = $T/stranger.pem|; s|^key = .*|key = $T/stranger.key|" "$T/stranger.conf"
start_agent stranger
wait_for_log "$AGENT_LOG" "staging rejected this agent's certificate" 60 ||
	die "no reason for the refused certificate: $(sed -n '$p' "$AGENT_LOG")"
line=$(grep -m1 "staging rejected this agent's certificate" "$AGENT_LOG")
has_line -F "(tlsv1 alert unknown ca)" <<<"$line" || die "the alert is not named: $line"
has_line -F "must trust the CA that issued $T/stranger.pem" <<<"$line" || die "no remedy: $line"
err=$(status_get "s['staging']['last_error']")
has_line -F "staging rejected this agent's certificate" <<<"$err" || die "livemig status: $err"
[ ! -e "$STAGING_STORE/stranger" ] || die "staging made a store for the refused agent"
pass "a certificate from another CA: the agent says staging rejected it (tlsv1 alert unknown ca) and what staging must trust, in its log and status"
stop_agent
