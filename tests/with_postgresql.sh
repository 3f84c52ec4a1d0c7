#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run a command with a PostgreSQL 15 server of its own: a fresh cluster in a
# scratch directory (initdb, pg_ctl), listening on 127.0.0.1 on a free port
# and on a socket in that directory, stopped and removed when the command
# ends, whatever its end. The command finds the server in LIVEMIG_TEST_PG
# (postgresql://postgres@127.0.0.1:PORT, no database: the console's tests
# make their own databases on it) and its binaries in PG_BIN.
# Usage: [PG_FSYNC=on] tests/with_postgresql.sh COMMAND [ARGS...]
# initdb refuses to run as root: as root the cluster belongs to nobody
# (uid 65534) and its programs run as nobody. postgresql-15 is a package
# of ci/deps.sh.
set -u
set -o pipefail
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if ! [ -x "$PG_BIN/initdb" ] || ! [ -x "$PG_BIN/pg_ctl" ]; then
	echo "with_postgresql: no initdb/pg_ctl in $PG_BIN: apt-get install postgresql-15" \
		"(ci/deps.sh test installs it)" >&2
	exit 1
fi
# short: the server's socket path must stay under 107 bytes
dir=$(mktemp -d /tmp/lmpg.XXXXXX) || exit 1
as_owner=()
if [ "$(id -u)" = 0 ]; then
	chown 65534:65534 "$dir"
	as_owner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod 0700 "$dir"
started=0
cleanup() {
	local rc=$?
	if [ "$started" = 1 ]; then
		"${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
			echo "with_postgresql: pg_ctl stop failed (see above)" >&2
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || exit 1
if ! "${as_owner[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
	--locale=C >"$dir/initdb.log" 2>&1; then
	cat "$dir/initdb.log" >&2
	echo "with_postgresql: initdb failed" >&2
	exit 1
fi
# fsync off: a scratch cluster, thrown away at the end; the console's many
# small transactions would otherwise wait on a busy machine's disk.
# PG_FSYNC=on keeps it on, as on a real server (tests/bench/scale.sh).
if ! "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
	-o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200" \
	start >/dev/null; then
	cat "$dir/server.log" >&2
	echo "with_postgresql: the server did not start" >&2
	exit 1
fi
started=1
export LIVEMIG_TEST_PG="postgresql://postgres@127.0.0.1:$port"
export PG_BIN
echo "with_postgresql: PostgreSQL $("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/') at $LIVEMIG_TEST_PG"
"$@"
