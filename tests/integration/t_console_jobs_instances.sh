#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console takes the program's options, not the script's arguments
# Jobs handed out by two consoles sharing one PostgreSQL database
# (docs/console-database.md, "Handing out jobs with several instances"):
# two staging servers that store the same 10 machines sync, each in turn
# through both consoles (jobs_claim.py speaks staging's side of the sync);
# 100 queued jobs are each run once, by one server, and both consoles and
# both servers handed out or ran some. Then, with 20 more jobs, one server
# dies after taking jobs (it never reports them) and the first console is
# killed with SIGKILL as it hands jobs out: nothing is lost: the dead
# server's jobs are taken over by the other after the lease (--job-lease
# 3s), and every job ends once. Without LIVEMIG_TEST_PG the test brings up
# its own PostgreSQL 15 (tests/with_postgresql.sh).
if [ -z "${LIVEMIG_TEST_PG:-}" ]; then
	exec "$(dirname "$0")/../with_postgresql.sh" bash "$0" "$@"
fi
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

LEASE=3
db_is_pg || die "the console's database is not PostgreSQL: $CONSOLE_DB"
setup_pki
start_console --job-lease ${LEASE}s
A_PORT=$CONSOLE_PORT A_PID=$CONSOLE_PID
start_console --job-lease ${LEASE}s
B_PORT=$CONSOLE_PORT B_PID=$CONSOLE_PID

admin create-account acme --licenses 10 >/dev/null || die "create-account"
echo 'operator-password' | admin create-user acme alice --role operator >/dev/null || die "create-user"
TOKEN=$(admin create-token acme 2>/dev/null) || die "create-token"
out=$(CONSOLE_PORT=$A_PORT api race --dir "$T/agents" --token "$TOKEN" --count 10 --port2 "$B_PORT") ||
	die "registrations: $out"
[ "$out" = "201 10" ] || die "expected 10 registrations: $out"
MACHINES=$(python3 - "$T/agents/race-answers.json" <<'PY'
import json, sys
print(",".join(json.loads(t)["machine_id"] for s, t in json.load(open(sys.argv[1]))))
PY
) || die "machine ids"
for s in st1 st2; do
	admin add-staging $s >"$T/$s.secret" 2>"$T/add.err" || die "add-staging $s: $(cat "$T/add.err")"
done
claim() {
	python3 "$TESTS/jobs_claim.py" --ports "$A_PORT,$B_PORT" --ca "$SERVER_CA" "$@"
}

# --- 100 jobs, two servers, two consoles ---
claim queue --machines "$MACHINES" --login alice@acme:operator-password --count 100 >"$T/ids1" ||
	die "queueing 100 jobs: $(cat "$T/ids1")"
[ "$(wc -l <"$T/ids1")" = 100 ] || die "100 jobs were not queued"
v=$(claim run --staging "st1=$T/st1.secret" --staging "st2=$T/st2.secret" --machines "$MACHINES" \
	--expect 100) || die "the servers' syncs failed: $v"
echo "$v" >"$T/run1.json"
python3 - "$T/run1.json" "$T/ids1" "$A_PORT" "$B_PORT" <<'PY' || die "100 jobs through two consoles: $v"
import collections, json, sys
v = json.load(open(sys.argv[1]))
ids = [l.strip() for l in open(sys.argv[2])]
runs = v["runs"]
assert sorted(runs) == sorted(ids), "jobs seen %d of %d" % (len(runs), len(ids))
twice = {i: r for i, r in runs.items() if len(r) != 1}
assert not twice, "jobs run more than once: %s" % twice
by = collections.Counter(r[0] for r in runs.values())
assert by["st1"] > 0 and by["st2"] > 0, "one server ran everything: %s" % by
assert all(v["per_port"].get(p, 0) > 0 for p in sys.argv[3:]), "per console: %s" % v["per_port"]
print("100 jobs run once each: %s; first handed out by console: %s; %.1f s" %
      (dict(by), v["per_port"], v["seconds"]))
