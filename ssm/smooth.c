/*
 * ssm/smooth.c: the streaming forecaster bank behind ssm/smooth.h: its
 * public calls and the update. When a sample arrives, each member's and
 * the combination's forecasts made hg[g] steps before it are scored (g
 * over at most SSM_SMOOTH_MAX_CHECK checkpoint horizons), which is what the
 * weights and the interval trackers learn from; then every active member
 * steps, the y ring takes the value, and the new forecasts are recorded at
 * the checkpoints. The bank's other parts, one purpose a file, are listed
 * in ssm/smooth_parts.h: the block layout and header (smooth_layout.c),
 * the weights (smooth_weights.c), the forecast (smooth_forecast.c), what
 * each member is (smooth_members.c).
 *
 * Workload: one ssm_smooth_update() per sample of every series, one
 * ssm_smooth_forecast() per sample the daemon publishes; both
 * O(K * (H + AR order * H)) with K members. Nothing is allocated.
 */
#include "ssm/smooth.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/smooth_parts.h"

#define SCALE_WINDOW 100.0
#define MIN_CALIB    5.0 /* discounted errors before a tracker starts */

void ssm_smooth_opts_default(ssm_smooth_opts *o)
{
	memset(o, 0, sizeof *o);
	o->comb = SSM_SMOOTH_COMB_INVERSE;
	o->top_n = 3;
	o->err_window = 50;
	o->softmin_temp = 5;
	o->aci_rate = 0.05f;
	o->coverage = 0.8f;
	o->member_off = 0;
	o->pool = 1;
}

/* Member ring slot of checkpoint g for a forecast made at step org, or -1
 * when that origin is not recorded. */
static int member_slot(const hdr *h, int g, int64_t org)
{
	/* Steps past 2^32 (136 years at a second) take the 64-bit
	 * divisions; the rest the 32-bit ones, several times faster. */
	if (org >= 0 && org <= UINT32_MAX) {
		uint32_t o = (uint32_t)org, sg = (uint32_t)h->sg[g];

		if (o % sg != 0)
			return -1;
		return h->ring_off[g] + (int)((o / sg) % (uint32_t)h->ng[g]);
	}
	if (org < 0 || org % h->sg[g] != 0)
		return -1;
	return h->ring_off[g] + (int)((org / h->sg[g]) % h->ng[g]);
}

/* Combination ring slot of checkpoint g for a forecast made at step org
 * >= 0. */
static int comb_slot(const hdr *h, int g, int64_t org)
{
	if (org <= UINT32_MAX)
		return h->cring_off[g] +
		       (int)((uint32_t)org % (uint32_t)h->hg[g]);
	return h->cring_off[g] + (int)(org % h->hg[g]);
}

/*
 * The ring holds (y - anchor) / unit as floats: 24 bits of a value's
 * distance from the anchor, not of the value, so a counter at 1e12 keeps its
 * one-step changes; the unit, a power of two in the scale's binade, keeps
 * those distances inside float's range whatever the series' magnitude
 * (1e300 or 1e-300), and scaling by it is exact. The anchor moves to the
 * value being written when that value is more than RING_REANCHOR typical
 * one-step changes away (a level shift, or every few hundred steps of a
 * steady trend), and the unit with it when the scale has left its binade by
 * 2^32; the ring is then re-expressed, O(R), and stored values keep an
 * error below RING_REANCHOR * 2^-24 scales (1.5e-5) around the anchor.
 */
#define RING_REANCHOR 256.0
#define RING_DRIFT    0x1p32

/* A ring entry: past float's range only for values ~1e38 scales away from
 * the anchor, which are kept finite. */
static float ring_float(double x)
{
	if (x > FLT_MAX)
		return FLT_MAX;
	if (x < -FLT_MAX)
		return -FLT_MAX;
	return (float)x;
}

