/*
 * ssm/smooth.h: the per-series streaming statistical forecaster, the front end
 * of the model (it normalizes and deseasonalizes; the SSM network corrects the
 * remainder, ES-RNN style) and a forecaster on its own.
 *
 * What it is: a bank of exponential-smoothing-family forecasters (naive,
 * seasonal naive, SES, Holt with damped and linear trend, additive
 * Holt-Winters, the theta method's drifted SES, AR(3) by recursive least
 * squares on levels, differences and seasonal differences, and some of these
 * again on the log scale while the series stays positive), every member updated
 * on every sample, combined per horizon with weights from each member's
 * exponentially discounted scaled absolute errors up to that horizon. The 80%
 * interval comes from per-horizon online quantile tracking of the combined
 * forecast's own scaled errors (adaptive conformal inference in its
 * quantile-tracking form, Gibbs and Candes 2021; Angelopoulos et al. 2023):
 * each bound moves by its running miss rate, so each series' coverage is
 * held near 80% by construction. A bound never exceeds 16 sqrt(h) times the
 * series' scale (the typical one-step change), so a scale that collapses
 * cannot turn into an unbounded interval in scale units.
 *
 * The bank has 18 members (ssm/smooth_members.c: the list, and which eight
 * were dropped from 26 by measured ablation). Errors are tracked at <= 5
 * checkpoint horizons; a member's far-horizon errors are sampled every few
 * origins (ssm/smooth_internal.h says why), the combination's at every one.
 *
 * Invariants and ownership:
 * - The state is ssm_smooth_state_floats(period, H) floats owned by the
 *   caller; the size is monotone in both arguments, so a block sized for a
 *   max period holds any smaller one. Snapshot/restore = memcpy. Doubles
 *   (levels of large counters, sums) are stored bit-cast in float pairs, so
 *   the block needs only float alignment. Two parts are narrower than what
 *   they hold, each where the rounding is far below what it feeds: the
 *   recent values as floats relative to an anchor that follows the level,
 *   and the pending forecasts (which only become errors) as bfloat16
 *   (ssm/smooth_internal.h). Every call checks the layout's version.
 * - Fixed size for the series' life; O(K * (period + H)) work per update,
 *   K the bank size (<= SSM_SMOOTH_MAX_MEMBERS); no allocation, no I/O.
 * - A step is one nominal sampling interval. ssm_smooth_update() takes the
 *   number of nominal steps since the previous sample (gap >= 1); the steps
 *   in between are treated as missing values.
 *
 * Errors: 0 or a negative SSM_E* code from ssm/model.h.
 */
#ifndef STATECAST_SSM_SMOOTH_H
#define STATECAST_SSM_SMOOTH_H

#include <stddef.h>
#include <stdint.h>

#define SSM_SMOOTH_MAX_PERIOD  4096
#define SSM_SMOOTH_MAX_H       1024
#define SSM_SMOOTH_MAX_MEMBERS 32
#define SSM_SMOOTH_MAX_CHECK   5  /* horizons at which errors are tracked */
#define SSM_SMOOTH_MAX_Q       64 /* quantile levels per forecast */

/*
 * Tuning knobs. Zero-initialise and call ssm_smooth_opts_default(); the
 * defaults are what the daemon and the model use. The other settings exist
 * for ablations (statecast eval --smooth-opt).
 */
enum ssm_smooth_comb {
	SSM_SMOOTH_COMB_INVERSE = 0, /* top-n members, weight 1 / err^2 */
	SSM_SMOOTH_COMB_BEST = 1,    /* the member with the lowest error */
	SSM_SMOOTH_COMB_EQUAL = 2,   /* plain mean of every active member */
	SSM_SMOOTH_COMB_SOFTMIN = 3, /* exp(-temp * (err / min_err - 1)) */
};

