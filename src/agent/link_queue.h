/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the sender keeps queued towards staging, from the link's rate: how
 * many bytes may wait unsent in the kernel ahead of the link
 * (TCP_NOTSENT_LOWAT, set through conn_set_unsent_limit), and whether to
 * ask staging for ACKs before the ring runs out of slots (FLUSH, ring.h).
 * Pure: the caller passes the rate in (engine_link_rate of the ticker's
 * wire_peak) and applies the result; link_queue.c says why.
 */
#ifndef LIVEMIG_LINK_QUEUE_H
#define LIVEMIG_LINK_QUEUE_H

#include <stddef.h>

/* The time the queue holds at the link's rate, and its bounds. */
#define LINK_QUEUE_NS  20000000ull     /* 20 ms */
#define LINK_QUEUE_MIN ((size_t)128 << 10)
#define LINK_QUEUE_MAX ((size_t)4 << 20) /* Linux's default most for a send buffer */

/* Links slower than this (bytes/s) get FLUSHes (ring.h): 512 Mbit/s. */
#define LINK_FLUSH_MAX_RATE 64e6

/* Whether the sender asks staging for ACKs early (ring_next_send's FLUSH) on
 * a link of link_rate bytes/s: only once it is measured, and slow. */
int link_queue_flushes(double link_rate);

/* The limit for a link of link_rate bytes/s, rounded down to a power of two
 * within the bounds (so that it changes only when the rate does by half or
 * double); 0 while the rate is not measured (link_rate <= 0): no limit. */
size_t link_queue_limit(double link_rate);

#endif
