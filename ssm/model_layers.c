/*
 * ssm/model_layers.c: the model's layer stack, one dispatch per layer kind
 * (S4D of ssm/s4d.h, Mamba of ssm/mamba.h), so model.c, model_step.c and
 * train.c handle a layer without knowing its kind. Both kinds share one
 * shape (layer.h): flat parameters, caller-owned state, step, batched step,
 * sequence forward and backward.
 */
#include <string.h>

#include "ssm/layer.h"
#include "ssm/model_internal.h"

static int is_mamba(const ssm_model *m, int l)
{
	return m->arch.layer[l].kind == SSM_LAYER_MAMBA;
}

int ssm__layer_cfg(const ssm_model_arch *a, int l, ssm_s4d_cfg *s,
		   ssm_mamba_cfg *mc)
{
	const ssm_layer_spec *sp = &a->layer[l];

	memset(s, 0, sizeof *s);
	memset(mc, 0, sizeof *mc);
	if (sp->n_state < 1 || sp->n_state > 256)
		return SSM_ESHAPE;
	if (sp->kind == SSM_LAYER_S4D) {
		s->H = a->d_model;
		s->N = sp->n_state;
		s->init = SSM_S4D_LIN;
		s->disc = SSM_DISC_ZOH;
		return ssm_s4d_cfg_check(s) ? SSM_ESHAPE : SSM_OK;
	}
	if (sp->kind == SSM_LAYER_MAMBA) {
		mc->d_model = a->d_model;
		mc->expand = sp->expand;
		mc->d_state = sp->n_state;
		mc->d_conv = sp->d_conv;
		return ssm_mamba_cfg_fill(mc) ? SSM_ESHAPE : SSM_OK;
	}
	return SSM_ESHAPE;
}

int ssm__layer_init(ssm_model *m, int l, ssm_rng *r)
{
	ssm_s4d_cfg s;
	ssm_mamba_cfg mc;
	int err = ssm__layer_cfg(&m->arch, l, &s, &mc);

	if (err)
		return err;
	return is_mamba(m, l) ? ssm_mamba_init(&m->mamba[l], &mc, r)
			      : ssm_s4d_init(&m->s4d[l], &s, r);
}

void ssm__layer_release(ssm_model *m, int l)
{
	if (is_mamba(m, l))
		ssm_mamba_release(&m->mamba[l]);
	else
		ssm_s4d_release(&m->s4d[l]);
}

int ssm__layer_prepare(ssm_model *m, int l)
{
	return is_mamba(m, l) ? ssm_mamba_prepare(&m->mamba[l])
			      : ssm_s4d_prepare(&m->s4d[l]);
}

float *ssm__layer_params(const ssm_model *m, int l, size_t *n)
{
	if (is_mamba(m, l)) {
		*n = ssm_mamba_nparams(&m->mamba[l].cfg);
		return m->mamba[l].params;
	}
	*n = ssm_s4d_nparams(&m->s4d[l].cfg);
	return m->s4d[l].params;
}

int ssm__layer_tensors(const ssm_model *m, int l, ssm_tensor_info *info)
{
	return is_mamba(m, l) ? ssm_mamba_tensors_info(&m->mamba[l].cfg, info)
			      : ssm_s4d_tensors_info(&m->s4d[l].cfg, info);
}

size_t ssm__layer_state(const ssm_model *m, int l)
{
	return is_mamba(m, l) ? ssm_mamba_state_size(&m->mamba[l].cfg)
			      : ssm_s4d_state_size(&m->s4d[l].cfg);
}

size_t ssm__layer_ws(const ssm_model *m, int l, int B)
{
	return is_mamba(m, l) ? ssm_mamba_workspace_bytes(&m->mamba[l].cfg, B)
			      : ssm_s4d_workspace_bytes(&m->s4d[l].cfg, B);
}

void ssm__layer_step_batch(const ssm_model *m, int l, int B,
			   float *const *states, const double *gaps,
			   const float *u, float *y, void *ws)
{
	if (is_mamba(m, l))
		ssm_mamba_step_batch(&m->mamba[l], B, states, gaps, u, y, ws);
	else
		ssm_s4d_step_batch(&m->s4d[l], B, states, gaps, u, y, ws);
}

/* Whether layer l's batched step gives a row the same bits whatever the
 * batch, B = 1 included: its projections are ssm__gemm_rows_t's (their
 * inner sizes fit, ssm/layer.h), the rest of it works row by row. Then the
 * model's step need not pad a block to SSM__ROWS rows (model_step.c). */
int ssm__layer_rows_free(const ssm_model *m, int l)
{
	int D = m->arch.d_model;

	if (is_mamba(m, l))
		return ssm__gemm_rows_fits(D) &&
		       ssm__gemm_rows_fits(m->arch.layer[l].expand * D);
	return ssm__gemm_rows_fits(D);
}

size_t ssm__layer_acts(const ssm_model *m, int l, int T)
{
	return is_mamba(m, l) ? ssm_mamba_acts_size(&m->mamba[l].cfg, T)
			      : ssm_s4d_acts_size(&m->s4d[l].cfg, T);
}

size_t ssm__layer_seq_ws(const ssm_model *m, int l, int T)
{
	return is_mamba(m, l)
		   ? ssm_mamba_seq_workspace_bytes(&m->mamba[l].cfg, T)
		   : ssm_s4d_seq_workspace_bytes(&m->s4d[l].cfg, T);
}

void ssm__layer_forward(const ssm_model *m, int l, int T, float *state,
			const double *gaps, const float *u, float *y,
			float *acts, void *ws)
{
	if (is_mamba(m, l))
		ssm_mamba_forward(&m->mamba[l], T, state, gaps, u, y, acts, ws);
	else
		ssm_s4d_forward(&m->s4d[l], T, state, gaps, u, y, acts, ws);
}

void ssm__layer_backward(const ssm_model *m, int l, int T, const double *gaps,
			 const float *u, const float *acts, const float *dy,
			 float *du, float *grads, void *ws)
{
	if (is_mamba(m, l))
		ssm_mamba_backward(&m->mamba[l], T, gaps, u, acts, dy, du,
				   grads, ws);
	else
		ssm_s4d_backward(&m->s4d[l], T, gaps, u, acts, dy, du, grads,
				 ws);
}
