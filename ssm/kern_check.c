/*
 * ssm/kern_check.c: ssm__nonfinite_any (ssm/kern.h), the check of a state
 * block for Inf and NaN after every step.
 *
 * Why a kernel: the layers' states are most of a series' block (about a
 * thousand floats in the default model) and the step checks every one of
 * them, every sample (ssm/model_step.c's state_finite): on the baseline
 * build that loop was about 1.2k of a pruned step's 37k instructions. Here
 * blocks of 32 floats cost about 15 AVX2 instructions (an and, an add and
 * an or per 8, see below; 608 floats a step in the default model, 369
 * instructions, against 412 for the max loop that was all of it) and the
 * rest one max per 8: a float is Inf or NaN exactly when its bits without
 * the sign are at least those of +Inf, so the largest of them decides. A
 * yes/no answer: the same on either build.
 */
#include <stdint.h>
#include <string.h>

#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"

/* Blocks of 32 floats: a float is Inf or NaN exactly when its exponent
 * bits are all ones, which is when adding one to the exponent field carries
 * into the sign bit; the carries of every lane are or-ed together, four
 * vectors a pass, so the loop's own instructions are spent once per 32
 * floats (the max loop below spends them per 8, GCC not unrolling it). */
#define EXPO(v) (((v8w)(v)&ebits) + eone)

SSM__HOT int ssm__nonfinite_any(const float *x, size_t n)
{
	const v8w ebits = {0x7f800000u, 0x7f800000u, 0x7f800000u, 0x7f800000u,
			   0x7f800000u, 0x7f800000u, 0x7f800000u, 0x7f800000u};
	const v8w eone = {0x00800000u, 0x00800000u, 0x00800000u, 0x00800000u,
			  0x00800000u, 0x00800000u, 0x00800000u, 0x00800000u};
	v8w a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
	uint32_t top = 0, u;
	size_t i = 0;
	int j;

	for (; i + 32 <= n; i += 32) {
		a0 |= EXPO(LD(x + i));
		a1 |= EXPO(LD(x + i + 8));
		a2 |= EXPO(LD(x + i + 16));
		a3 |= EXPO(LD(x + i + 24));
	}
	a0 |= a1 | a2 | a3;
	for (j = 0; j < 8; j++)
		if (a0[j] & 0x80000000u)
			return 1;
	for (; i < n; i++) {
		memcpy(&u, x + i, sizeof u);
		u &= 0x7fffffffu;
		top = u > top ? u : top;
	}
	return top >= 0x7f800000u;
}
