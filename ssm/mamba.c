/*
 * ssm/mamba.c: the float Mamba block (the code is ssm/mamba_impl.h) and the
 * parts independent of the real type: config, layout.
 */
#include "ssm/mamba.h"

#include "ssm/kern.h"

#include "ssm/model.h"

int ssm_mamba_cfg_fill(ssm_mamba_cfg *c)
{
	if (c->dt_rank == 0)
		c->dt_rank = (c->d_model + 15) / 16;
	if (c->dt_min == 0.0 && c->dt_max == 0.0) {
		c->dt_min = 1e-3;
		c->dt_max = 1e-1;
	}
	if (c->d_model < 1 || c->d_model > 4096 || c->expand < 1 ||
	    c->expand > 16 || c->d_state < 1 || c->d_state > 1024 ||
	    c->d_conv < 1 || c->d_conv > 16 || c->dt_rank < 1 ||
	    c->dt_rank > 4096)
		return SSM_EINVAL;
	if (!(c->dt_min > 0.0 && c->dt_min <= c->dt_max && c->dt_max < 1e6))
		return SSM_EINVAL;
	return 0;
}

int ssm_mamba_tensors_info(const ssm_mamba_cfg *cfg, ssm_tensor_info *info)
{
	static const char *const names[SSM_MAMBA_NTENSORS] = {
	    "norm_w", "W_in", "conv_w", "conv_b", "W_x",
	    "W_dt",   "b_dt", "A_log",	"Dskip",  "W_out"};
	/* b_dt, A_log and Dskip are the dynamics (no weight decay in the
	 * reference either). */
	static const int dynamics[SSM_MAMBA_NTENSORS] = {0, 0, 0, 0, 0,
							 0, 1, 1, 1, 0};
	ssm_mamba_cfg c = *cfg;
	int D, Di, Ns, K, R, i;
	int rows[SSM_MAMBA_NTENSORS], cols[SSM_MAMBA_NTENSORS];
	size_t off = 0;

	ssm_mamba_cfg_fill(&c);
	D = c.d_model;
	Di = c.expand * c.d_model;
	Ns = c.d_state;
	K = c.d_conv;
	R = c.dt_rank;
	rows[0] = 1, cols[0] = D;	    /* norm_w */
	rows[1] = 2 * Di, cols[1] = D;	    /* W_in */
	rows[2] = Di, cols[2] = K;	    /* conv_w */
	rows[3] = 1, cols[3] = Di;	    /* conv_b */
	rows[4] = R + 2 * Ns, cols[4] = Di; /* W_x */
	rows[5] = Di, cols[5] = R;	    /* W_dt */
	rows[6] = 1, cols[6] = Di;	    /* b_dt */
	rows[7] = Di, cols[7] = Ns;	    /* A_log */
	rows[8] = 1, cols[8] = Di;	    /* Dskip */
	rows[9] = D, cols[9] = Di;	    /* W_out */
	for (i = 0; i < SSM_MAMBA_NTENSORS; i++) {
		info[i].name = names[i];
		info[i].rows = rows[i];
		info[i].cols = cols[i];
		info[i].count = (size_t)rows[i] * (size_t)cols[i];
		info[i].offset = off;
		info[i].dynamics = dynamics[i];
		off += info[i].count;
	}
	return SSM_MAMBA_NTENSORS;
}

size_t ssm_mamba_nparams(const ssm_mamba_cfg *cfg)
{
	ssm_tensor_info info[SSM_MAMBA_NTENSORS];

	ssm_mamba_tensors_info(cfg, info);
	return ssm__tensors_end(info, SSM_MAMBA_NTENSORS);
}

size_t ssm_mamba_state_size(const ssm_mamba_cfg *c)
{
	size_t Di = (size_t)c->expand * (size_t)c->d_model;

	return ((size_t)c->d_conv - 1) * Di + Di * (size_t)c->d_state;
}

#define real		  float
#define SSM_MAMBA_NAME(x) ssm_mamba##x
#define GEMM		  cblas_sgemm
#define GEMV		  cblas_sgemv
#define SMALL_GEMV	  ssm__gemv_t
#define SMALL_GEMM	  ssm__gemm_rows_t
#define SMALL_GEMM_FITS	  ssm__gemm_rows_fits
#define EXP_VEC		  ssm_expf_vec
#define SILU_VEC	  ssm_silu_vec
#define EXP		  expf
#define SOFTPLUS_VEC	  ssm_softplus_vec
#define SCAN_KERNEL	  ssm__mamba_scan_f32
#define CONV_KERNEL	  ssm__mamba_conv_f32
#include "ssm/mamba_impl.h"
