/*
 * ssm/smooth_kern.h (internal): the loops over horizons of the forecaster
 * bank (ssm/smooth_kern.c): vectorized, compiled for AVX2 and the baseline,
 * each the same bits as the per-horizon scalar code it replaced
 * (tests/ssm/test_smooth_kern.c). Arrays hold n doubles, n >= 0.
 */
#ifndef STATECAST_SSM_SMOOTH_KERN_H
#define STATECAST_SSM_SMOOTH_KERN_H

#include <stdint.h>

/* The sanity clamp of member forecasts: out[i] into last -+ c hz[i]; NaN
 * becomes the upper bound. */
void ssm__smooth_clamp(double *out, const int32_t *hz, int n, double last,
		       double c);

/* One member's share of the combination over one checkpoint segment:
 * w = wa (1 - u) + (u > 0 ? wb u : 0); point += w path; wsum += w. */
void ssm__smooth_comb_add(double *point, double *wsum, const double *path,
			  const double *u, int n, double wa, double wb);

/* point[i] /= wsum[i], or last where wsum[i] is not positive. */
void ssm__smooth_comb_norm(double *point, const double *wsum, int n,
			   double last);

#endif
