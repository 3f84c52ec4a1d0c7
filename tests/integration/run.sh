#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every integration test (tests/integration/t_*.sh) against the programs
# in BUILD. Each test is a script whose exit status is its verdict; its output
# goes to BUILD/test-logs/NAME.log and is shown when it fails.
# LIVEMIG_SANITIZED=1 (the ASan+UBSan pass) asks tests for their quick tier.
# ONLY=regex runs a subset. LIVEMIG_TEST_TIMEOUT (seconds, default 900) ends
# a test that hangs; tests/stress.sh raises it, since an overloaded machine
# can take longer than that to run a test that does not hang.
set -u
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
logs="$build/test-logs"
mkdir -p "$logs"
passed=0
failed=0
failures=""
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
		continue
	fi
	start=$(date +%s)
	if timeout --kill-after=10 "${LIVEMIG_TEST_TIMEOUT:-900}" bash "$t" "$build" >"$logs/$name.log" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS  %-34s %4ss\n' "$name" "$(($(date +%s) - start))"
	else
		rc=$?
		failed=$((failed + 1))
		failures="$failures $name"
		printf 'FAIL  %-34s %4ss (exit %s)\n' "$name" "$(($(date +%s) - start))" "$rc"
		sed 's/^/    | /' "$logs/$name.log" | tail -n 60
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
