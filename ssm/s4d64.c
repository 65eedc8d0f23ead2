/*
 * ssm/s4d64.c: the double twin of the S4D block (same code, ssm/s4d_impl.h),
 * which the finite-difference gradient checks run.
 */
#include <math.h>

#include "ssm/s4d.h"

static void silu_vec64(const double *x, double *y, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] = x[i] / (1.0 + exp(-x[i]));
}

#define real		double
#define SSM_S4D_NAME(x) ssm_s4d64##x
#define GEMM		cblas_dgemm
#define GEMV		cblas_dgemv
#define SILU_VEC	silu_vec64
#define EXP		exp
#include "ssm/s4d_impl.h"
