/*
 * ssm/smooth_bound.h (internal): the two rules of the forecast's interval
 * bounds at one horizon (scaled half-widths lo <= 0 <= hi): the clip to
 * their sides of 0 and the cap GAP_CAP sqrt(hz) (ssm/smooth_forecast.c says
 * why). One copy of each, inlined into the vector loops over every horizon
 * (ssm/smooth_kern.c's ssm__smooth_bounds_clip and ssm__smooth_bounds_cap,
 * the full forecast's) and into the pruned forecast's few horizons
 * (ssm/smooth_forecast.c's bounds_few), so the two give the same bits by
 * construction. Written as min/max ternaries (x86's minsd/maxsd keep the
 * second operand where one is NaN, which is the C expression's result), so
 * GCC vectorizes the loops with vminpd/vmaxpd and compiles the scalar use
 * to a few instructions; selects on bits as integers cost the pruned
 * forecast ~45 instructions (bench/results/step18.md).
 */
#ifndef STATECAST_SSM_SMOOTH_BOUND_H
#define STATECAST_SSM_SMOOTH_BOUND_H

#include <stdint.h>

/* *lo = min(*lo, 0), *hi = max(*hi, 0) (NaN and -0 stay);
 * nonzero when the clipped hi is not <= cap or lo not >= -cap (NaN
 * included): only then can the cap move them (cap sqrt(hz) >= cap). */
static inline uint64_t ssm__smooth_bound_clip(double *lo, double *hi,
					      double cap)
{
	double l = *lo, u = *hi;

	l = l > 0 ? 0.0 : l;
	u = u < 0 ? 0.0 : u;
	*lo = l;
	*hi = u;
	return (uint64_t) !(u <= cap) | (uint64_t) !(l >= -cap);
}

/* *hi = min(*hi, c), *lo = max(*lo, -c), c = cap sqrt(hz) > 0:
 * a bound inside [-c, c] and NaN fail both comparisons and stay; -c is
 * exact. */
static inline void ssm__smooth_bound_cap(double *lo, double *hi, double c)
{
	double l = *lo, u = *hi;

	*hi = u > c ? c : u;
	*lo = l < -c ? -c : l;
}

#endif
