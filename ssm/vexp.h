/*
 * ssm/vexp.h (internal): the constants and steps of the vectorizable expf of
 * ssm/vmath.c (every range; method there). ssm/kern_mamba.c takes SHIFTER
 * for its own exponential (a base-2 one for the scan's narrow range);
 * ssm/kern_s4d_disc.c and ssm/smooth_kern.c the exp and expm1 of a double
 * argument (vexp_reduce_d, vexpm1_f below): reduced in double, polynomial
 * in float.
 */
#ifndef STATECAST_SSM_VEXP_H
#define STATECAST_SSM_VEXP_H

#include <stdint.h>
#include <string.h>

#define EXP_HI	88.7228f    /* above: +Inf (expf overflows at 88.72283) */
#define EXP_LO	(-87.3365f) /* below: 0 (2^-126 = exp(-87.3365)) */
#define SHIFTER 12582912.0f /* 1.5 * 2^23: adding it rounds to integer */
#define LOG2E	1.44269504f
#define LN2_HI	0.693145752f /* 0x3f317200: 8 trailing zero bits */
#define LN2_LO	1.42860677e-6f

/* The steps, for a float or a GCC float vector: t = x log2e + SHIFTER (its
 * low mantissa bits hold k), x = kf ln2 + r with kf = rint(x / ln2) and
 * |r| <= ln2/2 (ln2 in two parts, Cody-Waite); then exp(r) by its degree-7
 * Taylor polynomial, evaluated by Estrin's scheme: pairs c_k + c_k+1 r,
 * joined with r^2 and r^4 (a chain of dependent operations 6 deep where
 * Horner's is 14; the rounding is of the same order).
 * MAD(a, b, c) is a b + c: VEXP_MAD (two roundings; the operands are
 * arranged so that it gives the same operations as the plain expressions,
 * (x - kf c) is x + (-kf) c). */
#define VEXP_MAD(a, b, c) ((a) * (b) + (c))
#define VEXP_REDUCE(x, t, kf, r, MAD)                              \
	do {                                                       \
		(t) = MAD((x), LOG2E, SHIFTER);                    \
		(kf) = (t)-SHIFTER;                                \
		(r) = MAD(-(kf), LN2_LO, MAD(-(kf), LN2_HI, (x))); \
	} while (0)

/* The polynomial of VEXP_POLY without its final + 1: q = exp(r) - 1 for
 * |r| <= ln2/2, to which the + 1 would add nothing but rounding (expm1 near
 * 0 keeps its relative precision; ssm/kern_s4d_disc.c). The same
 * operations, so VEXP_POLY's p is q + 1.0f to the bit. */
#define VEXPM1_POLY(r, q, MAD)                                                \
	do {                                                                  \
		__typeof__(r) r2_ = (r) * (r), r4_ = r2_ * r2_;               \
		__typeof__(r) q23_ = MAD((r), 1.0f / 6.0f, 0.5f);             \
		__typeof__(r) q45_ = MAD((r), 1.0f / 120.0f, 1.0f / 24.0f);   \
		__typeof__(r) q67_ = MAD((r), 1.0f / 5040.0f, 1.0f / 720.0f); \
		(q) = MAD(r4_, MAD(r2_, q67_, q45_), MAD(r2_, q23_, (r)));    \
	} while (0)
#define VEXP_POLY(r, p, MAD)                \
	do {                                \
		VEXPM1_POLY((r), (p), MAD); \
		(p) = (p) + 1.0f;           \
	} while (0)

/* Bit views of a float and the branch-free select the vectorizable loops
 * (ssm/vmath.c, ssm/kern_s4d_disc.c) are written with. */
static inline uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* m ? a : b with m all ones or all zeros. Selects are done on bits because
 * GCC will not if-convert float code that may trap (we keep trapping math),
 * and a branch in the loop stops vectorization. */
static inline float sel(uint32_t m, float a, float b)
{
	return bitsf((fbits(a) & m) | (fbits(b) & ~m));
}

/*
 * e^x and expm1(x) of a double x, the reduction in double (x = k ln2 + r,
 * Cody-Waite with fdlibm's split of ln2: exact products for |k| < 2^20),
 * the polynomial and the assembly in float (VEXPM1_POLY on |r| <= ln2/2).
 * Both are plain IEEE operations and selects, so the loops that call them
 * vectorize and give the same bits on every build (ssm/simd.h).
 * vexp_reduce_d: r (rounded to float) and k (an integer, held exactly as a
 * float). vexpm1_f: e^x = (1 + q) 2^k and expm1(x) = 2^k q + (2^k - 1),
 * with 2^k in two normal factors so that results in the subnormal range
 * round once; k is taken in [-160, 126] (below, e^x is 0 in float).
 * Relative error of e^x and of expm1(x) a few 2^-24 (tests/ssm/
 * test_s4d_disc.c, tests/ssm/test_smooth_kern.c).
 */
#define VEXP_LN2_HI_D 6.93147180369123816490e-01 /* 32 significant bits */
#define VEXP_LN2_LO_D 1.90821492927058770002e-10
#define VEXP_INVLN2_D 1.44269504088896338700e+00
#define VEXP_SHIFT_D  6755399441055744.0 /* 1.5 * 2^52: adding it rounds */

static inline void vexp_reduce_d(double x, float *r, float *k)
{
	double kf = (x * VEXP_INVLN2_D + VEXP_SHIFT_D) - VEXP_SHIFT_D;

	*r = (float)((x - kf * VEXP_LN2_HI_D) - kf * VEXP_LN2_LO_D);
	*k = (float)kf;
}

/* 2^k as a float for k in [-126, 127]. */
static inline float vexp_pow2i(int32_t k)
{
	return bitsf((uint32_t)(k + 127) << 23);
}

static inline void vexpm1_f(float r, float kx, float *ex, float *em1)
{
	float q, p, s1, s2, s;
	int32_t k = (int32_t)kx, k1;

	VEXPM1_POLY(r, q, VEXP_MAD);
	p = q + 1.0f;
	k = k < -160 ? -160 : k > 126 ? 126 : k;
	k1 = k / 2;
	s1 = vexp_pow2i(k1);
	s2 = vexp_pow2i(k - k1);
	s = s1 * s2;
	*ex = (p * s1) * s2;
	*em1 = s * q + (s - 1.0f);
}

#endif
