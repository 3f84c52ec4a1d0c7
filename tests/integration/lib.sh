# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the integration tests. A test starts with
#     . "$(dirname "$0")/lib.sh" "$@"
# and gets:
#   BUILD        the build directory (first argument; default "build"), absolute
#   TESTS        this directory, absolute
#   T            a fresh temporary directory, removed at exit (KEEP_TMP=1 keeps it)
#   need_root                          skip-free: fail unless running as root
#   die MSG / fail MSG                 print "FAIL: MSG" and exit 1
#   pass MSG                           print "ok: MSG"
#   check MSG CMD...                   run CMD; pass MSG if it succeeds, else fail
#   track_pid PID                      kill PID (TERM, then KILL) at exit
#   track_mount DIR                    unmount DIR at exit (lazily if busy)
#   make_loop FILE                     attach FILE to a loop device, print it;
#                                      detached at exit
#   free_port                          print an unused TCP port on 127.0.0.1
#   make_ca NAME DIR                   DIR/ca.pem, DIR/ca.key (EC P-256)
#   make_cert CA_DIR CN PREFIX [server]
#                                      PREFIX.pem, PREFIX.key signed by CA_DIR;
#                                      server certs name IP:127.0.0.1 and localhost,
#                                      plus $SERVER_EXTRA_SANS (e.g. "DNS:a,DNS:b")
#   setup_pki                          $T/pki: an agent CA (signs machine certs)
#                                      and a server CA (signs staging's cert);
#                                      sets PKI, AGENT_CA, SERVER_CA, SERVER_CERT,
#                                      SERVER_KEY
#   machine_cert NAME                  $PKI/NAME.pem/.key from the agent CA
#   start_staging [ARGS...]            start $BUILD/livemig-staging on a free port
#                                      with store $STAGING_STORE (default $T/store)
#                                      and wait for "listening on"; sets STAGING_PID,
#                                      STAGING_PORT, STAGING_LOG; the port is
#                                      $STAGING_WANT_PORT when set
#   stop_staging                       SIGTERM it; fail unless it exits 0
#   kill_staging                       SIGKILL it (a crash)
#   wait_for_log FILE REGEX TIMEOUT    wait until FILE has a line matching REGEX
#   frames MACHINE [ARGS...]           run frames.py as MACHINE against staging
#   file_sha FILE                      sha256 of FILE
#   has_line GREP-ARGS...              `grep -q`, reading its input to the end (below)
# At exit every log of a sanitized program is scanned: a sanitizer report
# fails the test.

set -u
set -o pipefail
# Debian's programs first (ci/deps.sh installs them), whatever PATH puts
# before them: a pyenv shim in front of python3 took 9 s per start on a
# busy machine, /usr/bin/python3 0.7 s (the Makefile does the same)
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# Under pipefail a pipeline's status is its writer's too. A reader that stops
# early (grep -q, head, awk '…exit') closes the pipe while the writer may still
# be writing; the writer dies of SIGPIPE and the pipeline fails at random,
# depending on which process the scheduler runs first. So every reader in a
# pipeline reads to the end of its input: `cmd | has_line REGEX` instead of
# `grep -q`, `sed -n 1p` instead of `head -1`. tests/lint/pipe_readers.sh
# keeps it that way.
has_line() {
	local rc=0
	grep -q "$@" || rc=$?
	cat >/dev/null
	return "$rc"
}

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "FAIL: build directory ${1:-build} missing" >&2; exit 1; }
TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/livemig-$(basename "$0" .sh).XXXXXX")
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

_LIB_PIDS=()
_LIB_MOUNTS=()
_LIB_LOGS=()

die() {
	echo "FAIL: $*" >&2
	exit 1
}

fail() {
	die "$@"
}

pass() {
	echo "ok: $*"
}

check() {
	local msg=$1
	shift
	if "$@"; then
		pass "$msg"
	else
		fail "$msg"
	fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "this test needs root (run it as root or under sudo)"
}

track_pid() {
	_LIB_PIDS+=("$1")
}

track_mount() {
	_LIB_MOUNTS+=("$1")
}

# Called as dev=$(make_loop FILE), i.e. in a subshell: the device is
# recorded in a file so that the cleanup in the main shell sees it.
make_loop() {
	local dev
	dev=$(losetup --find --show "$1") || die "cannot attach $1 to a loop device"
	echo "$dev" >>"$T/.loops"
	echo "$dev"
}

_lib_sanitizer_check() {
	local log bad=0
	for log in "${_LIB_LOGS[@]}"; do
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$log"; then
			echo "FAIL: sanitizer report in $log:" >&2
			grep -E -A30 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$log" | sed -n 1,60p >&2
			bad=1
		fi
	done
	return $bad
}

