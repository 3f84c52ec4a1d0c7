/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `livemig status` as text (status_text.c). */
#ifndef LIVEMIG_CLI_STATUS_TEXT_H
#define LIVEMIG_CLI_STATUS_TEXT_H

#include <stdio.h>

#include <jansson.h>

#define STATUS_TEXT_UNLIMITED 100000 /* a width no line reaches */

/* The status document st as lines of at most width columns (long values wrap;
 * long disk paths are shortened in the middle); bars draws progress bars in
 * the room the disk table leaves. */
void status_text_render(FILE *f, json_t *st, int bars, int width);

#endif
