#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig identity against a real HTTP metadata service on loopback
# (metadata_server.py): IMDSv2, IMDSv1, a token-only service; then services
# that are slow, answer garbage or are absent, where the identity falls back
# to the permanent MAC of the first physical NIC, within the timeout. The
# MAC is checked against what iproute2 and sysfs say about this machine's
# NICs. The ranking rules (virtual, random, locally administered, natural
# name order) need NICs this machine cannot have: tests/unit/test_host_identity.c
# covers them on fake sysfs trees, and the last cases here run the command
# on such a tree.
. "$(dirname "$0")/lib.sh" "$@"

LM=$BUILD/livemig
ID=i-0123456789abcdef0

# start_md MODE [ARGS...]: a metadata service; sets MD_URL and MD_LOG
start_md() {
	local mode=$1 out=$T/md.$1.out
	shift
	MD_LOG=$T/md.$mode.log
	: >"$MD_LOG"
	python3 "$TESTS/metadata_server.py" --mode "$mode" --instance-id "$ID" --log "$MD_LOG" \
		"$@" >"$out" 2>&1 &
	track_pid $!
	wait_for_log "$out" "^listening on" 10 || { cat "$out" >&2; die "metadata server ($mode) did not start"; }
	MD_URL=http://127.0.0.1:$(sed -n 's/^listening on //p' "$out")
}

# ident NAME ARGS...: livemig identity --json ARGS into $T/NAME.json; fails
# the test unless it exits 0. Sets ELAPSED_MS.
ident() {
	local name=$1 t0 t1
	shift
	_LIB_LOGS+=("$T/$name.err") # lib.sh scans these for sanitizer reports at exit
	t0=$(date +%s%N)
	"$LM" identity --json "$@" >"$T/$name.json" 2>"$T/$name.err" ||
		{ cat "$T/$name.err" >&2; die "$name: livemig identity failed"; }
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
}

field() { jq -r ".$2 // empty" "$T/$1.json"; }

