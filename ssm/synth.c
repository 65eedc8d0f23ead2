/* ssm/synth.c: the synthetic series generator (see synth.h). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "ssm/model.h"
#include "ssm/synth.h"

struct ssm_synth {
	int max_n, gp_max;
	double *K; /* [gp_max][gp_max] kernel, then its Cholesky factor */
	double *z; /* [max_n] scratch */
};

ssm_synth *ssm_synth_new(int max_n, int gp_max)
{
	ssm_synth *g;

	if (max_n < 2 || gp_max < 2)
		return NULL;
	g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->max_n = max_n;
	g->gp_max = gp_max;
	g->K = malloc(sizeof(double) * (size_t)gp_max * (size_t)gp_max);
	g->z =
	    malloc(sizeof(double) * (size_t)(max_n > gp_max ? max_n : gp_max));
	if (!g->K || !g->z) {
		ssm_synth_free(g);
		return NULL;
	}
	return g;
}

void ssm_synth_free(ssm_synth *g)
{
	if (!g)
		return;
	free(g->K);
	free(g->z);
	free(g);
}

static double unif(ssm_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * ssm_rng_uniform(r);
}

/* Log-uniform in [lo, hi]. */
static double logu(ssm_rng *r, double lo, double hi)
{
	return exp(unif(r, log(lo), log(hi)));
}

static const int periods[] = {4, 7, 12, 24, 48, 52, 96, 168, 336};

/* A period that repeats at least three times in n samples, or 1. */
static int pick_period(ssm_rng *r, int n)
{
	int np = 0, i;

	for (i = 0; i < (int)(sizeof periods / sizeof periods[0]); i++)
		if (3 * periods[i] <= n)
			np = i + 1;
	if (np == 0)
		return 1;
	return periods[ssm_rng_below(r, (uint64_t)np)];
}

/* ---- GP ---- */

enum { K_PER, K_RBF, K_LIN, K_RQ, K_WHITE, K_NBASE };

typedef struct kern {
	int kind;
	double var, ls, p, alpha, c;
} kern;

static double kval(const kern *k, double a, double b)
{
	double d = a - b, s;

	switch (k->kind) {
	case K_PER:
		s = sin(M_PI * fabs(d) / k->p);
		return k->var * exp(-2.0 * s * s / (k->ls * k->ls));
	case K_RBF:
		return k->var * exp(-0.5 * d * d / (k->ls * k->ls));
	case K_LIN:
		return k->var * (a - k->c) * (b - k->c);
	case K_RQ:
		return k->var *
		       pow(1.0 + d * d / (2.0 * k->alpha * k->ls * k->ls),
			   -k->alpha);
	default:
		return d == 0.0 ? k->var : 0.0;
	}
}

static void draw_kern(ssm_rng *r, kern *k, int kind, int m, int n)
{
	k->kind = kind;
	k->var = logu(r, 0.1, 1.0);
	k->ls = logu(r, 0.02, 0.5); /* in units of the unit interval */
	k->p = (double)(m > 1 ? m : pick_period(r, n)) / n;
	k->alpha = logu(r, 0.1, 5.0);
	k->c = unif(r, -0.5, 1.0);
	if (kind == K_PER)
		k->ls = logu(r, 0.5, 2.0);
	if (kind == K_WHITE)
		k->var = logu(r, 0.001, 0.1);
}