static void yring_put(float *st, hdr *h, int64_t step, double v)
{
	float *ring = st + h->off_yring;
	double sc = ssm__smooth_scale(h);
	int i;

	if (!(fabs(v - h->anchor) <= RING_REANCHOR * sc) ||
	    !(h->ring_unit <= sc * RING_DRIFT) ||
	    !(h->ring_unit >= sc / RING_DRIFT)) {
		int e = isfinite(sc) ? ilogb(sc) : 1000;
		double unit;

		e = e < -1000 ? -1000 : e > 1000 ? 1000 : e;
		unit = ssm__smooth_pow2(e);
		for (i = 0; i < h->R; i++)
			ring[i] = ring_float(
			    (h->anchor + (double)ring[i] * h->ring_unit - v) /
			    unit);
		h->anchor = v;
		h->ring_unit = unit;
		h->ring_exp = e;
	}
	ring[ssm__yring_ix(h, step)] =
	    ring_float((v - h->anchor) / h->ring_unit);
}

static double err_lambda(const hdr *h)
{
	double w = h->opts.err_window;

	return w > 1 ? 1.0 - 1.0 / w : 0;
}

/* Members of the bank by what they are, bit k for member k. */
typedef struct bank_masks {
	uint32_t all;	   /* every member */
	uint32_t ar;	   /* the AR members (K_AR) */
	uint32_t seasonal; /* those that need period > 1 */
	uint32_t logscale; /* those on log(y): only while every y > 0 */
} bank_masks;

static const bank_masks *bank_masks_get(void)
{
	static _Thread_local bank_masks b;
	static _Thread_local int ready;
	int k;

	if (!ready) {
		for (k = 0; k < NBANK; k++) {
			b.all |= 1u << k;
			b.ar |= (uint32_t)(ssm__smooth_bank[k].kind == K_AR)
				<< k;
			b.seasonal |= (uint32_t)ssm__smooth_bank[k].seasonal
				      << k;
			b.logscale |= (uint32_t)ssm__smooth_bank[k].logscale
				      << k;
		}
		ready = 1;
	}
	return &b;
}

/* The members members_enabled() refuses for good: switched off by the
 * options or seasonal in a series without a period. They are never
 * seeded, so never active. (The log-scale members' refusal after a value
 * <= 0 is for good too, but they may have recorded before it.) */
static uint32_t bank_off(const hdr *h, const bank_masks *b)
{
	return (h->opts.member_off | (h->period < 2 ? b->seasonal : 0)) &
	       b->all;
}

/* The members this series may run now (bit k: member k): not off for good
 * (bank_off), and not on the log scale once a value was <= 0. A mask, not
 * a test per member: the update asks it of every active member. */
static uint32_t members_enabled(const hdr *h, const bank_masks *b)
{
	return b->all & ~bank_off(h, b) & (h->positive ? b->all : ~b->logscale);
}

/* Every member's fixed part, loaded once per update. The members this
 * series can never enable (bank_off) are inactive with nothing to load:
 * never seeded, their level and trend stay as ssm_smooth_init left them,
 * and store_members leaves them there. */
static void load_members(const float *st, const hdr *h, mstate *ms,
			 uint32_t off)
{
	int k;

	for (k = 0; k < NBANK; k++) {
		if ((off >> k) & 1) {
			memset(&ms[k], 0, sizeof ms[k]);
			continue;
		}
		ssm__ms_get(st, h, k, &ms[k]);
	}
}

/*
 * Score the forecasts that targeted this step. The interval trackers hold
 * each bound as a multiple of the running mean |error| at that horizon and
 * move it by the miss indicator (quantile tracking, the O(1) form of
 * adaptive conformal inference): up by rate * (1 - a) on a miss, down by
 * rate * a otherwise, a = (1 - coverage) / 2, so misses settle at a.
 */
