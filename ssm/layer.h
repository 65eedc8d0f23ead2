/*
 * ssm/layer.h: what every layer of ssm/ shares.
 *
 * Layers (ssm/s4d.h, ssm/mamba.h, ssm/hippo.h) follow one shape, llm.c style:
 *  - a config struct (shapes and choices, plain ints and doubles);
 *  - all parameters in ONE allocation of *_nparams(cfg) reals, carved into
 *    named tensors in a fixed order (ssm_tensor_info lists them), so a model
 *    file, an optimizer and a gradient buffer can all treat them as one flat
 *    array with the same layout;
 *  - per-series state: *_state_size(cfg) reals of caller-owned memory, all
 *    zeros = a fresh series;
 *  - a step mode (one sample, or B series at once with the projections as one
 *    GEMM), a sequence mode that saves activations, and a backward pass over a
 *    sequence (truncated BPTT: no gradient flows into the initial state);
 *  - the caller hands every scratch buffer in (workspace), so nothing
 *    allocates after construction.
 *
 * Each layer is written once over a `real` type and compiled twice: float
 * (ssm_s4d_*, ssm_mamba_*, ssm_hippo_*: what runs) and double (ssm_s4d64_*,
 * ssm_mamba64_*, ssm_hippo64_*: what the finite-difference gradient checks
 * use).
 *
 * Irregular sampling: every step and sequence call takes the gap since the
 * previous sample in nominal steps (1 = regular, NULL array = all regular);
 * the layer's dt is multiplied by it. gap must be finite and > 0.
 */
#ifndef STATECAST_SSM_LAYER_H
#define STATECAST_SSM_LAYER_H

#include <stddef.h>

/* Discretization rule of a continuous-time layer. */
enum ssm_disc_kind {
	SSM_DISC_ZOH = 0,      /* zero-order hold: dA = exp(dt A) */
	SSM_DISC_BILINEAR = 1, /* Tustin: dA = (I - dt/2 A)^-1 (I + dt/2 A) */
};

/* Initialisation of a diagonal (S4D) state matrix. */
enum ssm_s4d_init_kind {
	SSM_S4D_LIN = 0,  /* A_n = -1/2 + i pi n */
	SSM_S4D_INV = 1,  /* A_n = -1/2 + i N/pi (N/(2n+1) - 1) */
	SSM_S4D_REAL = 2, /* A_n = -(n+1) */
	SSM_S4D_LEGS = 3, /* eigenvalues of the HiPPO-LegS normal part */
};

/* One named parameter tensor inside a layer's flat parameter array. */
typedef struct ssm_tensor_info {
	const char *name; /* e.g. "log_dt" */
	size_t offset;	  /* in reals from the start of the parameters */
	size_t count;	  /* number of reals */
	int rows, cols;	  /* shape (cols = 1 for vectors) */
	int dynamics;	  /* 1 for SSM dynamics (dt, A, ...): no weight decay */
} ssm_tensor_info;

/*
 * y[i] = exp(x[i]) for n floats, vectorizable (no -ffast-math needed):
 * within 2 ulp of libm's expf for x in [-87, 88.7]; +Inf above 88.72, 0
 * below -87.33 (no subnormals), NaN stays NaN. x and y may alias exactly.
 */
void ssm_expf_vec(const float *x, float *y, int n);

/* y[i] = x[i] * sigmoid(x[i]) (SiLU) via ssm_expf_vec; x, y may alias. */
void ssm_silu_vec(const float *x, float *y, int n);

/* y[i] = softplus(x[i]) = log(1 + exp(x)), = x for x > 20 (the Mamba
 * reference's threshold); within 3 ulp of log1p(exp(x)); vectorizable.
 * NaN stays NaN. x, y may alias exactly. */
void ssm_softplus_vec(const float *x, float *y, int n);

/* Internal: reals spanned by n tensors laid out by a *_tensors_info. */
static inline size_t ssm__tensors_end(const ssm_tensor_info *info, int n)
{
	return info[n - 1].offset + info[n - 1].count;
}

/* Internal: y[Out] += x[In] W^T given WT = W^T stored [In][Out]: the
 * single-series projection of small layers, where a BLAS call's overhead
 * exceeds the work. Sums over In in index order (deterministic). */
void ssm__gemv_t(int In, int Out, const float *WT, const float *x, float *y);

/* Internal: y[m][Out] (row stride ldy) = (beta ? y : 0) + x[m][In] (row
 * stride ldx) W^T for m < M, WT = W^T stored [In][Out]; beta 0 or 1. The
 * batched step's projections: the same bits as OpenBLAS's Haswell sgemm
 * for the shapes ssm__gemm_rows_fits accepts (ssm/kern_gemv.c says why
 * and how), at a third of its instructions; a row's result does not depend
 * on the other rows. */
void ssm__gemm_rows_t(int M, int In, int Out, const float *WT, const float *x,
		      int ldx, float *y, int ldy, int beta);

/* Internal: whether ssm__gemm_rows_t gives OpenBLAS's bits for inner size
 * In (a multiple of 8 up to 256); otherwise the step keeps the GEMM. */
static inline int ssm__gemm_rows_fits(int In)
{
	return In > 0 && In % 8 == 0 && In <= 256;
}

/* Internal: the double twins' elementwise exp and SiLU (plain libm loops). */
void ssm__exp_vec64(const double *x, double *y, int n);
void ssm__silu_vec64(const double *x, double *y, int n);
void ssm__softplus_vec64(const double *x, double *y, int n);

#endif
