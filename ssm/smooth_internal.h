/*
 * ssm/smooth_internal.h: the state layout and the member kinds of the
 * forecaster bank (ssm/smooth.h), shared by its files: ssm/smooth.c (the
 * update), ssm/smooth_layout.c (layout, header), ssm/smooth_weights.c,
 * ssm/smooth_forecast.c (ssm/smooth_parts.h: what those share besides)
 * and ssm/smooth_members.c (what each member is). Not a public header:
 * nothing outside ssm/smooth*.c includes it.
 *
 * The caller's float block holds, member-major where every member has the
 * field (structure of arrays: the scoring and the weights walk all members
 * of one checkpoint at once, in vector lanes):
 *
 *   [hdr_store][es: MAXG x K floats, es[g K + k]]
 *   [levels: one double per level member][trends: one per trending member]
 *   [member pending: P x K bfloat16s, slot-major, pend[s K + k]]
 *   [member 0 block] ... [member K-1 block][y ring: R floats]
 *   [combined forecast pending: CP bfloat16s]
 *
 * and a member block is [seasonal m, seasonal ETS/theta only][kind block:
 * theta regression or AR state]: empty for the other members. The
 * combination's weights live in the header, sparse: only its top
 * SMOOTH_TOPW members per checkpoint have weight; so do the error weights
 * ew, one set per member cohort. Naive and seasonal naive forecast from the
 * y ring, so they keep no seasonal array. (Layout v3, "SMT3", kept each
 * member's es, level, trend and pending ring in its own block: a state in
 * it is refused by version, and ssm/model.c's state_format makes the
 * daemon rebuild such series from their samples.)
 *
 * Pending forecasts: for each checkpoint horizon hg[g], a ring of the
 * forecasts made for hg[g] steps ahead, stored relative to the value last
 * seen at their origin (so large counters keep their precision) as
 * bfloat16, two to a float (ssm__pend_put says why that is enough).
 * The combination's ring records every origin (CP = sum hg[g]): the
 * interval trackers learn from every step. A member's ring records every
 * sg[g]-th origin only, in ng[g] = ceil(hg[g] / sg[g]) <= SMOOTH_SLOTS
 * slots (P = sum ng[g]): forecasts from neighbouring origins for the same
 * far horizon overlap almost entirely, so their errors carry little news,
 * and a member's ranking needs its typical error, not every one. The
 * error discount per score is (1 - 1/window)^sg[g], the same memory in
 * time at every checkpoint.
 *
 * Structs holding doubles are copied in and out with memcpy, so the block
 * needs only float alignment.
 */
#ifndef STATECAST_SSM_SMOOTH_INTERNAL_H
#define STATECAST_SSM_SMOOTH_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "ssm/smooth.h"
#include "ssm/smooth_kern.h"

#define SMOOTH_MAGIC 0x534d5434u /* "SMT4": v4 layout (member-major) */
#define MAXG	     SSM_SMOOTH_MAX_CHECK
#define SMOOTH_SLOTS 8 /* member pending slots per checkpoint, at most */
#define SMOOTH_TOPW  3 /* weights kept per checkpoint (the default top-n) */
#define AR_P	     3 /* AR order of the AR members */
#define AR_N	     (AR_P + 1)

enum { K_NAIVE, K_SNAIVE, K_ETS, K_THETA, K_AR };
enum { AR_LEVEL, AR_DIFF, AR_SDIFF }; /* what the AR members model */

typedef struct member_def {
	const char *name;
	unsigned char kind;
	unsigned char logscale; /* on log(y): only while every y > 0 */
	unsigned char seasonal; /* needs period > 1 */
	unsigned char trend;	/* ETS: 0 none, 1 trend damped by phi */
	unsigned char ar_mode;	/* AR: AR_LEVEL, AR_DIFF, AR_SDIFF */
	float alpha, beta, gamma, phi;
} member_def;

#define SMOOTH_NBANK 18 /* members in the bank (smooth_members.c) */
_Static_assert(SMOOTH_NBANK <= SSM_SMOOTH_MAX_MEMBERS, "bank too large");

