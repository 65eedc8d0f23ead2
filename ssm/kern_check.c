/*
 * ssm/kern_check.c: ssm__nonfinite_any (ssm/kern.h), the check of a state
 * block for Inf and NaN after every step.
 *
 * Why a kernel: the layers' states are most of a series' block (about a
 * thousand floats in the default model) and the step checks every one of
 * them, every sample (ssm/model_step.c's state_finite): on the baseline
 * build that loop was about 1.2k of a pruned step's 37k instructions. Here
 * blocks of 32 floats cost about 11 AVX2 instructions (a multiply and an
 * add per 8, see below; 608 floats a step in the default model) and the
 * rest one max per 8: a float is Inf or NaN exactly when its bits without
 * the sign are at least those of +Inf, so the largest of them decides. A
 * yes/no answer: the same on either build.
 */
#include <stdint.h>
#include <string.h>

#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"

/* Blocks of 32 floats: x 0 is a zero for a finite x and NaN for Inf and
 * NaN (IEEE: exact, whatever the rounding), so a sum of them is NaN
 * exactly when some x is not finite; four sums, four vectors a pass, so
 * the loop's own instructions are spent once per 32 floats (the max loop
 * below spends them per 8, GCC not unrolling it), and a multiply and an
 * add per 8 floats (an and, an add and an or on the exponent bits before
 * serve10: 369 -> ~240 instructions for the default model's 608). */
SSM__HOT int ssm__nonfinite_any(const float *x, size_t n)
{
	const v8 zero = {0};
	v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
	uint32_t top = 0, u;
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		a0 = a0 + LD(x + i) * zero;
		a1 = a1 + LD(x + i + 8) * zero;
		a2 = a2 + LD(x + i + 16) * zero;
		a3 = a3 + LD(x + i + 24) * zero;
	}
	/* The lanes summed by halves (a NaN in any reaches lane 0). */
	a0 = a0 + a1 + a2 + a3;
	a0 = a0 + SHUF8(a0, 4, 5, 6, 7, 0, 1, 2, 3);
	a0 = a0 + SHUF8(a0, 2, 3, 0, 1, 6, 7, 4, 5);
	a0 = a0 + SHUF8(a0, 1, 0, 3, 2, 5, 4, 7, 6);
	if (a0[0] != a0[0])
		return 1;
	for (; i < n; i++) {
		memcpy(&u, x + i, sizeof u);
		u &= 0x7fffffffu;
		top = u > top ? u : top;
	}
	return top >= 0x7f800000u;
}
