/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Did you mean ...?" for a mistyped command, check id or option value. */
#ifndef LIVEMIG_CLI_SUGGEST_H
#define LIVEMIG_CLI_SUGGEST_H

#include <stddef.h>

/* The i-th candidate, or NULL past the last. */
typedef const char *suggest_candidate_fn(size_t i, void *arg);

/*
 * The candidate closest to typo by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours), if it is close enough to be what
 * was meant: at most 1 edit for words of up to 4 letters, 2 beyond. NULL
 * otherwise, or when two candidates are equally close.
 */
const char *suggest_closest(const char *typo, suggest_candidate_fn *candidate, void *arg);

/* The prerequisite check id closest to typo, or NULL (as above). */
const char *suggest_check_id(const char *typo);

#endif
