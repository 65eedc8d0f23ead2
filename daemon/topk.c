/* daemon/topk.c: see topk.h. */
#include "daemon/topk.h"

/* Restores the heap over h[0..n) below i: no entry comes after its
 * parent, so h[0] is the last in order. */
static void sift_down(srv_series **h, size_t n, size_t i,
		      srv_topk_before before)
{
	size_t c;

	while ((c = 2 * i + 1) < n) {
		srv_series *t;

		if (c + 1 < n && before(h[c], h[c + 1]))
			c++;
		if (!before(h[i], h[c]))
			return;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
}

void srv_topk_init(srv_topk *t, srv_series **h, size_t cap,
		   srv_topk_before before)
{
	t->h = h;
	t->n = 0;
	t->cap = cap;
	t->before = before;
}

int srv_topk_wants(const srv_topk *t, const srv_series *se)
{
	return t->n < t->cap || (t->cap > 0 && t->before(se, t->h[0]));
}

void srv_topk_add(srv_topk *t, srv_series *se)
{
	size_t j;

	if (t->n < t->cap) {
		t->h[t->n++] = se;
		if (t->n == t->cap) /* full: heapify once, bottom up */
			for (j = t->n / 2; j-- > 0;)
				sift_down(t->h, t->n, j, t->before);
	} else if (t->cap > 0 && t->before(se, t->h[0])) {
		t->h[0] = se;
		sift_down(t->h, t->n, 0, t->before);
	}
}

size_t srv_topk_sort(srv_topk *t)
{
	size_t j, n = t->n;

	if (n < t->cap) /* never filled: not a heap yet */
		for (j = n / 2; j-- > 0;)
			sift_down(t->h, n, j, t->before);
	for (j = n; j > 1; j--) {
		srv_series *last = t->h[0];

		t->h[0] = t->h[j - 1];
		t->h[j - 1] = last;
		sift_down(t->h, j - 1, 0, t->before);
	}
	return n;
}
