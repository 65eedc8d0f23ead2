/*
 * ssm/model_front.c: the model's smoothing front, the per-series part that
 * normalises the input and gives the base forecast the network corrects.
 *
 * This version is a running normalisation only: an exponentially weighted
 * level (the point forecast for every horizon) and an exponentially
 * weighted mean absolute one-step error (the scale, with Gaussian quantile
 * gaps widening as sqrt(h)). The exponential-smoothing bank of
 * ssm/smooth.h replaces it when that module lands; the interface in
 * model_internal.h stays.
 *
 * Layout (floats): [0..1] level (double), [2] scale, [3] samples seen.
 */
#include <math.h>

#include "ssm/model_internal.h"

enum { F_LEVEL = 0, F_SCALE = 2, F_N = 3, F_FLOATS = 4 };

size_t ssm__front_floats(const ssm_model *m)
{
	(void)m;
	return F_FLOATS;
}

void ssm__front_init(const ssm_model *m, float *fs, int period)
{
	(void)m;
	(void)period;
	ssm__put_d(fs + F_LEVEL, 0.0);
	fs[F_SCALE] = 0.0f;
	fs[F_N] = 0.0f;
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* The scale never reaches zero: a constant series still normalises. */
static double floor_scale(double scale, double level)
{
	double fl = 1e-3 * fabs(level) + 1e-9;

	return scale > fl ? scale : fl;
}

void ssm__front_observe(const ssm_model *m, float *fs, double y, int gap,
			float feat[2])
{
	double level = ssm__get_d(fs + F_LEVEL);
	double n = fs[F_N], scale, err, a_l, a_s;

	(void)m;
	(void)gap;
	feat[0] = feat[1] = 0.0f;
	if (isnan(y))
		return;
	if (n < 1.0) {
		ssm__put_d(fs + F_LEVEL, y);
		fs[F_SCALE] = (float)floor_scale(0.0, y);
		fs[F_N] = 1.0f;
		return;
	}
	scale = floor_scale(fs[F_SCALE], level);
	err = y - level;
	feat[0] = (float)clampd(err / scale, -10.0, 10.0);
	feat[1] = feat[0];
	/* Early samples weigh more, so the statistics settle quickly. */
	a_l = 1.0 / (n + 1.0) > 0.3 ? 1.0 / (n + 1.0) : 0.3;
	a_s = 1.0 / n > 0.05 ? 1.0 / n : 0.05;
	level += a_l * err;
	scale =
	    (n < 1.5 ? fabs(err) : (1.0 - a_s) * fs[F_SCALE] + a_s * fabs(err));
	ssm__put_d(fs + F_LEVEL, level);
	fs[F_SCALE] = (float)floor_scale(scale, level);
	if (n < 1e6)
		fs[F_N] = (float)(n + 1.0);
}

int ssm__front_finite(const ssm_model *m, const float *fs)
{
	(void)m;
	return isfinite(ssm__get_d(fs + F_LEVEL)) && isfinite(fs[F_SCALE]) &&
	       isfinite(fs[F_N]);
}

void ssm__front_forecast(const ssm_model *m, const float *fs, double *point,
			 double *scale, float *gap)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	double level = ssm__get_d(fs + F_LEVEL);
	int h, k;

	*scale = floor_scale(fs[F_SCALE], level);
	for (h = 0; h < H; h++) {
		/* Mean absolute error to Gaussian sigma: sqrt(pi / 2). */
		double w = 1.2533141 * sqrt((double)(h + 1));
		point[h] = level;
		for (k = 0; k + 1 < Q; k++)
			gap[h * (Q - 1) + k] = (float)(w * m->zgap[k]);
	}
}
