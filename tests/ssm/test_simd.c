/*
 * tests/ssm/test_simd.c: the AVX2 (x86-64-v3) clones of the elementwise and
 * step kernels give the same bits as the baseline build (ssm/simd.h's promise,
 * which keeps results reproducible across machines). This file compiles
 * ssm/vmath.c and ssm/kern_*.c a second time without clones, under other
 * names, and compares the two on the same inputs. On a machine without AVX2
 * both are the baseline and that part holds trivially.
 *
 * It also holds the step kernels (ssm/kern.h) to their other promise: the
 * same bits as their plain loops, written out here: the S4D scan as
 * ssm/s4d_impl.h has it, the Mamba scan as ssm/mamba_impl.h's loops with
 * its fused multiply-adds (fmaf) and its own base-2 exponential, which is
 * held to 1.5 ulp of exp2, and through the layer's A log2 e to exp(dt A).
 */
#define SSM_NO_CLONES
#define ssm_expf_vec	    base_expf_vec
#define ssm_silu_vec	    base_silu_vec
#define ssm_softplus_vec    base_softplus_vec
#define ssm__gemv_t	    base_gemv_t
#define ssm__gemm_rows_t    base_gemm_rows_t
#define ssm__exp_vec64	    base_exp_vec64
#define ssm__silu_vec64	    base_silu_vec64
#define ssm__softplus_vec64 base_softplus_vec64
#define ssm__s4d_scan_f32   base_s4d_scan_f32
#define ssm__s4d_pack_f32   base_s4d_pack_f32
#define ssm__s4d_pack_size  base_s4d_pack_size
#define ssm__mamba_scan_f32 base_mamba_scan_f32
#define ssm__mamba_conv_f32 base_mamba_conv_f32
#define ssm__exp2f_neg_vec  base_exp2f_neg_vec
#define ssm__nonfinite_any  base_nonfinite_any
#define ssm__clampf_vec	    base_clampf_vec
#define ssm__serve_q3_loop  base_serve_q3_loop
#define ssm__serve_q3_h1    base_serve_q3_h1
#define ssm__serve_q3_exp   base_serve_q3_exp
#define ssm__front_gaps	    base_front_gaps
#define ssm__front_gaps_vec base_front_gaps_vec
#include "ssm/kern_check.c"
#include "ssm/kern_front.c"
#include "ssm/kern_gemv.c"
#include "ssm/kern_mamba.c"
#include "ssm/kern_s4d.c"
#include "ssm/kern_serve.c"
#include "ssm/vmath.c"
#undef ssm_expf_vec
#undef ssm_silu_vec
#undef ssm_softplus_vec
#undef ssm__gemv_t
#undef ssm__gemm_rows_t
#undef ssm__s4d_scan_f32
#undef ssm__s4d_pack_f32
#undef ssm__s4d_pack_size
#undef ssm__mamba_scan_f32
#undef ssm__mamba_conv_f32
#undef ssm__exp2f_neg_vec
#undef ssm__nonfinite_any
#undef ssm__clampf_vec
#undef ssm__serve_q3_loop
#undef ssm__serve_q3_h1
#undef ssm__serve_q3_exp
#undef ssm__front_gaps
#undef ssm__front_gaps_vec

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/rng.h"
#include "tests/harness.h"

/* The library's (possibly AVX2) versions, under their real names. */
void ssm_expf_vec(const float *x, float *y, int n);
void ssm_silu_vec(const float *x, float *y, int n);
void ssm_softplus_vec(const float *x, float *y, int n);
void ssm__gemv_t(int In, int Out, const float *WT, const float *x, float *y);
void ssm__gemm_rows_t(int M, int In, int Out, const float *WT, const float *x,
		      int ldx, float *y, int ldy, int beta);
