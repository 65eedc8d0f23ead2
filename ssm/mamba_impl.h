/*
 * ssm/mamba_impl.h: the Mamba block written once over `real` (see
 * ssm/mamba.h). Included by ssm/mamba.c (float) and ssm/mamba64.c (double),
 * each defining real, SSM_MAMBA_NAME(x), GEMM, GEMV, EXP_VEC(x, y, n),
 * SILU_VEC(x, y, n), SOFTPLUS_VEC(x, y, n), EXP(x); the float build also
 * SMALL_GEMV, SMALL_GEMM and SMALL_GEMM_FITS (ssm/layer.h), SCAN_KERNEL and
 * CONV_KERNEL (ssm/kern.h). No
 * include guard on purpose.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/rmsnorm_impl.h"
#include "ssm/simd.h"

#define L_ SSM_MAMBA_NAME()
#define FN SSM_MAMBA_NAME

/* D model, Di inner, Ns state, K conv, R dt rank, P = R + 2 Ns. */
typedef struct dims {
	int D, Di, Ns, K, R, P;
} dims;

static dims dims_of(const ssm_mamba_cfg *cfg)
{
	ssm_mamba_cfg cc = *cfg, *c = &cc;
	dims d;

	ssm_mamba_cfg_fill(c);

	d.D = c->d_model;
	d.Di = c->expand * c->d_model;
	d.Ns = c->d_state;
	d.K = c->d_conv;
	d.R = c->dt_rank;
	d.P = d.R + 2 * d.Ns;
	return d;
}

void FN(_carve)(const ssm_mamba_cfg *cfg, real *base, FN(_tensors) * t)
{
	ssm_tensor_info info[SSM_MAMBA_NTENSORS];
	real **slot[SSM_MAMBA_NTENSORS] = {
	    &t->norm_w, &t->W_in, &t->conv_w, &t->conv_b, &t->W_x,
	    &t->W_dt,	&t->b_dt, &t->A_log,  &t->Dskip,  &t->W_out};
	int i;

	ssm_mamba_tensors_info(cfg, info);
	for (i = 0; i < SSM_MAMBA_NTENSORS; i++)
		*slot[i] = base + info[i].offset;
}

/* WT [cols][rows] = W [rows][cols]^T. */
static void transpose(int rows, int cols, const real *W, real *WT)
{
	int r, c;

	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			WT[(size_t)c * rows + r] = W[(size_t)r * cols + c];
}

int FN(_prepare)(L_ *l)
{
	dims d = dims_of(&l->cfg);
	size_t i, np = ssm_mamba_nparams(&l->cfg);
	int n, c;

	for (i = 0; i < np; i++)
		if (!isfinite(l->params[i]))
			return SSM_ENONFINITE;
	for (c = 0; c < d.Di; c++)
		l->Amax[c] = 0;
	for (n = 0; n < d.Ns; n++)
		for (c = 0; c < d.Di; c++) {
			real a = -EXP(l->p.A_log[(size_t)c * d.Ns + n]);
			l->AT[(size_t)n * d.Di + c] = a;
			l->AL[(size_t)n * d.Di + c] =
			    (real)((double)a * 1.4426950408889634);
			if (-a > l->Amax[c])
				l->Amax[c] = -a;
		}
	transpose(d.Di, d.K, l->p.conv_w, l->conv_wT);
	transpose(2 * d.Di, d.D, l->p.W_in, l->W_inT);
	transpose(d.P, d.Di, l->p.W_x, l->W_xT);
	transpose(d.Di, d.R, l->p.W_dt, l->W_dtT);
	transpose(d.D, d.Di, l->p.W_out, l->W_outT);
	return 0;
}

static void fill_uniform(ssm_rng *rng, real *x, size_t n, double bound)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (real)(bound * (2.0 * ssm_rng_uniform(rng) - 1.0));
}

