#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Replay every fuzz harness over its committed corpus, then (libFuzzer
# builds only) fuzz it briefly so new code paths get some exploration on
# every run. Usage: tests/fuzz/replay.sh BUILD/fuzz
#
# For BUILD/fuzz/fuzz_NAME the corpus is tests/fuzz/corpus/NAME/.
#   libFuzzer build:  NAME -runs=0 CORPUS            (each file once)
#                     NAME -max_total_time=T TMP CORPUS   (exploration)
#   gcc build:        NAME CORPUS                    (tests/fuzz/replay_main.c)
# Inputs found by the exploration go to a throwaway directory; they are not
# added to the committed corpus (docs/fuzzing.md says how to merge them).
# A crash, leak, timeout or sanitizer report fails the harness; its input is
# kept as BUILD/fuzz/artifacts/NAME-crash-* to reproduce with
#   BUILD/fuzz/fuzz_NAME BUILD/fuzz/artifacts/NAME-crash-...
#
# Knobs: FUZZ_EXPLORE_SECONDS (default 20; 0 skips exploration),
#        FUZZ_MAX_LEN (default 70000), FUZZ_TIMEOUT (per input, default 10 s).
# The last line is exactly "N passed, N failed", counting harnesses.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD/fuzz" >&2
	exit 2
fi
bindir=${1%/}
here=$(cd "$(dirname "$0")" && pwd)
explore=${FUZZ_EXPLORE_SECONDS:-20}
max_len=${FUZZ_MAX_LEN:-70000}
timeout=${FUZZ_TIMEOUT:-10}
artifacts=$bindir/artifacts

# The fuzz build does not use -fno-sanitize-recover: without halt_on_error
# UBSan would print a report and carry on, and the run would pass.
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export UBSAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-replay.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
found=0

# Print libFuzzer's closing figures from a log: executions, coverage, corpus.
summarize() {
	awk '
		/^stat::number_of_executed_units:/ { execs = $2 }
		/^stat::new_units_added:/          { added = $2 }
		$2 ~ /^(INITED|DONE|NEW|REDUCE|pulse)$/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
				if ($i == "corp:") corp = $(i + 1)
			}
		}
		END {
			printf "%s execs, cov %s, ft %s, corpus %s", execs ? execs : "?",
			       cov ? cov : "?", ft ? ft : "?", corp ? corp : "?"
			if (added != "") printf ", %s new inputs", added
			printf "\n"
		}' "$1"
}

# Show a failing run's report: from the first sanitizer/libFuzzer/harness
# error line on (at most 80 lines), or else the last 40 lines.
show_failure() {
	echo "---- $1 ----"
	awk '
		!on && /(==[0-9]+==(ERROR|WARNING)|runtime error:|ERROR: libFuzzer|check failed|deadly signal)/ { on = 1 }
		on && shown < 80 { print; shown++ }
		{ tail[NR % 40] = $0 }
		END {
			if (!on)
				for (i = NR - 39; i <= NR; i++)
					if (i > 0) print tail[i % 40]
		}' "$1"
	echo "----"
}

for bin in "$bindir"/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	found=$((found + 1))
	harness=${bin##*/}
	name=${harness#fuzz_}
	corpus=$here/corpus/$name
	log=$work/$harness.log
	ok=1

	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
		echo "$harness: warning: no committed corpus in $corpus"
		mkdir -p "$work/empty-$name"
		corpus=$work/empty-$name
	fi
	nfiles=$(find "$corpus" -maxdepth 1 -type f | wc -l)

	help=$("$bin" -help=1 2>&1)
	if [ "${help#*To run fuzzing pass}" != "$help" ]; then
		mkdir -p "$artifacts"
		: >"$log.start"
		# 1. every committed input once
		if "$bin" -runs=0 -timeout="$timeout" -print_final_stats=1 \
			-artifact_prefix="$artifacts/$name-" "$corpus" >"$log" 2>&1; then
			echo "$harness: replayed $nfiles corpus files (libFuzzer): $(summarize "$log")"
		else
			echo "$harness: FAILED replaying $corpus"
			show_failure "$log"
			ok=0
		fi
		# 2. a short exploration from the corpus, into a throwaway directory
		if [ "$ok" = 1 ] && [ "$explore" -gt 0 ]; then
			mkdir -p "$work/new-$name"
			if "$bin" -max_total_time="$explore" -max_len="$max_len" \
				-timeout="$timeout" -print_final_stats=1 \
				-artifact_prefix="$artifacts/$name-" \
				"$work/new-$name" "$corpus" >"$log" 2>&1; then
				echo "$harness: explored ${explore}s: $(summarize "$log")" \
				     "(discarded)"
			else
				echo "$harness: FAILED during ${explore}s exploration"
				show_failure "$log"
				ok=0
			fi
		fi
		if [ "$ok" = 0 ]; then
			find "$artifacts" -maxdepth 1 -name "$name-*" -newer "$log.start" \
				-exec echo "  reproduce: $bin" {} \;
		fi
	else
		# gcc build: tests/fuzz/replay_main.c runs each file once
		if "$bin" "$corpus" >"$log" 2>&1; then
			echo "$harness: $(tail -n 1 "$log") from $corpus (no libFuzzer: replay only)"
		else
			echo "$harness: FAILED replaying $corpus"
			show_failure "$log"
			ok=0
		fi
	fi

	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

if [ "$found" -eq 0 ]; then
	echo "replay: no fuzz_* binaries in $bindir" >&2
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
