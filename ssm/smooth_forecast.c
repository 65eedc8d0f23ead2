/*
 * ssm/smooth_forecast.c: the forecast of the forecaster bank behind
 * ssm/smooth.h, from a state block: the combination's weights (those the
 * last observation left in the header, or the update's just before), each
 * weighing member's path over its horizons, the combined point forecast at
 * every horizon or at a few (the pruned step), the interval bounds from the
 * checkpoints' trackers, and the quantiles.
 *
 * Workload: once per sample of every series whose forecast is read, right
 * after its update (the model's step: ssm_smooth_update_forecast_few),
 * which hands over what it computed (carry); O(K * H) for K weighing
 * members, or about O(K * (few + 2)) when pruned. Nothing is allocated:
 * the per-horizon arrays are on the stack.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/model_internal.h" /* ssm__norm_ppf */
#include "ssm/smooth_bound.h"
#include "ssm/smooth_parts.h"

/*
 * The interval's half-widths may not exceed GAP_CAP * sqrt(horizon) scales.
 * A random walk's 80% bound is INIT_MULT * sqrt(h) scales; on the public,
 * holdout and synthetic sets 99.9% of the bounds are under 10 sqrt(h).
 * Beyond that lies a series whose scale (its recent one-step changes)
 * collapsed while its errors, and so its bounds in scale units, blew up: a
 * synthetic series reached 3e8, and a training chunk's loss 6e5; a series
 * sampled in bursts (the scale sees the jitter within a burst, the errors
 * the moves between bursts) reaches 1e3 (tests/ssm/test_smooth.c,
 * test_gap_cap). On bench/accuracy's data the cap bites at 11 of 957,744
 * bounds the default model reads (largest 18.7 sqrt(h)), none of the front
 * end's, and changes no score. What it costs: where errors truly grow
 * faster than sqrt(h) scales (an equal-weight combination lagging a
 * trend, a constant series' floor scale) the capped bounds cover less;
 * bench/results/gap11.md has the figures.
 */
#define GAP_CAP 16.0

/* The current weights, from every member's error sums. */
static void weights_now(const float *st, const hdr *h, double w[][NBANK])
{
	ssm__smooth_weights_all(h, ssm__smooth_es(st, h, 0), h->active, w,
				NULL);
}

/* Each checkpoint's interval bounds (scaled units), once per forecast. */
static void bounds_prep(const hdr *h, double *bl, double *bh)
{
	int g;

	for (g = 0; g < h->G; g++) {
		double mae = h->cw[g] > 0 ? h->cs[g] / h->cw[g] : 0;

		bl[g] = h->qlo[g] * mae;
		bh[g] = h->qhi[g] * mae;
	}
}

/*
 * Interval bounds (scaled units) at horizons 1..H from the checkpoint
 * trackers, into lo[], hi[]: between two started trackers linear, past the
 * last one growing like sqrt(horizon), before the first one flat. The
 * started checkpoints bracketing hz are stepped along with hz.
 */
static void bounds_all(const hdr *h, const double *bl, const double *bh,
		       double *lo, double *hi)
{
	int cg[MAXG], nc = 0, g, hz, i, over = 0;

	for (g = 0; g < h->G; g++)
		if (h->qinit[g])
			cg[nc++] = g;
	/* Segment by segment, each horizon's bounds as the case it falls
	 * in: between two started checkpoints a and b, at one, before the
	 * first, after the last, or before any started. */
	if (nc == 0)
		for (hz = 1; hz <= h->H; hz++) {
			hi[hz - 1] = INIT_MULT * sqrt((double)hz);
			lo[hz - 1] = -hi[hz - 1];
		}
	for (hz = 1; nc > 0 && hz < h->hg[cg[0]]; hz++) {
		lo[hz - 1] = bl[cg[0]];
		hi[hz - 1] = bh[cg[0]];
	}
	for (i = 0; i < nc; i++) {
		int a = cg[i], ha = h->hg[a];

		lo[ha - 1] = bl[a] * 1.0;
		hi[ha - 1] = bh[a] * 1.0;
		if (i + 1 < nc) {
			int b = cg[i + 1], hb = h->hg[b];

			/* Between neighbouring checkpoints t is the
			 * segment's gu, the same expression. */
			if (b == a + 1)
				for (hz = ha + 1; hz < hb; hz++) {
					double t = ssm__smooth_gu[hz - 1];

					lo[hz - 1] =
					    (1 - t) * bl[a] + t * bl[b];
					hi[hz - 1] =
					    (1 - t) * bh[a] + t * bh[b];
				}
			else
				for (hz = ha + 1; hz < hb; hz++) {
					double t =
					    (double)(hz - ha) / (hb - ha);

					lo[hz - 1] =
					    (1 - t) * bl[a] + t * bl[b];
					hi[hz - 1] =
					    (1 - t) * bh[a] + t * bh[b];
				}
		} else {
			for (hz = ha + 1; hz <= h->H; hz++) {
				double f = sqrt((double)hz / ha);

				lo[hz - 1] = bl[a] * f;
				hi[hz - 1] = bh[a] * f;
			}
		}
	}
	/* The cap GAP_CAP sqrt(hz) >= GAP_CAP: only bounds past GAP_CAP (or
	 * NaN) can change, so a straight pass first, and the cap only when
	 * one is; then over every horizon in one vector pass, which leaves
	 * every other bound as it is (ssm/smooth_bound.h). */
	over = ssm__smooth_bounds_clip(lo, hi, h->H, GAP_CAP);
	if (over)
		ssm__smooth_bounds_cap(lo, hi, h->H, GAP_CAP);
}