int FN(_init)(L_ *l, const ssm_mamba_cfg *cfg, ssm_rng *rng)
{
	ssm_mamba_cfg c = *cfg;
	size_t np;
	dims d;
	int i, n, rc;

	memset(l, 0, sizeof(*l));
	if (ssm_mamba_cfg_fill(&c))
		return SSM_EINVAL;
	l->cfg = c;
	d = dims_of(&c);
	np = ssm_mamba_nparams(&c);
	l->params = calloc(np + (size_t)(2 * d.Ns + d.K + 1) * d.Di +
			       (size_t)(2 * d.D + d.P + d.R + d.D) * d.Di,
			   sizeof(real));
	if (!l->params)
		return SSM_ENOMEM;
	FN(_carve)(&c, l->params, &l->p);
	l->AT = l->params + np;
	l->conv_wT = l->AT + (size_t)d.Ns * d.Di;
	l->W_inT = l->conv_wT + (size_t)d.K * d.Di;
	l->W_xT = l->W_inT + (size_t)2 * d.D * d.Di;
	l->W_dtT = l->W_xT + (size_t)d.P * d.Di;
	l->W_outT = l->W_dtT + (size_t)d.R * d.Di;
	l->Amax = l->W_outT + (size_t)d.D * d.Di;
	l->AL = l->Amax + d.Di;
	for (i = 0; i < d.D; i++)
		l->p.norm_w[i] = 1;
	fill_uniform(rng, l->p.W_in, (size_t)2 * d.Di * d.D, 1 / sqrt(d.D));
	fill_uniform(rng, l->p.conv_w, (size_t)d.Di * d.K, 1 / sqrt(d.K));
	fill_uniform(rng, l->p.conv_b, (size_t)d.Di, 1 / sqrt(d.K));
	fill_uniform(rng, l->p.W_x, (size_t)d.P * d.Di, 1 / sqrt(d.Di));
	fill_uniform(rng, l->p.W_dt, (size_t)d.Di * d.R, 1 / sqrt(d.R));
	for (i = 0; i < d.Di; i++) {
		/* dt log-uniform, floored, stored as softplus^-1(dt). */
		double lo = log(c.dt_min), hi = log(c.dt_max);
		double dt = exp(lo + (hi - lo) * ssm_rng_uniform(rng));
		dt = fmax(dt, 1e-4);
		l->p.b_dt[i] = (real)(dt + log(-expm1(-dt)));
		l->p.Dskip[i] = 1;
		for (n = 0; n < d.Ns; n++)
			l->p.A_log[(size_t)i * d.Ns + n] = (real)log(n + 1.0);
	}
	fill_uniform(rng, l->p.W_out, (size_t)d.D * d.Di, 1 / sqrt(d.Di));
	rc = FN(_prepare)(l);
	if (rc)
		FN(_release)(l);
	return rc;
}

void FN(_release)(L_ *l)
{
	free(l->params);
	memset(l, 0, sizeof(*l));
}

/* The slope of softplus, thresholded as the reference (p > 20: 1). */
static real softplus_grad(real p)
{
	return p > 20 ? 1 : 1 / (1 + EXP(-p));
}

/* out[M][O] (row stride ldo) = beta out + in[M][In] (stride ldi) W^T, W
 * [O][In], WT its transpose [In][Out]. One series: the float build's small
 * loop over WT (a BLAS call costs more than the work here) or GEMV; a batch
 * or a sequence: one GEMM. */
static void proj(int M, int O, int In, const real *in, int ldi, const real *W,
		 const real *WT, real beta, real *out, int ldo)
{
	if (M == 1) {
		/* Do not trust BLAS to ignore garbage (NaN) when beta = 0. */
		if (beta == 0)
			memset(out, 0, (size_t)O * sizeof(real));
#ifdef SMALL_GEMV
		(void)W;
		SMALL_GEMV(In, O, WT, in, out);
#else
		(void)WT;
		GEMV(CblasRowMajor, CblasNoTrans, O, In, 1, W, In, in, 1, 1,
		     out, 1);
#endif
	} else {
		GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, M, O, In, 1, in,
		     ldi, W, In, beta, out, ldo);
	}
}

/* proj for the step's rows (step_rows): a batch (_step_batch, any M) takes
 * SMALL_GEMM, the float build's ssm__gemm_rows_t (OpenBLAS's bits at M = 8
 * at a third of its instructions, and a row's result whatever M:
 * ssm/kern_gemv.c), where its shape allows; the single step (_step) keeps
 * proj's GEMV and the sequence forward its GEMM, so they compute what they
 * did. */
static void step_proj(int batch, int M, int O, int In, const real *in, int ldi,
		      const real *W, const real *WT, real beta, real *out,
		      int ldo)
{
#ifdef SMALL_GEMM
	if (batch && SMALL_GEMM_FITS(In)) {
		(void)W;
		SMALL_GEMM(M, In, O, WT, in, ldi, out, ldo, beta != 0);
		return;
	}
#endif
	(void)batch;
	proj(M, O, In, in, ldi, W, WT, beta, out, ldo);
}