extern const member_def ssm__smooth_bank[SMOOTH_NBANK];

/*
 * A member's state as the code works on it (unpacked): ETS and theta
 * members their level l (double: counters), trending ETS members their
 * trend b; whether it is active is a bit of the header. Its error sums stay
 * in the block, member-major (ssm__smooth_es): every member has them
 * (floats: they rank members and need no more than float's 7 digits; ew is
 * its cohort's, in the header).
 */
typedef struct mstate {
	double l, b; /* ETS/theta level, ETS trend */
	int32_t active;
	/* AR members: the normalized forecast recursion up to horizon arn,
	 * computed for several members at once (ssm__smooth_ar_batch), at
	 * arz[(h - 1) SSM__AR_LANES]; NULL when not (ssm__ms_get clears it).
	 * Not state: it points into the batch's ar_run. */
	int32_t arn;
	const double *arz;
	/* A differenced AR member's path in its units (seen or forecast
	 * values lag steps back added on: ar_at), up to horizon *lagn, at
	 * lagp[h - 1]: the batch's cache of it (ar_run.lagp), NULL when none,
	 * so that the update's and the forecast's evaluations make it once. */
	double *lagp;
	int32_t *lagn;
} mstate;

/*
 * The header as stored at the start of the block: only what changes per
 * series, in the narrowest type that holds it. Everything derived from
 * (period, H, hg) - the member offsets, ring strides and lengths - is
 * recomputed by ssm__smooth_hdr_get() (ssm/smooth_layout.c), not stored: it is
 * the same for every series of a model.
 */
typedef struct hdr_store {
	int64_t step, nobs;
	double last, scale_s, scale_w;
	double anchor; /* the y ring holds floats relative to it */
	float cs[MAXG], cw[MAXG], qlo[MAXG], qhi[MAXG];
	float ew[2][MAXG]; /* members' error weights, per cohort */
	float tw[MAXG][SMOOTH_TOPW];
	float err_window, softmin_temp, aci_rate, coverage; /* opts */
	uint32_t magic, member_off, active;
	uint16_t period, H, hg[MAXG];
	uint8_t tk[MAXG][SMOOTH_TOPW], tn[MAXG];
	uint8_t flags; /* HF_* */
	uint8_t qinit; /* bit g: checkpoint g's interval tracker started */
	uint8_t comb, top_n;
	int16_t ring_exp; /* the y ring's unit is 2^ring_exp */
} hdr_store;

enum { HF_POSITIVE = 1, HF_PREV_OBS = 2, HF_SEEDED = 4, HF_POOL = 8 };

/* The header unpacked, with the layout derived from (period, H, hg). */
typedef struct hdr {
	uint32_t magic;
	int32_t period, H, G, R, K;
	int32_t hg[MAXG];	    /* checkpoint horizons, increasing */
	int32_t sg[MAXG], ng[MAXG]; /* member ring: stride, slots */
	int32_t ring_off[MAXG];	    /* member ring g within P */
	int32_t cring_off[MAXG];    /* combination ring g within CP */
	/* Offsets of each member's seasonal array and kind block, and its
	 * index among the levels and the trends (-1: none): derived with the
	 * layout, so the hot paths do not walk the bank's definitions. */
	int32_t mseas[SMOOTH_NBANK], mkind[SMOOTH_NBANK];
	int8_t mlevel[SMOOTH_NBANK], mtrend[SMOOTH_NBANK];
	int32_t nlevel, ntrend;
	/* The member-major arrays: es, levels, trends, member pending. */
	int32_t off_es, off_lev, off_trd, off_pend;
	int32_t npend, ncpend, off_yring, off_comb, warm;
	double inv_period; /* 1 / period: no division per seasonal member */
	int32_t positive, prev_obs, seeded;
	uint32_t active; /* bit k: member k is active */
	int64_t step;	 /* index of the latest step, first sample = 0 */
	/* step mod period and step mod R, kept with step by
	 * ssm__hdr_clock(): no 64-bit division per member and horizon */
	int32_t phase, rpos;
	int64_t nobs;
	double last;		 /* last observed value */
	double scale_s, scale_w; /* EW mean |one-step change| */
	double anchor;		 /* the y ring holds (y - anchor) / ring_unit */
	double ring_unit;	 /* a power of two near the scale */
	double logy; /* log of the value being observed (advance), if > 0 */
	/* The members' sanity clamp: SANE_STEPS x the scale, or 0 (none),
	 * once per record or forecast (ssm__smooth_clamp_prep). */
	double clamp_c;
	int32_t ring_exp;	    /* ring_unit = 2^ring_exp */
	float cs[MAXG], cw[MAXG];   /* combined: discounted |scaled error| */
	float qlo[MAXG], qhi[MAXG]; /* interval bounds, x the running MAE */
	int32_t qinit[MAXG];
	/* The members' discounted score counts: the same for every member of
	 * a cohort (ssm__member_cohort), so kept once per cohort. */
	float ew[2][MAXG];
	/* The combination's nonzero weights per checkpoint as of the last
	 * observation, for the forecast: member tk[g][i] has weight
	 * tw[g][i], i < tn[g]; tn[g] = TOPW_ALL when more than SMOOTH_TOPW
	 * members weigh (ablations), and the forecast recomputes them. */
	float tw[MAXG][SMOOTH_TOPW];
	uint8_t tk[MAXG][SMOOTH_TOPW], tn[MAXG];
	ssm_smooth_opts opts;
} hdr;