static void score(float *st, hdr *h, double y)
{
	double lam = err_lambda(h), sc = ssm__smooth_scale(h);
	double half = 0.5 * (1.0 - h->opts.coverage), rate = h->opts.aci_rate;
	double e, f, lamg[MAXG], yorg[MAXG], isc = 1.0 / sc;
	int slot[MAXG], hit[2][MAXG] = {{0}}, g, i;
	uint32_t c0 = ssm__smooth_cohort0();

	/* The member rings scored at this step; a score every sg steps is
	 * discounted by lam^sg (only where one is: nothing reads the
	 * others). */
	for (g = 0; g < h->G; g++) {
		slot[g] = member_slot(h, g, h->step - h->hg[g]);
		yorg[g] = lamg[g] = 0;
		if (slot[g] < 0)
			continue;
		yorg[g] = ssm__yring(st, h, h->step - h->hg[g]);
		for (i = 0, lamg[g] = 1; i < h->sg[g]; i++)
			lamg[g] *= lam;
	}
	/* Every active member at once per checkpoint: its row of es and its
	 * row of pending forecasts are contiguous (member-major layout). */
	for (g = 0; g < h->G; g++) {
		uint16_t pb[NBANK];
		uint32_t got;

		if (slot[g] < 0)
			continue;
		memcpy(pb,
		       (const unsigned char *)ssm__member_pend(st, h) +
			   2 * (size_t)slot[g] * NBANK,
		       sizeof pb);
		got =
		    ssm__smooth_score_row(ssm__smooth_es(st, h, g), pb, NBANK,
					  h->active, y, yorg[g], isc, lamg[g]);
		hit[0][g] = (got & c0) != 0;
		hit[1][g] = (got & ~c0) != 0;
	}
	for (i = 0; i < 2; i++)
		for (g = 0; g < h->G; g++)
			if (hit[i][g])
				h->ew[i][g] =
				    (float)(lamg[g] * h->ew[i][g] + 1);
	for (g = 0; g < h->G; g++) {
		int64_t org = h->step - h->hg[g];

		if (org < 0)
			continue;
		f = ssm__pend_get(st + h->off_comb, comb_slot(h, g, org));
		if (isnan(f))
			continue;
		e = (y - (ssm__yring(st, h, org) + f)) / sc;
		if (h->cw[g] >= MIN_CALIB) {
			double mae = h->cs[g] / h->cw[g];

			if (!h->qinit[g]) {
				h->qhi[g] = INIT_MULT;
				h->qlo[g] = -INIT_MULT;
				h->qinit[g] = 1;
			} else {
				h->qhi[g] +=
				    (float)(rate *
					    ((e > h->qhi[g] * mae) - half));
				h->qlo[g] -=
				    (float)(rate *
					    ((e < h->qlo[g] * mae) - half));
			}
		}
		h->cs[g] = (float)(lam * h->cs[g] + fabs(e));
		h->cw[g] = (float)(lam * h->cw[g] + 1);
	}
}

/*
 * Record the combination's forecasts at the checkpoints (every step) and
 * each active member's at the checkpoints whose ring records this origin,
 * relative to the value seen now. A member is evaluated only at the
 * horizons that need it: where it is in the combination or records.
 */
