#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_staging takes livemig-staging options, not this script's arguments
#
# Throughput benchmark (not a test): livemig's initial mirror against the
# pipelines a user could assemble from standard tools, in one run, on the same
# demo-shaped image (tests/integration/make_disk.py, 40% zeros, 30% /usr file
# data, 30% random), attached to a loop device with direct I/O, page cache
# dropped before every measurement, loopback only, every copy verified by
# sha256. Then the single-thread codec comparison (codec_bench.c).
#
#   tests/bench/mirror.sh BUILD_DIR        (make bench runs it; needs root)
#
# Knobs (environment):
#   BENCH_SIZE=1G        image size (make_disk.py syntax)
#   BENCH_RUNS=3         repetitions of each pipeline, interleaved (a b c a b c ...)
#   BENCH_MAX_BUSY=25    before each measurement, wait while other processes keep
#                        more than this percentage of all CPUs busy ...
#   BENCH_QUIET_WAIT=90  ... but wait at most this many seconds in total
#   BENCH_MAX_OTHERS=15  a run during which the rest of the machine used more than
#                        this percentage of all CPUs is disturbed: measured again,
#   BENCH_RETRIES=2      ... at most this many times per run, and only while the
#                        benchmark has run less than BENCH_BUDGET=240 seconds
#   BENCH_PERF=1         afterwards, profile one more livemig run with perf and
#                        print where the agent's and staging's CPU time goes
#   BENCH_CODEC=0        skip the codec comparison
#   BENCH_BASELINES=0    measure livemig (and its variants) only, not b and c
#   BENCH_VARIANTS="NAME=BUILD_DIR[,key=value...] ..."  more livemig runs
#                        interleaved with the others (a b c v1 v2 ... per round):
#                        another build (say the previous commit's) and/or extra
#                        agent configuration lines, e.g. "old=/tmp/b0
#                        raw=build,compression=none", and staging options
#                        as staging-OPTION=VALUE (staging-sync-bytes=32M);
#                        their ratios are printed with the rest (same run)
# Results and method: docs/performance.md. Only ratios measured in the same run
# mean anything on a shared 2-vCPU machine.
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source=../integration/agent_lib.sh
. "$TESTS/agent_lib.sh"
# shellcheck source=pipelines_lib.sh
. "$(dirname "$0")/pipelines_lib.sh"

SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
MAX_BUSY=${BENCH_MAX_BUSY:-25}
QUIET_BUDGET=${BENCH_QUIET_WAIT:-90}
MAX_OTHERS=${BENCH_MAX_OTHERS:-15}
RETRIES=${BENCH_RETRIES:-2}
BUDGET=${BENCH_BUDGET:-240}
NCPU=$(nproc)

need_root

# ---- dependencies ----
missing=()
for p in netcat-openbsd zstd socat gzip openssl procps iproute2 libisal-dev libdeflate-dev zlib1g-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | has_line 'install ok installed' || missing+=("$p")
done
command -v cc >/dev/null || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: missing packages: ${missing[*]}" >&2
	echo "bench: install them with: apt-get install -y ${missing[*]}   (or: ci/deps.sh bench)" >&2
	exit 1
fi
nc -h 2>&1 | has_line OpenBSD || die "nc is not OpenBSD netcat (update-alternatives --set nc /bin/nc.openbsd)"
command -v pigz >/dev/null || echo "bench: note: pigz is not installed (optional; not used by the measured pipelines)"

# ---- helpers ----
# Percentage of all CPUs busy over one second. Called while this benchmark is
# idle, so it is what the rest of the machine uses.
cpu_busy() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	python3 -c 'import sys
a = [int(x) for x in sys.argv[1].split()[1:]]
b = [int(x) for x in sys.argv[2].split()[1:]]
d = [y - x for x, y in zip(a, b)]
tot = sum(d[:8]) or 1
idle = d[3] + d[4]
print(round(100 * (tot - idle) / tot))' "$a" "$b"
}