void ssm__clampf_vec(const float *x, float *y, int n);
int ssm__front_gaps_vec(const double *q, int nh, int Q, double sc, float *gap);
/* ssm/kern.h once more, now declaring the real names. */
#undef STATECAST_SSM_KERN_H
#include "ssm/kern.h"

static void test_same_bits(void)
{
	enum { n = 1 << 16 };
	float *x = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
	float *b = malloc(sizeof(float) * n);
	ssm_rng r;
	int i;

	ssm_rng_init(&r, 3);
	for (i = 0; i < n; i++)
		x[i] = (float)(200.0 * ssm_rng_uniform(&r) - 100.0);
	ssm_expf_vec(x, a, n);
	base_expf_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	ssm_silu_vec(x, a, n);
	base_silu_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	ssm_softplus_vec(x, a, n);
	base_softplus_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	memset(a, 0, sizeof(float) * 64);
	memset(b, 0, sizeof(float) * 64);
	ssm__gemv_t(100, 64, x, x + 10000, a);
	base_gemv_t(100, 64, x, x + 10000, b);
	CHECK(memcmp(a, b, sizeof(float) * 64) == 0);
	free(x);
	free(a);
	free(b);
}

static void fill(ssm_rng *r, float *x, size_t n, double lo, double hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (float)(lo + (hi - lo) * ssm_rng_uniform(r));
}

/* The projection: every shape class (blocks of 32, 16, 8, the tail read 8
 * wide, the narrow tail) against the plain sum in index order. */
static void test_gemv_plain(void)
{
	/* Every block class and their mixes: 64, 32, 16, 8 outputs a pass and
	 * the last Out % 8 (144: the fc head's two of 64 and one of 16). */
	static const int outs[] = {1,  2,  3,  5,  7,  8,   9,	 13,  16,  24,
				   32, 34, 36, 48, 64, 100, 128, 131, 144, 211};
	float WT[64 * 211], x[64], a[211], b[211], c[211];
	ssm_rng r;
	size_t k;
	int In, o, i, same = 1;

	ssm_rng_init(&r, 5);
	for (k = 0; k < sizeof(outs) / sizeof(outs[0]); k++)
		for (In = 1; In <= 64; In += 21) {
			int Out = outs[k];

			fill(&r, WT, (size_t)In * Out, -1, 1);
			fill(&r, x, (size_t)In, -1, 1);
			fill(&r, a, (size_t)Out, -1, 1);
			memcpy(b, a, sizeof(float) * Out);
			memcpy(c, a, sizeof(float) * Out);
			ssm__gemv_t(In, Out, WT, x, a);
			base_gemv_t(In, Out, WT, x, c);
			for (o = 0; o < Out; o++)
				for (i = 0; i < In; i++)
					b[o] = b[o] + x[i] * WT[i * Out + o];
			same &= !memcmp(a, b, sizeof(float) * Out);
			same &= !memcmp(a, c, sizeof(float) * Out);
		}
	CHECK(same);
}

/* The batched step's projection (ssm__gemm_rows_t) against its plain
 * twin: outputs of the blocks of 8 sum even and odd inputs in two fused
 * chains from +0, then add them, then the old y or +0; the last Out % 8 one
 * chain. Every block class (32, 16, 8, tail), odd and even In, beta 0 and
 * 1, row strides wider than the rows. Against cblas_sgemm: the same bits
 * where OpenBLAS runs its Haswell kernel (corename Haswell or Zen, this
 * project's machines) and the shape fits (ssm__gemm_rows_fits), which is
 * why the step may use it; a rounding-level difference anywhere else. */
