# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the recovery point tests (after lib.sh):
#   make_fs xfs|ext4 DIR SIZE    a fresh file system on a loop device of an image
#                                in $T, mounted on DIR (XFS with reflink=1);
#                                unmounted and detached at exit
#   pts ARGS...                  livemig-staging points ARGS... --store $STAGING_STORE
#   model_of SEQ DISK FILE       the sha256 that frames.py's script printed for
#                                DISK at the MARK of SEQ (MODEL lines in FILE)
#   point_seq ID                 the mark_seq of point ID (its point.json)
#   export_sha ID DISK [FORMAT]  export, print the sha256 of the disk's bytes
#                                (a qcow2 is converted back to raw by qemu-img)

make_fs() {
	local type=$1 dir=$2 size=$3 img dev
	img=$T/$type-$(basename "$dir").img
	truncate -s "$size" "$img"
	dev=$(make_loop "$img") || die "no loop device for $img"
	case $type in
	xfs) mkfs.xfs -q -m reflink=1 "$dev" || die "mkfs.xfs -m reflink=1 failed" ;;
	# initialized now, not by a background thread that would slow the test
	ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" || die "mkfs.ext4 failed" ;;
	*) die "make_fs: unknown type $type" ;;
	esac
	mkdir -p "$dir"
	mount "$dev" "$dir" || die "cannot mount $dev ($type) on $dir"
	track_mount "$dir"
}

pts() {
	"$BUILD/livemig-staging" points "$@" --store "$STAGING_STORE"
}

model_of() {
	local line
	line=$(grep -E "^MODEL $1 $2 " "$3" | sed -n 1p)
	[ -n "$line" ] || die "no model for seq $1 disk $2 in $3"
	echo "${line##* }"
}

point_seq() {
	jq -r .mark_seq "$STAGING_STORE/$MACHINE/points/$1/point.json"
}

export_sha() {
	local id=$1 disk=$2 fmt=${3:-raw} out
	out=$T/export.$id.$disk.$fmt
	rm -f "$out" "$out.raw"
	pts export "$MACHINE" "$id" --disk "$disk" --format "$fmt" --output "$out" >/dev/null ||
		die "export of point $id disk $disk ($fmt) failed"
	if [ "$fmt" = qcow2 ]; then
		[ "$(qemu-img info --output=json "$out" | jq -r .format)" = qcow2 ] ||
			die "export of point $id disk $disk is not a qcow2 file"
		qemu-img convert -f qcow2 -O raw "$out" "$out.raw" || die "qemu-img cannot read $out"
		out=$out.raw
	fi
	file_sha "$out"
}
