/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's one route table: {method, pattern, handler} for every
 * endpoint of the REST API, the web page's calls and its assets
 * (docs/console-api.md, docs/console.md), and the one path parser that
 * matches a request against it. http.c is the HTTP layer only; it calls
 * route_request() once per request.
 *
 * A pattern is a path of literal segments and at most one parameter:
 *   {machine}  one segment naming a machine (name_valid), else no match
 *   {id}       one non-empty segment; its handler checks what it holds
 * The parameter's value is in rq->param when the handler runs.
 */
#ifndef LIVEMIG_CONSOLE_ROUTES_H
#define LIVEMIG_CONSOLE_ROUTES_H

#include <stddef.h>

#include "http.h"

typedef void route_handler(struct request *rq, struct reply *rp);

struct route {
	const char *method;
	const char *pattern;
	route_handler *fn;
};

/* 1 when path matches pattern, with its first {parameter} in param and a
 * second in param2 (NULL: patterns with two do not match), else 0. */
int route_match(const char *pattern, const char *path, char *param, size_t plen, char *param2,
		size_t plen2);
/* Run the matching route's handler on rq; 405 when the path is known with
 * another method, 404 when no pattern matches. */
void route_dispatch(const struct route *table, size_t n, struct request *rq, struct reply *rp);
/* route_dispatch over the console's table. */
void route_request(struct request *rq, struct reply *rp);

#endif