static int gemm_rows_case(ssm_rng *r, int M, int In, int Out, int beta,
			  int exact)
{
	enum { LDX = 72, LDY = 140 };
	static float WT[72 * 131], W[131 * 72], x[8 * LDX];
	static float y0[8 * LDY], a[8 * LDY], b[8 * LDY], c[8 * LDY],
	    g[8 * LDY];
	int m, o, i, ok = 1;

	fill(r, WT, (size_t)In * Out, -1, 1);
	fill(r, x, (size_t)M * LDX, -3, 3);
	fill(r, y0, (size_t)M * LDY, -10, 10);
	for (i = 0; i < In; i++)
		for (o = 0; o < Out; o++)
			W[o * In + i] = WT[i * Out + o];
	memcpy(a, y0, sizeof a);
	memcpy(b, y0, sizeof b);
	memcpy(c, y0, sizeof c);
	memcpy(g, y0, sizeof g);
	ssm__gemm_rows_t(M, In, Out, WT, x, LDX, a, LDY, beta);
	base_gemm_rows_t(M, In, Out, WT, x, LDX, c, LDY, beta);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, Out, In, 1, x,
		    LDX, W, In, (float)beta, g, LDY);
	for (m = 0; m < M; m++)
		for (o = 0; o < Out; o++) {
			const float *xr = x + m * LDX;
			float e = 0.0f, d = 0.0f, *yo = b + m * LDY + o;

			for (i = 0; i < In; i++) {
				float *ch = o < Out / 8 * 8 && i % 2 ? &d : &e;

				*ch = fmaf(xr[i], WT[i * Out + o], *ch);
			}
			*yo = e + d + (beta ? *yo : 0.0f);
		}
	ok &= !memcmp(a, b, sizeof a);
	ok &= !memcmp(a, c, sizeof a);
	for (m = 0; m < M; m++)
		for (o = 0; o < Out; o++) {
			float u = a[m * LDY + o], v = g[m * LDY + o];

			if (exact)
				ok &= !memcmp(&u, &v, sizeof u);
			else
				ok &= fabsf(u - v) <= 1e-5f * (fabsf(v) + 1);
		}
	return ok;
}

static void test_gemm_rows(void)
{
	static const int outs[] = {1,  3,  7,  8,  9,  16,  17,
				   24, 32, 33, 48, 64, 100, 131};
	static const int ins[] = {1, 2, 3, 8, 15, 16, 17, 32, 33, 64, 72};
	const char *core = openblas_get_corename();
	int haswell =
	    core && (!strcmp(core, "Haswell") || !strcmp(core, "Zen"));
	ssm_rng r;
	size_t k, j;
	int M, beta, bad = 0;

	ssm_rng_init(&r, 11);
	for (k = 0; k < sizeof(outs) / sizeof(outs[0]); k++)
		for (j = 0; j < sizeof(ins) / sizeof(ins[0]); j++)
			for (M = 1; M <= 8; M += 7)
				for (beta = 0; beta < 2; beta++)
					bad += !gemm_rows_case(
					    &r, M, ins[j], outs[k], beta,
					    haswell && M == 8 &&
						ssm__gemm_rows_fits(ins[j]));
	CHECK_EQ_INT(bad, 0);
}

/* The Mamba conv kernel against mamba_impl.h's plain conv_step (written
 * out here) and the baseline clone: the same bits, window included, for
 * channel blocks of 16, 8 and a scalar tail and windows of 1 to 5. */
