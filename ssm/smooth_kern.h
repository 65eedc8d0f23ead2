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

/* One member's share over its horizons h0..h1 (1-based): segment by
 * segment (segment g = horizons [sb[g], sb[g + 1]), sb[G] = H + 1),
 * ssm__smooth_comb_add with wa = wcol[g], wb = wcol[g + 1] (0 past the
 * last), u = gu[hz - 1]; path[hz - h0] is the member's forecast at hz. */
void ssm__smooth_comb_member(double *point, double *wsum, const double *path,
			     const double *gu, const int32_t *sb, int G, int h0,
			     int h1, const double *wcol);

/* The interval's half-widths on their sides of 0: lo[i] = min(lo[i], 0),
 * hi[i] = max(hi[i], 0) as selects (NaN and -0 stay); returns whether
 * some hi[i] is not <= cap or some lo[i] not >= -cap (NaN included):
 * ssm/smooth_bound.h's clip at every horizon. */
int ssm__smooth_bounds_clip(double *lo, double *hi, int n, double cap);

/* Horizon hz = i + 1's bounds past cap sqrt(hz) onto it: hi[i] = min(hi[i],
 * cap sqrt(hz)), lo[i] = max(lo[i], -cap sqrt(hz)) as selects (NaN stays):
 * ssm/smooth_bound.h's cap at every horizon (cap >= 0). */
void ssm__smooth_bounds_cap(double *lo, double *hi, int n, double cap);

/* point[i] /= wsum[i], or last where wsum[i] is not positive. */
void ssm__smooth_comb_norm(double *point, const double *wsum, int n,
			   double last);

/*
 * The log-scale members' way back: out[i] = exp(min(x[i], cap)), i < n, as
 * e^c (1 + expm1(x[i] - c)) with c = min(x[0], cap), one libm exp per call
 * and ssm/vexp.h's float expm1 (reduced in double) per horizon. Its error
 * is a few 2^-24 of |out[i] - e^c|, the path's distance from its first
 * horizon in the series' units, plus double rounding of out[i]: a member's
 * forecast errors are of that order at least, so nothing a forecast is
 * judged by moves, while a relative error of out[i] itself would, for a
 * series whose level dwarfs its changes. Where |x[i] - c| > 64 the float
 * exponent would leave its range: those horizons take libm's exp, and so
 * does every horizon when c < -700 (e^c no longer a normal double). NaN
 * stays NaN. No aliasing of out and x.
 */
void ssm__smooth_exp(double *out, const double *x, int n, double cap);

/*
 * The AR members' forecast recursion in their normalized units, for
 * SSM__AR_LANES members at once (lanes are independent: a step of one
 * member waits on its previous step, so several chains in flight hide that
 * latency, and with AVX2 the lanes are one vector). Lane l:
 *   z_i = (c0 + c3 z_(i-3) + c2 z_(i-2)) + c1 z_(i-1), then clamped to
 *   [-clamp, clamp],
 * with cj = coef[j * LANES + l], z_0, z_-1, z_-2 = zh[l], zh[LANES + l],
 * zh[2 LANES + l]; out[(i - 1) LANES + l] = z_i for i = 1..H. Unused lanes
 * may hold zeros. Each lane is the scalar recursion's bits on either build.
 */
#define SSM__AR_LANES 4

/*
 * One checkpoint's scoring of every member (ssm/smooth.c, score), over the
 * member-major rows: for k < n (<= 32) with bit k of act set and its pending
 * forecast f = pend[k] (bfloat16 bits, relative to yorg) not NaN,
 *   es[k] = (float)(lam es[k] + |y - (yorg + f)| isc),
 * the scalar code's operations; the others keep es[k]. Returns the members
 * scored (bit k).
 */
/*
 * The pooled products of the weights (ssm/smooth_weights.c,
 * ssm__smooth_weights_all) over one
 * checkpoint's member-major row: for k < n with bit k of mask set,
 * pr[k] = (reset ? 1 : pr[k]) * ((double)es[k] iew + 1e-12), iew = iew0
 * where bit k of sel0 is set (cohort 0's members), else iew1; the others
 * keep pr[k].
 */
void ssm__smooth_pr_row(double *pr, const float *es, double iew0, double iew1,
			uint32_t sel0, int n, uint32_t mask, int reset);

/* Bit k (k < n <= 32) of the result: x[k] <= t; of *nan: x[k] is NaN. */
uint32_t ssm__smooth_le_mask(const double *x, int n, double t, uint32_t *nan);

/* ssm__smooth_bf16_rel (ssm/smooth_internal.h) vectorized, for n >= 8. */
void ssm__smooth_bf16_rel_vec(uint32_t *b, const double *f, int n, double last);

uint32_t ssm__smooth_score_row(float *es, const uint16_t *pend, int n,
			       uint32_t act, double y, double yorg, double isc,
			       double lam);
void ssm__smooth_ar_lanes(double *out, int H, const double *coef,
			  const double *zh, double clamp);

#endif
