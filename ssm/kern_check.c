/*
 * ssm/kern_check.c: ssm__nonfinite_any (ssm/kern.h), the check of a state
 * block for Inf and NaN after every step.
 *
 * Why a kernel: the layers' states are most of a series' block (about a
 * thousand floats in the default model) and the step checks every one of
 * them, every sample (ssm/model_step.c's state_finite): on the baseline
 * build that loop was about 1.2k of a pruned step's 37k instructions. Here
 * it is one AVX2 max per 8 floats: a float is Inf or NaN exactly when its
 * bits without the sign are at least those of +Inf, so the largest of them
 * decides. A yes/no answer: the same on either build.
 */
#include <stdint.h>
#include <string.h>

#include "ssm/kern.h"
#include "ssm/simd.h"

SSM__HOT int ssm__nonfinite_any(const float *x, size_t n)
{
	uint32_t top = 0, u;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&u, x + i, sizeof u);
		u &= 0x7fffffffu;
		top = u > top ? u : top;
	}
	return top >= 0x7f800000u;
}