static void test_mamba_conv(void)
{
	static const int dis[] = {1, 7, 8, 16, 24, 32, 37};
	float b[37], wT[5 * 37], x[37], w0[4 * 37], wa[4 * 37], wb[4 * 37],
	    wc[4 * 37], xa[37], xb[37], xcv[37];
	ssm_rng r;
	size_t j;
	int K, Di, k, c, same = 1;

	ssm_rng_init(&r, 13);
	for (j = 0; j < sizeof(dis) / sizeof(dis[0]); j++)
		for (K = 1; K <= 5; K++) {
			Di = dis[j];
			fill(&r, b, (size_t)Di, -1, 1);
			fill(&r, wT, (size_t)K * Di, -1, 1);
			fill(&r, x, (size_t)Di, -3, 3);
			fill(&r, w0, (size_t)(K - 1) * Di, -3, 3);
			memcpy(wa, w0, sizeof w0);
			memcpy(wb, w0, sizeof w0);
			memcpy(wc, w0, sizeof w0);
			ssm__mamba_conv_f32(Di, K, b, wT, wa, x, xa);
			base_mamba_conv_f32(Di, K, b, wT, wc, x, xcv);
			for (c = 0; c < Di; c++) {
				xb[c] = b[c];
				for (k = 0; k < K - 1; k++)
					xb[c] +=
					    wT[k * Di + c] * wb[k * Di + c];
				xb[c] += wT[(K - 1) * Di + c] * x[c];
			}
			if (K > 1) {
				memmove(wb, wb + Di,
					sizeof(float) * (size_t)(K - 2) * Di);
				memcpy(wb + (K - 2) * Di, x,
				       sizeof(float) * (size_t)Di);
			}
			same &= !memcmp(xa, xb, sizeof(float) * Di);
			same &= !memcmp(xa, xcv, sizeof(float) * Di);
			same &= !memcmp(wa, wb, sizeof w0);
			same &= !memcmp(wa, wc, sizeof w0);
		}
	CHECK(same);
}

/* S4D step kernel (folded state) vs the plain loop of s4d_impl.h, unpacked
 * and packed, for H with blocks of 16, of 8 and a scalar tail. */
static void test_s4d_scan(void)
{
	static const int Hs[] = {32, 24, 5, 19};
	ssm_rng r;
	size_t k;
	int same = 1;

	ssm_rng_init(&r, 6);
	for (k = 0; k < sizeof(Hs) / sizeof(Hs[0]); k++) {
		int H = Hs[k], N = 7, n, h, t, j;
		size_t HN = (size_t)H * N, S = 2 * HN, i;
		float *p = malloc(sizeof(float) * (4 * HN + 8 * S + 5 * 32));
		float *dAr = p, *dAi = p + HN, *Gr = p + 2 * HN,
		      *Gi = p + 3 * HN, *pk = p + 4 * HN, *st = pk + S * 2;
		float *D = st + 4 * S, *xn = D + 32, *v[4];

		for (j = 0; j < 4; j++)
			v[j] = xn + 32 * (j + 1);
		fill(&r, p, 4 * HN, -0.9, 0.9);
		fill(&r, D, (size_t)H, -1, 1);
		memset(st, 0, sizeof(float) * 4 * S);
		ssm__s4d_pack_f32(H, N, dAr, dAi, Gr, Gi, pk);
		for (t = 0; t < 20; t++) {
			float *sr = st, *si = st + HN;

			fill(&r, xn, (size_t)H, -2, 2);
			ssm__s4d_scan_f32(H, N, NULL, dAr, dAi, Gr, Gi, D,
					  st + S, xn, v[1]);
			ssm__s4d_scan_f32(H, N, pk, dAr, dAi, Gr, Gi, D,
					  st + 2 * S, xn, v[2]);
			base_s4d_scan_f32(H, N, pk, dAr, dAi, Gr, Gi, D,
					  st + 3 * S, xn, v[3]);
			for (h = 0; h < H; h++)
				v[0][h] = 0;
			for (n = 0; n < N; n++)
				for (h = 0; h < H; h++) {
					float xr, xi;
					i = (size_t)n * H + h;
					xr = dAr[i] * sr[i] - dAi[i] * si[i] +
					     Gr[i] * xn[h];
					xi = dAr[i] * si[i] + dAi[i] * sr[i] +
					     Gi[i] * xn[h];
					sr[i] = xr;
					si[i] = xi;
					v[0][h] += xr;
				}
			for (h = 0; h < H; h++)
				v[0][h] = 2 * v[0][h] + D[h] * xn[h];
			for (j = 1; j < 4; j++) {
				same &= !memcmp(v[0], v[j], sizeof(float) * H);
				same &=
				    !memcmp(st, st + j * S, sizeof(float) * S);
			}
		}
		free(p);
	}
	CHECK(same);
}