_lib_cleanup() {
	local rc=$? pid dev mnt i
	set +e
	for pid in "${_LIB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_LIB_PIDS[@]}"; do
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ((i = ${#_LIB_MOUNTS[@]} - 1; i >= 0; i--)); do
		mnt=${_LIB_MOUNTS[$i]}
		mountpoint -q "$mnt" && { umount "$mnt" 2>/dev/null || umount -l "$mnt"; }
	done
	if [ -f "$T/.loops" ]; then
		while read -r dev; do
			losetup -d "$dev" 2>/dev/null
		done <"$T/.loops"
	fi
	_lib_sanitizer_check || rc=1
	if [ "$rc" -ne 0 ]; then
		for log in "${_LIB_LOGS[@]}"; do
			[ -f "$log" ] || continue
			echo "--- last lines of $log:" >&2
			tail -n 25 "$log" >&2
		done
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The bound of every wait is at least WAIT_MIN_S (60 s): it only decides how
# long a hang takes to fail, and a busy machine may take that long to get
# there. No test waits for something in order to see it not happen.
WAIT_MIN_S=60
# wait_for_log FILE REGEX [TIMEOUT [COUNT]]: until COUNT (1) lines match.
# A log that a restarted program appends to still holds the lines of its
# earlier runs: a wait for the next occurrence gives the count it expects.
wait_for_log() {
	local file=$1 regex=$2 timeout=${3:-10} count=${4:-1} end n
	[ "$timeout" -ge "$WAIT_MIN_S" ] || timeout=$WAIT_MIN_S
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -le "$end" ]; do
		n=$(grep -cE -- "$regex" "$file" 2>/dev/null)
		[ "${n:-0}" -ge "$count" ] && return 0
		sleep 0.1
	done
	return 1
}

file_sha() {
	sha256sum "$1" | cut -d' ' -f1
}

make_ca() {
	local name=$1 dir=$2
	mkdir -p "$dir"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 -subj "/CN=$name" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
		die "openssl could not make CA $name"
}

make_cert() {
	local ca=$1 cn=$2 prefix=$3 kind=${4:-client} ext
	ext=$(mktemp "$T/ext.XXXXXX")
	if [ "$kind" = server ]; then
		printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
			"extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost${SERVER_EXTRA_SANS:+,$SERVER_EXTRA_SANS}" >"$ext"
	else
		printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
			"extendedKeyUsage=clientAuth" >"$ext"
	fi
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$prefix.key" -out "$prefix.csr" -subj "/CN=$cn" 2>/dev/null &&
		openssl x509 -req -in "$prefix.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
			-CAcreateserial -out "$prefix.pem" -days 30 -extfile "$ext" 2>/dev/null ||
		die "openssl could not make certificate $cn"
	rm -f "$prefix.csr" "$ext"
}

setup_pki() {
	PKI=$T/pki
	mkdir -p "$PKI"
	make_ca "livemig test agent CA" "$PKI/agent-ca"
	make_ca "livemig test server CA" "$PKI/server-ca"
	make_cert "$PKI/server-ca" staging "$PKI/server" server
	AGENT_CA=$PKI/agent-ca/ca.pem
	SERVER_CA=$PKI/server-ca/ca.pem
	SERVER_CERT=$PKI/server.pem
	SERVER_KEY=$PKI/server.key
}

machine_cert() {
	[ -f "$PKI/$1.pem" ] || make_cert "$PKI/agent-ca" "$1" "$PKI/$1"
}

start_staging() {
	[ -n "${PKI:-}" ] || setup_pki
	STAGING_STORE=${STAGING_STORE:-$T/store}
	STAGING_PORT=${STAGING_WANT_PORT:-$(free_port)}
	STAGING_LOG=$T/staging.$STAGING_PORT.log
	_LIB_LOGS+=("$STAGING_LOG")
	"$BUILD/livemig-staging" --listen "127.0.0.1:$STAGING_PORT" --store "$STAGING_STORE" \
		--ca "$AGENT_CA" --cert "$SERVER_CERT" --key "$SERVER_KEY" "$@" \
		>"$STAGING_LOG" 2>&1 &
	STAGING_PID=$!
	track_pid "$STAGING_PID"
	if ! wait_for_log "$STAGING_LOG" "listening on" 20; then
		cat "$STAGING_LOG" >&2
		die "livemig-staging did not start"
	fi
}

stop_staging() {
	local rc=0
	kill -TERM "$STAGING_PID" 2>/dev/null
	wait "$STAGING_PID" || rc=$?
	[ "$rc" -eq 0 ] || die "livemig-staging exited with $rc after SIGTERM"
}

kill_staging() {
	kill -KILL "$STAGING_PID" 2>/dev/null
	wait "$STAGING_PID" 2>/dev/null
	return 0
}

# frames MACHINE [frames.py options and command]: connect with MACHINE's
# certificate; the HELLO claims MACHINE unless --machine says otherwise.
frames() {
	local m=$1
	shift
	machine_cert "$m"
	python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" \
		--cert "$PKI/$m.pem" --key "$PKI/$m.key" --machine "$m" "$@"
}
