/*
 * ssm/smooth.c: the streaming forecaster bank behind ssm/smooth.h.
 *
 * Workload: one ssm_smooth_update() per sample of every series, one
 * ssm_smooth_forecast() per sample the daemon publishes; both O(K * (m + H))
 * with K members, m the period. Nothing is allocated; the whole state is the
 * caller's float block, laid out as
 *
 *   [hdr][member 0: mstate | seasonal m | pending P] ... [member K-1 ...]
 *   [y ring: R doubles][combined forecast pending: P]
 *
 * where P = sum of the checkpoint horizons hg[g]: for each checkpoint g and
 * each member, a ring of the hg[g] most recent forecasts made for hg[g]
 * steps ahead, stored relative to the value last seen at their origin (so
 * floats keep their precision on large counters). When a sample arrives, the
 * forecast made hg[g] steps before it is scored, which is what the weights and
 * the interval trackers learn from. Fixed structs holding doubles are copied
 * in and out with memcpy, so the block needs only float alignment.
 */
#include "ssm/smooth.h"

#include <math.h>
#include <string.h>

#include "ssm/model.h"

#define SMOOTH_MAGIC 0x534d5448u /* "SMTH" */
#define MAXG	     SSM_SMOOTH_MAX_CHECK

enum { K_NAIVE, K_SNAIVE, K_ETS, K_THETA };

/*
 * The bank. Parameters are fixed, not fitted: every member is cheap and the
 * combination picks among them per horizon and per series, which is what
 * refit-per-origin ETS achieves by optimisation. The settings span the usual
 * optimum ranges (alpha from slow to fast, damped and linear trends, slow
 * and faster seasonals) rather than values tuned on any data set.
 */
typedef struct member_def {
	const char *name;
	unsigned char kind;
	unsigned char logscale; /* on log(y): only while every y > 0 */
	unsigned char seasonal; /* additive indices in the model's space */
	unsigned char trend;	/* ETS only: 0 none, 1 trend with phi */
	float alpha, beta, gamma, phi;
} member_def;

static const member_def bank[] = {
    {"naive", K_NAIVE, 0, 0, 0, 1, 0, 0, 1},
    {"snaive", K_SNAIVE, 0, 1, 0, 0, 0, 0, 1},
    {"ses.1", K_ETS, 0, 0, 0, 0.1f, 0, 0, 1},
    {"ses.3", K_ETS, 0, 0, 0, 0.3f, 0, 0, 1},
    {"ses.6", K_ETS, 0, 0, 0, 0.6f, 0, 0, 1},
    {"holt.damped.3", K_ETS, 0, 0, 1, 0.3f, 0.05f, 0, 0.9f},
    {"holt.damped.7", K_ETS, 0, 0, 1, 0.7f, 0.1f, 0, 0.95f},
    {"holt.3", K_ETS, 0, 0, 1, 0.3f, 0.05f, 0, 1},
    {"theta.2", K_THETA, 0, 0, 0, 0.2f, 0, 0, 1},
    {"theta.5", K_THETA, 0, 0, 0, 0.5f, 0, 0, 1},
    {"hw.level", K_ETS, 0, 1, 0, 0.2f, 0, 0.1f, 1},
    {"hw.damped", K_ETS, 0, 1, 1, 0.3f, 0.03f, 0.1f, 0.95f},
    {"hw.linear", K_ETS, 0, 1, 1, 0.3f, 0.02f, 0.1f, 1},
    {"hw.fast", K_ETS, 0, 1, 1, 0.6f, 0.05f, 0.2f, 0.9f},
    {"loghw.level", K_ETS, 1, 1, 0, 0.2f, 0, 0.1f, 1},
    {"loghw.damped", K_ETS, 1, 1, 1, 0.3f, 0.03f, 0.1f, 0.95f},
    {"loghw.linear", K_ETS, 1, 1, 1, 0.3f, 0.02f, 0.1f, 1},
    {"theta.seas", K_THETA, 0, 1, 0, 0.3f, 0, 0.05f, 1},
    {"logtheta.seas", K_THETA, 1, 1, 0, 0.3f, 0, 0.05f, 1},
};
#define NBANK ((int)(sizeof bank / sizeof bank[0]))
_Static_assert(NBANK <= SSM_SMOOTH_MAX_MEMBERS, "bank too large");

