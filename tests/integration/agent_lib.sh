# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Agent-side helpers for integration tests, on top of lib.sh. A test starts with
#     . "$(dirname "$0")/lib.sh" "$@"
#     . "$TESTS/agent_lib.sh"
# and gets:
#   SANITIZED                     1 in the ASan+UBSan pass (tests pick a quick tier)
#   write_agent_config NAME DEV... [-- EXTRA_LINES]
#                                 $T/NAME.conf replicating DEV as disks d0, d1, ...
#   start_agent NAME              start livemigd for NAME (config written first);
#                                 sets AGENT_PID, AGENT_LOG, AGENT_SOCK
#   kill_agent / stop_agent       SIGKILL it / SIGTERM it and require exit 0
#   lm ARGS...                    the livemig command against that agent
#   status_get PYEXPR             evaluate PYEXPR over the status document `s`
#   wait_status PYEXPR TIMEOUT    wait until PYEXPR is true (fails with the status)
#   wait_still PYEXPR             wait until PYEXPR's value stays the same over two
#                                 samples 2 s apart (at most 120 s); prints it
#   restart_staging               start staging again on the same port and store
#   replica NAME DISK             path of the replica image on staging
#   assert_same SRC REPLICA MSG   byte-identical, or fail with the first difference
#   staging_received NAME         source bytes (data + zeroed) staging received for NAME

SANITIZED=${LIVEMIG_SANITIZED:-0}

write_agent_config() {
	local name=$1 i=0 conf
	shift
	conf=$T/$name.conf
	machine_cert "$name"
	mkdir -p "$T/$name.state"
	cat >"$conf" <<-CONF
		[agent]
		machine = $name
		state_dir = $T/$name.state
		socket = $T/$name.sock
		scan_interval = 300ms
		nice = 0
		[staging]
		address = 127.0.0.1:$STAGING_PORT
		ca = $SERVER_CA
		cert = $PKI/$name.pem
		key = $PKI/$name.key
	CONF
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		printf '[disk]\nname = d%d\npath = %s\n' "$i" "$1" >>"$conf"
		i=$((i + 1))
		shift
	done
	if [ "${1:-}" = -- ]; then
		shift
		# extra [agent] keys go before the first [staging] section
		local extra
		extra=$(printf '%s\n' "$@")
		python3 - "$conf" "$extra" <<-'PY'
			import sys
			path, extra = sys.argv[1], sys.argv[2]
			text = open(path).read().replace("[staging]", extra + "\n[staging]", 1)
			open(path, "w").write(text)
		PY
	fi
}

start_agent() {
	local name=$1
	AGENT_NAME=$name
	AGENT_SOCK=$T/$name.sock
	AGENT_LOG=$T/$name.agent.$(date +%s%N).log
	_LIB_LOGS+=("$AGENT_LOG")
	"$BUILD/livemigd" -c "$T/$name.conf" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	track_pid "$AGENT_PID"
	local i
	for i in $(seq 100); do
		[ -S "$AGENT_SOCK" ] && lm status >/dev/null 2>&1 && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$AGENT_LOG" >&2
	die "livemigd for $name did not start"
}

kill_agent() {
	kill -KILL "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	return 0
}

stop_agent() {
	local rc=0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" || rc=$?
	[ "$rc" -eq 0 ] || die "livemigd exited with $rc after SIGTERM"
}

lm() {
	"$BUILD/livemig" --socket "$AGENT_SOCK" "$@"
}

status_get() {
	lm status --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

wait_status() {
	local expr=$1 timeout=${2:-60} end
	[ "$timeout" -ge "$WAIT_MIN_S" ] || timeout=$WAIT_MIN_S # lib.sh: bounds are for hangs
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -le "$end" ]; do
		[ "$(status_get "$expr" 2>/dev/null)" = True ] && return 0
		sleep 0.2
	done
	lm status >&2 || true
	die "timed out after ${timeout}s waiting for: $expr"
}

# What is already in flight (slots read before a pause, a hold or a full
# store) drains at its own pace, slower on a busy machine: a test that then
# checks that nothing moves first waits for the value to settle, rather than
# sleeping a guessed drain time.
wait_still() {
	local expr=$1 before now i
	before=$(status_get "$expr")
	for ((i = 0; i < 60; i++)); do
		sleep 2
		now=$(status_get "$expr")
		if [ "$now" = "$before" ]; then
			echo "$now"
			return 0
		fi
		before=$now
	done
	die "still moving after 120 s: $expr ($now)"
}

restart_staging() {
	"$BUILD/livemig-staging" --listen "127.0.0.1:$STAGING_PORT" --store "$STAGING_STORE" \
		--ca "$AGENT_CA" --cert "$SERVER_CERT" --key "$SERVER_KEY" "$@" \
		>>"$STAGING_LOG" 2>&1 &
	STAGING_PID=$!
	track_pid "$STAGING_PID"
	local i
	for i in $(seq 600); do
		[ "$(grep -c 'listening on' "$STAGING_LOG")" -ge "${_restarts:-2}" ] && break
		sleep 0.1
	done
	_restarts=$((${_restarts:-2} + 1))
}

replica() {
	echo "$STAGING_STORE/$1/disk-$2.img"
}

assert_same() {
	local src=$1 rep=$2 msg=$3
	if cmp -s "$src" "$rep"; then
		pass "$msg (sha256 $(file_sha "$rep"))"
	else
		cmp "$src" "$rep" 2>&1 | sed -n 1,3p >&2
		fail "$msg: replica differs from source"
	fi
}

# DATA bytes plus ZERO bytes over every session of the machine, from the
# summary staging logs when a session ends.
staging_received() {
	grep -E "machine $1 at .*: received [0-9]+ source bytes" "$STAGING_LOG" |
		sed -E 's/.*received ([0-9]+) source bytes.*zeroed ([0-9]+) bytes.*/\1 \2/' |
		awk '{s += $1 + $2} END {print s + 0}'
}
