#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every integration test (tests/integration/t_*.sh) against the programs
# in BUILD. Each test is a script whose exit status is its verdict; its output
# goes to BUILD/test-logs/NAME.log and is shown when it fails.
# LIVEMIG_SANITIZED=1 (the ASan+UBSan pass) asks tests for their quick tier.
# ONLY=regex runs a subset. LIVEMIG_TEST_TIMEOUT (seconds, default 900) ends
# a test that hangs; tests/stress.sh raises it, since an overloaded machine
# can take longer than that to run a test that does not hang.
# LIVEMIG_TEST_JOBS (default 2) tests run at once: most of a test's time is
# spent waiting (handshakes, fsync, child programs), and every test has its
# own scratch directory, ports picked by the kernel, loop devices and
# processes, so two never share anything. The longest tests (by the last
# run's times in BUILD/test-logs/times) start first.
set -u
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
logs="$build/test-logs"
jobs=${LIVEMIG_TEST_JOBS:-2}
mkdir -p "$logs"
times=$logs/times
results=$(mktemp -d "${TMPDIR:-/tmp}/livemig-run.XXXXXX")
trap 'rm -rf "$results"' EXIT

# the tests, longest first by the last run (unknown ones first: they may be long)
order() {
	local t name
	for t in "$here"/t_*.sh; do
		name=$(basename "$t" .sh)
		if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
			continue
		fi
		printf '%s %s\n' "$(sed -n "s/^$name //p" "$times" 2>/dev/null | sed -n '$p' | grep . || echo 99999)" "$name"
	done | sort -k1,1nr -k2,2 | cut -d' ' -f2
}

one() { # NAME: run it, record "rc seconds" in $results/NAME
	local name=$1 start rc=0
	start=$(date +%s)
	timeout --kill-after=10 "${LIVEMIG_TEST_TIMEOUT:-900}" bash "$here/$name.sh" "$build" \
		>"$logs/$name.log" 2>&1 || rc=$?
	echo "$rc $(($(date +%s) - start))" >"$results/$name"
}

report() { # NAME: print its verdict (and the log's tail when it failed)
	local name=$1 rc secs
	read -r rc secs <"$results/$name"
	if [ "$rc" = 0 ]; then
		printf 'PASS  %-34s %4ss\n' "$name" "$secs"
	else
		printf 'FAIL  %-34s %4ss (exit %s)\n' "$name" "$secs" "$rc"
		sed 's/^/    | /' "$logs/$name.log" | tail -n 60
	fi
}

mapfile -t names < <(order)
start_all=$(date +%s)
running=0
pending=("${names[@]}")
declare -A pid_of=()
reported=()
passed=0
failed=0
failures=""
finish_some() { # wait for one test to end and report every test that ended
	local name
	wait -n 2>/dev/null || true
	for name in "${!pid_of[@]}"; do
		if [ -s "$results/$name" ]; then
			wait "${pid_of[$name]}" 2>/dev/null
			unset "pid_of[$name]"
			running=$((running - 1))
			report "$name"
			reported+=("$name")
			if [ "$(cut -d' ' -f1 <"$results/$name")" = 0 ]; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
				failures="$failures $name"
			fi
		fi
	done
}
for name in "${pending[@]}"; do
	while [ "$running" -ge "$jobs" ]; do
		finish_some
	done
	one "$name" &
	pid_of[$name]=$!
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	finish_some
done

# the times of this run, for the next run's order
for name in "${reported[@]}"; do
	echo "$name $(cut -d' ' -f2 <"$results/$name")"
done >"$times.new" && cat "$times" "$times.new" 2>/dev/null | awk '{ t[$1] = $2 } END { for (n in t) print n, t[n] }' >"$times.tmp" &&
	mv "$times.tmp" "$times"
rm -f "$times.new"

[ -n "$failures" ] && echo "failed:$failures"
echo "integration: $passed passed, $failed failed ($jobs at a time, $(($(date +%s) - start_all)) s)"
[ "$failed" -eq 0 ]
