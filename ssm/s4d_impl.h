/*
 * ssm/s4d_impl.h: the S4D block written once over `real` (see ssm/s4d.h).
 * Included by ssm/s4d.c (float) and ssm/s4d64.c (double), each defining:
 *   real, SSM_S4D_NAME(x), GEMM (cblas_?gemm), GEMV (cblas_?gemv),
 *   SILU_VEC(x, y, n), EXP(x); the float build also SMALL_GEMV,
 *   SMALL_GEMM and SMALL_GEMM_FITS (ssm/layer.h) and the scan kernels.
 * No include guard on purpose.
 */
#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/discretize.h"
#include "ssm/hippo.h"
#include "ssm/model.h"
#include "ssm/rmsnorm_impl.h"
#include "ssm/simd.h"

#ifndef SCAN_PACK_SIZE
#define SCAN_PACK_SIZE(H, N) 0
#endif

#define L_ SSM_S4D_NAME()
#define FN SSM_S4D_NAME

void FN(_carve)(const ssm_s4d_cfg *cfg, real *base, FN(_tensors) * t)
{
	ssm_tensor_info info[SSM_S4D_NTENSORS];
	real **slot[SSM_S4D_NTENSORS] = {
	    &t->norm_w, &t->log_dt, &t->log_A_re, &t->A_im,  &t->B_re, &t->B_im,
	    &t->C_re,	&t->C_im,   &t->D,	  &t->W_out, &t->b_out};
	int i;

	ssm_s4d_tensors_info(cfg, info);
	for (i = 0; i < SSM_S4D_NTENSORS; i++)
		*slot[i] = base + info[i].offset;
}

/* Discretize every mode at dt = exp(log_dt) * gap, in double, rounding the
 * results to real: dA and G = C dB (the folded input weight, see s4d.h).
 * prepare() (gap 1) and unusual gaps share this path, so the cached and the
 * on-the-fly discretizations are the same numbers. */
static void disc_one(const L_ *l, size_t i, int h, double gap, real *dAr,
		     real *dAi, real *Gr, real *Gi)
{
	const FN(_tensors) *p = &l->p;
	double complex a =
	    -exp((double)p->log_A_re[i]) + I * (double)p->A_im[i];
	double dt = exp((double)p->log_dt[h]) * gap;
	double complex dA, E, G;

	ssm_disc_mode(l->cfg.disc, a, dt, &dA, &E, NULL);
	G = ((double)p->C_re[i] + I * (double)p->C_im[i]) *
	    (E * ((double)p->B_re[i] + I * (double)p->B_im[i]));
	*dAr = (real)creal(dA);
	*dAi = (real)cimag(dA);
	*Gr = (real)creal(G);
	*Gi = (real)cimag(G);
}

static void disc_at(const L_ *l, double gap, real *dAr, real *dAi, real *Gr,
		    real *Gi)
{
	int H = l->cfg.H, N = l->cfg.N, n, h;

	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			disc_one(l, i, h, gap, dAr + i, dAi + i, Gr + i,
				 Gi + i);
		}
}

#ifdef DISC_FAST
/* The cache of DISC_FAST (s4d_decl.h): the discretization at other gaps
 * then needs no transcendental per mode. */
static void fast_cache(L_ *l)
{
	const FN(_tensors) *p = &l->p;
	int H = l->cfg.H, N = l->cfg.N, h;
	size_t HN = (size_t)H * N, i;

	l->fzmax = 0;
	for (h = 0; h < H; h++)
		l->fdt[h] = exp((double)p->log_dt[h]);
	for (i = 0; i < HN; i++) {
		double complex a =
		    -exp((double)p->log_A_re[i]) + I * (double)p->A_im[i];
		double complex W =
		    ((double)p->C_re[i] + I * (double)p->C_im[i]) *
		    ((double)p->B_re[i] + I * (double)p->B_im[i]);
		double z = l->fdt[i % H] * cabs(a);

		if (l->cfg.disc == SSM_DISC_ZOH)
			W /= a;
		l->fare[i] = creal(a);
		l->fW[i] = (real)creal(W);
		l->fW[HN + i] = (real)cimag(W);
		if (z > l->fzmax)
			l->fzmax = z;
	}
}
#endif

