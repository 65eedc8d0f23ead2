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

/*
 * The front's forecast after the bank's (ok: it succeeded; q[H][Q] its
 * quantiles, sc its scale): the checks, the placeholder before any
 * observation, the scale's floor and the gaps, at the nh first horizons
 * (1: a pruned forecast, whose point[] holds the horizons hz only).
 */
static int front_finish(const ssm_model *m, const float *fs, int ok, int pruned,
			double last, double *point, const double *q, double sc,
			double *scale, float *gap, int nh)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	uint64_t bad = 0;
	int h, k;

	for (h = 0; ok && !pruned && h < H; h++)
		bad |= ssm__nonfinite_bit_d(point[h]);
	if (pruned)
		bad = ssm__nonfinite_bit_d(point[0]) |
		      ssm__nonfinite_bit_d(point[(H - 1) / 2]) |
		      ssm__nonfinite_bit_d(point[H - 1]);
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
	ssm__front_gaps(q, nh, Q, sc, gap);
	return 0;
}

/*
 * When a step without a forecast may skip horizons (*few): the front's
 * bound qb on every horizon's |point| and finite |quantile| (ssm/smooth.h)
 * gives gaps (q[k+1] - q[k]) / sc <= 2 qb / sc where both are finite (else
 * they take the floor 1e-3). With gaps <= 1e25, head outputs within
 * m->head_bound <= 1e25 and exp of a clamped output <= e^8 (ssm__clampf),
 * every composed quantile of serve_q3 stays under 1e30 in float, and with
 * qb, sc <= 1e200 every served value pt + sc qn under 1e231 in double: no
 * horizon the pruned step does not serve could have reset the series.
 * sc here is the floored scale (>= the bank's).
 */
static int few_serve_ok(const ssm_model *m, double qb, double sc)
{
	return qb >= 0 && qb <= 1e200 && sc <= 1e200 &&
	       2 * qb / sc * (1 + 1e-9) <= 1e25 && m->head_bound <= 1e25;
}

int ssm__front_update_forecast(const ssm_model *m, float *fs, double y,
			       double gap_steps, double last, double *point,
			       double *scale, float *gap, int *few)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	const int32_t hz[3] = {1, (H - 1) / 2 + 1, H};
	double q[SSM_MAX_H * SSM_MAX_Q], sc = 1.0, qb = -1;
	int ok, rc, pruned;

	/* Non-finite values arrive here as NaN: a missing sample. One call
	 * for both: the forecast takes the update's weights and AR
	 * recursions (ssm/smooth.h). The update fails only on a block that
	 * is not a front's, which the forecast reports as well. A pruned
	 * forecast (*few) has horizons 1, (H - 1) / 2 + 1 and H, what the
	 * features read, and the gaps of horizon 1, what the state keeps. */
	if (few && *few && H >= 3)
		ok = ssm_smooth_update_forecast_few(
			 fs, isfinite(y) ? y : 0.0, (int64_t)gap_steps,
			 !isfinite(y), hz, 3, point, m->arch.quantiles, Q, q,
			 &sc, &qb) == 0;
	else
		ok =
		    ssm_smooth_update_forecast(
			fs, isfinite(y) ? y : 0.0, (int64_t)gap_steps,
			!isfinite(y), point, m->arch.quantiles, Q, q, &sc) == 0;
	pruned = ok && qb >= 0;
	if (pruned) {
		double fl = 1e-3 * fabs(point[0]) + 1e-9;

		/* Rare (values near overflow): every horizon after all, from
		 * the state the update left, the same bits (ssm/smooth.h). */
		if (!few_serve_ok(m, qb, sc > fl ? sc : fl)) {
			pruned = 0;
			ssm_smooth_forecast(fs, point, m->arch.quantiles, Q, q,
					    NULL);
		}
	}
	rc = front_finish(m, fs, ok, pruned, last, point, q, sc, scale, gap,
			  pruned ? 1 : H);
	if (few)
		*few = pruned && rc == 0;
	return rc;
}

int ssm__front_forecast(const ssm_model *m, const float *fs, double last,
			double *point, double *scale, float *gap)
{
	double q[SSM_MAX_H * SSM_MAX_Q], sc = 1.0;
	int ok = ssm_smooth_forecast(fs, point, m->arch.quantiles,
				     m->arch.nquantiles, q, &sc) == 0;

	return front_finish(m, fs, ok, 0, last, point, q, sc, scale, gap,
			    m->arch.horizon);
}