#define TOPW_ALL 255

#define FLOATS_OF(T) ((int)((sizeof(T) + sizeof(float) - 1) / sizeof(float)))
#define HDR_F	     FLOATS_OF(hdr_store)

/* Floats of member k's kind block (theta regression, AR state): the sizes
 * of theta_reg and ar_state (ssm/smooth_members.c asserts them), here so
 * that the layout is computed inline on every update. */
#define THETA_F 10
#define AR_F	38

static inline int ssm__smooth_kind_floats(int k)
{
	switch (ssm__smooth_bank[k].kind) {
	case K_THETA:
		return THETA_F;
	case K_AR:
		return AR_F;
	default:
		return 0;
	}
}

static inline int ssm__member_has_seasonal(int k)
{
	const member_def *d = &ssm__smooth_bank[k];

	return d->seasonal && (d->kind == K_ETS || d->kind == K_THETA);
}

/*
 * A member's cohort: naive starts at the first value, every other member
 * at the end of the warm-up, and from then on every active member of a
 * cohort is scored at the same steps (a member's forecasts are recorded
 * whenever it is active and the step observed), so the discounted count of
 * its scores, ew, is the cohort's. (A member whose forecast was NaN would
 * miss a score that its cohort counts: only non-finite input can do that,
 * and the sanity bound of ssm__smooth_member_at turns NaN into a bound once
 * the series has a scale.)
 */
static inline int ssm__member_cohort(int k)
{
	return ssm__smooth_bank[k].kind != K_NAIVE;
}

static inline int ssm__member_has_level(int k)
{
	return ssm__smooth_bank[k].kind == K_ETS ||
	       ssm__smooth_bank[k].kind == K_THETA;
}

static inline int ssm__member_has_trend(int k)
{
	return ssm__smooth_bank[k].kind == K_ETS && ssm__smooth_bank[k].trend;
}

/* The offsets within member k's block (seasonal, then kind), as the
 * layout derives them into h->mseas and h->mkind (ssm/smooth_layout.c). */
static inline int ssm__member_kind_off(int k, int period)
{
	return ssm__member_has_seasonal(k) ? period : 0;
}

static inline float *ssm__member_seasonal(const float *st, const hdr *h, int k)
{
	return (float *)st + h->mseas[k];
}

/* The kind block: theta's regression sums or the AR state. */
static inline float *ssm__member_kind(const float *st, const hdr *h, int k)
{
	return (float *)st + h->mkind[k];
}

/* Every member's error sums at checkpoint g: es[k], k < SMOOTH_NBANK. */
static inline float *ssm__smooth_es(const float *st, const hdr *h, int g)
{
	return (float *)st + h->off_es + g * SMOOTH_NBANK;
}

