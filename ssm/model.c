/*
 * ssm/model.c: model construction, parameter tensors, initialisation, hash
 * and the per-series state layout. The step lives in model_step.c, the
 * smoothing front in model_front.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/model_internal.h"
#include "ssm/rng.h"
#include "ssm/smooth.h"

const char *ssm_strerror(int err)
{
	switch (err) {
	case SSM_OK:
		return "success";
	case SSM_EINVAL:
		return "invalid argument";
	case SSM_ENOMEM:
		return "out of memory";
	case SSM_ESHAPE:
		return "inconsistent architecture or tensor shape";
	case SSM_ENONFINITE:
		return "non-finite value";
	case SSM_ERESET:
		return "state went non-finite and was reset";
	}
	return "unknown error";
}

void ssm_model_default_arch(ssm_model_arch *a)
{
	memset(a, 0, sizeof *a);
	a->horizon = 48;
	a->nquantiles = 3;
	a->quantiles[0] = 0.1f;
	a->quantiles[1] = 0.5f;
	a->quantiles[2] = 0.9f;
	a->d_model = 16;
	a->nlayers = 2;
	a->layer[0].kind = SSM_LAYER_S4D;
	a->layer[0].n_state = 8;
	a->layer[1] = a->layer[0];
	a->max_period = 48;
	a->gate = 1;
}

int ssm_model_arch_check(const ssm_model_arch *a)
{
	int k, Q;

	if (!a)
		return SSM_EINVAL;
	Q = a->nquantiles;
	if (a->horizon < 1 || a->horizon > SSM_MAX_H || Q < 3 ||
	    Q > SSM_MAX_Q || Q % 2 == 0 || a->d_model < 1 ||
	    a->d_model > 1024 || a->nlayers < 0 || a->nlayers > SSM_MAX_LAYERS)
		return SSM_ESHAPE;
	for (k = 0; k < Q; k++) {
		float p = a->quantiles[k];
		if (!(p > 0.0f && p < 1.0f))
			return SSM_EINVAL;
		if (k > 0 && !(p > a->quantiles[k - 1]))
			return SSM_EINVAL;
	}
	if (a->quantiles[Q / 2] != 0.5f)
		return SSM_EINVAL;
	if (a->gate != 0 && a->gate != 1)
		return SSM_EINVAL;
	if (a->max_period < 1 || a->max_period > SSM_SMOOTH_MAX_PERIOD ||
	    a->horizon > SSM_SMOOTH_MAX_H)
		return SSM_ESHAPE;
	for (k = 0; k < a->nlayers; k++) {
		ssm_s4d_cfg c;
		ssm_mamba_cfg mc;

		if (ssm__layer_cfg(a, k, &c, &mc) != 0)
			return SSM_ESHAPE;
	}
	return SSM_OK;
}

/* Appends a tensor descriptor; its data is assigned once params exist. */
static ssm_tensor *add_tensor(ssm_model *m, const char *name, int group,
			      int ndim, int s0, int s1)
{
	ssm_tensor *t = &m->tensors[m->ntensors++];

	snprintf(t->name, sizeof t->name, "%s", name);
	t->group = group;
	t->ndim = ndim;
	t->shape[0] = s0;
	t->shape[1] = ndim > 1 ? s1 : 0;
	t->n = (size_t)s0 * (size_t)(ndim > 1 ? s1 : 1);
	return t;
}

/* Builds layer l (random init from seed; the loader overwrites it). */
static int add_layer(ssm_model *m, int l, uint64_t seed)
{
	ssm_tensor_info info[SSM_S4D_NTENSORS + SSM_MAMBA_NTENSORS];
	float *params;
	size_t np;
	ssm_rng r;
	int i, n, err;

	ssm_rng_init(&r, seed);
	if ((err = ssm__layer_init(m, l, &r)) != 0)
		return err;
	params = ssm__layer_params(m, l, &np);
	n = ssm__layer_tensors(m, l, info);
	if (m->ntensors + n > SSM__MAX_TENSORS)
		return SSM_ESHAPE;
	m->first_tensor[l] = m->ntensors;
	m->layer_nt[l] = n;
	for (i = 0; i < n; i++) {
		char name[SSM_TENSOR_NAME_MAX];
		int mat = info[i].rows > 1 && info[i].cols > 1;
		ssm_tensor *t;

		snprintf(name, sizeof name, "l%d.%s", l, info[i].name);
		t = add_tensor(m, name,
			       info[i].dynamics ? SSM_TG_DYNAMICS
			       : mat		? SSM_TG_WEIGHT
						: SSM_TG_BIAS,
			       info[i].cols > 1 ? 2 : 1, info[i].rows,
			       info[i].cols);
		t->data = params + info[i].offset;
		m->nparams += t->n;
	}
	m->layer_state[l] = ssm__layer_state(m, l);
	if (m->layer_state[l] > m->max_layer_state)
		m->max_layer_state = m->layer_state[l];
	if (ssm__layer_ws(m, l, SSM__ROWS) > m->layer_ws)
		m->layer_ws = ssm__layer_ws(m, l, SSM__ROWS);
	return SSM_OK;
}