/*
 * bounds_all()'s lo and hi at the horizons few[0..n) only (1-based), into
 * lo[hz - 1], hi[hz - 1]: each horizon's case and the same operations, so
 * the same bits (a pruned forecast reads no other horizon's bounds).
 */
static void bounds_few(const hdr *h, const double *bl, const double *bh,
		       const int32_t *few, int n, double *lo, double *hi)
{
	int cg[MAXG], nc = 0, g, i, j;

	for (g = 0; g < h->G; g++)
		if (h->qinit[g])
			cg[nc++] = g;
	for (j = 0; j < n; j++) {
		int hz = few[j];
		double l, u;

		if (nc == 0) {
			u = INIT_MULT * sqrt((double)hz);
			l = -u;
		} else if (hz < h->hg[cg[0]]) {
			l = bl[cg[0]];
			u = bh[cg[0]];
		} else {
			/* g: the last started checkpoint at or before hz; with
			 * all started, hz's segment (hz >= hg[0]:
			 * ssm__smooth_seg).
			 */
			if (nc == h->G)
				i = ssm__smooth_seg[hz - 1];
			else
				for (i = 0;
				     i + 1 < nc && h->hg[cg[i + 1]] <= hz; i++)
					;
			g = cg[i];
			if (hz == h->hg[g]) {
				l = bl[g] * 1.0;
				u = bh[g] * 1.0;
			} else if (i + 1 < nc) {
				int b = cg[i + 1], ha = h->hg[g], hb = h->hg[b];
				double t = b == g + 1
					       ? ssm__smooth_gu[hz - 1]
					       : (double)(hz - ha) / (hb - ha);

				l = (1 - t) * bl[g] + t * bl[b];
				u = (1 - t) * bh[g] + t * bh[b];
			} else {
				double f = sqrt((double)hz / h->hg[g]);

				l = bl[g] * f;
				u = bh[g] * f;
			}
		}
		/* bounds_all's clip and cap, the rules of ssm/smooth_bound.h
		 * at this horizon. The cap unconditionally, as
		 * ssm__smooth_bounds_cap's: it leaves a bound inside GAP_CAP
		 * as it is, and a square root costs less than the clip's
		 * flag and a branch. */
		ssm__smooth_bound_clip(&l, &u, GAP_CAP);
		ssm__smooth_bound_cap(&l, &u, GAP_CAP * sqrt((double)hz));
		lo[hz - 1] = l;
		hi[hz - 1] = u;
	}
}

/* wk[k] bit g: member k has weight at checkpoint g; one branch-free pass. */
static void weight_masks(const hdr *h, double w[][NBANK], unsigned *wk)
{
	int g, k;

	for (k = 0; k < NBANK; k++)
		wk[k] = 0;
	for (g = 0; g < h->G; g++)
		for (k = 0; k < NBANK; k++)
			wk[k] |= (unsigned)(w[g][k] != 0) << g;
}