int FN(_prepare)(L_ *l)
{
	size_t i, HN = (size_t)l->cfg.H * l->cfg.N;

	for (i = 0; i < ssm_s4d_nparams(&l->cfg); i++)
		if (!isfinite(l->params[i]))
			return SSM_ENONFINITE;
	disc_at(l, 1.0, l->dA_re, l->dA_im, l->G_re, l->G_im);
#ifdef SCAN_PACK
	SCAN_PACK(l->cfg.H, l->cfg.N, l->dA_re, l->dA_im, l->G_re, l->G_im,
		  l->pk);
#endif
#ifdef DISC_FAST
	fast_cache(l);
#endif
	for (i = 0; i < (size_t)l->cfg.H * l->cfg.H; i++)
		l->W_outT[(i % l->cfg.H) * l->cfg.H + i / l->cfg.H] =
		    l->p.W_out[i];
	for (i = 0; i < HN; i++)
		if (!isfinite(l->dA_re[i]) || !isfinite(l->dA_im[i]) ||
		    !isfinite(l->G_re[i]) || !isfinite(l->G_im[i]))
			return SSM_ENONFINITE;
	return 0;
}

int FN(_init)(L_ *l, const ssm_s4d_cfg *cfg, ssm_rng *rng)
{
	size_t np, HN;
	double *are = NULL, *aim = NULL, *bre = NULL, *bim = NULL;
	double lo, hi, bound;
	int H, N, n, h, rc;

	memset(l, 0, sizeof(*l));
	if (ssm_s4d_cfg_check(cfg))
		return SSM_EINVAL;
	l->cfg = *cfg;
	if (l->cfg.dt_min == 0.0 && l->cfg.dt_max == 0.0) {
		l->cfg.dt_min = 1e-3;
		l->cfg.dt_max = 1e-1;
	}
	H = l->cfg.H;
	N = l->cfg.N;
	HN = (size_t)H * N;
	np = ssm_s4d_nparams(&l->cfg);
	/* + 16: room to start the packed copy on a 64-byte line (vector
	 * loads that straddle lines cost the kernel about a third more). */
	l->params =
	    calloc(np + 4 * HN + (size_t)H * H + SCAN_PACK_SIZE(H, N) + 16,
		   sizeof(real));
	are = calloc(4 * (size_t)N, sizeof(double));
#ifdef DISC_FAST
	l->fdt = calloc(1, ((size_t)H + HN) * sizeof(double) +
			       2 * HN * sizeof(real));
	if (!l->fdt) {
		rc = SSM_ENOMEM;
		goto fail;
	}
	l->fare = l->fdt + H;
	l->fW = (real *)(l->fare + HN);
#endif
	if (!l->params || !are) {
		rc = SSM_ENOMEM;
		goto fail;
	}
	aim = are + N;
	bre = aim + N;
	bim = bre + N;
	FN(_carve)(&l->cfg, l->params, &l->p);
	l->dA_re = l->params + np;
	l->dA_im = l->dA_re + HN;
	l->G_re = l->dA_im + HN;
	l->G_im = l->G_re + HN;
	l->W_outT = l->G_im + HN;
	l->pk = NULL;
	if (SCAN_PACK_SIZE(H, N)) {
		uintptr_t e = (uintptr_t)(l->W_outT + (size_t)H * H);

		l->pk = l->W_outT + (size_t)H * H +
			(((64 - e % 64) % 64) / sizeof(real));
	}

	for (n = 0; n < N; n++) {
		bre[n] = 1.0;
		bim[n] = 0.0;
		switch (l->cfg.init) {
		case SSM_S4D_LIN:
			are[n] = -0.5;
			aim[n] = M_PI * n;
			break;
		case SSM_S4D_INV:
			are[n] = -0.5;
			aim[n] = N / M_PI * ((double)N / (2 * n + 1) - 1.0);
			break;
		case SSM_S4D_REAL:
			are[n] = -(n + 1.0);
			aim[n] = 0.0;
			break;
		default:
			break;
		}
	}
	if (l->cfg.init == SSM_S4D_LEGS) {
		rc = ssm_hippo_legs_diag(N, are, aim, bre, bim);
		if (rc)
			goto fail;
	}
	lo = log(l->cfg.dt_min);
	hi = log(l->cfg.dt_max);
	bound = 1.0 / sqrt((double)H);
	for (h = 0; h < H; h++) {
		l->p.norm_w[h] = 1;
		l->p.log_dt[h] = (real)(lo + (hi - lo) * ssm_rng_uniform(rng));
	}
	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			l->p.log_A_re[i] = (real)log(-are[n]);
			l->p.A_im[i] = (real)aim[n];
			l->p.B_re[i] = (real)bre[n];
			l->p.B_im[i] = (real)bim[n];
			l->p.C_re[i] = (real)(ssm_rng_normal(rng) * M_SQRT1_2);
			l->p.C_im[i] = (real)(ssm_rng_normal(rng) * M_SQRT1_2);
		}
	for (h = 0; h < H; h++)
		l->p.D[h] = (real)ssm_rng_normal(rng);
	for (h = 0; h < H * H; h++)
		l->p.W_out[h] =
		    (real)(bound * (2.0 * ssm_rng_uniform(rng) - 1.0));
	free(are);
	rc = FN(_prepare)(l);
	if (rc)
		FN(_release)(l);
	return rc;
