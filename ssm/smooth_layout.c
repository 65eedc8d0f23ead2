/*
 * ssm/smooth_layout.c: the block layout of the forecaster bank behind
 * ssm/smooth.h (the layout itself is drawn in ssm/smooth_internal.h): a
 * block's size for (period, H), the checkpoint horizons, the offsets
 * derived from them, the header in and out of the block, and a fresh block.
 *
 * Workload: ssm__smooth_hdr_get() runs at every update and at every
 * forecast that does not follow one. The layout it derives is the same for
 * every series of a model but the non-seasonal ones, so the last one is
 * kept per thread and copied; it is derived again only on a miss.
 */
#include <math.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/smooth_parts.h"

/*
 * Checkpoint horizons: about geometric from 1 to H, at most MAXG (5). A
 * multiple of the period is moved one step in: there naive and seasonal naive
 * forecast the same value, so its errors cannot tell a seasonal member from a
 * non-seasonal one, and its weights would leak into the horizons around it.
 */
static int checkpoints(int H, int period, int32_t *hg)
{
	int G = H < MAXG ? H : MAXG, g, n = 0;

	for (g = 0; g < G; g++) {
		double v = G == 1 ? 1 : pow((double)H, (double)g / (G - 1));
		int h = g == G - 1 ? H : (int)lround(v);

		if (period > 1 && h > 1 && h % period == 0)
			h--;
		if (n > 0 && h <= hg[n - 1])
			h = hg[n - 1] + 1;
		if (h > H || (n > 0 && h <= hg[n - 1]))
			continue;
		hg[n++] = h;
	}
	return n;
}

/* Two cycles for seasonal seeding, the AR lags, and H for the anchors. */
static int ring_len(int period, int H)
{
	int r = 2 * period + AR_P + 2;

	if (r < H + 1)
		r = H + 1;
	return r < 8 ? 8 : r;
}

static int warm_len(int period)
{
	if (period > 1)
		return 2 * period > period + AR_P + 2 ? 2 * period
						      : period + AR_P + 2;
	return AR_P + 3;
}

/* The layout from h->period, h->H and the checkpoints h->hg[0..G-1]. */
static size_t derive(hdr *h)
{
	int g, k, off;

	h->K = NBANK;
	h->npend = h->ncpend = 0;
	for (g = 0; g < h->G; g++) {
		h->sg[g] = (h->hg[g] + SMOOTH_SLOTS - 1) / SMOOTH_SLOTS;
		h->ng[g] = (h->hg[g] + h->sg[g] - 1) / h->sg[g];
		h->ring_off[g] = h->npend;
		h->npend += h->ng[g];
		h->cring_off[g] = h->ncpend;
		h->ncpend += h->hg[g];
	}
	h->nlevel = h->ntrend = 0;
	for (k = 0; k < NBANK; k++) {
		h->mlevel[k] =
		    (int8_t)(ssm__member_has_level(k) ? h->nlevel++ : -1);
		h->mtrend[k] =
		    (int8_t)(ssm__member_has_trend(k) ? h->ntrend++ : -1);
	}
	off = HDR_F;
	h->off_es = off;
	off += MAXG * NBANK;
	h->off_lev = off;
	off += 2 * h->nlevel;
	h->off_trd = off;
	off += 2 * h->ntrend;
	h->off_pend = off;
	off += PEND_FLOATS(h->npend * NBANK);
	for (k = 0; k < NBANK; k++) {
		h->mseas[k] = off;
		h->mkind[k] = off + ssm__member_kind_off(k, h->period);
		off += ssm__smooth_member_floats(k, h->period);
	}
	h->R = ring_len(h->period, h->H);
	h->off_yring = off;
	h->off_comb = off + h->R;
	h->warm = warm_len(h->period);
	h->inv_period = 1.0 / h->period;
	return (size_t)h->off_comb + (size_t)PEND_FLOATS(h->ncpend);
}

/* Lays the block out in *h (everything but the dynamic fields). */
static size_t layout(int period, int H, hdr *h)
{
	memset(h, 0, sizeof *h);
	h->period = period;
	h->H = H;
	h->G = checkpoints(H, period, h->hg);
	return derive(h);
}

/* layout() when period and H are in range, else 0. */
static size_t checked_layout(int period, int H, hdr *h)
{
	if (period < 1 || H < 1 || period > SSM_SMOOTH_MAX_PERIOD ||
	    H > SSM_SMOOTH_MAX_H)
		return 0;
	return layout(period, H, h);
}

