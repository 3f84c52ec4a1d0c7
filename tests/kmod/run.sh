#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build livemig_cbt for Debian's packaged kernel and run guest tests in QEMU
# (TCG; the host kernel cannot load modules). The guest runs the host's
# userland over 9p (read-only), so the test scripts and tools come straight
# from this tree. The verdict comes from isa-debug-exit: QEMU exits 1 when the
# guest tests passed (and only with the guest's verdict line on the
# console: QEMU also exits 1 when it cannot start), 3 when one failed;
# anything else (0: panic with
# -no-reboot; a kill for silence or QEMU_TIMEOUT, below) is a crash.
# panic_on_warn=1 oops=panic make any
# WARN or oops a failure. nowatchdog: a TCG guest on a busy host (several
# guests on 2 cores) is starved for seconds at a time, which the lockup
# detector reports as "BUG: soft lockup"; a real hang still ends when the
# guest's tests fall silent (QEMU_IDLE below).
#
#   tests/kmod/run.sh [GUEST_TEST...]   default: guest_basic.sh
# Several tests run one after the other in one boot (one build, one boot);
# each leaves the guest as it found it (module unloaded, its devices gone).
# Environment: KVER (default: newest installed -amd64 modules directory),
#   OUT (default: build/kmod-test),
#   QEMU_IDLE (default 2400): seconds without a new line from the guest's
#     tests after which the guest is a hang and is killed (the kernel's own
#     timestamped lines, RCU stall reports among them, are not progress);
#   QEMU_TIMEOUT (default 0: none): a cap on the whole boot, for benchmarks,
#   RELOADS (guest_basic.sh's module reloads, default 20),
#   GUEST_ENV (NAME=VALUE words, no blanks inside, passed to the guest tests).
# For another kernel than the host's packaged one (tests/kmod/kernels.sh):
#   KO       a livemig_cbt.ko already built for KVER (skips the build here)
#   MODROOT  a root holding lib/modules/KVER (default /); the initramfs takes
#            its modules from there and the guest sees it as /lib/modules
#   VMLINUZ  the kernel image (default /boot/vmlinuz-KVER)
# QEMU_OPTS: more QEMU options (tests/bench/kmod-overhead.sh: -icount)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
TEST=${*:-guest_basic.sh}
KVER=${KVER:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -1)}
KDIR=/lib/modules/$KVER/build
OUT=${OUT:-$REPO/build/kmod-test}
set -- $TEST
# A hang is silence, not a long run: under stress-ng the oracle's first seed
# took 1529 s where a quiet machine needs 60-130 s, progressing throughout,
# and a bound on the whole boot failed it. Every guest wait prints while it
# waits (guest_agent_lib.sh) and has its own bound on the agent's progress.
QEMU_IDLE=${QEMU_IDLE:-2400}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-0}
VMLINUZ=${VMLINUZ:-/boot/vmlinuz-$KVER}
KO=${KO:-}
MODROOT=${MODROOT:-/}

