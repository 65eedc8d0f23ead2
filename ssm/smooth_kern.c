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
 */
#include "ssm/simd.h"
#include "ssm/smooth_internal.h"

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

/*
 * One member's share of the combination over n consecutive horizons of one
 * checkpoint segment: weight wa (1 - u) + wb u where u > 0, else wa (1 - u)
 * + 0, as the per-horizon code had it; point += w path, wsum += w.
 */
SSM__HOT void ssm__smooth_comb_add(double *point, double *wsum,
				   const double *path, const double *u, int n,
				   double wa, double wb)
{
	int i;

	for (i = 0; i < n; i++) {
		double ui = u[i], t = wb * ui;
		double w = wa * (1 - ui) + (ui > 0 ? t : 0);

		point[i] += w * path[i];
		wsum[i] += w;
	}
}

/* point[i] /= wsum[i], or last where no member weighs. */
SSM__HOT void ssm__smooth_comb_norm(double *point, const double *wsum, int n,
				    double last)
{
	int i;

	for (i = 0; i < n; i++)
		point[i] = wsum[i] > 0 ? point[i] / wsum[i] : last;
}