# Sets LOAD (1-minute load average) and BUSY (% CPU others use) for the record.
wait_quiet() {
	BUSY=$(cpu_busy)
	while [ "$BUSY" -gt "$MAX_BUSY" ] && [ "$QUIET_BUDGET" -gt 0 ]; do
		echo "    (machine busy: others use ${BUSY}% of the CPUs; waiting)"
		sleep 4
		QUIET_BUDGET=$((QUIET_BUDGET - 5))
		BUSY=$(cpu_busy)
	done
	LOAD=$(cut -d' ' -f1 /proc/loadavg)
}

# CPU seconds the whole machine has spent busy so far (all CPUs, /proc/stat:
# user nice system irq softirq steal)
busy_secs() {
	awk -v hz="$(getconf CLK_TCK)" 'NR == 1 { printf "%.3f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

# A run function sets R_SECS (wall time), R_CPU (CPU seconds of the pipeline's
# own processes), R_BUSY (CPU seconds the whole machine was busy meanwhile) and
# R_EXTRA (free text). measure KIND RUN runs run_KIND until the rest of the
# machine stayed below MAX_OTHERS % of the CPUs during it (or RETRIES or the
# time BUDGET ran out), then records the run.
measure() {
	local kind=$1 i=$2 try=0 mbs others
	while :; do
		"run_$kind" "$i"
		mbs=$(python3 -c "print('%.0f' % ($BYTES / $R_SECS / 1e6))")
		others=$(python3 -c "print(round(max(0, 100 * ($R_BUSY - $R_CPU) / ($R_SECS * $NCPU))))")
		if [ "$others" -le "$MAX_OTHERS" ]; then
			others="$others%"
			break
		fi
		if [ "$try" -ge "$RETRIES" ] || [ "$SECONDS" -ge "$BUDGET" ]; then
			echo "    (disturbed, no more retries: kept, marked *)"
			others="$others%*"
			break
		fi
		printf '    %-8s run %d: %6.2f s %5s MB/s: disturbed, the rest of the machine used %s%% of the CPUs meanwhile; again\n' \
			"$kind" "$i" "$R_SECS" "$mbs" "$others"
		try=$((try + 1))
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$i" "$R_SECS" "$mbs" "$LOAD" "$BUSY" "$R_CPU" "$others" "$R_EXTRA" >>"$RESULTS"
	printf '    %-8s run %d: %6.2f s %5s MB/s, %5.2f CPU-s; load %s, others %s%% before, %s during%s\n' \
		"$kind" "$i" "$R_SECS" "$mbs" "$R_CPU" "$LOAD" "$BUSY" "$others" "${R_EXTRA:+; $R_EXTRA}"
}

# ---- the image ----
bench_image "$SIZE"
src_rev=$(git -C "$TESTS" rev-parse --short HEAD 2>/dev/null) &&
	{ git -C "$TESTS" diff --quiet HEAD -- ../../src 2>/dev/null || src_rev="$src_rev, with local changes in src/"; }
echo "    $("$BUILD/livemigd" --version 2>&1 | sed -n 1p) from $BUILD; source tree ${src_rev:-not a git checkout}"

setup_pki
machine_cert bench-pipe

# ---- a. livemig: staging + agent, agent launch to "initial mirror complete" ----
run_livemig() {
	local i=$1 name=bench-$1-$RANDOM t0 b0 b1 t_from t_done t_round wire hwm shwm
	STAGING_STORE=$T/store.$name
	start_staging "${LM_STAGING[@]}"
	write_agent_config "$name" "$dev" -- "scan_interval = 60s" "${LM_CONF[@]}"
	drop_caches
	wait_quiet
	b0=$(busy_secs)
	t0=$(now)
	start_agent "$name"
	wait_done "$AGENT_LOG" "initial mirror complete" 600 || die "livemig: no 'initial mirror complete' in $AGENT_LOG"
	b1=$(busy_secs)
	R_CPU=$(python3 -c "print('%.3f' % ($(proc_cpu "$AGENT_PID") + $(proc_cpu "$STAGING_PID")))")
	t_from=$(log_time "$AGENT_LOG" "initial mirror from") || die "livemig: no 'initial mirror from' line"
	t_done=$(log_time "$AGENT_LOG" "initial mirror complete")
	wire=$(status_get "s['wire_bytes']")
	# the scan tracker's first round follows the mirror at once; it is where
	# the fingerprints the mirror did not compute are paid for (staging reads
	# its replica to answer HASH_REQ), so its time is reported too
	wait_done "$AGENT_LOG" "round 1: " 600 || die "livemig: no 'round 1' in $AGENT_LOG"
	t_round=$(log_time "$AGENT_LOG" "round 1: ")
	lm sync >/dev/null || die "livemig sync failed"
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
	shwm=$(awk '/^VmHWM/ {print $2}' "/proc/$STAGING_PID/status")
	stop_agent
	stop_staging
	verify livemig "$(replica "$name" d0)"
	rm -rf "$STAGING_STORE"
	R_SECS=$(python3 -c "print('%.3f' % ($t_done - $t0))")
	# the machine was watched until the completion was seen, a little after it happened
	R_BUSY=$(python3 -c "print('%.3f' % (($b1 - $b0) * ($t_done - $t0) / ($(now) - $t0)))")
	R_EXTRA=$(python3 -c "print('mirror alone %.2f s, then round 1 %.2f s, wire %.0f MB, peak RSS agent %.1f MiB, staging %.1f MiB' % ($t_done - $t_from, $t_round - $t_done, $wire / 1e6, $hwm / 1024, $shwm / 1024))")
	R_WIRE=$wire R_HWM=$hwm R_SHWM=$shwm
}

# ---- b. dd | gzip -1 | openssl enc | nc  ->  nc | openssl -d | gunzip | dd ----
run_gzip() {
	local i=$1 port out=$T/out.gzip t0 t1 c0 c1 b0 b1
	rm -f "$out"
	port=$(free_port)
	drop_caches
	wait_quiet
	gzip_receiver "$port" "$out"
	children_cpu
	c0=$CPU_NOW
	b0=$(busy_secs)
	t0=$(now)
	gzip_send "$port"
	t1=$(now)
	b1=$(busy_secs)
	children_cpu
	c1=$CPU_NOW
	verify gzip "$out"
	rm -f "$out"
	R_SECS=$(python3 -c "print('%.3f' % ($t1 - $t0))")
	R_CPU=$(python3 -c "print('%.3f' % ($c1 - $c0))")
	R_BUSY=$(python3 -c "print('%.3f' % ($b1 - $b0))")
	R_EXTRA=
}

# ---- c. dd | zstd -1 | socat TLS 1.3  ->  socat | zstd -d | dd ----
run_zstd() {
	local i=$1 port out=$T/out.zstd t0 t1 c0 c1 b0 b1
	rm -f "$out"
	port=$(free_port)
	drop_caches
	wait_quiet
	zstd_receiver "$port" "$out"
	children_cpu
	c0=$CPU_NOW
	b0=$(busy_secs)
	t0=$(now)
	zstd_send 1 "$port"
	t1=$(now)
	b1=$(busy_secs)
	children_cpu
	c1=$CPU_NOW
	verify zstd+socat "$out"
	rm -f "$out"
	R_SECS=$(python3 -c "print('%.3f' % ($t1 - $t0))")
	R_CPU=$(python3 -c "print('%.3f' % ($c1 - $c0))")
	R_BUSY=$(python3 -c "print('%.3f' % ($b1 - $b0))")
	R_EXTRA=
}

# ---- variants: another build and/or configuration of livemig ----
VARIANTS=()
LM_CONF=()
LM_STAGING=()
for v in ${BENCH_VARIANTS:-}; do
	vname=${v%%=*}
	vrest=${v#*=}
	vbuild=${vrest%%,*}
	for prog in livemigd livemig-staging livemig; do
		[ -x "$vbuild/$prog" ] || die "BENCH_VARIANTS: $vname: no $prog in '$vbuild'"
	done
	VARIANTS+=("$vname")
	eval "VBUILD_$vname=\$(cd \"\$vbuild\" && pwd)"
	if [ "$vrest" != "$vbuild" ]; then
		eval "VCONF_$vname=\${vrest#*,}"
	else
		eval "VCONF_$vname="
	fi
done
# run_variant RUN NAME: run_livemig with that variant's build and extra lines
run_variant() {
	local keep=$BUILD b c
	b="VBUILD_$2"
	c="VCONF_$2"
	BUILD=${!b}
	local -a words
	IFS=, read -r -a words <<<"${!c}"
	for w in "${words[@]}"; do
		case $w in
		staging-*) LM_STAGING+=("--${w%%=*}" "${w#*=}") ;; # staging-sync-bytes=32M
		*) LM_CONF+=("${w/=/ = }") ;;
		esac
	done
	LM_STAGING=("${LM_STAGING[@]/#--staging-/--}")
	run_livemig "$1"
	BUILD=$keep
	LM_CONF=()
	LM_STAGING=()
}
for vname in "${VARIANTS[@]}"; do
	eval "run_v_$vname() { run_variant \"\$1\" $vname; }"
