#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_staging takes livemig-staging options, not this script's arguments
#
# Scale figures (not a test; make bench-scale): how many heartbeats a second
# the console takes, and how staging's throughput grows with agents at once.
#
# 1. Heartbeats. SCALE_MACHINES simulated agents register (the agent's
#    registration: token, identity, inventory, CSR; scale_register.py), then
#    scale_client.c sends their heartbeats (the status document livemigd
#    sends, progress moving on) over kept HTTPS connections, open loop, at
#    stepped rates (SCALE_STEPS heartbeats a second, SCALE_SECONDS each),
#    against (a) one console on SQLite, (b) one console on PostgreSQL, (c) two
#    consoles on that PostgreSQL database, requests alternating between
#    them. Per step: achieved rate, p50/p90/p99 latency (from when each
#    heartbeat was due), errors, CPU seconds per 1,000 heartbeats of the
#    console(s) and of PostgreSQL (postmaster, backends and the rest, from
#    /proc), the client's own CPU. A step is "sustained" when it achieved
#    at least 95 % of the offered rate, with no error and p99 < 200 ms.
#    The machines are many enough that none sends more than one heartbeat
#    a second (the console's per-machine limiter, docs/console-api.md):
#    steps above 0.9 x SCALE_MACHINES are left out.
# 2. Staging. 1, 4, 8 and again 1 agents (SCALE_AGENTS) mirror at once to one
#    livemig-staging, each its own SCALE_DISK image (make_disk.py, its own
#    seed) on its own loop device (direct I/O), page cache dropped first;
#    aggregate throughput from the first agent's "initial mirror from" to
#    the last one's "initial mirror complete", as a ratio to one agent;
#    every replica verified by sha256 after a sync.
#
#   tests/bench/scale.sh BUILD_DIR      (the staging part needs root: loop devices, drop_caches)
#
# Knobs (environment):
#   SCALE_PARTS="sqlite pg pg2 staging"   what to run
#   SCALE_MACHINES=1000  SCALE_STEPS=50,100,150,200,300,400,600,800  SCALE_SECONDS=15
#   SCALE_THREADS=4 (client threads, each its own loopback address)
#   SCALE_CONNS=8 (kept connections per thread and console)
#   SCALE_AGENTS="1 4 8 1" (one agent twice: the ratios are to the mean of those)  SCALE_DISK=512M
#   SCALE_PG_FSYNC=0  the scratch PostgreSQL without fsync (with_postgresql.sh's
#                     default; the bench turns it on, as on a real server)
#   SCALE_PERF=1  profile the console(s) and PostgreSQL with perf during the steps
# The PostgreSQL parts need a server: without LIVEMIG_TEST_PG the script
# runs itself under tests/with_postgresql.sh (a scratch cluster).
# Results and method: docs/scaling.md. The machine is shared: the load
# average and what the rest of the machine used are printed with each step.
PARTS=${SCALE_PARTS:-sqlite pg pg2 staging}
if [ -z "${LIVEMIG_TEST_PG:-}" ] && [[ " $PARTS " == *" pg"* ]]; then
	# a real server syncs its WAL at each commit, as SQLite does here
	# (tests/with_postgresql.sh turns fsync off unless told)
	[ "${SCALE_PG_FSYNC:-1}" = 0 ] || export PG_FSYNC=on
	exec "$(dirname "$0")/../with_postgresql.sh" "$0" "$@"
fi
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
CONSOLE_DB=$T/console.db # console_lib.sh: no database of its own on the server
# shellcheck source=../integration/console_lib.sh
. "$TESTS/console_lib.sh"
# shellcheck source=../integration/agent_lib.sh
. "$TESTS/agent_lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MACHINES=${SCALE_MACHINES:-1000}
STEPS=${SCALE_STEPS:-50,100,150,200,300,400,600,800}
SECS=${SCALE_SECONDS:-15}
THREADS=${SCALE_THREADS:-4}
CONNS=${SCALE_CONNS:-8}
AGENTS=${SCALE_AGENTS:-1 4 8 1}
DISK=${SCALE_DISK:-512M}
unset JOURNAL_STREAM # the agent stamps its log lines only when not under journald

# loop devices and dropping the page cache
[[ " $PARTS " != *" staging "* ]] || need_root
for p in gcc libcurl4-openssl-dev openssl python3 procps; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | has_line 'install ok installed' ||
		die "missing package $p: apt-get install -y $p (or: ci/deps.sh test)"
