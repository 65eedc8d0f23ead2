/*
 * ssm/hippo_layer_impl.h: the HiPPO memory layer over `real` (see
 * ssm/hippo.h). Included by ssm/hippo_layer.c (float) and
 * ssm/hippo_layer64.c (double), each defining real, SSM_HIPPO_NAME(x),
 * GEMM, GEMV. No include guard on purpose.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/discretize.h"
#include "ssm/model.h"

#define L_ SSM_HIPPO_NAME()
#define FN SSM_HIPPO_NAME

void FN(_carve)(const ssm_hippo_cfg *cfg, real *base, FN(_tensors) * t)
{
	t->W_out = base;
	t->b_out = base + (size_t)cfg->H * cfg->H * cfg->N;
}

/* Discretize A/theta, B/theta at dt = gap into dA, dB (real); dws holds
 * N^2 + N + ssm_disc_dense_ws(N) doubles. */
static int disc_gap(const L_ *l, double gap, real *dA, real *dB, double *dws)
{
	int N = l->cfg.N, i, rc;
	double *a = dws, *b = a + (size_t)N * N;

	rc = ssm_disc_dense(l->cfg.disc, N, l->A, l->B, gap, a, b,
			    b + (size_t)N);
	if (rc)
		return rc;
	for (i = 0; i < N * N; i++)
		dA[i] = (real)a[i];
	for (i = 0; i < N; i++)
		dB[i] = (real)b[i];
	return 0;
}

static size_t dws_doubles(int N)
{
	return (size_t)N * N + (size_t)N + ssm_disc_dense_ws(N);
}

int FN(_prepare)(L_ *l)
{
	size_t i, np = ssm_hippo_nparams(&l->cfg);

	for (i = 0; i < np; i++)
		if (!isfinite(l->params[i]))
			return SSM_ENONFINITE;
	return 0;
}

int FN(_init)(L_ *l, const ssm_hippo_cfg *cfg, ssm_rng *rng)
{
	size_t np, NN;
	double bound, *dws = NULL;
	int N, i, rc;

	memset(l, 0, sizeof(*l));
	if (ssm_hippo_cfg_check(cfg))
		return SSM_EINVAL;
	l->cfg = *cfg;
	N = cfg->N;
	NN = (size_t)N * N;
	np = ssm_hippo_nparams(cfg);
	l->params = calloc(np + NN + N, sizeof(real));
	l->A = calloc(NN + N, sizeof(double));
	dws = malloc(dws_doubles(N) * sizeof(double));
	if (!l->params || !l->A || !dws) {
		rc = SSM_ENOMEM;
		goto out;
	}
	FN(_carve)(cfg, l->params, &l->p);
	l->dA = l->params + np;
	l->dB = l->dA + NN;
	l->B = l->A + NN;
	if (cfg->kind == SSM_HIPPO_LEGT) {
		ssm_hippo_legt(N, cfg->theta, l->A, l->B);
	} else {
		ssm_hippo_legs(N, l->A, l->B);
		for (i = 0; i < (int)NN; i++)
			l->A[i] /= cfg->theta;
		for (i = 0; i < N; i++)
			l->B[i] /= cfg->theta;
	}
	rc = disc_gap(l, 1.0, l->dA, l->dB, dws);
	if (rc)
		goto out;
	bound = 1.0 / sqrt((double)cfg->H * N);
	for (i = 0; i < cfg->H * cfg->H * N; i++)
		l->p.W_out[i] =
		    (real)(bound * (2.0 * ssm_rng_uniform(rng) - 1.0));
	rc = FN(_prepare)(l);
out:
	free(dws);
	if (rc)
		FN(_release)(l);
	return rc;
}

void FN(_release)(L_ *l)
{
	free(l->params);
	free(l->A);
	memset(l, 0, sizeof(*l));
}