/* Causal depthwise conv of one sample: xc = conv_b + sum_k w_k x_{t-K+1+k}
 * (k ascending), then the window (state head) shifts in x. */
SSM__HOT static void conv_step(const L_ *l, const dims *d, real *restrict win,
			       const real *restrict x, real *restrict xc)
{
	int Di = d->Di, K = d->K, k, c;
	const real *restrict w = l->conv_wT;

#ifdef CONV_KERNEL
	/* The float build's kernel: the same operations, in registers. */
	CONV_KERNEL(Di, K, l->p.conv_b, w, win, x, xc);
	return;
#endif
	for (c = 0; c < Di; c++)
		xc[c] = l->p.conv_b[c];
	for (k = 0; k < K - 1; k++)
		for (c = 0; c < Di; c++)
			xc[c] +=
			    w[(size_t)k * Di + c] * win[(size_t)k * Di + c];
	for (c = 0; c < Di; c++)
		xc[c] += w[(size_t)(K - 1) * Di + c] * x[c];
	if (K > 1) {
		memmove(win, win + Di, (size_t)(K - 2) * Di * sizeof(real));
		memcpy(win + (size_t)(K - 2) * Di, x,
		       (size_t)Di * sizeof(real));
	}
}

/* The selective scan for one sample: h [Ns][Di] in place; E scratch
 * [Ns][Di]; yc = h^T C + Dskip xs. */
SSM__HOT static void scan_step(const L_ *l, const dims *d, real *restrict h,
			       const real *restrict dt, const real *restrict Bv,
			       const real *restrict Cv, const real *restrict xs,
			       real *restrict E, real *restrict yc)
{
	/* restrict: state, scratch and activations never overlap, so the
	 * loops vectorize without runtime alias checks. */
	const real *restrict AT = l->AT;
	int Di = d->Di, Ns = d->Ns, n, c;
	size_t NDi = (size_t)Ns * Di, i;

#ifdef SCAN_KERNEL
	/* The float build's fused pass (ssm/kern.h: its own exponential,
	 * rounding-level differences); it declines (-1) when some dt A could
	 * leave [-86, 0]. */
	if (SCAN_KERNEL(Di, Ns, l->AL, l->Amax, h, dt, Bv, Cv, xs, l->p.Dskip,
			yc) == 0)
		return;
#endif
	for (n = 0; n < Ns; n++)
		for (c = 0; c < Di; c++)
			E[(size_t)n * Di + c] = dt[c] * AT[(size_t)n * Di + c];
	EXP_VEC(E, E, (int)NDi);
	for (c = 0; c < Di; c++)
		yc[c] = 0;
	for (n = 0; n < Ns; n++) {
		real b = Bv[n], cc = Cv[n];
		for (c = 0; c < Di; c++) {
			i = (size_t)n * Di + c;
			h[i] = E[i] * h[i] + b * dt[c] * xs[c];
			yc[c] += cc * h[i];
		}
	}
	for (c = 0; c < Di; c++)
		yc[c] += l->p.Dskip[c] * xs[c];
}

/* dt [Di] = softplus(b_dt + W_dt r) * gap for one sample, r = its dbc row's
 * first R reals. A row at a time, as the single step: W_dt has only R
 * (ceil(D / 16)) columns, so a GEMM across rows is mostly call and packing
 * overhead, and row by row the batched step runs it just before the row's
 * scan, with the row in L1. */
static void dt_row(const L_ *l, const dims *d, const real *r, double gap,
		   real *pre, real *dt)
{
	real g = (real)gap;
	int c;

	memcpy(pre, l->p.b_dt, (size_t)d->Di * sizeof(real));
	proj(1, d->Di, d->R, r, d->P, l->p.W_dt, l->W_dtT, 1, pre, d->Di);
	SOFTPLUS_VEC(pre, dt, d->Di);
	if (g != 1)
		for (c = 0; c < d->Di; c++)
			dt[c] *= g;
}

/* g [M][Di] = yc * SiLU(z), z the second half of each xz row. */
static void gate_rows(const dims *d, int M, const real *xz, const real *yc,
		      real *g)
{
	int m;
	size_t i, n = (size_t)d->Di;

	for (m = 0; m < M; m++)
		memcpy(g + m * n, xz + m * 2 * n + n, n * sizeof(real));
	SILU_VEC(g, g, M * d->Di);
	for (i = 0; i < (size_t)M * n; i++)
		g[i] *= yc[i];
}