static void record(float *st, hdr *h, mstate *ms, uint32_t act, int observed,
		   carry *c)
{
	/* The weights go where the forecast may take them (carry). */
	double(*w)[NBANK] = c->w, comb[MAXG] = {0}, f[NBANK * MAXG];
	int32_t fz[NBANK * MAXG], rhz[MAXG], hneed[NBANK];
	uint32_t fb[NBANK * MAXG];
	int slot[MAXG], fg[NBANK * MAXG], rgi[MAXG], at[NBANK], fn[NBANK];
	int g, k, nf, rn = 0, i;
	unsigned *inw = c->wk; /* bit g: member k weighs at g */
	unsigned rmask = 0, m;
	uint32_t live;
	float *pend = ssm__member_pend(st, h);
	const bank_masks *bm = bank_masks_get();
	wnz nz;

	ssm__smooth_clamp_prep(h);
	for (k = 0; k < NBANK; k++) {
		inw[k] = 0;
		hneed[k] = 0;
	}
	if (observed) {
		ssm__smooth_weights_all(h, ssm__smooth_es(st, h, 0), act, w,
					&nz);
		memcpy(inw, nz.in, sizeof nz.in);
	}
	/* The checkpoints whose ring records this origin, as a list: every
	 * member evaluated is evaluated there, most of them nowhere else. */
	for (g = 0; g < h->G; g++) {
		slot[g] = member_slot(h, g, h->step);
		if (slot[g] >= 0) {
			rmask |= 1u << g;
			rgi[rn] = g;
			rhz[rn++] = h->hg[g];
		}
	}
	live = observed ? act : 0;
	/* The AR members' farthest checkpoint (bit g: where each member is
	 * evaluated), or as far as the forecast after the update evaluates
	 * it (the end of its weight range, ssm__smooth_weight_range): their
	 * recursions run that far here, once, together, and the forecast's
	 * batch takes them (ssm__smooth_ar_batch). */
	for (m = live & bm->ar; m; m &= m - 1) {
		unsigned need;
		int f0, f1;

		k = __builtin_ctz(m);
		need = rmask | inw[k];
		hneed[k] = need ? h->hg[31 - __builtin_clz(need)] : 0;
		if (hneed[k] > 0 &&
		    ssm__smooth_weight_range(h, inw[k], &f0, &f1) &&
		    f1 > hneed[k])
			hneed[k] = f1;
	}
	ssm__smooth_ar_batch(st, h, ms, hneed, &c->ar, 0);
	/* Each live member, in bank order (the combination's sums go in
	 * it), at the recording checkpoints and where it weighs: first
	 * every member's values, one after the other in f (member k's n[k]
	 * from at[k], its horizons in fz, its checkpoints in fg), then one
	 * sanity clamp over them all, then the rings and the sums. */
	for (m = live, nf = 0; m; m &= m - 1) {
		unsigned b;

		k = __builtin_ctz(m);
		at[k] = nf;
		if (inw[k] & ~rmask) {
			for (b = rmask | inw[k]; b; b &= b - 1) {
				fg[nf] = __builtin_ctz(b);
				fz[nf++] = h->hg[__builtin_ctz(b)];
			}
		} else {
			memcpy(fg + nf, rgi, sizeof *fg * (size_t)rn);
			memcpy(fz + nf, rhz, sizeof *fz * (size_t)rn);
			nf += rn;
		}
		fn[k] = nf - at[k];
		if (fn[k] > 0)
			ssm__smooth_member_raw(st, h, k, &ms[k], fn[k],
					       fz + at[k], f + at[k]);
	}
	if (h->clamp_c > 0 && nf > 0) /* NaN lands on the upper bound */
		ssm__smooth_clamp(f, fz, nf, h->last, h->clamp_c);
	/* Every value's ring bits in one vector pass (also those that only
	 * weigh, at a checkpoint that does not record now), then the
	 * stores to the rings. */
	ssm__smooth_bf16_rel(fb, f, nf, h->last);
	for (m = live; m; m &= m - 1)
		for (k = __builtin_ctz(m), i = at[k]; i < at[k] + fn[k]; i++) {
			g = fg[i];
			if (slot[g] >= 0)
				ssm__pend_set(pend, slot[g] * NBANK + k,
					      (uint16_t)fb[i]);
			comb[g] += w[g][k] * f[i];
		}
	/* The others record no forecast. A member this series can never
	 * enable (bank_off) holds NaN in every slot since ssm_smooth_init:
	 * nothing to write. */
	for (m = ~live & bm->all & ~bank_off(h, bm); m; m &= m - 1) {
		k = __builtin_ctz(m);
		for (i = 0; i < rn; i++)
			ssm__pend_put(pend, slot[rgi[i]] * NBANK + k, NAN);
	}
	for (g = 0; g < h->G; g++)
		ssm__pend_put(st + h->off_comb, comb_slot(h, g, h->step),
			      observed ? (float)(comb[g] - h->last) : NAN);
	/* The forecast reuses the weights until the next observation. */
	for (g = 0; g < h->G && observed; g++) {
		h->tn[g] = nz.n[g] > SMOOTH_TOPW ? TOPW_ALL : (uint8_t)nz.n[g];
		for (i = 0; i < nz.n[g] && i < SMOOTH_TOPW; i++) {
			h->tk[g][i] = nz.k[g][i];
			h->tw[g][i] = (float)w[g][nz.k[g][i]];
		}
	}
}

