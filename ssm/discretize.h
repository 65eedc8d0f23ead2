/*
 * ssm/discretize.h: continuous-time state space -> discrete recurrence.
 *
 * x'(t) = A x(t) + B u(t), sampled every dt with u held over the interval,
 * becomes x[k] = dA x[k-1] + dB u[k]. Two rules (enum ssm_disc_kind in
 * layer.h):
 *   ZOH       dA = exp(dt A),                 dB = A^-1 (exp(dt A) - I) B
 *   bilinear  dA = (I - dt/2 A)^-1 (I + dt/2 A), dB = (I - dt/2 A)^-1 dt B
 * They agree to O(dt^3) per step (both match exp(dt A) to second order).
 *
 * Everything here is setup, not the step path, and runs in double: layers
 * call it once per parameter change (and per unusual gap), then step with the
 * rounded results.
 */
#ifndef STATECAST_SSM_DISCRETIZE_H
#define STATECAST_SSM_DISCRETIZE_H

#include <complex.h>

#include "ssm/layer.h"

/*
 * One diagonal mode a (complex, Re a < 0 for stability) with step dt > 0:
 * *dA = discrete pole, *E = dB / B (the input gain per unit B). When d is
 * not NULL it also receives the holomorphic derivatives used by backward
 * passes: d[0] = d dA/d a, d[1] = d dA/d dt, d[2] = d E/d a, d[3] = dE/d dt.
 * a = 0 is allowed (ZOH then gives E = dt, the limit).
 */
void ssm_disc_mode(int kind, double complex a, double dt, double complex *dA,
		   double complex *E, double complex d[4]);

/*
 * Diagonal system of n modes (A and B complex, split re/im, length n):
 * fills dA and dB (re/im, length n) for step dt. Returns 0 or SSM_EINVAL
 * (unknown kind, dt not > 0).
 */
int ssm_disc_diag(int kind, int n, const double *a_re, const double *a_im,
		  const double *b_re, const double *b_im, double dt,
		  double *dA_re, double *dA_im, double *dB_re, double *dB_im);

/*
 * Dense real system of order n (A row-major n x n, B length n): fills dA
 * (n x n) and dB (n). ZOH uses the matrix exponential of the augmented
 * [[A, B], [0, 0]] dt (which also covers singular A); bilinear solves
 * (I - dt/2 A) [dA dB] = [(I + dt/2 A) dt B] with LAPACKE dgesv.
 * ws: ssm_disc_dense_ws(n) doubles of scratch.
 * Returns 0, SSM_EINVAL, or SSM_ESHAPE when I - dt/2 A is singular.
 */
int ssm_disc_dense(int kind, int n, const double *A, const double *B, double dt,
		   double *dA, double *dB, double *ws);
/* Scratch doubles ssm_disc_dense() needs for order n. */
size_t ssm_disc_dense_ws(int n);

/*
 * E = exp(M) for a real n x n row-major M: scaling and squaring with the
 * degree-(8,8) Pade approximant (relative error about 1e-16 for the scaled
 * norm <= 0.5). ws: ssm_expm_ws(n) doubles. Returns 0 or SSM_ESHAPE if the
 * Pade denominator is singular (cannot happen for finite M).
 */
int ssm_expm(int n, const double *M, double *E, double *ws);
size_t ssm_expm_ws(int n);

#endif
