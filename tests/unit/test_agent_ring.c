// SPDX-License-Identifier: GPL-2.0-or-later
/* The ring's transitions: numbering, in-order sending and retirement, the
 * rewind after a lost connection, the flags that end waits, when the sender
 * asks staging for an ACK (FLUSH), and a whole pipeline of threads pushing
 * slots through a small ring. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

struct retired {
	uint64_t seq[4096];
	unsigned n;
};

static void record(void *arg, struct slot *s)
{
	struct retired *rt = arg;

	if (rt->n < sizeof(rt->seq) / sizeof(rt->seq[0]))
		rt->seq[rt->n] = s->seq;
	rt->n++;
}

struct fixture {
	struct ring r;
	atomic_int stop, paused, broken;
	struct retired rt;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || ring_init(&f->r, 4, &f->stop, record, &f->rt))
		return -1;
	*state = f;
	return 0;
}

/* A ring of 8, where a quarter is 2 slots: the FLUSH tests. */
static int setup8(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || ring_init(&f->r, 8, &f->stop, record, &f->rt))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ring_free(&f->r);
	free(f);
	return 0;
}

/* Reader and worker steps for one slot; carries a frame when frames != 0. */
static struct slot *push(struct fixture *f, int frames)
{
	struct slot *s = ring_claim(&f->r, &f->paused);

	assert_non_null(s);
	s->kind = SLOT_DATA;
	ring_publish(&f->r, s);
	assert_ptr_equal(ring_take(&f->r), s);
	s->wire_len = frames ? 100 : 0;
	s->last_seq = frames ? s->seq + (uint64_t)frames - 1 : s->seq - 1;
	ring_ready(&f->r, s);
	return s;
}

static void test_numbers_and_retires_in_order(void **state)
{
	struct fixture *f = *state;
	struct slot *a = push(f, 3), *b = push(f, 0), *c = push(f, 1);

	assert_int_equal(a->seq, 1u << SLOT_SEQ_SHIFT);
	assert_int_equal(b->seq, 2u << SLOT_SEQ_SHIFT);
	assert_int_equal(c->seq, 3u << SLOT_SEQ_SHIFT);
	/* sent in ring order, whatever order the workers finished in */
	for (struct slot *want = a; want; want = want == a ? b : want == b ? c : NULL) {
		struct slot *s = ring_next_ready(&f->r, &f->broken);

		assert_ptr_equal(s, want);
		ring_sent(&f->r, s);
	}
	/* b carries nothing, but it may not retire before a */
	assert_int_equal(f->rt.n, 0);
	ring_ack(&f->r, a->last_seq - 1); /* half of a: nothing retires */
	assert_int_equal(f->rt.n, 0);
	ring_ack(&f->r, a->last_seq);
	assert_int_equal(f->rt.n, 2); /* a, and b right behind it */
	assert_int_equal(f->rt.seq[0], 1u << SLOT_SEQ_SHIFT);
	assert_int_equal(f->rt.seq[1], 2u << SLOT_SEQ_SHIFT);
	ring_ack(&f->r, 5); /* an old ACK moves nothing back */
	assert_int_equal(f->r.acked_seq, a->last_seq);
	ring_ack(&f->r, c->last_seq);
	assert_int_equal(f->rt.n, 3);
	assert_int_equal(ring_drain(&f->r), 0);
	assert_int_equal(f->r.head, f->r.tail);
}

static void test_nothing_to_send_retires_when_sent(void **state)
{
	struct fixture *f = *state;
	struct slot *s = push(f, 0);

	assert_ptr_equal(ring_next_ready(&f->r, &f->broken), s);
	ring_sent(&f->r, s);
	assert_int_equal(f->rt.n, 1);
	assert_int_equal(s->state, SLOT_FREE);
}

