# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the install tests, sourced after lib.sh, agent_lib.sh and
# console_lib.sh:
#   start_install_servers       the console, then staging trusting the console's
#                               agent CA (the CA that signs machine certificates);
#                               the console hands out staging's real address
#   install ARGS...             `livemig install` with the test's console, CA,
#                               directories and waivers; sets INSTALL_RC and
#                               INSTALL_OUT (stdout and stderr together)
#   expect_install STATUS WHAT ARGS...
#                               install must exit STATUS; prints its message
#   uninstall ARGS...           `livemig uninstall` with the test's directories
#   installed_pid               livemigd's pid from the pid file
#   machines_in_use ACCOUNT     licenses in use, as `admin list-machines` says
#   nothing_installed WHAT      no configuration left and the console holds no
#                               machine for the account
#   show                        stdin, indented, for the test's log
#   IDIR, ISTATE, ISOCK         the configuration and state directories, socket
#   WAIVE                       --waive for every check this machine fails
#                               (the test VM has no GRUB, headers or dhclient)
#   MD_URL                      a metadata URL on a closed port: identity = MAC
#
# livemigd runs detached with its output in the state directory, which
# uninstall deletes: sanitizer reports of every program therefore go to
# $T/sanitizer.PID files, which join lib.sh's scan at exit.

IDIR=$T/etc-livemig
ISTATE=$T/var-lib-livemig
ISOCK=$T/run/livemigd.sock
MD_URL=http://127.0.0.1:$(free_port)
WAIVE=()
while read -r id; do
	WAIVE+=(--waive "$id")
done < <("$BUILD/livemig" check --json | python3 -c 'import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["verdict"] == "fail":
        print(c["id"])')

export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T/sanitizer"
export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$T/sanitizer"
_install_collect_reports() {
	local f
	for f in "$T"/sanitizer.*; do
		[ -e "$f" ] && _LIB_LOGS+=("$f")
	done
}
# lib.sh's cleanup reads the exit status first: hand it on unchanged
_install_rc=0
trap '_install_rc=$?; _install_collect_reports; (exit $_install_rc); _lib_cleanup' EXIT

start_install_servers() {
	setup_pki
	[ -f "$CONSOLE_CA/ca.pem" ] || "$BUILD/livemig-console" admin init-ca "$CONSOLE_CA" >/dev/null ||
		die "admin init-ca failed"
	AGENT_CA=$CONSOLE_CA/ca.pem start_staging
	start_console --staging "127.0.0.1:$STAGING_PORT" "$@"
	CONSOLE_URL=https://127.0.0.1:$CONSOLE_PORT
}

install() {
	INSTALL_RC=0
	INSTALL_OUT=$(timeout 120 "$BUILD/livemig" install --console "$CONSOLE_URL" --console-ca "$SERVER_CA" \
		--config-dir "$IDIR" --state-dir "$ISTATE" --socket "$ISOCK" --metadata-url "$MD_URL" \
		"${WAIVE[@]}" "$@" </dev/null 2>&1) || INSTALL_RC=$?
}

expect_install() {
	local status=$1 what=$2
	shift 2
	install "$@"
	[ "$INSTALL_RC" = "$status" ] || fail "$what: expected exit $status, got $INSTALL_RC: $INSTALL_OUT"
	pass "$what: exit $status: $(tail -n 1 <<<"$INSTALL_OUT")"
}

show() {
	sed 's/^/    | /'
}

uninstall() {
	"$BUILD/livemig" uninstall --config-dir "$IDIR" "$@"
}

installed_pid() {
	cat "$ISTATE/livemigd.pid"
}

machines_in_use() {
	admin list-machines "$1" --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["licenses"]["in_use"])'
}

nothing_installed() {
	[ ! -e "$IDIR/livemigd.conf" ] || fail "$1: $IDIR/livemigd.conf was written"
	[ ! -e "$IDIR/agent.key" ] || fail "$1: $IDIR/agent.key was written"
	[ -z "$(admin list-machines "${2:-acme}" --json | python3 -c 'import json, sys
print(" ".join(m["machine_id"] for m in json.load(sys.stdin)["machines"]))')" ] ||
		fail "$1: the console holds a machine: $(admin list-machines "${2:-acme}")"
}