/* The fused scan's exponential: the same bits from the x86-64-v3 clone and
 * the baseline, and within 1.5 ulp of exp2 (double libm) on random
 * arguments in [-124, 0], the ends, dense near 0, near -124 and around the
 * rounding points k + 1/2 of the reduction. */
static void test_exp2_neg(void)
{
	enum { n = 1 << 20 };
	float *x = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
	float *c = malloc(sizeof(float) * n);
	double worst = 0;
	ssm_rng r;
	int i;

	ssm_rng_init(&r, 7);
	fill(&r, x, n, -124, 0);
	for (i = 0; i < 4096; i++) {
		x[i] = -(float)i * 1e-6f;
		x[4096 + i] = -124.0f + (float)i * 1e-5f;
		x[8192 + i] =
		    -(float)(i % 124) - 0.5f + (float)(i / 124) * 3e-7f - 5e-6f;
	}
	x[12288] = -0.0f;
	x[12289] = -124.0f;
	ssm__exp2f_neg_vec(x, a, n - 3);
	base_exp2f_neg_vec(x, c, n - 3);
	CHECK(memcmp(a, c, sizeof(float) * (n - 3)) == 0);
	for (i = 0; i < n - 3; i++) {
		float e = (float)exp2((double)x[i]);
		double ulp = (double)nextafterf(e, INFINITY) - e;
		double err = fabs((double)a[i] - exp2((double)x[i])) / ulp;

		if (err > worst)
			worst = err;
	}
	CHECK(worst <= 1.5);
	CHECK(a[12288] == 1.0f);
	free(x);
	free(a);
	free(c);
}

/* The scan's dA against exp(dt A) in double, through the layer's cache
 * AL = A log2 e rounded once: within 1.5 ulp plus the 2^-23 |dt A| relative
 * that rounding t = dt AL twice costs (at most 2^-24 |t| each, 1/ln 2
 * larger in t than in dt A, times ln 2 back), over the scan's range of
 * dt A, [-86, 0]. */
static void test_exp_dtA(void)
{
	enum { n = 1 << 18 };
	float *t = malloc(sizeof(float) * n), *e = malloc(sizeof(float) * n);
	float *A = malloc(sizeof(float) * n), *dt = malloc(sizeof(float) * n);
	double worst = 0;
	ssm_rng r;
	int i;

	ssm_rng_init(&r, 9);
	fill(&r, A, n, -16, -0.01);
	for (i = 0; i < n; i++) {
		/* dt log-uniform in [1e-4, 86 / |A|]. */
		double hi = log(86.0 / -A[i]), lo = log(1e-4);
		dt[i] = (float)exp(lo + (hi - lo) * ssm_rng_uniform(&r));
		if (dt[i] * -A[i] > 86.0f)
			dt[i] = 86.0f / -A[i] * 0.999f;
		t[i] = dt[i] * (float)((double)A[i] * 1.4426950408889634);
	}
	ssm__exp2f_neg_vec(t, e, n);
	for (i = 0; i < n; i++) {
		double x = (double)dt[i] * (double)A[i], ex = exp(x);
		float ef = (float)ex;
		double ulp = (double)nextafterf(ef, INFINITY) - ef;
		double err = fabs((double)e[i] - ex) / ex -
			     ldexp(fabs(x), -23) * 1.0000001;

		if (err / (ulp / ex) > worst)
			worst = err / (ulp / ex);
	}
	CHECK(worst <= 1.5);
	free(t);
	free(e);
	free(A);
	free(dt);
}

/* The Mamba scan as its reference loops: the kernel's exponentials into a
 * buffer, then the update and the readout with fmaf (plain: mamba_impl.h's
 * fallback, ssm_expf_vec and separate roundings). */
