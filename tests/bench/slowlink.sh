#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_staging takes livemig-staging options, not this script's arguments
#
# Slow-link benchmark (not a test): livemig's initial mirror against the tool
# pipelines over the same shaped link (link_shaper.c: a userspace relay with
# a rate, a one-way delay and a bounded queue, since the kernels here have
# no netem), in one run, on the same demo-shaped image as mirror.sh
# (make_disk.py --seed 2026), loop device with direct I/O, page cache
# dropped before each copy, every copy verified by sha256. For each link:
#   livemig  staging + agent, the agent's [staging] address the shaper's
#            port; agent launch to "initial mirror complete"; the agent's and
#            staging's CPU-seconds per second of that wall time (/proc); then
#            a change round: BENCH_WRITES scattered 4 KiB writes (lag_writer
#            --count, each in its own random place) after round 1, and the
#            time of the round that copies them (the piece comparison asks
#            staging one round trip per 1 MiB slot holding a change); the
#            source then differs from the image made: the copies after it
#            are checked against its new sha256 (each adds BENCH_WRITES x
#            4 KiB of random bytes, 1 MiB of 256 MiB by default)
#   gzip     dd | gzip -1 | openssl enc | nc  ->  shaper  ->  nc | openssl -d | gunzip | dd
#   lm-deflate  the same with compression = deflate (BENCH_DEFLATE)
#   zstd-N   dd | zstd -N | socat TLS 1.3  ->  shaper  ->  socat | zstd -d | dd
#            for each N of BENCH_ZSTD_LEVELS
# The link "direct" is loopback without the shaper, for reference.
#
#   tests/bench/slowlink.sh BUILD_DIR   (make bench-slowlink runs it; needs root)
#
# Knobs (environment):
#   BENCH_SIZE=256M                   image size (make_disk.py syntax)
#   BENCH_LINKS="direct 100mbit/25 1gbit/5"
#                                     links, RATE/ONE-WAY-DELAY-MS (link_shaper
#                                     --rate and --delay), or "direct"
#   BENCH_RUNS=1                      repetitions per link, interleaved
#   BENCH_ZSTD_LEVELS="1 3"           the zstd pipelines' levels
#   BENCH_WRITES=256                  scattered writes before the change round
#                                     (0: no change round)
#   BENCH_DEFLATE=1                   also livemig with compression = deflate
#                                     (lm-deflate; its mirror only): what the
#                                     default's choice of codec leaves
#   BENCH_CONF="queue_depth = 64"     extra [agent] lines for both, ';' apart
#   BENCH_BASE=DIR                    also livemig (defaults, its mirror only)
#                                     with the programs built in DIR (lm-base),
#                                     interleaved: a build to compare with
# Results and method: docs/performance.md ("Slow link").
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source=../integration/agent_lib.sh
. "$TESTS/agent_lib.sh"
RECEIVER_TIMEOUT=900 # the 100 Mbit/s link is slow
# shellcheck source=pipelines_lib.sh
. "$(dirname "$0")/pipelines_lib.sh"

SIZE=${BENCH_SIZE:-256M}
LINKS=${BENCH_LINKS:-direct 100mbit/25 1gbit/5}
RUNS=${BENCH_RUNS:-1}
ZSTD_LEVELS=${BENCH_ZSTD_LEVELS:-1 3}
WRITES=${BENCH_WRITES:-256}
DEFLATE=${BENCH_DEFLATE:-1}
CONF=${BENCH_CONF:-}
BASE=${BENCH_BASE:-}

need_root
for p in nc zstd socat gzip openssl ss cc; do
	command -v "$p" >/dev/null || die "bench: $p is missing (ci/deps.sh bench)"
done
nc -h 2>&1 | has_line OpenBSD || die "nc is not OpenBSD netcat (update-alternatives --set nc /bin/nc.openbsd)"
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$T/link_shaper" "$BENCH_DIR/link_shaper.c" ||
	die "cannot build link_shaper"
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$T/lag_writer" "$BENCH_DIR/lag_writer.c" ||
	die "cannot build lag_writer"

calc() {
	python3 -c "print($1)"
}