/* Per-member fixed part. */
typedef struct mstate {
	double l, b;		     /* level, trend (model space) */
	double rw, rt, ry, rtt, rty; /* theta: EW regression of level */
	double es[MAXG], ew[MAXG];   /* discounted |scaled error|, weight */
	int32_t active, pad;
} mstate;

typedef struct hdr {
	uint32_t magic;
	int32_t period, H, G, R, K;
	int32_t hg[MAXG], ring_off[MAXG];
	int32_t npend, mstride, off_members, off_yring, off_comb, warm;
	int32_t positive, prev_obs, seeded;
	int64_t step; /* index of the latest step, first sample = 0 */
	int64_t nobs;
	double last;		 /* last observed value */
	double scale_s, scale_w; /* EW mean |one-step change| */
	double cs[MAXG], cw[MAXG], qlo[MAXG], qhi[MAXG];
	int32_t qinit[MAXG];
	ssm_smooth_opts opts;
} hdr;

#define FLOATS_OF(T) ((sizeof(T) + sizeof(float) - 1) / sizeof(float))
#define HDR_F	     ((int)FLOATS_OF(hdr))
#define MS_F	     ((int)FLOATS_OF(mstate))
#define SCALE_WINDOW 100.0
#define THETA_WINDOW 2000.0

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
}

/*
 * Checkpoint horizons: about geometric from 1 to H, at most 5. A multiple of
 * the period is moved one step in: there naive and seasonal naive forecast
 * the same value, so its errors cannot tell a seasonal member from a
 * non-seasonal one, and its weights would leak into the horizons around it.
 */
