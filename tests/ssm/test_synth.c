/* tests/ssm/test_synth.c: the synthetic generator is deterministic, finite
 * (but for its deliberate gaps) and its seasonal series repeat. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/synth.h"
#include "tests/harness.h"

static void test_deterministic(void)
{
	ssm_synth *g = ssm_synth_new(1000, 200);
	double *a = malloc(sizeof(double) * 1000),
	       *b = malloc(sizeof(double) * 1000);
	ssm_rng r1, r2;
	ssm_synth_info i1, i2;
	int k, same = 1;

	ssm_rng_init(&r1, 5);
	ssm_rng_init(&r2, 5);
	for (k = 0; k < 20; k++) {
		CHECK_EQ_INT(ssm_synth_series(g, &r1, -1, 1000, a, &i1), 0);
		CHECK_EQ_INT(ssm_synth_series(g, &r2, -1, 1000, b, &i2), 0);
		same &= !memcmp(a, b, sizeof(double) * 1000);
		same &= i1.period == i2.period && i1.family == i2.family;
	}
	CHECK(same);
	free(a);
	free(b);
	ssm_synth_free(g);
}

static void test_every_family_finite(void)
{
	ssm_synth *g = ssm_synth_new(800, 150);
	double *y = malloc(sizeof(double) * 800);
	ssm_rng r;
	ssm_synth_info in;
	int f, k, i, bad = 0, nan = 0;

	ssm_rng_init(&r, 9);
	for (f = 0; f < SSM_SYNTH_NFAMILY; f++)
		for (k = 0; k < 25; k++) {
			CHECK_EQ_INT(ssm_synth_series(g, &r, f, 800, y, &in),
				     0);
			CHECK_EQ_INT(in.family, f);
			CHECK(in.period >= 1 && in.period <= 336);
			CHECK(in.step_s > 0 && in.t0 > 1e9);
			for (i = 0; i < 800; i++) {
				if (isnan(y[i]))
					nan++;
				else if (!isfinite(y[i]))
					bad++;
			}
		}
	CHECK_EQ_INT(bad, 0);
	CHECK(nan > 0);		     /* gaps happen */
	CHECK(nan < 800 * 100 / 20); /* but rarely */
	CHECK_EQ_INT(ssm_synth_series(g, &r, 0, 801, y, &in), -1);
	free(y);
	ssm_synth_free(g);
}

/* Seasonal families repeat: lag-period autocorrelation of differences. */
static void test_seasonal_repeat(void)
{
	ssm_synth *g = ssm_synth_new(600, 100);
	double *y = malloc(sizeof(double) * 600);
	ssm_rng r;
	ssm_synth_info in;
	int k, tried = 0, strong = 0;

	ssm_rng_init(&r, 21);
	for (k = 0; k < 40; k++) {
		double num = 0, den = 0, mu = 0;
		int i, n = 0, m;

		ssm_synth_series(g, &r, SSM_SYNTH_TSN, 600, y, &in);
		m = in.period;
		if (m < 2)
			continue;
		for (i = 0; i < 600; i++)
			if (!isnan(y[i])) {
				mu += y[i];
				n++;
			}
		mu /= n;
		for (i = m; i < 600; i++)
			if (!isnan(y[i]) && !isnan(y[i - m])) {
				num += (y[i] - mu) * (y[i - m] - mu);
				den += (y[i] - mu) * (y[i] - mu);
			}
		tried++;
		strong += num / den > 0.3;
	}
	CHECK(tried > 10);
	CHECK(strong > tried / 2);
	free(y);
	ssm_synth_free(g);
}

int main(void)
{
	TH_RUN(test_deterministic);
	TH_RUN(test_every_family_finite);
	TH_RUN(test_seasonal_repeat);
	return th_summary();
}
