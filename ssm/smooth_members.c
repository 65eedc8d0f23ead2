/*
 * ssm/smooth_members.c: what each member of the forecaster bank is: its
 * parameters, how it starts from the warm-up window, how one observation or
 * one missing step moves it, and its forecast path over the horizons.
 *
 * Kinds: naive and seasonal naive (no state beyond the y ring); ETS (level,
 * trend damped by phi, additive seasonal indices, optionally on the log scale,
 * which makes the seasonality multiplicative); theta (SES plus half the slope
 * of a discounted least-squares line, the theta method's form); AR (an AR(3)
 * on levels, differences or seasonal differences, fitted by recursive least
 * squares with forgetting, i.e. the streaming analogue of the ARIMA anchor).
 */
#include <math.h>
#include <string.h>

#include "ssm/smooth_internal.h"

/*
 * The bank. Parameters are fixed, not fitted: each member is cheap and the
 * per-horizon combination picks among them per series, which is what
 * refit-per-origin model selection achieves by optimisation. The settings
 * are a coarse grid over the usual ranges (slow to fast level, damped and
 * linear trends, slow and fast seasonals), not values tuned on any data set.
 */
const member_def ssm__smooth_bank[SMOOTH_NBANK] = {
    /* name, kind, log, seasonal, trend, ar_mode, alpha, beta, gamma, phi */
    {"naive", K_NAIVE, 0, 0, 0, 0, 1, 0, 0, 1},
    {"snaive", K_SNAIVE, 0, 1, 0, 0, 0, 0, 0, 1},
    {"ses.1", K_ETS, 0, 0, 0, 0, 0.1f, 0, 0, 1},
    {"ses.3", K_ETS, 0, 0, 0, 0, 0.3f, 0, 0, 1},
    {"ses.6", K_ETS, 0, 0, 0, 0, 0.6f, 0, 0, 1},
    {"holt.damped.9", K_ETS, 0, 0, 1, 0, 0.9f, 0.5f, 0, 0.8f},
    {"holt.3", K_ETS, 0, 0, 1, 0, 0.3f, 0.05f, 0, 1},
    {"holt.7", K_ETS, 0, 0, 1, 0, 0.7f, 0.2f, 0, 1},
    {"theta.2", K_THETA, 0, 0, 0, 0, 0.2f, 0, 0, 1},
    {"ar.level", K_AR, 0, 0, 0, AR_LEVEL, 0, 0, 0, 1},
    {"ar.diff", K_AR, 0, 0, 0, AR_DIFF, 0, 0, 0, 1},
    {"logar.level", K_AR, 1, 0, 0, AR_LEVEL, 0, 0, 0, 1},
    {"ar.sdiff", K_AR, 0, 1, 0, AR_SDIFF, 0, 0, 0, 1},
    {"hw.stable", K_ETS, 0, 1, 0, 0, 0.1f, 0, 0.02f, 1},
    {"hw.level", K_ETS, 0, 1, 0, 0, 0.2f, 0, 0.1f, 1},
    {"loghw.linear", K_ETS, 1, 1, 1, 0, 0.3f, 0.02f, 0.1f, 1},
    {"loghw.fast", K_ETS, 1, 1, 1, 0, 0.6f, 0.1f, 0.3f, 0.9f},
    {"logtheta.seas", K_THETA, 1, 1, 0, 0, 0.3f, 0, 0.05f, 1},
};
_Static_assert(sizeof ssm__smooth_bank / sizeof ssm__smooth_bank[0] ==
		   SMOOTH_NBANK,
	       "SMOOTH_NBANK differs from the bank");

#define THETA_WINDOW 2000.0 /* R's refit window: thetaf sees <= 2000 */
#define AR_LAMBDA    0.998  /* RLS forgetting: a window of ~500 samples */
#define AR_ILAMBDA   (1.0 / AR_LAMBDA)
#define AR_P0	     10.0 /* RLS prior covariance, normalized units */
#define AR_CLAMP     20.0
/*
 * No member may forecast further from the last value than this many typical
 * one-step changes per step ahead: a member that has just started (an AR
 * fitted on a handful of points, an exp() of a wild log forecast) must not
 * wreck the combination or the error statistics before its weight drops.
 */
#define SANE_STEPS 30.0

static double to_space(const member_def *d, double y)
{
	return d->logscale ? log(y) : y;
}

