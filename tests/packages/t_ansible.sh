#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible role and playbook of docs/ansible/, run with Debian's ansible
# against a fresh Debian 12 chroot through community.general.chroot (the
# connection Debian's ansible package ships): the local apt repository of
# the new .debs, the token written to /etc/livemig/token (no_log), the
# packages, the service enabled. First without the waivers the chroot
# needs: the package fails well (configured, not registered); with
# livemig_require_registration: false the play reports the kept reason and
# succeeds, by default it fails the host with that reason. Then with the
# waivers (and the module's package, which apt then installs) the role
# registers the installed agent (livemig-setup register) with a real
# console on 127.0.0.1; a second run reports changed=0. The service's
# state is left alone (livemig_service_state: ""): systemd does not run in
# a chroot. A third run with livemig_no_replication: true and
# livemig_service_state: started disables the service and does not start it.
#   tests/packages/t_ansible.sh BUILD OUTDIR   (.debs in OUTDIR/deb)
. "$(cd "$(dirname "$0")/../integration" && pwd)/lib.sh" "$1"
. "$TESTS/console_lib.sh"
. "$(dirname "$0")/chroot_lib.sh"
need_root
OUT=$(cd "${2:?usage: t_ansible.sh BUILD OUTDIR}" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)

R=$T/root
chroot_unpack "$R" || die "no chroot"
chroot_mount "$R"
_pkg_rc=0
trap '_pkg_rc=$?; chroot_umount "$R"; (exit $_pkg_rc); _lib_cleanup' EXIT
mkdir -p "$R/srv/repo"
cp "$OUT"/deb/livemig-agent_*.deb "$OUT"/deb/livemig-cbt-dkms_*.deb "$R/srv/repo/"
(cd "$R/srv/repo" && apt-ftparchive packages . >Packages) || die "apt-ftparchive"
# only the role's repository: nothing is fetched from the network
: >"$R/etc/apt/sources.list"

