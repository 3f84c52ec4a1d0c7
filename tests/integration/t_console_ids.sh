#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2119  # start_console/start_staging take the programs' options, not the script's arguments
# Machine ids are the console's, derived from the account and the identity
# (docs/identity.md): the same identity (one cloud instance id, one MAC) in
# two accounts is two machines, each registered without a 409 and neither
# account able to see or learn of the other's; a tenant cannot take another
# account's id first by naming it, whether that id is registered yet or not,
# and the refusal is the same either way; both machines' replicas live apart
# on staging; an older agent that names the right id still registers, one
# that names another is refused with the remedy; a registration from before
# ids were derived that holds an account's id is reported to that account
# only, without naming the holder.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh" "$@"
# shellcheck source-path=SCRIPTDIR
. "$TESTS/console_lib.sh"

derive() { # ACCOUNT SOURCE:VALUE -> the id docs/identity.md gives
	printf '%s\n%s' "$1" "$2" | sha256sum | cut -c1-32
}

setup_pki
start_console
A=$T/agents
PASSWORD='correct horse battery staple'
for acct in acme rival; do
	admin create-account "$acct" --licenses 5 >/dev/null || die "create-account $acct"
	echo "$PASSWORD" | admin create-user "$acct" alice >/dev/null || die "create-user $acct"
done
TA=$(admin create-token acme 2>/dev/null) || die "create-token acme"
TR=$(admin create-token rival 2>/dev/null) || die "create-token rival"
INSTANCE='i-0123456789abcdef0'
MAC=52:54:00:12:34:56