/*
 * The weights the last observation left (the error sums have not changed
 * since): the kept top members', or, when more members weigh (the
 * combination's warm-up, ablations), those the update just computed (c,
 * when the forecast follows it) or recomputed from the error sums.
 * Returns 1 when the weights are the kept tops' (few_bound looks at those
 * alone), 0 otherwise.
 */
static int weights_kept(const float *st, const hdr *h, const carry *c,
			double w[][NBANK], unsigned *wk)
{
	int g, i, k;

	for (g = 0; g < h->G; g++)
		if (h->tn[g] == TOPW_ALL) {
			if (c && c->wvalid) {
				memcpy(w, c->w, sizeof c->w);
				memcpy(wk, c->wk, sizeof c->wk);
			} else {
				weights_now(st, h, w);
				weight_masks(h, w, wk);
			}
			return 0;
		}
	memset(w, 0, sizeof(double) * MAXG * NBANK);
	for (k = 0; k < NBANK; k++)
		wk[k] = 0;
	for (g = 0; g < h->G; g++)
		for (i = 0; i < h->tn[g]; i++) {
			w[g][h->tk[g][i]] = h->tw[g][i];
			wk[h->tk[g][i]] |= (unsigned)(h->tw[g][i] != 0) << g;
		}
	return 1;
}

/*
 * The bound comb_few() keeps for |point| at every horizon, or -1 when it
 * cannot promise one. Every member's path passes ssm__smooth_clamp, into
 * [last - clamp_c hz, last + clamp_c hz] (NaN onto the upper end), and a
 * point is the paths' average under weights >= 0 (or last where none
 * weighs): so with a finite clamp, finite weights in [0, 1e6] and
 * magnitudes far from overflow every point is finite and within 2 (|last|
 * + clamp_c H). Before the scale exists (clamp_c 0, a constant series)
 * nothing bounds the paths: the whole forecast is made. Only the weights
 * wk marks are looked at: the others are 0 (a NaN one is marked too).
 * With kept (weights_kept: the header's tops), the tops' slots instead,
 * about 15 looks for 18 members' masks: the same weights, since a slot
 * wk leaves unmarked holds 0 (and a member listed twice in a row is
 * looked at in the slot it ended in, as through wk).
 */
static double few_bound(const hdr *h, double w[][NBANK], const unsigned *wk,
			int kept)
{
	double b = fabs(h->last) + h->clamp_c * h->H;
	unsigned m;
	int k, g, i, ok = 1;

	if (!(h->clamp_c > 0) || !(b <= 1e150))
		return -1;
	if (kept)
		for (g = 0; g < h->G; g++)
			for (i = 0; i < h->tn[g]; i++) {
				double x = w[g][h->tk[g][i]];

				ok &= x >= 0 && x <= 1e6;
			}
	else
		for (k = 0; k < NBANK; k++)
			for (m = wk[k]; m; m &= m - 1) {
				double x = w[__builtin_ctz(m)][k];

				ok &= x >= 0 && x <= 1e6;
			}
	return ok ? 2 * b : -1;
}

/*
 * A bound on every finite interval bound bounds_all() gives (scaled
 * units): those between two started checkpoints lie between theirs,
 * before the first are its, past the last grow like sqrt(horizon / its
 * horizon), with none started INIT_MULT sqrt(horizon); the cap only
 * shrinks them. Non-finite ones are left out: they make non-finite
 * quantiles, whose gaps the model floors.
 */
static double bounds_bound(const hdr *h, const double *bl, const double *bh)
{
	double b = INIT_MULT;
	int g;

	for (g = 0; g < h->G; g++) {
		double l = fabs(bl[g]), u = fabs(bh[g]);

		b = l > b && l <= DBL_MAX ? l : b;
		b = u > b && u <= DBL_MAX ? u : b;
	}
	return b * sqrt((double)h->H) * (1 + 1e-9);
}

/*
 * The combination at the horizons few[0..n) only (1-based, increasing),
 * into point[hz - 1]: member k is evaluated at a list that holds its
 * range's ends h0[k] and h1[k] (they fix its arithmetic: ssm__smooth_exp
 * scales from the first horizon, an AR path recurses to the last) and the
 * wanted horizons between, and each horizon gets comb_seg's operations
 * (ssm/smooth_kern.c) in the same member order: the bits of the whole
 * combination there.
 */