size_t ssm_smooth_state_floats(int period, int H)
{
	hdr h;

	return checked_layout(period, H, &h);
}

/*
 * The layout of the last block this thread read: the series of a model
 * share one (period, H) but for the non-seasonal ones, so ssm__smooth_hdr_get()
 * mostly copies it instead of deriving it again (the derivation walks the
 * bank).
 */
static _Thread_local hdr layout_cache;

/*
 * With the cached layout, what every forecast of it needs per horizon: the
 * checkpoint segments (segment g = horizons [sb[g], sb[g + 1])) and each
 * horizon's share gu of the next checkpoint's weight (0 up to the first
 * checkpoint and from the last one on); the combination and the interval
 * bounds interpolate with them. ssm__smooth_seg[hz - 1]: the segment horizon hz
 * is in, for the pruned forecast's few horizons (no search per horizon).
 */
_Thread_local double ssm__smooth_gu[SSM_SMOOTH_MAX_H];
_Thread_local int32_t ssm__smooth_sb[MAXG + 1];
_Thread_local int8_t ssm__smooth_seg[SSM_SMOOTH_MAX_H];

/* Once per layout (a cache miss of ssm__smooth_hdr_get): kept out of
 * ssm__smooth_hdr_get's body. */
__attribute__((noinline)) static void segments(const hdr *h, int32_t *sb,
					       double *gu, int8_t *seg)
{
	int g, hz;

	for (g = 0; g < h->G; g++) {
		int lo = g ? h->hg[g] : 1;
		int hi = g + 1 < h->G ? h->hg[g + 1] : h->H + 1;

		sb[g] = lo;
		for (hz = lo; hz < hi; hz++) {
			seg[hz - 1] = (int8_t)g;
			gu[hz - 1] = g + 1 < h->G && hz > h->hg[g]
					 ? (double)(hz - h->hg[g]) /
					       (h->hg[g + 1] - h->hg[g])
					 : 0;
		}
	}
	sb[h->G] = h->H + 1;
}

/* The layout's checkpoints (int32, zero past G) against a block's. */
static int hg_same(const int32_t *hg, const uint16_t *shg, int G)
{
	int g;

	for (g = 0; g < MAXG; g++)
		if (hg[g] != (g < G ? shg[g] : 0))
			return 0;
	return 1;
}

void ssm__smooth_hdr_get(const float *st, hdr *h)
{
	hdr_store s;
	int g;

	memcpy(&s, st, sizeof s);
	for (g = 0; g < MAXG && s.hg[g]; g++)
		;
	/* The cached layout when it is this block's: every field of *h is
	 * then set by the copy and below, so no memset first. */
	if (s.magic == SMOOTH_MAGIC && layout_cache.magic == SMOOTH_MAGIC &&
	    layout_cache.period == s.period && layout_cache.H == s.H &&
	    layout_cache.G == g && hg_same(layout_cache.hg, s.hg, g)) {
		*h = layout_cache;
	} else {
		memset(h, 0, sizeof *h);
		h->magic = s.magic;
		if (s.magic != SMOOTH_MAGIC)
			return;
		h->period = s.period;
		h->H = s.H;
		for (g = 0; g < MAXG && s.hg[g]; g++)
			h->hg[g] = s.hg[g];
		h->G = g;
		derive(h);
		layout_cache = *h;
		segments(h, ssm__smooth_sb, ssm__smooth_gu, ssm__smooth_seg);
	}
	h->positive = !!(s.flags & HF_POSITIVE);
	h->prev_obs = !!(s.flags & HF_PREV_OBS);
	h->seeded = !!(s.flags & HF_SEEDED);
	h->active = s.active;
	h->step = s.step;
	ssm__hdr_clock(h);
	h->nobs = s.nobs;
	h->last = s.last;
	h->scale_s = s.scale_s;
	h->scale_w = s.scale_w;
	h->anchor = s.anchor;
	h->ring_exp = s.ring_exp;
	h->ring_unit = ssm__smooth_pow2(s.ring_exp);
	memcpy(h->cs, s.cs, sizeof h->cs);
	memcpy(h->cw, s.cw, sizeof h->cw);
	memcpy(h->qlo, s.qlo, sizeof h->qlo);
	memcpy(h->qhi, s.qhi, sizeof h->qhi);
	memcpy(h->ew, s.ew, sizeof h->ew);
	for (g = 0; g < MAXG; g++)
		h->qinit[g] = (s.qinit >> g) & 1;
	memcpy(h->tw, s.tw, sizeof h->tw);
	memcpy(h->tk, s.tk, sizeof h->tk);
	memcpy(h->tn, s.tn, sizeof h->tn);
	h->opts.comb = s.comb;
	h->opts.top_n = s.top_n;
	h->opts.err_window = s.err_window;
	h->opts.softmin_temp = s.softmin_temp;
	h->opts.aci_rate = s.aci_rate;
	h->opts.coverage = s.coverage;
	h->opts.member_off = s.member_off;
	h->opts.pool = !!(s.flags & HF_POOL);
}

