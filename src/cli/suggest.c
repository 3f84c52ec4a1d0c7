// SPDX-License-Identifier: GPL-2.0-or-later
#include "suggest.h"

#include <string.h>

#include "prereq.h"

#define SUGGEST_MAX_LEN 64

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Optimal string alignment distance: Levenshtein plus adjacent swaps, the
 * commonest typing slip ("stauts"). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

const char *suggest_closest(const char *typo, suggest_candidate_fn *candidate, void *arg)
{
	size_t limit = strlen(typo) <= 4 ? 1 : 2, best = (size_t)-1;
	const char *found = NULL, *c;
	int tie = 0;

	for (size_t i = 0; (c = candidate(i, arg)); i++) {
		size_t dist = distance(typo, c);

		if (dist < best) {
			best = dist;
			found = c;
			tie = 0;
		} else if (dist == best) {
			tie = 1;
		}
	}
	return found && best <= limit && !tie ? found : NULL;
}

static const char *check_id(size_t i, void *arg)
{
	(void)arg;
	return prereq_check_id(i);
}

const char *suggest_check_id(const char *typo)
{
	return suggest_closest(typo, check_id, NULL);
}
