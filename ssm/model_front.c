/*
 * ssm/model_front.c: the model's smoothing front, the per-series part that
 * normalises the input and gives the base forecast the network corrects
 * (ES-RNN style: per-series exponential smoothing, global network).
 *
 * It is ssm/smooth.h's bank, sized for the model's max_period and horizon;
 * its combined point forecast is the base median, its calibrated quantiles
 * at the model's levels give the base gaps, its running scale normalises.
 * A series whose period exceeds max_period is smoothed without season.
 */
#include <math.h>

#include "ssm/model_internal.h"
#include "ssm/smooth.h"

size_t ssm__front_floats(const ssm_model *m)
{
	return ssm_smooth_state_floats(m->arch.max_period, m->arch.horizon);
}

void ssm__front_init(const ssm_model *m, float *fs, int period)
{
	if (period > m->arch.max_period)
		period = 1;
	ssm_smooth_init(fs, period, m->arch.horizon, NULL);
}

int ssm__front_update_forecast(const ssm_model *m, float *fs, double y,
			       double gap_steps, double last, double *point,
			       double *scale, float *gap)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	double q[SSM_MAX_H * SSM_MAX_Q], sc = 1.0;
	uint64_t bad = 0;
	int h, k, ok;

	/* Non-finite values arrive here as NaN: a missing sample. One call
	 * for both: the forecast takes the update's weights and AR
	 * recursions (ssm/smooth.h). The update fails only on a block that
	 * is not a front's, which the forecast reports as well. */
	ok = ssm_smooth_update_forecast(fs, isfinite(y) ? y : 0.0,
					(int64_t)gap_steps, !isfinite(y), point,
					m->arch.quantiles, Q, q, &sc) == 0;
	for (h = 0; ok && h < H; h++)
		bad |= ssm__nonfinite_bit_d(point[h]);
	if (!ok || bad || !(sc > 0.0) || !isfinite(sc)) {
		if (ssm_smooth_count(fs) > 0)
			return -1; /* poisoned: the caller resets */
		/* Nothing observed yet: a flat, unit-scale placeholder. */
		for (h = 0; h < H; h++)
			point[h] = isfinite(last) ? last : 0.0;
		*scale = isfinite(last) && last != 0.0 ? fabs(last) * 0.1 : 1.0;
		for (h = 0; h < H; h++)
			for (k = 0; k + 1 < Q; k++)
				gap[h * (Q - 1) + k] = m->zgap[k];
		return 1;
	}
	/* Right after the first value the bank's scale is ~0: a floor at a
	 * thousandth of the level keeps normalised values meaningful. */
	if (sc < 1e-3 * fabs(point[0]) + 1e-9)
		sc = 1e-3 * fabs(point[0]) + 1e-9;
	*scale = sc;
	/* Gap by gap, all horizons in one loop (branch-free: NaN and Inf
	 * fail one of the two comparisons). A zero-width base gap could never
	 * be widened: 1e-3 at least. */
	for (k = 0; k + 1 < Q; k++)
		for (h = 0; h < H; h++) {
			double g = (q[h * Q + k + 1] - q[h * Q + k]) / sc;

			gap[h * (Q - 1) + k] =
			    (float)(g > 1e-3 && g < HUGE_VAL ? g : 1e-3);
		}
	return 0;
}
