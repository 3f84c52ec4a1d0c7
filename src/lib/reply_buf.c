// SPDX-License-Identifier: GPL-2.0-or-later
/* Bounded HTTP answer bodies (reply_buf.h). */
#include "reply_buf.h"

#include <stdlib.h>
#include <string.h>

size_t reply_buf_write(char *data, size_t size, size_t n, void *buf)
{
	struct reply_buf *b = buf;
	size_t k = size * n;
	char *p;

	if ((n && k / n != size) || b->len > b->max || k > b->max - b->len)
		return 0;
	p = realloc(b->data, b->len + k + 1);
	if (!p)
		return 0;
	memcpy(p + b->len, data, k);
	b->data = p;
	b->len += k;
	p[b->len] = '\0';
	return k;
}