/* Back from the log scale: exp, capped at e^700 (ssm/smooth_kern.h). */
#define EXP_CAP 700.0

static double xring(const float *st, const hdr *h, const member_def *d,
		    int64_t s)
{
	return to_space(d, ssm__yring(st, h, s));
}

/* ---- theta ---- */

/* Discounted least-squares line of x on time (theta's kind block). */
typedef struct theta_reg {
	double rw, rt, ry, rtt, rty;
} theta_reg;

static void theta_load(const float *st, const hdr *h, int k, theta_reg *r)
{
	memcpy(r, ssm__member_kind(st, h, k), sizeof *r);
}

static void theta_store(float *st, const hdr *h, int k, const theta_reg *r)
{
	memcpy(ssm__member_kind(st, h, k), r, sizeof *r);
}

static double theta_drift(const theta_reg *m)
{
	return m->rtt > 0 ? 0.5 * m->rty / m->rtt : 0;
}

/* Discounted least squares of z on t: Welford's update with forgetting. */
static void theta_regress(theta_reg *m, double t, double z)
{
	double lam = 1.0 - 1.0 / THETA_WINDOW;
	double w0 = lam * m->rw, w1 = w0 + 1, dt = t - m->rt, dy = z - m->ry;

	m->rtt = lam * m->rtt + w0 / w1 * dt * dt;
	m->rty = lam * m->rty + w0 / w1 * dt * dy;
	m->rt += dt / w1;
	m->ry += dy / w1;
	m->rw = w1;
}

/* ---- AR by recursive least squares ---- */

static int ar_lag(const hdr *h, const member_def *d)
{
	return d->ar_mode == AR_DIFF	? 1
	       : d->ar_mode == AR_SDIFF ? h->period
					: 0;
}

/* The AR input at step s whose own value x_s is given. */
static double ar_z(const float *st, const hdr *h, const member_def *d,
		   int64_t s, double xs)
{
	int lag = ar_lag(h, d);

	return lag ? xs - xring(st, h, d, s - lag) : xs;
}

/*
 * The AR state: P (AR_N x AR_N), theta (AR_N), the history
 * zh[0..AR_P-1] = z(t), z(t-1), ... of raw inputs, kept so that the
 * regressors cost no log() of ring values, and the centre and scale
 * (zc, zs) of the input, fixed at seeding. P starts diagonal and every RLS
 * step keeps it exactly symmetric (P_ij and P_ji see the same operations),
 * so only its upper triangle is kept, row by row: P_ij = Pu[ar_ix[i][j]].
 */
#define AR_TRI (AR_N * (AR_N + 1) / 2)

typedef struct ar_state {
	double Pu[AR_TRI], th[AR_N], zh[AR_P], zc, zs;
} ar_state;

_Static_assert(AR_N == 4, "ar_ix is written for AR_N 4");
static const unsigned char ar_ix[AR_N][AR_N] = {
    {0, 1, 2, 3}, {1, 4, 5, 6}, {2, 5, 7, 8}, {3, 6, 8, 9}};

_Static_assert(FLOATS_OF(theta_reg) == THETA_F, "THETA_F is theta_reg");
_Static_assert(FLOATS_OF(ar_state) == AR_F, "AR_F is ar_state");

static void ar_load(const float *st, const hdr *h, int k, ar_state *a)
{
	memcpy(a, ssm__member_kind(st, h, k), sizeof *a);
}

static void ar_store(float *st, const hdr *h, int k, const ar_state *a)
{
	memcpy(ssm__member_kind(st, h, k), a, sizeof *a);
}

static void ar_push(ar_state *a, double z)
{
	memmove(a->zh + 1, a->zh, sizeof(double) * (AR_P - 1));
	a->zh[0] = z;
}

static void ar_reset(double *Pu, double *th)
{
	int i;

	memset(th, 0, sizeof(double) * AR_N);
	memset(Pu, 0, sizeof(double) * AR_TRI);
	for (i = 0; i < AR_N; i++)
		Pu[ar_ix[i][i]] = AR_P0;
}

