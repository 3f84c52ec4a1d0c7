#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_install_servers takes the console's options, not the script's arguments
# The console's web page in a real browser: Debian's chromium driven by
# playwright-core (tests/web/package.json; never a downloaded browser),
# against a real livemig-console (HTTPS with the test PKI's certificate,
# which chromium accepts by its key alone), a real livemig-staging and a
# real livemigd installed by `livemig install` and replicating a loop
# device. The browser part is tests/web/console.test.mjs; this script sets
# the stage and hands it the paths. Screenshots go to BUILD/web-artifacts.
# tests/web/audit.test.mjs (a machine's audit log) runs first, and alone
# with WEB_ONLY=audit; tests/web/fleet.test.mjs (200 machines) last.
# Usage: tests/web/run.sh BUILD_DIR
# shellcheck source-path=SCRIPTDIR/../integration
. "$(dirname "$0")/../integration/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR/../integration
. "$TESTS/agent_lib.sh"
# shellcheck source-path=SCRIPTDIR/../integration
. "$TESTS/console_lib.sh"
# shellcheck source-path=SCRIPTDIR/../integration
. "$TESTS/install_lib.sh"
need_root
WEB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=$BUILD/web-artifacts

[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing: apt-get install chromium (ci/deps.sh test installs it)"
command -v node >/dev/null || die "node is missing: apt-get install nodejs npm (ci/deps.sh test installs them)"
if [ ! -f "$WEB/node_modules/playwright-core/package.json" ]; then
	command -v npm >/dev/null || die "npm is missing: apt-get install npm"
	echo "installing playwright-core from tests/web/package-lock.json into $WEB/node_modules"
	(cd "$WEB" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
		die "npm ci in $WEB failed"
fi
mkdir -p "$ARTIFACTS"

# a timeout no busy machine reaches between two heartbeats: the page must never
# show this live machine DISCONNECTED
# --console-ca: the certificate the token page offers and its commands write
# (the test CA setup_pki makes, in start_install_servers: SERVER_CA then)
start_install_servers --heartbeat-interval 1s --heartbeat-timeout 60s --console-ca "$T/pki/server-ca/ca.pem"
admin create-account acme --licenses 3 >/dev/null || die "create-account acme"
printf '%s\n' 'alice-web-password' >"$T/alice.pw"
admin create-user acme alice --password-file "$T/alice.pw" >/dev/null || die "create-user alice"
admin create-account globex --licenses 1 >/dev/null || die "create-account globex"
printf '%s\n' 'bob-web-password' >"$T/bob.pw"
admin create-user globex bob --password-file "$T/bob.pw" >/dev/null || die "create-user bob"
admin create-account fleet --licenses 250 >/dev/null || die "create-account fleet"
printf '%s\n' 'carol-web-password' >"$T/carol.pw"
admin create-user fleet carol --password-file "$T/carol.pw" >/dev/null || die "create-user carol"

# chromium trusts the console's certificate by its public key (the test
# CA is not in any trust store, and none is changed)
SPKI=$(openssl x509 -in "$SERVER_CERT" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)

# A machine's audit log on its page (tests/web/audit.test.mjs), in an
# account of its own: a machine registered through the API with a token,
# then the page's Pause and Resume. WEB_ONLY=audit stops after it.
admin create-account initech --licenses 1 >/dev/null || die "create-account initech"
printf '%s\n' 'dana-web-password' >"$T/dana.pw"
admin create-user initech dana --role operator --password-file "$T/dana.pw" >/dev/null || die "create-user dana"
printf '%s\n' 'val-web-password' >"$T/val.pw"
admin create-user initech val --role viewer --password-file "$T/val.pw" >/dev/null || die "create-user val"
audit_token=$(admin create-token initech --label audit 2>/dev/null) || die "create-token initech"
mkdir -p "$T/agents"
out=$(api register --dir "$T/agents" --machine audit-m3 --token "$audit_token")
[ "$(api_status "$out")" = 201 ] || die "register audit-m3: $out"
CONSOLE_URL=$CONSOLE_URL SPKI=$SPKI CHROMIUM=$CHROMIUM ARTIFACTS=$ARTIFACTS SERVER_CA=$SERVER_CA \
	MACHINE3=$(cat "$T/agents/audit-m3.id") MACHINE3_SECRET_FILE=$T/agents/audit-m3.secret \
	timeout --kill-after=10 600 node "$WEB/audit.test.mjs" || die "the audit log's browser test failed; screenshots in $ARTIFACTS"
if [ "${WEB_ONLY:-}" = audit ]; then
	pass "WEB_ONLY=audit: the audit log's page only"
	exit 0
fi

python3 "$TESTS/make_disk.py" "$T/source.img" 48M --zeros 0 --files 0 --random 1 --seed 51 >/dev/null
dev=$(make_loop "$T/source.img")
disk=$(basename "$dev")

# registered by the real installer; replication is started by the browser
# test once it watches the page
install --no-prompt --user alice --account acme --password-file "$T/alice.pw" \
	--devices "$disk" --root-disk "$disk" --no-replication
[ "$INSTALL_RC" = 0 ] || die "install failed ($INSTALL_RC): $INSTALL_OUT"
# 48 MiB at 4 MiB/s: a mirror of about 12 s, long enough to watch it move
sed -i '/^\[agent\]/a bandwidth_limit = 4M' "$IDIR/livemigd.conf"
machine=$(sed -n 's/^machine = //p' "$IDIR/livemigd.conf")
pass "machine $machine installed with --no-replication (account acme)"

# `livemig install` with a token, for the revoked-token check: its own
# directories, so it cannot disturb the machine installed above
cat >"$T/try_install.sh" <<-SH
	#!/bin/bash
	exec timeout 120 "$BUILD/livemig" install --console "$CONSOLE_URL" --console-ca "$SERVER_CA" \\
		--config-dir "$T/etc2" --state-dir "$T/state2" --socket "$T/run2/livemigd.sock" \\
		--metadata-url "$MD_URL" $(printf '%q ' "${WAIVE[@]}") --no-prompt \\
		--devices "$disk" --root-disk "$disk" --token "\$1" </dev/null 2>&1
SH

# the points check reports a recovery point as a staging server would
admin add-staging web-st >"$T/web-st.secret" 2>/dev/null || die "add-staging web-st"

# The Launch section (docs/launch.md, "Lifecycle"). The real staging server
# now syncs with the console: it reports the machine's points and takes the
# lifecycle's jobs, and having no launcher it fails a test launch visibly.
admin add-staging st1 >"$T/st1.secret" 2>/dev/null || die "add-staging st1"
chmod 600 "$T/st1.secret"
stop_staging
AGENT_CA=$CONSOLE_CA/ca.pem restart_staging --console "$CONSOLE_URL" --console-ca "$SERVER_CA" --console-credential "$T/st1.secret" \
	--console-interval 1s
wait_for_log "$STAGING_LOG" "enforcing its certificate list" 60 || die "staging never synced with the console"
# a viewer of account acme, who sees the lifecycle and no button to change it
printf '%s\n' 'vic-web-password' >"$T/vic.pw"
admin create-user acme vic --role viewer --password-file "$T/vic.pw" >/dev/null || die "create-user vic"
# A second machine registered through the API (no agent) walks the whole
# lifecycle on the page: its launches come up on the stand-in, which speaks
# staging's sync protocol and ends launch and destroy jobs as a staging
# server with a launcher does (tests/integration/staging_launcher_standin.py),
# from the points the browser test writes to its points file.
admin add-staging standin >"$T/standin.secret" 2>/dev/null || die "add-staging standin"
chmod 600 "$T/standin.secret"
token=$(admin create-token acme 2>/dev/null) || die "create-token acme"
mkdir -p "$T/agents"
out=$(api register --dir "$T/agents" --machine launch-m2 --token "$token")
[ "$(api_status "$out")" = 201 ] || die "register launch-m2: $out"
machine2=$(cat "$T/agents/launch-m2.id")
echo '[]' >"$T/standin.points"
: >"$T/standin.jobs"
python3 "$TESTS/staging_launcher_standin.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" \
	--secret "$T/standin.secret" --machine "$machine2" --points "$T/standin.points" \
	--jobs-log "$T/standin.jobs" --hold "$T/standin.hold" >"$T/standin.log" 2>&1 &
track_pid $!
_LIB_LOGS+=("$T/standin.log")
pass "staging st1 syncs with the console; machine $machine2 registered, its stand-in staging started"

rc=0
CONSOLE_URL=$CONSOLE_URL SPKI=$SPKI CHROMIUM=$CHROMIUM MACHINE=$machine LIVEMIG=$BUILD/livemig \
	IDIR=$IDIR ISOCK=$ISOCK TRY_INSTALL=$T/try_install.sh ARTIFACTS=$ARTIFACTS \
	SERVER_CA=$SERVER_CA STAGING_SECRET_FILE=$T/web-st.secret \
	MACHINE2=$machine2 MACHINE2_SECRET_FILE=$T/agents/launch-m2.secret STANDIN_POINTS=$T/standin.points STANDIN_HOLD=$T/standin.hold \
	timeout --kill-after=10 900 node "$WEB/console.test.mjs" || rc=$?
[ -f "$ISTATE/livemigd.pid" ] && track_pid "$(installed_pid)"
[ "$rc" = 0 ] || die "the browser test failed (exit $rc); screenshots in $ARTIFACTS"
grep -q "the console asks to pause replication (requested by alice@acme)" "$ISTATE/livemigd.log" ||
	die "livemigd did not log the console's pause request"
pass "livemigd logged the console's pause request"

# the page at fleet size: 200 machines of account fleet registered and
# reporting through the real API (tests/web/seed_fleet.py), then
# tests/web/fleet.test.mjs
fleet_token=$(admin create-token fleet 2>/dev/null) || die "create-token fleet"
# Two staging servers the console may place machines on
# (docs/staging-placement.md): their syncs are made here through the real
# API, advertising an address and free space, and repeated while the fleet
# registers (a server that has not synced for 120 s gets no machine); the
# fleet is placed 100/100, then fleet-a is drained: the page shows every
# machine on fleet-b and 100 of them moving from fleet-a.
fleet_sync() { # NAME: one sync of staging server NAME
	curl -sS --max-time 60 --cacert "$SERVER_CA" -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer $(cat "$T/$1.secret")" -H 'Content-Type: application/json' \
		--data-binary "{\"version\": \"0.1.0\", \"advertise\": \"$1.example:7450\", \"machines\": [],
			\"store\": {\"free_bytes\": 1000000000000, \"total_bytes\": 2000000000000}}" \
		"$CONSOLE_URL/api/v1/staging/sync"
}
for s in fleet-a fleet-b; do
	admin add-staging "$s" >"$T/$s.secret" 2>/dev/null || die "add-staging $s"
	[ "$(fleet_sync "$s")" = 200 ] || die "the first sync of $s was refused"
done
(while sleep 5; do fleet_sync fleet-a && fleet_sync fleet-b; done) >/dev/null 2>&1 &
fleet_syncs=$!
track_pid "$fleet_syncs"
t0=$(date +%s)
python3 "$WEB/seed_fleet.py" --port "$CONSOLE_PORT" --ca "$SERVER_CA" --token "$fleet_token" \
	--count 200 --dir "$T/fleet" --out "$T/fleet.json" || die "seeding the fleet failed"
pass "200 machines registered and reporting through the API in $(($(date +%s) - t0)) s"
kill "$fleet_syncs"
placed=$(admin list-staging --json) || die "list-staging"
split=$(json_get "$placed" "sorted((s['name'], s['placed']) for s in d if s['name'].startswith('fleet-'))")
[ "$split" = "[('fleet-a', 100), ('fleet-b', 100)]" ] || die "the fleet is not placed 100/100: $placed"
out=$(admin drain-staging fleet-a) || die "drain-staging fleet-a: $out"
pass "the fleet placed 100/100 on fleet-a and fleet-b; $out"
CONSOLE_URL=$CONSOLE_URL SPKI=$SPKI CHROMIUM=$CHROMIUM ARTIFACTS=$ARTIFACTS SERVER_CA=$SERVER_CA \
	FLEET_FILE=$T/fleet.json timeout --kill-after=10 600 node "$WEB/fleet.test.mjs" ||
	die "the fleet browser test failed; screenshots in $ARTIFACTS"
ls "$ARTIFACTS"