load() {
	cut -d' ' -f1 /proc/loadavg
}

# start_link LINK TARGET_PORT: sets LINK_PORT, where senders connect (the
# shaper's port, or TARGET_PORT itself for "direct"), and SHAPER_PID
start_link() {
	SHAPER_PID='' LINK_IDLE=''
	if [ "$1" = direct ]; then
		LINK_PORT=$2
		return
	fi
	rm -f "$T/shaper.port"
	LINK_N=$((${LINK_N:-0} + 1))
	"$T/link_shaper" --listen 0 --port-file "$T/shaper.port" --target "127.0.0.1:$2" \
		--rate "${1%/*}" --delay "${1#*/}" --gaps "$T/gaps.$LINK_N" >"$T/shaper.out" 2>&1 &
	SHAPER_PID=$!
	track_pid "$SHAPER_PID"
	local i
	for i in $(seq 100); do
		[ -s "$T/shaper.port" ] && break
		sleep 0.05
	done
	LINK_PORT=$(cat "$T/shaper.port") || die "link_shaper did not start: $(cat "$T/shaper.out")"
}

# link_busy: sets LINK_IDLE, how busy the shaper's up link was so far (the
# shaper's line for SIGUSR1: busy from its first byte to its last, idle
# within that), for a copy that goes on using the link after it is timed
link_busy() {
	LINK_IDLE=
	[ -n "$SHAPER_PID" ] || return 0
	kill -USR1 "$SHAPER_PID"
	local i
	for i in $(seq 100); do
		LINK_IDLE=$(sed -n 's/^up link: //p' "$T/shaper.out" | sed -n 1p)
		[ -n "$LINK_IDLE" ] && return 0
		sleep 0.02
	done
}

# stop_link: sets LINK_WIRE (bytes the shaper relayed towards the receiver),
# LINK_CPU (its CPU seconds) and, unless link_busy set it, LINK_IDLE
stop_link() {
	LINK_WIRE='' LINK_CPU=0
	[ -n "$SHAPER_PID" ] || return 0
	LINK_CPU=$(proc_cpu "$SHAPER_PID")
	kill -TERM "$SHAPER_PID"
	wait "$SHAPER_PID" || die "link_shaper failed: $(cat "$T/shaper.out")"
	LINK_WIRE=$(sed -n 's/^relayed up \([0-9]*\) bytes.*/\1/p' "$T/shaper.out")
	[ -n "${LINK_IDLE:-}" ] || LINK_IDLE=$(sed -n 's/^up link: //p' "$T/shaper.out" | tail -n1)
}

# ---- the image ----
bench_image "$SIZE"
echo "    $("$BUILD/livemigd" --version 2>&1 | sed -n 1p) from $BUILD"
setup_pki
machine_cert bench-pipe

# record KIND LINK RUN SECS CPU EXTRA...
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${LINK_WIRE:-}" "$(load)" "${6:-}" >>"$RESULTS"
	printf '    %-10s %-12s run %d: %7.2f s, %6.2f CPU-s, wire %s MB, load %s%s\n' "$1" "$2" "$3" "$4" "$5" \
		"$([ -n "${LINK_WIRE:-}" ] && calc "'%.1f' % ($LINK_WIRE / 1e6)" || echo -)" "$(load)" "${6:+; $6}"
}

