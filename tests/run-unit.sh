#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run cmocka unit-test binaries, show their output, and total the test cases.
# Usage: tests/run-unit.sh BINARY...
#
# Each binary's output is shown (stdout and stderr, in the order printed:
# cmocka puts per-test lines on stdout and its summary on stderr) and
# scanned for cmocka's lines
#   [==========] Running N test(s).
#   [  PASSED  ] N test(s).
#   [  FAILED  ] N test(s), listed below:
# A binary that dies before printing its summary (a signal, an
# AddressSanitizer abort) has the test it died in, and those it never ran,
# counted as failed. One that exits non-zero although every test passed
# (e.g. a LeakSanitizer report at exit) counts as one failure. The last
# line is exactly
#   N passed, N failed
# and the exit status is non-zero when any binary failed or crashed.
set -u

if [ $# -eq 0 ]; then
	echo "usage: $0 TEST-BINARY..." >&2
	exit 2
fi

# Our parser needs cmocka's plain-text output, whatever the caller's setting.
CMOCKA_MESSAGE_OUTPUT=stdout
export CMOCKA_MESSAGE_OUTPUT
# Line-buffer stdout so it interleaves with stderr in the order printed.
# stdbuf works by LD_PRELOAD, which ASan refuses unless told it is fine.
linebuf=""
if command -v stdbuf >/dev/null 2>&1; then
	linebuf="stdbuf -oL -eL"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export ASAN_OPTIONS
fi

out=$(mktemp "${TMPDIR:-/tmp}/run-unit.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
trap 'exit 130' INT TERM

total_pass=0
total_fail=0
bad_bins=""

for bin in "$@"; do
	echo "==> $bin"
	case $bin in
	*/*) cmd=$bin ;;
	*) cmd=./$bin ;;
	esac
	if [ ! -x "$cmd" ] || [ -d "$cmd" ]; then
		echo "run-unit: $bin: not an executable file" >&2
		total_fail=$((total_fail + 1))
		bad_bins="$bad_bins $bin"
		continue
	fi
	# Run with output to a file and show it afterwards: the status of a
	# pipeline's first command is not portable to get in sh.
	# shellcheck disable=SC2086
	$linebuf "$cmd" >"$out" 2>&1
	rc=$?
	cat "$out"

	# Sum over every group the binary ran. A group cut short by a crash
	# has no summary: count its per-test lines instead, and the tests
	# that never reported as failed.
	declared=0 passed=0 failed=0 skipped=0
	eval "$(awk '
		/^\[==========\] Running [0-9]+ test\(s\)\./ {
			declared += $3; grp = $3; ok = 0; skip = 0; open = 1; next
		}
		/^\[==========\] [0-9]+ test\(s\) run\./ { open = 0; next }
		open && /^\[       OK \] /  { ok++; next }
		open && /^\[  SKIPPED \] /  { skip++; next }
		/^\[  PASSED  \] [0-9]+ test\(s\)\./ { passed += $4 }
		/^\[  FAILED  \] [0-9]+ test\(s\)/   { failed += $4 }
		/^\[  SKIPPED \] [0-9]+ test\(s\)/   { skipped += $4 }
		END {
			if (open) { passed += ok; skipped += skip; failed += grp - ok - skip }
			printf "declared=%d passed=%d failed=%d skipped=%d\n",
			       declared, passed, failed, skipped
		}' "$out")"

	unaccounted=$((declared - passed - failed - skipped))
	if [ "$rc" -ne 0 ] && [ "$unaccounted" -gt 0 ]; then
		echo "run-unit: $bin: exited with status $rc; $unaccounted test(s) did not report, counted as failed" >&2
		failed=$((failed + unaccounted))
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "run-unit: $bin: exited with status $rc although no test failed; counted as one failure" >&2
		failed=1
	elif [ "$rc" -eq 0 ] && [ "$failed" -gt 0 ]; then
		# cmocka returns the failure count; a zero status with failures
		# means a main() that dropped it. Trust the lines, not the status.
		rc=1
	fi
	if [ "$declared" -eq 0 ] && [ "$failed" -eq 0 ]; then
		echo "run-unit: $bin: ran no cmocka tests" >&2
		failed=1
	fi
	[ "$skipped" -gt 0 ] && echo "run-unit: $bin: $skipped test(s) skipped"
	total_pass=$((total_pass + passed))
	total_fail=$((total_fail + failed))
	if [ "$rc" -ne 0 ] || [ "$failed" -gt 0 ]; then
		bad_bins="$bad_bins $bin"
	fi
done

[ -n "$bad_bins" ] && echo "run-unit: failing:$bad_bins" >&2
echo "$total_pass passed, $total_fail failed"
[ -z "$bad_bins" ]
