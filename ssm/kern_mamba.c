/*
 * ssm/kern_mamba.c: the fused Mamba selective-scan step (see ssm/kern.h).
 *
 * Why: the plain step computes the Di * Ns exponentials into a buffer with
 * ssm_expf_vec (whose every lane also pays for the Inf, NaN and underflow
 * selects), then reads it back in the scan. Here each block of 16 channels
 * runs down the Ns states once: exponential, state update and C readout in
 * registers. These 1,024 exponentials per step bound the batched Mamba step,
 * so the exponential is cut to what the scan's range needs.
 *
 * The exponential: dA = exp(dt A) = 2^t with t = dt (A log2 e), the factor
 * A log2 e cached by the layer (AL), so the reduction costs no multiply:
 * k = rint(t) by the shifter (t + SHIFTER keeps k in its low mantissa bits),
 * f = t - k exactly (|f| <= 1/2), 2^f = 1 + f q(f) with q of degree 5 fitted
 * to (2^f - 1)/f on [-1/2, 1/2] (Chebyshev nodes: truncation < 5.1e-9
 * relative, a twentieth of an ulp), and 2^k added into the exponent bits as
 * an integer, which runs beside the floating-point units and equals the
 * multiply by 2^k to the bit because the result is normal (t >= -124.2, see
 * the range check). Accuracy (tests/ssm/test_simd.c): 2^t within 1.5 ulp
 * of exp2 for t in [-124, 0] (worst seen 0.98 ulp over 1M arguments);
 * against exp(dt A) in double, t's own two
 * roundings (A log2 e, then dt times it) add at most |dt A| 2^-23 relative,
 * the same order as the rounding of the product dt A that the plain path
 * feeds expf.
 *
 * Fused multiply-adds (FMA8, fmaf) everywhere they fit: fmaf is defined to
 * the bit, so the x86-64-v3 clone and the baseline agree. The results differ
 * from the plain path's by rounding only, and each step takes one path for a
 * series whatever the batch, so batched == single and step == sequence still
 * hold.
 */
#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"
#include "ssm/vexp.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* q(f) = sum Q_j f^j ~ (2^f - 1) / f on [-1/2, 1/2]: interpolation at the
 * six Chebyshev nodes (computed in 50-digit arithmetic), rounded to float. */
#define Q0 0.693147182f
#define Q1 0.240226507f
#define Q2 0.0555035695f
#define Q3 0.00961808302f
#define Q4 0.00133908633f
#define Q5 0.000154531634f

/* The one evaluation order, for a float or an 8-float vector, with MAD a
 * fused multiply-add (fmaf or FMA8): Estrin-like pairs to keep the chain of
 * dependent operations at five. */
#define EXP2_NEG(t, y, V, MAD, BITS)                                       \
	do {                                                               \
		V t_ = (t), ts_ = t_ + SHIFTER, f_ = t_ - (ts_ - SHIFTER), \
		  f2_, q_;                                                 \
		f2_ = f_ * f_;                                             \
		q_ = MAD(f2_, MAD(f2_, MAD(f_, Q5, Q4), MAD(f_, Q3, Q2)),  \
			 MAD(f_, Q1, Q0));                                 \
		q_ = MAD(f_, q_, 1.0f);                                    \
		(y) = BITS(q_, ts_);                                       \
	} while (0)

/* bits(p) + bits(ts) << 23, as a float: p 2^k (SHIFTER's mantissa ends in
 * 22 zero bits, so bits(ts) << 23 is k << 23 modulo 2^32). */
#define BITS8(p, ts) ((v8)((v8w)(p) + ((v8w)(ts) << 23)))

static inline float bits1(float p, float ts)
{
	uint32_t pb, tb;

	memcpy(&pb, &p, sizeof(pb));
	memcpy(&tb, &ts, sizeof(tb));
	pb += tb << 23;
	memcpy(&p, &pb, sizeof(p));
	return p;
}

static inline float exp2_neg1(float t)
{
	float y;

	EXP2_NEG(t, y, float, __builtin_fmaf, bits1);
	return y;
}

SSM__HOT void ssm__exp2f_neg_vec(const float *t, float *y, int n)
{
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		v8 e;

		EXP2_NEG(LD(t + i), e, v8, FMA8, BITS8);
		ST(y + i, e);
	}
	for (; i < n; i++)
		y[i] = exp2_neg1(t[i]);
}

/* 8 copies of a float (one vbroadcastss; FMA8's V8 would build it lane by
 * lane). */
#define BCAST(f) ((v8){(f), (f), (f), (f), (f), (f), (f), (f)})