/* y [M][D] = u + g W_out^T (step_proj: batch as there). u is copied a row at a
 * time: one memcpy of a whole batch (8 KB at B = 64) takes glibc's rep movsb
 * path, which cost more than the projection on the AMD EPYC of
 * bench/results/ssm.md (5% of the batched step); rows of D reals stay on its
 * vector loop. */
static void out_rows(const L_ *l, const dims *d, int M, const real *u,
		     const real *g, real *y, int batch)
{
	size_t D = (size_t)d->D;
	int m;

	for (m = 0; m < M; m++)
		memcpy(y + m * D, u + m * D, D * sizeof(real));
	step_proj(batch, M, d->D, d->Di, g, d->Di, l->p.W_out, l->W_outT, 1, y,
		  d->D);
}

/* The tile of _step_batch (ssm/mamba.h). At the bench's size (450 reals of
 * activations and 1216 of state per series) a tile of 64 holds about 420 KB:
 * a batch of up to 64 runs in one piece as before, its states staying in a
 * 512 KB L2 from step to step. The next tile's states, prefetched during
 * this tile's scan, evict the lines used longest ago: the states of series
 * this step has finished with. Measured on the bench's EPYC (minimum of 8
 * interleaved runs, ns per sample at B = 1024): untiled 1429, tiles of 32
 * 1322, of 64 1225; tiles of 16 were slower at B = 64. */
#define TILE SSM_MAMBA_TILE

size_t FN(_workspace_bytes)(const ssm_mamba_cfg *cfg, int B)
{
	dims d = dims_of(cfg);

	if (B > TILE)
		B = TILE;

	/* xn [B][D], xz [B][2Di], xs, pre, dt, yc [B][Di], dbc [B][P],
	 * E [Ns][Di]. */
	return ((size_t)B * (d.D + 6 * d.Di + d.P) + (size_t)d.Ns * d.Di) *
	       sizeof(real);
}

/* Ask for n reals at p to be brought into the cache for writing. At large
 * batches the states live in L3 or memory; the batched step asks for the
 * next tile's states during this tile's scan (a scan per series, some
 * 400 ns, covers the 76 lines of a series' state at the bench's size) and,
 * within a tile, for the conv window two series ahead. Not for the next
 * series' h within a tile: where the states are in L2 already (B = 64), that
 * burst of 64 prefetches per series cost some 8% of the step. */
static void prefetch(const real *p, size_t n)
{
	const char *c = (const char *)p, *e = (const char *)(p + n);

	for (; c < e; c += 64)
		__builtin_prefetch(c, 1, 3);
}

/* M series, one sample each: the body of _step (M = 1, batch 0) and of
 * each tile of _step_batch (batch 1: step_proj). */
static void step_rows(const L_ *l, int batch, int M, real *const *states,
		      const double *gaps, const real *u, real *y, void *ws,
		      real *const *next, int nnext)
{
	dims d = dims_of(&l->cfg);
	size_t Di = (size_t)d.Di, win = (size_t)(d.K - 1) * Di;
	size_t S = ssm_mamba_state_size(&l->cfg);
	real *xn = ws, *xz = xn + (size_t)M * d.D, *xs = xz + 2 * M * Di;
	real *pre = xs + M * Di, *dt = pre + M * Di, *yc = dt + M * Di;
	real *dbc = yc + M * Di, *E = dbc + (size_t)M * d.P;
	int m;

	for (m = 0; m < M; m++)
		rmsnorm(d.D, u + (size_t)m * d.D, l->p.norm_w,
			xn + (size_t)m * d.D);
	step_proj(batch, M, 2 * d.Di, d.D, xn, d.D, l->p.W_in, l->W_inT, 0, xz,
		  2 * d.Di);
	for (m = 0; m < M; m++) {
		if (m + 2 < M)
			prefetch(states[m + 2], win);
		conv_step(l, &d, states[m], xz + 2 * m * Di, xs + m * Di);
	}
	SILU_VEC(xs, xs, M * d.Di);
	step_proj(batch, M, d.P, d.Di, xs, d.Di, l->p.W_x, l->W_xT, 0, dbc,
		  d.P);
	for (m = 0; m < M; m++) {
		const real *r = dbc + (size_t)m * d.P;
		dt_row(l, &d, r, gaps ? gaps[m] : 1.0, pre + m * Di,
		       dt + m * Di);
		if (m < nnext)
			prefetch(next[m], S);
		scan_step(l, &d, states[m] + win, dt + m * Di, r + d.R,
			  r + d.R + d.Ns, xs + m * Di, E, yc + m * Di);
	}
	gate_rows(&d, M, xz, yc, pre);
	out_rows(l, &d, M, u, pre, y, batch);
}

