// SPDX-License-Identifier: GPL-2.0-or-later
/* The headers on every answer: cookies and the page's security policy (web.h). */
#include <microhttpd.h>

#include "web.h"

/* Only our own scripts and styles; the API answers JSON that is never a
 * page. frame-ancestors: no clickjacking of the pause button. */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

void web_headers(struct MHD_Response *resp, const struct reply *rp)
{
	if (rp->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rp->set_cookie);
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (rp->raw)
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
}