fail:
	free(are);
	FN(_release)(l);
	return rc;
}

void FN(_release)(L_ *l)
{
	free(l->params);
	free(l->fdt);
	memset(l, 0, sizeof(*l));
}

size_t FN(_workspace_bytes)(const ssm_s4d_cfg *cfg, int B)
{
	size_t HN = (size_t)cfg->H * cfg->N;

	/* xn and v/a [B][H], one on-the-fly discretization [4][N][H] and its
	 * scratch [4][N][H]. */
	return (2 * (size_t)B * cfg->H + 8 * HN) * sizeof(real);
}

/* y = u + b (the residual and the bias, before the projection adds in). */
static void add_bias(int H, const real *u, const real *b, real *y)
{
	int h;

	for (h = 0; h < H; h++)
		y[h] = u[h] + b[h];
}

/*
 * The recurrence for one sample on the folded state (s4d.h): s (x_re [N][H],
 * x_im [N][H]) advances in place, x = dA x + G xn; v[h] = 2 Re(sum_n x) +
 * D xn. Loops run over h innermost so they vectorize and the sum over n
 * keeps one fixed order.
 */
#ifdef SCAN_KERNEL
/* The float build's kernel (ssm/kern.h): the same operations in the same
 * order as the loop below, with the sums kept in registers. */
static void scan1(const L_ *l, const real *dAr, const real *dAi, const real *Gr,
		  const real *Gi, real *s, const real *xn, real *v)
{
	/* The cached gap-1 discretization has a packed copy (l->pk). */
	SCAN_KERNEL(l->cfg.H, l->cfg.N, dAr == l->dA_re ? l->pk : NULL, dAr,
		    dAi, Gr, Gi, l->p.D, s, xn, v);
}
#else
SSM__HOT static void scan1(const L_ *l, const real *restrict dAr,
			   const real *restrict dAi, const real *restrict Gr,
			   const real *restrict Gi, real *restrict s,
			   const real *restrict xn, real *restrict v)
{
	int H = l->cfg.H, N = l->cfg.N, n, h;
	size_t HN = (size_t)H * N;
	/* restrict: state, scratch and weights never overlap, which lets the
	 * compiler keep the loop vectorized without runtime alias checks. */
	real *restrict sr = s, *restrict si = s + HN;

	for (h = 0; h < H; h++)
		v[h] = 0;
	for (n = 0; n < N; n++) {
		size_t o = (size_t)n * H;
		for (h = 0; h < H; h++) {
			size_t i = o + h;
			real xr =
			    dAr[i] * sr[i] - dAi[i] * si[i] + Gr[i] * xn[h];
			real xi =
			    dAr[i] * si[i] + dAi[i] * sr[i] + Gi[i] * xn[h];
			sr[i] = xr;
			si[i] = xi;
			v[h] += xr;
		}
	}
	for (h = 0; h < H; h++)
		v[h] = 2 * v[h] + l->p.D[h] * xn[h];
}
#endif