static void test_rewind_resends_unacknowledged(void **state)
{
	struct fixture *f = *state;
	struct slot *a = push(f, 1), *b = push(f, 1);

	ring_sent(&f->r, ring_next_ready(&f->r, &f->broken));
	ring_sent(&f->r, ring_next_ready(&f->r, &f->broken));
	ring_ack(&f->r, a->last_seq);
	assert_int_equal(f->rt.n, 1);
	/* the connection ends: b goes again on the next one, whose ACKs start over */
	atomic_store(&f->broken, 1);
	assert_null(ring_next_ready(&f->r, &f->broken));
	ring_rewind(&f->r);
	assert_int_equal(f->r.acked_seq, 0);
	assert_int_equal(b->state, SLOT_READY);
	atomic_store(&f->broken, 0);
	assert_ptr_equal(ring_next_ready(&f->r, &f->broken), b);
	ring_sent(&f->r, b);
	ring_ack(&f->r, b->last_seq);
	assert_int_equal(f->rt.n, 2);
	assert_int_equal(ring_drain(&f->r), 0);
}

static void test_full_ring_frees_a_slot_on_ack(void **state)
{
	struct fixture *f = *state;
	struct slot *first = push(f, 1);

	for (int i = 0; i < 3; i++)
		push(f, 1);
	for (int i = 0; i < 4; i++)
		ring_sent(&f->r, ring_next_ready(&f->r, &f->broken));
	assert_int_equal(f->r.tail - f->r.head, f->r.depth);
	ring_ack(&f->r, first->last_seq);
	/* the freed slot is the first one, reused at the next position */
	assert_ptr_equal(ring_claim(&f->r, &f->paused), first);
}

static void test_stop_ends_every_wait(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 4; i++)
		push(f, 1);
	atomic_store(&f->stop, 1);
	ring_wake(&f->r);
	assert_null(ring_claim(&f->r, &f->paused)); /* full */
	assert_null(ring_take(&f->r));              /* nothing filled */
	assert_null(ring_next_ready(&f->r, &f->broken));
	assert_int_equal(ring_drain(&f->r), -ECANCELED);
}

static void test_paused_reader_waits_until_stop(void **state)
{
	struct fixture *f = *state;

	atomic_store(&f->paused, 1);
	atomic_store(&f->stop, 1);
	assert_null(ring_claim(&f->r, &f->paused));
	atomic_store(&f->stop, 0);
	atomic_store(&f->paused, 0);
	assert_non_null(ring_claim(&f->r, &f->paused));
}

/* The sender asks for an ACK once a quarter of the ring (2 of 8) waits for
 * one, numbered past the last frame sent, before a slot that is ready; not
 * again until staging answered and a frame was sent since; and without a
 * ready slot when the answer comes. */
static void test_flush_when_a_quarter_of_the_ring_waits(void **state)
{
	struct fixture *f = *state;
	struct slot *a = push(f, 3), *b, *c, *d, *e;
	uint64_t flush = 99;

	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), a);
	assert_int_equal(flush, 0);
	ring_sent(&f->r, a);
	b = push(f, 0);
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), b);
	ring_sent(&f->r, b); /* nothing on the wire, yet it waits behind a */
	c = push(f, 1);
	/* a quarter waits: the FLUSH goes before c, after a's last frame */
	assert_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, a->last_seq + 1);
	assert_true(flush < c->seq);
	/* unanswered: c and d go, no second FLUSH */
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), c);
	assert_int_equal(flush, 0);
	ring_sent(&f->r, c);
	d = push(f, 2);
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), d);
	ring_sent(&f->r, d);
	/* staging answers: a and b retire, c and d are a quarter again, and
	 * the next FLUSH is due with no slot ready */
	ring_ack(&f->r, a->last_seq + 1);
	assert_int_equal(f->rt.n, 2);
	assert_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, d->last_seq + 1);
	ring_ack(&f->r, flush);
	assert_int_equal(f->rt.n, 4);
	/* nothing waits: the next slot goes, and alone it is not a quarter */
	e = push(f, 1);
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), e);
	assert_int_equal(flush, 0);
	ring_sent(&f->r, e);
	push(f, 1);
	assert_non_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, 0);
}

/* Slots with nothing on the wire give no FLUSH a number; a new connection
 * forgets the old one's FLUSH. */