/* One RLS step on target z' with regressors phi. */
static void ar_rls(double *Pu, double *th, const double *phi, double zn)
{
	double Pphi[AR_N], den = AR_LAMBDA, err = zn, tr = 0, iden;
	int i, j;

	/* Unrolled whole (AR_N 4), so that ar_ix's indices are constants:
	 * the same operations in the same order. */
#pragma GCC unroll 4
	for (i = 0; i < AR_N; i++) {
		Pphi[i] = 0;
#pragma GCC unroll 4
		for (j = 0; j < AR_N; j++)
			Pphi[i] += Pu[ar_ix[i][j]] * phi[j];
		den += phi[i] * Pphi[i];
		err -= th[i] * phi[i];
	}
	if (!(den > 0) || !isfinite(den) || !isfinite(err)) {
		ar_reset(Pu, th);
		return;
	}
	/* Reciprocals, not 14 divisions per step: rounding-level. */
	iden = 1.0 / den;
	for (i = 0; i < AR_N; i++)
		th[i] += Pphi[i] * iden * err;
#pragma GCC unroll 4
	for (i = 0; i < AR_N; i++) {
#pragma GCC unroll 4
		for (j = i; j < AR_N; j++)
			Pu[ar_ix[i][j]] =
			    (Pu[ar_ix[i][j]] - Pphi[i] * Pphi[j] * iden) *
			    AR_ILAMBDA;
	}
	/* Forgetting without excitation winds P up: keep it bounded. */
#pragma GCC unroll 4
	for (i = 0; i < AR_N; i++)
		tr += Pu[ar_ix[i][i]];
	if (!(tr < 1e6))
		ar_reset(Pu, th);
}

static void ar_observe(float *st, const hdr *h, int k, int64_t s, double xs)
{
	const member_def *d = &ssm__smooth_bank[k];
	double phi[AR_N], z = ar_z(st, h, d, s, xs), izs;
	ar_state a;
	int j;

	ar_load(st, h, k, &a);
	izs = 1.0 / a.zs;
	phi[0] = 1;
	for (j = 0; j < AR_P; j++)
		phi[j + 1] = (a.zh[j] - a.zc) * izs;
	ar_rls(a.Pu, a.th, phi, (z - a.zc) * izs);
	ar_push(&a, z);
	ar_store(st, h, k, &a);
}

static void ar_seed(float *st, const hdr *h, int k)
{
	const member_def *d = &ssm__smooth_bank[k];
	int lag = ar_lag(h, d), W = h->warm, j, n = 0;
	int64_t s0 = h->step - W + 1 + lag, s;
	double sum = 0, dev = 0;
	ar_state a;

	memset(&a, 0, sizeof a);
	for (s = s0; s <= h->step; s++, n++)
		sum += ar_z(st, h, d, s, xring(st, h, d, s));
	a.zc = n ? sum / n : 0;
	for (s = s0; s <= h->step; s++)
		dev += fabs(ar_z(st, h, d, s, xring(st, h, d, s)) - a.zc);
	a.zs = n ? dev / n : 0;
	if (!(a.zs > 1e-12 * (fabs(a.zc) + 1)))
		a.zs = 1e-12 * (fabs(a.zc) + 1) + 1e-300;
	ar_reset(a.Pu, a.th);
	for (j = 0; j < AR_P; j++) /* z(s0 + AR_P - 1), ..., z(s0) */
		a.zh[j] = ar_z(st, h, d, s0 + AR_P - 1 - j,
			       xring(st, h, d, s0 + AR_P - 1 - j));
	ar_store(st, h, k, &a);
	for (s = s0 + AR_P; s <= h->step; s++)
		ar_observe(st, h, k, s, xring(st, h, d, s));
}

/* Member k's coefficients and normalized lags into lane l of
 * ssm__smooth_ar_lanes's inputs. */
static void ar_lane(const float *st, const hdr *h, int k, int l, double *coef,
		    double *zh)
{
	enum { L = SSM__AR_LANES };
	ar_state a;
	int j;

	_Static_assert(AR_P == 3, "ssm__smooth_ar_lanes is AR(3)");
	ar_load(st, h, k, &a);
	for (j = 0; j < AR_N; j++)
		coef[j * L + l] = a.th[j];
	for (j = 0; j < AR_P; j++)
		zh[j * L + l] = (a.zh[j] - a.zc) * (1.0 / a.zs);
}

/* One member's recursion when no batch has it (member_at without a
 * batch that far): scratch, never read after the call that fills it. */
