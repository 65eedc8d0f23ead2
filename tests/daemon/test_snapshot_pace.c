/*
 * tests/daemon/test_snapshot_pace.c: the snapshot timer's slice
 * (srv__snapshot_slice, daemon/persist.h) visits n series once per period
 * whatever n: fewer series than seconds are not snapshotted more often
 * than store.snapshot_s says, and many are spread evenly.
 */
#include <stddef.h>

#include "daemon/persist.h"
#include "tests/harness.h"

/* Series visited over `seconds` calls, and the largest slice. */
static size_t visited(size_t n, double per, int seconds, size_t *max)
{
	double due = 0;
	size_t total = 0, k;
	int i;

	*max = 0;
	for (i = 0; i < seconds; i++) {
		k = srv__snapshot_slice(&due, n, per);
		total += k;
		if (k > *max)
			*max = k;
	}
	return total;
}

static void test_fewer_series_than_seconds(void)
{
	size_t max;

	/* 50 series at 1d: one every 1728 s, none before (rounding up
	 * visited one a second: each series every 50 s), 50 in a day. */
	CHECK_EQ_INT((int)visited(50, 86400, 1727, &max), 0);
	CHECK_EQ_INT((int)visited(50, 86400, 1728, &max), 1);
	CHECK_EQ_INT((int)visited(50, 86400, 86400, &max), 50);
	CHECK_EQ_INT((int)max, 1);
	/* 100 series at the default 10 min: one every 6 s. */
	CHECK_EQ_INT((int)visited(100, 600, 600, &max), 100);
	CHECK_EQ_INT((int)visited(100, 600, 5, &max), 0);
}

static void test_many_series(void)
{
	size_t max;

	/* 1M at 10 min: 1666 or 1667 a second, 1M per period. */
	CHECK_EQ_INT((int)visited(1000000, 600, 600, &max), 1000000);
	CHECK_EQ_INT((int)max, 1667);
	/* A period of 1 s (or less: the floor) visits every series. */
	CHECK_EQ_INT((int)visited(7, 1, 3, &max), 21);
	CHECK_EQ_INT((int)visited(7, 0.5, 1, &max), 7);
}

static void test_dropped_series(void)
{
	double due = 0;
	size_t k;

	/* What was owed to many series is not owed to the few left. */
	srv__snapshot_slice(&due, 1000, 3);
	due = 900.5; /* as if the registry shrank under it */
	k = srv__snapshot_slice(&due, 10, 600);
	CHECK_EQ_INT((int)k, 10);
	CHECK(due < 1e-6);
	CHECK_EQ_INT((int)srv__snapshot_slice(&due, 0, 600), 0);
}

int main(void)
{
	TH_RUN(test_fewer_series_than_seconds);
	TH_RUN(test_many_series);
	TH_RUN(test_dropped_series);
	return th_summary();
}