/* The member pending rings, bfloat16 at index slot * SMOOTH_NBANK + k
 * (ssm__pend_get/put). */
static inline float *ssm__member_pend(const float *st, const hdr *h)
{
	return (float *)st + h->off_pend;
}

/* A member's level and trend (doubles as float pairs) and whether it is
 * active, in and out of the unpacked mstate. */
static inline void ssm__ms_get(const float *st, const hdr *h, int k, mstate *m)
{
	m->l = m->b = 0;
	if (h->mlevel[k] >= 0)
		memcpy(&m->l, st + h->off_lev + 2 * h->mlevel[k], sizeof m->l);
	if (h->mtrend[k] >= 0)
		memcpy(&m->b, st + h->off_trd + 2 * h->mtrend[k], sizeof m->b);
	m->active = (h->active >> k) & 1;
	m->arn = 0;
	m->arz = NULL;
	m->lagp = NULL;
	m->lagn = NULL;
}

/* Member k's level and trend back into the block. */
static inline void ssm__ms_put_lb(float *st, const hdr *h, int k,
				  const mstate *m)
{
	if (h->mlevel[k] >= 0)
		memcpy(st + h->off_lev + 2 * h->mlevel[k], &m->l, sizeof m->l);
	if (h->mtrend[k] >= 0)
		memcpy(st + h->off_trd + 2 * h->mtrend[k], &m->b, sizeof m->b);
}

static inline void ssm__ms_put(float *st, hdr *h, int k, const mstate *m)
{
	ssm__ms_put_lb(st, h, k, m);
	if (m->active)
		h->active |= 1u << k;
	else
		h->active &= ~(1u << k);
}

/*
 * Pending forecasts are stored as bfloat16 (float's sign and exponent, 8
 * significant bits), two to a float of the block: each one only enters an
 * absolute error that ranks members or moves an interval tracker, where
 * 2^-9 of the forecast's distance from its origin's value is noise far
 * below the errors being compared. Rounded to nearest even; NaN stays NaN
 * (it marks "no forecast recorded").
 */
#define PEND_FLOATS(n) (((n) + 1) / 2)

/* Floats of member k's block for this period. */
static inline int ssm__smooth_member_floats(int k, int period)
{
	return ssm__member_kind_off(k, period) + ssm__smooth_kind_floats(k);
}

