/*
 * ssm/kern.h (internal): the float step kernels of the layers' hot loops,
 * written with GCC generic vectors (16 floats per value: two AVX2 registers
 * or four SSE ones) and compiled for AVX2 and the x86-64 baseline, picked at
 * load (ssm/simd.h). The S4D kernel computes exactly the IEEE operations, in
 * the same order, as the scalar loop it replaces (ssm/s4d_impl.h): only the
 * loop structure changes (accumulators in registers instead of a store and
 * reload per mode, one pass over the data instead of several). The Mamba
 * kernel also fuses its multiply-adds (fmaf: one rounding, the same bits on
 * every machine) and has its own exponential, so it agrees with its plain
 * path to rounding, not to the bit. Results are the same bits on every
 * machine;
 * tests/ssm/test_simd.c holds the kernels to that and to their plain
 * references.
 */
#ifndef STATECAST_SSM_KERN_H
#define STATECAST_SSM_KERN_H

#include <stddef.h>

/*
 * One S4D recurrence step on the folded state (ssm/s4d.h) over H channels
 * and N complex modes, all [N][H] (mode-major): s = (x_re [N][H],
 * x_im [N][H]) advances in place,
 *   x = dA x + G xn[h],  v[h] = 2 sum_n x_re + D[h] xn[h]
 * with the sum over n in ascending order. s may not alias anything else.
 * pk: NULL, or the same dA and G packed by ssm__s4d_pack_f32, which the
 * blocks of 16 channels then read instead of the four arrays; same
 * results.
 */
void ssm__s4d_scan_f32(int H, int N, const float *pk, const float *dAr,
		       const float *dAi, const float *Gr, const float *Gi,
		       const float *D, float *s, const float *xn, float *v);
/* Floats of the packed copy: [H/16][N][4][16]. */
size_t ssm__s4d_pack_size(int H, int N);
void ssm__s4d_pack_f32(int H, int N, const float *dAr, const float *dAi,
		       const float *Gr, const float *Gi, float *pk);

/*
 * The float S4D layer's discretization of its H N modes at a gap other
 * than 1 (ssm/kern_s4d_disc.c), from the cache its _prepare fills:
 * dt [H] = exp(log_dt) and are [N][H] = -exp(log_A_re) in double, aim
 * [N][H] = A_im, W [N][H] = C B / A (ZOH, zoh = 1) or C B (bilinear,
 * zoh = 0), zmax = max dt |A|. Writes dA and G [N][H] each, using scratch
 * [4][N][H]; within 6 x 2^-24 of |dA| and |G| of the double closed forms
 * (tested). Returns 0, or -1 without writing anything when gap is not in
 * (0, SSM__S4D_DISC_MAX / zmax] (the caller then takes the double path).
 */
#define SSM__S4D_DISC_MAX 524288.0
int ssm__s4d_disc_f32(int H, int N, int zoh, double gap, const double *dt,
		      const double *are, const float *aim, const float *Wr,
		      const float *Wi, double zmax, float *dAr, float *dAi,
		      float *Gr, float *Gi, float *scratch);

/*
 * One Mamba selective-scan step over Di channels and Ns states, with the
 * exponentials computed in the same pass (the plain path writes them all
 * to a buffer first): h [Ns][Di] advances in place,
 *   h = 2^(dt[c] AL[n][c]) h + Bv[n] (dt[c] xs[c]),
 *   yc[c] = sum_n Cv[n] h (ascending n) + Dskip[c] xs[c],
 * AL = A^T log2(e) [Ns][Di], so the power is exp(dt A). The update and the
 * readout are fused multiply-adds (h = fma(e, h, Bv[n] (dt xs)),
 * yc = fma(Cv[n], h, yc)), e = ssm__exp2f_neg_vec's value. It runs only
 * when dt[c] Amax[c] <= SSM__SCAN_MAX for every channel (Amax[c] =
 * max_n |A[c][n]|), and returns 0; otherwise it touches nothing and returns
 * -1 (the caller takes the plain path, whose range handling covers huge
 * gaps, Inf and NaN).
 */
#define SSM__SCAN_MAX 86.0f
int ssm__mamba_scan_f32(int Di, int Ns, const float *AL, const float *Amax,
			float *h, const float *dt, const float *Bv,
			const float *Cv, const float *xs, const float *Dskip,
			float *yc);

/*
 * One Mamba causal depthwise conv step over Di channels, window K:
 *   xc[c] = conv_b[c] + sum_{k < K-1} wT[k][c] win[k][c] + wT[K-1][c] x[c]
 * (k ascending, each term a multiply then an add, as mamba_impl.h's plain
 * conv_step: the same bits), then the window [K-1][Di] shifts up one row
 * and takes x as its last. One pass of 8 channels at a time: the sum stays
 * in a register down the taps (the plain loop stored and reloaded xc per
 * tap) and the window's column shifts as it is read (the plain one called
 * memmove and memcpy after). win, x and xc do not overlap.
 */
void ssm__mamba_conv_f32(int Di, int K, const float *conv_b, const float *wT,
			 float *win, const float *x, float *xc);
/* The scan's exponential, exposed for tests/ssm/test_simd.c: y = 2^t for
 * t in [-124, 0] only (the scan's t = dt A log2 e stays in
 * [-86 log2 e (1 + 2^-22), 0]; within 1.5 ulp of exp2, tested). */
void ssm__exp2f_neg_vec(const float *t, float *y, int n);

/*
 * Whether any of x[0..n) is Inf or NaN (nonzero) or none is (0).
 */
int ssm__nonfinite_any(const float *x, size_t n);

#endif