# The permanent MAC of the first physical NIC, by this test's own reading of
# the rules: iproute2's permaddr (the kernel's IFLA_PERM_ADDRESS, shown only
# when it differs from the current address), else the current address when
# sysfs says it is the permanent one; universally administered first, then
# natural name order. Prints "NAME MAC", or nothing.
expected_mac() {
	local d n perm first
	for d in /sys/class/net/*; do
		n=${d##*/}
		[ -e "$d/device" ] || continue
		perm=$(ip -j link show dev "$n" | jq -r '.[0].permaddr // empty')
		if [ -z "$perm" ] && [ "$(cat "$d/addr_assign_type")" = 0 ]; then
			perm=$(cat "$d/address")
		fi
		if [ -z "$perm" ] || [ "$perm" = 00:00:00:00:00:00 ]; then
			continue
		fi
		first=$((16#${perm:0:2}))
		[ $((first & 1)) -eq 0 ] || continue
		echo "$(((first & 2) >> 1)) $n ${perm,,}"
	done | sort -k1,1n -k2,2V | sed -n 1p | cut -d' ' -f2-
}

sha_id() { printf '%s\n%s' "$1" "$2" | sha256sum | cut -c1-32; }

# ---- a metadata service answers ----
start_md normal
ident normal --metadata-url "$MD_URL" --account acme
[ "$(field normal source)" = metadata ] || die "normal: source $(field normal source)"
[ "$(field normal value)" = "$ID" ] || die "normal: value $(field normal value)"
[ "$(field normal method)" = IMDSv2 ] || die "normal: method $(field normal method)"
grep -q "^PUT /latest/api/token token=none ttl=60$" "$MD_LOG" || die "normal: no token PUT with ttl 60"
grep -q "^GET /latest/meta-data/instance-id token=ok " "$MD_LOG" || die "normal: GET without the token"
[ "$(field normal machine_id)" = "$(sha_id acme "metadata:$ID")" ] || die "normal: machine id"
pass "metadata (IMDSv2): $ID, machine id $(field normal machine_id) for account acme"

# a trailing slash, and a proxy in the environment that must not be used
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
	ident proxy --metadata-url "$MD_URL/"
[ "$(field proxy value)" = "$ID" ] || die "with a proxy set: $(field proxy source) $(field proxy value)"
pass "metadata: trailing slash accepted, environment proxy bypassed"

_LIB_LOGS+=("$T/human.err" "$T/none.err")
"$LM" identity --metadata-url "$MD_URL" >"$T/human.out" 2>"$T/human.err" || die "human output failed"
if ! grep -q "^source: *metadata (IMDSv2)$" "$T/human.out" || ! grep -q "^value: *$ID$" "$T/human.out"; then
	cat "$T/human.out" >&2
	die "human output"
fi
pass "human output names source and value"

# a stored metadata identity: holds, or names the other instance
"$LM" identity --metadata-url "$MD_URL" --verify "metadata:$ID" >"$T/verify.out" 2>&1 ||
	{ cat "$T/verify.out" >&2; die "verify: the registered instance id does not hold"; }
rc=0
"$LM" identity --metadata-url "$MD_URL" --verify "metadata:i-0fffffffffffffff0" >"$T/verify2.out" 2>&1 || rc=$?
if [ "$rc" -ne 1 ] ||
	! grep -q "the instance id is $ID, registered as i-0fffffffffffffff0; the agent must be reinstalled" "$T/verify2.out"; then
	cat "$T/verify2.out" >&2
	die "verify: another instance id: exit $rc"
fi
pass "verify: the registered instance id holds; another one is a different machine (exit 1, reinstall)"

start_md v1-only
ident v1 --metadata-url "$MD_URL"
[ "$(field v1 source)/$(field v1 value)/$(field v1 method)" = "metadata/$ID/IMDSv1" ] ||
	die "v1-only: $(cat "$T/v1.json")"
grep -q "^GET /latest/meta-data/instance-id token=none " "$MD_LOG" || die "v1-only: no tokenless GET"
pass "metadata (IMDSv1 after the token PUT was refused)"

start_md v2-only
ident v2 --metadata-url "$MD_URL"
[ "$(field v2 source)/$(field v2 value)/$(field v2 method)" = "metadata/$ID/IMDSv2" ] ||
	die "v2-only: $(cat "$T/v2.json")"
pass "metadata (IMDSv2 required)"

start_md newline
ident newline --metadata-url "$MD_URL"
[ "$(field newline source)/$(field newline value)" = "metadata/$ID" ] || die "id + CRLF: $(cat "$T/newline.json")"
pass "metadata: a line ending after the id is not part of it"

# ---- no usable metadata: the MAC ----
read -r NIC MAC < <(expected_mac)
if [ -n "${NIC:-}" ]; then
	echo "expected: $NIC $MAC (physical NICs: $(for d in /sys/class/net/*; do [ -e "$d/device" ] && printf '%s ' "${d##*/}"; done))"
else
	echo "this machine has no physical NIC with a permanent MAC: only the fake-sysfs cases below test the MAC"
fi

# check_mac NAME: the answer is the expected NIC's MAC
check_mac() {
	local name=$1
	[ "$(field "$name" source)" = mac ] || die "$name: source $(field "$name" source), not mac"
	[ "$(field "$name" nic)" = "$NIC" ] || die "$name: NIC $(field "$name" nic), expected $NIC"
	[ "$(field "$name" value)" = "$MAC" ] || die "$name: MAC $(field "$name" value), expected $MAC"
}

if [ -n "${NIC:-}" ]; then
	# Time bounds a busy machine cannot break: the service answers after
	# 30 s, the budgets are seconds apart, and a slow run only adds time, so
	# each verdict rests on a lower bound or on an upper bound with seconds
	# of margin.
	start_md slow --delay 30
	ident slow --metadata-url "$MD_URL" --timeout 3000ms
	check_mac slow
	# the whole attempt (token PUT and GETs) has one 3 s budget: one per
	# request would take 6 s or more
	[ "$ELAPSED_MS" -ge 2950 ] || die "slow: fell back after $ELAPSED_MS ms, before the timeout"
	[ "$ELAPSED_MS" -le 5500 ] || die "slow: fell back after $ELAPSED_MS ms with a 3000 ms timeout"
	field slow note | has_line -i "timed\? \?out\|no answer" || die "slow: note $(field slow note)"
	pass "slow service (30 s): MAC $MAC of $NIC after $ELAPSED_MS ms (timeout 3000 ms)"

	# a metadata identity whose service does not answer: no verdict (exit 3)
	rc=0
	"$LM" identity --metadata-url "$MD_URL" --timeout 300ms --verify "metadata:$ID" >"$T/verify3.out" 2>&1 || rc=$?
	[ "$rc" -eq 3 ] || { cat "$T/verify3.out" >&2; die "verify against a slow service: exit $rc, expected 3"; }
	pass "verify: no answer from the service is 'cannot tell' (exit 3), not a new machine"

	# below the default: that it is not the 3 s above is what a busy
	# machine cannot blur (the 3 s case proves --timeout is honoured)
	ident slow300 --metadata-url "$MD_URL" --timeout 300ms
	check_mac slow300
	if [ "$ELAPSED_MS" -lt 280 ] || [ "$ELAPSED_MS" -gt 2500 ]; then
		die "slow: $ELAPSED_MS ms with a 300 ms timeout"
	fi
	pass "slow service, --timeout 300ms: fell back after $ELAPSED_MS ms"

	ident slowdefault --metadata-url "$MD_URL"
	check_mac slowdefault
	if [ "$ELAPSED_MS" -lt 950 ] || [ "$ELAPSED_MS" -gt 2500 ]; then
		die "slow: $ELAPSED_MS ms with the default timeout (1 s)"
	fi
	pass "slow service, default timeout: fell back after $ELAPSED_MS ms"

	start_md garbage
	ident garbage --metadata-url "$MD_URL"
	check_mac garbage
	field garbage note | has_line "not an instance id" || die "garbage: note $(field garbage note)"
	pass "binary instance id rejected: MAC"

	start_md huge
	ident huge --metadata-url "$MD_URL"
	check_mac huge
	field huge note | has_line "longer than" || die "huge: note $(field huge note)"
	pass "8 KiB instance id rejected: MAC"

	start_md notfound
	ident notfound --metadata-url "$MD_URL"
	check_mac notfound
	field notfound note | has_line "HTTP 404" || die "notfound: note $(field notfound note)"
	pass "404 from the service: MAC"

	# nothing listens: refused at once, no waiting out the 10 s budget
	ident none --metadata-url "http://127.0.0.1:$(free_port)" --account acme --timeout 10000ms
	check_mac none
	[ "$ELAPSED_MS" -le 5000 ] || die "no service: $ELAPSED_MS ms to fall back from a refused connection"
	[ "$(field none machine_id)" = "$(sha_id acme "mac:$MAC")" ] || die "none: machine id"
	method=$(field none method)
	case $method in
	ETHTOOL_GPERMADDR) ;;
	"sysfs address (addr_assign_type 0)")
		[ "$(cat "/sys/class/net/$NIC/addr_assign_type")" = 0 ] || die "sysfs method with a non-permanent address" ;;
	*) die "none: method '$method'" ;;
	esac
	# the MAC is the one the kernel shows for that NIC
	ip -j link show dev "$NIC" | jq -e --arg m "$MAC" '.[0] | (.permaddr // .address) == $m' >/dev/null ||
		die "$MAC is not $NIC's (permanent) address per ip link"
	pass "no service: MAC $MAC of $NIC ($method) after $ELAPSED_MS ms; machine id $(field none machine_id)"

	"$LM" identity --verify "mac:$MAC" >"$T/verify4.out" 2>&1 || { cat "$T/verify4.out" >&2; die "verify: own MAC does not hold"; }
	rc=0
	"$LM" identity --verify "mac:00:16:3e:7f:7f:7f" >"$T/verify5.out" 2>&1 || rc=$?
	if [ "$rc" -ne 1 ] ||
		! grep -q "the MAC address changed: 00:16:3e:7f:7f:7f is no longer on any physical NIC" "$T/verify5.out"; then
		cat "$T/verify5.out" >&2
		die "verify: a foreign MAC: exit $rc"
	fi
	pass "verify: $MAC holds; another MAC means reinstalling (exit 1): $(cat "$T/verify5.out")"
