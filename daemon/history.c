/*
 * daemon/history.c: the in-memory sample ring (see history.h).
 */
#include "daemon/history.h"

#include <stdlib.h>

void srv_history_init(srv_history *h, size_t cap)
{
	h->tv = NULL;
	h->cap = cap;
	h->head = 0;
	h->n = 0;
}

void srv_history_release(srv_history *h)
{
	free(h->tv);
	srv_history_init(h, h->cap);
}

int srv_history_append(srv_history *h, double t, double value)
{
	size_t at;

	if (h->cap == 0)
		return 0;
	if (!h->tv) {
		h->tv = malloc(2 * h->cap * sizeof *h->tv);
		if (!h->tv)
			return -1;
	}
	if (h->n < h->cap) {
		at = (h->head + h->n) % h->cap;
		h->n++;
	} else {
		at = h->head;
		h->head = (h->head + 1) % h->cap;
	}
	h->tv[2 * at] = t;
	h->tv[2 * at + 1] = value;
	return 0;
}

static double t_at(const srv_history *h, size_t i)
{
	return h->tv[2 * ((h->head + i) % h->cap)];
}

size_t srv_history_range(const srv_history *h, double from, double to,
			 size_t max, void (*fn)(void *arg, double t, double v),
			 void *arg)
{
	size_t lo = 0, hi = h->n, i, sent = 0;

	/* First index with t >= from. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t_at(h, mid) < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < h->n && sent < max; i++) {
		size_t at = (h->head + i) % h->cap;
		if (h->tv[2 * at] > to)
			break;
		fn(arg, h->tv[2 * at], h->tv[2 * at + 1]);
		sent++;
	}
	return sent;
}