static int checkpoints(int H, int period, int32_t *hg)
{
	int G = H < 5 ? H : 5, g, n = 0;

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

static int ring_len(int period, int H)
{
	int r = 2 * period;

	if (r < H + 1)
		r = H + 1;
	return r < 8 ? 8 : r;
}

size_t ssm_smooth_state_floats(int period, int H)
{
	int32_t hg[MAXG];
	int G, g, P = 0;

	if (period < 1 || H < 1 || period > SSM_SMOOTH_MAX_PERIOD ||
	    H > SSM_SMOOTH_MAX_H)
		return 0;
	G = checkpoints(H, period, hg);
	for (g = 0; g < G; g++)
		P += hg[g];
	return (size_t)HDR_F + (size_t)NBANK * (size_t)(MS_F + period + P) +
	       2 * (size_t)ring_len(period, H) + (size_t)P;
}

/* ---- state access ---- */

static void hdr_get(const float *st, hdr *h)
{
	memcpy(h, st, sizeof *h);
}

static void hdr_put(float *st, const hdr *h)
{
	memcpy(st, h, sizeof *h);
}

static float *mem_block(float *st, const hdr *h, int k)
{
	return st + h->off_members + (size_t)k * h->mstride;
}

static void ms_get(const float *blk, mstate *m)
{
	memcpy(m, blk, sizeof *m);
}

static void ms_put(float *blk, const mstate *m)
{
	memcpy(blk, m, sizeof *m);
}

static double yring_get(const float *st, const hdr *h, int64_t step)
{
	double v;
	int64_t i = step % h->R;

	if (i < 0)
		i += h->R;
	memcpy(&v, st + h->off_yring + 2 * i, sizeof v);
	return v;
}

static void yring_put(float *st, const hdr *h, int64_t step, double v)
{
	memcpy(st + h->off_yring + 2 * (step % h->R), &v, sizeof v);
}

static int member_enabled(const hdr *h, int k)
{
	const member_def *d = &bank[k];

	if (h->opts.member_off & (1u << k))
		return 0;
	if (d->seasonal && h->period < 2)
		return 0;
	if (d->logscale && !h->positive)
		return 0;
	return 1;
}

/* ---- one member ---- */

static double to_space(const member_def *d, double y)
{
	return d->logscale ? log(y) : y;
}

static double from_space(const member_def *d, double x)
{
	if (!d->logscale)
		return x;
	return exp(x > 700 ? 700 : x);
}

/* Slope of the discounted regression of the (deseasonalized) series on time. */
static double theta_drift(const mstate *m)
{
	return m->rtt > 0 ? 0.5 * m->rty / m->rtt : 0;
}

static void theta_regress(mstate *m, double t, double z)
{
	double lam = 1.0 - 1.0 / THETA_WINDOW;
	double w0 = lam * m->rw, w1 = w0 + 1, dt = t - m->rt, dy = z - m->ry;

	m->rtt = lam * m->rtt + w0 / w1 * dt * dt;
	m->rty = lam * m->rty + w0 / w1 * dt * dy;
	m->rt += dt / w1;
	m->ry += dy / w1;
	m->rw = w1;
}

/* Forecast of member k for step `at` (> h->step), in value units. */
static double member_fc(const float *st, const hdr *h, int k, const mstate *m,
			int64_t at)
{
	const member_def *d = &bank[k];
	const float *seas = mem_block((float *)st, h, k) + MS_F;
	int64_t hz = at - h->step;
	double x, s = 0;

	if (d->kind == K_NAIVE)
		return h->last;
	if (d->kind == K_SNAIVE) {
		int64_t back = ((hz + h->period - 1) / h->period) * h->period;
		return yring_get(st, h, at - back);
	}
	if (d->seasonal)
		s = seas[at % h->period];
	if (d->kind == K_THETA) {
		x = m->l + theta_drift(m) * ((double)hz - 1 + 1.0 / d->alpha);
	} else if (d->trend) {
		double phi = d->phi, damp;

		damp = phi < 1 ? phi * (1 - pow(phi, (double)hz)) / (1 - phi)
			       : (double)hz;
		x = m->l + damp * m->b;
	} else {
		x = m->l;
	}
	return from_space(d, x + s);
}

static void member_observe(float *blk, const hdr *h, int k, mstate *m, double y)
{
	const member_def *d = &bank[k];
	float *seas = blk + MS_F;
	int j = (int)(h->step % h->period);
	double x, s, lp, ln;

	if (d->kind == K_NAIVE || d->kind == K_SNAIVE)
		return;
	x = to_space(d, y);
	s = d->seasonal ? seas[j] : 0;
	lp = d->kind == K_ETS && d->trend ? m->l + d->phi * m->b : m->l;
	ln = d->alpha * (x - s) + (1 - d->alpha) * lp;
	if (d->kind == K_ETS && d->trend)
		m->b = d->beta * (ln - m->l) + (1 - d->beta) * d->phi * m->b;
	if (d->kind == K_THETA)
		theta_regress(m, (double)h->step, x - s);
	m->l = ln;
	if (d->seasonal)
		seas[j] = (float)(d->gamma * (x - ln) + (1 - d->gamma) * s);
}

static void member_skip(mstate *m, const member_def *d)
{
	if (d->kind == K_ETS && d->trend) {
		m->l += d->phi * m->b;
		m->b *= d->phi;
	}
}

/*
 * Seed member k from the warm-up window (steps 0..warm-1 in the y ring):
 * level and trend from the means of the last two cycles (or a least-squares
 * line when there is no season), seasonal indices as the average deviation
 * from each cycle's mean. Robust enough for two cycles and O(warm).
 */
static void member_seed(float *st, const hdr *h, int k, mstate *m)
{
	const member_def *d = &bank[k];
	float *seas = mem_block(st, h, k) + MS_F;
	int p = h->period, W = h->warm, i, j;
	double c1 = 0, c2 = 0, l, b;

	memset(m, 0, sizeof *m);
	m->active = 1;
	if (d->kind == K_NAIVE || d->kind == K_SNAIVE)
		return;
	if (p > 1) {
		for (i = 0; i < p; i++) {
			c1 +=
			    to_space(d, yring_get(st, h, h->step - W + 1 + i));
			c2 += to_space(
			    d, yring_get(st, h, h->step - W + 1 + p + i));
		}
		c1 /= p;
		c2 /= p;
		b = (c2 - c1) / p;
		l = c2 + b * (p - 1) / 2.0;
		for (j = 0; j < p; j++)
			seas[j] = 0;
		for (i = 0; i < W; i++) {
			int64_t s = h->step - W + 1 + i;
			double x = to_space(d, yring_get(st, h, s));
			double c = c1 + b * (i - (p - 1) / 2.0);

			seas[s % p] += (float)((x - c) / 2.0);
		}
	} else {
		double st_ = 0, sy = 0, stt = 0, sty = 0;

		for (i = 0; i < W; i++) {
			double x =
			    to_space(d, yring_get(st, h, h->step - W + 1 + i));

			st_ += i;
			sy += x;
			stt += (double)i * i;
			sty += i * x;
		}
		b = (W * sty - st_ * sy) / (W * stt - st_ * st_);
		l = sy / W + b * (W - 1 - st_ / W);
	}
	m->l = l;
	m->b = d->kind == K_ETS && d->trend ? b : 0;
	if (d->kind == K_THETA) {
		for (i = 0; i < W; i++) {
			int64_t s = h->step - W + 1 + i;
			double x = to_space(d, yring_get(st, h, s));

			theta_regress(m, (double)s,
				      x - (d->seasonal ? seas[s % p] : 0));
		}
	}
}

/* ---- combination ---- */

static double err_lambda(const hdr *h)
{
	double w = h->opts.err_window;

	return w > 1 ? 1.0 - 1.0 / w : 0;
}

/* Weights w[NBANK] of the members at checkpoint g (sum 1 over active). */
static void weights_at(const float *st, const hdr *h, int g, double *w)
{
	double e[NBANK], emin = INFINITY, tot = 0;
	int elig[NBANK], ne = 0, na = 0, k;

	for (k = 0; k < NBANK; k++) {
		mstate m;

		w[k] = 0;
		elig[k] = 0;
		ms_get(mem_block((float *)st, h, k), &m);
		if (!m.active)
			continue;
		na++;
		if (m.ew[g] >= 3.0) {
			e[k] = m.es[g] / m.ew[g] + 1e-12;
			elig[k] = 1;
			ne++;
			if (e[k] < emin)
				emin = e[k];
		}
	}
	if (ne == 0) {
		/* No scored forecast yet: the plain mean of what is active. */
		for (k = 0; k < NBANK; k++) {
			mstate m;

			ms_get(mem_block((float *)st, h, k), &m);
			w[k] = m.active && na ? 1.0 / na : 0;
		}
		return;
	}
	switch (h->opts.comb) {
	case SSM_SMOOTH_COMB_BEST:
		for (k = 0; k < NBANK; k++)
			if (elig[k] && e[k] == emin) {
				w[k] = 1;
				return;
			}
		break;
	case SSM_SMOOTH_COMB_EQUAL:
		for (k = 0; k < NBANK; k++)
			w[k] = elig[k];
		break;
	case SSM_SMOOTH_COMB_SOFTMIN:
		for (k = 0; k < NBANK; k++)
			if (elig[k])
				w[k] = exp(-h->opts.softmin_temp *
					   (e[k] / emin - 1));
		break;
	default: {
		int n = h->opts.top_n < 1 ? 1 : h->opts.top_n, kept = 0;

		/* Repeated selection of the smallest: K is small. */
		while (kept < n && kept < ne) {
			int best = -1;

			for (k = 0; k < NBANK; k++)
				if (elig[k] == 1 &&
				    (best < 0 || e[k] < e[best]))
					best = k;
			elig[best] = 2;
			w[best] = 1.0 / (e[best] * e[best]);
			kept++;
		}
		break;
	}
	}
	for (k = 0; k < NBANK; k++)
		tot += w[k];
	for (k = 0; k < NBANK; k++)
		w[k] /= tot;
}

/* ---- public ---- */

int ssm_smooth_init(float *state, int period, int H,
		    const ssm_smooth_opts *opts)
{
	hdr h;
	int g, k, P = 0;
	size_t n = ssm_smooth_state_floats(period, H);

	if (!state || n == 0)
		return SSM_EINVAL;
	memset(&h, 0, sizeof h);
	memset(state, 0, n * sizeof *state);
	h.magic = SMOOTH_MAGIC;
	h.period = period;
	h.H = H;
	h.K = NBANK;
	h.G = checkpoints(H, period, h.hg);
	for (g = 0; g < h.G; g++) {
		h.ring_off[g] = P;
		P += h.hg[g];
	}
	h.npend = P;
	h.R = ring_len(period, H);
	h.mstride = MS_F + period + P;
	h.off_members = HDR_F;
	h.off_yring = HDR_F + NBANK * h.mstride;
	h.off_comb = h.off_yring + 2 * h.R;
	h.warm = period > 1 ? 2 * period : 6;
	h.positive = 1;
	h.step = -1;
	h.last = NAN;
	if (opts)
		h.opts = *opts;
	else
		ssm_smooth_opts_default(&h.opts);
	for (k = 0; k < NBANK; k++) {
		float *pend = mem_block(state, &h, k) + MS_F + period;

		for (g = 0; g < P; g++)
			pend[g] = NAN;
	}
	for (g = 0; g < P; g++)
		state[h.off_comb + g] = NAN;
	hdr_put(state, &h);
	return SSM_OK;
}

/* Score the forecasts that targeted this step, then forget them. */
static void score(float *st, hdr *h, double y)
{
	double lam = err_lambda(h), sc = h->scale_s / h->scale_w;
	double half = 0.5 * (1.0 - h->opts.coverage);
	int g, k;

	if (!(sc > 0))
		sc = 1e-12 + 1e-9 * fabs(y);
	for (g = 0; g < h->G; g++) {
		int64_t org = h->step - h->hg[g];
		int slot = (int)(h->step % h->hg[g]) + h->ring_off[g];
		double anchor, f, e;

		if (org < 0)
			continue;
		anchor = yring_get(st, h, org);
		for (k = 0; k < NBANK; k++) {
			float *blk = mem_block(st, h, k);
			float *pend = blk + MS_F + h->period;
			mstate m;

			if (isnan(pend[slot]))
				continue;
			ms_get(blk, &m);
			e = fabs(y - (anchor + pend[slot])) / sc;
			m.es[g] = lam * m.es[g] + e;
			m.ew[g] = lam * m.ew[g] + 1;
			ms_put(blk, &m);
		}
		f = st[h->off_comb + slot];
		if (isnan(f))
			continue;
		e = (y - (anchor + f)) / sc;
		h->cs[g] = lam * h->cs[g] + fabs(e);
		h->cw[g] = lam * h->cw[g] + 1;
		if (!h->qinit[g]) {
			if (h->cw[g] >= 5) {
				double mae = h->cs[g] / h->cw[g];

				h->qhi[g] = 1.6 * mae;
				h->qlo[g] = -1.6 * mae;
				h->qinit[g] = 1;
			}
		} else {
			double eta = h->opts.aci_rate * h->cs[g] / h->cw[g];

			h->qhi[g] += eta * ((e > h->qhi[g]) - half);
			h->qlo[g] -= eta * ((e < h->qlo[g]) - half);
		}
	}
}

/* Record every active member's and the combination's checkpoint forecasts. */
static void record(float *st, hdr *h, int observed)
{
	double w[NBANK];
	int g, k;

	for (g = 0; g < h->G; g++) {
		int slot = (int)(h->step % h->hg[g]) + h->ring_off[g];
		double comb = 0;

		if (observed)
			weights_at(st, h, g, w);
		for (k = 0; k < NBANK; k++) {
			float *blk = mem_block(st, h, k);
			float *pend = blk + MS_F + h->period;
			mstate m;
			double f;

			ms_get(blk, &m);
			if (!observed || !m.active) {
				pend[slot] = NAN;
				continue;
			}
			f = member_fc(st, h, k, &m, h->step + h->hg[g]);
			pend[slot] = (float)(f - h->last);
			comb += w[k] * f;
		}
		st[h->off_comb + slot] =
		    observed ? (float)(comb - h->last) : NAN;
	}
}

static void advance(float *st, hdr *h, double y, int observed)
{
	int k;

	h->step++;
	if (observed) {
		if (h->nobs > 0 && h->prev_obs) {
			double lam = 1.0 - 1.0 / SCALE_WINDOW;

			h->scale_s = lam * h->scale_s + fabs(y - h->last);
			h->scale_w = lam * h->scale_w + 1;
		}
		if (h->scale_w > 0)
			score(st, h, y);
		if (!(y > 0))
			h->positive = 0;
	}
	for (k = 0; k < NBANK; k++) {
		float *blk = mem_block(st, h, k);
		mstate m;

		ms_get(blk, &m);
		if (m.active && !member_enabled(h, k))
			m.active = 0;
		if (m.active) {
			if (observed)
				member_observe(blk, h, k, &m, y);
			else
				member_skip(&m, &bank[k]);
		}
		ms_put(blk, &m);
	}
	if (observed) {
		h->last = y;
		h->nobs++;
	}
	h->prev_obs = observed;
	yring_put(st, h, h->step, h->last);
	if (h->nobs == 1 && observed) {
		/* The first value: the naive members can forecast now. */
		for (k = 0; k < NBANK; k++) {
			mstate m;

			if (bank[k].kind != K_NAIVE || !member_enabled(h, k))
				continue;
			member_seed(st, h, k, &m);
			ms_put(mem_block(st, h, k), &m);
		}
	}
	if (!h->seeded && h->step + 1 >= h->warm && h->nobs > 0) {
		h->seeded = 1;
		for (k = 0; k < NBANK; k++) {
			mstate m;

			if (bank[k].kind == K_NAIVE || !member_enabled(h, k))
				continue;
			member_seed(st, h, k, &m);
			ms_put(mem_block(st, h, k), &m);
		}
	}
	record(st, h, observed);
}

int ssm_smooth_update(float *state, double value, int64_t gap, int missing)
{
	hdr h;
	int observed = !(missing || isnan(value));
	int64_t skip, i;

	if (!state)
		return SSM_EINVAL;
	if (observed && !isfinite(value))
		return SSM_ENONFINITE;
	hdr_get(state, &h);
	if (h.magic != SMOOTH_MAGIC)
		return SSM_EINVAL;
	if (h.step < 0 && !observed)
		return SSM_OK; /* nothing to forecast from yet */
	if (h.step >= 0 && gap < 1)
		return SSM_EINVAL;
	skip = h.step < 0 ? 0 : gap - 1;
	/*
	 * Missing steps advance the clock one by one up to the ring length
	 * (after that every pending forecast is stale anyway); a longer outage
	 * jumps the clock and extrapolates the trends once.
	 */
	for (i = 0; i < skip && i < h.R; i++)
		advance(state, &h, NAN, 0);
	if (skip > h.R) {
		int64_t rest = skip - h.R;
		int k;

		for (k = 0; k < NBANK; k++) {
			float *blk = mem_block(state, &h, k);
			const member_def *d = &bank[k];
			mstate m;

			ms_get(blk, &m);
			if (d->kind == K_ETS && d->trend) {
				double p = pow(d->phi, (double)rest);

				m.l += d->phi < 1 ? d->phi * (1 - p) /
							(1 - d->phi) * m.b
						  : (double)rest * m.b;
				m.b *= p;
			}
			ms_put(blk, &m);
		}
		h.step += rest;
		h.prev_obs = 0;
		for (i = 0; i < h.R; i++)
			yring_put(state, &h, h.step - i, h.last);
	}
	advance(state, &h, value, observed);
	hdr_put(state, &h);
	return SSM_OK;
}

/* Acklam's rational approximation of the standard normal quantile. */
static double norm_quantile(double p)
{
	static const double a[] = {
	    -3.969683028665376e+01, 2.209460984245205e+02,
	    -2.759285104469687e+02, 1.383577518672690e+02,
	    -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {
	    -5.447609879822406e+01, 1.615858368580409e+02,
	    -1.556989798598866e+02, 6.680131188771972e+01,
	    -1.328068155288572e+01};
	static const double c[] = {
	    -7.784894002430293e-03, -3.223964580411365e-01,
	    -2.400758277161838e+00, -2.549732539343734e+00,
	    4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00,
				   3.754408661907416e+00};
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q +
			 c[4]) *
			    q +
			c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -norm_quantile(1 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
		a[5]) *
	       q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r +
		1);
}