static void mamba_plain(int Di, int Ns, const float *AT, const float *AL,
			float *h, const float *dt, const float *Bv,
			const float *Cv, const float *xs, const float *Dskip,
			float *yc, int fused)
{
	float E[64 * 9] = {0};
	int n, c;

	for (n = 0; n < Ns; n++)
		for (c = 0; c < Di; c++)
			E[n * Di + c] = dt[c] * (fused ? AL : AT)[n * Di + c];
	if (fused)
		ssm__exp2f_neg_vec(E, E, Ns * Di);
	else
		ssm_expf_vec(E, E, Ns * Di);
	for (c = 0; c < Di; c++)
		yc[c] = 0;
	for (n = 0; n < Ns; n++)
		for (c = 0; c < Di; c++) {
			int i = n * Di + c;
			if (fused) {
				h[i] =
				    fmaf(E[i], h[i], Bv[n] * (dt[c] * xs[c]));
				yc[c] = fmaf(Cv[n], h[i], yc[c]);
			} else {
				h[i] = E[i] * h[i] + Bv[n] * dt[c] * xs[c];
				yc[c] += Cv[n] * h[i];
			}
		}
	for (c = 0; c < Di; c++)
		yc[c] += Dskip[c] * xs[c];
}

static void test_mamba_scan(void)
{
	static const int Dis[] = {64, 40, 3};
	enum { Ns = 9 };
	float AT[64 * Ns], AL[64 * Ns], Amax[64], h1[64 * Ns], h2[64 * Ns];
	float h3[64 * Ns];
	float dt[64], Bv[Ns], Cv[Ns], xs[64], Dk[64], y1[64], y2[64], y3[64];
	ssm_rng r;
	size_t k;
	int same = 1, t, c, n;

	ssm_rng_init(&r, 8);
	for (k = 0; k < sizeof(Dis) / sizeof(Dis[0]); k++) {
		int Di = Dis[k];

		fill(&r, AT, (size_t)Di * Ns, -16, -0.5);
		for (c = 0; c < Di * Ns; c++)
			AL[c] = (float)((double)AT[c] * 1.4426950408889634);
		for (c = 0; c < Di; c++) {
			Amax[c] = 0;
			for (n = 0; n < Ns; n++)
				if (-AT[n * Di + c] > Amax[c])
					Amax[c] = -AT[n * Di + c];
		}
		fill(&r, Dk, (size_t)Di, -1, 1);
		memset(h1, 0, sizeof(h1));
		memset(h2, 0, sizeof(h2));
		memset(h3, 0, sizeof(h3));
		for (t = 0; t < 20; t++) {
			/* dt up to 5.3 keeps dt Amax <= 86 (the kernel's
			 * domain) for the first steps, not all. */
			fill(&r, dt, (size_t)Di, 1e-4, t < 10 ? 5.3 : 6.0);
			fill(&r, Bv, Ns, -1, 1);
			fill(&r, Cv, Ns, -1, 1);
			fill(&r, xs, (size_t)Di, -2, 2);
			int fused = !ssm__mamba_scan_f32(
			    Di, Ns, AL, Amax, h1, dt, Bv, Cv, xs, Dk, y1);

			mamba_plain(Di, Ns, AT, AL, h2, dt, Bv, Cv, xs, Dk, y2,
				    fused);
			if (!fused) {
				/* Declined: the state is untouched; the
				 * caller's plain path takes the step. */
				CHECK(t >= 10);
				mamba_plain(Di, Ns, AT, AL, h1, dt, Bv, Cv, xs,
					    Dk, y1, 0);
			}
			if (base_mamba_scan_f32(Di, Ns, AL, Amax, h3, dt, Bv,
						Cv, xs, Dk, y3))
				mamba_plain(Di, Ns, AT, AL, h3, dt, Bv, Cv, xs,
					    Dk, y3, 0);
			same &= !memcmp(y1, y2, sizeof(float) * Di);
			same &= !memcmp(h1, h2, sizeof(float) * Di * Ns);
			same &= !memcmp(y1, y3, sizeof(float) * Di);
			same &= !memcmp(h1, h3, sizeof(float) * Di * Ns);
		}
		/* NaN dt: declined. */
		dt[Di - 1] = NAN;
		CHECK(ssm__mamba_scan_f32(Di, Ns, AL, Amax, h1, dt, Bv, Cv, xs,
					  Dk, y1) == -1);
	}
	CHECK(same);
}

