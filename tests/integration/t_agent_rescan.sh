#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# When tracking continuity is lost the agent rescans: it compares per-block
# hashes with staging and sends only the blocks that differ. Cases: checkpoint
# deleted, checkpoint corrupt, tracker epoch changed (hash store lost). Also a
# kill -9 with a valid checkpoint resumes without a rescan.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

start_staging
python3 "$TESTS/make_disk.py" "$T/src.img" 64M --seed 21
dev=$(make_loop "$T/src.img")
write_agent_config rs "$dev"
start_agent rs
wait_status "s['state'] == 'CHANGE_COPY'" 60
lm sync >/dev/null
assert_same "$dev" "$(replica rs d0)" "initial replica"
stop_agent

# writer --count 8 changes at most 8 x 256 KiB, i.e. at most 40 blocks of 64 KiB
limit=$((40 * 65536))
rescan_case() {
	local what=$1 seed=$2
	python3 "$TESTS/writer.py" "$dev" --seed "$seed" --count 8 --rate 0 >/dev/null
	start_agent rs
	wait_status "s['state'] == 'CHANGE_COPY'" 60
	lm sync >/dev/null || die "sync failed"
	grep -q "rescan complete" "$AGENT_LOG" || die "$what: no rescan happened"
	grep -q "$3" "$AGENT_LOG" || die "$what: the log does not say why ($3)"
	sent=$(status_get "s['sent_bytes']")
	[ "$sent" -le "$limit" ] || die "$what: rescan sent $sent bytes, more than the $limit changed"
	assert_same "$dev" "$(replica rs d0)" "$what: rescan sent $sent bytes of 64 MiB"
	stop_agent
}
rm "$T/rs.state/checkpoint.json"
rescan_case "checkpoint deleted" 1 "there is no checkpoint"
echo '{"format": 1, "machine": "rs", "trunc' >"$T/rs.state/checkpoint.json"
rescan_case "checkpoint corrupt" 2 "cannot be used"
rm "$T/rs.state/hashes-d0.bin"
rescan_case "tracker epoch changed" 3 "epoch changed"

# kill -9 with a good checkpoint: resume, no rescan, nothing lost
start_agent rs
wait_status "s['state'] == 'CHANGE_COPY'" 60
kill_agent
python3 "$TESTS/writer.py" "$dev" --seed 4 --count 8 --rate 0 >/dev/null
start_agent rs
wait_status "s['state'] == 'CHANGE_COPY' and s['rounds'] >= 1" 60
wait_for_log "$AGENT_LOG" "resuming from checkpoint" 30 || die "did not resume from the checkpoint"
! grep -qE "rescanning|rescan complete" "$AGENT_LOG" || die "rescanned although the checkpoint was valid"
lm sync >/dev/null
assert_same "$dev" "$(replica rs d0)" "kill -9 then restart resumed from the checkpoint"

# staging's store for the machine is replaced while the agent runs (deleted,
# staging restarted): the agent must not go on sending only changes into an
# empty replica, but rescan and fill it
kill_staging
rm -rf "${STAGING_STORE:?}/rs"
restart_staging
wait_status "s['staging']['connected']" 30
wait_status "s['state'] == 'CHANGE_COPY' and s['rounds'] >= 1" 60
grep -q "store for this machine was replaced" "$AGENT_LOG" || die "the agent did not notice the new store"
lm sync >/dev/null || die "sync failed"
assert_same "$dev" "$(replica rs d0)" "store replaced under a running agent: refilled by a rescan"