/*
 * ZOH at an integer gap g without transcendentals: g steps of the gap-1
 * system with the input held are dA_g = dA^g and G_g = (sum_{k<g} dA^k) G
 * (exactly ZOH at g dt). Binary powering of the pair (P, S) = (dA^m,
 * sum_{k<m} dA^k), composed as (P1 P2, S1 + P1 S2): O(log g) complex
 * products per mode, each pass an elementwise loop over all modes so it
 * vectorizes. Outputs dA, G [N][H] each; t scratch [4][N][H].
 */
SSM__HOT static void disc_pow(const L_ *l, long g, real *restrict pr,
			      real *restrict pi, real *restrict sr,
			      real *restrict si, real *restrict t)
{
	size_t HN = (size_t)l->cfg.H * l->cfg.N, i;
	real *restrict br = t, *restrict bi = t + HN, *restrict cr = t + 2 * HN,
		       *restrict ci = t + 3 * HN;
	long e = g;

	/* (P, S) = (1, 0); base (B, C) = (dA, 1). */
	for (i = 0; i < HN; i++) {
		pr[i] = 1;
		pi[i] = 0;
		sr[i] = 0;
		si[i] = 0;
		br[i] = l->dA_re[i];
		bi[i] = l->dA_im[i];
		cr[i] = 1;
		ci[i] = 0;
	}
	while (e) {
		if (e & 1)
			for (i = 0; i < HN; i++) {
				/* (P, S) <- (P B, S + P C) */
				real nsr =
				    sr[i] + pr[i] * cr[i] - pi[i] * ci[i];
				real nsi =
				    si[i] + pr[i] * ci[i] + pi[i] * cr[i];
				real npr = pr[i] * br[i] - pi[i] * bi[i];
				real npi = pr[i] * bi[i] + pi[i] * br[i];
				sr[i] = nsr;
				si[i] = nsi;
				pr[i] = npr;
				pi[i] = npi;
			}
		e >>= 1;
		if (e)
			for (i = 0; i < HN; i++) {
				/* (B, C) <- (B^2, C + B C) */
				real ncr =
				    cr[i] + br[i] * cr[i] - bi[i] * ci[i];
				real nci =
				    ci[i] + br[i] * ci[i] + bi[i] * cr[i];
				real nbr = br[i] * br[i] - bi[i] * bi[i];
				real nbi = 2 * br[i] * bi[i];
				cr[i] = ncr;
				ci[i] = nci;
				br[i] = nbr;
				bi[i] = nbi;
			}
	}
	/* G_g = S G_1 (C dB_g = C S dB_1 = S G_1). */
	for (i = 0; i < HN; i++) {
		real r = sr[i] * l->G_re[i] - si[i] * l->G_im[i];
		real m = sr[i] * l->G_im[i] + si[i] * l->G_re[i];
		sr[i] = r;
		si[i] = m;
	}
}

/* The discretization at a gap other than 1 into dws (dA, G [4][N][H],
 * then scratch [4][N][H]): integer gaps under ZOH by powering, others by
 * DISC_FAST where the float build has it and the gap is in its range,
 * else the closed forms in double. */
static void disc_gap(const L_ *l, double gap, real *dws)
{
	size_t HN = (size_t)l->cfg.H * l->cfg.N;

	if (l->cfg.disc == SSM_DISC_ZOH && gap == floor(gap) && gap >= 2 &&
	    gap <= 1048576) {
		disc_pow(l, (long)gap, dws, dws + HN, dws + 2 * HN,
			 dws + 3 * HN, dws + 4 * HN);
		return;
	}
#ifdef DISC_FAST
	if (!DISC_FAST(l->cfg.H, l->cfg.N, l->cfg.disc == SSM_DISC_ZOH, gap,
		       l->fdt, l->fare, l->p.A_im, l->fW, l->fW + HN, l->fzmax,
		       dws, dws + HN, dws + 2 * HN, dws + 3 * HN, dws + 4 * HN))
		return;
#endif
	disc_at(l, gap, dws, dws + HN, dws + 2 * HN, dws + 3 * HN);
}

