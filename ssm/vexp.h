/*
 * ssm/vexp.h (internal): the constants and steps of the vectorizable expf of
 * ssm/vmath.c (every range; method there). ssm/kern_mamba.c takes SHIFTER
 * for its own exponential (a base-2 one for the scan's narrow range).
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

#endif