/* ssm__nonfinite_any on both builds: yes exactly when one of the floats
 * is Inf or NaN (either sign, any payload), at every position and length
 * around the vector widths; finite extremes (FLT_MAX, denormals, -0) no. */
static void test_nonfinite_any(void)
{
	static const uint32_t bad[] = {0x7f800000u, 0xff800000u, 0x7fc00000u,
				       0xffc00001u, 0x7f800001u};
	static const uint32_t good[] = {0x7f7fffffu, 0xff7fffffu, 0x00000001u,
					0x80000000u, 0x3f800000u};
	float x[40];
	int n, p, j, errs = 0;

	for (n = 0; n <= 40; n++) {
		for (p = 0; p < n; p++)
			memcpy(&x[p], &good[p % 5], sizeof x[p]);
		errs += base_nonfinite_any(x, (size_t)n) != 0;
		errs += ssm__nonfinite_any(x, (size_t)n) != 0;
		for (p = 0; p < n; p++)
			for (j = 0; j < 5; j++) {
				float keep = x[p];

				memcpy(&x[p], &bad[j], sizeof x[p]);
				errs += base_nonfinite_any(x, (size_t)n) == 0;
				errs += ssm__nonfinite_any(x, (size_t)n) == 0;
				x[p] = keep;
			}
	}
	CHECK_EQ_INT(errs, 0);
}

/* ssm__clampf_vec (the head's log-gaps before their exponential): the clone
 * and the baseline give ssm__clampf's bits, at every length (the vector
 * body and its tail), for NaN, the infinities, -0 and values at and just
 * past the bounds +-8. */
static void test_clampf_vec(void)
{
	static const float special[] = {
	    NAN,       -NAN,	   INFINITY, -INFINITY, -0.0f,
	    0.0f,      8.0f,	   -8.0f,    8.000001f, -8.000001f,
	    7.999999f, -7.999999f, 1e30f,    -1e30f,	0.5f};
	enum { NS = sizeof special / sizeof special[0], N = 77 };
	float x[N], a[N], b[N], c[N];
	int n, i, errs = 0;
	ssm_rng r;

	ssm_rng_init(&r, 9);
	for (i = 0; i < N; i++)
		x[i] = i % 3 ? special[i % NS]
			     : (float)(20.0 * ssm_rng_uniform(&r) - 10.0);
	for (n = 0; n <= N; n++) {
		ssm__clampf_vec(x, a, n);
		base_clampf_vec(x, b, n);
		for (i = 0; i < n; i++) {
			c[i] = ssm__clampf(x[i]);
			errs += memcmp(&a[i], &c[i], sizeof a[i]) != 0;
			errs += memcmp(&b[i], &c[i], sizeof b[i]) != 0;
		}
	}
	memcpy(a, x, sizeof a); /* in place */
	ssm__clampf_vec(a, a, N);
	for (i = 0; i < N; i++) {
		c[i] = ssm__clampf(x[i]);
		errs += memcmp(&a[i], &c[i], sizeof a[i]) != 0;
	}
	CHECK_EQ_INT(errs, 0);
}

/* True when the float at *p still holds the byte pattern fill left. */
static int untouched(const float *p, unsigned char fill)
{
	const unsigned char *b = (const unsigned char *)p;
	size_t i;

	for (i = 0; i < sizeof *p; i++)
		if (b[i] != fill)
			return 0;
	return 1;
}

