/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The names of a replica on the RBD store, owned here because two parts
 * build them: the store that writes the image and its snapshots
 * (store_rbd.c) and the launch job that clones a point's snapshots for
 * livemig-launch (launch_args.c). A disk's image is livemig-MACHINE+DISK
 * ('+' cannot occur in either name); recovery point N is its snapshot
 * point-N.
 */
#ifndef LIVEMIG_STAGING_RBD_NAMES_H
#define LIVEMIG_STAGING_RBD_NAMES_H

#define RBD_IMAGE_FMT   "livemig-%s+%s"
#define RBD_SNAP_PREFIX "point-"

#endif