static int gen_gp(ssm_synth *g, ssm_rng *r, int n, double *y, int *period)
{
	int ng = n < g->gp_max ? n : g->gp_max, i, j, nk, c, op[3], kind;
	kern ks[3];
	double jitter = 1e-6, x, tot;

	*period = 1;
	nk = 1 + (int)ssm_rng_below(r, 3);
	for (c = 0; c < nk; c++) {
		kind = (int)ssm_rng_below(r, K_NBASE - 1);
		if (c == 0 && ssm_rng_uniform(r) < 0.5)
			kind = K_PER;
		/* The period is known only when the grid resolves it. */
		if (kind == K_PER && *period == 1)
			*period = pick_period(r, n);
		draw_kern(r, &ks[c], kind, *period, n);
		op[c] = (int)ssm_rng_below(r, 2); /* 0 sum, 1 product */
	}
	for (i = 0; i < ng; i++)
		for (j = 0; j <= i; j++) {
			/* Grid on [0, 1]; the stretch below keeps periods. */
			double a = (double)i / (ng - 1) * (n - 1) / n,
			       b = (double)j / (ng - 1) * (n - 1) / n;
			tot = kval(&ks[0], a, b);
			for (c = 1; c < nk; c++)
				tot = op[c] ? tot * kval(&ks[c], a, b)
					    : tot + kval(&ks[c], a, b);
			g->K[(size_t)i * ng + j] = tot;
		}
	/* White noise on top, then jitter until the Cholesky succeeds. */
	x = logu(r, 1e-4, 0.05);
	for (;;) {
		for (i = 0; i < ng; i++)
			for (j = 0; j <= i; j++)
				g->K[(size_t)j * ng + i] =
				    g->K[(size_t)i * ng + j];
		for (i = 0; i < ng; i++)
			g->K[(size_t)i * ng + i] += x + jitter;
		if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', ng, g->K, ng) == 0)
			break;
		/* Restore the lower triangle from the untouched upper one. */
		for (i = 0; i < ng; i++) {
			for (j = 0; j < i; j++)
				g->K[(size_t)i * ng + j] =
				    g->K[(size_t)j * ng + i];
			g->K[(size_t)i * ng + i] -= x + jitter;
		}
		jitter *= 10.0;
		if (jitter > 1.0)
			return SSM_ENONFINITE;
	}
	for (i = 0; i < ng; i++)
		g->z[i] = ssm_rng_normal(r);
	for (i = 0; i < ng; i++) {
		double s = 0.0;
		for (j = 0; j <= i; j++)
			s += g->K[(size_t)i * ng + j] * g->z[j];
		g->K[(size_t)i * ng + i] = s; /* the diagonal is free now */
	}
	for (i = 0; i < n; i++) {
		double pos = (double)i * (ng - 1) / (n > 1 ? n - 1 : 1);
		int lo = (int)pos;
		double w = pos - lo, a = g->K[(size_t)lo * ng + lo],
		       b = lo + 1 < ng ? g->K[(size_t)(lo + 1) * ng + lo + 1]
				       : a;
		y[i] = a + w * (b - a);
	}
	return 0;
}

/* ---- trend x seasonality x noise ---- */

static void season_shape(ssm_rng *r, double *coef, int nh)
{
	int k;

	for (k = 0; k < 2 * nh; k++)
		coef[k] = ssm_rng_normal(r) / (1.0 + k / 2);
}

static double season_at(const double *coef, int nh, double ph)
{
	double s = 0.0;
	int k;

	for (k = 0; k < nh; k++)
		s += coef[2 * k] * sin(2 * M_PI * (k + 1) * ph) +
		     coef[2 * k + 1] * cos(2 * M_PI * (k + 1) * ph);
	return s;
}

static void gen_tsn(ssm_rng *r, int n, double *y, int *period)
{
	int p1 = pick_period(r, n), p2 = 1, i, mult = ssm_rng_uniform(r) < 0.5;
	double c1[8], c2[8], slope = ssm_rng_normal(r) * logu(r, 1e-4, 0.02),
			     a1 = logu(r, 0.05, 1.0), a2 = logu(r, 0.02, 0.5),
			     sn = logu(r, 0.01, 0.5), ar = unif(r, 0.0, 0.9),
			     e = 0.0;

	if (p1 > 1 && ssm_rng_uniform(r) < 0.3)
		p2 = pick_period(r, n);
	if (p2 <= p1)
		p2 = 1;
	season_shape(r, c1, 4);
	season_shape(r, c2, 4);
	for (i = 0; i < n; i++) {
		double tr = 1.0 + slope * i, s = 0.0;
		if (p1 > 1)
			s += a1 * season_at(c1, 4, (double)(i % p1) / p1);
		if (p2 > 1)
			s += a2 * season_at(c2, 4, (double)(i % p2) / p2);
		e = ar * e + sn * ssm_rng_normal(r);
		y[i] = mult ? tr * exp(0.5 * s) * exp(e) : tr + s * 0.5 + e;
	}
	*period = p2 > 1 && ssm_rng_uniform(r) < 0.5 ? p2 : p1;
}

/* ---- ETS ---- */

static void gen_ets(ssm_rng *r, int n, double *y, int *period)
{
	int m = ssm_rng_uniform(r) < 0.7 ? pick_period(r, n) : 1, i, j;
	double al = unif(r, 0.05, 0.6), be = unif(r, 0.0, 0.15) * al,
	       ga = unif(r, 0.0, 0.3) * (1.0 - al),
	       phi = ssm_rng_uniform(r) < 0.5 ? unif(r, 0.8, 0.98) : 1.0,
	       l = 10.0, b = ssm_rng_normal(r) * 0.05, sd = logu(r, 0.02, 0.3),
	       s[336];
	int mult = ssm_rng_uniform(r) < 0.4, trend = ssm_rng_uniform(r) < 0.6;

	for (j = 0; j < m; j++)
		s[j] = 0.0;
	if (m > 1) {
		double c[8];
		season_shape(r, c, 3);
		for (j = 0; j < m; j++)
			s[j] = 0.3 * season_at(c, 3, (double)j / m);
	}
	if (!trend)
		b = 0.0;
	for (i = 0; i < n; i++) {
		double sj = s[i % m], e = sd * ssm_rng_normal(r), f, lp = l;
		/* Multiplicative season in log space keeps the level > 0. */
		f = mult ? (l + phi * b) * exp(sj) : l + phi * b + sj * 10.0;
		y[i] = mult ? f * exp(e) : f + e * 10.0;
		l = l + phi * b + al * (mult ? e * l : e * 10.0);
		if (trend)
			b = phi * b + be * (l - lp - phi * b);
		if (m > 1)
			s[i % m] += ga * e;
	}
	*period = m;
}

