#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A heartbeat's time at the console (not a test): 48 machines registered,
# then 10 rounds of one heartbeat each (480, within every machine's burst:
# none refused), each sent on a kept TLS connection and timed from the
# request to the end of the answer; prints the median and p90 in ms.
# The database is SQLite, or PostgreSQL when LIVEMIG_TEST_PG names a
# server (tests/with_postgresql.sh tests/bench/console_heartbeat.sh BUILD).
#
#   tests/bench/console_heartbeat.sh BUILD_DIR
# Results and method: docs/console-database.md ("The brakes in the database").
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source=../integration/console_lib.sh
. "$TESTS/console_lib.sh"

start_console
admin create-account bench --licenses 48 >/dev/null || die "create-account"
TOKEN=$(admin create-token bench --max-uses 48 2>/dev/null) || die "create-token"
# in groups of 8 (the console's HTTP threads: the race client holds each
# connection open until all of its group are connected)
for g in 1 2 3 4 5 6; do
	out=$(api race --dir "$T/agents" --token "$TOKEN" --count 8 --prefix "bench$g") || die "register: $out"
	[ "$out" = "201 8" ] || die "expected 8 registrations: $out"
	mv "$T/agents/race-answers.json" "$T/agents/answers-$g.json"
done
python3 - "$CONSOLE_PORT" "$SERVER_CA" "$T"/agents/answers-*.json <<'PY' || die "heartbeats failed"
import http.client, json, ssl, statistics, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
machines = [json.loads(t) for a in sys.argv[3:] for s, t in json.load(open(a)) if s == 201]
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=ca))
times = []
for rnd in range(10):
    for m in machines:
        doc = json.dumps({"version": "0.1.0", "machine": m["machine_id"], "state": "INITIAL_MIRROR",
                          "seq": rnd, "disks": []})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/machines/%s/status" % m["machine_id"], body=doc,
                     headers={"Content-Type": "application/json",
                              "Authorization": "Bearer " + m["agent_secret"]})
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            sys.exit("heartbeat answered %d: %s" % (r.status, body[:200]))
times.sort()
print("heartbeats: %d, median %.2f ms, p90 %.2f ms" %
      (len(times), statistics.median(times), times[int(len(times) * 0.9)]))
PY
stop_console