void ssm__smooth_hdr_put(float *st, const hdr *h)
{
	hdr_store s;
	int g;

	memset(&s, 0, sizeof s);
	s.magic = h->magic;
	s.period = (uint16_t)h->period;
	s.H = (uint16_t)h->H;
	for (g = 0; g < h->G; g++)
		s.hg[g] = (uint16_t)h->hg[g];
	s.flags = (uint8_t)((h->positive ? HF_POSITIVE : 0) |
			    (h->prev_obs ? HF_PREV_OBS : 0) |
			    (h->seeded ? HF_SEEDED : 0) |
			    (h->opts.pool ? HF_POOL : 0));
	s.active = h->active;
	s.step = h->step;
	s.nobs = h->nobs;
	s.last = h->last;
	s.scale_s = h->scale_s;
	s.scale_w = h->scale_w;
	s.anchor = h->anchor;
	s.ring_exp = (int16_t)h->ring_exp;
	memcpy(s.cs, h->cs, sizeof s.cs);
	memcpy(s.cw, h->cw, sizeof s.cw);
	memcpy(s.qlo, h->qlo, sizeof s.qlo);
	memcpy(s.qhi, h->qhi, sizeof s.qhi);
	memcpy(s.ew, h->ew, sizeof s.ew);
	for (g = 0; g < MAXG; g++)
		s.qinit |= (uint8_t)((h->qinit[g] != 0) << g);
	memcpy(s.tw, h->tw, sizeof s.tw);
	memcpy(s.tk, h->tk, sizeof s.tk);
	memcpy(s.tn, h->tn, sizeof s.tn);
	/* The options in their stored ranges: an unknown rule is the default
	 * one (as the combination treats it), top_n past the bank is all. */
	s.comb = (uint8_t)(h->opts.comb >= 0 && h->opts.comb <= 3
			       ? h->opts.comb
			       : SSM_SMOOTH_COMB_INVERSE);
	s.top_n = (uint8_t)(h->opts.top_n < 0	    ? 0
			    : h->opts.top_n > NBANK ? NBANK
						    : h->opts.top_n);
	s.err_window = h->opts.err_window;
	s.softmin_temp = h->opts.softmin_temp;
	s.aci_rate = h->opts.aci_rate;
	s.coverage = h->opts.coverage;
	s.member_off = h->opts.member_off;
	memcpy(st, &s, sizeof s);
}

int ssm_smooth_init(float *state, int period, int H,
		    const ssm_smooth_opts *opts)
{
	hdr h;
	int g;
	/* One derivation of the layout for the size and the offsets (it
	 * takes a pow() per checkpoint): every new series and every reset
	 * of one runs this. */
	size_t n = checked_layout(period, H, &h);

	if (!state || n == 0)
		return SSM_EINVAL;
	memset(state, 0, n * sizeof *state);
	h.magic = SMOOTH_MAGIC;
	h.positive = 1;
	h.anchor = 0;
	h.ring_unit = 1;
	h.step = -1;
	ssm__hdr_clock(&h);
	h.last = NAN;
	if (opts)
		h.opts = *opts;
	else
		ssm_smooth_opts_default(&h.opts);
	for (g = 0; g < h.npend * NBANK; g++)
		ssm__pend_put(ssm__member_pend(state, &h), g, NAN);
	for (g = 0; g < h.ncpend; g++)
		ssm__pend_put(state + h.off_comb, g, NAN);
	ssm__smooth_hdr_put(state, &h);
	return SSM_OK;
}
