/*
 * ssm/s4d64.c: the double twin of the S4D block (same code, ssm/s4d_impl.h),
 * which the finite-difference gradient checks run.
 */
#include <math.h>

#include "ssm/s4d.h"

#define real		double
#define SSM_S4D_NAME(x) ssm_s4d64##x
#define GEMM		cblas_dgemm
#define GEMV		cblas_dgemv
#define SILU_VEC	ssm__silu_vec64
#define EXP		exp
#include "ssm/s4d_impl.h"
