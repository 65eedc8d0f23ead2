/*
 * ssm/kern_s4d.c: the S4D step kernel (see ssm/kern.h).
 *
 * Why not the plain loop: with channels innermost and v[h] accumulated in
 * memory, every mode's v update waited on the previous mode's store (a
 * store-to-load chain per vector of channels), which cost more than the
 * arithmetic. Here one block of 16 channels runs down all N modes with its
 * sum in registers; the block after it re-reads the same cache lines' other
 * half, so the bytes touched per step are unchanged (the parameters and
 * state, 32 bytes per mode).
 */
#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"

/* One mode for 8 channels at i; x the channels' input, acc their sum. */
#define S4D_MODE(i, x, acc)                                                \
	do {                                                               \
		v8 ar_ = LD(dAr + (i)), ai_ = LD(dAi + (i));               \
		v8 pr_ = LD(sr + (i)), pi_ = LD(si + (i));                 \
		v8 xr_ = ar_ * pr_ - ai_ * pi_ + LD(dBr + (i)) * (x);      \
		v8 xi_ = ar_ * pi_ + ai_ * pr_ + LD(dBi + (i)) * (x);      \
		ST(sr + (i), xr_);                                         \
		ST(si + (i), xi_);                                         \
		(acc) = (acc) + (LD(Cr + (i)) * xr_ - LD(Ci + (i)) * xi_); \
	} while (0)

SSM__HOT void ssm__s4d_scan_f32(
    int H, int N, const float *restrict dAr, const float *restrict dAi,
    const float *restrict dBr, const float *restrict dBi,
    const float *restrict Cr, const float *restrict Ci, const float *restrict D,
    float *restrict s, const float *restrict xn, float *restrict v)
{
	size_t HN = (size_t)H * N, i;
	float *restrict sr = s, *restrict si = s + HN;
	int h = 0, n;

	/* 16 channels (a cache line of each array) per pass. */
	for (; h + 16 <= H; h += 16) {
		v8 x0 = LD(xn + h), x1 = LD(xn + h + 8), a0 = {0}, a1 = {0};

		for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H) {
			S4D_MODE(i, x0, a0);
			S4D_MODE(i + 8, x1, a1);
		}
		ST(v + h, 2 * a0 + LD(D + h) * x0);
		ST(v + h + 8, 2 * a1 + LD(D + h + 8) * x1);
	}
	for (; h + 8 <= H; h += 8) {
		v8 x0 = LD(xn + h), a0 = {0};

		for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H)
			S4D_MODE(i, x0, a0);
		ST(v + h, 2 * a0 + LD(D + h) * x0);
	}
	for (; h < H; h++) {
		float x = xn[h], acc = 0;

		for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H) {
			float xr = dAr[i] * sr[i] - dAi[i] * si[i] + dBr[i] * x;
			float xi = dAr[i] * si[i] + dAi[i] * sr[i] + dBi[i] * x;

			sr[i] = xr;
			si[i] = xi;
			acc = acc + (Cr[i] * xr - Ci[i] * xi);
		}
		v[h] = 2 * acc + D[h] * x;
	}
}