static _Thread_local double ar_zone[SSM_SMOOTH_MAX_H * SSM__AR_LANES];

/* The AR members of the bank, bit k for member k: the batch walks only
 * them (four of the eighteen). */
static uint32_t ar_members(void)
{
	static _Thread_local uint32_t c, ready;
	int k;

	if (!ready) {
		for (k = 0, c = 0; k < SMOOTH_NBANK; k++)
			c |= (uint32_t)(ssm__smooth_bank[k].kind == K_AR) << k;
		ready = 1;
	}
	return c;
}

/* Whether run covers every AR member of hneed that far; if so, points ms
 * at it. */
static int ar_reuse(ar_run *run, mstate *ms, const int32_t *hneed)
{
	uint32_t m;
	int k, l;

	if (run->H < 1)
		return 0;
	for (m = ar_members(); m; m &= m - 1) {
		k = __builtin_ctz(m);
		if (hneed[k] < 1)
			continue;
		l = run->lane[k];
		if (l < 0 || hneed[k] > run->H)
			return 0;
	}
	for (m = ar_members(); m; m &= m - 1) {
		k = __builtin_ctz(m);
		if (hneed[k] >= 1) {
			ms[k].arz = run->z + run->lane[k];
			ms[k].arn = run->H;
			ms[k].lagp = run->lagp[run->lane[k]];
			ms[k].lagn = &run->lagn[run->lane[k]];
		}
	}
	return 1;
}

void ssm__smooth_ar_batch(const float *st, const hdr *h, mstate *ms,
			  const int32_t *hneed, ar_run *run, int reuse)
{
	enum { L = SSM__AR_LANES };
	double coef[AR_N * L], zh[AR_P * L];
	signed char lane[SMOOTH_NBANK];
	int nl = 0, H = 0, k;
	uint32_t m, in = 0;

	if (reuse && ar_reuse(run, ms, hneed))
		return;
	/* Zeroed only here: the forecast mostly reuses the update's run.
	 * Lanes no member takes stay 0 (ssm__smooth_ar_lanes runs all L). */
	memset(coef, 0, sizeof coef);
	memset(zh, 0, sizeof zh);
	memset(lane, -1, sizeof lane);
	for (m = ar_members(); m; m &= m - 1) {
		k = __builtin_ctz(m);
		if (hneed[k] < 1 || nl == L)
			continue;
		ar_lane(st, h, k, nl, coef, zh);
		in |= 1u << k;
		lane[k] = (signed char)nl++;
		H = hneed[k] > H ? hneed[k] : H;
	}
	run->H = 0;
	if (nl == 0)
		return;
	ssm__smooth_ar_lanes(run->z, H, coef, zh, AR_CLAMP);
	run->H = H;
	for (k = 0; k < L; k++)
		run->lagn[k] = 0;
	memcpy(run->lane, lane, sizeof lane);
	for (m = in; m; m &= m - 1) {
		k = __builtin_ctz(m);
		ms[k].arz = run->z + lane[k];
		ms[k].arn = H;
		ms[k].lagp = run->lagp[lane[k]];
		ms[k].lagn = &run->lagn[lane[k]];
	}
}

/*
 * Member k's forecasts at horizons hz[0..n-1] (increasing) in its space
 * (before the exp of the log scale) into xs: the normalized recursion (from
 * the batch when it has it) back in the member's units; for differences
 * the value lag steps before added on (seen, or forecast), which needs
 * every horizon up to the last, into path; levels need only the n asked.
 */
