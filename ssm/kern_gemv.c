/*
 * ssm/kern_gemv.c: ssm__gemv_t (ssm/layer.h), the single-series projection.
 *
 * Why blocks of outputs in registers: the straightforward loop adds a few
 * rows of WT into y per pass, so every pass stores y and the next reloads
 * it, a store-to-load chain per vector that cost more than the multiplies.
 * Here 64 (then 32, 16, 8) outputs stay in registers down all In rows, summed
 * in the same index order (y + x_0 w_0 + x_1 w_1 + ...), so the result is the
 * same bits as the plain loop, on AVX2 and on the baseline.
 */
#include "ssm/kern_vec.h"
#include "ssm/layer.h"
#include "ssm/simd.h"

#include <stddef.h>

/* Outputs o .. o + 8 NV of y += x WT in registers down all In rows (NV a
 * constant where inlined: the loops over k unrolled, a[] in registers). */
__attribute__((always_inline)) static inline void
gemv_pass(int NV, int In, int Out, int o, const float *restrict WT,
	  const float *restrict x, float *restrict y)
{
	const float *w = WT + o;
	v8 a[8];
	int i, k;

#pragma GCC unroll 8
	for (k = 0; k < NV; k++)
		a[k] = LD(y + o + 8 * k);
	for (i = 0; i < In; i++, w += Out) {
		float xi = x[i];

#pragma GCC unroll 8
		for (k = 0; k < NV; k++)
			a[k] = a[k] + xi * LD(w + 8 * k);
	}
#pragma GCC unroll 8
	for (k = 0; k < NV; k++)
		ST(y + o + 8 * k, a[k]);
}

SSM__HOT void ssm__gemv_t(int In, int Out, const float *restrict WT,
			  const float *restrict x, float *restrict y)
{
	int o = 0, i;

	/* 64 outputs a pass where there are (the fc head's 144: two passes
	 * and one of 16, not four of 32 and one of 16): each input's
	 * broadcast and the loop's control shared by more outputs; then 32,
	 * 16 (the encoder's d = 16: one pass, not two of 8) and 8. */
	for (; o + 64 <= Out; o += 64)
		gemv_pass(8, In, Out, o, WT, x, y);
	for (; o + 32 <= Out; o += 32)
		gemv_pass(4, In, Out, o, WT, x, y);
	for (; o + 16 <= Out; o += 16)
		gemv_pass(2, In, Out, o, WT, x, y);
	for (; o + 8 <= Out; o += 8)
		gemv_pass(1, In, Out, o, WT, x, y);
	/* The last r = Out % 8 outputs in one vector, whose other lanes sum
	 * the next row's first columns and are dropped: every row but the
	 * last may be read 8 wide (it has the next row behind it when
	 * Out >= 8 - r); the last row's r columns go in lane by lane. */
	if (o < Out) {
		const float *w = WT + o;
		int r = Out - o, t;
		v8 a0 = {0};

		if (Out < 8 - r) {
			for (i = 0; i < In; i++, w += Out)
				for (t = 0; t < r; t++)
					y[o + t] = y[o + t] + x[i] * w[t];
			return;
		}
		for (t = 0; t < r; t++)
			a0[t] = y[o + t];
		for (i = 0; i + 1 < In; i++, w += Out)
			a0 = a0 + x[i] * LD(w);
		for (t = 0; In > 0 && t < r; t++)
			a0[t] = a0[t] + x[In - 1] * w[t];
		for (t = 0; t < r; t++)
			y[o + t] = a0[t];
	}
}

/*
 * ssm__gemm_rows_t: the batched step's projections, in place of
 * cblas_sgemm (RowMajor, NoTrans, Trans, alpha 1, beta 0 or 1) at M = 8,
 * the step's block (model_internal.h). The shapes are tiny (8 x 64 x 16 at
 * the most), where OpenBLAS's driver, its packing of both operands and its
 * buffer lock cost more than its multiply-adds: some 2,200 instructions a
 * series step for the four projections of the default model's two layers,
 * against about 1,100 here (bench/results/net9-split.md).
 *
 * The sums are the ones OpenBLAS's Haswell kernel forms (the one it runs
 * on AVX2 machines without AVX-512, core Haswell or Zen, as this project's;
 * found by comparing bit for bit over random operands, and held to it by
 * tests/ssm/test_simd.c where that kernel runs): an output of
 * the column blocks of 8 sums its even inputs and its odd inputs in two
 * fused multiply-add chains from +0, in index order, then adds the two,
 * then the old y (beta 1) or +0 (beta 0: OpenBLAS zeroes C first, then
 * adds); an output of the last Out % 8 sums all inputs in one chain. That
 * is OpenBLAS's result only where In is a multiple of 8 (its k loop's
 * unroll) and at most 256 (its k block): ssm__gemm_rows_fits; callers keep
 * the GEMM elsewhere. A row's result does not depend on the other rows.
 */
/* The chains' sum (even + odd) plus the old y (beta) or +0 into y[o + off]. */
#define GEMM_OUT(off, e, d)                         \
	do {                                        \
		v8 c_ = zero;                       \
		if (beta)                           \
			c_ = LD(yr + o + (off));    \
		ST(yr + o + (off), (e) + (d) + c_); \
	} while (0)