done

echo "==> $RUNS runs each, interleaved; page cache dropped before each; every copy verified by sha256"
echo "    a = livemig (livemigd -> livemig-staging, TLS 1.3, 2 workers, defaults), agent launch to 'initial mirror complete'"
echo "    b = gzip:  dd iflag=direct | gzip -1 | openssl enc -aes-256-ctr | nc  ->  nc | openssl enc -d | gunzip | dd conv=fsync"
echo "    c = zstd:  dd iflag=direct | zstd -1 | socat OPENSSL (TLS 1.3, mutual)  ->  socat | zstd -d | dd conv=fsync"
for vname in "${VARIANTS[@]}"; do
	b="VBUILD_$vname"
	c="VCONF_$vname"
	echo "    v_$vname = livemig from ${!b}${!c:+ with ${!c}}"
done
: >"$RESULTS"
: >"$T/livemig.extra"
for i in $(seq "$RUNS"); do
	measure livemig "$i"
	printf '%s\t%s\t%s\t%s\n' "$i" "$R_WIRE" "$R_HWM" "$R_SHWM" >>"$T/livemig.extra"
	if [ "${BENCH_BASELINES:-1}" = 1 ]; then
		measure gzip "$i"
		measure zstd "$i"
	fi
	for vname in "${VARIANTS[@]}"; do
		measure "v_$vname" "$i"
		printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$R_WIRE" "$R_HWM" "$R_SHWM" "$vname" >>"$T/livemig.extra"
	done