PY
[ "$(db_query "SELECT COUNT(*) FROM staging_jobs WHERE state = 'succeeded' AND claims = 1")" = 100 ] ||
	die "the database: $(db_query "SELECT state, claims, COUNT(*) FROM staging_jobs GROUP BY state, claims")"
[ "$(db_query "SELECT COUNT(*) FROM staging_jobs j JOIN staging_servers s ON s.id = j.staging_ref
	WHERE j.result <> '{\"by\":\"' || s.name || '\"}'")" = 0 ] ||
	die "a job ended by a server it was not delivered to"
pass "100 queued jobs handed out by two consoles to two servers: each run once"

# --- a server dies holding jobs, a console is killed handing out ---
claim queue --machines "$MACHINES" --login alice@acme:operator-password --count 20 >"$T/ids2" ||
	die "queueing 20 jobs: $(cat "$T/ids2")"
v=$(claim run --staging "st1=$T/st1.secret" --staging "st2=$T/st2.secret" --machines "$MACHINES" \
	--expect 20 --die st1 --kill "$A_PID") || die "the syncs failed: $v"
echo "$v" >"$T/run2.json"
# never wait for a console nobody killed
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["killed_at"] is None)' "$T/run2.json" ||
	die "the first console was never killed (no answer with jobs came through it): $v"
wait "$A_PID" 2>/dev/null
kill -0 "$A_PID" 2>/dev/null && die "the first console still runs after SIGKILL"
python3 - "$T/run2.json" "$T/ids2" <<'PY' || die "after a death: $v"
import json, sys
v = json.load(open(sys.argv[1]))
ids = [l.strip() for l in open(sys.argv[2])]
runs, held = v["runs"], [str(i) for i in v["died"].get("st1", [])]
assert v["killed_at"] is not None, "the first console was not killed"
assert held, "st1 died without holding a job: %s" % v
assert sorted(runs) == sorted(ids), "jobs seen %d of %d" % (len(runs), len(ids))
for i in ids:
    want = ["st1", "st2"] if i in held else ["st2"] if runs[i][0] == "st2" else ["st1"]
    assert runs[i] == want, "job %s went to %s" % (i, runs[i])
print("st1 died holding %d jobs, taken over by st2; the first console killed; %.1f s" %
      (len(held), v["seconds"]))
PY
held=$(python3 -c 'import json, sys; print(",".join(str(i) for i in json.load(open(sys.argv[1]))["died"]["st1"]))' "$T/run2.json")
[ "$(db_query "SELECT COUNT(*) FROM staging_jobs WHERE state = 'succeeded'")" = 120 ] ||
	die "not every job ended: $(db_query "SELECT id, state, claims FROM staging_jobs WHERE state <> 'succeeded'")"
[ "$(db_query "SELECT COUNT(*) FROM staging_jobs j JOIN staging_servers s ON s.id = j.staging_ref
	WHERE j.id IN ($held) AND s.name = 'st2' AND j.claims = 2 AND j.result = '{\"by\":\"st2\"}'")" = \
	"$(tr , '\n' <<<"$held" | wc -l)" ] || die "the dead server's jobs: $(db_query "SELECT id, staging_ref, claims, result FROM staging_jobs WHERE id IN ($held)")"
# taken over no sooner than the lease after st1's last sync
db_query "SELECT MIN(j.delivered_at) - MAX(s.last_sync_at) FROM staging_jobs j, staging_servers s
	WHERE j.id IN ($held) AND s.name = 'st1'" >"$T/gap" || die "gap"
[ "$(cat "$T/gap")" -ge $((LEASE - 1)) ] || die "taken over $(cat "$T/gap") s after st1's last sync, before the ${LEASE} s lease"
pass "a server dead holding jobs and a console killed with SIGKILL lose nothing: every job ends once ($(cat "$T/gap") s after the dead server's last sync)"

CONSOLE_PID=$B_PID
stop_console