int ssm_model_new(ssm_model **out, const ssm_model_arch *a)
{
	ssm_model *m;
	size_t off = 0;
	int i, err, Q;

	if (!out)
		return SSM_EINVAL;
	*out = NULL;
	if ((err = ssm_model_arch_check(a)) != 0)
		return err;
	m = calloc(1, sizeof *m);
	if (!m)
		return SSM_ENOMEM;
	m->arch = *a;
	m->F = SSM_MODEL_NFEAT;
	m->d = a->d_model;
	Q = a->nquantiles;
	m->HQ = a->horizon * Q;

	add_tensor(m, "enc.w", SSM_TG_WEIGHT, 2, m->d, m->F);
	add_tensor(m, "enc.b", SSM_TG_BIAS, 1, m->d, 0);
	add_tensor(m, "head.norm", SSM_TG_BIAS, 1, m->d, 0);
	add_tensor(m, "head.w", SSM_TG_WEIGHT, 2, m->HQ, m->d);
	add_tensor(m, "head.b", SSM_TG_BIAS, 1, m->HQ, 0);
	for (i = 0; i < m->ntensors; i++)
		m->nparams += m->tensors[i].n;
	m->params = calloc(m->nparams, sizeof(float));
	m->w_in_t =
	    calloc((size_t)m->F * m->d + (size_t)m->d * m->HQ, sizeof(float));
	if (!m->params || !m->w_in_t) {
		free(m->params);
		free(m->w_in_t);
		free(m);
		return SSM_ENOMEM;
	}
	m->w_head_t = m->w_in_t + (size_t)m->F * m->d;
	for (i = 0; i < m->ntensors; i++) {
		m->tensors[i].data = m->params + off;
		off += m->tensors[i].n;
	}
	m->w_in = m->tensors[0].data;
	m->b_in = m->tensors[1].data;
	m->g_out = m->tensors[2].data;
	m->w_head = m->tensors[3].data;
	m->b_head = m->tensors[4].data;
	for (i = 0; i < m->d; i++)
		m->g_out[i] = 1.0f;
	for (i = 0; i < a->nlayers; i++)
		if ((err = add_layer(m, i, 1000 + (uint64_t)i)) != 0) {
			ssm_model_free(m);
			return err;
		}

	m->rows_free = 1;
	for (i = 0; i < a->nlayers; i++)
		m->rows_free = m->rows_free && ssm__layer_rows_free(m, i);
	for (i = 0; i + 1 < Q; i++)
		m->zgap[i] = (float)(ssm__norm_ppf(a->quantiles[i + 1]) -
				     ssm__norm_ppf(a->quantiles[i]));
	m->off_prev = SSM__H_FLOATS;
	m->off_front = m->off_prev + (size_t)Q;
	m->front_floats = ssm__front_floats(m);
	m->state_floats = m->off_front + m->front_floats;
	for (i = 0; i < a->nlayers; i++) {
		m->off_layer[i] = m->state_floats;
		m->state_floats += m->layer_state[i];
	}
	/* What ssm_model_forecast needs besides the front: the head's input
	 * and the anomaly score of the last step. */
	m->off_head = m->state_floats;
	m->off_anom = m->off_head + (size_t)m->d;
	m->state_floats = m->off_anom + 1;
	/* Keep blocks a multiple of 4 floats so arrays of them stay aligned. */
	m->state_floats = (m->state_floats + 3) & ~(size_t)3;
	ssm_model_refresh(m);
	*out = m;
	return SSM_OK;
}