/* Scan one series' sample at its gap (cached discretization for gap 1). */
static void scan_gap(const L_ *l, double gap, real *s, const real *xn, real *v,
		     real *dws)
{
	size_t HN = (size_t)l->cfg.H * l->cfg.N;

	if (gap == 1.0) {
		scan1(l, l->dA_re, l->dA_im, l->G_re, l->G_im, s, xn, v);
		return;
	}
	disc_gap(l, gap, dws);
	scan1(l, dws, dws + HN, dws + 2 * HN, dws + 3 * HN, s, xn, v);
}

/* M rows (series or time): a = SiLU(v) in place, then y = u + b + a W^T as
 * one GEMM, the only matrix product of the block. The batched step's rows
 * (step, any M) take SMALL_GEMM, the float build's ssm__gemm_rows_t
 * (OpenBLAS's bits at M = 8 at a third of its instructions, and a row's
 * result whatever M: ssm/kern_gemv.c), where its shape allows; the
 * sequence forward keeps the GEMM, so training computes what it did. */
static void out_proj(const L_ *l, int M, const real *u, real *a, real *y,
		     int step)
{
	int H = l->cfg.H, m;

	SILU_VEC(a, a, M * H);
	for (m = 0; m < M; m++)
		add_bias(H, u + (size_t)m * H, l->p.b_out, y + (size_t)m * H);
#ifdef SMALL_GEMM
	if (step && SMALL_GEMM_FITS(H)) {
		SMALL_GEMM(M, H, H, l->W_outT, a, H, y, H, 1);
		return;
	}
#endif
	(void)step;
	GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, M, H, H, 1, a, H,
	     l->p.W_out, H, 1, y, H);
}

void FN(_step)(const L_ *l, real *state, double gap, const real *u, real *y,
	       void *ws)
{
	int H = l->cfg.H;
	real *xn = ws, *v = xn + H, *dws = v + H;

	rmsnorm(H, u, l->p.norm_w, xn);
	scan_gap(l, gap, state, xn, v, dws);
	SILU_VEC(v, v, H);
	add_bias(H, u, l->p.b_out, y);
#ifdef SMALL_GEMV
	SMALL_GEMV(H, H, l->W_outT, v, y);
#else
	GEMV(CblasRowMajor, CblasNoTrans, H, H, 1, l->p.W_out, H, v, 1, 1, y,
	     1);
#endif
}

void FN(_step_batch)(const L_ *l, int B, real *const *states,
		     const double *gaps, const real *u, real *y, void *ws)
{
	int H = l->cfg.H, b;
	real *xn = ws, *a = xn + (size_t)B * H, *dws = a + (size_t)B * H;

	for (b = 0; b < B; b++) {
		size_t o = (size_t)b * H;
		rmsnorm(H, u + o, l->p.norm_w, xn + o);
		scan_gap(l, gaps ? gaps[b] : 1.0, states[b], xn + o, a + o,
			 dws);
	}
	out_proj(l, B, u, a, y, 1);
}

/* Saved activations, in order: state0 [S], rinv [T], xn [T][H],
 * xs [T][S] (state after each sample), v [T][H], a [T][H]; S = 2 N H. */
size_t FN(_acts_size)(const ssm_s4d_cfg *cfg, int T)
{
	size_t S = ssm_s4d_state_size(cfg), H = (size_t)cfg->H;

	return S + (size_t)T * (1 + 3 * H + S);
}

size_t FN(_seq_workspace_bytes)(const ssm_s4d_cfg *cfg, int T)
{
	size_t HN = (size_t)cfg->H * cfg->N, H = (size_t)cfg->H;

	/* forward: one discretization and its scratch [8][N][H]; backward:
	 * da, dv, dxn [T][H], the carry gx and the accumulated dA, G
	 * gradients (complex) [6][N][H], one discretization [4][N][H] and
	 * one step's own gradients [4][N][H] (also the discretization's
	 * scratch). */
	return (3 * (size_t)T * H + 14 * HN) * sizeof(real);
}