# --- the same identity in two accounts: two machines, two 201s ---
for ident in "metadata=$INSTANCE" "mac=$MAC"; do
	src=${ident%%=*} val=${ident#*=}
	out=$(api register --dir "$A" --machine "acme-$src" --token "$TA" --identity "$ident")
	[ "$(api_status "$out")" = 201 ] || die "acme, $ident: $out"
	out=$(api register --dir "$A" --machine "rival-$src" --token "$TR" --identity "$ident")
	[ "$(api_status "$out")" = 201 ] || die "rival, the same $ident: $out (the first account's machine blocked it)"
	ida=$(cat "$A/acme-$src.id") idr=$(cat "$A/rival-$src.id")
	[ "$ida" = "$(derive acme "$src:$val")" ] || die "acme's id $ida is not derived from acme and $src:$val"
	[ "$idr" = "$(derive rival "$src:$val")" ] || die "rival's id $idr is not derived from rival and $src:$val"
	[ "$ida" != "$idr" ] || die "both accounts got machine $ida"
	grep -qF -- "$ida" "$A/rival-$src.json" && die "rival's answer names acme's machine"
	for m in "acme-$src:$ida" "rival-$src:$idr"; do
		[ "$(openssl x509 -in "$A/${m%%:*}.pem" -noout -subject -nameopt RFC2253)" = "subject=CN=${m#*:}" ] ||
			die "${m%%:*}'s certificate is not for ${m#*:}"
	done
	pass "$src $val in acme and in rival: two machines, $ida and $idr, both 201"
done
IDA=$(cat "$A/acme-metadata.id") IDR=$(cat "$A/rival-metadata.id")

# --- neither account sees the other's machine ---
list=$(api_body "$(api call GET /api/v1/machines --basic "alice@rival:$PASSWORD")")
[ "$(json_get "$list" 'sorted(m["machine_id"] for m in d["machines"])')" = \
	"$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$IDR" "$(cat "$A/rival-mac.id")")" ] ||
	die "rival's list is not exactly its two machines: $list"
# acme's machine and one that exists nowhere get the same answer
seen=$(api call GET "/api/v1/machines/$IDA" --basic "alice@rival:$PASSWORD")
none=$(api call GET "/api/v1/machines/0123456789abcdef0123456789abcdef" --basic "alice@rival:$PASSWORD")
expect_error "rival asks for acme's machine" 404 no_such_machine "$seen"
[ "${seen//$IDA/X}" = "${none//0123456789abcdef0123456789abcdef/X}" ] ||
	die "acme's machine is answered otherwise than one that does not exist: $seen / $none"
pass "rival's list holds only its machines; acme's machine is as unknown to it as one that does not exist"

# --- a tenant cannot take another account's id by naming it ---
# acme's id for a machine acme has not registered yet, and for one it has
VICTIM=mac=52:54:00:ab:cd:ef
future=$(derive acme "mac:${VICTIM#mac=}")
for target in "$future" "$IDA"; do
	out=$(api register --dir "$A" --machine squat --token "$TR" --identity "$VICTIM" --machine-id "$target")
	expect_error "rival names acme's id $target" 409 machine_id_mismatch "$out"
	[ ! -e "$A/squat.pem" ] || die "the squatter got a certificate"
	msg=$(json_get "$(api_body "$out")" 'd["error"]')
	grep -q acme <<<"$msg" && die "the refusal names the other account: $msg"
	echo "${msg//$target/X}" >>"$T/squat.msgs"
done
[ "$(sort -u "$T/squat.msgs" | wc -l)" = 1 ] || die "the refusal differs for a registered id: $(cat "$T/squat.msgs")"
[ "$(db_query "SELECT COUNT(*) FROM machines WHERE machine_id = '$future'")" = 0 ] ||
	die "acme's future id was taken"
out=$(api register --dir "$A" --machine acme-victim --token "$TA" --identity "$VICTIM")
[ "$(api_status "$out")" = 201 ] || die "acme's machine was refused after the attempt: $out"
[ "$(cat "$A/acme-victim.id")" = "$future" ] || die "acme's machine did not get its own id after the attempt: $out"
pass "naming acme's id (registered or not) from rival: 409 machine_id_mismatch, the same words, acme's machine keeps its id"

# --- staging keeps the two replicas apart ---
AGENT_CA=$CONSOLE_CA/ca.pem start_staging
head -c 1M /dev/urandom >"$T/data.acme"
head -c 1M /dev/urandom >"$T/data.rival"
for who in acme rival; do
	id=$(cat "$A/$who-metadata.id")
	python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$A/$who-metadata.pem" \
		--key "$A/$who-metadata.key" --machine "$id" --disk 1:vda:1M write --file "$T/data.$who" \
		>"$T/write.$who" 2>&1 || die "$who cannot write its replica: $(cat "$T/write.$who")"
done
for who in acme rival; do
	cmp -s "$STAGING_STORE/$(cat "$A/$who-metadata.id")/disk-vda.img" "$T/data.$who" ||
		die "$who's replica does not hold $who's data"
done
python3 "$TESTS/frames.py" --port "$STAGING_PORT" --ca "$SERVER_CA" --cert "$A/rival-metadata.pem" \
	--key "$A/rival-metadata.key" --machine "$IDA" --disk 1:vda:1M hello >"$T/cross.out" 2>&1 &&
	die "rival's certificate was accepted for acme's machine"
pass "one instance id, two accounts: replicas $IDA and $IDR apart on staging, neither certificate reaches the other"

# --- older agents: the right id is accepted as a check, another refused with the remedy ---
out=$(api register --dir "$A" --machine old-ok --user alice --password "$PASSWORD" --account acme \
	--identity metadata=i-old-1 --machine-id "$(derive acme metadata:i-old-1)")
[ "$(api_status "$out")" = 201 ] || die "an agent naming the derived id: $out"
out=$(api register --dir "$A" --machine old-token --token "$TA" --identity metadata=i-old-2 \
	--machine-id "$(derive "" metadata:i-old-2)")
expect_error "an older agent's id computed without the account" 409 machine_id_mismatch "$out"
[ "$(json_get "$(api_body "$out")" '"'"$(derive acme metadata:i-old-2)"'" in d["error"] and "--account acme" in d["error"]')" = True ] ||
	die "no right id and remedy in: $out"
pass "an agent naming the derived id registers; one naming another id is refused with the right id and --account"

# --- an id held by a registration from before ids were derived ---
# (written as an older console let a tenant choose it)
held=$(derive acme mac:52:54:00:00:99:01)
rid=$(db_query "SELECT id FROM accounts WHERE name = 'rival'")
db_query "INSERT INTO machines (account_id, machine_id, identity_source, identity_value,
	hostname, inventory, cert_serial, cert_fingerprint, registered_at, last_seen, state)
	VALUES ($rid, '$held', 'mac', '02:00:00:00:00:01', 'old', '{}', '01', '00', 1, 1, 'REGISTERED')" ||
	die "cannot write the old registration"
out=$(api register --dir "$A" --machine acme-held --token "$TA" --identity mac=52:54:00:00:99:01)
expect_error "acme's id held by an old registration" 409 machine_id_conflict "$out"
grep -q rival <<<"$out" && die "the conflict names the account holding the id: $out"
wait_for_log "$CONSOLE_LOG" "machine id $held of account acme is held by another account" 5 ||
	die "the conflict is not logged for the operator"
pass "an old registration holding acme's id: 409 machine_id_conflict to acme, the holder not named, logged"

stop_console
pass "SIGTERM: clean exit 0"
