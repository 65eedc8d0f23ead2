/*
 * ssm/mamba64.c: the double twin of the Mamba block (same code,
 * ssm/mamba_impl.h), which the finite-difference gradient checks run.
 */
#include <math.h>

#include "ssm/mamba.h"

#define real		  double
#define SSM_MAMBA_NAME(x) ssm_mamba64##x
#define GEMM		  cblas_dgemm
#define GEMV		  cblas_dgemv
#define EXP_VEC		  ssm__exp_vec64
#define SILU_VEC	  ssm__silu_vec64
#define EXP		  exp
#define SOFTPLUS_VEC	  ssm__softplus_vec64
#include "ssm/mamba_impl.h"
