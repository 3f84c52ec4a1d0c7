/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How many bytes the sender lets wait unsent in the kernel ahead of the link
 * (TCP_NOTSENT_LOWAT, set by sender.c through conn_set_unsent_limit), from
 * the link's rate. Pure: the caller passes the rate in (engine_link_rate of
 * the ticker's wire_peak) and applies the result; link_queue.c says why.
 */
#ifndef LIVEMIG_LINK_QUEUE_H
#define LIVEMIG_LINK_QUEUE_H

#include <stddef.h>

/* The time the queue holds at the link's rate, and its bounds. */
#define LINK_QUEUE_NS  20000000ull     /* 20 ms */
#define LINK_QUEUE_MIN ((size_t)128 << 10)
#define LINK_QUEUE_MAX ((size_t)4 << 20) /* Linux's default most for a send buffer */

/* The limit for a link of link_rate bytes/s, rounded down to a power of two
 * within the bounds (so that it changes only when the rate does by half or
 * double); 0 while the rate is not measured (link_rate <= 0): no limit. */
size_t link_queue_limit(double link_rate);

#endif
