/*
 * tests/daemon/test_ckpt_sort.c: srv__ckpt_sort (the index of a checkpoint's
 * records, daemon/ckpt.c) against qsort, its naive twin, on the inputs a
 * checkpoint gives (sorted; sorted but for drops that moved the last series
 * into a hole; a small id moved late) and on any input (random, reversed,
 * duplicate ids): the same ids in the same order, every entry kept with
 * its own seq and record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ckpt.h"
#include "tests/harness.h"

static unsigned rnd(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 8) & 0xffffff;
}

static int by_id(const void *a, const void *b)
{
	const srv__kent *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorts a copy both ways: same ids in order, each entry intact (seq and
 * rec are derived from the id here, so an entry torn apart shows). */
static int sorts_like_qsort(const srv__kent *in, size_t n)
{
	srv__kent *a = malloc((n ? n : 1) * sizeof *a);
	srv__kent *b = malloc((n ? n : 1) * sizeof *b);
	size_t i;
	int ok = a && b;

	if (ok) {
		memcpy(a, in, n * sizeof *a);
		memcpy(b, in, n * sizeof *b);
		srv__ckpt_sort(a, n);
		qsort(b, n, sizeof *b, by_id);
		for (i = 0; i < n && ok; i++)
			ok = a[i].id == b[i].id &&
			     a[i].seq == (uint64_t)a[i].id * 3 &&
			     a[i].rec == (uint32_t)(a[i].id ^ 0x55);
	}
	free(a);
	free(b);
	return ok;
}

static void fill(srv__kent *k, size_t i, int64_t id)
{
	k[i] = (srv__kent){id, (uint64_t)id * 3, (uint32_t)(id ^ 0x55)};
}

/* A registry's order after drops: ids ascending, and each drop moves the
 * last entry into the dropped one's place. */
static size_t with_drops(srv__kent *k, size_t n, int drops, unsigned *x)
{
	size_t i;
	int d;

	for (i = 0; i < n; i++)
		fill(k, i, (int64_t)(i * 2 + 1));
	for (d = 0; d < drops && n > 1; d++) {
		i = rnd(x) % n;
		k[i] = k[n - 1];
		n--;
	}
	return n;
}

static void test_checkpoint_orders(void)
{
	enum { N = 5000 };
	srv__kent *k = malloc(N * sizeof *k);
	unsigned x = 7;
	size_t i, n;
	int drops;

	CHECK(k != NULL);
	if (!k)
		return;
	for (i = 0; i < N; i++)
		fill(k, i, (int64_t)i + 1);
	CHECK(sorts_like_qsort(k, N));
	CHECK(sorts_like_qsort(k, 0));
	CHECK(sorts_like_qsort(k, 1));
	for (drops = 1; drops <= 300; drops *= 3) {
		n = with_drops(k, N, drops, &x);
		CHECK(sorts_like_qsort(k, n));
	}
	/* A small id moved late, a large one early, at either end. */
	for (i = 0; i < N; i++)
		fill(k, i, (int64_t)i + 10);
	fill(k, N - 2, 1);
	fill(k, 3, 100000);
	CHECK(sorts_like_qsort(k, N));
	fill(k, 0, 200000);
	fill(k, N - 1, 0);
	CHECK(sorts_like_qsort(k, N));
	free(k);
}

static void test_any_order(void)
{
	enum { N = 3000 };
	srv__kent *k = malloc(N * sizeof *k);
	unsigned x = 11;
	size_t i;
	int rep;

	CHECK(k != NULL);
	if (!k)
		return;
	for (rep = 0; rep < 20; rep++) {
		for (i = 0; i < N; i++)
			fill(k, i,
			     (int64_t)(rnd(&x) % (rep < 10 ? 100000 : 50)));
		CHECK(sorts_like_qsort(k, N));
	}
	for (i = 0; i < N; i++)
		fill(k, i, (int64_t)(N - i));
	CHECK(sorts_like_qsort(k, N));
	/* Duplicates in a sorted run: kept, adjacent. */
	for (i = 0; i < N; i++)
		fill(k, i, (int64_t)(i / 2));
	CHECK(sorts_like_qsort(k, N));
	free(k);
}

int main(void)
{
	TH_RUN(test_checkpoint_orders);
	TH_RUN(test_any_order);
	return th_summary();
}