typedef struct ssm_smooth_opts {
	int comb;	     /* enum ssm_smooth_comb */
	int top_n;	     /* members kept by COMB_INVERSE, >= 1 */
	float err_window;    /* error discount: 1 - 1/window per sample */
	float softmin_temp;  /* COMB_SOFTMIN temperature */
	float aci_rate;	     /* quantile-tracking step, x the running MAE */
	float coverage;	     /* central interval mass tracked, 0.8 */
	uint32_t member_off; /* bit k disables bank member k (ablations) */
	int pool; /* 1: weigh by errors up to the horizon, 0: at it */
} ssm_smooth_opts;

void ssm_smooth_opts_default(ssm_smooth_opts *o);

/* Floats needed by a state for this period (>= 1) and horizon (>= 1). */
size_t ssm_smooth_state_floats(int period, int H);

/*
 * Initialise a state block of at least ssm_smooth_state_floats(period, H)
 * floats for a fresh series. opts NULL = defaults. SSM_EINVAL when period
 * or H is out of [1, SSM_SMOOTH_MAX_*].
 */
int ssm_smooth_init(float *state, int period, int H,
		    const ssm_smooth_opts *opts);

/*
 * Feed one sample. gap = nominal steps since the previous sample (1 for a
 * regular stream; ignored for the first sample); value NaN or missing != 0
 * marks a missing observation (the state advances in time only).
 * Infinite values are rejected with SSM_ENONFINITE and leave the state as it
 * was.
 */
int ssm_smooth_update(float *state, double value, int64_t gap, int missing);

/*
 * The forecast from the current state for horizons 1..H (H as initialised).
 * point[H] (required) receives the combined point forecast (a median
 * forecast: what MASE rewards). q (optional, [H * Q]) receives quantiles
 * q[h * Q + k] at levels[k] in (0, 1), monotone in k when levels are
 * increasing. *scale (optional) receives a positive typical one-step change
 * of the series (value units), the normalizer for a downstream network.
 * Q <= SSM_SMOOTH_MAX_Q. Returns SSM_EINVAL (outputs NaN) before the
 * first observed value.
 */
int ssm_smooth_forecast(const float *state, double *point, const float *levels,
			int Q, double *q, double *scale);

/*
 * ssm_smooth_update() then ssm_smooth_forecast() on the same block, with
 * the same results and the same state to the bit, for less work: the
 * forecast takes the weights and the AR members' recursions the update has
 * just computed instead of computing them again. When the update fails it
 * returns its error and leaves the outputs alone; else the forecast's
 * status.
 */
int ssm_smooth_update_forecast(float *state, double value, int64_t gap,
			       int missing, double *point, const float *levels,
			       int Q, double *q, double *scale);

/*
 * ssm_smooth_update_forecast() for a caller that needs the forecast at a
 * few horizons only (the model's step when nobody reads its forecast):
 * few[0..nfew) are horizons 1..H, increasing. When *bound >= 0 on return,
 * point[] and q[] were written at those horizons only, with the bits the
 * whole forecast has there, and *bound bounds |point| and every finite
 * |q| at every horizon 1..H (so a caller can tell that no horizon it did
 * not compute is non-finite; +Inf: no bound, the caller must make the
 * whole forecast, ssm_smooth_forecast()). When *bound < 0 (no such bound yet: a
 * constant series, a weight out of range, values near overflow), every
 * horizon was written, as ssm_smooth_update_forecast() does. The state
 * is what ssm_smooth_update_forecast() leaves, to the bit, either way.
 */
int ssm_smooth_update_forecast_few(float *state, double value, int64_t gap,
				   int missing, const int32_t *few, int nfew,
				   double *point, const float *levels, int Q,
				   double *q, double *scale, double *bound);

/* Observed (non-missing) samples fed so far. */
int64_t ssm_smooth_count(const float *state);

/* Number of bank members and a short name for member k (for reports). */
int ssm_smooth_members(void);
const char *ssm_smooth_member_name(int k);

#endif
