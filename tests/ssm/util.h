/*
 * tests/ssm/util.h: helpers shared by the layer tests (static, header-only so
 * each test binary stays one file plus the harness).
 */
#ifndef STATECAST_TESTS_SSM_UTIL_H
#define STATECAST_TESTS_SSM_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ssm/rng.h"

static inline void fill_normal_f(ssm_rng *r, float *x, size_t n, double s)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (float)(s * ssm_rng_normal(r));
}

static inline void fill_normal_d(ssm_rng *r, double *x, size_t n, double s)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = s * ssm_rng_normal(r);
}

static inline double rms_f(const float *x, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (double)n);
}

static inline double max_abs_diff_f(const float *a, const float *b, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		if (!(d <= m))
			m = d; /* NaN propagates as the maximum */
	}
	return m;
}

/* Largest |a-b| / max(|a|, |b|, floor) over elementwise pairs; floor keeps
 * entries that are zero in both from dividing by nothing. */
static inline double max_rel_err(const double *a, const double *b, size_t n,
				 double floor)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double den = fmax(fmax(fabs(a[i]), fabs(b[i])), floor);
		double e = fabs(a[i] - b[i]) / den;
		if (!(e <= m))
			m = e;
	}
	return m;
}

static inline double max_abs_d(const double *a, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs(a[i]) > m)
			m = fabs(a[i]);
	return m;
}

/* Largest over rows of max|a - b| / max|b| (inf-norm relative per row of
 * n): batched and single paths sum projections in different orders. */
static inline double row_rel_err(const float *a, const float *b, int rows,
				 int n)
{
	double worst = 0;
	int r, i;

	for (r = 0; r < rows; r++) {
		double e = max_abs_diff_f(a + r * n, b + r * n, (size_t)n);
		double m = 0;
		for (i = 0; i < n; i++)
			m = fmax(m, fabs(b[r * n + i]));
		if (!(e / m <= worst))
			worst = e / m;
	}
	return worst;
}

/* A gap sequence with irregular samples: mostly 1, some 2, 3 and 0.5. */
static inline void fill_gaps(ssm_rng *r, double *g, int T)
{
	static const double choices[] = {1, 1, 1, 1, 2, 3, 0.5, 1.75};
	int t;

	for (t = 0; t < T; t++)
		g[t] = choices[ssm_rng_below(r, 8)];
}

#endif
