#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig-staging --metrics: GET /metrics over plain HTTP in Prometheus' text
# format (promtool checks it) with the store's space, the sessions, the bytes
# written and zeroed and the fsync latency histogram; nothing else is served.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"

command -v promtool >/dev/null || die "promtool is missing (Debian's prometheus package; ci/deps.sh test installs it)"

start_staging --metrics 127.0.0.1:0
wait_for_log "$STAGING_LOG" "metrics on" 20 || die "no 'metrics on' line: $(cat "$STAGING_LOG")"
MPORT=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$STAGING_LOG")
[ -n "$MPORT" ] || die "cannot read the metrics port: $(cat "$STAGING_LOG")"

scrape() { # FILE
	curl -sS --max-time 30 -o "$1" -w '%{http_code} %{content_type}' "http://127.0.0.1:$MPORT/metrics"
}
# sample NAME FILE: the value of an unlabelled sample
sample() {
	sed -n "s/^$1 //p" "$2"
}

got=$(scrape "$T/m0.txt") || die "scrape failed"
[ "$got" = "200 text/plain; version=0.0.4; charset=utf-8" ] || die "scrape answered: $got"
promtool check metrics <"$T/m0.txt" >"$T/promtool.out" 2>&1 ||
	die "promtool check metrics refused the text: $(cat "$T/promtool.out")"
[ "$(sample livemig_staging_written_bytes_total "$T/m0.txt")" = 0 ] || die "bytes written before any: $(cat "$T/m0.txt")"
free=$(sample livemig_staging_store_free_bytes "$T/m0.txt")
df_free=$(($(stat -f -c '%a * %S' "$T/store")))
[ -n "$free" ] && [ "$free" -gt 0 ] || die "no free bytes: $(cat "$T/m0.txt")"
pass "promtool accepts staging's /metrics; free bytes $free (statfs says $df_free)"

# 3 MiB of data and a 1 MiB zero range, each committed
head -c 3M /dev/urandom >"$T/d1"
frames delta --disk 1:vda:16M write --file "$T/d1" --offset 0 >"$T/w.out" ||
	die "write: $(cat "$T/w.out")"
frames delta --disk 1:vda:16M zero --offset 8M --length 1M --seq 100 >"$T/z.out" ||
	die "zero: $(cat "$T/z.out")"
scrape "$T/m1.txt" >/dev/null || die "scrape failed"
promtool check metrics <"$T/m1.txt" >"$T/promtool.out" 2>&1 ||
	die "promtool check metrics refused the text: $(cat "$T/promtool.out")"
[ "$(sample livemig_staging_written_bytes_total "$T/m1.txt")" = $((3 * 1024 * 1024)) ] ||
	fail "written bytes are not 3 MiB: $(cat "$T/m1.txt")"
[ "$(sample livemig_staging_zeroed_bytes_total "$T/m1.txt")" = $((1024 * 1024)) ] ||
	fail "zeroed bytes are not 1 MiB: $(cat "$T/m1.txt")"
fsyncs=$(sample livemig_staging_fsync_seconds_count "$T/m1.txt")
inf=$(sed -n 's/^livemig_staging_fsync_seconds_bucket{le="+Inf"} //p' "$T/m1.txt")
[ -n "$fsyncs" ] && [ "$fsyncs" -ge 1 ] && [ "$inf" = "$fsyncs" ] ||
	fail "the fsync histogram did not count the commits: $(cat "$T/m1.txt")"
pass "3 MiB written, 1 MiB zeroed, $fsyncs fsyncs in the histogram"

code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/store/delta/disk-vda.img")
[ "$code" = 404 ] || fail "a path other than /metrics answered $code"
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")
[ "$code" = 405 ] || fail "POST /metrics answered $code"
pass "only GET /metrics is served (404 elsewhere, 405 for POST)"
stop_staging
