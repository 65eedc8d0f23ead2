/*
 * ssm/smooth_parts.h (internal): what the files of the forecaster bank
 * (ssm/smooth.h) share on top of ssm/smooth_internal.h's block layout and
 * member kinds. Not a public header: only ssm/smooth*.c include it.
 *
 * The bank, one purpose a file:
 *   ssm/smooth.c           the public calls and the update: scoring the
 *                          forecasts that targeted this step, the interval
 *                          trackers' learning, the members' steps,
 *                          recording new forecasts, the y ring
 *   ssm/smooth_layout.c    the block's layout and header: sizes and
 *                          offsets, the checkpoints, the per-thread layout
 *                          cache, header in and out, a fresh block
 *   ssm/smooth_weights.c   the combination's weights from the members'
 *                          error sums (the top-n rule and the ablations')
 *   ssm/smooth_forecast.c  the forecast: the weights it takes, the
 *                          combination at every horizon or at a few, the
 *                          interval bounds and the quantiles
 *   ssm/smooth_members.c   what each member is
 *   ssm/smooth_kern.c      the vectorized loops over horizons and members
 *
 * The small helpers that an update and a forecast both run every step are
 * static inline here: the files were one until session 14, and the split
 * costs no call where that file inlined them.
 */
#ifndef STATECAST_SSM_SMOOTH_PARTS_H
#define STATECAST_SSM_SMOOTH_PARTS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ssm/smooth_internal.h"

#define NBANK	  SMOOTH_NBANK
#define INIT_MULT 1.6 /* 0.9 normal quantile / mean |error| = 1.28/0.80 */

/* 2^e, as ldexp(1.0, e) gives it: for a normal result its bits directly
 * (every step's ssm__smooth_hdr_get; ldexp's call was 24 instructions). */
static inline double ssm__smooth_pow2(int e)
{
	uint64_t u;
	double d;

	if (e < -1022 || e > 1023)
		return ldexp(1.0, e);
	u = (uint64_t)(e + 1023) << 52;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* The series' scale: its typical one-step change in value units, the EW
 * mean |y_t - y_(t-1)| (SCALE_WINDOW, ssm/smooth.c), or a sliver of the last
 * value while there is none. */
static inline double ssm__smooth_scale(const hdr *h)
{
	double sc = h->scale_w > 0 ? h->scale_s / h->scale_w : 0;

	return sc > 0 ? sc : 1e-12 + 1e-9 * fabs(h->last);
}

/* The members of cohort 0 (ssm__member_cohort), bit k for member k. */
static inline uint32_t ssm__smooth_cohort0(void)
{
	static _Thread_local uint32_t c, ready;
	int k;

	if (!ready) {
		for (k = 0, c = 0; k < NBANK; k++)
			c |= (uint32_t)(ssm__member_cohort(k) == 0) << k;
		ready = 1;
	}
	return c;
}

/* ---- the layout (ssm/smooth_layout.c) ---- */

/* The block's header unpacked into *h with the layout derived from it
 * (h->magic != SMOOTH_MAGIC: another layout version, nothing else set), and
 * *h stored back into the block. */
void ssm__smooth_hdr_get(const float *st, hdr *h);
void ssm__smooth_hdr_put(float *st, const hdr *h);

/* The per-horizon tables of the layout ssm__smooth_hdr_get() last derived
 * on this thread (ssm/smooth_layout.c says what they hold). */
extern _Thread_local double ssm__smooth_gu[SSM_SMOOTH_MAX_H];
extern _Thread_local int32_t ssm__smooth_sb[MAXG + 1];
extern _Thread_local int8_t ssm__smooth_seg[SSM_SMOOTH_MAX_H];

/* ---- the weights (ssm/smooth_weights.c) ---- */

/* The members with nonzero weight per checkpoint, in bank order, and
 * the same by member: bit g of in[k], member k weighs at g (record()'s
 * inw, set as the lists are). */
typedef struct wnz {
	int n[MAXG];
	uint8_t k[MAXG][NBANK];
	unsigned in[NBANK];
} wnz;

/* The weights w[g][k] of the active members at every checkpoint from their
 * error sums es (member-major: ssm__smooth_es(st, h, 0)); each row sums to
 * 1. nz (optional): the nonzero ones listed. ssm/smooth_weights.c says
 * how they are made. */
void ssm__smooth_weights_all(const hdr *h, const float *es, uint32_t active,
			     double w[][NBANK], wnz *nz);

/*
 * The horizons [*h0, *h1] over which member k's interpolated weight can be
 * nonzero (weights are linear between checkpoints), or 0 when it has no
 * weight anywhere: only those are evaluated. wk = the checkpoints (bit g)
 * where it has weight (weight_masks).
 */
static inline int ssm__smooth_weight_range(const hdr *h, unsigned wk, int *h0,
					   int *h1)
{
	int gmin, gmax;

	if (!wk)
		return 0;
	gmin = __builtin_ctz(wk);
	gmax = 31 - __builtin_clz(wk);
	*h0 = gmin > 0 ? h->hg[gmin - 1] + 1 : 1;
	*h1 = gmax < h->G - 1 ? h->hg[gmax + 1] - 1 : h->H;
	return 1;
}

/* ---- from the update to the forecast (ssm/smooth_forecast.c) ---- */

/*
 * What an update leaves for the forecast that follows it on the same block
 * (ssm_smooth_update_forecast; the model's step does exactly that):
 * record()'s weights, which the forecast would otherwise compute again when
 * the header cannot hold them (more than SMOOTH_TOPW members weigh at some
 * checkpoint: every active member during the warm-up, tn = TOPW_ALL), and
 * the AR recursions record() ran as far as the forecast needs, and the
 * header unpacked (ssm__smooth_hdr_put then ssm__smooth_hdr_get gives it back
 * as it was). Nothing changes the error sums, the header or the AR states
 * between the two, so these are what the forecast would compute (record ran
 * with the previous kept tops, which only narrow top3's candidates to members
 * that cannot change its choice: top3_cands).
 */
typedef struct carry {
	int hvalid; /* h is the block's header as the update stored it */
	hdr h;
	int wvalid; /* w and wk are the weights a forecast would compute */
	double w[MAXG][NBANK];
	unsigned wk[NBANK]; /* bit g: w[g][k] != 0 (weight_masks) */
	ar_run ar;
} carry;

/* ssm_smooth_forecast, taking what the update before it left in c (NULL:
 * no update right before, or none that left anything). With few (n
 * horizons, 1-based, increasing) and *bound: only those horizons when
 * few_bound() allows it (*bound >= 0 then bounds |point| and |q| at every
 * horizon), else all of them (*bound = -1). */
int ssm__smooth_forecast(const float *state, double *point, const float *levels,
			 int Q, double *q, double *scale, carry *c,
			 const int32_t *few, int nfew, double *bound);

#endif
