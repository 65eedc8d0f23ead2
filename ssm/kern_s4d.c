/*
 * ssm/kern_s4d.c: the S4D step kernel (see ssm/kern.h).
 *
 * Why not the plain loop: with channels innermost and v[h] accumulated in
 * memory, every mode's v update waited on the previous mode's store (a
 * store-to-load chain per vector of channels), which cost more than the
 * arithmetic. Here one block of 16 channels runs down all N modes with its
 * sum in registers. The step is bound by bytes: per mode it reads dA and
 * G (16 bytes, the folded form of s4d.h) and reads and writes the state
 * (8 bytes); at H = N = 32 that is 24 KB, which with the 4 KB output
 * projection stays in a 32 KB L1 from one step to the next. The packed
 * copy makes the parameters one sequential stream (the four [N][H] arrays
 * are 4 KB apart and would share cache sets).
 */
#include "ssm/kern.h"
#include "ssm/kern_vec.h"
#include "ssm/simd.h"

/* One mode for 8 channels: parameters at the pointers p (dA_re), q
 * (dA_im), b (G_re), c (G_im), state at sr + i and si + i; x the
 * channels' input, acc their sum. */
#define S4D_MODE(p, q, b, c, i, x, acc)                       \
	do {                                                  \
		v8 ar_ = LD(p), ai_ = LD(q);                  \
		v8 pr_ = LD(sr + (i)), pi_ = LD(si + (i));    \
		v8 xr_ = ar_ * pr_ - ai_ * pi_ + LD(b) * (x); \
		v8 xi_ = ar_ * pi_ + ai_ * pr_ + LD(c) * (x); \
		ST(sr + (i), xr_);                            \
		ST(si + (i), xi_);                            \
		(acc) = (acc) + xr_;                          \
	} while (0)
#define S4D_MODE_AT(i, x, acc) \
	S4D_MODE(dAr + (i), dAi + (i), Gr + (i), Gi + (i), i, x, acc)

size_t ssm__s4d_pack_size(int H, int N)
{
	return (size_t)4 * (size_t)(H / 16 * 16) * (size_t)N;
}

void ssm__s4d_pack_f32(int H, int N, const float *dAr, const float *dAi,
		       const float *Gr, const float *Gi, float *pk)
{
	const float *src[4] = {dAr, dAi, Gr, Gi};
	int h, n, k, j;

	for (h = 0; h + 16 <= H; h += 16)
		for (n = 0; n < N; n++)
			for (k = 0; k < 4; k++)
				for (j = 0; j < 16; j++)
					*pk++ = src[k][(size_t)n * H + h + j];
}

SSM__HOT void ssm__s4d_scan_f32(int H, int N, const float *restrict pk,
				const float *restrict dAr,
				const float *restrict dAi,
				const float *restrict Gr,
				const float *restrict Gi,
				const float *restrict D, float *restrict s,
				const float *restrict xn, float *restrict v)
{
	size_t HN = (size_t)H * N, i;
	float *restrict sr = s, *restrict si = s + HN;
	int h = 0, n;

	/* 16 channels (a cache line of each array) per pass; from the packed
	 * copy, one sequential stream, when there is one. */
	for (; h + 16 <= H; h += 16) {
		v8 x0 = LD(xn + h), x1 = LD(xn + h + 8), a0 = {0}, a1 = {0};

		if (pk)
			for (n = 0, i = (size_t)h; n < N;
			     n++, i += (size_t)H, pk += 64) {
				S4D_MODE(pk, pk + 16, pk + 32, pk + 48, i, x0,
					 a0);
				S4D_MODE(pk + 8, pk + 24, pk + 40, pk + 56,
					 i + 8, x1, a1);
			}
		else
			for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H) {
				S4D_MODE_AT(i, x0, a0);
				S4D_MODE_AT(i + 8, x1, a1);
			}
		ST(v + h, 2 * a0 + LD(D + h) * x0);
		ST(v + h + 8, 2 * a1 + LD(D + h + 8) * x1);
	}
	for (; h + 8 <= H; h += 8) {
		v8 x0 = LD(xn + h), a0 = {0};

		for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H)
			S4D_MODE_AT(i, x0, a0);
		ST(v + h, 2 * a0 + LD(D + h) * x0);
	}
	for (; h < H; h++) {
		float x = xn[h], acc = 0;

		for (n = 0, i = (size_t)h; n < N; n++, i += (size_t)H) {
			float xr = dAr[i] * sr[i] - dAi[i] * si[i] + Gr[i] * x;
			float xi = dAr[i] * si[i] + dAi[i] * sr[i] + Gi[i] * x;

			sr[i] = xr;
			si[i] = xi;
			acc = acc + xr;
		}
		v[h] = 2 * acc + D[h] * x;
	}
}
