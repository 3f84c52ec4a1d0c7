#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# docs/quickstart.md, followed literally: every code block marked
# `<!-- quickstart:run HOST NAME -->` is extracted from the page and run as
# written (bash -e), in order, in the chroot of HOST: "target" (console and
# staging) or "source" (the agent), two fresh Debian 12 chroots with the
# built .debs in a local repository, both in a network namespace of this
# test's own with only loopback. It ends with the machine registered, in
# CHANGE_COPY, and staging's image equal to the source's disk.
# Between the blocks the test does only what the page's last section says
# (the names, the password on stdin, carrying the token and the CA across,
# the source's loop disk and metadata service, systemd's part).
#   tests/packages/t_quickstart.sh BUILD DEBDIR
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$(dirname "$0")/chroot_lib.sh"
need_root
DEBS=$(cd "${2:?usage: t_quickstart.sh BUILD DEBDIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
DOC=$HERE/../../docs/quickstart.md

TGT=$T/target
SRC=$T/source
NS=livemig-qs-$$
SERVER_NAME=target.quickstart.test
SERVER_IP=127.0.0.1
PASSWORD=quickstart-$RANDOM-$RANDOM
TOKEN=

in_ns() {
	nsenter --net="/run/netns/$NS" "$@"
}

# the daemons the blocks started, through chroot_systemctl.sh's pid files
unit_pids() {
	cat "$TGT"/run/chroot-units/*.pid "$SRC"/run/chroot-units/*.pid 2>/dev/null
}

_qs_cleanup() {
	local pid
	for pid in $(unit_pids); do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $(unit_pids); do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	[ -n "${MD_PID:-}" ] && kill -TERM "$MD_PID" 2>/dev/null
	chroot_umount "$TGT"
	chroot_umount "$SRC"
	ip netns del "$NS" 2>/dev/null
	return 0
}
_qs_rc=0
trap '_qs_rc=$?; _qs_cleanup; (exit $_qs_rc); _lib_cleanup' EXIT

# ---- the blocks of the page ------------------------------------------------
mkdir -p "$T/blocks"
python3 - "$DOC" "$T/blocks" <<'PY' || die "cannot extract the blocks of $DOC"
import re, sys
doc, out = sys.argv[1:]
lines = open(doc).read().split("\n")
n = 0
i = 0
while i < len(lines):
    m = re.fullmatch(r"<!-- quickstart:run (target|source) ([a-z]+) -->", lines[i])
    i += 1
    if not m:
        continue
    if lines[i] != "```sh":
        sys.exit(f"{doc}:{i}: a quickstart:run marker must be followed by a ```sh block")
    j = lines.index("```", i + 1)
    n += 1
    with open(f"{out}/{n:02d}-{m[1]}-{m[2]}.sh", "w") as f:
        f.write("\n".join(lines[i + 1:j]) + "\n")
    i = j + 1
if n == 0:
    sys.exit(f"{doc}: no quickstart:run block")
PY
mapfile -t BLOCKS < <(cd "$T/blocks" && ls)
names=$(printf '%s\n' "${BLOCKS[@]}" | sed 's/^[0-9]*-//; s/\.sh$//' | paste -sd' ')
# the hooks below are keyed by these names: the page and the test agree
[ "$names" = "target-install target-certs target-console target-users target-staging target-token source-agent source-status target-machines" ] ||
	fail "the page's blocks are not the ones this test knows: $names"
pass "${#BLOCKS[@]} blocks extracted from docs/quickstart.md: $names"

# ---- two chroots in a network namespace with loopback only --------------
ip netns add "$NS" || die "ip netns add"
in_ns ip link set lo up || die "lo up"
t0=$(date +%s)
for R in "$TGT" "$SRC"; do
	chroot_unpack "$R" || die "no chroot"
	chroot_mount "$R"
	mkdir -p "$R/srv/repo"
	cp "$DEBS"/livemig-agent_*.deb "$DEBS"/livemig-cbt-dkms_*.deb "$DEBS"/livemig-server_*.deb "$R/srv/repo/"
	(cd "$R/srv/repo" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
	echo "deb [trusted=yes] file:/srv/repo ./" >"$R/etc/apt/sources.list"
	printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$SERVER_NAME" >"$R/etc/hosts"
	install -m 0755 "$HERE/chroot_systemctl.sh" "$R/usr/local/sbin/systemctl"
	in_ns chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get update -q \
		>"$T/apt-update.log" 2>&1 || { cat "$T/apt-update.log"; die "apt-get update"; }
done
pass "target and source chroots unpacked in $(($(date +%s) - t0)) s, in network namespace $NS (loopback only), $SERVER_NAME = 127.0.0.1"

# BLOCK STDIN: run one block as written in its host's chroot; its output is
# shown indented and kept in $T/BLOCK.out (stdout) and $T/BLOCK.log (both)
run_block() {
	local b=$1 stdin=$2 host R rc=0
	host=$(sed 's/^[0-9]*-//; s/-.*//' <<<"$b")
	R=$TGT
	[ "$host" = source ] && R=$SRC
	cp "$T/blocks/$b" "$R/root/quickstart-block.sh"
	echo "---- $b:"
	sed 's/^/    $ /' "$T/blocks/$b"
	in_ns chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 SERVER_NAME="$SERVER_NAME" SERVER_IP="$SERVER_IP" TOKEN="$TOKEN" \
		bash -euo pipefail /root/quickstart-block.sh <"$stdin" >"$T/$b.out" 2>"$T/$b.err" || rc=$?
	cat "$T/$b.out" "$T/$b.err" >"$T/$b.log"
	sed 's/^/    | /' "$T/$b.log"
	[ "$rc" = 0 ] || fail "block $b of docs/quickstart.md failed: exit $rc"
	rm -f "$R/root/quickstart-block.sh"
}

in_chroot_ns() { # HOSTDIR CMD...
	local R=$1
	shift
	in_ns chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 "$@"
}

console_admin() {
	in_chroot_ns "$TGT" runuser -u livemig-console -- livemig-console admin \
		--db /var/lib/livemig-console/console.db "$@"
}

# ---- the hooks: what the page's last section says the test does --------
hook_target_certs() {
	local f uid
	for f in console staging; do
		# the chroot's user ids, not the host's names
		uid=$(in_chroot_ns "$TGT" id -u "livemig-$f") || fail "no user livemig-$f"
		[ "$(stat -c '%a %u' "$TGT/etc/livemig/$f.key")" = "600 $uid" ] ||
			fail "$f.key: mode and owner $(stat -c '%a %u' "$TGT/etc/livemig/$f.key"), not 600 $uid"
		openssl verify -CAfile "$TGT/etc/livemig/$f-ca.pem" -purpose sslserver \
			-verify_hostname "$SERVER_NAME" "$TGT/etc/livemig/$f.pem" >/dev/null ||
			fail "$f.pem does not verify for $SERVER_NAME against $f-ca.pem"
	done
	pass "server-cert: console.key and staging.key 0600 owned by their service's user; both certificates verify for $SERVER_NAME against the server CA"
}

hook_target_users() {
	local out
	# the page: the console answers with the server certificate the agents trust
	for _ in $(seq 600); do # bounded for a hang only
		out=$(in_ns curl -sS --cacert "$TGT/etc/livemig/console-ca.pem" -o /dev/null -w '%{http_code}' \
			"https://$SERVER_NAME:8443/" --resolve "$SERVER_NAME:8443:127.0.0.1" 2>&1) && break
		sleep 0.1
	done
	[ "$out" = 200 ] || fail "the page at https://$SERVER_NAME:8443/: $out; console log: $(cat "$TGT/var/log/chroot-units/livemig-console.log")"
	out=$(in_ns curl -sS --cacert "$TGT/etc/livemig/console-ca.pem" -u "alice@acme:$PASSWORD" \
		-w '\n%{http_code}' "https://$SERVER_NAME:8443/api/v1/machines" \
		--resolve "$SERVER_NAME:8443:127.0.0.1" 2>&1)
	[ "$(sed -n '$p' <<<"$out")" = 200 ] || fail "alice@acme cannot read the API: $out"
	pass "the page answers 200 at https://$SERVER_NAME:8443/ (verified against console-ca.pem); alice@acme signs in to the API"
}

hook_target_token() {
	TOKEN=$(sed -n '$p' "$T/$b.out")
	[ -n "$TOKEN" ] || fail "create-token printed no token"
	# the page's `scp`: the console's CA to the source host
	mkdir -p "$SRC/etc/livemig"
	install -m 0644 "$TGT/etc/livemig/console-ca.pem" "$SRC/etc/livemig/console-ca.pem"
	pass "token taken from create-token's output; console-ca.pem copied to the source"
}

before_source_agent() {
	local id checks
	# the source's disk: a loop device with known contents
	python3 "$HERE/../integration/make_disk.py" "$T/source.img" 64M --seed 7 >/dev/null || die "make_disk"
	DEV=$(make_loop "$T/source.img")
	DISK=$(basename "$DEV")
	# a metadata service on the namespace's loopback: the identity
	# not through in_ns: a function in the background is a subshell, and
	# its pid is not the server's (the server outlived the test)
	nsenter --net="/run/netns/$NS" python3 "$HERE/../integration/metadata_server.py" --mode normal \
		--instance-id i-0quickstart00001 --log "$T/md.log" >"$T/md.out" 2>&1 &
	MD_PID=$!
	track_pid "$MD_PID"
	wait_for_log "$T/md.out" "^listening on" 20 || die "metadata server did not start"
	# what the chroot fails (no boot loader...): waived
	# (exit 1 when a check fails: the JSON is what counts)
	checks=$("$BUILD/livemig" check --root "$SRC" --json) || true
	checks=$(python3 -c 'import json, sys
print(",".join(c["id"] for c in json.loads(sys.argv[1])["checks"] if c["verdict"] == "fail"))' "$checks") ||
		die "livemig check --root $SRC --json: $checks"
	mkdir -p "$SRC/etc/livemig/install.conf.d"
	cat >"$SRC/etc/livemig/install.conf.d/90-quickstart-test.conf" <<EOF
# t_quickstart.sh: what a chroot lacks (docs/quickstart.md, last section)
devices = $DISK
root_disk = $DISK
metadata_url = http://127.0.0.1:$(sed -n 's/^listening on //p' "$T/md.out")
waive = $checks
EOF
	id=$(sed -n 's/^metadata_url = //p' "$SRC/etc/livemig/install.conf.d/90-quickstart-test.conf")
	pass "source: disk $DEV (64 MiB), metadata service $id, waived: ${checks:-none}"
}

hook_source_agent() {
	grep -q 'livemig-setup: registered' "$T/$b.log" || fail "the package did not register the machine"
	[ ! -e "$SRC/etc/livemig/token" ] || fail "the token is still on the source"
	! grep -qF "$TOKEN" "$T/$b.log" || fail "the token is in the install's output"
	MACHINE=$(sed -n 's/^machine = //p' "$SRC/etc/livemig/livemigd.conf")
	[ -n "$MACHINE" ] || fail "no machine in livemigd.conf"
	# systemd's part: the package asked for livemigd.service (policy-rc.d
	# said no in a chroot); start it as systemd would
	in_chroot_ns "$SRC" systemctl start livemigd || fail "starting livemigd.service"
	# Type=notify: systemctl start returns once livemigd said READY, its
	# control socket bound; the stand-in does not wait, so the test does
	for _ in $(seq 600); do # bounded for a hang only
		[ -S "$SRC/run/livemig/livemigd.sock" ] && break
		sleep 0.1
	done
	[ -S "$SRC/run/livemig/livemigd.sock" ] ||
		fail "livemigd did not open its socket: $(cat "$SRC/var/log/chroot-units/livemigd.log")"
	pass "registered as machine $MACHINE, the token gone; livemigd.service started"
}

hook_source_status() {
	local state
	for _ in $(seq 3000); do # bounded for a hang only: 10 min
		state=$(in_chroot_ns "$SRC" livemig status --json 2>/dev/null | python3 -c 'import json, sys
print(json.load(sys.stdin)["state"])' 2>/dev/null) || true
		[ "$state" = CHANGE_COPY ] && break
		sleep 0.2
	done
	[ "$state" = CHANGE_COPY ] || fail "livemigd did not reach CHANGE_COPY: $(in_chroot_ns "$SRC" livemig status 2>&1; cat "$SRC/var/log/chroot-units/livemigd.log")"
	IMG=$TGT/var/lib/livemig-staging/store/$MACHINE/disk-$DISK.img
	for _ in $(seq 600); do # the last writes may still be on their way
		cmp -s "$DEV" "$IMG" && break
		sleep 0.2
	done
	cmp -s "$DEV" "$IMG" || fail "staging's $IMG differs from $DEV: $(cmp "$DEV" "$IMG" 2>&1)"
	pass "CHANGE_COPY: the initial mirror is on staging, $IMG equals $DEV (sha256 $(file_sha "$IMG"))"
	for _ in $(seq 600); do # heartbeats every 10 s by default
		grep -q '"CHANGE_COPY"' <<<"$(console_admin list-machines acme --json 2>/dev/null)" && break
		sleep 0.2
	done
}

hook_target_machines() {
	grep -q "$MACHINE" "$T/$b.out" || fail "list-machines does not show $MACHINE"
	grep -q CHANGE_COPY "$T/$b.out" || fail "list-machines does not show CHANGE_COPY"
	out=$(console_admin list-staging --json) || fail "list-staging"
	python3 -c 'import json, sys
s = json.loads(sys.argv[1])
s = s.get("servers", s) if isinstance(s, dict) else s
assert any(x.get("name") == "main" and x.get("last_sync") for x in s), s' "$out" ||
		fail "staging 'main' has not synced with the console: $out"
	pass "the console lists $MACHINE in CHANGE_COPY; staging 'main' syncs with the console"
}

# ---- follow the page -----------------------------------------------------
printf '%s\n' "$PASSWORD" >"$T/password"
t0=$(date +%s)
for b in "${BLOCKS[@]}"; do
	name=$(sed 's/^[0-9]*-//; s/\.sh$//; s/-/_/' <<<"$b")
	if declare -F "before_$name" >/dev/null; then "before_$name"; fi
	stdin=/dev/null
	[ "$name" = target_users ] && stdin=$T/password
	run_block "$b" "$stdin"
	if declare -F "hook_$name" >/dev/null; then "hook_$name"; fi
done
pass "docs/quickstart.md followed in $(($(date +%s) - t0)) s: from two empty hosts to a replicating machine"