/* Seeds the members of the kind asked; returns them (bit k: member k,
 * active now). */
static uint32_t seed_members(float *st, hdr *h, mstate *ms, int naive_only)
{
	const uint32_t en = members_enabled(h, bank_masks_get());
	uint32_t seeded = 0;
	int k, g;

	for (k = 0; k < NBANK; k++) {
		if ((ssm__smooth_bank[k].kind == K_NAIVE) != naive_only ||
		    !((en >> k) & 1))
			continue;
		ssm__smooth_member_seed(st, h, k, &ms[k]);
		seeded |= 1u << k;
		for (g = 0; g < MAXG; g++) /* a fresh member's error sums */
			ssm__smooth_es(st, h, g)[k] = 0;
	}
	return seeded;
}

/* Every member's fixed part, stored back once per step (not those of
 * off: load_members); act, the members active now (ms[k].active of the
 * others), into the header's mask at once. */
static void store_members(float *st, hdr *h, const mstate *ms, uint32_t off,
			  uint32_t act)
{
	const uint32_t mine = bank_masks_get()->all & ~off;
	int k;

	for (k = 0; k < NBANK; k++)
		if ((mine >> k) & 1)
			ssm__ms_put_lb(st, h, k, &ms[k]);
	h->active = (h->active & ~mine) | (act & mine);
}

static void advance(float *st, hdr *h, double y, int observed, carry *c)
{
	mstate ms[NBANK];
	const bank_masks *bm = bank_masks_get();
	const uint32_t off = bank_off(h, bm);
	/* The active members (ms[k].active), kept as they change (the
	 * header's mask is stored from it). */
	uint32_t on, en, act = h->active & bm->all & ~off;
	int k;

	load_members(st, h, ms, off);
	h->step++;
	ssm__hdr_clock(h);
	if (observed) {
		if (h->nobs > 0 && h->prev_obs) {
			double lam = 1.0 - 1.0 / SCALE_WINDOW;

			h->scale_s = lam * h->scale_s + fabs(y - h->last);
			h->scale_w = lam * h->scale_w + 1;
		}
		/* Errors in units of a scale that is not there yet (a gap
		 * right after the first value) would be ~1e10 and swamp the
		 * error sums for a thousand steps: wait for the scale. */
		if (h->nobs > 0 && h->scale_w > 0)
			score(st, h, y);
		if (!(y > 0))
			h->positive = 0;
	}
	/* What the log-scale members observe, once for all of them (they
	 * are active only while every value was positive). */
	h->logy = observed && y > 0 ? log(y) : NAN;
	en = members_enabled(h, bm);
	for (on = h->active & bm->all & ~off; on; on &= on - 1) {
		mstate *m = &ms[k = __builtin_ctz(on)];

		if (!((en >> k) & 1)) {
			m->active = 0;
			act &= ~(1u << k);
		}
		if (m->active) {
			if (observed)
				ssm__smooth_member_observe(st, h, k, m, y);
			else
				ssm__smooth_member_skip(st, h, k, m);
		}
	}
	if (observed) {
		h->last = y;
		h->nobs++;
	}
	h->prev_obs = observed;
	yring_put(st, h, h->step, h->last);
	if (h->nobs == 1 && observed) /* naive forecasts from one value */
		act |= seed_members(st, h, ms, 1);
	if (!h->seeded && h->step + 1 >= h->warm) {
		h->seeded = 1;
		act |= seed_members(st, h, ms, 0);
	}
	record(st, h, ms, act, observed, c);
	store_members(st, h, ms, off, act);
}