done

# ---- summary ----
[ "$RUNS" -gt 0 ] && python3 - "$RESULTS" "$T/livemig.extra" "$BYTES" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
extra = [l.split("\t") for l in open(sys.argv[2]) if l.strip()]
size = int(sys.argv[3])
names = {"livemig": "livemig initial mirror",
         "gzip": "dd|gzip -1|openssl|nc (b)",
         "zstd": "dd|zstd -1|socat TLS1.3 (c)"}
med = {}
print()
print("%d MiB image, MB = 10^6 bytes, median of %d runs; CPU = CPU-seconds (user+sys) of the pipeline's"
      % (size >> 20, max(int(r[1]) for r in rows)))
print("own processes per GiB; per run: MB/s (seconds; 1-min load before; % of the CPUs the rest of the")
print("machine used during the run, * = still disturbed after the retries)")
print("%-30s %11s %9s   %s" % ("pipeline", "median MB/s", "CPU s/GiB", "runs"))
keys = [k for k in ("livemig", "gzip", "zstd") if any(r[0] == k for r in rows)] + sorted({r[0] for r in rows if r[0].startswith("v_")})
for key in keys:
    names.setdefault(key, "livemig variant " + key[2:])
    mine = [r for r in rows if r[0] == key]
    med[key] = statistics.median(size / float(r[2]) / 1e6 for r in mine)
    cpu = statistics.median(float(r[6]) for r in mine) / (size / 2**30)
    runs = ", ".join("%s (%.2f s; %s; %s)" % (r[3], float(r[2]), r[4], r[7]) for r in mine)
    print("%-30s %11.0f %9.2f   %s" % (names[key], med[key], cpu, runs))
