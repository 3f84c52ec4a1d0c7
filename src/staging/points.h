/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recovery points of the machines in the store, as JSON (the point format
 * of docs/staging-console.md). The point store itself comes with the
 * recovery points work; until it is merged this header is the contract the
 * console sync is written against, and points_pending.c answers it.
 */
#ifndef LIVEMIG_STAGING_POINTS_H
#define LIVEMIG_STAGING_POINTS_H

#include <jansson.h>

/* {"machine": machine, "points": [P, ...]} into *out. 0 or -errno. */
int points_list_json(const char *store_dir, const char *machine, json_t **out);

#endif