size_t FN(_workspace_bytes)(const ssm_hippo_cfg *cfg, int B)
{
	size_t S = ssm_hippo_state_size(cfg), N = (size_t)cfg->N;

	/* doubles for one discretization, then real: the gathered states
	 * before and after [B][H N], one dA, dB. */
	return dws_doubles(cfg->N) * sizeof(double) +
	       (2 * (size_t)B * S + N * N + N) * sizeof(real);
}

/* dst [rows][N] = src + u (x) dB, u one value per row (channel). */
static void add_input(int rows, int N, const real *src, const real *u,
		      const real *dB, real *dst)
{
	int r, n;

	for (r = 0; r < rows; r++)
		for (n = 0; n < N; n++)
			dst[(size_t)r * N + n] =
			    src[(size_t)r * N + n] + u[r] * dB[n];
}

/* next [rows][N] = prev dA^T + u (x) dB: rows channels at once. */
static void recur(int rows, int N, const real *prev, const real *dA,
		  const real *dB, const real *u, real *next)
{
	GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, rows, N, N, 1, prev, N,
	     dA, N, 0, next, N);
	add_input(rows, N, next, u, dB, next);
}

/* y [M][H] = u + b + Z [M][H N] W^T. */
static void readout(const L_ *l, int M, const real *u, const real *Z, real *y)
{
	int H = l->cfg.H, m, h;
	size_t HN = (size_t)H * l->cfg.N;

	for (m = 0; m < M; m++)
		for (h = 0; h < H; h++)
			y[(size_t)m * H + h] =
			    u[(size_t)m * H + h] + l->p.b_out[h];
	if (M == 1)
		GEMV(CblasRowMajor, CblasNoTrans, H, (int)HN, 1, l->p.W_out,
		     (int)HN, Z, 1, 1, y, 1);
	else
		GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, M, H, (int)HN, 1,
		     Z, (int)HN, l->p.W_out, (int)HN, 1, y, H);
}

void FN(_step_batch)(const L_ *l, int B, real *const *states,
		     const double *gaps, const real *u, real *y, void *ws)
{
	int H = l->cfg.H, N = l->cfg.N, b, j, k = 0;
	size_t S = ssm_hippo_state_size(&l->cfg);
	double *dws = ws;
	real *Z = (real *)(dws + dws_doubles(N)), *Zn = Z + (size_t)B * S;
	real *dA = Zn + (size_t)B * S, *dB = dA + (size_t)N * N;

	/* The series at gap 1 share one GEMM: gather their states, one
	 * [k H][N] x dA^T, and add u dB while scattering back. */
	for (b = 0; b < B; b++)
		if (!gaps || gaps[b] == 1.0)
			memcpy(Z + (size_t)k++ * S, states[b],
			       S * sizeof(real));
	if (k)
		GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, k * H, N, N, 1, Z,
		     N, l->dA, N, 0, Zn, N);
	for (b = 0, j = 0; b < B; b++)
		if (!gaps || gaps[b] == 1.0)
			add_input(H, N, Zn + (size_t)j++ * S, u + (size_t)b * H,
				  l->dB, states[b]);
	for (b = 0; b < B; b++)
		if (gaps && gaps[b] != 1.0) {
			/* Rare: this series' own discretization. */
			disc_gap(l, gaps[b], dA, dB, dws);
			memcpy(Z, states[b], S * sizeof(real));
			recur(H, N, Z, dA, dB, u + (size_t)b * H, states[b]);
		}
	for (b = 0; b < B; b++)
		memcpy(Z + (size_t)b * S, states[b], S * sizeof(real));
	readout(l, B, u, Z, y);
}

void FN(_step)(const L_ *l, real *state, double gap, const real *u, real *y,
	       void *ws)
{
	FN(_step_batch)(l, 1, &state, &gap, u, y, ws);
}

/* Saved activations: state0 [S], then the state after each sample
 * [T][S]. */
size_t FN(_acts_size)(const ssm_hippo_cfg *cfg, int T)
{
	return ssm_hippo_state_size(cfg) * ((size_t)T + 1);
}