/* Inputs xe (even) and xo (odd, the next row of WT) into the chains of
 * the NV vectors at w (NV = 4, 2, 1); GEMM_ONE a last even input alone. */
#define GEMM_PAIR4(xe, xo, w)                            \
	do {                                             \
		e0 = FMA8((xe), LD(w), e0);              \
		e1 = FMA8((xe), LD((w) + 8), e1);        \
		e2 = FMA8((xe), LD((w) + 16), e2);       \
		e3 = FMA8((xe), LD((w) + 24), e3);       \
		d0 = FMA8((xo), LD((w) + Out), d0);      \
		d1 = FMA8((xo), LD((w) + Out + 8), d1);  \
		d2 = FMA8((xo), LD((w) + Out + 16), d2); \
		d3 = FMA8((xo), LD((w) + Out + 24), d3); \
	} while (0)
#define GEMM_ONE4(xe, w)                           \
	do {                                       \
		e0 = FMA8((xe), LD(w), e0);        \
		e1 = FMA8((xe), LD((w) + 8), e1);  \
		e2 = FMA8((xe), LD((w) + 16), e2); \
		e3 = FMA8((xe), LD((w) + 24), e3); \
	} while (0)
#define GEMM_ONE2(xe, w)                          \
	do {                                      \
		e0 = FMA8((xe), LD(w), e0);       \
		e1 = FMA8((xe), LD((w) + 8), e1); \
	} while (0)
#define GEMM_PAIR2(xe, xo, w)                           \
	do {                                            \
		e0 = FMA8((xe), LD(w), e0);             \
		e1 = FMA8((xe), LD((w) + 8), e1);       \
		d0 = FMA8((xo), LD((w) + Out), d0);     \
		d1 = FMA8((xo), LD((w) + Out + 8), d1); \
	} while (0)
#define GEMM_PAIR1(xe, xo, w)                       \
	do {                                        \
		e0 = FMA8((xe), LD(w), e0);         \
		d0 = FMA8((xo), LD((w) + Out), d0); \
	} while (0)

/* The inputs of row xr through PAIR: four a pass, then a pair, then a last
 * even one (In odd) through the even chains alone (ONE). */
#define GEMM_INPUTS(PAIR, ONE)                                   \
	do {                                                     \
		for (i = 0; i + 3 < In; i += 4, w += 4 * Out) {  \
			PAIR(xr[i], xr[i + 1], w);               \
			PAIR(xr[i + 2], xr[i + 3], w + 2 * Out); \
		}                                                \
		for (; i + 1 < In; i += 2, w += 2 * Out)         \
			PAIR(xr[i], xr[i + 1], w);               \
		if (i < In)                                      \
			ONE;                                     \
	} while (0)

SSM__HOT void ssm__gemm_rows_t(int M, int In, int Out, const float *restrict WT,
			       const float *restrict x, int ldx,
			       float *restrict y, int ldy, int beta)
{
	const v8 zero = {0};
	int m, o, i;

	for (m = 0; m < M; m++) {
		const float *xr = x + (size_t)m * ldx;
		float *yr = y + (size_t)m * ldy;

		/* 32 outputs a pass (the two chains of four vectors), then
		 * 16, then 8. */
		for (o = 0; o + 32 <= Out; o += 32) {
			const float *w = WT + o;
			v8 e0 = zero, e1 = zero, e2 = zero, e3 = zero;
			v8 d0 = zero, d1 = zero, d2 = zero, d3 = zero;

			GEMM_INPUTS(GEMM_PAIR4, GEMM_ONE4(xr[i], w));
			GEMM_OUT(0, e0, d0);
			GEMM_OUT(8, e1, d1);
			GEMM_OUT(16, e2, d2);
			GEMM_OUT(24, e3, d3);
		}
		for (; o + 16 <= Out; o += 16) {
			const float *w = WT + o;
			v8 e0 = zero, e1 = zero, d0 = zero, d1 = zero;

			GEMM_INPUTS(GEMM_PAIR2, GEMM_ONE2(xr[i], w));
			GEMM_OUT(0, e0, d0);
			GEMM_OUT(8, e1, d1);
		}
		for (; o + 8 <= Out; o += 8) {
			const float *w = WT + o;
			v8 e0 = zero, d0 = zero;

			GEMM_INPUTS(GEMM_PAIR1, e0 = FMA8(xr[i], LD(w), e0));
			GEMM_OUT(0, e0, d0);
		}
		/* The last Out % 8: one chain each. */
		for (; o < Out; o++) {
			const float *w = WT + o;
			float a = 0.0f;

			for (i = 0; i + 3 < In; i += 4, w += 4 * Out) {
				a = __builtin_fmaf(xr[i], w[0], a);
				a = __builtin_fmaf(xr[i + 1], w[Out], a);
				a = __builtin_fmaf(xr[i + 2], w[2 * Out], a);
				a = __builtin_fmaf(xr[i + 3], w[3 * Out], a);
			}
			for (; i < In; i++, w += Out)
				a = __builtin_fmaf(xr[i], *w, a);
			yr[o] = a + (beta ? yr[o] : 0.0f);
		}
	}
}