void FN(_step)(const L_ *l, real *state, double gap, const real *u, real *y,
	       void *ws)
{
	step_rows(l, 0, 1, &state, &gap, u, y, ws, NULL, 0);
}

void FN(_step_batch)(const L_ *l, int B, real *const *states,
		     const double *gaps, const real *u, real *y, void *ws)
{
	size_t D = (size_t)l->cfg.d_model;
	int b, M;

	for (b = 0; b < B; b += TILE) {
		M = B - b < TILE ? B - b : TILE;
		step_rows(l, 1, M, states + b, gaps ? gaps + b : NULL,
			  u + (size_t)b * D, y + (size_t)b * D, ws,
			  states + b + M, B - b - M < TILE ? B - b - M : TILE);
	}
}

/* Saved activations, in order (S = state size, P = R + 2 Ns):
 * state0 [S], rinv [T], xn [T][D], xz [T][2Di], xs [T][Di], dbc [T][P],
 * pre [T][Di], dt [T][Di], hs [T][Ns][Di], yc [T][Di], g [T][Di]. */
typedef struct acts_view {
	real *state0, *rinv, *xn, *xz, *xs, *dbc, *pre, *dt, *hs, *yc, *g;
} acts_view;

static acts_view acts_carve(const ssm_mamba_cfg *cfg, int T, const real *a)
{
	dims d = dims_of(cfg);
	size_t t = (size_t)T, Di = (size_t)d.Di;
	acts_view v;

	v.state0 = (real *)a;
	v.rinv = v.state0 + ssm_mamba_state_size(cfg);
	v.xn = v.rinv + t;
	v.xz = v.xn + t * d.D;
	v.xs = v.xz + 2 * t * Di;
	v.dbc = v.xs + t * Di;
	v.pre = v.dbc + t * d.P;
	v.dt = v.pre + t * Di;
	v.hs = v.dt + t * Di;
	v.yc = v.hs + t * d.Ns * Di;
	v.g = v.yc + t * Di;
	return v;
}

size_t FN(_acts_size)(const ssm_mamba_cfg *cfg, int T)
{
	dims d = dims_of(cfg);

	return ssm_mamba_state_size(cfg) +
	       (size_t)T *
		   (1 + d.D + 7 * (size_t)d.Di + d.P + (size_t)d.Ns * d.Di);
}

size_t FN(_seq_workspace_bytes)(const ssm_mamba_cfg *cfg, int T)
{
	dims d = dims_of(cfg);
	size_t t = (size_t)T, Di = (size_t)d.Di;

	/* backward: dg, dxs, dxc, dpre [T][Di], dxz [T][2Di], ddbc [T][P],
	 * dxn [T][D], window gradient [T+K-1][Di], gh and E [Ns][Di],
	 * ddt [Di];
	 * forward needs only E [Ns][Di]. */
	return (t * (6 * Di + d.P + d.D) + (t + d.K - 1) * Di +
		2 * (size_t)d.Ns * Di + Di) *
	       sizeof(real);
}

void FN(_forward)(const L_ *l, int T, real *state, const double *gaps,
		  const real *u, real *y, real *acts, void *ws)
{
	dims d = dims_of(&l->cfg);
	acts_view a = acts_carve(&l->cfg, T, acts);
	size_t S = ssm_mamba_state_size(&l->cfg), Di = (size_t)d.Di,
	       win = (size_t)(d.K - 1) * Di, NDi = (size_t)d.Ns * Di;
	int t;

	memcpy(a.state0, state, S * sizeof(real));
	for (t = 0; t < T; t++)
		a.rinv[t] = rmsnorm(d.D, u + (size_t)t * d.D, l->p.norm_w,
				    a.xn + (size_t)t * d.D);
	proj(T, 2 * d.Di, d.D, a.xn, d.D, l->p.W_in, l->W_inT, 0, a.xz,
	     2 * d.Di);
	for (t = 0; t < T; t++)
		conv_step(l, &d, state, a.xz + 2 * t * Di, a.xs + t * Di);
	SILU_VEC(a.xs, a.xs, T * d.Di);
	proj(T, d.P, d.Di, a.xs, d.Di, l->p.W_x, l->W_xT, 0, a.dbc, d.P);
	for (t = 0; t < T; t++) {
		const real *r = a.dbc + (size_t)t * d.P;
		dt_row(l, &d, r, gaps ? gaps[t] : 1.0, a.pre + t * Di,
		       a.dt + t * Di);
		scan_step(l, &d, state + win, a.dt + t * Di, r + d.R,
			  r + d.R + d.Ns, a.xs + t * Di, ws, a.yc + t * Di);
		memcpy(a.hs + t * NDi, state + win, NDi * sizeof(real));
	}
	gate_rows(&d, T, a.xz, a.yc, a.g);
	out_rows(l, &d, T, u, a.g, y, 0);
}

