#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The suite must not depend on the machine's speed: run the unit, integration
# and web tiers RUNS times while stress-ng keeps every core busy with CPU
# work, and stop at the first failure. Each run's tiers, verdicts and times
# go to BUILD/stress/summary (and stdout); a failed tier's output stays in
# BUILD/stress/runN-TIER.log.
# Usage: tests/stress.sh BUILD_DIR [RUNS]   (make check-stress; RUNS=5)
# STRESS_CPU=N sets stress-ng's worker count (default 4; 0 starts none, for a
# second run beside one that already keeps the cores busy). TIERS="unit web"
# runs a subset. KEEP_GOING=1 goes on after a failure (to find every flaky
# test in one pass); the exit status still says whether one failed.
# STRESS_OUT=DIR writes the summary and logs there; ONLY=regex (run.sh's)
# limits the integration tier to some tests.
set -u -o pipefail
build=$(cd "${1:?usage: stress.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
out=${STRESS_OUT:-$build/stress}
mkdir -p "$out"
command -v stress-ng >/dev/null ||
	{ echo "stress-ng is missing: apt-get install stress-ng (ci/deps.sh test installs it)" >&2; exit 1; }

cpus=${STRESS_CPU:-4}
# a test that takes 15 min here is slow, not hung (tests/integration/run.sh)
export LIVEMIG_TEST_TIMEOUT=${LIVEMIG_TEST_TIMEOUT:-3600}
tiers=${TIERS:-unit integration web}
stress_pid=none
if [ "$cpus" != 0 ]; then
	stress-ng --cpu "$cpus" --timeout 0 >"$out/stress-ng.log" 2>&1 &
	stress_pid=$!
	trap 'kill -INT "$stress_pid" 2>/dev/null; wait "$stress_pid" 2>/dev/null' EXIT
fi

say() { echo "$*" | tee -a "$out/summary"; }
say "$(date -u '+%F %T') stress-ng --cpu $cpus (pid $stress_pid) on $(nproc) cores; $runs runs of: $tiers"
failed=0 first=
for ((run = 1; run <= runs; run++)); do
	for tier in $tiers; do
		t0=$(date +%s)
		if make -C "$top" --no-print-directory NO_DEPS=1 O="$build" "check-$tier" \
			>"$out/run$run-$tier.log" 2>&1; then
			verdict=PASS
		else
			verdict=FAIL
			failed=1
			first=${first:-$out/run$run-$tier.log}
		fi
		say "run $run  $tier  $verdict  $(($(date +%s) - t0)) s  load $(cut -d' ' -f1-3 /proc/loadavg)"
		if [ "$verdict" = FAIL ]; then
			grep -E '^(FAIL|failed:)' "$out/run$run-$tier.log" | tee -a "$out/summary"
			[ "${KEEP_GOING:-0}" = 1 ] || break 2
		fi
	done
done
say "$(date -u '+%F %T') $([ "$failed" = 0 ] && echo "all $runs runs passed" || echo "a tier failed; first: $first")"
exit "$failed"