/* The front's base gaps: the vector kernel, clone and baseline, does the
 * blocks of four horizons for Q = 3 and nothing else (it says how many it
 * did, and leaves the rest unwritten), and ssm__front_gaps, the kernel and
 * its scalar loop (model_internal.h's, compiled here around the
 * baseline), gives the scalar rule's bits, written out here, at every
 * horizon: for Q = 3 at every count of horizons (the blocks of four and
 * the tail) and for Q = 2 and 5 (the scalar loop alone), with NaN, the
 * infinities, -0, equal neighbours and gaps at and around the floor 1e-3
 * among the quantiles. */
static void test_front_gaps(void)
{
	static const double special[] = {NAN,	 INFINITY, -INFINITY,	 -0.0,
					 0.0,	 1e-3,	   1e-3 + 1e-12, 1e300,
					 -1e300, 0.5};
	enum { NS = sizeof special / sizeof special[0], HM = 53, QM = 5 };
	double q[HM * QM];
	float a[HM * QM], b[HM * QM], c[HM * QM], w[HM * QM];
	static const int qs[] = {3, 2, 5};
	int n, i, k, t, errs = 0, cnt = 0, vec = 0;
	ssm_rng r;

	ssm_rng_init(&r, 17);
	for (i = 0; i < HM * QM; i++)
		q[i] = i % 4 == 1   ? special[(i / 4) % NS]
		       : i % 4 == 3 ? q[i - 1] + 1e-3
				    : 4.0 * ssm_rng_uniform(&r) - 2.0;
	for (t = 0; t < 3; t++)
		for (n = 0; n * qs[t] <= HM * QM && n <= HM; n++) {
			const int Q = qs[t];
			const double sc = n % 2 ? 0.7 : 1.0;
			int da, db;

			memset(a, 0xa5, sizeof a);
			memset(b, 0xa5, sizeof b);
			memset(w, 0xa5, sizeof w);
			da = ssm__front_gaps_vec(q, n, Q, sc, a);
			db = base_front_gaps_vec(q, n, Q, sc, b);
			base_front_gaps(q, n, Q, sc, w);
			errs += da != (Q == 3 ? n - n % 4 : 0) || db != da;
			vec += da;
			for (i = 0; i < n; i++)
				for (k = 0; k + 1 < Q; k++) {
					double g =
					    (q[i * Q + k + 1] - q[i * Q + k]) /
					    sc;

					c[i * (Q - 1) + k] =
					    (float)(g > 1e-3 && g < HUGE_VAL
							? g
							: 1e-3);
				}
			/* The kernel's horizons hold the rule's gaps, the
			 * others are as it found them; the whole holds them
			 * all. */
			for (i = 0; i < n * (Q - 1); i++) {
				int vi = i < da * (Q - 1);

				errs += memcmp(&w[i], &c[i], sizeof w[i]) != 0;
				errs +=
				    vi ? memcmp(&a[i], &c[i], sizeof a[i]) != 0
				       : !untouched(&a[i], 0xa5);
				errs +=
				    vi ? memcmp(&b[i], &c[i], sizeof b[i]) != 0
				       : !untouched(&b[i], 0xa5);
				cnt += c[i] == (float)1e-3;
			}
		}
	CHECK_EQ_INT(errs, 0);
	CHECK(vec > 0);	  /* the kernel did horizons, not only the loop */
	CHECK(cnt > 100); /* the floor was taken, not only passed through */
}

int main(void)
{
	TH_RUN(test_same_bits);
	TH_RUN(test_gemv_plain);
	TH_RUN(test_gemm_rows);
	TH_RUN(test_s4d_scan);
	TH_RUN(test_exp2_neg);
	TH_RUN(test_exp_dtA);
	TH_RUN(test_mamba_scan);
	TH_RUN(test_mamba_conv);
	TH_RUN(test_nonfinite_any);
	TH_RUN(test_clampf_vec);
	TH_RUN(test_front_gaps);
	return th_summary();
}