/* dA += dY^T X for row-major Y [M][O] (stride ldy), X [M][In] (stride ldx):
 * the weight gradient of a projection. */
static void wgrad(int M, int O, int In, const real *dY, int ldy, const real *X,
		  int ldx, real *dW)
{
	GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, O, In, M, 1, dY, ldy, X,
	     ldx, 1, dW, In);
}

/* dX [M][In] (stride ldx) = beta dX + dY [M][O] W, W [O][In]. */
static void igrad(int M, int O, int In, const real *dY, int ldy, const real *W,
		  real beta, real *dX, int ldx)
{
	GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, In, O, 1, dY, ldy, W,
	     In, beta, dX, ldx);
}

/* Row j of the conv input [initial window (K-1 rows); x_0 .. x_{T-1}]. */
static const real *conv_row(const acts_view *a, const dims *d, size_t j)
{
	size_t Di = (size_t)d->Di, w = (size_t)d->K - 1;

	return j < w ? a->state0 + j * Di : a->xz + 2 * (j - w) * Di;
}

static real silu_grad(real v)
{
	real s = 1 / (1 + EXP(-v));

	return s * (1 + v * (1 - s));
}

void FN(_backward)(const L_ *l, int T, const double *gaps, const real *u,
		   const real *acts, const real *dy, real *du, real *grads,
		   void *ws)
{
	dims d = dims_of(&l->cfg);
	acts_view a = acts_carve(&l->cfg, T, acts);
	const FN(_tensors) *p = &l->p;
	size_t Di = (size_t)d.Di, t_ = (size_t)T, NDi = (size_t)d.Ns * Di;
	size_t win = (size_t)(d.K - 1) * Di;
	real *dg = ws, *dxs = dg + t_ * Di, *dxc = dxs + t_ * Di;
	real *dpre = dxc + t_ * Di, *dxz = dpre + t_ * Di;
	real *ddbc = dxz + 2 * t_ * Di, *dxn = ddbc + t_ * d.P;
	real *dX = dxn + t_ * d.D, *gh = dX + (t_ + d.K - 1) * Di;
	real *ddt = gh + NDi, *Et = ddt + Di;
	FN(_tensors) g;
	int t, c, n, k;

	FN(_carve)(&l->cfg, grads, &g);
	/* out = u + g W_out^T. */
	wgrad(T, d.D, d.Di, dy, d.D, a.g, d.Di, g.W_out);
	igrad(T, d.D, d.Di, dy, d.D, p->W_out, 0, dg, d.Di);
	/* g = yc SiLU(z): dyc -> dg in place, dz into dxz's second half. */
	for (t = 0; t < T; t++)
		for (c = 0; c < d.Di; c++) {
			size_t i = (size_t)t * Di + c;
			real z = a.xz[2 * t * Di + Di + c];
			real sz = z / (1 + EXP(-z));
			dxz[2 * t * Di + Di + c] =
			    dg[i] * a.yc[i] * silu_grad(z);
			dg[i] *= sz;
		}
	/* Reverse selective scan; gh carries dL/dh. */
	memset(gh, 0, NDi * sizeof(real));
	memset(ddbc, 0, t_ * d.P * sizeof(real));
	for (t = T - 1; t >= 0; t--) {
		const real *dyc = dg + t * Di, *xs = a.xs + t * Di;
		const real *dt = a.dt + t * Di, *ht = a.hs + t * NDi;
		const real *hp = t ? ht - NDi : a.state0 + win;
		const real *Bv = a.dbc + (size_t)t * d.P + d.R, *Cv = Bv + d.Ns;
		real *dB = ddbc + (size_t)t * d.P + d.R, *dC = dB + d.Ns;
		real gap = (real)(gaps ? gaps[t] : 1.0);

		/* E = exp(dt A) for this sample, vectorized as the forward. */
		for (n = 0; n < d.Ns; n++)
			for (c = 0; c < d.Di; c++)
				Et[(size_t)n * Di + c] =
				    dt[c] * l->AT[(size_t)n * Di + c];
		EXP_VEC(Et, Et, (int)NDi);
		for (c = 0; c < d.Di; c++) {
			g.Dskip[c] += dyc[c] * xs[c];
			dxs[t * Di + c] = dyc[c] * p->Dskip[c];
			ddt[c] = 0;
		}
		for (n = 0; n < d.Ns; n++)
			for (c = 0; c < d.Di; c++) {
				size_t i = (size_t)n * Di + c;
				real A = l->AT[i], E = Et[i];
				real gdA, gdB;
				gh[i] += dyc[c] * Cv[n];
				dC[n] += dyc[c] * ht[i];
				/* h = E hp + dt B xs, E = exp(dt A). */
				gdA = gh[i] * hp[i];
				gdB = gh[i] * xs[c];
				ddt[c] += gdA * E * A + gdB * Bv[n];
				g.A_log[(size_t)c * d.Ns + n] +=
				    gdA * E * dt[c] * A;
				dB[n] += gdB * dt[c];
				dxs[t * Di + c] += gh[i] * dt[c] * Bv[n];
				gh[i] *= E;
			}
		for (c = 0; c < d.Di; c++) {
			size_t i = (size_t)t * Di + c;
			dpre[i] = ddt[c] * gap * softplus_grad(a.pre[i]);
			g.b_dt[c] += dpre[i];
		}
	}
	/* pre = b_dt + r W_dt^T with r = dbc[:, :R]. */
	wgrad(T, d.Di, d.R, dpre, d.Di, a.dbc, d.P, g.W_dt);
	igrad(T, d.Di, d.R, dpre, d.Di, p->W_dt, 0, ddbc, d.P);
	/* dbc = xs W_x^T. */
	wgrad(T, d.P, d.Di, ddbc, d.P, a.xs, d.Di, g.W_x);
	igrad(T, d.P, d.Di, ddbc, d.P, p->W_x, 1, dxs, d.Di);
	/* xs = SiLU(xc), xc = conv of the window rows t..t+K-1 (recomputed
	 * in the forward's order: cheaper than saving it). */
	memset(dX, 0, (t_ + d.K - 1) * Di * sizeof(real));
	for (t = 0; t < T; t++) {
		for (c = 0; c < d.Di; c++) {
			real v = p->conv_b[c];
			for (k = 0; k < d.K; k++)
				v += p->conv_w[(size_t)c * d.K + k] *
				     conv_row(&a, &d, (size_t)t + k)[c];
			dxc[t * Di + c] = dxs[t * Di + c] * silu_grad(v);
		}
		for (k = 0; k < d.K; k++) {
			size_t row = (size_t)t + k;
			const real *x = conv_row(&a, &d, row);
			for (c = 0; c < d.Di; c++) {
				real gx = dxc[t * Di + c];
				g.conv_w[(size_t)c * d.K + k] += gx * x[c];
				dX[row * Di + c] +=
				    gx * p->conv_w[(size_t)c * d.K + k];
			}
		}
		for (c = 0; c < d.Di; c++)
			g.conv_b[c] += dxc[t * Di + c];
	}
	/* dx_t = dX[K-1+t] (the initial window's share is dropped: TBPTT). */
	for (t = 0; t < T; t++)
		memcpy(dxz + 2 * t * Di, dX + (t + d.K - 1) * Di,
		       Di * sizeof(real));
	/* xz = xn W_in^T. */
	wgrad(T, 2 * d.Di, d.D, dxz, 2 * d.Di, a.xn, d.D, g.W_in);
	igrad(T, 2 * d.Di, d.D, dxz, 2 * d.Di, p->W_in, 0, dxn, d.D);
	for (t = 0; t < T; t++) {
		size_t o = (size_t)t * d.D;
		rmsnorm_backward(d.D, u + o, p->norm_w, a.rinv[t], dxn + o,
				 dy + o, du + o, g.norm_w);
	}
}

#undef L_
#undef FN
#undef TILE
