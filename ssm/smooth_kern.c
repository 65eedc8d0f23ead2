/*
 * ssm/smooth_kern.c: the elementwise loops over horizons of the forecaster
 * bank (ssm/smooth.h), written so that GCC vectorizes them across horizons
 * and compiled twice (ssm/simd.h: AVX2 and the x86-64 baseline). Each lane
 * does the IEEE operations of the scalar code it replaced, in the same
 * order, and nothing is contracted into an FMA (-std=c11), so the results
 * are the same bits on either build and as before the loops moved here:
 * tests/ssm/test_smooth_kern.c holds both builds to naive twins.
 *
 * Workload: per sample, the sanity clamp runs on every member evaluated
 * (about 15 members at the checkpoint horizons, a few over all H), the
 * combination on every member that weighs (H horizons each), and the
 * normalization and quantiles once over H.
 * ssm__smooth_exp is the exception to "the same bits as before": it
 * replaced libm's exp per horizon (ssm/smooth_kern.h says how close it
 * is); it too gives the same bits on either build.
 */
#include <math.h>

#include "ssm/simd.h"
#include "ssm/smooth_internal.h"
#include "ssm/vexp.h"

/*
 * out[i] into [last - c hz[i], last + c hz[i]]; NaN becomes the upper
 * bound. Branch-free (selects), so each lane is the scalar code's result.
 */
SSM__HOT void ssm__smooth_clamp(double *out, const int32_t *hz, int n,
				double last, double c)
{
	int i;

	for (i = 0; i < n; i++) {
		double b = c * hz[i], o = out[i], up = last + b, lo = last - b;

		o = !(o <= up) ? up : o;
		out[i] = o < lo ? lo : o;
	}
}

/* m ? a : b on bits, m all ones or zeros (ssm/vexp.h's sel, for doubles):
 * a ternary on u would let GCC move u's reduction under a branch, where
 * code that may trap is not if-converted. */
static inline double dsel(uint64_t m, double a, double b)
{
	uint64_t ua, ub;

	memcpy(&ua, &a, sizeof ua);
	memcpy(&ub, &b, sizeof ub);
	ua = (ua & m) | (ub & ~m);
	memcpy(&a, &ua, sizeof a);
	return a;
}

/*
 * One member's share of the combination over n consecutive horizons of one
 * checkpoint segment: weight wa (1 - u) + wb u where u > 0, else wa (1 - u)
 * + 0, as the per-horizon code had it; point += w path, wsum += w. The
 * choice is a select on bits (wb u is computed in every lane): with a
 * ternary GCC kept a branch per horizon and no vector.
 */
static inline void comb_seg(double *restrict point, double *restrict wsum,
			    const double *restrict path,
			    const double *restrict u, int n, double wa,
			    double wb)
{
	int i;

	for (i = 0; i < n; i++) {
		double ui = u[i], t = wb * ui;
		double w = wa * (1 - ui) + dsel(0 - (uint64_t)(ui > 0), t, 0.0);

		point[i] += w * path[i];
		wsum[i] += w;
	}
}

SSM__HOT void ssm__smooth_comb_add(double *point, double *wsum,
				   const double *path, const double *u, int n,
				   double wa, double wb)
{
	comb_seg(point, wsum, path, u, n, wa, wb);
}

SSM__HOT void ssm__smooth_comb_member(double *point, double *wsum,
				      const double *path, const double *gu,
				      const int32_t *sb, int G, int h0, int h1,
				      const double *wcol)
{
	int g;

	for (g = 0; g < G; g++) {
		int lo = sb[g] > h0 ? sb[g] : h0;
		int hi = sb[g + 1] - 1 < h1 ? sb[g + 1] - 1 : h1;

		if (lo <= hi)
			comb_seg(point + lo - 1, wsum + lo - 1, path + lo - h0,
				 gu + lo - 1, hi - lo + 1, wcol[g],
				 g + 1 < G ? wcol[g + 1] : 0);
	}
}

/* point[i] /= wsum[i], or last where no member weighs. */
SSM__HOT void ssm__smooth_comb_norm(double *point, const double *wsum, int n,
				    double last)
{
	int i;

	/* The quotient in every lane, chosen on bits: a division under a
	 * ternary stays a branch per horizon. */
	for (i = 0; i < n; i++)
		point[i] =
		    dsel(0 - (uint64_t)(wsum[i] > 0), point[i] / wsum[i], last);
}

/* Beyond this distance from the first horizon, libm's exp: e^64 keeps
 * 2^k inside float's exponent range with room for the polynomial. */
#define EXP_SPAN 64.0

