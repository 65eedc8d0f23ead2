/*
 * ssm/hippo_layer64.c: the double twin of the HiPPO memory layer (same code,
 * ssm/hippo_layer_impl.h), which the finite-difference gradient checks run.
 */
#include "ssm/hippo.h"

#define real		  double
#define SSM_HIPPO_NAME(x) ssm_hippo64##x
#define GEMM		  cblas_dgemm
#define GEMV		  cblas_dgemv
#include "ssm/hippo_layer_impl.h"
