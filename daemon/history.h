/*
 * daemon/history.h: a bounded ring of a series' most recent samples.
 *
 * This is what `history` serves until the SQLite store lands: the last `cap`
 * accepted samples per series, oldest overwritten first, in memory only (a
 * restart forgets them). Timestamps in the ring increase, because only
 * in-order samples are accepted, so a range query is a binary search.
 */
#ifndef STATECAST_DAEMON_HISTORY_H
#define STATECAST_DAEMON_HISTORY_H

#include <stddef.h>

typedef struct srv_history {
	double *tv;  /* cap pairs (t, value), allocated on first append */
	size_t cap;  /* 0 = keep nothing */
	size_t head; /* index of the oldest pair */
	size_t n;    /* pairs held, <= cap */
} srv_history;

void srv_history_init(srv_history *h, size_t cap);
void srv_history_release(srv_history *h);
/* 0, or -1 when the first allocation fails (the sample is then not kept). */
int srv_history_append(srv_history *h, double t, double value);
/* Calls fn for each held pair with from <= t <= to, oldest first, at most
 * max pairs; returns how many were passed. */
size_t srv_history_range(const srv_history *h, double from, double to,
			 size_t max, void (*fn)(void *arg, double t, double v),
			 void *arg);

#endif