static void ar_at(const float *st, const hdr *h, int k, const mstate *m, int n,
		  const int32_t *hz, double *path, double *xs)
{
	enum { L = SSM__AR_LANES };
	const member_def *d = &ssm__smooth_bank[k];
	const double *z = m->arz;
	int lag = ar_lag(h, d), H = hz[n - 1], i;
	ar_state a;

	if (lag && m->lagp && *m->lagn >= H) {
		/* Made already from this batch (by the update's record). */
		for (i = 0; i < n; i++)
			xs[i] = m->lagp[hz[i] - 1];
		return;
	}
	ar_load(st, h, k, &a);
	if (!z || m->arn < H) {
		double coef[AR_N * L] = {0}, zh[AR_P * L] = {0};

		ar_lane(st, h, k, 0, coef, zh);
		ssm__smooth_ar_lanes(ar_zone, H, coef, zh, AR_CLAMP);
		z = ar_zone;
	}
	if (!lag) {
		for (i = 0; i < n; i++)
			xs[i] = a.zc + a.zs * z[(size_t)(hz[i] - 1) * L];
		return;
	}
	/* Into the batch's cache when it holds that many (from the batch's
	 * z only: a run of its own is this call's). */
	if (m->lagp && z == m->arz && H <= AR_LAGC) {
		path = m->lagp;
		*m->lagn = H;
	}
	/* The first lag horizons add a seen value, the rest a forecast one
	 * (the same two roundings each as back to the units, then the sum). */
	for (i = 0; i < H && i < lag; i++)
		path[i] = (a.zc + a.zs * z[(size_t)i * L]) +
			  xring(st, h, d, h->step + i + 1 - lag);
	for (; i < H; i++)
		path[i] = (a.zc + a.zs * z[(size_t)i * L]) + path[i - lag];
	for (i = 0; i < n; i++)
		xs[i] = path[hz[i] - 1];
}

/* A step without a value: the ring gets the last value; so does z. */
static void ar_skip(float *st, const hdr *h, int k)
{
	const member_def *d = &ssm__smooth_bank[k];
	ar_state a;

	ar_load(st, h, k, &a);
	ar_push(&a, ar_z(st, h, d, h->step, to_space(d, h->last)));
	ar_store(st, h, k, &a);
}

/* ---- the member interface ---- */

/*
 * Seed member k from the warm-up window (the last h->warm steps in the y
 * ring): level and trend from the means of the last two cycles (or a
 * least-squares line when there is no season), seasonal indices as the
 * average deviation from the trend line. O(warm), once per series.
 */
