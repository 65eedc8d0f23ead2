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
#include "ssm/smooth_bound.h"
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
static inline __attribute__((always_inline)) uint32_t
score_row_n(float *restrict es, const uint16_t *restrict pend, int n,
	    uint32_t act, double y, double yorg, double isc, double lam)
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

/* The row kernels below are called with the bank's row (n =
 * SMOOTH_NBANK): with the count a constant GCC unrolls them, with no
 * checks of n, of aliasing or of a tail at run time (about a third of
 * their instructions); any other n takes the same loop. */
SSM__HOT uint32_t ssm__smooth_score_row(float *restrict es,
					const uint16_t *restrict pend, int n,
					uint32_t act, double y, double yorg,
					double isc, double lam)
{
	if (n == SMOOTH_NBANK)
		return score_row_n(es, pend, SMOOTH_NBANK, act, y, yorg, isc,
				   lam);
	return score_row_n(es, pend, n, act, y, yorg, isc, lam);
}

/* Four lanes as GCC's generic vectors (one AVX2 register, two SSE2 ones
 * on the baseline build): each lane does the scalar operations. */
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef uint64_t v4u __attribute__((vector_size(32)));

/* Lane masks of a nibble: nib_mask[b][j] is all ones where bit j of b is
 * set (four lanes of a vector from four bits, one load). */
#define NIB_LANE(b, j) (0 - (uint64_t)(((b) >> (j)) & 1))
#define NIB_ROW(b)                                                             \
	{                                                                      \
		NIB_LANE(b, 0), NIB_LANE(b, 1), NIB_LANE(b, 2), NIB_LANE(b, 3) \
	}
static const uint64_t nib_mask[16][4] = {
    NIB_ROW(0),	 NIB_ROW(1),  NIB_ROW(2),  NIB_ROW(3), NIB_ROW(4),  NIB_ROW(5),
    NIB_ROW(6),	 NIB_ROW(7),  NIB_ROW(8),  NIB_ROW(9), NIB_ROW(10), NIB_ROW(11),
    NIB_ROW(12), NIB_ROW(13), NIB_ROW(14), NIB_ROW(15)};
#undef NIB_ROW
#undef NIB_LANE

/* The lanes of sel0 (in the bank, the naive member alone) take iew0
 * after the vector pass over the others with iew1, from the pr[k] that
 * pass left alone. */
static inline __attribute__((always_inline)) void
pr_row_n(double *restrict pr, const float *restrict es, double iew0,
	 double iew1, uint32_t sel0, int n, uint32_t mask, int reset)
{
	uint32_t vm = mask & ~sel0, m;
	int k;

	for (k = 0; k + 4 <= n; k += 4) {
		v4d p, v;
		v4f e;
		v4u mm, pu, vu;

		memcpy(&p, pr + k, sizeof p);
		memcpy(&e, es + k, sizeof e);
		memcpy(&mm, nib_mask[(vm >> k) & 15], sizeof mm);
		v = (reset ? (v4d){1.0, 1.0, 1.0, 1.0} : p) *
		    (__builtin_convertvector(e, v4d) * iew1 + 1e-12);
		memcpy(&vu, &v, sizeof vu);
		memcpy(&pu, &p, sizeof pu);
		vu = (vu & mm) | (pu & ~mm);
		memcpy(pr + k, &vu, sizeof vu);
	}
	for (; k < n; k++) {
		double b = reset ? 1.0 : pr[k];
		double v = b * ((double)es[k] * iew1 + 1e-12);

		pr[k] = dsel(0 - (uint64_t)((vm >> k) & 1u), v, pr[k]);
	}
	for (m = mask & sel0 & (n < 32 ? (1u << n) - 1 : ~0u); m; m &= m - 1) {
		k = __builtin_ctz(m);
		pr[k] = (reset ? 1.0 : pr[k]) * ((double)es[k] * iew0 + 1e-12);
	}
}

SSM__HOT void ssm__smooth_pr_row(double *restrict pr, const float *restrict es,
				 double iew0, double iew1, uint32_t sel0, int n,
				 uint32_t mask, int reset)
{
	if (n == SMOOTH_NBANK)
		pr_row_n(pr, es, iew0, iew1, sel0, SMOOTH_NBANK, mask, reset);
	else
		pr_row_n(pr, es, iew0, iew1, sel0, n, mask, reset);
}

/* Variable shifts: AVX2 (vpsllvd) runs this loop four lanes at a time; the
 * baseline a lane at a time, as the loop in ssm/smooth.c did. */
static inline __attribute__((always_inline)) uint32_t
le_mask_n(const double *restrict x, int n, double t, uint32_t *restrict nan)
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

SSM__HOT uint32_t ssm__smooth_le_mask(const double *restrict x, int n, double t,
				      uint32_t *restrict nan)
{
	if (n == SMOOTH_NBANK)
		return le_mask_n(x, SMOOTH_NBANK, t, nan);
	return le_mask_n(x, n, t, nan);
}

SSM__HOT int ssm__smooth_bounds_clip(double *restrict lo, double *restrict hi,
				     int n, double cap)
{
	uint64_t over = 0;
	int i;

	/* The flag as an integer reduction: the scalar loop's (a branch on
	 * ||) kept it a lane at a time. */
	for (i = 0; i < n; i++) {
		double l = lo[i], u = hi[i];

		over |= ssm__smooth_bound_clip(&l, &u, cap);
		lo[i] = l;
		hi[i] = u;
	}
	return over != 0;
}

/* The cap's rule (ssm/smooth_bound.h) applied to every horizon: a bound
 * inside [-cap, cap] (sqrt(hz) >= 1) and NaN fail both comparisons and
 * stay, so this is the per-horizon test-then-cap the forecast had without
 * its branch, which kept it a lane at a time: ~15 instructions a horizon,
 * and past the last started checkpoint most horizons are over
 * (bench/results/step17.md).
 * The square roots come from a per-thread table grown on first use: a
 * sqrt call in the loop keeps its libm fallback for errno, which GCC does
 * not vectorize. n <= SSM_SMOOTH_MAX_H (the bank's H). */
SSM__HOT void ssm__smooth_bounds_cap(double *restrict lo, double *restrict hi,
				     int n, double cap)
{
	static _Thread_local double sq[SSM_SMOOTH_MAX_H];
	static _Thread_local int nsq;
	int i;

	for (; nsq < n; nsq++)
		sq[nsq] = sqrt((double)(nsq + 1));
	for (i = 0; i < n; i++) {
		double l = lo[i], u = hi[i];

		ssm__smooth_bound_cap(&l, &u, cap * sq[i]);
		lo[i] = l;
		hi[i] = u;
	}
}

/* ssm__bf16 per lane: a double subtraction, one rounding to float, the
 * integer rounding and a select, the scalar puts' operations, which took
 * ~12 instructions a forecast one at a time. uint32 results, not uint16:
 * with those GCC took sixteen lanes a vector and left most of a record's
 * values to its scalar tail; with these, eight and a vector tail of four
 * (bench/results/step18.md). */
SSM__HOT void ssm__smooth_bf16_rel_vec(uint32_t *restrict b,
				       const double *restrict f, int n,
				       double last)
{
	int i;

	for (i = 0; i < n; i++)
		b[i] = ssm__bf16((float)(f[i] - last));
}
