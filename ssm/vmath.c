/*
 * ssm/vmath.c: vectorizable exp and SiLU (see layer.h).
 *
 * Why not libm: expf is a function call per element that the compiler cannot
 * vectorize without -ffast-math, which we refuse (NaN checks must hold). The
 * loop below is branch-free (selects only), so GCC turns it into SIMD at -O2.
 *
 * Method: x = k ln2 + r with k = rint(x / ln2) and |r| <= ln2/2, ln2 split in
 * a high part exact in float and a low correction (Cody-Waite); exp(r) by its
 * degree-7 Taylor polynomial (truncation < 6e-9 relative, below half an ulp),
 * evaluated by Estrin's scheme (ssm/vexp.h: a short dependency chain);
 * 2^k added into the exponent field as an integer (exact: results are normal).
 */
#include "ssm/layer.h"
#include "ssm/simd.h"
#include "ssm/vexp.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float exp_core(float x)
{
	uint32_t m_lo = 0u - (uint32_t)(x < EXP_LO);
	uint32_t m_hi = 0u - (uint32_t)(x > EXP_HI);
	uint32_t m_nan = 0u - (uint32_t)(x != x);
	/* NaN and out-of-range inputs compute on a harmless 0; the special
	 * results are selected at the end. */
	float xc = sel(m_lo | m_hi | m_nan, 0.0f, x);
	float t, kf, r, p;

	VEXP_REDUCE(xc, t, kf, r, VEXP_MAD);
	VEXP_POLY(r, p, VEXP_MAD);
	/* p 2^k by adding k to p's exponent field: t's low mantissa bits hold
	 * k (SHIFTER's end in 22 zero bits), so bits(t) << 23 is k << 23
	 * modulo 2^32. Exact, as a multiply by 2^k would be, because the
	 * result is normal over [EXP_LO, EXP_HI]: for k = -126 (x near
	 * EXP_LO) r >= 0 so p >= 1, and for k = 128 r < 0 so p < 1. */
	p = bitsf(fbits(p) + (fbits(t) << 23));
	p = sel(m_hi, INFINITY, p);
	p = sel(m_lo, 0.0f, p);
	return sel(m_nan, x, p);
}

SSM__HOT void ssm_expf_vec(const float *x, float *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = exp_core(x[i]);
}

SSM__HOT void ssm_silu_vec(const float *x, float *y, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		float v = x[i];
		y[i] = v / (1.0f + exp_core(-v));
	}
}

/*
 * softplus(x) = max(x, 0) + log1p(exp(-|x|)), x itself above 20 (the Mamba
 * reference's threshold). log1p(e) for e in [0, 1] as 2 atanh(s) with
 * s = e / (2 + e) in [0, 1/3]: the odd series to s^15 leaves < 2e-9
 * relative, and it is all multiply-add and one division, so it vectorizes.
 */
SSM__HOT void ssm_softplus_vec(const float *x, float *y, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		float v = x[i], a = fabsf(v);
		float e = exp_core(-a), s = e / (2.0f + e), s2 = s * s;
		float p = 1.0f / 15.0f;
		uint32_t big = 0u - (uint32_t)(v > 20.0f);
		uint32_t pos = 0u - (uint32_t)(v > 0.0f);

		p = p * s2 + 1.0f / 13.0f;
		p = p * s2 + 1.0f / 11.0f;
		p = p * s2 + 1.0f / 9.0f;
		p = p * s2 + 1.0f / 7.0f;
		p = p * s2 + 1.0f / 5.0f;
		p = p * s2 + 1.0f / 3.0f;
		p = p * s2 + 1.0f;
		p = 2.0f * s * p + sel(pos, v, 0.0f);
		y[i] = sel(big, v, p);
	}
}

void ssm__softplus_vec64(const double *x, double *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = x[i] > 20 ? x[i] : log1p(exp(x[i]));
}

void ssm__exp_vec64(const double *x, double *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = exp(x[i]);
}

void ssm__silu_vec64(const double *x, double *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = x[i] / (1.0 + exp(-x[i]));
}
