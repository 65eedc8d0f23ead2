/*
 * ssm/kern_gemv.c: ssm__gemv_t (ssm/layer.h), the single-series projection.
 *
 * Why blocks of outputs in registers: the straightforward loop adds a few
 * rows of WT into y per pass, so every pass stores y and the next reloads
 * it, a store-to-load chain per vector that cost more than the multiplies.
 * Here 32 (then 8) outputs stay in registers down all In rows, summed
 * in the same index order (y + x_0 w_0 + x_1 w_1 + ...), so the result is the
 * same bits as the plain loop, on AVX2 and on the baseline.
 */
#include "ssm/kern_vec.h"
#include "ssm/layer.h"
#include "ssm/simd.h"

#include <stddef.h>

SSM__HOT void ssm__gemv_t(int In, int Out, const float *restrict WT,
			  const float *restrict x, float *restrict y)
{
	int o = 0, i;

	for (; o + 32 <= Out; o += 32) {
		const float *w = WT + o;
		v8 a0 = LD(y + o), a1 = LD(y + o + 8), a2 = LD(y + o + 16),
		   a3 = LD(y + o + 24);

		for (i = 0; i < In; i++, w += Out) {
			float xi = x[i];

			a0 = a0 + xi * LD(w);
			a1 = a1 + xi * LD(w + 8);
			a2 = a2 + xi * LD(w + 16);
			a3 = a3 + xi * LD(w + 24);
		}
		ST(y + o, a0);
		ST(y + o + 8, a1);
		ST(y + o + 16, a2);
		ST(y + o + 24, a3);
	}
	for (; o + 8 <= Out; o += 8) {
		const float *w = WT + o;
		v8 a0 = LD(y + o);

		for (i = 0; i < In; i++, w += Out)
			a0 = a0 + x[i] * LD(w);
		ST(y + o, a0);
	}
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
