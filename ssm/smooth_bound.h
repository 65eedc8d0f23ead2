/*
 * ssm/smooth_bound.h (internal): the two rules of the forecast's interval
 * bounds at one horizon (scaled half-widths lo <= 0 <= hi): the clip to
 * their sides of 0 and the cap GAP_CAP sqrt(hz) (ssm/smooth_forecast.c says
 * why). One copy of each, inlined into the vector loops over every horizon
 * (ssm/smooth_kern.c's ssm__smooth_bounds_clip and ssm__smooth_bounds_cap,
 * the full forecast's) and into the pruned forecast's few horizons
 * (ssm/smooth_forecast.c's bounds_few), so the two give the same bits by
 * construction. Both are selects on bits (ssm/vexp.h's dsel): a ternary
 * kept GCC from vectorizing the loops.
 */
#ifndef STATECAST_SSM_SMOOTH_BOUND_H
#define STATECAST_SSM_SMOOTH_BOUND_H

#include <stdint.h>

#include "ssm/vexp.h"

/* *lo = min(*lo, 0), *hi = max(*hi, 0) as selects (NaN and -0 stay);
 * nonzero when the clipped hi is not <= cap or lo not >= -cap (NaN
 * included): only then can the cap move them (cap sqrt(hz) >= cap). */
static inline uint64_t ssm__smooth_bound_clip(double *lo, double *hi,
					      double cap)
{
	double l = *lo, u = *hi;

	l = dsel(0 - (uint64_t)(l > 0), 0.0, l);
	u = dsel(0 - (uint64_t)(u < 0), 0.0, u);
	*lo = l;
	*hi = u;
	return (uint64_t) !(u <= cap) | (uint64_t) !(l >= -cap);
}

/* *hi = min(*hi, c), *lo = max(*lo, -c) as selects, c = cap sqrt(hz) > 0:
 * a bound inside [-c, c] and NaN fail both comparisons and stay; -c is
 * exact. */
static inline void ssm__smooth_bound_cap(double *lo, double *hi, double c)
{
	double l = *lo, u = *hi;

	*hi = dsel(0 - (uint64_t)(u > c), c, u);
	*lo = dsel(0 - (uint64_t)(l < -c), -c, l);
}

#endif
