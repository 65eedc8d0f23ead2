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

#endif
