/*
 * ssm/mamba.h: the Mamba block (selective state space, Gu and Dao 2023).
 *
 * Per sample u (D = d_model channels) of one series, Di = expand * D inner
 * channels, Ns = d_state, K = d_conv, R = dt_rank:
 *   xn      = RMSNorm(u) * norm_w                         (eps 1e-5)
 *   [x; z]  = W_in xn                                     x, z: [Di]
 *   xc      = conv_b + sum_k conv_w[:, k] * x_{t-K+1+k}   causal, depthwise
 *   xs      = SiLU(xc)
 *   [r; Bt; Ct] = W_x xs                                  [R], [Ns], [Ns]
 *   dt      = softplus(W_dt r + b_dt) * gap               [Di]; softplus(p) = p
 *                                                         for p > 20
 *   A       = -exp(A_log)                                 [Di][Ns]
 *   h       = exp(dt A) * h + (dt Bt) * xs                [Di][Ns] per channel
 *   yc      = h Ct + Dskip * xs
 *   out     = u + W_out (yc * SiLU(z))                    residual
 * No biases on the projections, as the reference.
 *
 * Shapes, in this order in the one parameter allocation
 * (ssm_mamba_tensors_info): norm_w [D], W_in [2 Di][D], conv_w [Di][K],
 * conv_b [Di], W_x [R + 2 Ns][Di], W_dt [Di][R], b_dt [Di],
 * A_log [Di][Ns], Dskip [Di], W_out [D][Di]. Matrices are (out, in).
 *
 * State per series (ssm_mamba_state_size() reals, zeros = fresh):
 *   conv window [K-1][Di]: the previous K-1 x columns, oldest first (shifted
 *   each step; at K = 4 moving 3 columns costs less than ring indexing and
 *   needs no integer head in the float block), then h [Ns][Di] (mode-major so
 *   the scan vectorizes over channels).
 *
 * Initialisation as the reference (mamba_simple.py): dt log-uniform in
 * [dt_min, dt_max] (floor 1e-4) stored as the inverse softplus in b_dt,
 * W_dt uniform +-R^-1/2, A_log = log(1..Ns) (S4D-Real), Dskip = 1, linear and
 * conv weights uniform +-fan_in^-1/2, norm_w = 1, conv_b uniform too.
 *
 * The step is selective (dt, B, C depend on the input), so it computes
 * Di * Ns exponentials per sample: in the float step, the fused scan's
 * base-2 exponential (ssm/kern.h; ssm_expf_vec when a long gap takes dt A
 * out of its range), elsewhere the vectorized ssm_expf_vec.
 * Thread safety as s4d.h: the layer is read-only while stepping.
 */
#ifndef STATECAST_SSM_MAMBA_H
#define STATECAST_SSM_MAMBA_H

#include <stddef.h>

#include "ssm/layer.h"
#include "ssm/rng.h"

typedef struct ssm_mamba_cfg {
	int d_model;	       /* D, 1..4096 */
	int expand;	       /* Di = expand * D, 1..16 (reference 2) */
	int d_state;	       /* Ns, 1..1024 (reference 16) */
	int d_conv;	       /* K, 1..16 (reference 4) */
	int dt_rank;	       /* R, 1..4096; 0 = ceil(D / 16) */
	double dt_min, dt_max; /* 0, 0 = 1e-3, 1e-1 */
} ssm_mamba_cfg;

#define SSM_MAMBA_NTENSORS 10

/* ssm_mamba_step_batch runs the whole block over tiles of at most this many
 * series, one after another, so that a tile's activations and states stay
 * in L2 from one pass to the next (a batch of 1024 in one piece spilled them
 * to L3 on every pass); ssm_mamba_workspace_bytes(cfg, B) is the same for
 * every B from this on. */
#define SSM_MAMBA_TILE 64

/* Fill defaults (dt_rank, dt range) in place and check ranges: 0 or
 * SSM_EINVAL. The size and layout functions fill a copy themselves, so an
 * unfilled cfg gives the same answers as the filled one. */
int ssm_mamba_cfg_fill(ssm_mamba_cfg *cfg);
int ssm_mamba_tensors_info(const ssm_mamba_cfg *cfg, ssm_tensor_info *info);
size_t ssm_mamba_nparams(const ssm_mamba_cfg *cfg);
size_t ssm_mamba_state_size(const ssm_mamba_cfg *cfg);

#define SSM_MAMBA_REAL	  float
#define SSM_MAMBA_NAME(x) ssm_mamba##x
#include "ssm/mamba_decl.h"
#undef SSM_MAMBA_REAL
#undef SSM_MAMBA_NAME

#define SSM_MAMBA_REAL	  double
#define SSM_MAMBA_NAME(x) ssm_mamba64##x
#include "ssm/mamba_decl.h"
#undef SSM_MAMBA_REAL
#undef SSM_MAMBA_NAME

#endif