void ssm__smooth_member_seed(float *st, const hdr *h, int k, mstate *m)
{
	const member_def *d = &ssm__smooth_bank[k];
	float *seas = ssm__member_seasonal(st, h, k);
	int p = h->period, W = h->warm, i, j;
	int64_t s0 = h->step - W + 1;
	double c1 = 0, c2 = 0, l, b;

	memset(m, 0, sizeof *m);
	m->active = 1;
	if (d->kind == K_NAIVE || d->kind == K_SNAIVE)
		return;
	if (d->kind == K_AR) {
		ar_seed(st, h, k);
		return;
	}
	if (d->seasonal) {
		/* The last two full cycles of the window. */
		int64_t c0 = h->step - 2 * p + 1;

		for (i = 0; i < p; i++) {
			c1 += xring(st, h, d, c0 + i);
			c2 += xring(st, h, d, c0 + p + i);
		}
		c1 /= p;
		c2 /= p;
		b = (c2 - c1) / p;
		l = c2 + b * (p - 1) / 2.0;
		for (j = 0; j < p; j++)
			seas[j] = 0;
		for (i = 0; i < 2 * p; i++) {
			int64_t s = c0 + i;
			double c = c1 + b * (i - (p - 1) / 2.0);

			seas[s % p] += (float)((xring(st, h, d, s) - c) / 2.0);
		}
	} else {
		double st_ = 0, sy = 0, stt = 0, sty = 0;

		for (i = 0; i < W; i++) {
			double x = xring(st, h, d, s0 + i);

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
		theta_reg r;

		memset(&r, 0, sizeof r);
		for (i = 0; i < W; i++) {
			int64_t s = s0 + i;

			theta_regress(&r, (double)s,
				      xring(st, h, d, s) -
					  (d->seasonal ? seas[s % p] : 0));
		}
		theta_store(st, h, k, &r);
	}
}

void ssm__smooth_member_observe(float *st, const hdr *h, int k, mstate *m,
				double y)
{
	const member_def *d = &ssm__smooth_bank[k];
	float *seas = ssm__member_seasonal(st, h, k);
	int j = h->phase;
	double x, s, lp, ln;

	if (d->kind == K_NAIVE || d->kind == K_SNAIVE)
		return;
	/* log(y) once per sample for every log-scale member (advance). */
	x = d->logscale ? h->logy : y;
	if (d->kind == K_AR) {
		ar_observe(st, h, k, h->step, x);
		return;
	}
	s = d->seasonal ? seas[j] : 0;
	lp = d->kind == K_ETS && d->trend ? m->l + d->phi * m->b : m->l;
	ln = d->alpha * (x - s) + (1 - d->alpha) * lp;
	if (d->kind == K_ETS && d->trend) {
		/* The same warm start for the slope: a running mean of the
		 * level's increments (the seed counts as warm/2 of them)
		 * until there are 1/beta of them. */
		double inc = 0.5 * h->warm + (double)(h->step - h->warm + 1);
		double bt = d->beta * inc > 1 ? d->beta : 1.0 / inc;

		m->b = bt * (ln - m->l) + (1 - bt) * d->phi * m->b;
	}
	if (d->kind == K_THETA) {
		theta_reg r;

		theta_load(st, h, k, &r);
		theta_regress(&r, (double)h->step, x - s);
		theta_store(st, h, k, &r);
	}
	m->l = ln;
	if (d->seasonal) {
		/*
		 * The indices start from two cycles; until 1/gamma cycles
		 * have been seen, each one is the running mean of its
		 * deviations (gamma = 1/cycles), then the EW average: a slow
		 * gamma never has to correct a noisy two-cycle start.
		 */
		double cyc =
		    2.0 + (double)(h->step - h->warm + 1) * h->inv_period;
		double g = d->gamma * cyc > 1 ? d->gamma : 1.0 / cyc;

		seas[j] = (float)(g * (x - ln) + (1 - g) * s);
	}
}

void ssm__smooth_member_skip(float *st, const hdr *h, int k, mstate *m)
{
	const member_def *d = &ssm__smooth_bank[k];

	if (d->kind == K_AR)
		ar_skip(st, h, k);
	if (d->kind == K_ETS && d->trend) {
		m->l += d->phi * m->b;
		m->b *= d->phi;
	}
}

void ssm__smooth_member_jump(float *st, const hdr *h, int k, mstate *m,
			     int64_t n)
{
	const member_def *d = &ssm__smooth_bank[k];
	double p;
	int j;

	/* After an outage the ring holds the last value throughout. */
	for (j = 0; d->kind == K_AR && j < AR_P; j++)
		ar_skip(st, h, k);
	if (d->kind != K_ETS || !d->trend)
		return;
	p = pow(d->phi, (double)n);
	m->l += d->phi < 1 ? d->phi * (1 - p) / (1 - d->phi) * m->b
			   : (double)n * m->b;
	m->b *= p;
}

static void member_at(const float *st, const hdr *h, int k, const mstate *m,
		      int n, const int32_t *hz, double *out);

/*
 * The damped members' sums phi + phi^2 + ... + phi^h for h = 0..MAX_H, made
 * once per thread by the loop member_at ran per horizon (the same bits):
 * that loop is a chain of dependent multiplies, one per horizon, at every
 * forecast. NULL for a member without a slot (more damped members than
 * DAMP_SLOTS): member_at then runs the loop.
 */
#define DAMP_SLOTS 2
static _Thread_local double damp_tab[DAMP_SLOTS][SSM_SMOOTH_MAX_H + 1];
static _Thread_local signed char damp_slot[SMOOTH_NBANK];
static _Thread_local int damp_ready;

static const double *damp_table(int k)
{
	int j, i, n = 0;

	if (!damp_ready) {
		for (j = 0; j < SMOOTH_NBANK; j++) {
			const member_def *d = &ssm__smooth_bank[j];
			double damp = 0, phik = 1;

			damp_slot[j] = -1;
			if (d->kind != K_ETS || !d->trend || d->phi == 1 ||
			    n == DAMP_SLOTS)
				continue;
			damp_tab[n][0] = 0;
			for (i = 1; i <= SSM_SMOOTH_MAX_H; i++) {
				phik *= d->phi;
				damp += phik;
				damp_tab[n][i] = damp;
			}
			damp_slot[j] = (signed char)n++;
		}
		damp_ready = 1;
	}
	return damp_slot[k] >= 0 ? damp_tab[damp_slot[k]] : NULL;
}

void ssm__smooth_clamp_prep(hdr *h)
{
	double sc = h->scale_w > 0 ? h->scale_s / h->scale_w : 0;

	h->clamp_c = sc > 0 ? SANE_STEPS * sc : 0;
}

void ssm__smooth_member_at(const float *st, const hdr *h, int k,
			   const mstate *m, int n, const int32_t *hz,
			   double *out)
{
	member_at(st, h, k, m, n, hz, out);
	if (h->clamp_c > 0) /* NaN lands on the upper bound */
		ssm__smooth_clamp(out, hz, n, h->last, h->clamp_c);
}

void ssm__smooth_member_raw(const float *st, const hdr *h, int k,
			    const mstate *m, int n, const int32_t *hz,
			    double *out)
{
	member_at(st, h, k, m, n, hz, out);
}

/* (ph + hz[i]) % p, stepped from j = the phase of hz[i - 1] when the
 * horizons are consecutive (no integer division per horizon). */
static inline int phase_at(const int32_t *hz, int i, int ph, int p, int j)
{
	if (i > 0 && hz[i] == hz[i - 1] + 1)
		return j + 1 == p ? 0 : j + 1;
	return (ph + hz[i]) % p;
}

/*
 * An ETS path over the consecutive horizons h0 .. h0 + n - 1, in runs
 * over which the seasonal index does not wrap, so that every loop is
 * straight and vectorizes: xs[i] = (l + d_i b) + s_i, d_i = dt[h0 + i]
 * (damped), h0 + i (linear: lin), or 0 (dt NULL, no trend); s_i =
 * seas[(j0 + i) mod p] or 0 (seas NULL). The per-horizon code's operations.
 */
static void ets_path(double *xs, int n, int h0, double l, double b,
		     const double *dt, int lin, const float *seas, int j0,
		     int p)
{
	const double c = l + 0.0 * b; /* no trend: d_i = 0 */
	int i = 0, t, run, j = j0;

	while (i < n) {
		double *x = xs + i;
		const float *sv = seas ? seas + j : NULL;

		run = seas && p - j < n - i ? p - j : n - i;
		if (dt && sv)
			for (t = 0; t < run; t++)
				x[t] = (l + dt[h0 + i + t] * b) + (double)sv[t];
		else if (dt)
			for (t = 0; t < run; t++)
				x[t] = (l + dt[h0 + i + t] * b) + 0.0;
		else if (lin && sv)
			for (t = 0; t < run; t++)
				x[t] = (l + (double)(h0 + i + t) * b) +
				       (double)sv[t];
		else if (lin)
			for (t = 0; t < run; t++)
				x[t] = (l + (double)(h0 + i + t) * b) + 0.0;
		else if (sv)
			for (t = 0; t < run; t++)
				x[t] = c + (double)sv[t];
		else
			for (t = 0; t < run; t++)
				x[t] = c + 0.0;
		i += run;
		j = 0;
	}
}

/* theta's path over consecutive horizons, as ets_path: xs[i] =
 * (l + drift ((h0 + i - 1) + ia)) + s_i. */
static void theta_path(double *xs, int n, int h0, double l, double drift,
		       double ia, const float *seas, int j0, int p)
{
	int i = 0, t, run, j = j0;

	while (i < n) {
		double *x = xs + i;
		const float *sv = seas ? seas + j : NULL;

		run = seas && p - j < n - i ? p - j : n - i;
		if (sv)
			for (t = 0; t < run; t++)
				x[t] = (l + drift * ((double)(h0 + i + t - 1) +
						     ia)) +
				       (double)sv[t];
		else
			for (t = 0; t < run; t++)
				x[t] = (l + drift * ((double)(h0 + i + t - 1) +
						     ia)) +
				       0.0;
		i += run;
		j = 0;
	}
}

/*
 * The forecast paths. This runs for every horizon of every member in the
 * combination, at every sample: the member's parameters are copied to
 * locals (through the const bank pointer the compiler would reload them
 * after every store to out[]), and each kind has a loop of its own.
 */
static void member_at(const float *st, const hdr *h, int k, const mstate *m,
		      int n, const int32_t *hz, double *out)
{
	const member_def *d = &ssm__smooth_bank[k];
	const float *seas = ssm__member_seasonal(st, h, k);
	const int kind = d->kind, seasonal = d->seasonal,
		  logscale = d->logscale;
	const double l = m->l;
	/* Phases and ring positions as ints, once: no 64-bit division per
	 * horizon. */
	const int p = h->period, ph = h->phase, rpos = h->rpos;
	/* The paths in the member's space, exp'ed at the end when that is the
	 * log scale (one vector pass: ssm__smooth_exp). */
	double xbuf[SSM_SMOOTH_MAX_H], *xs = logscale ? xbuf : out;
	int i, j = 0;

	if (kind == K_AR) {
		double path[SSM_SMOOTH_MAX_H];

		ar_at(st, h, k, m, n, hz, path, xs);
		if (logscale)
			ssm__smooth_exp(out, xs, n, EXP_CAP);
		return;
	}
	if (kind == K_NAIVE) {
		for (i = 0; i < n; i++)
			out[i] = h->last;
		return;
	}
	if (kind == K_SNAIVE) {
		const float *ring = st + h->off_yring;
		const double anchor = h->anchor, unit = h->ring_unit;

		for (i = 0; i < n; i++) {
			/* The last value in phase with step + hz: off steps
			 * back from the latest, 0 <= off < p. */
			int off, ix;

			j = phase_at(hz, i, ph, p, j);
			off = j <= ph ? ph - j : ph - j + p;
			ix = rpos - off;
			if (ix < 0)
				ix += h->R;
			out[i] = anchor + (double)ring[ix] * unit;
		}
		return;
	}
	if (kind == K_THETA) {
		const int run = hz[n - 1] - hz[0] == n - 1;
		theta_reg r;
		double drift, ia = 1.0 / d->alpha;

		theta_load(st, h, k, &r);
		drift = theta_drift(&r);

		if (run) /* consecutive: the straight loops */
			theta_path(xs, n, hz[0], l, drift, ia,
				   seasonal ? seas : NULL, (ph + hz[0]) % p, p);
		for (i = 0; i < n && !run; i++) {
			double x = l + drift * (hz[i] - 1 + ia), s = 0;

			if (seasonal) {
				j = phase_at(hz, i, ph, p, j);
				s = seas[j];
			}
			xs[i] = x + s;
		}
		if (logscale)
			ssm__smooth_exp(out, xs, n, EXP_CAP);
		return;
	}
	{
		/* ETS: damp = phi + phi^2 + ... + phi^hz, hz increasing: from
		 * the table when the member has one. */
		const double phi = d->phi, b = m->b;
		const int trend = d->trend;
		const double *dt = trend && phi != 1 ? damp_table(k) : NULL;
		double damp = 0, phik = 1;
		int at_h = 0; /* -1: the path is done */

		/* Consecutive horizons (a forecast's path) with the sums at
		 * hand: the seasonal indices walk the cycle and the sums are
		 * the table's (or hz), into arrays, and then one loop with no
		 * branch, which vectorizes; the same operations per horizon
		 * as the loop below. */
		if (hz[n - 1] - hz[0] == n - 1 && (!trend || phi == 1 || dt)) {
			ets_path(xs, n, hz[0], l, b, !trend ? NULL : dt,
				 trend && phi == 1, seasonal ? seas : NULL,
				 (ph + hz[0]) % p, p);
			at_h = -1;
		}
		/* Checkpoints (not consecutive) of a member without a season
		 * whose sums need no walk: one loop per kind of sum, no
		 * branch per horizon; the operations of the loop below. */
		if (at_h >= 0 && !seasonal && !trend) {
			for (i = 0; i < n; i++)
				xs[i] = (l + 0.0 * b) + 0.0;
			at_h = -1;
		} else if (at_h >= 0 && !seasonal && phi == 1) {
			for (i = 0; i < n; i++)
				xs[i] = (l + (double)hz[i] * b) + 0.0;
			at_h = -1;
		} else if (at_h >= 0 && !seasonal && dt) {
			for (i = 0; i < n; i++)
				xs[i] = (l + dt[hz[i]] * b) + 0.0;
			at_h = -1;
		}
		for (i = 0; at_h >= 0 && i < n; i++) {
			double x, s = 0;

			if (seasonal) {
				j = phase_at(hz, i, ph, p, j);
				s = seas[j];
			}
			/* With phi 1 every term is 1 and the sum exact: hz. */
			if (trend && phi == 1)
				damp = hz[i];
			if (dt)
				damp = dt[hz[i]];
			for (; !dt && trend && phi != 1 && at_h < hz[i];
			     at_h++) {
				phik *= phi;
				damp += phik;
			}
			x = l + damp * b;
			xs[i] = x + s;
		}
		if (logscale)
			ssm__smooth_exp(out, xs, n, EXP_CAP);
	}
}