/* One state n for 8 channels at i (dt d, dt x dx, sum acc). */
#define SCAN_STATE(i, d, dx, acc)                                \
	do {                                                     \
		v8 e_, h_;                                       \
		EXP2_NEG((d)*LD(AL + (i)), e_, v8, FMA8, BITS8); \
		h_ = FMA8(e_, LD(h + (i)), b * (dx));            \
		ST(h + (i), h_);                                 \
		(acc) = FMA8(cc, h_, (acc));                     \
	} while (0)

SSM__HOT int
ssm__mamba_scan_f32(int Di, int Ns, const float *restrict AL,
		    const float *restrict Amax, float *restrict h,
		    const float *restrict dt, const float *restrict Bv,
		    const float *restrict Cv, const float *restrict xs,
		    const float *restrict Dskip, float *restrict yc)
{
	int c, n, ok = 1;
	size_t i;

	/* |dt A| <= dt Amax (rounding is monotone); false for NaN. */
	for (c = 0; c < Di; c++)
		ok &= dt[c] * Amax[c] <= SSM__SCAN_MAX;
	if (!ok)
		return -1;
	c = 0;
	for (; c + 16 <= Di; c += 16) {
		v8 d0 = LD(dt + c), d1 = LD(dt + c + 8);
		v8 x0 = LD(xs + c), x1 = LD(xs + c + 8), a0 = {0}, a1 = {0};
		v8 dx0 = d0 * x0, dx1 = d1 * x1;

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float b = Bv[n];
			v8 cc = BCAST(Cv[n]);

			SCAN_STATE(i, d0, dx0, a0);
			SCAN_STATE(i + 8, d1, dx1, a1);
		}
		ST(yc + c, a0 + LD(Dskip + c) * x0);
		ST(yc + c + 8, a1 + LD(Dskip + c + 8) * x1);
	}
	for (; c + 8 <= Di; c += 8) {
		v8 d0 = LD(dt + c), x0 = LD(xs + c), a0 = {0}, dx0 = d0 * x0;

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float b = Bv[n];
			v8 cc = BCAST(Cv[n]);

			SCAN_STATE(i, d0, dx0, a0);
		}
		ST(yc + c, a0 + LD(Dskip + c) * x0);
	}
	for (; c < Di; c++) {
		float d = dt[c], x = xs[c], dx = d * x, acc = 0;

		for (n = 0, i = (size_t)c; n < Ns; n++, i += (size_t)Di) {
			float e = exp2_neg1(d * AL[i]);
			h[i] = __builtin_fmaf(e, h[i], Bv[n] * dx);
			acc = __builtin_fmaf(Cv[n], h[i], acc);
		}
		yc[c] = acc + Dskip[c] * x;
	}
	return 0;
}

/* Taps k < K - 1 of one vector of channels at c (V = 8 floats; a its sum),
 * shifting the window's column as it goes: row k - 1 takes row k once row
 * k - 1 has been read. */
#define CONV_TAPS(c, a)                                              \
	do {                                                         \
		_Pragma("GCC unroll 16") for (k = 0; k < K - 1; k++) \
		{                                                    \
			float *p_ = win + k * D + (c);               \
			v8 v_ = LD(p_);                              \
                                                                     \
			(a) = (a) + LD(wT + k * D + (c)) * v_;       \
			if (k > 0)                                   \
				ST(p_ - D, v_);                      \
		}                                                    \
	} while (0)

/* The body, inlined twice: for K = 4 (the shipped models' d_conv, the taps
 * unrolled) and for any K. */
static inline __attribute__((always_inline)) void
conv_body(int Di, int K, const float *restrict conv_b, const float *restrict wT,
	  float *restrict win, const float *restrict x, float *restrict xc)
{
	const size_t D = (size_t)Di, last = (size_t)(K - 1) * D;
	int c = 0, k;

	for (; c + 8 <= Di; c += 8) {
		v8 a = LD(conv_b + c), xv = LD(x + c);

		CONV_TAPS(c, a);
		a = a + LD(wT + last + c) * xv;
		if (K > 1)
			ST(win + last - D + c, xv);
		ST(xc + c, a);
	}
	for (; c < Di; c++) {
		float a = conv_b[c];

		for (k = 0; k < K - 1; k++) {
			a = a + wT[k * D + c] * win[k * D + c];
			if (k > 0)
				win[(k - 1) * D + c] = win[k * D + c];
		}
		xc[c] = a + wT[last + c] * x[c];
		if (K > 1)
			win[last - D + c] = x[c];
	}
}

SSM__HOT void ssm__mamba_conv_f32(int Di, int K, const float *restrict conv_b,
				  const float *restrict wT, float *restrict win,
				  const float *restrict x, float *restrict xc)
{
	if (K == 4)
		conv_body(Di, 4, conv_b, wT, win, x, xc);
	else
		conv_body(Di, K, conv_b, wT, win, x, xc);
}