static inline float ssm__pend_get(const float *base, int i)
{
	uint16_t b;
	uint32_t u;
	float f;

	memcpy(&b, (const unsigned char *)base + 2 * (size_t)i, sizeof b);
	u = (uint32_t)b << 16;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* f as a pending forecast's bfloat16 bits: rounded to nearest even, NaN
 * the quiet NaN. One copy for the scalar puts and the vector pass
 * (ssm__smooth_bf16_rel), which GCC vectorizes from it. */
static inline uint16_t ssm__bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	return f != f ? (uint16_t)0x7fc0
		      : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* b[i] = ssm__bf16((float)(f[i] - last)), i < n: record()'s pending
 * forecasts, relative to the value seen now, in one pass before they are
 * stored to their slots. From eight values on the vector kernel
 * (ssm/smooth_kern.c, the same bits); below, where its call and set-up
 * cost more than it saves (a young series' record), this loop. */
static inline void ssm__smooth_bf16_rel(uint32_t *b, const double *f, int n,
					double last)
{
	int i;

	if (n >= 8) {
		ssm__smooth_bf16_rel_vec(b, f, n, last);
		return;
	}
	for (i = 0; i < n; i++)
		b[i] = ssm__bf16((float)(f[i] - last));
}

/* Stores bfloat16 bits b as pending forecast i of base. */
static inline void ssm__pend_set(float *base, int i, uint16_t b)
{
	memcpy((unsigned char *)base + 2 * (size_t)i, &b, sizeof b);
}

static inline void ssm__pend_put(float *base, int i, float f)
{
	ssm__pend_set(base, i, ssm__bf16(f));
}

/* a mod b in [0, b), b > 0. */
static inline int32_t ssm__mod(int64_t a, int32_t b)
{
	int64_t i = a % b;

	return (int32_t)(i < 0 ? i + b : i);
}

/* Sets h->phase and h->rpos from h->step: after every change of step. */
static inline void ssm__hdr_clock(hdr *h)
{
	h->phase = ssm__mod(h->step, h->period);
	h->rpos = ssm__mod(h->step, h->R);
}

/* The ring index of a step: from h->rpos for the last R steps (all but
 * the re-expression after an outage reads only those). */
static inline int32_t ssm__yring_ix(const hdr *h, int64_t step)
{
	int64_t back = h->step - step;

	if (back >= 0 && back < h->R)
		return h->rpos >= back ? h->rpos - (int32_t)back
				       : h->rpos - (int32_t)back + h->R;
	return ssm__mod(step, h->R);
}

/* The y ring: the last R values (missing ones filled with the last seen),
 * as floats (y - anchor) / ring_unit (ssm/smooth.c, yring_put). */
static inline double ssm__yring(const float *st, const hdr *h, int64_t step)
{
	return h->anchor +
	       (double)st[h->off_yring + ssm__yring_ix(h, step)] * h->ring_unit;
}

/* Start member k from the warm-up window ending at h->step. */
void ssm__smooth_member_seed(float *st, const hdr *h, int k, mstate *m);

/* Observed value y at step h->step (the ring holds steps before it). */
void ssm__smooth_member_observe(float *st, const hdr *h, int k, mstate *m,
				double y);

/* A missing step: the state moves in time only. */
void ssm__smooth_member_skip(float *st, const hdr *h, int k, mstate *m);

/* A jump of n > 0 missing steps at once (long outages), after the ring was
 * refilled with the last value. */
void ssm__smooth_member_jump(float *st, const hdr *h, int k, mstate *m,
			     int64_t n);

/* Sets h->clamp_c from the series' scale: before member forecasts are
 * made from a state whose scale changed (record, the forecast). */
void ssm__smooth_clamp_prep(hdr *h);

/* Forecasts for steps h->step + hz[i], hz increasing, into out[i],
 * clamped by h->clamp_c (ssm__smooth_clamp_prep). */
void ssm__smooth_member_at(const float *st, const hdr *h, int k,
			   const mstate *m, int n, const int32_t *hz,
			   double *out);

/* The same before the clamp: the caller clamps (ssm__smooth_clamp with
 * h->clamp_c when it is > 0), e.g. every member's values at once. */
void ssm__smooth_member_raw(const float *st, const hdr *h, int k,
			    const mstate *m, int n, const int32_t *hz,
			    double *out);

/*
 * One batch of the AR members' recursions (ssm__smooth_ar_batch): member k
 * in lane[k] (-1: none) up to horizon H, z[(h - 1) SSM__AR_LANES + lane]
 * for h <= H. A lane depends only on its member's AR state (its kind
 * block), not on the other lanes or on H. The update's record() runs the
 * batch as far as the forecast after it needs, and
 * ssm_smooth_update_forecast hands it over: the AR states do not change
 * between the two. H = 0: nothing computed.
 */
#define AR_LAGC 64 /* horizons of a lane's cached path (lagp) */

typedef struct ar_run {
	int32_t H;
	signed char lane[SMOOTH_NBANK];
	double z[SSM_SMOOTH_MAX_H * SSM__AR_LANES];
	/* Lane l's differenced path (mstate.lagp) up to horizon lagn[l]
	 * (0: none yet; at most AR_LAGC), of this batch's AR states. */
	int32_t lagn[SSM__AR_LANES];
	double lagp[SSM__AR_LANES][AR_LAGC];
} ar_run;

/*
 * The AR members' recursions for the horizons up to hneed[k] (0: member
 * k not needed), all at once, into run; ms[k].arz and ms[k].arn point at
 * them there (member_at reads them). reuse: run holds a batch of this
 * block's current AR states (ar_run); when it covers every needed member
 * as far as needed, it is taken as it is, else computed again. reuse = 0:
 * always computed (run's old contents are another state's).
 */
void ssm__smooth_ar_batch(const float *st, const hdr *h, mstate *ms,
			  const int32_t *hneed, ar_run *run, int reuse);

#endif
