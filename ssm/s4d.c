/*
 * ssm/s4d.c: the float S4D block (the code is ssm/s4d_impl.h) and the parts
 * that do not depend on the real type: layout and config checks.
 */
#include "ssm/s4d.h"

#include "ssm/kern.h"
#include "ssm/model.h"

int ssm_s4d_cfg_check(const ssm_s4d_cfg *cfg)
{
	int defaults = cfg->dt_min == 0.0 && cfg->dt_max == 0.0;

	if (cfg->H < 1 || cfg->H > 4096 || cfg->N < 1 || cfg->N > 4096)
		return SSM_EINVAL;
	if (cfg->init < SSM_S4D_LIN || cfg->init > SSM_S4D_LEGS)
		return SSM_EINVAL;
	if (cfg->disc != SSM_DISC_ZOH && cfg->disc != SSM_DISC_BILINEAR)
		return SSM_EINVAL;
	if (!defaults && !(cfg->dt_min > 0.0 && cfg->dt_min <= cfg->dt_max &&
			   cfg->dt_max < 1e6))
		return SSM_EINVAL;
	return 0;
}

int ssm_s4d_tensors_info(const ssm_s4d_cfg *cfg, ssm_tensor_info *info)
{
	/* name, rows, cols, dynamics; the order is the memory layout. */
	static const struct {
		const char *name;
		int rows_is_n, cols_is_h, square, dynamics;
	} t[SSM_S4D_NTENSORS] = {
	    {"norm_w", 0, 1, 0, 0},   {"log_dt", 0, 1, 0, 1},
	    {"log_A_re", 1, 1, 0, 1}, {"A_im", 1, 1, 0, 1},
	    {"B_re", 1, 1, 0, 0},     {"B_im", 1, 1, 0, 0},
	    {"C_re", 1, 1, 0, 0},     {"C_im", 1, 1, 0, 0},
	    {"D", 0, 1, 0, 0},	      {"W_out", 0, 1, 1, 0},
	    {"b_out", 0, 1, 0, 0},
	};
	size_t off = 0;
	int i;

	for (i = 0; i < SSM_S4D_NTENSORS; i++) {
		info[i].name = t[i].name;
		info[i].rows =
		    t[i].rows_is_n ? cfg->N : (t[i].square ? cfg->H : 1);
		info[i].cols = cfg->H;
		info[i].count = (size_t)info[i].rows * (size_t)info[i].cols;
		info[i].offset = off;
		info[i].dynamics = t[i].dynamics;
		off += info[i].count;
	}
	return SSM_S4D_NTENSORS;
}

size_t ssm_s4d_nparams(const ssm_s4d_cfg *cfg)
{
	ssm_tensor_info info[SSM_S4D_NTENSORS];

	ssm_s4d_tensors_info(cfg, info);
	return ssm__tensors_end(info, SSM_S4D_NTENSORS);
}

size_t ssm_s4d_state_size(const ssm_s4d_cfg *cfg)
{
	return 2 * (size_t)cfg->H * (size_t)cfg->N;
}

#define real		float
#define SSM_S4D_NAME(x) ssm_s4d##x
#define GEMM		cblas_sgemm
#define GEMV		cblas_sgemv
#define SMALL_GEMV	ssm__gemv_t
#define SMALL_GEMM	ssm__gemm_rows_t
#define SMALL_GEMM_FITS ssm__gemm_rows_fits
#define SCAN_KERNEL	ssm__s4d_scan_f32
#define SCAN_PACK	ssm__s4d_pack_f32
#define SCAN_PACK_SIZE	ssm__s4d_pack_size
#define DISC_FAST	ssm__s4d_disc_f32
#define SILU_VEC	ssm_silu_vec
#define EXP		expf
#include "ssm/s4d_impl.h"
