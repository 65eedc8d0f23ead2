/*
 * ssm/kern_s4d_disc.c: the float S4D layer's discretization at a gap other
 * than 1 (irregular sampling; see ssm/kern.h). Every mode needs a complex
 * exponential, and libm's cexp, one call per mode, cost about 80 us per
 * step at H = N = 32. This is branch-free elementwise code that GCC
 * vectorizes (AVX2 clone and baseline, same bits: plain IEEE operations,
 * no contraction, selects on bits), about 30 times cheaper.
 *
 * ZOH: with z = x + iy = dt gap A (x <= 0) and the cached W = C B / A,
 *   dA = e^z = e^x (cos y + i sin y),
 *   G  = C dB = (e^z - 1) W,
 *   e^z - 1 = (expm1(x) cos y + (cos y - 1)) + i e^x sin y,
 * which keeps its relative precision as z -> 0 (the plain e^z - 1 would
 * cancel). Argument reduction in double (x = k ln2 + rx, y = j pi/2 + ry,
 * Cody-Waite with fdlibm's split constants; exact products for |k|, |j| <
 * 2^20, which the caller's range check guarantees), then float
 * polynomials on the reduced arguments: expm1 by ssm/vexp.h's degree-7
 * Taylor (Estrin), sin to degree 9 and cos - 1 to degree 10 on |ry| <=
 * pi/4 (truncation below 2e-9 relative). cos y - 1 cancels only when y is
 * near 2 pi m, i.e. j = 0 mod 4, where it is cos(ry) - 1 from its own
 * polynomial; in the other quadrants it is at least 1 - sin(pi/4) in
 * size.
 * Bilinear: dA = (1 + z/2) / (1 - z/2), G = dt gap W / (1 - z/2) with
 * W = C B: rational, done in double.
 * Accuracy (tests/ssm/test_s4d_disc.c, against ssm_disc_mode in double):
 * dA and G within 6 x 2^-24 of |dA| and |G| (measured: 3.7 for ZOH, 1.0
 * for bilinear), the same bits in the AVX2 and the baseline build.
 */
#include "ssm/kern.h"
#include "ssm/simd.h"
#include "ssm/vexp.h"

#include <stdint.h>
#include <string.h>

#define PIO2_1	1.57079632673412561417e+00 /* 33 significant bits */
#define PIO2_1T 6.07710050650619224932e-11
#define INVPIO2 6.36619772367581382433e-01
#define SHIFT_D VEXP_SHIFT_D

/* Pass 1, double: reduce x = d A_re and y = d A_im into float scratch
 * rx, kx, ry, jy [N][H] (kx, jy integers held exactly as floats). */
SSM__HOT static void reduce(int H, int N, double gap, const double *restrict dt,
			    const double *restrict are,
			    const float *restrict aim, float *restrict rx,
			    float *restrict kx, float *restrict ry,
			    float *restrict jy)
{
	int n, h;

	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			double d = dt[h] * gap, x = d * are[i],
			       y = d * (double)aim[i];
			double jf = (y * INVPIO2 + SHIFT_D) - SHIFT_D;

			vexp_reduce_d(x, &rx[i], &kx[i]);
			ry[i] = (float)((y - jf * PIO2_1) - jf * PIO2_1T);
			jy[i] = (float)jf;
		}
}

