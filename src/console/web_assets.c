// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The page's files (src/console/web/), built into the program with the
 * assembler's .incbin: the console serves them itself, so the page works
 * without a CDN, offline, and cannot drift from the API it calls. The
 * Makefile makes this object depend on the files.
 */
#include <errno.h>
#include <string.h>

#include "web.h"

#define ASSET(sym, file)                                                         \
	__asm__(".section .rodata\n"                                             \
		".balign 16\n"                                                   \
		".type " #sym ", @object\n"                                      \
		#sym ":\n"                                                       \
		".incbin \"src/console/web/" file "\"\n"                         \
		#sym "_end:\n"                                                   \
		".byte 0\n"                                                      \
		".previous\n");                                                  \
	extern const char sym[], sym##_end[]

ASSET(web_index_html, "index.html");
ASSET(web_app_js, "app.js");
ASSET(web_launch_js, "launch.js");
ASSET(web_app_css, "app.css");

static const struct {
	const char *path;
	const char *start, *end;
	const char *type;
} assets[] = {
	{ "/", web_index_html, web_index_html_end, "text/html; charset=utf-8" },
	{ "/index.html", web_index_html, web_index_html_end, "text/html; charset=utf-8" },
	{ "/assets/app.js", web_app_js, web_app_js_end, "text/javascript; charset=utf-8" },
	{ "/assets/launch.js", web_launch_js, web_launch_js_end, "text/javascript; charset=utf-8" },
	{ "/assets/app.css", web_app_css, web_app_css_end, "text/css; charset=utf-8" },
};

int web_asset(const char *path, const char **data, size_t *len, const char **type)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(path, assets[i].path))
			continue;
		*data = assets[i].start;
		*len = (size_t)(assets[i].end - assets[i].start);
		*type = assets[i].type;
		return 0;
	}
	return -ENOENT;
}
