/*
 * ssm/kern_serve.c: the loop over horizons of ssm__serve_q3 (ssm/model_step.c,
 * the step's serving for Q = 3), four horizons at a time in GCC generic
 * vectors, compiled for AVX2 and the baseline (ssm/simd.h). Per horizon it
 * is the scalar loop's IEEE operations in the same order (float compose,
 * the gate's blend in double rounded to float, served values in double
 * rounded to float), so the same bits on either build
 * (tests/ssm/test_model.c holds it to the general path).
 *
 * Why generic vectors and not the plain loop with GCC's vectorizer: GCC
 * 12.2 vectorizes that loop (with -O2's cost model, and by SLP without it)
 * but drops the float rounding of (float)(w * md) when the result is
 * widened again: the served values then differ from the scalar code's in
 * the last bit (seen on horizons 44-47 of H 48). Conversions written as
 * __builtin_convertvector are kept.
 */
#include <stdint.h>
#include <string.h>

#include "ssm/model_internal.h"
#include "ssm/simd.h"

/* Vectors never cross a call (everything below is inlined), so GCC's note
 * that the 32-byte vector ABI depends on AVX does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));

/* ssm__nonfinite_bit_d per lane, ORed into *bad (vectors by pointer: no
 * function takes or returns one, so no ABI question arises). */
static inline void nonfinite4(const v4d *v, v4u *bad)
{
	v4u u;

	memcpy(&u, v, sizeof u);
	*bad |= ((u & 0x7ff0000000000000u) + 0x0010000000000000u) &
		0x8000000000000000u;
}

/* Four horizons' served lo, median and hi (f0, f1, f2) from their head
 * medians md, front gaps g0, g1 and exponentiated log-gaps e0, e2 (or
 * four copies of one horizon: ssm__serve_q3_h1), the values' non-finite
 * bits ORed into *bad (gate a constant where inlined; vectors by pointer,
 * as nonfinite4's). */
__attribute__((always_inline)) static inline void
serve4_v(const v4f *md_, const v4f *g0_, const v4f *g1_, const v4f *e0,
	 const v4f *e2, const v4d *p_, double sc, int gate, double w, double wf,
	 v4f *f0, v4f *f1, v4f *f2, v4u *bad)
{
	v4f md = *md_, g0 = *g0_, g1 = *g1_;
	v4f lo = md - g0 * *e0, hi = md + g1 * *e2;
	v4d p = *p_;
	v4d v0, v1, v2;

	if (gate) {
		v4d dg0 = __builtin_convertvector(g0, v4d);
		v4d dg1 = __builtin_convertvector(g1, v4d);

		md = __builtin_convertvector(
		    w * __builtin_convertvector(md, v4d), v4f);
		lo = __builtin_convertvector(
		    w * __builtin_convertvector(lo, v4d) + wf * (0.0 - dg0),
		    v4f);
		hi = __builtin_convertvector(
		    w * __builtin_convertvector(hi, v4d) + wf * (0.0 + dg1),
		    v4f);
	}
	v0 = p + sc * __builtin_convertvector(lo, v4d);
	v1 = p + sc * __builtin_convertvector(md, v4d);
	v2 = p + sc * __builtin_convertvector(hi, v4d);
	*f0 = __builtin_convertvector(v0, v4f);
	*f1 = __builtin_convertvector(v1, v4f);
	*f2 = __builtin_convertvector(v2, v4f);
	nonfinite4(&v0, bad);
	nonfinite4(&v1, bad);
	nonfinite4(&v2, bad);
}

/* Horizons h .. h+3 (gate a constant where inlined). */
__attribute__((always_inline)) static inline void
serve4(const float *o, const float *gap, const float *e, const double *pt,
       double sc, int gate, double w, double wf, float *q, float *mean,
       v4u *bad)
{
	v4f md = {o[1], o[4], o[7], o[10]};
	v4f g0 = {gap[0], gap[2], gap[4], gap[6]};
	v4f g1 = {gap[1], gap[3], gap[5], gap[7]};
	v4f e0 = {e[0], e[2], e[4], e[6]};
	v4f e2 = {e[1], e[3], e[5], e[7]};
	v4d p;
	v4f f0, f1, f2;
	int l;

	memcpy(&p, pt, sizeof p);
	serve4_v(&md, &g0, &g1, &e0, &e2, &p, sc, gate, w, wf, &f0, &f1, &f2,
		 bad);
	for (l = 0; l < 4; l++) {
		q[3 * l] = f0[l];
		q[3 * l + 1] = f1[l];
		q[3 * l + 2] = f2[l];
	}
	memcpy(mean, &f1, sizeof f1);
}

/*
 * The last r = H mod 4 horizons (1..3), through serve4 on copies padded
 * with horizon 0 of them: a padded lane is a real horizon's twin, so it
 * adds no non-finite bit of its own, and its outputs are dropped. Not a
 * scalar loop of its own: GCC 12.2 SLP-vectorizes one (lo and md of a
 * horizon in one register) and drops the float rounding of the gate's
 * blend just as in the loop above, so with the gate on it served other
 * bits than serve4 and the general path (tests/ssm/test_model.c,
 * test_serve_q3_is_general at H 45 and 3).
 */
