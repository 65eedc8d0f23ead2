/*
 * tests/ssm/util.h: helpers shared by the layer tests (static, header-only so
 * each test binary stays one file plus the harness).
 */
#ifndef STATECAST_TESTS_SSM_UTIL_H
#define STATECAST_TESTS_SSM_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ssm/layer.h"
#include "ssm/rng.h"
#include "tests/harness.h"

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

/*
 * A double-twin layer under central finite differences: loss(ctx) runs the
 * forward from the fixed initial state with the current params and inputs u
 * and returns sum w . y; prepare(ctx) refreshes the layer's caches after a
 * parameter moved.
 */
typedef struct fd_layer {
	void *ctx;
	double (*loss)(void *ctx);
	void (*prepare)(void *ctx);
	double *params; /* np */
	size_t np;
	double *u; /* nu inputs */
	size_t nu;
} fd_layer;

static inline void fd_grad(const fd_layer *f, double *x, size_t n, int prep,
			   double *fd)
{
	size_t j;

	for (j = 0; j < n; j++) {
		double p = x[j], h = 1e-4 * fmax(1.0, fabs(p)), lp, lm;
		x[j] = p + h;
		if (prep)
			f->prepare(f->ctx);
		lp = f->loss(f->ctx);
		x[j] = p - h;
		if (prep)
			f->prepare(f->ctx);
		lm = f->loss(f->ctx);
		x[j] = p;
		fd[j] = (lp - lm) / (2 * h);
	}
	if (prep)
		f->prepare(f->ctx);
}

/*
 * Compare analytic grads (np, laid out by info[nt]) and du (nu) with central
 * differences: per tensor, the largest elementwise relative error (floored
 * at 1e-3 of the tensor's largest gradient) must be <= 1e-4, and every
 * tensor must get some gradient. Failures name the tensor and label.
 */
static inline void fd_check(const fd_layer *f, const ssm_tensor_info *info,
			    int nt, const double *grads, const double *du,
			    const char *label)
{
	double *fd = malloc(sizeof(double) * (f->np + f->nu));
	int k;

	fd_grad(f, f->params, f->np, 1, fd);
	fd_grad(f, f->u, f->nu, 0, fd + f->np);
	for (k = 0; k < nt; k++) {
		double scale = max_abs_d(fd + info[k].offset, info[k].count);
		double e =
		    max_rel_err(grads + info[k].offset, fd + info[k].offset,
				info[k].count, 1e-3 * scale + 1e-12);
		if (!(e <= 1e-4) || !(scale > 0))
			th_fail(__FILE__, __LINE__,
				"%s: %s rel err %.3g (scale %.3g)", label,
				info[k].name, e, scale);
	}
	if (!(max_rel_err(du, fd + f->np, f->nu,
			  1e-3 * max_abs_d(fd + f->np, f->nu)) <= 1e-4))
		th_fail(__FILE__, __LINE__, "%s: input gradient", label);
	free(fd);
}

#endif
