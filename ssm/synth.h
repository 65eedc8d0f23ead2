/*
 * ssm/synth.h: the synthetic series generator training draws from.
 *
 * Every series is a draw from one of four families, then corrupted the way
 * production metrics are, then given a random offset and scale:
 *   GP     Gaussian-process sample whose kernel is a random sum/product of
 *          periodic, RBF, linear, rational-quadratic and white-noise
 *          kernels (Cholesky with jitter, LAPACKE_dpotrf, in double)
 *   TSN    trend x seasonality x noise, one or two periods in 4..336,
 *          additive or multiplicative
 *   ETS    simulated exponential smoothing: additive or damped trend,
 *          additive or multiplicative seasonality
 *   ARMA   stationary ARMA(p<=2, q<=2), sometimes integrated once
 * Corruptions: level shifts, spikes, gaps (runs of NaN = missing samples).
 *
 * Deterministic: the same generator state gives the same series, bit for
 * bit. Allocation: only ssm_synth_new's; generating allocates nothing.
 */
#ifndef STATECAST_SSM_SYNTH_H
#define STATECAST_SSM_SYNTH_H

#include "ssm/rng.h"

enum ssm_synth_family {
	SSM_SYNTH_GP = 0,
	SSM_SYNTH_TSN = 1,
	SSM_SYNTH_ETS = 2,
	SSM_SYNTH_ARMA = 3,
	SSM_SYNTH_NFAMILY = 4,
};

/* What a generated series is, as the model may know it (cf. EVAL.md). */
typedef struct ssm_synth_info {
	int family; /* enum ssm_synth_family */
	int period; /* seasonal period in steps, 1 = none */
	double step_s;
	double t0; /* Unix seconds of sample 0 */
} ssm_synth_info;

typedef struct ssm_synth ssm_synth;

/*
 * A generator for series of up to max_n samples; GP draws are at most
 * gp_max samples long and stretched by linear interpolation beyond (the
 * Cholesky is O(gp_max^3)). Returns NULL when out of memory.
 */
ssm_synth *ssm_synth_new(int max_n, int gp_max);
void ssm_synth_free(ssm_synth *g);

/*
 * Draws one series of n samples (2 <= n <= max_n) into y[n] from r; family
 * -1 picks one at random. Returns 0 or SSM_EINVAL (ssm/model.h codes).
 */
int ssm_synth_series(ssm_synth *g, ssm_rng *r, int family, int n, double *y,
		     ssm_synth_info *info);

#endif