void FN(_forward)(const L_ *l, int T, real *state, const double *gaps,
		  const real *u, real *y, real *acts, void *ws)
{
	int H = l->cfg.H, t;
	size_t S = ssm_s4d_state_size(&l->cfg);
	real *state0 = acts, *rinv = state0 + S, *xn = rinv + T,
	     *xs = xn + (size_t)T * H, *v = xs + (size_t)T * S,
	     *a = v + (size_t)T * H;

	memcpy(state0, state, S * sizeof(real));
	for (t = 0; t < T; t++) {
		size_t o = (size_t)t * H;
		rinv[t] = rmsnorm(H, u + o, l->p.norm_w, xn + o);
		scan_gap(l, gaps ? gaps[t] : 1.0, state, xn + o, v + o, ws);
		memcpy(xs + (size_t)t * S, state, S * sizeof(real));
	}
	memcpy(a, v, (size_t)T * H * sizeof(real));
	out_proj(l, T, u, a, y, 0);
}

/* Chain the gradient of one mode's (dA, G) at step dt into the continuous
 * parameters (holomorphic derivatives from ssm_disc_mode). */
static void chain_mode(const L_ *l, FN(_tensors) * g, int n, int h, double gap,
		       double complex gdA, double complex gG)
{
	const FN(_tensors) *p = &l->p;
	size_t i = (size_t)n * l->cfg.H + h;
	double are = -exp((double)p->log_A_re[i]);
	double complex a = are + I * (double)p->A_im[i];
	double complex B = (double)p->B_re[i] + I * (double)p->B_im[i];
	double complex C = (double)p->C_re[i] + I * (double)p->C_im[i];
	double dt = exp((double)p->log_dt[h]) * gap;
	double complex dA, E, d[4], gE, gB, ga, gdB, gC;
	double gdt;

	ssm_disc_mode(l->cfg.disc, a, dt, &dA, &E, d);
	/* G = C dB, dB = E B; for real L and holomorphic f,
	 * g_w = g_f conj(f'(w)). */
	gC = gG * conj(E * B);
	gdB = gG * conj(C);
	gB = gdB * conj(E);
	gE = gdB * conj(B);
	ga = gdA * conj(d[0]) + gE * conj(d[2]);
	gdt = creal(gdA * conj(d[1])) + creal(gE * conj(d[3]));
	g->C_re[i] += (real)creal(gC);
	g->C_im[i] += (real)cimag(gC);
	g->B_re[i] += (real)creal(gB);
	g->B_im[i] += (real)cimag(gB);
	g->log_A_re[i] += (real)(creal(ga) * are);
	g->A_im[i] += (real)cimag(ga);
	g->log_dt[h] += (real)(gdt * dt);
}

/*
 * One reverse step over all modes at time t (folded state, s4d.h). On
 * entry gx = dL/dx_t from the later samples; the direct term of v_t =
 * 2 Re(sum x_t) + ... is added, then the step's gradients go to dxn_t and
 * (gA, gG) (the gradients of this step's dA, G, accumulated), and gx
 * becomes dL/dx_{t-1} = gx conj(dA). Complex gradients are g = dL/dRe +
 * i dL/dIm.
 */
SSM__HOT static void back_step(const L_ *l, const real *restrict dAr,
			       const real *restrict dAi,
			       const real *restrict Gr, const real *restrict Gi,
			       const real *restrict xp, const real *restrict xn,
			       const real *restrict dv, real *restrict dxn,
			       real *restrict gxr, real *restrict gxi,
			       real *restrict gAr, real *restrict gAi,
			       real *restrict gGr, real *restrict gGi)
{
	int H = l->cfg.H, N = l->cfg.N, n, h;
	size_t HN = (size_t)H * N;

	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			real x = xn[h];
			real gr = gxr[i] + 2 * dv[h], gi = gxi[i];
			/* x_t = dA x_{t-1} + G xn_t. */
			dxn[h] += gr * Gr[i] + gi * Gi[i];
			gAr[i] += gr * xp[i] + gi * xp[HN + i];
			gAi[i] += gi * xp[i] - gr * xp[HN + i];
			gGr[i] += gr * x;
			gGi[i] += gi * x;
			gxr[i] = gr * dAr[i] + gi * dAi[i];
			gxi[i] = gi * dAr[i] - gr * dAi[i];
		}
}

