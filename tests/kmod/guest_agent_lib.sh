# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the guest tests that run the real agent against livemig_cbt
# (guest_oracle.sh, guest_reload_agent.sh). Sourced in the guest (chrooted
# into the host's userland, see run.sh) as
#     . /mnt/repo/tests/kmod/guest_agent_lib.sh OUT
# It loads the integration suite's helpers (lib.sh, agent_lib.sh) with the
# freshly built programs of /mnt/repo/build, brings up loopback, starts a
# livemig-staging in the guest and gives:
#   KO                   the module built by run.sh
#   DISK                 /dev/vdb: gets a partition table and an ext4 file system
#   make_fs              partition DISK, mkfs.ext4 its partition, mount it on $FS
#   start_writers SEED   fio random writes and file creation/deletion on $FS
#   stop_writers         stop them
#   st JQ                evaluate JQ over the agent's status document
#   wait_st JQ TIMEOUT   wait until JQ is true
#   generations          SNAPSHOTs the module took since it was loaded
#   frozen_compare NAME MSG
#                        sync, freeze the fs, final `livemig sync`, compare the
#                        replica with the disk, thaw; 1 (after saying so) when
#                        they differ

OUT=$1
REPO=/mnt/repo
KO=$OUT/build/livemig_cbt.ko
DISK=/dev/vdb
export TMPDIR=/tmp
# the build directory, relative to the tree (make's O=; run.sh's GUEST_ENV)
set -- "$REPO/${LIVEMIG_BUILD:-build}"
# shellcheck source=../integration/lib.sh
. "$REPO/tests/integration/lib.sh" "$@"
# shellcheck source=../integration/agent_lib.sh
. "$REPO/tests/integration/agent_lib.sh"
# A TCG guest on a busy host may take minutes to start a program (its
# userland comes over 9p; livemig-staging once printed nothing within lib.sh's
# 60 s under stress-ng). A wait's bound only decides how long a hang takes to
# fail, and run.sh bounds each guest test as a whole: 10 min here.
WAIT_MIN_S=600
FS=$T/fs
mkdir -p "$FS"
# the logs live on the guest's tmpfs: copy them out as they grow, so that a
# hang (judged by run.sh's timeout) still leaves them in OUT/logs
mkdir -p "$OUT/logs"
( while sleep 3; do cp "$T"/*.log "$OUT/logs/" 2>/dev/null; done ) &
track_pid $!
[ -x "$BUILD/livemigd" ] || die "no $BUILD/livemigd: build the programs first (make)"
ip link set lo up || die "cannot bring up loopback"
modprobe ext4 || die "cannot load ext4"
for t in fio fsfreeze sfdisk mkfs.ext4 jq sha256sum; do
	command -v $t >/dev/null || die "missing $t in the host's userland (ci/deps.sh test)"
done

make_fs() {
	mountpoint -q "$FS" && umount "$FS"
	echo 'start=2048, type=83' | sfdisk -q --wipe always --wipe-partitions always "$DISK" >/dev/null ||
		die "sfdisk $DISK"
	# let the partition appear and settle before mkfs
	for _ in $(seq 50); do [ -b "${DISK}1" ] && break; sleep 0.1; done
	[ -b "${DISK}1" ] || die "no ${DISK}1 after sfdisk"
	# no lazy init: nothing may write behind our back once the writers stop
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "${DISK}1" || die "mkfs.ext4"
	mount -o noatime "${DISK}1" "$FS" || die "mount ${DISK}1"
	track_mount "$FS"
}

_WRITER_PIDS=()
# Rates are modest on purpose: under TCG on a busy host the agent hashes and
# compresses at about 1 MiB/s, and each 4 KiB write dirties a 64 KiB block
# (about 0.5 MiB/s here); the point is many rounds that each find fresh
# writes, not a backlog.
start_writers() {
	local seed=$1
	fio --name=rand --filename="$FS/fio.dat" --size=12M --rw=randwrite --bs=4k \
		--ioengine=psync --direct=1 --randseed="$seed" --rate_iops=5 \
		--time_based --runtime=900 --output=/dev/null >/dev/null 2>&1 &
	_WRITER_PIDS+=($!)
	track_pid $!
	fio --name=buf --filename="$FS/buf.dat" --size=4M --rw=randwrite --bs=16k \
		--ioengine=psync --fsync=4 --randseed=$((seed + 1000)) --rate_iops=2 \
		--time_based --runtime=900 --output=/dev/null >/dev/null 2>&1 &
	_WRITER_PIDS+=($!)
	track_pid $!
	(
		RANDOM=$seed
		mkdir -p "$FS/churn"
		while :; do
			n=$((RANDOM % 48))
			if [ -e "$FS/churn/f$n" ] && [ $((RANDOM % 3)) = 0 ]; then
				rm -f "$FS/churn/f$n"
			else
				head -c $(((RANDOM % 32 + 1) * 1024)) /dev/urandom >"$FS/churn/f$n"
			fi
			[ $((RANDOM % 4)) = 0 ] && sync -f "$FS"
			sleep 0.$((RANDOM % 6 + 3))
		done
	) &
	_WRITER_PIDS+=($!)
	track_pid $!
}

stop_writers() {
	local p
	for p in "${_WRITER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_WRITER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	_WRITER_PIDS=()
}

st() {
	lm status --json | jq -r "$1"
}

# Wait until the status makes EXPR true. A hang is no progress of the agent
# (its state, bytes made durable, rounds, each disk's pass) for TIMEOUT s (at
# least WAIT_MIN_S), not a slow wait: a starved guest's initial mirror took
# 436 s. A condition that never comes while the agent goes on working fails
# after 6 bounds. Says every 5 minutes that it still waits (run.sh takes a
# silent guest for a hung one).
wait_st() {
	local expr=$1 timeout=${2:-60} out sig last_sig= start=$SECONDS last=$SECONDS said=$SECONDS
	[ "$timeout" -ge "$WAIT_MIN_S" ] || timeout=$WAIT_MIN_S # a bound for hangs only
	for (( ; ; )); do
		out=$(lm status --json 2>/dev/null |
			jq -r "($expr), ([.state, .sent_bytes, .rounds, [.disks[]?.bytes_done]] | tojson)" 2>/dev/null)
		[ "${out%%$'\n'*}" = true ] && return 0
		sig=${out#*$'\n'}
		if [ "$sig" != "$last_sig" ]; then
			last_sig=$sig
			last=$SECONDS
		fi
		[ $((SECONDS - last)) -lt "$timeout" ] && [ $((SECONDS - start)) -lt $((6 * timeout)) ] || break
		if [ $((SECONDS - said)) -ge 300 ]; then
			echo "   still waiting ($((SECONDS - start)) s) for: $expr; agent: $sig"
			said=$SECONDS
		fi
		sleep 0.2
	done
	lm status >&2 || true
	tail -n 30 "$AGENT_LOG" >&2
	die "timed out after $((SECONDS - start))s (no progress for $((SECONDS - last))s) waiting for: $expr"
}

generations() {
	cat /sys/class/misc/livemig-cbt/generations
}

# What the agent is doing, for a test that waited too long.
agent_dump() {
	local t
	echo "--- generations $(generations), dirty_blocks $(cat /sys/class/misc/livemig-cbt/dirty_blocks)" >&2
	lm status >&2
	for t in /proc/"$AGENT_PID"/task/*; do
		echo "--- thread $(cat "$t/comm") wchan $(cat "$t/wchan" 2>/dev/null)" >&2
		cat "$t/stack" 2>/dev/null | sed -n 1,8p >&2
	done
	tail -n 20 "$AGENT_LOG" >&2
	gdb -p "$AGENT_PID" -batch -ex "thread apply all bt" 2>/dev/null |
		grep -E '^(#|Thread)' | cut -c1-160 >&2
}

# stop_agent, but a livemigd that does not stop is a failure with a dump,
# not a hang
stop_agent_checked() {
	local i rc=0
	kill -TERM "$AGENT_PID" 2>/dev/null
	for i in $(seq 150); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		agent_dump
		die "livemigd did not stop within 30 s of SIGTERM"
	fi
	wait "$AGENT_PID" || rc=$?
	[ "$rc" -eq 0 ] || die "livemigd exited with $rc after SIGTERM"
}

# Wait until the module took n more SNAPSHOTs than g0. A hang is no new
# SNAPSHOT for timeout s (at least WAIT_MIN_S), not fewer than n within a
# fixed time: on a starved TCG guest a round took up to 28 s, so 50 rounds
# did not fit in 300 s while every round was progressing.
wait_generations() {
	local g0=$1 n=$2 timeout=$3 last now seen said
	[ "$timeout" -ge "$WAIT_MIN_S" ] || timeout=$WAIT_MIN_S
	seen=$(generations)
	last=$(date +%s)
	said=$last
	while [ $((seen - g0)) -lt "$n" ]; do
		kill -0 "$AGENT_PID" 2>/dev/null || die "livemigd died"
		now=$(generations)
		if [ $(($(date +%s) - said)) -ge 300 ]; then
			echo "   $((now - g0)) of $n SNAPSHOTs"
			said=$(date +%s)
		fi
		if [ "$now" != "$seen" ]; then
			seen=$now
			last=$(date +%s)
		elif [ $(($(date +%s) - last)) -ge "$timeout" ]; then
			agent_dump
			die "no SNAPSHOT for ${timeout}s after $((seen - g0)) of $n"
		fi
		sleep 0.5
	done
}

frozen_compare() {
	local name=$1 msg=$2 src rep
	sync
	fsfreeze -f "$FS" || die "fsfreeze $FS"
	lm sync >/dev/null || { fsfreeze -u "$FS"; die "livemig sync failed"; }
	src=$(sha256sum "$DISK" | cut -d' ' -f1)
	rep=$(sha256sum "$(replica "$name" d0)" | cut -d' ' -f1)
	fsfreeze -u "$FS"
	if [ "$src" = "$rep" ]; then
		pass "$msg (sha256 $src)"
	else
		echo "FAIL: $msg: replica sha256 $rep differs from the source's $src" >&2
		cmp -l "$DISK" "$(replica "$name" d0)" 2>&1 | awk '{ b = int(($1 - 1) / 65536); if (!(b in s)) { s[b] = 1; n++; if (n <= 20) print "   differs in 64 KiB block " b } } END { print "   " n " block(s) differ" }' >&2
		return 1
	fi
}
