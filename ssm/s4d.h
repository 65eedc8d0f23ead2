/*
 * ssm/s4d.h: the S4D block (diagonal structured state space, Gu et al. 2022).
 *
 * Per sample u (H channels) of one series:
 *   xn  = RMSNorm(u) * norm_w                  (eps 1e-5)
 *   x_n = dA_n x_n + dB_n xn_h                 each channel h, mode n
 *   v_h = 2 Re(sum_n C_n x_n) + D_h xn_h       (conjugate pairs implicit)
 *   y   = u + W_out SiLU(v) + b_out            (residual)
 * with, per channel h and mode n, the continuous A = -exp(log_A_re) +
 * i A_im, dt = exp(log_dt_h) * gap, and dA, dB = ZOH or bilinear of
 * (A, B, dt) (cfg.disc). Everything but the discretization is LTI: the
 * step does no transcendental function besides SiLU's exp (vectorized).
 *
 * Folded state: what is stored and stepped is x~_n = C_n x_n, for which
 *   x~_n = dA_n x~_n + G_n xn_h,  G_n = C_n dB_n,  v_h = 2 Re(sum_n x~_n) + ...
 * gives the same v (dA is diagonal, so it commutes with C). The step then
 * reads dA and G only, 16 bytes of parameters and 8 of state per mode
 * (with C and dB apart it read 24 and 8, which at H = N = 32 no longer fit
 * a 32 KB L1 cache). Sequence mode and backward work on the same folded
 * state, so step == sequence holds; truncated BPTT treats the initial x~ as
 * constant (no gradient into C through it).
 *
 * Shapes (B = series in a batch, T = time, H = channels, N = modes):
 *   parameters, in this order in the one allocation (ssm_s4d_tensors_info):
 *     norm_w [H], log_dt [H], log_A_re [N][H], A_im [N][H], B_re [N][H],
 *     B_im [N][H], C_re [N][H], C_im [N][H], D [H], W_out [H][H] (out, in),
 *     b_out [H].  Mode-major [N][H] so the step vectorizes over channels.
 *   state per series: ssm_s4d_state_size() reals = x~_re [N][H],
 *   x~_im [N][H] (folded, above).
 *   u, y: [H] (step), [B][H] (batch), [T][H] (sequence).
 *
 * Gaps: gap 1 uses the discretization cached by ssm_s4d_prepare(); any other
 * gap is discretized into the caller's workspace for that call: integer
 * gaps under ZOH by binary powering of the cached dA (O(log gap) complex
 * products per mode, no transcendentals; G_g = (sum_{k<g} dA^k) G), other
 * gaps (and bilinear) from the closed forms: in the float layer by
 * vectorized exp, sin and cos of its own (ssm/kern_s4d_disc.c, within
 * 6 x 2^-24 of the double closed forms, same bits on every machine) from a
 * cache _prepare fills, for gap dt |A| up to 524288; beyond that, and in
 * the double twin, in double with libm (one complex exp per mode).
 *
 * Thread safety: a prepared layer is read-only in step/forward/backward, so
 * any number of threads may use it with their own states and workspaces.
 */
#ifndef STATECAST_SSM_S4D_H
#define STATECAST_SSM_S4D_H

#include <stddef.h>

#include "ssm/layer.h"
#include "ssm/rng.h"

typedef struct ssm_s4d_cfg {
	int H;		       /* channels, 1..4096 */
	int N;		       /* complex modes per channel, 1..4096 */
	int init;	       /* enum ssm_s4d_init_kind */
	int disc;	       /* enum ssm_disc_kind */
	double dt_min, dt_max; /* log-uniform init of dt, nominal steps
				  (0 < dt_min <= dt_max); 0, 0 = 1e-3, 1e-1 */
} ssm_s4d_cfg;

#define SSM_S4D_NTENSORS 11

/* Fills info[SSM_S4D_NTENSORS] (offsets in reals); returns the count. */
int ssm_s4d_tensors_info(const ssm_s4d_cfg *cfg, ssm_tensor_info *info);
/* Reals in the parameter array. */
size_t ssm_s4d_nparams(const ssm_s4d_cfg *cfg);
/* Reals of per-series state (2 N H); all zeros is a fresh series. */
size_t ssm_s4d_state_size(const ssm_s4d_cfg *cfg);
/* 0 if cfg is in range (with dt_min = dt_max = 0 meaning the defaults). */
int ssm_s4d_cfg_check(const ssm_s4d_cfg *cfg);

/* The float layer (what the daemon steps) ... */
#define SSM_S4D_REAL	float
#define SSM_S4D_NAME(x) ssm_s4d##x
#include "ssm/s4d_decl.h"
#undef SSM_S4D_REAL
#undef SSM_S4D_NAME

/* ... and its double twin (same code; used by gradient checks). */
#define SSM_S4D_REAL	double
#define SSM_S4D_NAME(x) ssm_s4d64##x
#include "ssm/s4d_decl.h"
#undef SSM_S4D_REAL
#undef SSM_S4D_NAME

#endif