SSM__HOT void ssm__smooth_exp(double *restrict out, const double *restrict x,
			      int n, double cap)
{
	double c, e;
	int i, bad = 0, all;

	if (n <= 0)
		return;
	c = x[0] > cap ? cap : x[0];
	e = exp(c);
	/* e^c must be a normal double for the rest to scale from it: a path
	 * that starts below e^-700 (or at NaN) takes libm throughout. */
	all = !(c >= -700.0);
	for (i = 0; i < n; i++) {
		double xi = x[i] > cap ? cap : x[i], u = xi - c;
		int ok = fabs(u) <= EXP_SPAN;
		float r, k, ex, em1;

		/* Out of range (or NaN): computed on 0, replaced below. */
		bad |= !ok;
		vexp_reduce_d(dsel(0 - (uint64_t)ok, u, 0.0), &r, &k);
		vexpm1_f(r, k, &ex, &em1);
		out[i] = e + e * (double)em1;
	}
	for (i = 0; (bad || all) && i < n; i++) {
		double xi = x[i] > cap ? cap : x[i];

		if (all || !(fabs(xi - c) <= EXP_SPAN))
			out[i] = exp(xi);
	}
}

SSM__HOT void ssm__smooth_ar_lanes(double *restrict out, int H,
				   const double *restrict coef,
				   const double *restrict zh, double clamp)
{
	enum { L = SSM__AR_LANES };
	double t0[L], t1[L], t2[L], t3[L], z1[L], z2[L], z3[L];
	int i, l;

	for (l = 0; l < L; l++) {
		t0[l] = coef[l];
		t1[l] = coef[L + l];
		t2[l] = coef[2 * L + l];
		t3[l] = coef[3 * L + l];
		z1[l] = zh[l];
		z2[l] = zh[L + l];
		z3[l] = zh[2 * L + l];
	}
	for (i = 0; i < H; i++)
		for (l = 0; l < L; l++) {
			double zn = (t0[l] + t3[l] * z3[l] + t2[l] * z2[l]) +
				    t1[l] * z1[l];

			zn = zn > clamp ? clamp : zn;
			zn = zn < -clamp ? -clamp : zn;
			z3[l] = z2[l];
			z2[l] = z1[l];
			z1[l] = zn;
			out[(size_t)i * L + l] = zn;
		}
}

/* Selects on bits, not ternaries: GCC does not if-convert a conversion
 * that may trap, and a branch per member would not vectorize. */
SSM__HOT uint32_t ssm__smooth_score_row(float *restrict es,
					const uint16_t *restrict pend, int n,
					uint32_t act, double y, double yorg,
					double isc, double lam)
{
	uint32_t ok[32], hit = 0;
	int k;

	for (k = 0; k < n; k++) {
		uint32_t u = (uint32_t)pend[k] << 16;
		float f, v;
		double e;

		memcpy(&f, &u, sizeof f);
		e = fabs(y - (yorg + (double)f)) * isc;
		v = (float)(lam * (double)es[k] + e);
		/* Active, and f not NaN (bfloat16 NaN: exponent all ones,
		 * mantissa nonzero). */
		ok[k] = (0u - ((act >> k) & 1u)) &
			(0u - (uint32_t)((u & 0x7fffffffu) <= 0x7f800000u));
		es[k] = sel(ok[k], v, es[k]);
	}
	for (k = 0; k < n; k++)
		hit |= (ok[k] & 1u) << k;
	return hit;
}

SSM__HOT void ssm__smooth_pr_row(double *restrict pr, const float *restrict es,
				 double iew0, double iew1, uint32_t sel0, int n,
				 uint32_t mask, int reset)
{
	double one[32];
	const double *base = pr;
	int k;

	if (reset) {
		for (k = 0; k < n; k++)
			one[k] = 1.0;
		base = one;
	}
	for (k = 0; k < n; k++) {
		uint64_t s = 0 - (uint64_t)((sel0 >> k) & 1u);
		double v =
		    base[k] * ((double)es[k] * dsel(s, iew0, iew1) + 1e-12);
		uint64_t m = 0 - (uint64_t)((mask >> k) & 1u);

		pr[k] = dsel(m, v, pr[k]);
	}
}

/* Variable shifts: AVX2 (vpsllvd) runs this loop four lanes at a time; the
 * baseline a lane at a time, as the loop in ssm/smooth.c did. */
SSM__HOT uint32_t ssm__smooth_le_mask(const double *restrict x, int n, double t,
				      uint32_t *restrict nan)
{
	uint32_t c = 0, nn = 0;
	int k;

	for (k = 0; k < n; k++) {
		c |= (uint32_t)(x[k] <= t) << k;
		nn |= (uint32_t)(x[k] != x[k]) << k;
	}
	*nan = nn;
	return c;
}

SSM__HOT int ssm__smooth_bounds_clip(double *restrict lo, double *restrict hi,
				     int n, double cap)
{
	uint64_t over = 0;
	int i;

	/* Selects on bits and an integer reduction: the ternaries and the
	 * flag the scalar loop had kept it a lane at a time. */
	for (i = 0; i < n; i++) {
		double l = lo[i], u = hi[i];

		l = dsel(0 - (uint64_t)(l > 0), 0.0, l);
		u = dsel(0 - (uint64_t)(u < 0), 0.0, u);
		over |= (uint64_t) !(u <= cap) | (uint64_t) !(l >= -cap);
		lo[i] = l;
		hi[i] = u;
	}
	return over != 0;
}
