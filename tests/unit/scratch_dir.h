/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scratch directory per test program under $TMPDIR, removed whole at the
 * end: the cmocka group setup/teardown of tests that build fake roots.
 * The including file defines `static char base[N]` before including this.
 */
#ifndef LIVEMIG_TEST_SCRATCH_DIR_H
#define LIVEMIG_TEST_SCRATCH_DIR_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int scratch_remove_entry(const char *path, const struct stat *st, int flag,
				struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* base becomes $TMPDIR/NAME.XXXXXX, created */
static int scratch_dir_make(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(base) ? 0 : -1;
}

static int scratch_dir_remove(void)
{
	return nftw(base, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