say() { echo "kmod-test: $*"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
[ -n "$KVER" ] && { [ -n "$KO" ] || [ -f "$KDIR/Makefile" ]; } || { say "no kernel headers (apt-get install linux-headers-amd64)"; exit 2; }
[ -z "$KO" ] || [ -f "$KO" ] || { say "no module $KO"; exit 2; }
[ -f "$VMLINUZ" ] || { say "no $VMLINUZ (apt-get install linux-image-amd64)"; exit 2; }
for t in $TEST; do
	[ -f "$REPO/tests/kmod/$t" ] || { say "no guest test $t"; exit 2; }
done
for t in qemu-system-x86_64 cpio busybox timeout; do
	command -v $t >/dev/null || { say "missing $t"; exit 2; }
done
BUSYBOX=$(command -v busybox)

t0=$(date +%s.%N)
rm -rf "$OUT"
mkdir -p "$OUT/build" "$OUT/initramfs"

# 1. the module, built like DKMS does: probes, then Kbuild
if [ -n "$KO" ]; then
	cp "$KO" "$OUT/build/livemig_cbt.ko"
else
	cp -r "$REPO"/kmod/. "$OUT/build/"
	rm -f "$OUT/build/cbt_config.h"
	"$REPO/dkms/livemig-cbt-probe.sh" "$KDIR" "$OUT/build" 2>"$OUT/probe.log" ||
		{ cat "$OUT/probe.log"; exit 1; }
	# a parent make's jobserver flags would only add warnings to the log
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$KDIR" M="$OUT/build" modules >"$OUT/build.log" 2>&1 ||
		{ cat "$OUT/build.log"; exit 1; }
	if grep -E 'warning:|error:' "$OUT/build.log"; then say "build warnings"; exit 1; fi
fi

# 2. the test tool, static, against the uapi header
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -I"$REPO/kmod/uapi" \
	-o "$OUT/cbt_tool" "$REPO/tests/kmod/cbt_tool.c"

# 3. disks: vda 64 GiB sparse with one 1 GiB partition at 1 MiB, vdb untracked
# (64 MiB), sda 64 MiB on virtio-scsi for SCSI passthrough (its driver is not
# in the initramfs: a guest test that wants it loads it)
truncate -s 64G "$OUT/vda.img"
echo 'start=2048, size=2097152, type=83' | sfdisk -q "$OUT/vda.img" >/dev/null
truncate -s 64M "$OUT/vdb.img" "$OUT/sda.img"

# 4. initramfs: static busybox, the in-tree modules in insmod order, /init
ir=$OUT/initramfs
mkdir -p "$ir"/{bin,dev,proc,sys,host,lib/mod}
cp "$BUSYBOX" "$ir/bin/busybox"
: >"$ir/modules.order"
for m in virtio_pci virtio_blk 9pnet_virtio 9p; do
	modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	# busybox insmod takes plain modules: unpack .ko.xz / .ko.zst
	b=$(basename "$ko")
	case $ko in
	*.xz) xz -dc "$ko" >"$ir/lib/mod/${b%.xz}"; b=${b%.xz} ;;
	*.zst) zstd -qdc "$ko" >"$ir/lib/mod/${b%.zst}"; b=${b%.zst} ;;
	*) cp "$ko" "$ir/lib/mod/" ;;
	esac
	echo "$b" >>"$ir/modules.order"
done
cat >"$ir/cfg" <<CFG
REPO='$REPO'
OUT='$OUT'
TEST='$TEST'
KVER='$KVER'
GUEST_ENV='${GUEST_ENV:-}'
RELOADS='${RELOADS:-}'
MODROOT='$MODROOT'
CFG
cat >"$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /cfg
for m in $(cat /modules.order); do insmod /lib/mod/$m || echo "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host
for d in proc sys dev; do mount --bind /$d /host/$d; done
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
# the tree and the output get their own shares at fixed places, so they are
# seen wherever they live on the host (even under /tmp, hidden above)
mount -t tmpfs mnt /host/mnt
mkdir /host/mnt/repo /host/mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 repo /host/mnt/repo
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /host/mnt/out
# another kernel's modules, so modprobe in the guest finds them
[ "$MODROOT" = / ] || mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 modules /host/lib/modules
rc=0
for t in $TEST; do
	echo "livemig-kmod-test: === $t"
	chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp RELOADS="$RELOADS" $GUEST_ENV \
		/bin/bash "/mnt/repo/tests/kmod/$t" /mnt/out "$KVER"
	r=$?
	echo "livemig-kmod-test: $t rc=$r"
	[ $r = 0 ] || rc=1
done
echo "livemig-kmod-test: guest rc=$rc"
if [ $rc = 0 ]; then printf '\000'; else printf '\001'; fi |
	dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
INIT
chmod +x "$ir/init"
mknod -m 600 "$ir/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ir/dev/null" c 1 3 2>/dev/null || true
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initramfs.cpio.gz"
t1=$(date +%s.%N)
say "built module and initramfs for $KVER in $(elapsed $t0 $t1) s"