done

# steps the limiter allows: at most 0.9 heartbeats a second per machine
steps=
for r in ${STEPS//,/ }; do
	if [ $((r * 10)) -le $((MACHINES * 9)) ]; then
		steps=${steps:+$steps,}$r
	else
		echo "bench: step $r/s left out: $MACHINES machines would each report more than 0.9 a second (SCALE_MACHINES)"
	fi
done
[ -n "$steps" ] || die "no step left (SCALE_STEPS=$STEPS, SCALE_MACHINES=$MACHINES)"

echo "==> $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $("$BUILD/livemig-console" --version 2>&1 | sed -n 1p)"
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$T/scale_client" "$BENCH_DIR/scale_client.c" \
	"$BENCH_DIR/scale_cpu.c" -lcurl -lpthread ||
	die "cannot build scale_client"

# ---- 1. heartbeats ----
# register NAME: SCALE_MACHINES machines on the running console, into $T/machines.NAME
register() {
	local token out
	admin create-account "$1" --licenses "$MACHINES" >/dev/null || die "create-account $1"
	token=$(admin create-token "$1" --max-uses "$MACHINES" 2>/dev/null) || die "create-token $1"
	out=$(python3 "$BENCH_DIR/scale_register.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" \
		--token "$token" --count "$MACHINES" --dir "$T/keys" --prefix "$1" \
		--out "$T/machines.$1") || die "registration of $MACHINES machines failed: $out"
	echo "    $out"
}

# heartbeats NAME PORT... : the client's steps, into $T/results.NAME
heartbeats() {
	local name=$1 p args=()
	shift
	for p in "$@"; do args+=(--port "$p"); done
	for p in "${PIDS[@]}"; do args+=(--cpu-pid "$p"); done
	[ -z "${PG_PID:-}" ] || args+=(--pg-pid "$PG_PID")
	if [ "${SCALE_PERF:-0}" = 1 ]; then
		# the console(s), and PostgreSQL's processes (its backends are the
		# consoles' kept connections, open since the registrations)
		local watch=("${PIDS[@]}") kids=()
		[ -z "${PG_PID:-}" ] || mapfile -t kids < <(ps -o pid= --ppid "$PG_PID")
		watch+=("${kids[@]// /}")
		perf record -g -F 499 -o "$T/perf.$name" -p "$(IFS=,; echo "${watch[*]}")" >/dev/null 2>&1 &
		perf_pid=$!
		track_pid "$perf_pid"
	fi
	nice -n -5 "$T/scale_client" --ca "$SERVER_CA" --machines "$T/machines.$MACHINES_OF" \
		--steps "$steps" --seconds "$SECS" --threads "$THREADS" --conns "$CONNS" \
		"${args[@]}" | tee "$T/results.$name" || die "scale_client failed"
	if [ "${SCALE_PERF:-0}" = 1 ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid"
		echo "--- where the CPU went (perf: share per program, then its top symbols)"
		perf report -i "$T/perf.$name" --no-children -g none --sort comm --stdio 2>/dev/null |
			grep -E '^ +[0-9]' | sed -n 1,6p
		perf report -i "$T/perf.$name" --no-children -g none --sort comm,dso,sym --percent-limit 1 \
			--stdio 2>/dev/null | grep -E '^ +[0-9]' | sed -n 1,30p
	fi
}

if [[ " $PARTS " == *" sqlite "* ]]; then
	echo "==> (a) one console, SQLite ($CONSOLE_DB)"
	start_console
	register sqlite
	PIDS=("$CONSOLE_PID")
	PG_PID=''
	MACHINES_OF=sqlite
	heartbeats sqlite "$CONSOLE_PORT"
	stop_console
	hist=$(db_query 'SELECT COUNT(*), CAST(AVG(LENGTH(doc)) AS INTEGER) FROM status_history')
	echo "    database: $(stat -c %s "$CONSOLE_DB") bytes (plus WAL); status history: ${hist%|*} reports, ${hist#*|} bytes each on average"
fi

if [[ " $PARTS " == *" pg"* ]]; then
	pgdb=scale_$$
	"$PG_BIN/psql" "$LIVEMIG_TEST_PG/postgres" -XAtq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pgdb" >/dev/null ||
		die "cannot create database $pgdb on $LIVEMIG_TEST_PG"
	CONSOLE_DB=$LIVEMIG_TEST_PG/$pgdb
	pgdata=$("$PG_BIN/psql" "$CONSOLE_DB" -XAtq -c 'SHOW data_directory') || die "SHOW data_directory"
	PG_PID=$(sed -n 1p "$pgdata/postmaster.pid")
	if [ -z "$PG_PID" ] || ! [ -d "/proc/$PG_PID" ]; then
		die "no postmaster in $pgdata/postmaster.pid"
	fi
	echo "==> PostgreSQL $("$PG_BIN/psql" "$CONSOLE_DB" -XAtq -c 'SHOW server_version'), postmaster $PG_PID ($pgdata, a scratch cluster; fsync $("$PG_BIN/psql" "$CONSOLE_DB" -XAtq -c 'SHOW fsync'))"
	start_console
	register pg
	MACHINES_OF=pg
fi

if [[ " $PARTS " == *" pg "* ]]; then
	echo "==> (b) one console, PostgreSQL"
	PIDS=("$CONSOLE_PID")
	heartbeats pg "$CONSOLE_PORT"
fi

if [[ " $PARTS " == *" pg2 "* ]]; then
	echo "==> (c) two consoles, one PostgreSQL database (the same machines as (b)), requests alternating"
	PORT1=$CONSOLE_PORT PID1=$CONSOLE_PID
	start_console
	PIDS=("$PID1" "$CONSOLE_PID")
	heartbeats pg2 "$PORT1" "$CONSOLE_PORT"
	stop_console
	CONSOLE_PID=$PID1
fi
[[ " $PARTS " != *" pg"* ]] || stop_console

# ---- 2. staging ----
# the first line of LOG matching REGEX, as seconds since the epoch
log_time() {
	local stamp
	stamp=$(grep -m1 -E -- "$2" "$1" | cut -d' ' -f1)
	[ -n "$stamp" ] || return 1
	date -d "$stamp" +%s.%N
}

if [[ " $PARTS " == *" staging "* ]]; then
	max=0
	for k in $AGENTS; do [ "$k" -le "$max" ] || max=$k; done
	echo "==> staging: $max images of $DISK (make_disk.py: 40% zeros, 30% /usr data, 30% random; seeds 1..$max)"
	DEVS=() SHAS=()
	for i in $(seq "$max"); do
		python3 "$TESTS/make_disk.py" "$T/src$i.img" "$DISK" --seed "$i" >/dev/null || die "make_disk.py failed"
		dev=$(losetup --find --show --direct-io=on "$T/src$i.img") || die "cannot attach $T/src$i.img"
		echo "$dev" >>"$T/.loops"
		DEVS+=("$dev")
		SHAS+=("$(file_sha "$dev")")
	done
	BYTES=$(stat -c %s "$T/src1.img")
	: >"$T/results.staging"
	run=0
	for k in $AGENTS; do
		# new names each run: an agent with a checkpoint would rescan, not mirror
		run=$((run + 1))
		STAGING_STORE=$T/store.$run
		start_staging
		names=() pids=() logs=()
		for i in $(seq "$k"); do
			names+=("r$run-$i")
			write_agent_config "r$run-$i" "${DEVS[$((i - 1))]}" -- "scan_interval = 60s"
		done
		sync
		echo 3 >/proc/sys/vm/drop_caches
		load=$(cut -d' ' -f1 /proc/loadavg)
		s0=$(awk '{print $14 + $15}' "/proc/$STAGING_PID/stat")
		for i in $(seq "$k"); do
			log=$T/${names[$((i - 1))]}.agent.log
			"$BUILD/livemigd" -c "$T/${names[$((i - 1))]}.conf" >"$log" 2>&1 &
			pids+=("$!")
			track_pid "$!"
			logs+=("$log")
			_LIB_LOGS+=("$log")
		done
		first='' last=''
		for i in $(seq "$k"); do
			log=${logs[$((i - 1))]}
			wait_for_log "$log" "initial mirror complete" 900 || die "agent $i of $k: no 'initial mirror complete' in $log"
			t=$(log_time "$log" "initial mirror from") || die "no 'initial mirror from' in $log"
			first=$(awk -v a="${first:-$t}" -v b="$t" 'BEGIN { printf "%.6f", (b < a ? b : a) }')
			t=$(log_time "$log" "initial mirror complete")
			last=$(awk -v a="${last:-$t}" -v b="$t" 'BEGIN { printf "%.6f", (b > a ? b : a) }')
		done
		s1=$(awk '{print $14 + $15}' "/proc/$STAGING_PID/stat")
		for i in $(seq "$k"); do
			"$BUILD/livemig" --socket "$T/${names[$((i - 1))]}.sock" sync >/dev/null ||
				die "livemig sync of agent $i of $k failed"
			kill -TERM "${pids[$((i - 1))]}"
			wait "${pids[$((i - 1))]}" || die "livemigd $i of $k did not exit 0 after SIGTERM"
		done
		stop_staging
		for i in $(seq "$k"); do
			got=$(file_sha "$(replica "${names[$((i - 1))]}" d0)")
			[ "$got" = "${SHAS[$((i - 1))]}" ] || die "$k agents: replica $i differs from its source (sha256 $got)"
		done
		rm -rf "$STAGING_STORE"
		secs=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.2f", b - a }')
		mbs=$(awk -v k="$k" -v n="$BYTES" -v s="$secs" 'BEGIN { printf "%.1f", k * n / s / 1e6 }')
		cpu=$(awk -v a="$s0" -v b="$s1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
		printf '%s\t%s\t%s\t%s\t%s\n' "$k" "$secs" "$mbs" "$load" "$cpu" >>"$T/results.staging"
		echo "    $k agent(s) at once: $secs s for $k x $((BYTES >> 20)) MiB, $mbs MB/s together; staging $cpu CPU-s; load $load before; $k replica(s) verified by sha256"
	done
fi

# ---- summary ----
echo
python3 - "$T" <<'PY'
import os, sys
d = sys.argv[1]
names = {"sqlite": "(a) one console, SQLite", "pg": "(b) one console, PostgreSQL",
         "pg2": "(c) two consoles, one PostgreSQL"}
for key in ("sqlite", "pg", "pg2"):
    path = os.path.join(d, "results." + key)
    if not os.path.exists(path):
        continue
    rows = [l.rstrip("\n").split("\t") for l in open(path)]
    fields = rows[0][1:]  # "fields", then the name of each column
    steps = [dict(zip(fields, r)) for r in rows if r[0] == "step"]

    def sustained(bound_ms):
        best = None
        for s in steps:
            errs = sum(int(s[k]) for k in ("e429", "e4xx", "e5xx", "enet", "timedout", "unsent"))
            if (float(s["achieved_hz"]) >= 0.95 * float(s["offered_hz"]) and errs == 0
                    and float(s["p99_ms"]) < bound_ms):
                best = s
        return best

    print(names[key] + ":")
    for bound in (200, 1000):
        best = sustained(bound)
        print("  sustained with p99 < %4d ms: %s" % (bound, (
            "%s heartbeats/s (p50 %s ms, p99 %s ms; CPU-s per 1,000: console %s, PostgreSQL %s)"
            % (best["achieved_hz"], best["p50_ms"], best["p99_ms"], best["console_cpu_s_per_1000"],
               best["pg_cpu_s_per_1000"])) if best else "no step"))
    top = max(steps, key=lambda s: float(s["achieved_hz"]))
    print("  most achieved: %s heartbeats/s (offered %s, p99 %s ms); the rest of the machine used "
          "%s-%s %% of the CPUs, load %s-%s" % (
              top["achieved_hz"], top["offered_hz"], top["p99_ms"],
              min(int(s["others_cpu_pct"]) for s in steps),
              max(int(s["others_cpu_pct"]) for s in steps),
              min(float(s["load1"]) for s in steps), max(float(s["load1"]) for s in steps)))
path = os.path.join(d, "results.staging")
if os.path.exists(path):
    rows = [l.split("\t") for l in open(path) if l.strip()]
    ones = [float(r[2]) for r in rows if r[0] == "1"]
    one = sum(ones) / len(ones) if ones else None
    for r in rows:
        print("staging, %s agent(s) at once: %s MB/s together%s (load %s)" % (
            r[0], r[2], " = %.2f x one agent (mean of the one-agent runs)" % (float(r[2]) / one)
            if one else "", r[3]))
PY
echo "==> done in ${SECONDS} s"
