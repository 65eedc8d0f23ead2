/*
 * ssm/kern_mamba.c: the fused Mamba selective-scan step (see ssm/kern.h).
 *
 * Why: the plain step computes the Di * Ns exponentials into a buffer with
 * ssm_expf_vec (whose every lane also pays for the Inf, NaN and underflow
 * selects), then reads it back in the scan. Here each block of 16 channels
 * runs down the Ns states once: exponential, state update and C readout in
 * registers. The exponential is ssm_expf_vec's method (ssm/vexp.h) for
 * arguments in [-87, 0], where its selects are no-ops and 2^k fits one
 * factor (k >= -126); the caller checks the range once per step and
 * otherwise takes the plain path.
 *
 * Fused multiply-adds (FMA8, fmaf) in the exponential and the state update:
 * these 1,024 exponentials per step were bound by the multiply and add
 * ports, and one fused operation does the work of two with one rounding.
 * fmaf is defined to the bit, so the x86-64-v3 clone and the baseline agree;
 * the results differ from the plain path's by rounding only (within an ulp
 * per operation), and each step takes one path for every series alike, so
 * batched == single and step == sequence still hold.
 */
#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"
#include "ssm/vexp.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* y = exp(x) for 8 lanes in [-87, 0] (a macro, not a function: GCC notes
 * an ABI change for every function taking a 32-byte vector). */
#define EXP_NEG8(x, y)                                                       \
	do {                                                                 \
		v8 kf_, r_, p_;                                              \
		VEXP_REDUCE((x), kf_, r_, FMA8);                             \
		VEXP_POLY(r_, p_, FMA8);                                     \
		(y) = p_ *                                                   \
		      (v8)((__builtin_convertvector(kf_, v8i) + 127) << 23); \
	} while (0)

static inline float exp_neg1(float x)
{
	float kf, r, p, s;
	uint32_t e;

	VEXP_REDUCE(x, kf, r, __builtin_fmaf);
	VEXP_POLY(r, p, __builtin_fmaf);
	e = (uint32_t)((int32_t)kf + 127) << 23;
	memcpy(&s, &e, sizeof(s));
	return p * s;
}

SSM__HOT void ssm__expf_neg_vec(const float *x, float *y, int n)
{
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		v8 e;

		EXP_NEG8(LD(x + i), e);
		ST(y + i, e);
	}
	for (; i < n; i++)
		y[i] = exp_neg1(x[i]);
}

/* One state n for 8 channels at i (dt d, input x, sum acc). */
#define SCAN_STATE(i, d, x, acc)                             \
	do {                                                 \
		v8 e_, h_;                                   \
		EXP_NEG8((d)*LD(AT + (i)), e_);              \
		h_ = FMA8(e_, LD(h + (i)), (b * (d)) * (x)); \
		ST(h + (i), h_);                             \
		(acc) = FMA8(cc, h_, (acc));                 \
	} while (0)

SSM__HOT int
ssm__mamba_scan_f32(int Di, int Ns, const float *restrict AT,
		    const float *restrict Amax, float *restrict h,
		    const float *restrict dt, const float *restrict Bv,
		    const float *restrict Cv, const float *restrict xs,
		    const float *restrict Dskip, float *restrict yc)
{
	int c, n, ok = 1;
	size_t i;

	/* |dt A| <= dt Amax (rounding is monotone); false for NaN. */
	for (c = 0; c < Di; c++)
		ok &= dt[c] * Amax[c] <= 87.0f;
	if (!ok)
		return -1;
	c = 0;
	for (; c + 16 <= Di; c += 16) {
		v8 d0 = LD(dt + c), d1 = LD(dt + c + 8);
		v8 x0 = LD(xs + c), x1 = LD(xs + c + 8), a0 = {0}, a1 = {0};

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float b = Bv[n], cc = Cv[n];

			SCAN_STATE(i, d0, x0, a0);
			SCAN_STATE(i + 8, d1, x1, a1);
		}
		ST(yc + c, a0 + LD(Dskip + c) * x0);
		ST(yc + c + 8, a1 + LD(Dskip + c + 8) * x1);
	}
	for (; c + 8 <= Di; c += 8) {
		v8 d0 = LD(dt + c), x0 = LD(xs + c), a0 = {0};

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float b = Bv[n], cc = Cv[n];

			SCAN_STATE(i, d0, x0, a0);
		}
		ST(yc + c, a0 + LD(Dskip + c) * x0);
	}
	for (; c < Di; c++) {
		float d = dt[c], x = xs[c], acc = 0;

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float e = exp_neg1(d * AT[i]);
			h[i] = __builtin_fmaf(e, h[i], Bv[n] * d * x);
			acc = __builtin_fmaf(Cv[n], h[i], acc);
		}
		yc[c] = acc + Dskip[c] * x;
	}
	return 0;
}
