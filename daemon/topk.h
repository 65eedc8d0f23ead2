/*
 * daemon/topk.h: the first k series of an order, from one pass over the
 * registry, in O(n log k) with k entries of memory.
 *
 * A bounded max-heap: its root is the last series kept. A candidate that
 * does not come before the root costs one comparison (at 1M series and
 * k = 1000 nearly all of them); one that does replaces the root and sinks
 * (log k). srv_topk_sort() then orders the kept ones, first first. With a
 * strict total order (ties broken by name, which the registry keeps
 * unique) the result is the prefix a full sort would give.
 *
 * Users: RPC list (rpc_methods.c, by name) and the status page's shown
 * series (pages.c, by anomaly then name).
 *
 * Ownership: h is the caller's array of cap entries; the series are the
 * registry's. Loop thread only, like the registry.
 */
#ifndef STATECAST_DAEMON_TOPK_H
#define STATECAST_DAEMON_TOPK_H

#include <stddef.h>

#include "daemon/registry.h"

/* 1 when a comes strictly before b. */
typedef int (*srv_topk_before)(const srv_series *a, const srv_series *b);

typedef struct srv_topk {
	srv_series **h;
	size_t n, cap;
	srv_topk_before before;
} srv_topk;

void srv_topk_init(srv_topk *t, srv_series **h, size_t cap,
		   srv_topk_before before);
/* Would se be kept (now)? Lets a caller skip costlier checks. */
int srv_topk_wants(const srv_topk *t, const srv_series *se);
/* Offers se: kept when wanted, dropping the last kept when full. */
void srv_topk_add(srv_topk *t, srv_series *se);
/* Orders h[0..n) first first (in place, heapsort) and returns n; the
 * heap is spent. */
size_t srv_topk_sort(srv_topk *t);

#endif