# 5. boot
MODSHARE=
[ "$MODROOT" = / ] || MODSHARE=$(readlink -f "$MODROOT/lib/modules")
# no_timer_check: under TCG on a busy host the guest's early check of the
# timer interrupt can miss its window, and 5.10 then panics with "IO-APIC +
# timer doesn't work" before the test starts (seen at a load of 40 on 2 cores).
# rcu_cpu_stall_timeout=300 (its maximum): a guest starved of the host's CPU
# filled its console with RCU stall reports at the default 21 s; a stall the
# module causes (a lock never released) still shows after 5 minutes.
# Kill the guest (and leave OUT/idle) once its tests have printed nothing
# for QEMU_IDLE s.
watch_idle() {
	local pid=$1 n last_n=-1 last=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		n=$(grep -acvE '^\[ *[0-9]+\.[0-9]+\]' "$OUT/serial.log" || true)
		if [ "$n" != "$last_n" ]; then
			last_n=$n
			last=$SECONDS
		elif [ $((SECONDS - last)) -ge "$QEMU_IDLE" ]; then
			: >"$OUT/idle"
			kill -9 "$pid" 2>/dev/null
			return 0
		fi
		sleep 5
	done
	return 0
}
rm -f "$OUT/idle"
set +e
timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -cpu max -m 1024 -nographic -no-reboot -nic none \
	-kernel "$VMLINUZ" -initrd "$OUT/initramfs.cpio.gz" \
	-append 'console=ttyS0 panic=-1 panic_on_warn=1 oops=panic nowatchdog no_timer_check rcupdate.rcu_cpu_stall_timeout=300 rdinit=/init quiet loglevel=4' \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$REPO",mount_tag=repo,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$OUT",mount_tag=out,security_model=none,multidevs=remap \
	${MODSHARE:+-virtfs "local,path=$MODSHARE,mount_tag=modules,security_model=none,readonly=on,multidevs=remap"} \
	-drive file="$OUT/vda.img",if=virtio,format=raw,discard=unmap,cache=unsafe \
	-drive file="$OUT/vdb.img",if=virtio,format=raw,cache=unsafe \
	-device virtio-scsi-pci,id=scsi0 \
	-drive file="$OUT/sda.img",if=none,id=cbtscsi,format=raw,cache=unsafe \
	-device scsi-hd,drive=cbtscsi,bus=scsi0.0 \
	${QEMU_OPTS:-} \
	</dev/null >"$OUT/serial.log" 2>&1 &
qemu_pid=$!
watch_idle "$qemu_pid" &
watch_pid=$!
wait "$qemu_pid"
rc=$?
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
[ ! -e "$OUT/idle" ] || rc=125
# QEMU also exits 1 when it cannot start (a bad option): a pass needs the
# guest's own verdict line too
[ $rc != 1 ] || grep -aq 'livemig-kmod-test: guest rc=0' "$OUT/serial.log" || rc=126
set -e
t2=$(date +%s.%N)
grep -v '^\s*$' "$OUT/serial.log" | grep -v 'BAR\|^SeaBIOS\|^iPXE\|^Booting' | tail -n $((200 * $#))
case $rc in
1) say "PASS $TEST on $KVER (guest $(elapsed $t1 $t2) s, total $(elapsed $t0 $t2) s)"; exit 0 ;;
3) say "FAIL $TEST on $KVER (guest test failed; log $OUT/serial.log)"; exit 1 ;;
124) say "FAIL $TEST on $KVER: cut by QEMU_TIMEOUT after $QEMU_TIMEOUT s"; exit 1 ;;
125) say "FAIL $TEST on $KVER: hung: the guest's tests printed nothing for $QEMU_IDLE s (log $OUT/serial.log)"; exit 1 ;;
126) say "FAIL $TEST on $KVER: QEMU exited 1 without the guest's verdict (did it start?); log $OUT/serial.log"; exit 1 ;;
*) say "FAIL $TEST on $KVER: guest crashed (qemu rc=$rc; panic, oops or WARN); log $OUT/serial.log"; exit 1 ;;
esac
