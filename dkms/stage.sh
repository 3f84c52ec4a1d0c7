#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Assemble the DKMS source tree of livemig-cbt.
#   dkms/stage.sh DEST VERSION      e.g. /usr/src/livemig-cbt-0.1.0 0.1.0
set -eu
DEST=${1:?usage: stage.sh DEST VERSION}
VERSION=${2:?usage: stage.sh DEST VERSION}
REPO=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$DEST/uapi"
cp "$REPO"/kmod/Kbuild "$REPO"/kmod/*.c "$REPO"/kmod/*.h "$DEST/"
cp "$REPO"/kmod/uapi/livemig_cbt.h "$DEST/uapi/"
rm -f "$DEST/cbt_config.h"
install -m 0755 "$REPO/dkms/livemig-cbt-probe.sh" "$DEST/"
sed "s/#MODULE_VERSION#/$VERSION/" "$REPO/dkms/dkms.conf" >"$DEST/dkms.conf"