__attribute__((always_inline)) static inline void
serve_tail(int r, const float *o, const float *gap, const float *e,
	   const double *pt, double sc, int gate, double w, double wf, float *q,
	   float *mean, v4u *bad)
{
	float o4[12], gap4[8], e4[8], q4[12], m4[4];
	double pt4[4];
	int l, k;

	for (l = 0; l < 4; l++) {
		int s = l < r ? l : 0;

		for (k = 0; k < 3; k++)
			o4[3 * l + k] = o[3 * s + k];
		for (k = 0; k < 2; k++) {
			gap4[2 * l + k] = gap[2 * s + k];
			e4[2 * l + k] = e[2 * s + k];
		}
		pt4[l] = pt[s];
	}
	serve4(o4, gap4, e4, pt4, sc, gate, w, wf, q4, m4, bad);
	memcpy(q, q4, (size_t)(3 * r) * sizeof *q);
	memcpy(mean, m4, (size_t)r * sizeof *mean);
}

__attribute__((always_inline)) static inline uint64_t
serve_loop(int H, const float *o, const float *gap, const float *e,
	   const double *pt, double sc, int gate, double w, double wf, float *q,
	   float *mean)
{
	v4u b4 = {0, 0, 0, 0};
	int h = 0;

	for (; h + 4 <= H; h += 4)
		serve4(o + 3 * h, gap + 2 * h, e + 2 * h, pt + h, sc, gate, w,
		       wf, q + 3 * h, mean + h, &b4);
	if (h < H)
		serve_tail(H - h, o + 3 * h, gap + 2 * h, e + 2 * h, pt + h, sc,
			   gate, w, wf, q + 3 * h, mean + h, &b4);
	return b4[0] | b4[1] | b4[2] | b4[3];
}

SSM__HOT uint64_t ssm__serve_q3_loop(int H, const float *o, const float *gap,
				     const float *e, const double *pt,
				     double sc, int gate, double w, double wf,
				     float *q, float *mean)
{
	return gate ? serve_loop(H, o, gap, e, pt, sc, 1, w, wf, q, mean)
		    : serve_loop(H, o, gap, e, pt, sc, 0, w, wf, q, mean);
}

/* Horizon 1 alone: serve4's vectors with horizon 1 in every lane, lane 0
 * kept (every lane is the same value, so its non-finite bits are lane
 * 0's). The same operations on the same operands as horizon 1 of the
 * whole serving, so the same bits, without the padded copies of o, gap,
 * pt and e the general loop would need, and with 2 exponentials, not 12
 * (bench/results/serve10.md). */
SSM__HOT uint64_t ssm__serve_q3_h1(const float *o, const float *gap,
				   const float *e2, double pt, double sc,
				   int gate, double w, double wf, float *q)
{
	v4f md = {o[1], o[1], o[1], o[1]};
	v4f g0 = {gap[0], gap[0], gap[0], gap[0]};
	v4f g1 = {gap[1], gap[1], gap[1], gap[1]};
	v4f e0 = {e2[0], e2[0], e2[0], e2[0]};
	v4f e1 = {e2[1], e2[1], e2[1], e2[1]};
	v4d p = {pt, pt, pt, pt};
	v4u b4 = {0, 0, 0, 0};
	v4f f0, f1, f2;

	if (gate)
		serve4_v(&md, &g0, &g1, &e0, &e1, &p, sc, 1, w, wf, &f0, &f1,
			 &f2, &b4);
	else
		serve4_v(&md, &g0, &g1, &e0, &e1, &p, sc, 0, w, wf, &f0, &f1,
			 &f2, &b4);
	q[0] = f0[0];
	q[1] = f1[0];
	q[2] = f2[0];
	return b4[0];
}

/* ssm__clampf over n floats (model_internal.h): GCC vectorizes this loop
 * (compares and blends; the clone for AVX2), which it does not for the
 * same loop in model_step.c, compiled for the baseline alone. */
SSM__HOT void ssm__clampf_vec(const float *x, float *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = ssm__clampf(x[i]);
}

/* The exponentials serve4 reads, e[H][2]: of the clamped lower and upper
 * log-gaps o[h][0] and o[h][2] (the median's o[h][1] has none), so 2H of
 * them, not ssm__compose_exp's 3H, laid out as the front's gaps are. */
SSM__HOT void ssm__serve_q3_exp(const float *o, float *e, int H)
{
	int h;

	for (h = 0; h < H; h++) {
		e[2 * h] = ssm__clampf(o[3 * h]);
		e[2 * h + 1] = ssm__clampf(o[3 * h + 2]);
	}
	ssm_expf_vec(e, e, 2 * H);
}
