#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Mirror and change copy while a writer changes the disk, for many seeds:
# after the writer stops and a final sync, the replica must be byte-identical
# to the source every time. Real loop devices, real TLS, real staging.
. "$(dirname "$0")/lib.sh" "$@"
. "$TESTS/agent_lib.sh"
need_root

# the ASan+UBSan pass runs the quick tier: a quarter of the seeds
seeds=${SEEDS:-$([ "${LIVEMIG_SANITIZED:-0}" = 1 ] && echo 5 || echo 20)}
size=48M
if [ "$SANITIZED" = 1 ]; then
	seeds=4 # the sanitized build is ~5x slower; the full set runs unsanitized
	size=16M
fi
start_staging
for seed in $(seq 1 "$seeds"); do
	name=seed$seed
	python3 "$TESTS/make_disk.py" "$T/$name.img" "$size" --seed "$seed"
	dev=$(make_loop "$T/$name.img")
	# a second, smaller disk on every third seed: several disks in one session
	if [ $((seed % 3)) = 0 ]; then
		python3 "$TESTS/make_disk.py" "$T/$name-b.img" 8M --seed $((seed + 100))
		dev2=$(make_loop "$T/$name-b.img")
		write_agent_config "$name" "$dev" "$dev2"
	else
		dev2=
		write_agent_config "$name" "$dev"
	fi
	# the writer starts with the mirror: changes are tracked from its first read
	python3 "$TESTS/writer.py" "$dev" --seed "$seed" --rate 400 >"$T/$name.writer" 2>&1 &
	wpid=$!
	track_pid "$wpid"
	start_agent "$name"
	wait_status "s['state'] == 'CHANGE_COPY' and s['rounds'] >= 2" 120
	kill -TERM "$wpid"
	wait "$wpid" || die "writer failed: $(cat "$T/$name.writer")"
	lm sync >"$T/$name.sync" || die "livemig sync failed: $(cat "$T/$name.sync")"
	grep -q "replica consistent as of" "$T/$name.sync" || die "sync output: $(cat "$T/$name.sync")"
	assert_same "$dev" "$(replica "$name" d0)" "seed $seed: $(cat "$T/$name.writer")"
	[ -z "$dev2" ] || assert_same "$dev2" "$(replica "$name" d1)" "seed $seed: second disk"
	stop_agent
done
pass "$seeds seeds, every replica identical"