static void comb_few(const float *state, const hdr *h, const mstate *ms,
		     const int32_t *h0, const int32_t *h1, double wg[][NBANK],
		     const int32_t *few, int n, double *point)
{
	double wsum[SSM_SMOOTH_MAX_H], path[SSM_SMOOTH_MAX_H];
	double u[SSM_SMOOTH_MAX_H];
	int32_t hz[SSM_SMOOTH_MAX_H], at[SSM_SMOOTH_MAX_H];
	int seg[SSM_SMOOTH_MAX_H], i, j, k, g, nl;

	for (j = 0; j < n; j++) {
		point[few[j] - 1] = wsum[j] = 0;
		/* The checkpoint segment the horizon is in (segments()). */
		seg[j] = ssm__smooth_seg[few[j] - 1];
		u[j] = ssm__smooth_gu[few[j] - 1];
	}
	for (k = 0; k < NBANK; k++) {
		if (h1[k] < 1)
			continue;
		nl = 0;
		hz[nl++] = h0[k];
		/* One store of at[j] per horizon (a separate -1 first
		 * became a memset call per member). */
		for (j = 0; j < n; j++) {
			int in = few[j] >= h0[k] && few[j] <= h1[k];

			if (in && few[j] > hz[nl - 1])
				hz[nl++] = few[j];
			at[j] = in ? nl - 1 : -1;
		}
		if (h1[k] > hz[nl - 1])
			hz[nl++] = h1[k];
		ssm__smooth_member_at(state, h, k, &ms[k], nl, hz, path);
		for (j = 0; j < n; j++) {
			double t, w;

			if (at[j] < 0)
				continue;
			g = seg[j];
			t = (g + 1 < h->G ? wg[g + 1][k] : 0) * u[j];
			w = wg[g][k] * (1 - u[j]) + (u[j] > 0 ? t : 0.0);
			point[few[j] - 1] += w * path[at[j]];
			wsum[j] += w;
		}
	}
	for (j = 0; j < n; j++) {
		i = few[j] - 1;
		point[i] = wsum[j] > 0 ? point[i] / wsum[j] : h->last;
	}
}

/*
 * Each level's standard normal quantile over the interval's (coverage):
 * the same levels and coverage every step of a model, so the last ones
 * this thread computed are kept (the same function of the same inputs:
 * the same bits). Levels are in (0, 1), checked: no NaN to compare.
 * Returns the thread's copy, valid until its next call.
 */
static _Thread_local struct {
	int Q;
	double cov;
	float lev[SSM_SMOOTH_MAX_Q];
	double z[SSM_SMOOTH_MAX_Q];
} zcache;

static const double *quantile_z(double cov, const float *levels, int Q)
{
	double zc;
	int i, same = zcache.Q == Q && zcache.cov == cov;

	for (i = 0; i < Q && same; i++)
		same = zcache.lev[i] == levels[i];
	if (!same) {
		zc = ssm__norm_ppf(0.5 + 0.5 * cov);
		for (i = 0; i < Q; i++) {
			zcache.lev[i] = levels[i];
			zcache.z[i] = ssm__norm_ppf(levels[i]) / zc;
		}
		zcache.Q = Q;
		zcache.cov = cov;
	}
	return zcache.z;
}