/* Interval bounds (scaled units) at horizon hz from the checkpoint trackers. */
static void bounds_at(const hdr *h, int hz, double *lo, double *hi)
{
	int g, a = -1, b = -1;

	for (g = 0; g < h->G; g++) {
		if (!h->qinit[g])
			continue;
		if (h->hg[g] <= hz)
			a = g;
		if (h->hg[g] >= hz && b < 0)
			b = g;
	}
	if (a < 0 && b < 0) {
		/* Nothing calibrated yet: a random walk's spread. */
		*hi = 1.6 * sqrt((double)hz);
		*lo = -*hi;
	} else if (b < 0 || a == b) {
		double f = a == b ? 1 : sqrt((double)hz / h->hg[a]);

		*lo = h->qlo[a] * f;
		*hi = h->qhi[a] * f;
	} else if (a < 0) {
		*lo = h->qlo[b];
		*hi = h->qhi[b];
	} else {
		double u = (double)(hz - h->hg[a]) / (h->hg[b] - h->hg[a]);

		*lo = (1 - u) * h->qlo[a] + u * h->qlo[b];
		*hi = (1 - u) * h->qhi[a] + u * h->qhi[b];
	}
	if (*lo > 0)
		*lo = 0;
	if (*hi < 0)
		*hi = 0;
}