static void test_flush_numbers_and_rewind(void **state)
{
	struct fixture *f = *state;
	struct slot *a, *b;
	uint64_t flush;

	push(f, 0);
	push(f, 0);
	ring_sent(&f->r, ring_next_send(&f->r, &f->broken, 1, &flush));
	ring_sent(&f->r, ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(f->rt.n, 2); /* retired at once: nothing to flush */
	a = push(f, 1);
	b = push(f, 1);
	ring_sent(&f->r, ring_next_send(&f->r, &f->broken, 1, &flush));
	ring_sent(&f->r, ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, b->last_seq + 1);
	/* the connection ends before the answer */
	atomic_store(&f->broken, 1);
	assert_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, 0);
	ring_rewind(&f->r);
	atomic_store(&f->broken, 0);
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), a);
	ring_sent(&f->r, a);
	assert_ptr_equal(ring_next_send(&f->r, &f->broken, 1, &flush), b);
	ring_sent(&f->r, b);
	/* asked again on the new connection, with the same number */
	assert_null(ring_next_send(&f->r, &f->broken, 1, &flush));
	assert_int_equal(flush, b->last_seq + 1);
}

/* A reader, two workers and a sender that acknowledges what it sends, as
 * staging would; the retirements must come out complete and in order. */
#define PIPELINE_SLOTS 1000

static void *reader(void *arg)
{
	struct fixture *f = arg;

	for (int i = 0; i < PIPELINE_SLOTS; i++) {
		struct slot *s = ring_claim(&f->r, &f->paused);

		if (!s)
			break;
		s->kind = i % 7 ? SLOT_DATA : SLOT_MARK;
		s->len = (uint32_t)i;
		ring_publish(&f->r, s);
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct fixture *f = arg;
	struct slot *s;

	while ((s = ring_take(&f->r))) {
		/* every third slot has nothing to send (all blocks unchanged) */
		s->wire_len = s->len % 3 ? 1 : 0;
		s->last_seq = s->wire_len ? s->seq + s->len % 5 : s->seq - 1;
		ring_ready(&f->r, s);
	}
	return NULL;
}

static void *sender(void *arg)
{
	struct fixture *f = arg;
	struct slot *s;
	unsigned n = 0;
	uint64_t flush;

	while ((s = ring_next_send(&f->r, &f->broken, 1, &flush)) || flush) {
		uint64_t last;

		if (!s) { /* staging answers a FLUSH at once */
			ring_ack(&f->r, flush);
			continue;
		}
		last = s->last_seq;
		ring_sent(&f->r, s);
		/* acknowledge in batches, and once a lost connection, to exercise rewind */
		if (++n % 3 == 0)
			ring_ack(&f->r, last);
		if (n == 500) {
			ring_rewind(&f->r);
			n++;
		}
	}
	return NULL;
}

static void test_pipeline_of_threads(void **state)
{
	struct fixture *f = *state;
	pthread_t rd, w1, w2, sd;

	assert_int_equal(pthread_create(&sd, NULL, sender, f), 0);
	assert_int_equal(pthread_create(&w1, NULL, worker, f), 0);
	assert_int_equal(pthread_create(&w2, NULL, worker, f), 0);
	assert_int_equal(pthread_create(&rd, NULL, reader, f), 0);
	assert_int_equal(pthread_join(rd, NULL), 0);
	/* the last slots may wait for an ACK the sender's batching holds back
	 * (its rewind is behind it by then: it comes at the 500th send) */
	pthread_mutex_lock(&f->r.mu);
	while (f->r.sent != f->r.tail)
		pthread_cond_wait(&f->r.changed, &f->r.mu);
	pthread_mutex_unlock(&f->r.mu);
	ring_ack(&f->r, (uint64_t)(PIPELINE_SLOTS + 1) << SLOT_SEQ_SHIFT);
	assert_int_equal(ring_drain(&f->r), 0);
	atomic_store(&f->stop, 1);
	ring_wake(&f->r);
	assert_int_equal(pthread_join(w1, NULL), 0);
	assert_int_equal(pthread_join(w2, NULL), 0);
	assert_int_equal(pthread_join(sd, NULL), 0);
	assert_int_equal(f->rt.n, PIPELINE_SLOTS);
	for (unsigned i = 0; i < PIPELINE_SLOTS; i++)
		assert_int_equal(f->rt.seq[i], (uint64_t)(i + 1) << SLOT_SEQ_SHIFT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numbers_and_retires_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_send_retires_when_sent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewind_resends_unacknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_frees_a_slot_on_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_ends_every_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_reader_waits_until_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_when_a_quarter_of_the_ring_waits, setup8,
						teardown),
		cmocka_unit_test_setup_teardown(test_flush_numbers_and_rewind, setup8, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_of_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