size_t FN(_seq_workspace_bytes)(const ssm_hippo_cfg *cfg, int T)
{
	size_t S = ssm_hippo_state_size(cfg), N = (size_t)cfg->N;

	/* one discretization (double + real), then for backward the direct
	 * state gradients [T][S] and a carry [S]. */
	return dws_doubles(cfg->N) * sizeof(double) +
	       (N * N + N + ((size_t)T + 1) * S) * sizeof(real);
}

/* The discretization at one gap: the cached one, or computed into dA, dB. */
static void disc_for(const L_ *l, double gap, double *dws, real *dA, real *dB,
		     const real **pA, const real **pB)
{
	if (gap == 1.0) {
		*pA = l->dA;
		*pB = l->dB;
		return;
	}
	disc_gap(l, gap, dA, dB, dws);
	*pA = dA;
	*pB = dB;
}

void FN(_forward)(const L_ *l, int T, real *state, const double *gaps,
		  const real *u, real *y, real *acts, void *ws)
{
	int H = l->cfg.H, N = l->cfg.N, t;
	size_t S = ssm_hippo_state_size(&l->cfg);
	double *dws = ws;
	real *dA = (real *)(dws + dws_doubles(N)), *dB = dA + (size_t)N * N;

	memcpy(acts, state, S * sizeof(real));
	for (t = 0; t < T; t++) {
		const real *pA, *pB;
		disc_for(l, gaps ? gaps[t] : 1.0, dws, dA, dB, &pA, &pB);
		recur(H, N, acts + (size_t)t * S, pA, pB, u + (size_t)t * H,
		      acts + (size_t)(t + 1) * S);
	}
	memcpy(state, acts + (size_t)T * S, S * sizeof(real));
	readout(l, T, u, acts + S, y);
}

void FN(_backward)(const L_ *l, int T, const double *gaps, const real *u,
		   const real *acts, const real *dy, real *du, real *grads,
		   void *ws)
{
	int H = l->cfg.H, N = l->cfg.N, t, h, n;
	size_t S = ssm_hippo_state_size(&l->cfg);
	double *dws = ws;
	real *dA = (real *)(dws + dws_doubles(N)), *dB = dA + (size_t)N * N;
	real *G = dB + N, *carry = G + (size_t)T * S;
	FN(_tensors) g;

	(void)u;
	FN(_carve)(&l->cfg, grads, &g);
	/* y = u + b + Z W^T with Z the states after each sample. */
	GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, H, (int)S, T, 1, dy, H,
	     acts + S, (int)S, 1, g.W_out, (int)S);
	for (t = 0; t < T; t++)
		for (h = 0; h < H; h++)
			g.b_out[h] += dy[(size_t)t * H + h];
	GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, (int)S, H, 1, dy, H,
	     l->p.W_out, (int)S, 0, G, (int)S);
	/* Reverse: dL/dc_t = G_t + dL/dc_{t+1} dA_{t+1}; du_t = dy_t +
	 * dL/dc_t . dB_t per channel. */
	for (t = T - 1; t >= 0; t--) {
		const real *pA, *pB;
		real *Gt = G + (size_t)t * S;
		if (t < T - 1) {
			disc_for(l, gaps ? gaps[t + 1] : 1.0, dws, dA, dB, &pA,
				 &pB);
			GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, H, N, N,
			     1, carry, N, pA, N, 1, Gt, N);
		}
		disc_for(l, gaps ? gaps[t] : 1.0, dws, dA, dB, &pA, &pB);
		for (h = 0; h < H; h++) {
			real s = 0;
			for (n = 0; n < N; n++)
				s += Gt[(size_t)h * N + n] * pB[n];
			du[(size_t)t * H + h] = dy[(size_t)t * H + h] + s;
		}
		memcpy(carry, Gt, S * sizeof(real));
	}
}

#undef L_
#undef FN
