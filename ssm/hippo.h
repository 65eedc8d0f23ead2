/*
 * ssm/hippo.h: HiPPO operators (Gu et al. 2020) and the HiPPO memory layer.
 *
 * HiPPO matrices define a linear ODE c'(t) = A c(t) + B f(t) whose state c is
 * the projection of f's history onto Legendre polynomials:
 *   LegT (translated Legendre, the LMU form of Voelker et al. 2019), window
 *        theta: theta c' = A c + B f with
 *        A_nk = (2n+1) * (-1 if n < k else (-1)^(n-k+1)), B_n = (2n+1)(-1)^n;
 *        then f(t - r theta) ~= sum_n c_n(t) P_n(2r - 1) for r in [0, 1]
 *        (P_n Legendre; tests/ssm/test_discretize.c checks it on a sine).
 *   LegS (scaled Legendre, measure uniform on [0, t]): the time-invariant
 *        form c' = A c + B f with
 *        A_nk = -sqrt((2n+1)(2k+1)) (n > k), -(n+1) (n = k), 0 (n < k);
 *        B_n = sqrt(2n+1).
 * Matrices are row-major double, order N.
 */
#ifndef STATECAST_SSM_HIPPO_H
#define STATECAST_SSM_HIPPO_H

#include <stddef.h>

#include "ssm/layer.h"
#include "ssm/rng.h"

/* A (N x N) and B (N) of LegT with window theta > 0 (A, B already / theta). */
void ssm_hippo_legt(int N, double theta, double *A, double *B);
/* A (N x N) and B (N) of LegS. */
void ssm_hippo_legs(int N, double *A, double *B);

/*
 * S4D-LegS initialisation: the LegS matrix of order 2N is normal plus low
 * rank, A = -1/2 I + S - P P^T with P_n = sqrt(n + 1/2) and S skew-symmetric.
 * S is diagonalised in double with LAPACKE_zheevd on the Hermitian -iS; its
 * eigenvalues come in conjugate pairs +-i w and the N with w > 0 are kept:
 * a_re[n] = -1/2, a_im[n] = w_n (ascending). b (complex, may be NULL) gets
 * V^H B_legs for the kept eigenvectors V (B expressed in the eigenbasis).
 * Returns 0, SSM_EINVAL (N < 1) or SSM_ENOMEM / SSM_ESHAPE on LAPACK failure.
 */
int ssm_hippo_legs_diag(int N, double *a_re, double *a_im, double *b_re,
			double *b_im);

/*
 * The HiPPO memory layer: each of H channels drives its own order-N
 * Legendre memory c_h (fixed, not learned), and a learned readout mixes all
 * memories back into the channels:
 *   c_h = dA c_h + dB u_h            (dA, dB: cfg.disc of A/theta, B/theta
 *                                     at dt = gap; LegT or LegS)
 *   y   = u + W_out vec(c) + b_out   (residual)
 * theta is the memory's time scale in nominal steps (LegT: the window
 * length). Parameters, in order: W_out [H][H N], b_out [H]. State per
 * series: c [H][N]. The recurrence is one GEMM per series ([H][N] x dA^T)
 * and the readout one GEMM across a batch.
 */
enum ssm_hippo_kind {
	SSM_HIPPO_LEGT = 0,
	SSM_HIPPO_LEGS = 1,
};

typedef struct ssm_hippo_cfg {
	int H;	      /* channels, 1..4096 */
	int N;	      /* memory order, 1..256 */
	int kind;     /* enum ssm_hippo_kind */
	int disc;     /* enum ssm_disc_kind */
	double theta; /* time scale in nominal steps, >= 1 */
} ssm_hippo_cfg;

#define SSM_HIPPO_NTENSORS 2

int ssm_hippo_cfg_check(const ssm_hippo_cfg *cfg);
int ssm_hippo_tensors_info(const ssm_hippo_cfg *cfg, ssm_tensor_info *info);
size_t ssm_hippo_nparams(const ssm_hippo_cfg *cfg);
size_t ssm_hippo_state_size(const ssm_hippo_cfg *cfg);

#define SSM_HIPPO_REAL	  float
#define SSM_HIPPO_NAME(x) ssm_hippo##x
#include "ssm/hippo_decl.h"
#undef SSM_HIPPO_REAL
#undef SSM_HIPPO_NAME

#define SSM_HIPPO_REAL	  double
#define SSM_HIPPO_NAME(x) ssm_hippo64##x
#include "ssm/hippo_decl.h"
#undef SSM_HIPPO_REAL
#undef SSM_HIPPO_NAME

#endif
