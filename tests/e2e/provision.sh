#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs once, inside the e2e source machine, at the image's build
# (source_image.sh, e2e-provision.service): what needs a running system.
# The second disk becomes LVM (VG vgdata, LV pgdata, ext4) mounted on
# /var/lib/postgresql by its /dev/mapper name, PostgreSQL 15's cluster is
# made on it, pgbench's tables are initialised, amcheck is created; then the
# unit removes itself and the machine powers off. Its output is on the serial
# console (the unit's journal+console; an fd of /dev/ttyS0 opened before the
# serial getty starts is hung up by it); "E2E-PROVISIONED ok" is the build's
# signal.
set -euxo pipefail
LV=/dev/mapper/vgdata-pgdata
pvcreate -y /dev/sdb
vgcreate vgdata /dev/sdb
lvcreate -y -l 100%FREE -n pgdata vgdata
mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$LV"
# debootstrap made no cluster (its postinst cannot run one in the chroot)
install -d -o postgres -g postgres /var/lib/postgresql
echo "$LV /var/lib/postgresql ext4 defaults 0 2" >>/etc/fstab
systemctl daemon-reload
mount /var/lib/postgresql
chown postgres:postgres /var/lib/postgresql
pg_createcluster 15 main
systemctl start postgresql@15-main
for _ in $(seq 300); do pg_isready -q && break; sleep 1; done
runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION amcheck'
runuser -u postgres -- pgbench -i -s 1 postgres
systemctl disable e2e-provision.service
rm /usr/local/sbin/e2e-provision
sync
echo "E2E-PROVISIONED ok" >/dev/ttyS0
systemctl poweroff