/* Pass 2, float: the polynomials and the assembly of dA and G. */
SSM__HOT static void zoh(size_t HN, const float *restrict rx,
			 const float *restrict kx, const float *restrict ry,
			 const float *restrict jy, const float *restrict Wr,
			 const float *restrict Wi, float *restrict dAr,
			 float *restrict dAi, float *restrict Gr,
			 float *restrict Gi)
{
	size_t i;

	for (i = 0; i < HN; i++) {
		float t = ry[i], ex, em1;
		float t2 = t * t, sn, cm, cs, cy, sy, cym1, er, ei;
		int32_t q4 = (int32_t)jy[i] & 3;
		uint32_t m1 = 0u - (uint32_t)(q4 == 1);
		uint32_t m2 = 0u - (uint32_t)(q4 == 2);
		uint32_t m3 = 0u - (uint32_t)(q4 == 3);

		/* e^x and expm1(x) from the reduced x (ssm/vexp.h; x <= 0
		 * here, so the upper clamp of k never acts). */
		vexpm1_f(rx[i], kx[i], &ex, &em1);
		/* sin and cos - 1 of the reduced t, |t| <= pi/4. */
		sn = t +
		     t * t2 *
			 (-1.0f / 6.0f + t2 * (1.0f / 120.0f +
					       t2 * (-1.0f / 5040.0f +
						     t2 * (1.0f / 362880.0f))));
		cm = t2 *
		     (-0.5f + t2 * (1.0f / 24.0f +
				    t2 * (-1.0f / 720.0f +
					  t2 * (1.0f / 40320.0f +
						t2 * (-1.0f / 3628800.0f)))));
		cs = cm + 1.0f;
		/* y = j pi/2 + t: rotate by the quadrant j mod 4. */
		cy = sel(m1, -sn, sel(m2, -cs, sel(m3, sn, cs)));
		sy = sel(m1, cs, sel(m2, -sn, sel(m3, -cs, sn)));
		cym1 = sel(m1, -sn - 1.0f,
			   sel(m2, -cs - 1.0f, sel(m3, sn - 1.0f, cm)));
		dAr[i] = ex * cy;
		dAi[i] = ex * sy;
		er = em1 * cy + cym1;
		ei = ex * sy;
		Gr[i] = er * Wr[i] - ei * Wi[i];
		Gi[i] = er * Wi[i] + ei * Wr[i];
	}
}

/* Bilinear: w = 1 / (1 - z/2), dA = w (1 + z/2), G = d w W, in double. */
SSM__HOT static void
bilinear(int H, int N, double gap, const double *restrict dt,
	 const double *restrict are, const float *restrict aim,
	 const float *restrict Wr, const float *restrict Wi,
	 float *restrict dAr, float *restrict dAi, float *restrict Gr,
	 float *restrict Gi)
{
	int n, h;

	for (n = 0; n < N; n++)
		for (h = 0; h < H; h++) {
			size_t i = (size_t)n * H + h;
			double d = dt[h] * gap, hx = 0.5 * d * are[i],
			       hy = 0.5 * d * (double)aim[i];
			double den = (1.0 - hx) * (1.0 - hx) + hy * hy;
			double wr = (1.0 - hx) / den, wi = hy / den;
			double er = d * wr, ei = d * wi;

			dAr[i] = (float)((1.0 + hx) * wr - hy * wi);
			dAi[i] = (float)((1.0 + hx) * wi + hy * wr);
			Gr[i] =
			    (float)(er * (double)Wr[i] - ei * (double)Wi[i]);
			Gi[i] =
			    (float)(er * (double)Wi[i] + ei * (double)Wr[i]);
		}
}

int ssm__s4d_disc_f32(int H, int N, int zoh_kind, double gap, const double *dt,
		      const double *are, const float *aim, const float *Wr,
		      const float *Wi, double zmax, float *dAr, float *dAi,
		      float *Gr, float *Gi, float *scratch)
{
	size_t HN = (size_t)H * N;

	if (!(gap > 0.0 && gap * zmax <= SSM__S4D_DISC_MAX))
		return -1;
	if (!zoh_kind) {
		bilinear(H, N, gap, dt, are, aim, Wr, Wi, dAr, dAi, Gr, Gi);
		return 0;
	}
	reduce(H, N, gap, dt, are, aim, scratch, scratch + HN, scratch + 2 * HN,
	       scratch + 3 * HN);
	zoh(HN, scratch, scratch + HN, scratch + 2 * HN, scratch + 3 * HN, Wr,
	    Wi, dAr, dAi, Gr, Gi);
	return 0;
}