fi

# ---- the MAC rules on fake sysfs trees (no such NICs can be made here) ----
# fake_nic DIR NAME ADDR ASSIGN_TYPE [physical]
fake_nic() {
	local d=$1/class/net/$2
	mkdir -p "$d"
	echo "$3" >"$d/address"
	echo "$4" >"$d/addr_assign_type"
	if [ "${5:-}" = physical ]; then
		mkdir -p "$1/devices/pci0000:00/$2"
		ln -s "../../../devices/pci0000:00/$2" "$d/device"
	fi
}
CLOSED=http://127.0.0.1:$(free_port)

F=$T/sys-none
fake_nic "$F" lo 00:00:00:00:00:00 0
fake_nic "$F" br0 00:16:3e:00:00:01 3
fake_nic "$F" eth9 6a:1b:2c:3d:4e:5f 1 physical
rc=0
"$LM" identity --metadata-url "$CLOSED" --sysfs "$F" >"$T/none.out" 2>"$T/none.err" || rc=$?
[ "$rc" -eq 1 ] || die "no NIC: exit $rc, expected 1"
for want in "no physical network interface with a permanent MAC address" "br0 (virtual)" \
	"eth9 (no permanent MAC address)"; do
	grep -qF "$want" "$T/none.err" || { cat "$T/none.err" >&2; die "no NIC: message lacks '$want'"; }
done
pass "no metadata and no physical NIC: exit 1, $(cat "$T/none.err")"

F=$T/sys-two
fake_nic "$F" eth0 02:00:00:00:00:01 0 physical
fake_nic "$F" enp0s10 00:16:3e:00:00:0a 0 physical
fake_nic "$F" enp0s9 00:16:3e:00:00:09 0 physical
ident fake2 --metadata-url "$CLOSED" --sysfs "$F"
[ "$(field fake2 nic)/$(field fake2 value)" = "enp0s9/00:16:3e:00:00:09" ] ||
	die "fake tree: picked $(field fake2 nic) $(field fake2 value)"
[ "$(field fake2 method)" = "sysfs address (addr_assign_type 0)" ] || die "fake tree: method $(field fake2 method)"
pass "fake sysfs: enp0s9 (universal, before enp0s10 in natural order) over eth0 (locally administered)"
