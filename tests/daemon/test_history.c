/*
 * tests/daemon/test_history.c: the in-memory sample ring against a naive
 * twin (an array of everything appended), and the registry's map against
 * a linear scan, through growth and drops.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/history.h"
#include "daemon/registry.h"
#include "ssm/nominal.h"
#include "tests/harness.h"

typedef struct got {
	double tv[2 * 64];
	size_t n;
} got;

static void collect(void *arg, double t, double v)
{
	got *g = arg;
	g->tv[2 * g->n] = t;
	g->tv[2 * g->n + 1] = v;
	g->n++;
}

static void test_ring_matches_naive_twin(void)
{
	srv_history h;
	double all[2 * 200];
	size_t n, i;

	srv_history_init(&h, 16);
	for (n = 0; n < 200; n++) {
		all[2 * n] = 10.0 * (double)n;
		all[2 * n + 1] = (double)(n * n);
		CHECK_EQ_INT(srv_history_append(&h, all[2 * n], all[2 * n + 1]),
			     0);
		/* The ring holds the last min(n+1, 16) samples. */
		size_t keep = n + 1 < 16 ? n + 1 : 16;
		got g = {{0}, 0};
		CHECK_EQ_INT(srv_history_range(&h, -INFINITY, INFINITY, 100,
					       collect, &g),
			     keep);
		for (i = 0; i < keep; i++) {
			size_t j = n + 1 - keep + i;
			CHECK(g.tv[2 * i] == all[2 * j]);
			CHECK(g.tv[2 * i + 1] == all[2 * j + 1]);
		}
	}
	/* Ranges are inclusive; max caps the count. */
	{
		got g = {{0}, 0};
		CHECK_EQ_INT(
		    srv_history_range(&h, 1900, 1930, 100, collect, &g), 4);
		CHECK(g.tv[0] == 1900 && g.tv[6] == 1930);
		g.n = 0;
		CHECK_EQ_INT(srv_history_range(&h, 0, 1e9, 3, collect, &g), 3);
		CHECK(g.tv[0] == 1840);
		g.n = 0;
		CHECK_EQ_INT(srv_history_range(&h, 5000, 6000, 3, collect, &g),
			     0);
	}
	srv_history_release(&h);
}

static void test_ring_of_zero_keeps_nothing(void)
{
	srv_history h;
	got g = {{0}, 0};

	srv_history_init(&h, 0);
	CHECK_EQ_INT(srv_history_append(&h, 1, 2), 0);
	CHECK_EQ_INT(srv_history_range(&h, 0, 10, 10, collect, &g), 0);
	srv_history_release(&h);
}

static void test_registry_matches_scan(void)
{
	srv_registry r;
	char name[32];
	int i;

	/* No model: srv_series_start is not called here. */
	CHECK_EQ_INT(srv_registry_init(&r, NULL, 8), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "s.%d;k=%d", i, i % 7);
		CHECK(srv_registry_find(&r, name, strlen(name)) == NULL);
		CHECK(srv_registry_add(&r, name, strlen(name), 0, 0) != NULL);
	}
	CHECK_EQ_INT(r.n, 5000);
	CHECK(r.nslots * 3 / 4 >= 5000); /* grew */
	/* Drop every third series, then every lookup agrees with a scan. */
	for (i = 0; i < 5000; i += 3) {
		snprintf(name, sizeof name, "s.%d;k=%d", i, i % 7);
		srv_registry_drop(&r,
				  srv_registry_find(&r, name, strlen(name)));
	}
	srv_registry_reap(&r);
	for (i = 0; i < 5000; i++) {
		size_t j;
		srv_series *scan = NULL, *hit;
		snprintf(name, sizeof name, "s.%d;k=%d", i, i % 7);
		for (j = 0; j < r.n; j++)
			if (strcmp(r.all[j]->name, name) == 0)
				scan = r.all[j];
		hit = srv_registry_find(&r, name, strlen(name));
		CHECK(hit == scan);
		CHECK((hit == NULL) == (i % 3 == 0));
		if (hit)
			CHECK(r.all[hit->index] == hit);
	}
	/* A prefix of a name is another name. */
	CHECK(srv_registry_find(&r, "s.1;k=1", 3) == NULL);
	srv_registry_release(&r);
}

static void test_nominal_step(void)
{
	double regular[] = {0, 60, 120, 180};
	double missed[] = {0, 60, 180, 240};	  /* one sample missed */
	double jitter[] = {0, 59.5, 120.25, 180}; /* lower median */
	double two[] = {100, 110};

	CHECK(ssm_nominal_step(regular, 4) == 60);
	CHECK(ssm_nominal_step(missed, 4) == 60);
	CHECK(ssm_nominal_step(jitter, 4) == 59.75);
	CHECK(ssm_nominal_step(two, 2) == 10);
	CHECK(ssm_nominal_step(two, 1) == 0);
}

int main(void)
{
	TH_RUN(test_ring_matches_naive_twin);
	TH_RUN(test_ring_of_zero_keeps_nothing);
	TH_RUN(test_registry_matches_scan);
	TH_RUN(test_nominal_step);
	return th_summary();
}
