# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the console tests, sourced after lib.sh:
#   start_console [ARGS...]   an agent CA made by `admin init-ca`, the test
#                             server certificate, database $CONSOLE_DB
#                             (default $T/console.db); waits for "listening
#                             on"; sets CONSOLE_PID, CONSOLE_PORT, CONSOLE_LOG,
#                             CONSOLE_CA (agent CA dir)
#   stop_console              SIGTERM; fail unless it exits 0
#   admin ARGS...             livemig-console admin --db $CONSOLE_DB ARGS
#   db_query SQL              run SQL on the console's database (sqlite3 or
#                             psql), rows printed with | between columns
#   db_dump                   everything the database holds, as text (the
#                             SQLite file and its WAL, or pg_dump)
#   db_is_pg                  whether the database is PostgreSQL
#   api ARGS...               console_client.py against the running console
#   api_status / api_body     split the output of `api` (status line, body)
#   json_get JSON EXPR        evaluate a Python expression on the parsed JSON `d`
#   expect_error WHAT STATUS CODE OUTPUT
#                             the answer has this status and error code

# With LIVEMIG_TEST_PG (a server of tests/with_postgresql.sh), the console's
# database is a fresh PostgreSQL database on that server, not a file.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ -z "${CONSOLE_DB:-}" ] && [ -n "${LIVEMIG_TEST_PG:-}" ]; then
	_console_pg_db=t$$_$RANDOM
	"$PG_BIN/psql" "$LIVEMIG_TEST_PG/postgres" -XAtq -v ON_ERROR_STOP=1 \
		-c "CREATE DATABASE $_console_pg_db" >/dev/null ||
		die "cannot create database $_console_pg_db on $LIVEMIG_TEST_PG"
	CONSOLE_DB=$LIVEMIG_TEST_PG/$_console_pg_db
fi
CONSOLE_DB=${CONSOLE_DB:-$T/console.db}
CONSOLE_CA=$T/agent-ca

admin() {
	"$BUILD/livemig-console" admin --db "$CONSOLE_DB" "$@"
}

db_is_pg() {
	[[ $CONSOLE_DB == postgresql://* || $CONSOLE_DB == postgres://* ]]
}

db_query() {
	if db_is_pg; then
		"$PG_BIN/psql" "$CONSOLE_DB" -XAtq -v ON_ERROR_STOP=1 -c "$1"
	else
		sqlite3 -cmd '.timeout 30000' "$CONSOLE_DB" "$1"
	fi
}

db_dump() {
	if db_is_pg; then
		"$PG_BIN/pg_dump" "$CONSOLE_DB"
	else
		cat "$CONSOLE_DB"*
	fi
}

start_console() {
	[ -n "${PKI:-}" ] || setup_pki
	[ -f "$CONSOLE_CA/ca.pem" ] || "$BUILD/livemig-console" admin init-ca "$CONSOLE_CA" >/dev/null ||
		die "admin init-ca failed"
	CONSOLE_LOG=$T/console.$$.$RANDOM.log
	_LIB_LOGS+=("$CONSOLE_LOG")
	"$BUILD/livemig-console" serve --listen 127.0.0.1:0 --db "$CONSOLE_DB" \
		--tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY" \
		--agent-ca-cert "$CONSOLE_CA/ca.pem" --agent-ca-key "$CONSOLE_CA/ca.key" \
		--staging 127.0.0.1:7450 --staging-ca "$SERVER_CA" "$@" >"$CONSOLE_LOG" 2>&1 &
	CONSOLE_PID=$!
	track_pid "$CONSOLE_PID"
	if ! wait_for_log "$CONSOLE_LOG" "listening on" 20; then
		cat "$CONSOLE_LOG" >&2
		die "livemig-console did not start"
	fi
	CONSOLE_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$CONSOLE_LOG" | sed -n 1p | sed 's/.*://')
}

stop_console() {
	local rc=0
	kill -TERM "$CONSOLE_PID" 2>/dev/null
	wait "$CONSOLE_PID" || rc=$?
	[ "$rc" -eq 0 ] || die "livemig-console exited with $rc after SIGTERM"
}

api() {
	local rc=1
	if [ "${1:-}" = call ]; then
		api_curl "${@:2}" && return 0 || rc=$?
		[ "$rc" = 1 ] || return 1 # the request failed, as python's would
	fi
	python3 "$TESTS/console_client.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" "$@"
}

# `api call METHOD PATH [--json BODY|@FILE] [--basic USER@ACCOUNT:PASSWORD]
# [--bearer TOKEN]` by curl, which starts in milliseconds where python
# takes seconds on a busy machine (tests make hundreds of calls). The same
# request and output as console_client.py's call: the status line, then the
# body. Returns 1 without output for what it does not handle (other
# options, a path curl would not send as written), and the caller falls
# back to console_client.py; a failed connection fails as python's does.
api_curl() {
	local method=${1:-} path=${2:-} body= have_body=0 auth= f status rc=0
	shift 2 || return 1
	local plain='^/[A-Za-z0-9/_.%?=&:@,+~-]*$'
	[[ $path =~ $plain ]] || return 1
	while [ $# -gt 0 ]; do
		case $1 in
		--json) body=$2; have_body=1 ;;
		--basic) auth="Basic $(printf %s "$2" | base64 -w 0)" ;;
		--bearer) auth="Bearer $2" ;;
		*) return 1 ;;
		esac
		shift 2 || return 1
	done
	local args=(-sS --path-as-is --max-time 60 --cacert "$SERVER_CA" -X "$method" -H 'Expect:')
	[ -z "$auth" ] || args+=(-H "Authorization: $auth")
	f=$(mktemp "$T/api.XXXXXX")
	if [ "$have_body" = 1 ]; then
		args+=(-H 'Content-Type: application/json')
		if [ "${body:0:1}" = @ ]; then
			args+=(--data-binary "$body")
		else
			printf %s "$body" >"$f.in"
			args+=(--data-binary "@$f.in")
		fi
	fi
	status=$(curl "${args[@]}" -o "$f" -w '%{http_code}' "https://127.0.0.1:$CONSOLE_PORT$path") || rc=$?
	if [ "$rc" != 0 ]; then
		rm -f "$f" "$f.in"
		echo "api call $method $path: curl failed (exit $rc)" >&2
		return 2
	fi
	echo "$status"
	cat "$f"
	rm -f "$f" "$f.in"
}

api_status() {
	head -n 1 <<<"$1"
}

api_body() {
	tail -n +2 <<<"$1"
}

json_get() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_error WHAT STATUS CODE OUTPUT: the answer has this HTTP status and
# this "code" member.
expect_error() {
	local what=$1 status=$2 code=$3 out=$4 got
	# jq, not json_get: a python start costs seconds on a busy machine, and
	# some tests make dozens of these checks
	got="$(api_status "$out") $(jq -r '.code' <<<"$(api_body "$out")" 2>/dev/null)"
	[ "$got" = "$status $code" ] || fail "$what: expected $status $code, got: $out"
	pass "$what: $status $code: $(jq -r '.error' <<<"$(api_body "$out")")"
}