int ssm__smooth_forecast(const float *state, double *point, const float *levels,
			 int Q, double *q, double *scale, carry *c,
			 const int32_t *few, int nfew, double *bound)
{
	hdr own_h, *h = &own_h;
	double path[SSM_SMOOTH_MAX_H], wsum[SSM_SMOOTH_MAX_H];
	const double *z;
	double sc, bl[MAXG], bh[MAXG];
	double wg[MAXG][NBANK], wcol[MAXG];
	const double *gu = ssm__smooth_gu;
	const int32_t *sb = ssm__smooth_sb;
	int32_t hzs[SSM_SMOOTH_MAX_H], h0[NBANK], h1[NBANK];
	unsigned wk[NBANK];
	mstate ms[NBANK];
	ar_run own; /* the AR recursions when no update left them */
	double pb, zmax = 0;
	int hz, k, i, g, j, kept;

	if (!state || !point || Q < 0 || (Q > 0 && (!levels || !q)))
		return SSM_EINVAL;
	/* The update's header, used in place (the carry is the caller's
	 * and dies with this call): ssm__smooth_hdr_get would give it, and left
	 * the layout. */
	if (c && c->hvalid)
		h = &c->h;
	else
		ssm__smooth_hdr_get(state, h);
	if (h->magic != SMOOTH_MAGIC)
		return SSM_EINVAL;
	if (Q > SSM_SMOOTH_MAX_Q)
		return SSM_EINVAL;
	for (i = 0; i < Q; i++)
		if (!(levels[i] > 0 && levels[i] < 1))
			return SSM_EINVAL;
	if (h->nobs == 0) {
		for (hz = 0; hz < h->H; hz++) {
			point[hz] = NAN;
			for (i = 0; i < Q; i++)
				q[hz * Q + i] = NAN;
		}
		if (scale)
			*scale = NAN;
		return SSM_EINVAL;
	}
	ssm__smooth_clamp_prep(h);
	/* wk: where each member weighs (bit g). */
	kept = weights_kept(state, h, c, wg, wk);
	/* Weights per horizon are linear between the checkpoints: horizon
	 * hz of segment g takes (1 - gu) of checkpoint g's weight and gu of
	 * the next's (segments(): ssm__smooth_hdr_get() left this layout's). */
	for (k = 0; k < NBANK; k++) {
		h1[k] = 0;
		if (ssm__smooth_weight_range(h, wk[k], &h0[k], &h1[k]))
			ssm__ms_get(state, h, k, &ms[k]);
	}
	ssm__smooth_ar_batch(state, h, ms, h1, c ? &c->ar : &own, c != NULL);
	pb = few ? few_bound(h, wg, wk, kept) : -1;
	if (bound)
		*bound = pb;
	if (pb >= 0)
		comb_few(state, h, ms, h0, h1, wg, few, nfew, point);
	for (hz = 0; pb < 0 && hz < h->H; hz++) {
		point[hz] = wsum[hz] = 0;
		hzs[hz] = hz + 1;
	}
	for (k = 0; pb < 0 && k < NBANK; k++) {
		if (h1[k] < 1)
			continue;
		ssm__smooth_member_at(state, h, k, &ms[k], h1[k] - h0[k] + 1,
				      hzs + h0[k] - 1, path);
		for (g = 0; g < h->G; g++)
			wcol[g] = wg[g][k];
		ssm__smooth_comb_member(point, wsum, path, gu, sb, h->G, h0[k],
					h1[k], wcol);
	}
	/* The kept weights are floats: renormalize so that they sum to 1. */
	if (pb < 0)
		ssm__smooth_comb_norm(point, wsum, h->H, h->last);
	sc = ssm__smooth_scale(h);
	if (scale)
		*scale = sc;
	if (Q == 0)
		return SSM_OK;
	z = quantile_z(h->opts.coverage, levels, Q);
	bounds_prep(h, bl, bh);
	/* Into path and wsum: the arrays are free by now. */
	if (pb < 0)
		bounds_all(h, bl, bh, path, wsum);
	else
		bounds_few(h, bl, bh, few, nfew, path, wsum);
	/* q = p + sc z (hi or -lo), quantile by quantile. */
	for (i = 0; pb < 0 && i < Q; i++) {
		double cz = sc * z[i];

		if (z[i] > 0)
			for (hz = 0; hz < h->H; hz++)
				q[hz * Q + i] = point[hz] + cz * wsum[hz];
		else
			for (hz = 0; hz < h->H; hz++)
				q[hz * Q + i] = point[hz] + cz * -path[hz];
	}
	if (pb < 0)
		return SSM_OK;
	/* The same at the few horizons; the bound grows by the widest finite
	 * interval bound (a non-finite one makes a non-finite quantile,
	 * which the caller's gaps turn into their floor). */
	for (i = 0; i < Q; i++) {
		double cz = sc * z[i];

		zmax = fabs(z[i]) > zmax ? fabs(z[i]) : zmax;
		for (j = 0; j < nfew; j++) {
			hz = few[j] - 1;
			q[hz * Q + i] = z[i] > 0 ? point[hz] + cz * wsum[hz]
						 : point[hz] + cz * -path[hz];
		}
	}
	pb = 2 * (pb + sc * zmax * bounds_bound(h, bl, bh));
	*bound = pb >= 0 ? pb : HUGE_VAL; /* a NaN scale: no bound */
	return SSM_OK;
}
