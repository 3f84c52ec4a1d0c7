# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# One lag load, shared by the scan tracker's bench on this host
# (tests/bench/lag.sh) and the kernel tracker's in QEMU
# (tests/bench/kmod-lag-guest.sh). Sourced after tests/integration/lib.sh and
# agent_lib.sh (the agent is the running one: AGENT_SOCK, AGENT_LOG):
#   lag_load LABEL SIZE RATE_MBS IO RUN
#        one lag_writer per disk of LAG_DEVS (RATE_MBS split evenly), stamping
#        run RUN, and lag_observe.py over all of them and LAG_REPLICAS (same
#        order); prints the figures and appends the observer's JSON (with
#        LABEL, SIZE, the rate asked, IO, the load average) to RESULTS
#   lag_verify NAME
#        `livemig sync`, then every disk of LAG_DEVS compared with its replica
# Settings: LAG_WRITER (the built lag_writer), RESULTS, MIN_SECS, MIN_ROUNDS,
# MAX_SECS (lag_observe.py's window), LINK_BPS (the link's measured rate in
# bytes/s, or empty: then no backlog transfer time), LAG_SAMPLES (writes
# sampled a second in the replica, default 50), LAG_DEVS, LAG_REPLICAS.
# RATE_MBS may have decimals.

LAG_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAG_DEVS=()
LAG_REPLICAS=()
LINK_BPS=${LINK_BPS:-}

lag_loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}

lag_load() {
	local label=$1 size=$2 rate=$3 io=$4 run=$5 n=${#LAG_DEVS[@]} every out i bps
	local -a pids=() args=()
	bps=$(awk -v r="$rate" 'BEGIN { printf "%d", r * 1000000 }')
	# about LAG_SAMPLES sampled writes a second over all the disks
	every=$(((bps / io) / ${LAG_SAMPLES:-50}))
	[ "$every" -ge 1 ] || every=1
	for ((i = 0; i < n; i++)); do
		# the workload at nice 0 like a production service, whatever nice
		# this script runs under (root may lower it again)
		nice -n $((0 - $(nice))) "$LAG_WRITER" "${LAG_DEVS[i]}" $((bps / n)) "$io" "$run" \
			$((run * 100 + i)) "$T/w.$run.$i" >"$T/w.$run.$i.out" 2>&1 &
		pids+=($!)
		track_pid $!
		args+=(--replica "${LAG_REPLICAS[i]}" --wlog "$T/w.$run.$i" --writer-pid "${pids[i]}")
	done
	out=$(python3 "$LAG_BENCH_DIR/lag_observe.py" --sock "$AGENT_SOCK" --agent-log "$AGENT_LOG" \
		"${args[@]}" --run "$run" ${LINK_BPS:+--link-bps "$LINK_BPS"} \
		--sample-every "$every" --min-secs "$MIN_SECS" --min-rounds "$MIN_ROUNDS" \
		--max-secs "$MAX_SECS") || die "$label: the observer failed"
	for ((i = 0; i < n; i++)); do
		wait "${pids[i]}" || die "$label: lag_writer on ${LAG_DEVS[i]} failed: $(cat "$T/w.$run.$i.out")"
	done
	if [ "$n" = 1 ]; then
		echo "    $label: lag_writer $(cat "$T/w.$run.0.out")"
	else
		echo "    $label: $n lag_writers, the first: $(cat "$T/w.$run.0.out")"
	fi
	python3 - "$label" "$size" "$rate" "$io" "$(lag_loadavg)" "$out" >>"$RESULTS" <<-'PY'
		import json, sys
		r = json.loads(sys.argv[6])
		r.update(label=sys.argv[1], size=sys.argv[2], target_mbs=float(sys.argv[3]), io=int(sys.argv[4]),
		         load=sys.argv[5])
		print(json.dumps(r))
	PY
	python3 - "$out" "$label" "$(lag_loadavg)" <<-'PY'
		import json, sys
		r = json.loads(sys.argv[1])
		c, v, a, b = r["claimed"], r["visible"], r["amp"], r["backlog_s"]
		f = lambda x: "-" if x is None else "%.2f" % x
		print("    %-22s %5.1f MB/s written; lag claimed p50 %s p99 %s max %s s; visible p50 %s p99 %s max %s s (%d sampled);"
		      " rounds %s s mean; violations %d%s; load %s"
		      % (sys.argv[2], r["rate_mbs"], f(c["p50"]), f(c["p99"]), f(c["max"]), f(v["p50"]), f(v["p99"]),
		         f(v["max"]), v["n"], f(r["round_s"]["mean"]), r["violations"],
		         " (cut off)" if r["truncated"] else "", sys.argv[3]))
		if a:
		    print("    %-22s per byte written: read %.1f, sent %.2f, wire %.2f (%d rounds)"
		          % ("", a["read_per_written"], a["sent_per_written"], a["wire_per_written"], a["rounds"]))
		if b["max"] is not None:
		    print("    %-22s backlog a round: mean %d max %d bytes = %s / %s s at the link's %.1f MB/s;"
		          " target p99 <= 1 s + %s s"
		          % ("", r["backlog_bytes"]["mean"], r["backlog_bytes"]["max"], f(b["mean"]), f(b["max"]),
		             r["link_bps"] / 1e6, f(b["max"])))
	PY
}

lag_verify() {
	local i
	lm sync >/dev/null || die "$1: livemig sync failed"
	for ((i = 0; i < ${#LAG_DEVS[@]}; i++)); do
		cmp -s "${LAG_DEVS[i]}" "${LAG_REPLICAS[i]}" ||
			die "$1: the replica of ${LAG_DEVS[i]} differs from the source"
	done
	echo "    $1: ${#LAG_DEVS[@]} replica(s) identical to the source after livemig sync"
}