/* ---- ARMA ---- */

static void gen_arma(ssm_rng *r, int n, double *y, int *period)
{
	double ar[2] = {0, 0}, ma[2] = {0, 0}, e1 = 0, e2 = 0, y1 = 0, y2 = 0,
	       acc = 0;
	int p = (int)ssm_rng_below(r, 3), q = (int)ssm_rng_below(r, 3), i;
	int integ = ssm_rng_uniform(r) < 0.3;

	/* Stationary AR(2) through its (real or complex) roots in (-1, 1). */
	if (p >= 1) {
		double r1 = unif(r, -0.9, 0.95),
		       r2 = p == 2 ? unif(r, -0.8, 0.8) : 0.0;
		ar[0] = r1 + r2;
		ar[1] = -r1 * r2;
	}
	for (i = 0; i < q; i++)
		ma[i] = unif(r, -0.8, 0.8);
	for (i = 0; i < n + 50; i++) {
		double e = ssm_rng_normal(r), v = ar[0] * y1 + ar[1] * y2 + e +
						  ma[0] * e1 + ma[1] * e2;
		y2 = y1;
		y1 = v;
		e2 = e1;
		e1 = e;
		if (i >= 50) {
			acc = integ ? acc + v * 0.2 : v;
			y[i - 50] = acc;
		}
	}
	*period = 1;
}

/* ---- corruptions and scaling ---- */

static void corrupt(ssm_rng *r, int n, double *y)
{
	double lo = y[0], hi = y[0], span;
	int i, k;

	for (i = 1; i < n; i++) {
		lo = y[i] < lo ? y[i] : lo;
		hi = y[i] > hi ? y[i] : hi;
	}
	span = hi - lo > 1e-9 ? hi - lo : 1.0;
	if (ssm_rng_uniform(r) < 0.2) {
		int at = (int)ssm_rng_below(r, (uint64_t)n);
		double d = ssm_rng_normal(r) * 0.5 * span;
		for (i = at; i < n; i++)
			y[i] += d;
	}
	if (ssm_rng_uniform(r) < 0.2)
		for (k = 0; k < 1 + (int)ssm_rng_below(r, 4); k++)
			y[ssm_rng_below(r, (uint64_t)n)] +=
			    ssm_rng_normal(r) * 1.5 * span;
	if (ssm_rng_uniform(r) < 0.15)
		for (k = 0; k < 1 + (int)ssm_rng_below(r, 3); k++) {
			int at = (int)ssm_rng_below(r, (uint64_t)n),
			    len = 1 + (int)ssm_rng_below(r, 10);
			for (i = at; i < n && i < at + len; i++)
				y[i] = NAN;
		}
}

int ssm_synth_series(ssm_synth *g, ssm_rng *r, int family, int n, double *y,
		     ssm_synth_info *info)
{
	static const double steps[] = {60, 300, 600, 1800, 3600, 86400};
	double lo = INFINITY, off, sc;
	int i, err = 0;

	if (!g || !r || !y || !info || n < 2 || n > g->max_n ||
	    family >= SSM_SYNTH_NFAMILY)
		return SSM_EINVAL;
	if (family < 0)
		family = (int)ssm_rng_below(r, SSM_SYNTH_NFAMILY);
	info->family = family;
	switch (family) {
	case SSM_SYNTH_GP:
		err = gen_gp(g, r, n, y, &info->period);
		break;
	case SSM_SYNTH_TSN:
		gen_tsn(r, n, y, &info->period);
		break;
	case SSM_SYNTH_ETS:
		gen_ets(r, n, y, &info->period);
		break;
	default:
		gen_arma(r, n, y, &info->period);
	}
	if (err)
		return err;
	corrupt(r, n, y);
	/* Offset and scale: half the series stay positive, like counters. */
	for (i = 0; i < n; i++)
		if (y[i] < lo)
			lo = y[i];
	if (!isfinite(lo))
		lo = 0.0;
	sc = logu(r, 1e-2, 1e4);
	off = ssm_rng_uniform(r) < 0.5 ? -lo + logu(r, 0.1, 10.0) : 0.0;
	for (i = 0; i < n; i++)
		y[i] = (y[i] + off) * sc;
	info->step_s = steps[ssm_rng_below(r, 6)];
	info->t0 = 1.5e9 + floor(ssm_rng_uniform(r) * 1e8 / 86400.0) * 86400.0;
	return 0;
}