/* ssm_smooth_update, leaving in *c what the forecast after it can take. */
static int smooth_update(float *state, double value, int64_t gap, int missing,
			 carry *c)
{
	/* The header lives in c: the forecast that follows reads it there. */
	hdr *h = &c->h;
	int observed = !(missing || isnan(value)), k, g;
	int64_t skip, i;

	c->hvalid = c->wvalid = 0;
	c->ar.H = 0;
	if (!state)
		return SSM_EINVAL;
	if (observed && !isfinite(value))
		return SSM_ENONFINITE;
	ssm__smooth_hdr_get(state, h);
	if (h->magic != SMOOTH_MAGIC)
		return SSM_EINVAL;
	if (h->step < 0 && !observed)
		return SSM_OK; /* nothing to forecast from yet */
	if (h->step >= 0 && gap < 1)
		return SSM_EINVAL;
	skip = h->step < 0 ? 0 : gap - 1;
	/*
	 * Missing steps advance the clock one by one up to the ring length
	 * (after that every pending forecast is stale anyway); a longer outage
	 * jumps the clock and extrapolates the trends once.
	 */
	for (i = 0; i < skip && i < h->R; i++)
		advance(state, h, NAN, 0, c);
	if (skip > h->R) {
		int64_t rest = skip - h->R;

		h->step += rest;
		ssm__hdr_clock(h);
		h->prev_obs = 0;
		for (i = 0; i < h->R; i++)
			yring_put(state, h, h->step - i, h->last);
		for (k = 0; k < NBANK; k++) {
			mstate m;

			ssm__ms_get(state, h, k, &m);
			if (m.active)
				ssm__smooth_member_jump(state, h, k, &m, rest);
			ssm__ms_put(state, h, k, &m);
		}
	}
	advance(state, h, value, observed, c);
	ssm__smooth_hdr_put(state, h);
	/* record's weights serve the forecast when it would recompute them
	 * (weights_kept); else it reads the kept ones from the header. */
	for (g = 0; g < h->G && observed; g++)
		c->wvalid |= h->tn[g] == TOPW_ALL;
	c->hvalid = 1;
	return SSM_OK;
}

int ssm_smooth_update(float *state, double value, int64_t gap, int missing)
{
	carry c;

	return smooth_update(state, value, gap, missing, &c);
}

int ssm_smooth_forecast(const float *state, double *point, const float *levels,
			int Q, double *q, double *scale)
{
	return ssm__smooth_forecast(state, point, levels, Q, q, scale, NULL,
				    NULL, 0, NULL);
}

int ssm_smooth_update_forecast(float *state, double value, int64_t gap,
			       int missing, double *point, const float *levels,
			       int Q, double *q, double *scale)
{
	carry c;
	int rc = smooth_update(state, value, gap, missing, &c);

	return rc < 0 ? rc
		      : ssm__smooth_forecast(state, point, levels, Q, q, scale,
					     &c, NULL, 0, NULL);
}

int ssm_smooth_update_forecast_few(float *state, double value, int64_t gap,
				   int missing, const int32_t *few, int nfew,
				   double *point, const float *levels, int Q,
				   double *q, double *scale, double *bound)
{
	carry c;
	int rc, j;

	*bound = -1;
	for (j = 0; j < nfew; j++)
		if (few[j] < 1 || few[j] > SSM_SMOOTH_MAX_H ||
		    (j > 0 && few[j] <= few[j - 1]))
			return SSM_EINVAL;
	rc = smooth_update(state, value, gap, missing, &c);
	if (rc < 0)
		return rc;
	if (!c.hvalid || nfew < 1 || few[nfew - 1] > c.h.H || Q < 1)
		few = NULL;
	return ssm__smooth_forecast(state, point, levels, Q, q, scale, &c, few,
				    nfew, bound);
}

int64_t ssm_smooth_count(const float *state)
{
	hdr h;

	ssm__smooth_hdr_get(state, &h);
	return h.magic == SMOOTH_MAGIC ? h.nobs : 0;
}

int ssm_smooth_members(void)
{
	return NBANK;
}

const char *ssm_smooth_member_name(int k)
{
	return k >= 0 && k < NBANK ? ssm__smooth_bank[k].name : NULL;
}
