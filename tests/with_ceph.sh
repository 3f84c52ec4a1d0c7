#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run a command with a Ceph cluster of its own: one monitor, one manager and
# one OSD (BlueStore on a sparse file) in a scratch directory, cephx on, a
# pool of size 1 initialized for RBD; stopped and removed when the command
# ends, whatever its end. The monitor listens on two free ports of
# 127.0.0.1 (the OSD and the manager take free ones of Ceph's 6800-7300), so
# two runs never share anything. The command finds the cluster through
# CEPH_CONF (its [client] section names the admin keyring) and the pool in
# LIVEMIG_TEST_CEPH_POOL. Recipe: ../shared/notes/target-side.md.
# Usage: tests/with_ceph.sh COMMAND [ARGS...]
# The daemons are packages of ci/deps.sh test (ceph-mon ceph-mgr ceph-osd
# ceph-common uuid-runtime).
set -u
set -o pipefail
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
for tool in ceph-mon ceph-mgr ceph-osd ceph ceph-authtool monmaptool rbd uuidgen; do
	if ! command -v "$tool" >/dev/null; then
		echo "with_ceph: $tool is missing: apt-get install --no-install-recommends ceph-mon" \
			"ceph-mgr ceph-osd ceph-common uuid-runtime (ci/deps.sh test installs them)" >&2
		exit 1
	fi
done
# short: the admin sockets' paths must stay under 107 bytes
C=$(mktemp -d /tmp/lmceph.XXXXXX) || exit 1
started=0
cleanup() {
	local rc=$? f pids=() i p alive
	if [ "$started" = 1 ]; then
		for f in "$C"/run/*.pid; do
			[ -e "$f" ] && pids+=("$(cat "$f")")
		done
		if [ ${#pids[@]} -gt 0 ]; then
			kill -TERM "${pids[@]}" 2>/dev/null
			# the OSD takes a few seconds to stop; then -9
			for ((i = 0; i < 150; i++)); do
				alive=0
				for p in "${pids[@]}"; do
					kill -0 "$p" 2>/dev/null && alive=1
				done
				[ "$alive" = 0 ] && break
				sleep 0.1
			done
			kill -KILL "${pids[@]}" 2>/dev/null
		fi
	fi
	rm -rf "$C"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "with_ceph: $*" >&2
	local f
	for f in "$C"/log/*.log; do
		[ -e "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# polls COMMAND's output until it matches REGEX, for at most TIMEOUT seconds
wait_for() {
	local timeout=$1 regex=$2 end out
	shift 2
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -le "$end" ]; do
		out=$("$@" 2>/dev/null) && [[ $out =~ $regex ]] && return 0
		sleep 0.5
	done
	return 1
}

mkdir -p "$C"/{mon,mgr,osd,run,log}
export CEPH_CONF=$C/ceph.conf
fsid=$(uuidgen)
p2=$(free_port) && p1=$(free_port) || exit 1
mon_addr="[v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]"
cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = $mon_addr
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = $C/run
admin socket = $C/run/\$name.asok
pid file = $C/run/\$name.pid
log file = $C/log/\$name.log
mon cluster log file = default=$C/log/\$cluster.\$channel.log cluster=$C/log/\$cluster.log
mon data = $C/mon/\$cluster-\$id
mgr data = $C/mgr/\$cluster-\$id
osd data = $C/osd/\$cluster-\$id
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
auth allow insecure global id reclaim = false
[client]
keyring = $C/admin.keyring
# no admin socket for clients: several at once (staging, rbd, ceph) would
# fight over one path
admin socket =
[osd]
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 10737418240
osd memory target = 939524096
CONF

start=$SECONDS
{
	ceph-authtool --create-keyring "$C/mon.keyring" --gen-key -n mon. --cap mon 'allow *' &&
	ceph-authtool --create-keyring "$C/admin.keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' &&
	ceph-authtool "$C/mon.keyring" --import-keyring "$C/admin.keyring" &&
	monmaptool --create --fsid "$fsid" --addv a "$mon_addr" --enable-all-features \
		--set-min-mon-release pacific "$C/monmap" &&
	ceph-mon --mkfs -i a --monmap "$C/monmap" --keyring "$C/mon.keyring"
} >"$C/log/setup.log" 2>&1 || { cat "$C/log/setup.log" >&2; fail "cannot make the monitor"; }
started=1
ceph-mon -i a || fail "ceph-mon did not start"
mkdir -p "$C/mgr/ceph-x"
ceph --connect-timeout 60 auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' \
	mds 'allow *' -o "$C/mgr/ceph-x/keyring" >/dev/null 2>"$C/log/setup.log" ||
	{ cat "$C/log/setup.log" >&2; fail "the monitor does not answer"; }
ceph-mgr -i x || fail "ceph-mgr did not start"
uuid=$(uuidgen)
key=$(ceph-authtool --gen-print-key)
id=$(echo "{\"cephx_secret\": \"$key\"}" | ceph --connect-timeout 60 osd new "$uuid" -i -) ||
	fail "ceph osd new failed"
mkdir -p "$C/osd/ceph-$id"
ceph-authtool --create-keyring "$C/osd/ceph-$id/keyring" --name "osd.$id" --add-key "$key" \
	>/dev/null || fail "no OSD keyring"
ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >"$C/log/osd-mkfs.log" 2>&1 ||
	{ cat "$C/log/osd-mkfs.log" >&2; fail "ceph-osd --mkfs failed"; }
ceph-osd -i "$id" 2>>"$C/log/setup.log" || fail "ceph-osd did not start"
wait_for 180 '"num_up_osds": ?1' ceph --connect-timeout 30 osd stat -f json ||
	fail "the OSD did not come up within 180 s"
export LIVEMIG_TEST_CEPH_POOL=livemig
{
	ceph --connect-timeout 60 osd pool create "$LIVEMIG_TEST_CEPH_POOL" 32 32 &&
	rbd pool init "$LIVEMIG_TEST_CEPH_POOL"
} >"$C/log/setup.log" 2>&1 || { cat "$C/log/setup.log" >&2; fail "cannot make the RBD pool"; }
# HEALTH_OK comes before the pool's placement groups are active
if ! wait_for 180 '^HEALTH_OK' ceph --connect-timeout 30 health ||
	! wait_for 180 '^[0-9]+ pgs: [0-9]+ active\+clean;' ceph --connect-timeout 30 pg stat; then
	ceph --connect-timeout 30 health detail >&2
	fail "the cluster did not reach HEALTH_OK within 180 s"
fi
echo "with_ceph: Ceph $(ceph --version | sed 's/^ceph version \([^ ]*\).*/\1/') HEALTH_OK in" \
	"$((SECONDS - start)) s, monitor on 127.0.0.1:$p2 (v2) and :$p1 (v1), pool" \
	"$LIVEMIG_TEST_CEPH_POOL, CEPH_CONF=$CEPH_CONF"
"$@"
