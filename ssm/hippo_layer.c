/*
 * ssm/hippo_layer.c: the float HiPPO memory layer (the code is
 * ssm/hippo_layer_impl.h) and its type-independent layout and checks.
 */
#include "ssm/hippo.h"
#include "ssm/model.h"

int ssm_hippo_cfg_check(const ssm_hippo_cfg *c)
{
	if (c->H < 1 || c->H > 4096 || c->N < 1 || c->N > 256)
		return SSM_EINVAL;
	if (c->kind != SSM_HIPPO_LEGT && c->kind != SSM_HIPPO_LEGS)
		return SSM_EINVAL;
	if (c->disc != SSM_DISC_ZOH && c->disc != SSM_DISC_BILINEAR)
		return SSM_EINVAL;
	if (!(c->theta >= 1.0 && c->theta < 1e9))
		return SSM_EINVAL;
	return 0;
}

int ssm_hippo_tensors_info(const ssm_hippo_cfg *cfg, ssm_tensor_info *info)
{
	info[0].name = "W_out";
	info[0].rows = cfg->H;
	info[0].cols = cfg->H * cfg->N;
	info[0].offset = 0;
	info[0].dynamics = 0;
	info[1].name = "b_out";
	info[1].rows = 1;
	info[1].cols = cfg->H;
	info[1].dynamics = 0;
	info[0].count = (size_t)info[0].rows * (size_t)info[0].cols;
	info[1].count = (size_t)cfg->H;
	info[1].offset = info[0].count;
	return SSM_HIPPO_NTENSORS;
}

size_t ssm_hippo_nparams(const ssm_hippo_cfg *cfg)
{
	return (size_t)cfg->H * cfg->H * cfg->N + (size_t)cfg->H;
}

size_t ssm_hippo_state_size(const ssm_hippo_cfg *cfg)
{
	return (size_t)cfg->H * (size_t)cfg->N;
}

#define real		  float
#define SSM_HIPPO_NAME(x) ssm_hippo##x
#define GEMM		  cblas_sgemm
#define GEMV		  cblas_sgemv
#include "ssm/hippo_layer_impl.h"