int ssm_model_init_weights(ssm_model *m, uint64_t seed)
{
	ssm_rng r;
	size_t i;
	double sd;
	int l, err;

	if (!m)
		return SSM_EINVAL;
	ssm_rng_init(&r, seed);
	for (l = 0; l < m->arch.nlayers; l++) {
		/* Re-initialise in place: release, init from this seed. The
		 * tensors' data pointers move with the new allocation. */
		ssm_rng lr;
		float *params;
		size_t np;
		int k;

		ssm_rng_init(&lr, ssm_rng_u64(&r));
		ssm__layer_release(m, l);
		if ((err = ssm__layer_init(m, l, &lr)) != 0)
			return err;
		params = ssm__layer_params(m, l, &np);
		for (k = 0; k < m->layer_nt[l]; k++) {
			ssm_tensor_info
			    info[SSM_S4D_NTENSORS + SSM_MAMBA_NTENSORS];
			ssm__layer_tensors(m, l, info);
			m->tensors[m->first_tensor[l] + k].data =
			    params + info[k].offset;
		}
	}
	/* Encoder: variance-preserving for unit-scale features. */
	sd = 1.0 / sqrt((double)m->F);
	for (i = 0; i < (size_t)m->d * (size_t)m->F; i++)
		m->w_in[i] = (float)(sd * ssm_rng_normal(&r));
	memset(m->b_in, 0, sizeof(float) * (size_t)m->d);
	for (i = 0; i < (size_t)m->d; i++)
		m->g_out[i] = 1.0f;
	/* The head starts at zero: untrained model = smoothing front. */
	memset(m->w_head, 0, sizeof(float) * (size_t)m->HQ * (size_t)m->d);
	memset(m->b_head, 0, sizeof(float) * (size_t)m->HQ);
	return ssm_model_refresh(m);
}

int ssm_model_new_default(ssm_model **out, uint64_t seed)
{
	ssm_model_arch a;
	int err;

	ssm_model_default_arch(&a);
	if ((err = ssm_model_new(out, &a)) != 0)
		return err;
	if ((err = ssm_model_init_weights(*out, seed)) != 0) {
		ssm_model_free(*out);
		*out = NULL;
	}
	return err;
}

/* The meaning of the per-series state block, bumped when it changes.
 * 2: S4D layers keep the folded state C x (ssm/s4d.h).
 * 3: the smoothing front's compact layout (ssm/smooth_internal.h,
 *    SMOOTH_MAGIC "SMT3").
 * 4: the smoothing front's member-major layout ("SMT4"): a dump, a
 *    checkpoint file or a snapshot of format 3 is refused by the model
 *    hash, and recovery rebuilds those series from their stored samples.
 * 5: the last step's head input and anomaly score after the layers'
 *    states (ssm_model_forecast makes the forecast from the state): older
 *    blocks are refused by the hash and rebuilt as for 4. */
static const int32_t state_format = 5;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* t[c][r] = a[r][c] for a [rows][cols]. */
static void transpose(int rows, int cols, const float *a, float *t)
{
	int r, c;

	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			t[(size_t)c * rows + r] = a[(size_t)r * cols + c];
}

static double head_bound(const ssm_model *m)
{
	double b = 0, r, sd = sqrt((double)m->d);
	int i, j;

	for (j = 0; j < m->HQ; j++) {
		r = 0;
		for (i = 0; i < m->d; i++)
			r += fabs((double)m->w_head[(size_t)j * m->d + i] *
				  m->g_out[i]);
		b = fmax(b, fabs((double)m->b_head[j]) + sd * r);
	}
	return 2 * b + 1;
}

int ssm_model_refresh(ssm_model *m)
{
	const ssm_model_arch *a;
	uint64_t h = 0xcbf29ce484222325ULL;
	int32_t ints[4];
	size_t i;
	int l;

	if (!m)
		return SSM_EINVAL;
	for (l = 0; l < m->ntensors; l++)
		for (i = 0; i < m->tensors[l].n; i++)
			if (!isfinite(m->tensors[l].data[i]))
				return SSM_ENONFINITE;
	for (l = 0; l < m->arch.nlayers; l++)
		if (ssm__layer_prepare(m, l) != 0)
			return SSM_ENONFINITE;
	transpose(m->d, m->F, m->w_in, m->w_in_t);
	transpose(m->HQ, m->d, m->w_head, m->w_head_t);
	m->head_bound = head_bound(m);
	/* Hash field by field: struct padding must not enter it. The
	 * meaning of the state block enters it first, so a snapshot written
	 * under another meaning is not restored as if it were this one
	 * (recovery rebuilds it from samples instead). */
	a = &m->arch;
	h = fnv1a(h, &state_format, sizeof state_format);
	ints[0] = a->horizon;
	ints[1] = a->nquantiles;
	ints[2] = a->d_model;
	ints[3] = a->nlayers;
	h = fnv1a(h, ints, sizeof ints);
	h = fnv1a(h, &a->max_period, sizeof a->max_period);
	h = fnv1a(h, &a->gate, sizeof a->gate);
	h = fnv1a(h, a->quantiles, sizeof(float) * (size_t)a->nquantiles);
	for (l = 0; l < a->nlayers; l++) {
		ints[0] = a->layer[l].kind;
		ints[1] = a->layer[l].n_state;
		ints[2] = a->layer[l].expand;
		ints[3] = a->layer[l].d_conv;
		h = fnv1a(h, ints, sizeof ints);
	}
	for (l = 0; l < m->ntensors; l++)
		h = fnv1a(h, m->tensors[l].data,
			  sizeof(float) * m->tensors[l].n);
	m->hash = h;
	return SSM_OK;
}

