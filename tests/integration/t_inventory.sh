#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# livemig inventory on this machine, with two real loop devices attached:
# one with a GPT partition table made by sfdisk, one without. Every value is
# checked against an independent source: /proc/meminfo, nproc, getconf,
# /etc/os-release, uname, hostname, sfdisk's own dump, findmnt + lsblk for
# the disk holding /, ip(8) for NICs. The root walk through device-mapper
# and md, which this kernel cannot build (no dm, no md), is covered by
# tests/unit/test_host_inventory.c on a fake sysfs tree.
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
. "$(dirname "$0")/lib.sh" "$@"
need_root
command -v sfdisk >/dev/null || die "sfdisk missing (apt-get install fdisk)"

LM=$BUILD/livemig
MiB=$((1024 * 1024))

# attach_loop FILE: like lib.sh's make_loop, with partition scanning on (a
# loop device without it refuses partitions, even through BLKPG); recorded
# in the same file, so lib.sh detaches it at exit.
attach_loop() {
	local dev
	dev=$(losetup --find --show --partscan "$1") || die "cannot attach $1"
	echo "$dev" >>"$T/.loops"
	echo "$dev"
}

A=$T/parted.img
B=$T/plain.img
truncate -s 64M "$A"
truncate -s 40M "$B"
printf 'label: gpt\n,16M\n,\n' | sfdisk -q "$A" || die "sfdisk failed"
LA=$(attach_loop "$A")
LB=$(attach_loop "$B")
NA=${LA#/dev/}

# The kernel reads the table when the device is attached with --partscan,
# if it has a parser for it. This test machine's kernel has none
# (CONFIG_EFI_PARTITION and CONFIG_MSDOS_PARTITION are off): sysfs then
# shows no partition. partx reads the table itself and adds each partition
# with the BLKPG ioctl; the kernel's partitions are then as real as after a
# scan (sysfs entries, devtmpfs nodes), which is all the inventory sees.
if [ ! -e "/sys/block/$NA/${NA}p1" ]; then
	echo "note: the kernel found no partitions on $LA (no parser for GPT); adding them with partx -a"
	partx -a "$LA" || die "partx -a $LA failed"
fi
[ -e "/sys/block/$NA/${NA}p2" ] || die "no partitions on $LA in sysfs"
[ -b "${LA}p1" ] || die "no device node ${LA}p1"

_LIB_LOGS+=("$T/inv.err" "$T/inv-text.err" "$T/inv2.err") # scanned for sanitizer reports at exit
"$LM" inventory --json >"$T/inv.json" 2>"$T/inv.err" || { cat "$T/inv.err" >&2; die "livemig inventory --json failed"; }
[ ! -s "$T/inv.err" ] || { cat "$T/inv.err" >&2; die "livemig inventory wrote to stderr"; }
jq -e . "$T/inv.json" >/dev/null || die "not JSON"
inv() { jq -r "$@" "$T/inv.json"; }

# the document against the JSON Schema in docs/inventory.md, where a
# validator is installed (python3-jsonschema is not a test dependency)
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 - "$TESTS/../../docs/inventory.md" "$T/inv.json" <<'PY' || die "inventory does not match the schema in docs/inventory.md"
import json, re, sys
import jsonschema
blocks = re.findall(r"```json\n(.*?)```", open(sys.argv[1]).read(), re.S)
schema = json.loads(blocks[-1])
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    print("schema:", "/".join(map(str, e.path)), e.message, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
	pass "the document matches the JSON Schema in docs/inventory.md"
else
	echo "note: no python3 jsonschema module; the document is not checked against docs/inventory.md's schema"
fi
disk() { jq -c --arg d "$1" '.disks[] | select(.device == $d)' "$T/inv.json"; }

# ---- the two loop devices ----
[ -n "$(disk "$LA")" ] || die "$LA missing from disks"
[ -n "$(disk "$LB")" ] || die "$LB missing from disks"
disk "$LA" | jq -e --arg f "$A" --arg n "$NA" --argjson size $((64 * MiB)) \
	'.name == $n and .size == $size and .virtual == true and .root == false and .backing_file == $f' >/dev/null ||
	die "$LA: $(disk "$LA")"
disk "$LB" | jq -e --arg f "$B" --argjson size $((40 * MiB)) \
	'.size == $size and .virtual == true and .partitions == [] and .backing_file == $f' >/dev/null ||
	die "$LB: $(disk "$LB")"
# partitions against sfdisk's dump of the image: numbers, starts and sizes in bytes
want=$(sfdisk -J "$A" | jq -c --arg d "$LA" '[.partitiontable.partitions | to_entries[] |
	{number: (.key + 1), start: (.value.start * 512), size: (.value.size * 512),
	 device: ($d + "p" + ((.key + 1) | tostring))}]')
got=$(disk "$LA" | jq -c '[.partitions[] | {number, start, size, device}]')
[ "$want" = "$got" ] || die "partitions of $LA: got $got, sfdisk says $want"
pass "loop devices: $LA 64 MiB with partitions $got; $LB 40 MiB, no partitions; both virtual with their backing files"

# every loop device listed has a backing file; zram and RAM disks are left out
inv -e '[.disks[] | select(.name | startswith("loop")) | select((.backing_file // "") == "")] | length == 0' >/dev/null ||
	die "a loop device without backing file is listed"
inv -e '[.disks[] | select(.name | test("^z?ram"))] | length == 0' >/dev/null || die "RAM disks listed"
# the other disks: exactly lsblk's non-loop, non-RAM disks with a size
want=$(lsblk -dnbo NAME,SIZE,TYPE | awk '$3 == "disk" && $2 > 0 && $1 !~ /^z?ram/ {print $1}' | sort -V | paste -sd' ')
got=$(inv '[.disks[] | select(.name | startswith("loop") | not) | .name] | join(" ")')
[ "$want" = "$got" ] || die "disks: got '$got', lsblk says '$want'"
pass "disks: $got (as lsblk), attached loops only, no RAM disks"

# ---- the disk holding / ----
src=$(findmnt -no SOURCE /)
majmin=$(findmnt -no MAJ:MIN / | tr -d ' ')
want=$(lsblk -snlpo NAME,TYPE "$src" | awk '$2 == "disk" || $2 == "loop" {print $1}' | sort -u | paste -sd' ')
got=$(inv '.root_disks | sort | join(" ")')
[ -n "$got" ] || die "root_disks empty: $(inv .warnings)"
[ "$want" = "$got" ] || die "root_disks '$got'; findmnt + lsblk say '$want' (/ on $src)"
inv -e --arg mm "$majmin" '.root_mount.device == $mm' >/dev/null || die "root_mount.device $(inv .root_mount.device), findmnt says $majmin"
for d in $want; do
	disk "$d" | jq -e '.root == true' >/dev/null || die "$d not marked root"
done
inv -e '([.disks[] | select(.root)] | length) == (.root_disks | length)' >/dev/null || die "extra disks marked root"
pass "root: / on $src ($majmin) is held by $got, marked root"

# ---- host, memory, cores, OS, kernel ----
inv -e --arg h "$(hostname)" '.hostname == $h' >/dev/null || die "hostname $(inv .hostname)"
inv -e --arg m "$(cat /etc/machine-id)" '.machine_id == $m' >/dev/null || die "machine_id $(inv .machine_id)"
mem=$(($(awk '$1 == "MemTotal:" {print $2}' /proc/meminfo) * 1024))
inv -e --argjson m "$mem" '.memory_bytes == $m' >/dev/null || die "memory_bytes $(inv .memory_bytes), /proc/meminfo says $mem"
inv -e --argjson n "$(nproc)" --argjson o "$(getconf _NPROCESSORS_ONLN)" '.cores == $n and .cores == $o' >/dev/null ||
	die "cores $(inv .cores), nproc $(nproc), online $(getconf _NPROCESSORS_ONLN)"
(
	. /etc/os-release
	inv -e --arg n "$NAME" --arg v "${VERSION_ID:-}" --arg p "$PRETTY_NAME" --arg i "$ID" \
		'.os.name == $n and (.os.version_id // "") == $v and .os.pretty_name == $p and .os.id == $i' >/dev/null
) || die "os $(inv -c .os) differs from /etc/os-release"
inv -e --arg r "$(uname -r)" --arg m "$(uname -m)" '.kernel.release == $r and .kernel.machine == $m' >/dev/null ||
	die "kernel $(inv -c .kernel)"
pass "host $(inv .hostname), $(inv .memory_bytes) bytes RAM, $(inv .cores) cores, $(inv .os.pretty_name), kernel $(inv .kernel.release)"
if [ -d /sys/class/dmi/id ]; then
	inv -e --arg v "$(cat /sys/class/dmi/id/sys_vendor)" '.hardware.source == "dmi" and .hardware.vendor == $v' >/dev/null ||
		die "hardware $(inv -c .hardware)"
	pass "hardware: $(inv .hardware.vendor) $(inv .hardware.product)"
else
	inv -e '.hardware.source == null and (.warnings | map(select(startswith("hardware:"))) | length == 1)' >/dev/null ||
		die "no DMI here, yet hardware is $(inv -c .hardware)"
	pass "hardware: this machine has no DMI: null, with a warning"
fi

# ---- NICs ----
for d in /sys/class/net/*; do
	n=${d##*/}
	[ "$n" = lo ] && continue
	nic=$(jq -c --arg n "$n" '.nics[] | select(.name == $n)' "$T/inv.json")
	[ -n "$nic" ] || die "NIC $n missing"
	phys=false
	[ -e "$d/device" ] && phys=true
	echo "$nic" | jq -e --arg m "$(cat "$d/address")" --argjson p $phys '.mac == $m and .physical == $p' >/dev/null ||
		die "NIC $n: $nic (sysfs: address $(cat "$d/address"), physical $phys)"
	want=$(ip -j addr show dev "$n" | jq -c '[.[0].addr_info[] | {family, address: .local, prefixlen}] | sort')
	got=$(echo "$nic" | jq -c '.addresses | sort')
	[ "$want" = "$got" ] || die "NIC $n addresses: $got, ip says $want"
done
inv -e '[.nics[] | select(.name == "lo")] | length == 0' >/dev/null || die "loopback listed"
[ "$(inv '.nics | length')" -gt 0 ] || die "no NICs"
pass "NICs: $(inv '[.nics[] | .name + " " + .mac + " (" + ([.addresses[] | .address + "/" + (.prefixlen | tostring)] | join(" ")) + ")"] | join(", ")')"

# ---- readable output ----
"$LM" inventory >"$T/inv.txt" 2>"$T/inv-text.err" || die "livemig inventory failed"
cat "$T/inv.txt"
grep -q "^host: *$(hostname)$" "$T/inv.txt" || die "summary: no host line"
grep -q "^$LA .*64.0 MiB.*virtual, $A" "$T/inv.txt" || die "summary: no line for $LA"
grep -q "^  ${LA}p1 .*16.0 MiB *partition 1 at 1.0 MiB" "$T/inv.txt" || die "summary: no line for ${LA}p1"
for d in $(inv '.root_disks[]'); do
	grep -q "^$d .* yes " "$T/inv.txt" || die "summary: $d not shown as root"
done
pass "summary shows host, disks with partitions, the root disk and NICs"

# ---- other sources: a quoted os-release, a bad machine-id ----
printf '%s\n' 'NAME="Test \"Linux\""' "ID=testos" "VERSION_ID='7.1'" 'PRETTY_NAME="Test Linux 7.1 \$x"' >"$T/os-release"
echo "not-an-id" >"$T/machine-id"
"$LM" inventory --json --os-release "$T/os-release" --machine-id "$T/machine-id" >"$T/inv2.json" 2>"$T/inv2.err" ||
	die "inventory with other sources failed"
jq -e '.os.name == "Test \"Linux\"" and .os.id == "testos" and .os.version_id == "7.1" and
	.os.pretty_name == "Test Linux 7.1 $x" and .machine_id == null and
	(.warnings | map(select(startswith("machine_id:"))) | length == 1)' "$T/inv2.json" >/dev/null ||
	die "other sources: $(jq -c '{os, machine_id, warnings}' "$T/inv2.json")"
pass "os-release quoting parsed; an invalid machine-id is null with a warning"
