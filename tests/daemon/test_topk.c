/*
 * tests/daemon/test_topk.c: srv_topk (daemon/topk.h) against a full qsort,
 * with both orders the daemon uses (the status page's: higher anomaly
 * first, then name; RPC list's: name), over series created in the worst
 * order for the old insertion (each one before all kept: display order),
 * the reverse, random orders with many equal scores, and every k from 0
 * to past n: the same series in the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/topk.h"
#include "tests/harness.h"

enum { N = 2000 };

/* srv_series ends in a flexible array: one allocation each. */
static srv_series *ser[N];
static char names[N][16];

static unsigned rnd(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 8) & 0xffffff;
}

/* The status page's order (daemon/pages.c `before`). */
static int shown_before(const srv_series *a, const srv_series *b)
{
	if (a->anomaly != b->anomaly)
		return a->anomaly > b->anomaly;
	return strcmp(a->name, b->name) < 0;
}

static int name_before(const srv_series *a, const srv_series *b)
{
	return strcmp(a->name, b->name) < 0;
}

static srv_topk_before cmp_before;

static int cmp(const void *a, const void *b)
{
	const srv_series *x = *(srv_series *const *)a;
	const srv_series *y = *(srv_series *const *)b;

	return cmp_before(x, y) ? -1 : cmp_before(y, x) ? 1 : 0;
}

/* srv_topk over in[0..n) for k, against the prefix of a full sort. */
static int same_as_sort(srv_series **in, size_t n, size_t k,
			srv_topk_before before)
{
	srv_series **all = malloc((n ? n : 1) * sizeof *all);
	srv_series **h = malloc((k ? k : 1) * sizeof *h);
	size_t i, got, want = k < n ? k : n;
	srv_topk t;
	int ok = all && h;

	if (ok) {
		memcpy(all, in, n * sizeof *all);
		cmp_before = before;
		qsort(all, n, sizeof *all, cmp);
		srv_topk_init(&t, h, k, before);
		for (i = 0; i < n; i++)
			if (srv_topk_wants(&t, in[i]))
				srv_topk_add(&t, in[i]);
		got = srv_topk_sort(&t);
		ok = got == want;
		for (i = 0; ok && i < got; i++)
			ok = h[i] == all[i];
	}
	free(all);
	free(h);
	return ok;
}

/* Series i named so that name order is i's order, with score[i]. */
static void make(srv_series **in, const float *score)
{
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "s%06zu", i);
		if (!ser[i] && !(ser[i] = calloc(1, sizeof *ser[i]))) {
			th_fail(__FILE__, __LINE__, "out of memory");
			exit(1);
		}
		ser[i]->name = names[i];
		ser[i]->anomaly = score[i];
		in[i] = ser[i];
	}
}

static void check_all_k(srv_series **in, size_t n, srv_topk_before before)
{
	static const size_t ks[] = {0,	 1,    2,    3,	   7,	 50,
				    999, 1000, 1999, 2000, 2001, 5000};
	size_t j;

	for (j = 0; j < sizeof ks / sizeof ks[0]; j++)
		if (!same_as_sort(in, n, ks[j], before)) {
			th_fail(__FILE__, __LINE__, "n %zu k %zu differs", n,
				ks[j]);
			return;
		}
}

static void test_display_order(void)
{
	static srv_series *in[N], *rev[N];
	static float score[N];
	size_t i;

	/* Falling scores in name order: each series created comes after all
	 * earlier ones, the ascending order's worst case is the reverse. */
	for (i = 0; i < N; i++)
		score[i] = (float)(N - i);
	make(in, score);
	for (i = 0; i < N; i++)
		rev[i] = in[N - 1 - i];
	/* Reversed: each new series comes before every one kept (the old
	 * insertion's O(n k)). */
	check_all_k(rev, N, shown_before);
	check_all_k(in, N, shown_before);
	check_all_k(rev, N, name_before);
	check_all_k(in, N, name_before);
	check_all_k(rev, 0, shown_before);
	check_all_k(rev, 1, shown_before);
}

static void test_ties_and_random(void)
{
	static srv_series *in[N];
	static float score[N];
	unsigned x = 7;
	size_t i, j;
	int rep;

	for (rep = 0; rep < 6; rep++) {
		/* Mostly 0 (inside the interval), a few levels: ties broken
		 * by name. */
		for (i = 0; i < N; i++)
			score[i] = rep & 1 ? (float)(rnd(&x) % 4)
					   : (rnd(&x) % 10 ? 0.f : 2.5f);
		make(in, score);
		for (i = N - 1; i > 0; i--) { /* shuffle */
			srv_series *t;

			j = rnd(&x) % (i + 1);
			t = in[i];
			in[i] = in[j];
			in[j] = t;
		}
		check_all_k(in, N, shown_before);
		check_all_k(in, N, name_before);
	}
}

int main(void)
{
	TH_RUN(test_display_order);
	TH_RUN(test_ties_and_random);
	for (size_t i = 0; i < N; i++)
		free(ser[i]);
	return th_summary();
}
