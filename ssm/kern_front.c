/*
 * ssm/kern_front.c: the vector part of the front's base gaps
 * (ssm/model_internal.h's ssm__front_gaps, for ssm/model_front.c's
 * front_finish), ssm__front_gap of each pair of neighbouring quantiles,
 * four horizons at a time in GCC generic vectors for Q = 3, compiled for
 * AVX2 and the baseline (ssm/simd.h). The horizons it leaves (the last
 * nh % 4, or all of them for another Q) take the one scalar loop, in
 * ssm__front_gaps.
 *
 * Why: the scalar loop (strided loads and stores, which GCC 12.2 does not
 * vectorize) took ~900 of a 48-horizon forecast's instructions more than
 * this does (bench/results/step17.md). Each lane does the scalar rule's
 * IEEE operations on the same operands (a subtraction, a division by sc,
 * two comparisons, a select, one rounding to float), so the same bits on
 * either build; only the order in which the gaps are written changes.
 * tests/ssm/test_simd.c holds both builds to the scalar rule, written out,
 * at every count of horizons, with NaN, the infinities and the floor.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ssm/model_internal.h"
#include "ssm/simd.h"

/* Vectors never cross a call (everything below is inlined; vectors by
 * pointer, as ssm/kern_serve.c's). */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));

/* ssm__front_gap's rule on the four lanes of *g: a bitwise select on the
 * comparisons' masks. */
__attribute__((always_inline)) static inline void gap4(const v4d *g_, v4f *out)
{
	v4d g = *g_;
	const v4d lo = {1e-3, 1e-3, 1e-3, 1e-3};
	const v4d inf = {HUGE_VAL, HUGE_VAL, HUGE_VAL, HUGE_VAL};
	v4i m = (g > lo) & (g < inf), gi, li;
	v4d r;

	memcpy(&gi, &g, sizeof gi);
	memcpy(&li, &lo, sizeof li);
	gi = (gi & m) | (li & ~m);
	memcpy(&r, &gi, sizeof r);
	*out = __builtin_convertvector(r, v4f);
}

SSM__HOT int ssm__front_gaps_vec(const double *q, int nh, int Q, double sc,
				 float *gap)
{
	int h = 0;

	for (; Q == 3 && h + 4 <= nh; h += 4) {
		const double *p = q + 3 * h;
		v4d a = {p[0], p[3], p[6], p[9]};
		v4d b = {p[1], p[4], p[7], p[10]};
		v4d c = {p[2], p[5], p[8], p[11]};
		v4d d0 = (b - a) / sc, d1 = (c - b) / sc;
		v4f g0, g1;
		float *o = gap + 2 * h;
		int l;

		gap4(&d0, &g0);
		gap4(&d1, &g1);
		for (l = 0; l < 4; l++) {
			o[2 * l] = g0[l];
			o[2 * l + 1] = g1[l];
		}
	}
	return h;
}