# ---- livemig: agent launch to "initial mirror complete", then a change round ----
run_livemig() {
	local link=$1 i=$2 kind=livemig writes=$WRITES name=slow-$2-$RANDOM t0 t_from t_done slots wire cpu cores ag st rline extra=
	local -a conf=("scan_interval = 2s")
	[ -n "$CONF" ] && IFS=';' read -r -a conf <<<"scan_interval = 2s;$CONF"
	if [ "${3:-}" = deflate ]; then
		kind=lm-deflate writes=0
		conf+=("compression = deflate")
	elif [ "${3:-}" = base ]; then
		# the programs to compare with: callees see this BUILD
		local BUILD=$BASE
		kind=lm-base writes=0
	fi
	STAGING_STORE=$T/store.$name
	start_staging
	start_link "$link" "$STAGING_PORT"
	write_agent_config "$name" "$dev" -- "${conf[@]}"
	sed -i "s/^address = .*/address = 127.0.0.1:$LINK_PORT/" "$T/$name.conf"
	drop_caches
	t0=$(now)
	start_agent "$name"
	wait_done "$AGENT_LOG" "initial mirror complete" 900 || die "livemig: no 'initial mirror complete' in $AGENT_LOG"
	ag=$(proc_cpu "$AGENT_PID")
	st=$(proc_cpu "$STAGING_PID")
	link_busy
	t_done=$(log_time "$AGENT_LOG" "initial mirror complete")
	t_from=$(log_time "$AGENT_LOG" "initial mirror from") || die "livemig: no 'initial mirror from' line"
	wire=$(status_get "s['wire_bytes']")
	cpu=$(calc "'%.3f' % ($ag + $st)")
	cores=$(calc "'%.2f' % (($ag + $st) / ($t_done - $t0))")
	extra="mirror alone $(calc "'%.2f' % ($t_done - $t_from)") s (launch, connection and handshakes before it); agent+staging $cores cores (agent $ag, staging $st CPU-s)"
	wait_done "$AGENT_LOG" "round 1: " 900 || die "livemig: no 'round 1' in $AGENT_LOG"
	if [ "$writes" -gt 0 ]; then
		# the writes land between two rounds' reads more often than not; the
		# round reported is the first that copied any of them, and the next
		# one (if any of them fell behind its read) is reported too
		local before
		before=$(grep -c "round [0-9]*: " "$AGENT_LOG")
		"$T/lag_writer" --count "$writes" "$dev" 4096 "$i" "$i" "$T/w.$name" >/dev/null ||
			die "lag_writer --count failed"
		wait_done "$AGENT_LOG" "round [0-9]+: .* [1-9][0-9.]* [KMG]?i?B of changed data durable" 900 ||
			die "livemig: no round copied the writes"
		sleep 5 # two more rounds' worth: the writes that missed that round's read
		rline=$(grep "round [0-9]*: " "$AGENT_LOG" | sed -n "$((before + 1)),\$p" |
			grep -v " 0 B of changed" | sed 's/.*\(round [0-9]*: \)/\1/' | paste -sd'|' -)
		# the piece comparison costs a round trip per 1 MiB slot holding a change
		slots=$(python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
print(len({struct.unpack_from("<QQ", d, i)[1] >> 20 for i in range(0, len(d), 32)}))' "$T/w.$name")
		extra="$extra; after $writes scattered 4 KiB writes in $slots distinct 1 MiB slots: $rline"
	fi
	lm sync >/dev/null || die "livemig sync failed"
	stop_agent
	stop_staging
	stop_link
	# after the writes the source changed: the replica must equal it now
	if [ "$writes" -gt 0 ]; then
		cmp -s "$dev" "$(replica "$name" d0)" || die "livemig: the replica differs from the source after the round"
		extra="$extra; replica identical after livemig sync"
		SRC_SHA=$(sha "$dev") # what the copies after this one must have
	else
		verify livemig "$(replica "$name" d0)"
	fi
	rm -rf "$STAGING_STORE"
	LINK_WIRE=$wire # the mirror's, from the agent's status (the shaper's count has the rounds too)
	record "$kind" "$link" "$i" "$(calc "'%.3f' % ($t_done - $t0)")" "$cpu" "$extra; shaper $LINK_CPU CPU-s${LINK_IDLE:+; up link $LINK_IDLE}"
}

# ---- dd | gzip -1 | openssl enc | nc  ->  link  ->  nc | openssl -d | gunzip | dd ----
run_gzip() {
	local link=$1 i=$2 port out=$T/out.gzip t0 t1 c0 c1
	rm -f "$out"
	port=$(free_port)
	drop_caches
	gzip_receiver "$port" "$out"
	start_link "$link" "$port"
	children_cpu
	c0=$CPU_NOW
	t0=$(now)
	gzip_send "$LINK_PORT"
	t1=$(now)
	children_cpu
	c1=$CPU_NOW
	stop_link
	verify gzip "$out"
	rm -f "$out"
	record gzip "$link" "$i" "$(calc "'%.3f' % ($t1 - $t0)")" "$(calc "'%.3f' % ($c1 - $c0)")" "shaper $LINK_CPU CPU-s${LINK_IDLE:+; up link $LINK_IDLE}"
}

# ---- dd | zstd -N | socat TLS 1.3  ->  link  ->  socat | zstd -d | dd ----
run_zstd() {
	local link=$1 i=$2 level=$3 port out=$T/out.zstd t0 t1 c0 c1
	rm -f "$out"
	port=$(free_port)
	drop_caches
	zstd_receiver "$port" "$out"
	start_link "$link" "$port"
	children_cpu
	c0=$CPU_NOW
	t0=$(now)
	zstd_send "$level" "$LINK_PORT"
	t1=$(now)
	children_cpu
	c1=$CPU_NOW
	stop_link
	verify "zstd -$level" "$out"
	rm -f "$out"
	record "zstd-$level" "$link" "$i" "$(calc "'%.3f' % ($t1 - $t0)")" "$(calc "'%.3f' % ($c1 - $c0)")" "shaper $LINK_CPU CPU-s${LINK_IDLE:+; up link $LINK_IDLE}"
}

echo "==> links: $LINKS; $RUNS run(s) each, interleaved; page cache dropped before each copy"
echo "    livemig (TLS 1.3, defaults, scan_interval 2s), gzip -1 + openssl + nc, zstd -{${ZSTD_LEVELS// /,}} + socat TLS 1.3"
: >"$RESULTS"
for i in $(seq "$RUNS"); do
	for link in $LINKS; do
		echo "  link $link"
		run_livemig "$link" "$i"
		[ "$DEFLATE" = 1 ] && run_livemig "$link" "$i" deflate
		[ -n "$BASE" ] && run_livemig "$link" "$i" base
		run_gzip "$link" "$i"
		for level in $ZSTD_LEVELS; do
			run_zstd "$link" "$i" "$level"
		done
	done
done

# ---- summary ----
python3 - "$RESULTS" "$BYTES" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
size = int(sys.argv[2])
print()
print("%d MiB image; seconds = median of the runs; MB = 10^6 bytes; wire = livemig: its mirror's wire bytes (status);"
      % (size >> 20))
print("a pipeline: what the shaper relayed towards the receiver; CPU = CPU-seconds of livemig's agent + staging (of a pipeline: all its processes)")
links = []
for r in rows:
    if r[1] not in links:
        links.append(r[1])
for link in links:
    mine = [r for r in rows if r[1] == link]
    kinds = []
    for r in mine:
        if r[0] not in kinds:
            kinds.append(r[0])
    secs = {k: statistics.median(float(r[3]) for r in mine if r[0] == k) for k in kinds}
    print()
    print("link %s" % link)
    for k in kinds:
        rs = [r for r in mine if r[0] == k]
        cpu = statistics.median(float(r[4]) for r in rs)
        wire = [int(r[5]) for r in rs if r[5]]
        print("  %-10s %7.2f s %6.1f MB/s  CPU %6.2f s (%.2f cores)  wire %s  load %s"
              % (k, secs[k], size / secs[k] / 1e6, cpu, cpu / secs[k],
                 "%.1f MB" % (statistics.median(wire) / 1e6) if wire else "-",
                 ", ".join(r[6] for r in rs)))
    others = [k for k in kinds if k not in ("livemig", "lm-deflate", "lm-base")]
    for lm in ("livemig", "lm-deflate", "lm-base"):
        if lm not in secs or not others:
            continue
        best = min(others, key=lambda k: secs[k])
        ratio = secs[lm] / secs[best]
        print("  %s / best pipeline (%s): %.2f (time; <= 1.00: no later)  %s"
              % (lm, best, ratio, "target met" if ratio <= 1.0 else "target NOT met"))
    for r in mine:
        if r[0] in ("livemig", "lm-deflate", "lm-base"):
            print("  %s run %s: %s" % (r[0], r[2], r[7]))
PY
echo
echo "==> done in ${SECONDS} s"
