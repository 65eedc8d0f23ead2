/* tests/io/test_grow.c: io_grow's capacities (zero, doubling, the size_t
 * ceiling) and its realloc contract (contents kept, failure leaves the old
 * array and capacity alone). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "tests/harness.h"

static void test_cap_table(void)
{
	static const struct {
		size_t cap, need, elem, first, want;
	} cases[] = {
	    /* Zero: an empty array grows to `first`; first 0 counts as 1. */
	    {0, 1, 8, 16, 16},
	    {0, 1, 8, 0, 1},
	    {0, 5, 8, 0, 8},
	    /* A capacity that already holds need is kept, need 0 included. */
	    {0, 0, 8, 64, 0},
	    {16, 0, 8, 64, 16},
	    {16, 16, 8, 64, 16},
	    /* An element of size 0 has no meaningful byte count: refused. */
	    {0, 1, 0, 64, 0},
	    /* Growth: doubling from the old capacity, not from `first`. */
	    {16, 17, 8, 64, 32},
	    {16, 100, 8, 64, 128},
	    {0, 100, 8, 64, 128},
	    {0, 65, 1, 64, 128},
	    {3, 4, 4, 64, 6},
	    {3, 7, 4, 64, 12},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t got = io_grow_cap(cases[i].cap, cases[i].need,
					 cases[i].elem, cases[i].first);
		if (got != cases[i].want)
			th_fail(__FILE__, __LINE__,
				"case %zu: io_grow_cap(%zu, %zu, %zu, %zu) = "
				"%zu, want %zu",
				i, cases[i].cap, cases[i].need, cases[i].elem,
				cases[i].first, got, cases[i].want);
	}
}

static void test_cap_overflow(void)
{
	size_t max8 = SIZE_MAX / 8;

	/* need * elem past size_t: refused, never wrapped. */
	CHECK_EQ_INT(io_grow_cap(0, max8 + 1, 8, 64), 0);
	CHECK_EQ_INT(io_grow_cap(16, SIZE_MAX, 2, 64), 0);
	CHECK(io_grow_cap(0, SIZE_MAX, 1, 64) == SIZE_MAX);
	/* Doubling past the ceiling stops at it (it holds need). */
	CHECK(io_grow_cap(max8 / 2 + 1, max8 / 2 + 2, 8, 64) == max8);
	CHECK(io_grow_cap(max8 - 1, max8, 8, 64) == max8);
	CHECK(io_grow_cap(0, max8, 8, 64) == max8);
	/* A first capacity beyond the ceiling is clamped to it. */
	CHECK(io_grow_cap(0, 2, SIZE_MAX / 4, SIZE_MAX) == 4);
	/* The result's bytes always fit. */
	CHECK(io_grow_cap(max8 / 2 + 1, max8 / 2 + 2, 8, 64) <= SIZE_MAX / 8);
}

static void test_grow_keeps_contents(void)
{
	size_t cap = 0, i, caps = 0, last = 0;
	int *a = NULL, *before;

	for (i = 0; i < 10000; i++) {
		if (io_grow(&a, &cap, i + 1, sizeof *a, 16)) {
			CHECK(!"io_grow failed");
			break;
		}
		CHECK(cap >= i + 1);
		if (cap != last) {
			caps++;
			last = cap;
		}
		a[i] = (int)i * 7;
	}
	/* 16, 32, ..., 16384: doubling, not one realloc per append. */
	CHECK_EQ_INT(cap, 16384);
	CHECK_EQ_INT(caps, 11);
	for (i = 0; i < 10000; i++)
		if (a[i] != (int)i * 7)
			break;
	CHECK_EQ_INT(i, 10000);
	/* Enough room: nothing reallocated, capacity unchanged. */
	before = a;
	CHECK_EQ_INT(io_grow(&a, &cap, 100, sizeof *a, 16), 0);
	CHECK(a == before && cap == 16384);
	free(a);
}

static void test_grow_zero(void)
{
	size_t cap = 0;
	char *p = NULL;

	/* Nothing needed: nothing allocated, and that is success. */
	CHECK_EQ_INT(io_grow(&p, &cap, 0, 1, 256), 0);
	CHECK(p == NULL && cap == 0);
	/* An element size of 0 is refused rather than divided by. */
	CHECK_EQ_INT(io_grow(&p, &cap, 1, 0, 256), -1);
	CHECK(p == NULL && cap == 0);
	CHECK_EQ_INT(io_grow(&p, &cap, 1, 1, 256), 0);
	CHECK(p != NULL && cap == 256);
	free(p);
}

static void test_grow_failure_leaves_array(void)
{
	size_t cap = 4;
	double *a = malloc(cap * sizeof *a), *before = a;

	CHECK(a != NULL);
	if (!a)
		return;
	a[3] = 2.5;
	/* need * elem past size_t: -1, old array and capacity unchanged. */
	CHECK_EQ_INT(io_grow(&a, &cap, SIZE_MAX / 4, sizeof *a, 16), -1);
	CHECK(a == before);
	CHECK_EQ_INT(cap, 4);
	CHECK(a[3] == 2.5);
	free(a);
}

int main(void)
{
	TH_RUN(test_cap_table);
	TH_RUN(test_cap_overflow);
	TH_RUN(test_grow_keeps_contents);
	TH_RUN(test_grow_zero);
	TH_RUN(test_grow_failure_leaves_array);
	return th_summary();
}
