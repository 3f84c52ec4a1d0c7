# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The console's lifecycle API as an operator drives it (docs/launch.md,
# "Lifecycle"), for the launch and end-to-end tests; sourced after
# tests/integration/lib.sh and console_lib.sh, with M (the machine id) and
# LOGIN (user@account:password) set:
#   lc_get                       the lifecycle view (JSON)
#   lc_do ACTION [MEMBERS]       POST the action (202); prints the job id, or "none"
#   conflict ACTION              the action is refused with 409 conflict
#   job_view ID                  one job (JSON)
#   wait_lc JQ_FILTER BOUND WHAT until the view satisfies the filter; dies after BOUND s
#   show_log ID                  the job's log lines, indented
#   wait_console_point ID        until the console lists point ID of M (staging
#                                reports its points at its sync interval)

lc_get() { api_body "$(api call GET "/api/v1/machines/$M/lifecycle" --basic "$LOGIN")"; }

lc_do() {
	local out
	out=$(api call POST "/api/v1/machines/$M/lifecycle" --basic "$LOGIN" --json "{\"action\": \"$1\"${2:+, $2}}")
	[ "$(api_status "$out")" = 202 ] || die "$1: $out"
	api_body "$out" | jq -r 'if .job then .job.id else "none" end'
}

conflict() {
	local out
	out=$(api call POST "/api/v1/machines/$M/lifecycle" --basic "$LOGIN" --json "{\"action\": \"$1\"}")
	expect_error "$1 in $(lc_get | jq -r .state)" 409 conflict "$out"
}

job_view() { api_body "$(api call GET "/api/v1/machines/$M/jobs/$1" --basic "$LOGIN")"; }

wait_lc() {
	local view end=$((SECONDS + $2))
	while [ "$SECONDS" -le "$end" ]; do
		view=$(lc_get)
		jq -e "$1" <<<"$view" >/dev/null && return 0
		sleep 2
	done
	die "no $3 within $2 s: $(jq -c '{state, instance, jobs: [.jobs[:3][] | {id, kind, state, error, log: [.log[-5:][]?.line]}]}' <<<"$view")"
}

show_log() { job_view "$1" | jq -r '.log[] | "   | " + .line' | sed -n '1,200p'; }

wait_console_point() {
	local known
	for _ in $(seq 600); do # bounded for a hang only
		known=$(api_body "$(api call GET "/api/v1/machines/$M/points" --basic "$LOGIN")" | jq -c '[.points[]?.id]')
		jq -e --argjson p "$1" 'index($p) != null' <<<"$known" >/dev/null && return 0
		sleep 0.2
	done
	die "the console does not list point $1: $known"
}

# The source agent's configuration: machine $M registered under $A, its
# disks sda ($dev, the bios guest) and sdb ($dev2, its data disk), staging
# and the console of this test on loopback.
write_source_config() {
	mkdir -p "$T/src-bios.state"
	cat >"$T/src-bios.conf" <<-CONF
	[agent]
	machine = $M
	state_dir = $T/src-bios.state
	socket = $T/src-bios.sock
	scan_interval = 300ms
	nice = 0
	[staging]
	address = 127.0.0.1:$STAGING_PORT
	ca = $SERVER_CA
	cert = $A/src-bios.pem
	key = $A/src-bios.key
	[console]
	url = https://127.0.0.1:$CONSOLE_PORT
	ca = $SERVER_CA
	machine_id = $M
	secret_file = $A/src-bios.secret
	[disk]
	name = sda
	path = $dev
	[disk]
	name = sdb
	path = $dev2
	CONF
}