int ssm_model_set_gate(ssm_model *m, int on)
{
	if (!m || (on != 0 && on != 1))
		return SSM_EINVAL;
	m->arch.gate = on;
	return ssm_model_refresh(m);
}

void ssm_model_free(ssm_model *m)
{
	int l;

	if (!m)
		return;
	for (l = 0; l < m->arch.nlayers; l++)
		ssm__layer_release(m, l);
	free(m->params);
	free(m->w_in_t);
	free(m);
}

int ssm_model_horizon(const ssm_model *m)
{
	return m->arch.horizon;
}

int ssm_model_nquantiles(const ssm_model *m)
{
	return m->arch.nquantiles;
}

const float *ssm_model_quantiles(const ssm_model *m)
{
	return m->arch.quantiles;
}

size_t ssm_model_state_floats(const ssm_model *m)
{
	return m->state_floats;
}

const float *ssm_model_next_quantiles(const ssm_model *m, const float *state)
{
	return m && state && ssm__get_d(state + SSM__H_COUNT) >= 1.0
		   ? state + m->off_prev
		   : NULL;
}

uint64_t ssm_model_hash(const ssm_model *m)
{
	return m->hash;
}

const ssm_model_arch *ssm_model_get_arch(const ssm_model *m)
{
	return &m->arch;
}

int ssm_model_ntensors(const ssm_model *m)
{
	return m->ntensors;
}

const ssm_tensor *ssm_model_tensor(const ssm_model *m, int i)
{
	if (!m || i < 0 || i >= m->ntensors)
		return NULL;
	return &m->tensors[i];
}

const ssm_tensor *ssm_model_tensor_by_name(const ssm_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->ntensors; i++)
		if (strcmp(m->tensors[i].name, name) == 0)
			return &m->tensors[i];
	return NULL;
}

int ssm_state_init(const ssm_model *m, float *state, int period, double step_s)
{
	if (!m || !state || period < 1 || period > 100000 || !(step_s > 0.0) ||
	    !isfinite(step_s))
		return SSM_EINVAL;
	memset(state, 0, sizeof(float) * m->state_floats);
	ssm__put_d(state + SSM__H_COUNT, 0.0);
	ssm__put_d(state + SSM__H_LAST_T, 0.0);
	ssm__put_d(state + SSM__H_STEP_S, step_s);
	ssm__put_d(state + SSM__H_PHASE, 0.0);
	state[SSM__H_PERIOD] = (float)period;
	ssm__front_init(m, state + m->off_front, period);
	return SSM_OK;
}

double ssm__norm_ppf(double p)
{
	/* Acklam's rational approximation with its published coefficients. */
	static const double a[] = {
	    -3.969683028665376e+01, 2.209460984245205e+02,
	    -2.759285104469687e+02, 1.383577518672690e+02,
	    -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {
	    -5.447609879822406e+01, 1.615858368580409e+02,
	    -1.556989798598866e+02, 6.680131188771972e+01,
	    -1.328068155288572e+01};
	static const double c[] = {
	    -7.784894002430293e-03, -3.223964580411365e-01,
	    -2.400758277161838e+00, -2.549732539343734e+00,
	    4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00,
				   3.754408661907416e+00};
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2.0 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q +
			 c[4]) *
			    q +
			c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	if (p > 1.0 - 0.02425)
		return -ssm__norm_ppf(1.0 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
		a[5]) *
	       q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r +
		1.0);
}