void FN(_backward)(const L_ *l, int T, const double *gaps, const real *u,
		   const real *acts, const real *dy, real *du, real *grads,
		   void *ws)
{
	int H = l->cfg.H, N = l->cfg.N, t, n, h;
	size_t S = ssm_s4d_state_size(&l->cfg), HN = (size_t)H * N;
	const real *state0 = acts, *rinv = state0 + S, *xn = rinv + T,
		   *xs = xn + (size_t)T * H, *v = xs + (size_t)T * S;
	const real *a = v + (size_t)T * H;
	real *da = ws, *dv = da + (size_t)T * H, *dxn = dv + (size_t)T * H;
	real *gxr = dxn + (size_t)T * H, *gxi = gxr + HN, *gAr = gxi + HN,
	     *gAi = gAr + HN, *gGr = gAi + HN, *gGi = gGr + HN;
	/* tdA then tg: the discretization's scratch is tg's space, which
	 * is cleared after it. */
	real *tdA = gGi + HN, *tg = tdA + 4 * HN;
	FN(_tensors) g;
	const FN(_tensors) *p = &l->p;

	FN(_carve)(&l->cfg, grads, &g);
	/* y = u + a W^T + b: dW += dy^T a, db += sum dy, da = dy W. */
	GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, T, 1, dy, H, a, H,
	     1, g.W_out, H);
	GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, H, H, 1, dy, H,
	     p->W_out, H, 0, da, H);
	for (t = 0; t < T; t++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)t * H + h;
			real vv = v[i], sg = 1 / (1 + EXP(-vv));
			g.b_out[h] += dy[i];
			dv[i] = da[i] * sg * (1 + vv * (1 - sg));
			g.D[h] += dv[i] * xn[i];
			dxn[i] = dv[i] * p->D[h];
		}
	memset(gxr, 0, 6 * HN * sizeof(real));
	/* Reverse scan, time outermost so every pass is a contiguous,
	 * vectorizable loop over all modes. */
	for (t = T - 1; t >= 0; t--) {
		double gap = gaps ? gaps[t] : 1.0;
		const real *xp = t ? xs + (size_t)(t - 1) * S : state0;
		size_t o = (size_t)t * H, i;

		if (gap == 1.0) {
			back_step(l, l->dA_re, l->dA_im, l->G_re, l->G_im, xp,
				  xn + o, dv + o, dxn + o, gxr, gxi, gAr, gAi,
				  gGr, gGi);
			continue;
		}
		/* Rare: this sample's own discretization (the forward's);
		 * its (dA, G) gradients are chained at its gap right away. */
		disc_gap(l, gap, tdA);
		memset(tg, 0, 4 * HN * sizeof(real));
		back_step(l, tdA, tdA + HN, tdA + 2 * HN, tdA + 3 * HN, xp,
			  xn + o, dv + o, dxn + o, gxr, gxi, tg, tg + HN,
			  tg + 2 * HN, tg + 3 * HN);
		for (i = 0; i < HN; i++)
			chain_mode(l, &g, (int)(i / H), (int)(i % H), gap,
				   tg[i] + I * tg[HN + i],
				   tg[2 * HN + i] + I * tg[3 * HN + i]);
	}
	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			chain_mode(l, &g, n, h, 1.0, gAr[i] + I * gAi[i],
				   gGr[i] + I * gGi[i]);
		}
	for (t = 0; t < T; t++) {
		size_t o = (size_t)t * H;
		rmsnorm_backward(H, u + o, p->norm_w, rinv[t], dxn + o, dy + o,
				 du + o, g.norm_w);
	}
}

#undef L_
#undef FN