setup_pki
start_console
admin create-account acme --licenses 2 >/dev/null || die "create-account"
TOKEN=$(admin create-token acme --max-uses 5 2>/dev/null) || die "create-token"
cp "$SERVER_CA" "$T/console-ca.pem"
in_use() {
	admin list-machines acme --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["licenses"]["in_use"])'
}
WAIVE=$("$BUILD/livemig" check --root "$R" --json | python3 -c 'import json, sys
print(json.dumps([c["id"] for c in json.load(sys.stdin)["checks"] if c["verdict"] == "fail"]))')

cat >"$T/inventory" <<INV
[livemig_agents]
target ansible_connection=community.general.chroot ansible_host=$R ansible_python_interpreter=/usr/bin/python3 ansible_become=false
INV
python3 - "$T/vars.json" <<PY
import json, sys
json.dump({
    "livemig_apt_source": "deb [trusted=yes] file:/srv/repo ./",
    "livemig_console_url": "https://127.0.0.1:$CONSOLE_PORT",
    "livemig_console_ca_src": "$T/console-ca.pem",
    "livemig_token": "$TOKEN",
    "livemig_waive": json.loads('$WAIVE'),
    "livemig_settings": {"metadata_url": "http://127.0.0.1:$(free_port)"},
    "livemig_service_state": "",
}, open(sys.argv[1], "w"))
PY
play() {
	ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCAL_TEMP=$T/ansible-local \
		ANSIBLE_REMOTE_TEMP=/tmp/.ansible ansible-playbook -i "$T/inventory" -e "@$T/vars.json" \
		"$REPO/docs/ansible/site.yml" >"$1" 2>&1
}

vars() { # KEY=JSON...: change the variables of the next run
	python3 - "$T/vars.json" "$@" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for kv in sys.argv[2:]:
    k, _, val = kv.partition("=")
    v[k] = json.loads(val)
json.dump(v, open(sys.argv[1], "w"))
PY
}
dpkg_status() { chroot "$R" dpkg-query -W -f='${Status}' livemig-agent; }

# ---- the failing checks not waived: the package fails well ----
# the agent alone (no DKMS build) while its registration fails
vars 'livemig_waive=[]' 'livemig_require_registration=false' 'livemig_packages=["livemig-agent"]'
t0=$(date +%s)
play "$T/run0.log" || { cat "$T/run0.log"; fail "ansible-playbook (not required) failed"; }
reason=$(grep -o 'livemig: not registered: a prerequisite check fails: [^.]*' "$T/run0.log" | sed -n 1p)
[ -n "$reason" ] || { cat "$T/run0.log"; fail "the play did not report the kept reason"; }
[ "$(dpkg_status)" = "install ok installed" ] || fail "not registered: dpkg status $(dpkg_status)"
[ "$(in_use)" = 0 ] || fail "a failed registration took a license"
pass "failing checks, livemig_require_registration: false: the play succeeds in $(($(date +%s) - t0)) s, reports '$reason'; livemig-agent install ok installed"
vars 'livemig_require_registration=true'
RC=0
play "$T/run0b.log" || RC=$?
[ "$RC" != 0 ] || { cat "$T/run0b.log"; fail "the play succeeded on an unregistered machine"; }
grep -q 'TASK \[livemig_agent : Register (the package is installed' "$T/run0b.log" ||
	fail "the role did not try to register the installed package again"
grep -q '"msg": "livemig: not registered: a prerequisite check fails: .*waive = ID' "$T/run0b.log" ||
	{ cat "$T/run0b.log"; fail "the play did not fail with the kept reason and the remedy"; }
grep -qE '^target +:.*failed=1' "$T/run0b.log" || fail "the host did not fail: $(grep -E '^target +:' "$T/run0b.log")"
pass "failing checks, by default: ansible-playbook exit $RC, the host failed with: $(grep -o '"msg": "livemig: not registered: [^.]*' "$T/run0b.log" | cut -c9-)"
# the waivers, and the module: apt installs livemig-cbt-dkms, and the role
# registers the agent installed by the runs above
vars "livemig_waive=$WAIVE" 'livemig_packages=["livemig-agent", "livemig-cbt-dkms"]'

t0=$(date +%s)
play "$T/run1.log" || { cat "$T/run1.log"; fail "ansible-playbook (first run) failed"; }
recap1=$(grep -E '^target +:' "$T/run1.log")
[ "$(in_use)" = 1 ] || { cat "$T/run1.log"; fail "after the playbook: licenses in use: $(in_use)"; }
[ -e "$R/etc/livemig/livemigd.conf" ] || fail "no /etc/livemig/livemigd.conf"
[ -L "$R/etc/systemd/system/multi-user.target.wants/livemigd.service" ] || fail "livemigd.service not enabled"
! grep -qF "$TOKEN" "$T/run1.log" || fail "the token is in ansible's output"
! grep -rqF "$TOKEN" "$R/var/cache/debconf" "$R/var/log" "$R/etc/livemig" || fail "the token is left in the chroot's debconf or logs"
task=$(sed -n '/^TASK \[livemig_agent : Register (the package is installed/,/^$/p' "$T/run1.log")
grep -q '^changed: \[target\]' <<<"$task" || { cat "$T/run1.log"; fail "the role's livemig-setup register did not register"; }
[ ! -e "$R/var/lib/livemig/registration-failure" ] || fail "the kept reason outlived the registration"
pass "waived: registered in $(($(date +%s) - t0)) s (1 license), livemigd.service enabled; token not in the output; ${recap1//  / }"

play "$T/run2.log" || { cat "$T/run2.log"; fail "ansible-playbook (second run) failed"; }
recap2=$(grep -E '^target +:' "$T/run2.log")
grep -qE 'changed=0 ' <<<"$recap2" || { cat "$T/run2.log"; fail "second run changed something: $recap2"; }
[ "$(in_use)" = 1 ] || fail "second run: licenses in use: $(in_use)"
pass "second run: ${recap2//  / }"

# no replication: the service is disabled and not started even though
# livemig_service_state asks for it (in a chroot, a start would fail: no
# systemd runs here)
vars 'livemig_no_replication=true' 'livemig_service_state="started"'
play "$T/run3.log" || { cat "$T/run3.log"; fail "ansible-playbook (no replication) failed: it tried to start livemigd"; }
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/livemigd.service" ] ||
	fail "livemig_no_replication: livemigd.service still enabled"
grep -q '^no_replication = true$' "$R/etc/livemig/install.conf.d/50-ansible.conf" ||
	fail "no_replication not in the drop-in"
pass "livemig_no_replication: livemigd.service disabled and not started"
stop_console