for who in ["livemig"] + [k[2:] for k in keys if k.startswith("v_")]:
    mine = [e for e in extra if (e[4].strip() if len(e) > 4 else "livemig") == who]
    if not mine:
        continue
    wire = statistics.median(int(e[1]) for e in mine)
    hwm = max(int(e[2]) for e in mine)
    shwm = max(int(e[3]) for e in mine)
    print("%s: wire bytes %.1f MB (%.1f%% of the image); peak RSS agent %.1f MiB, staging %.1f MiB"
          % (who, wire / 1e6, 100 * wire / size, hwm / 1024, shwm / 1024))
print()
for lm in ["livemig"] + [k for k in keys if k.startswith("v_")]:
    for key, target in (("gzip", 10.0), ("zstd", 2.5)):
        if key not in med:
            continue
        ratio = med[lm] / med[key]
        print("%-16s / %-28s %5.2fx   target >= %.1fx: %s"
              % (lm, names[key], ratio, target, "target met" if ratio >= target else "target NOT met"))
PY

if [ "${BENCH_CODEC:-1}" = 1 ]; then
	echo
	echo "==> codec comparison, single thread, zlib-format level 1 (tests/bench/codec_bench.c)"
	cc -O2 -std=c11 -Wall -Wextra -o "$T/codec_bench" "$BENCH_DIR/codec_bench.c" -lisal -ldeflate -lz ||
		die "cannot build codec_bench"
	drop_caches
	wait_quiet
	echo "    (load $LOAD, others busy $BUSY%)"
	"$T/codec_bench" "$IMG" 3 || die "codec_bench failed"
fi

if [ "${BENCH_PERF:-0}" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PERF=1 needs perf (apt-get install linux-perf)"
	echo
	echo "==> profile of one more livemig run (perf record -a -e cpu-clock, split per process, thread role and cost)"
	STAGING_STORE=$T/store.perf
	start_staging
	write_agent_config bench-perf "$dev" -- "scan_interval = 60s"
	drop_caches
	perf record -e cpu-clock -a -F 997 -o "$T/perf.data" >/dev/null 2>"$T/perf.err" &
	perf_pid=$!
	track_pid "$perf_pid"
	sleep 0.5
	start_agent bench-perf
	# polled every 20 ms: the scan tracker's first round follows at once
	wait_done "$AGENT_LOG" "initial mirror complete" 600 || die "perf run: the mirror did not complete"
	kill -INT "$perf_pid"
	wait "$perf_pid"
	stop_agent
	stop_staging
	perf script -i "$T/perf.data" -F comm,tid,period,ip,sym,dso -G 2>/dev/null |
		python3 "$BENCH_DIR/perf_split.py" "$BYTES"
	echo "--- top symbols of both (share of their samples)"
	perf report -i "$T/perf.data" -g none --comms livemigd,livemig-staging --no-children \
		--sort comm,dso,sym --percentage relative --percent-limit 2 --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | sed -n 1,16p
fi

echo
echo "==> done in ${SECONDS} s"