int ssm_smooth_forecast(const float *state, double *point, const float *levels,
			int Q, double *q, double *scale)
{
	hdr h;
	double wg[MAXG][NBANK], sc, zc;
	int hz, g, k, i;

	if (!state || !point || (Q > 0 && (!levels || !q)))
		return SSM_EINVAL;
	hdr_get(state, &h);
	if (h.magic != SMOOTH_MAGIC)
		return SSM_EINVAL;
	if (h.nobs == 0) {
		for (hz = 0; hz < h.H; hz++) {
			point[hz] = NAN;
			for (i = 0; i < Q; i++)
				q[hz * Q + i] = NAN;
		}
		if (scale)
			*scale = NAN;
		return SSM_EINVAL;
	}
	for (g = 0; g < h.G; g++)
		weights_at(state, &h, g, wg[g]);
	sc = h.scale_w > 0 ? h.scale_s / h.scale_w : 0;
	if (!(sc > 0))
		sc = 1e-12 + 1e-9 * fabs(h.last);
	if (scale)
		*scale = sc;
	zc = norm_quantile(0.5 + 0.5 * h.opts.coverage);
	for (hz = 1; hz <= h.H; hz++) {
		double u = 0, p = 0, lo, hi;
		int a = 0;

		while (a + 1 < h.G && h.hg[a + 1] <= hz)
			a++;
		if (a + 1 < h.G)
			u = (double)(hz - h.hg[a]) / (h.hg[a + 1] - h.hg[a]);
		for (k = 0; k < NBANK; k++) {
			double w = wg[a][k] * (1 - u);
			mstate m;

			if (u > 0)
				w += wg[a + 1][k] * u;
			if (w == 0)
				continue;
			ms_get(mem_block((float *)state, &h, k), &m);
			p += w * member_fc(state, &h, k, &m, h.step + hz);
		}
		point[hz - 1] = p;
		bounds_at(&h, hz, &lo, &hi);
		for (i = 0; i < Q; i++) {
			double lv = levels[i], z;

			if (!(lv > 0 && lv < 1))
				return SSM_EINVAL;
			z = norm_quantile(lv) / zc;
			q[(hz - 1) * Q + i] = p + sc * z * (z > 0 ? hi : -lo);
		}
	}
	return SSM_OK;
}

int64_t ssm_smooth_count(const float *state)
{
	hdr h;

	hdr_get(state, &h);
	return h.magic == SMOOTH_MAGIC ? h.nobs : 0;
}

int ssm_smooth_members(void)
{
	return NBANK;
}

const char *ssm_smooth_member_name(int k)
{
	return k >= 0 && k < NBANK ? bank[k].name : NULL;
}
