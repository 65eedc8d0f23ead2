/*
 * ssm/train.c: the trainer (see train.h). One allocation per buffer at
 * construction; a step allocates nothing.
 *
 * Shapes: B rows, T chunk steps, S state floats, F features, d width,
 * H horizons, Q quantiles, HQ = H Q, P parameters. Activations kept for
 * the backward pass, per chunk step t and row b: feat [T][B][F], the
 * head's input x [T][B][d] and its rms [T][B], dO [T][B][HQ] (the loss'
 * gradient with respect to the head outputs, known in the forward pass
 * because the targets are).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/model_internal.h"
#include "ssm/rng.h"
#include "ssm/synth.h"
#include "ssm/train.h"

enum { MI_N = 0, MI_PERIOD = 1, MI_POS = 2, MI_NINT = 4 };
enum { MD_STEP_S = 0, MD_T0 = 1, MD_ND = 2 };

struct ssm_trainer {
	ssm_model *m;
	ssm_train_cfg cfg;
	const ssm_series *data;
	int ndata;
	int B, T, H, Q, F, d, HQ, L;
	size_t S, P;
	size_t goff[SSM__MAX_TENSORS]; /* tensor i's offset in grad/adam */
	/* Mutable state (the blobs). */
	int64_t step;
	ssm_rng rng;
	float *adam_m, *adam_v; /* [P] */
	double *y;		/* [B][max_len] */
	int32_t *mi;		/* [B][MI_NINT] */
	double *md;		/* [B][MD_ND] */
	/* [B][S]. The rows' states advance as the step's do (ssm__observe,
	 * the layers, ssm__finish), except for the head's input and anomaly
	 * score after the layers (state format 5, model_internal.h's
	 * off_head and off_anom): nothing here writes them, and they stay
	 * ssm_state_init's zeros. Harmless because such a state is never
	 * served: it lives only here and in the training checkpoint
	 * (io/train_ckpt.c, blob rows_state) that resumes this trainer; the
	 * daemon, replay and eval give every series a fresh state of their
	 * own and step it with ssm_model_step_batch, which writes them. */
	float *states;
	/* Work, for one row's chunk. */
	float *grad;		      /* [P] */
	float *feat;		      /* [T][F] */
	double *point, *scale, *gaps; /* [T][H], [T], [T] */
	float *gap;		      /* [T][H][Q-1] */
	float *X[SSM_MAX_LAYERS + 1]; /* [T][d] stream before each layer */
	float *acts[SSM_MAX_LAYERS];
	float *rms, *hn, *o, *dO; /* [T], [T][d], [T][HQ], [T][HQ] */
	float *dxa, *dxb;	  /* [T][d] */
	void *seq_ws;
	double *u;	      /* [H] */
	float *qn, *dqn;      /* [H][Q] */
	unsigned char *valid; /* [H] */
	float *save_states;   /* [B][S] for loss_grad */
	int32_t *save_mi;     /* [B][MI_NINT] */
	ssm_synth *gen;
};

void ssm_train_default_cfg(ssm_train_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->batch = 32;
	c->chunk = 64;
	c->steps = 2000;
	c->warmup = 100;
	c->lr = 2e-3;
	c->lr_min_frac = 0.05;
	c->lr_dyn = 0.5;
	c->wd = 0.01;
	c->clip = 1.0;
	c->burn_in = 8;
	c->min_len = 64;
	c->max_len = 1024;
	c->p_data = 0.0;
	c->seed = 1;
}

void ssm_trainer_free(ssm_trainer *tr)
{
	int l;

	if (!tr)
		return;
	free(tr->adam_m);
	free(tr->adam_v);
	free(tr->y);
	free(tr->mi);
	free(tr->md);
	free(tr->states);
	free(tr->grad);
	free(tr->feat);
	free(tr->point);
	free(tr->scale);
	free(tr->gaps);
	free(tr->gap);
	for (l = 0; l <= SSM_MAX_LAYERS; l++)
		free(tr->X[l]);
	for (l = 0; l < SSM_MAX_LAYERS; l++)
		free(tr->acts[l]);
	free(tr->rms);
	free(tr->hn);
	free(tr->o);
	free(tr->dO);
	free(tr->dxa);
	free(tr->dxb);
	free(tr->seq_ws);
	free(tr->u);
	free(tr->qn);
	free(tr->dqn);
	free(tr->valid);
	free(tr->save_states);
	free(tr->save_mi);
	ssm_synth_free(tr->gen);
	free(tr);
}

static void *zalloc(size_t n, size_t sz, int *fail)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		*fail = 1;
	return p;
}

int ssm_trainer_new(ssm_trainer **out, ssm_model *m, const ssm_train_cfg *cfg,
		    const ssm_series *data, int ndata)
{
	ssm_trainer *tr;
	size_t T, off = 0, wsz = 1;
	int fail = 0, i, l;

	if (!out || !m || !cfg || cfg->batch < SSM__ROWS ||
	    cfg->batch % SSM__ROWS || cfg->chunk < 1 || cfg->steps < 1 ||
	    cfg->min_len < 2 || cfg->max_len < cfg->min_len ||
	    !(cfg->lr > 0.0) || ndata < 0 || (ndata > 0 && !data) ||
	    (cfg->p_data > 0.0 && ndata == 0))
		return SSM_EINVAL;
	for (i = 0; i < ndata; i++)
		if (!data[i].y || data[i].n < 2 || data[i].period < 1 ||
		    !(data[i].step_s > 0.0))
			return SSM_EINVAL;
	tr = calloc(1, sizeof *tr);
	if (!tr)
		return SSM_ENOMEM;
	tr->m = m;
	tr->cfg = *cfg;
	tr->data = data;
	tr->ndata = ndata;
	tr->B = cfg->batch;
	tr->T = cfg->chunk;
	tr->H = m->arch.horizon;
	tr->Q = m->arch.nquantiles;
	tr->F = m->F;
	tr->d = m->d;
	tr->HQ = m->HQ;
	tr->S = m->state_floats;
	tr->P = m->nparams;
	T = (size_t)tr->T;
	tr->L = m->arch.nlayers;
	for (i = 0; i < m->ntensors; i++) {
		tr->goff[i] = off;
		off += m->tensors[i].n;
	}
	/* A layer's gradient buffer is its tensors' slots, in its order. */
	for (l = 0; l < tr->L; l++) {
		const ssm_tensor *t0 = &m->tensors[m->first_tensor[l]];
		int k;
		for (k = 0; k < m->layer_nt[l]; k++)
			if (t0[k].data - t0[0].data !=
			    (ptrdiff_t)(tr->goff[m->first_tensor[l] + k] -
					tr->goff[m->first_tensor[l]])) {
				free(tr);
				return SSM_ESHAPE;
			}
	}
	ssm_rng_init(&tr->rng, cfg->seed);
	tr->adam_m = zalloc(tr->P, sizeof(float), &fail);
	tr->adam_v = zalloc(tr->P, sizeof(float), &fail);
	tr->y =
	    zalloc((size_t)tr->B * (size_t)cfg->max_len, sizeof(double), &fail);
	tr->mi = zalloc((size_t)tr->B * MI_NINT, sizeof(int32_t), &fail);
	tr->md = zalloc((size_t)tr->B * MD_ND, sizeof(double), &fail);
	tr->states = zalloc((size_t)tr->B * tr->S, sizeof(float), &fail);
	tr->grad = zalloc(tr->P, sizeof(float), &fail);
	tr->feat = zalloc(T * (size_t)tr->F, sizeof(float), &fail);
	tr->point = zalloc(T * (size_t)tr->H, sizeof(double), &fail);
	tr->scale = zalloc(T, sizeof(double), &fail);
	tr->gaps = zalloc(T, sizeof(double), &fail);
	tr->gap = zalloc(T * (size_t)tr->H * (size_t)(tr->Q - 1), sizeof(float),
			 &fail);
	for (l = 0; l <= tr->L; l++)
		tr->X[l] = zalloc(T * (size_t)tr->d, sizeof(float), &fail);
	for (l = 0; l < tr->L; l++) {
		size_t w = ssm__layer_seq_ws(m, l, tr->T);
		tr->acts[l] =
		    zalloc(ssm__layer_acts(m, l, tr->T), sizeof(float), &fail);
		if (w > wsz)
			wsz = w;
	}
	tr->seq_ws = zalloc(wsz, 1, &fail);
	tr->rms = zalloc(T, sizeof(float), &fail);
	tr->hn = zalloc(T * (size_t)tr->d, sizeof(float), &fail);
	tr->o = zalloc(T * (size_t)tr->HQ, sizeof(float), &fail);
	tr->dO = zalloc(T * (size_t)tr->HQ, sizeof(float), &fail);
	tr->dxa = zalloc(T * (size_t)tr->d, sizeof(float), &fail);
	tr->dxb = zalloc(T * (size_t)tr->d, sizeof(float), &fail);
	tr->u = zalloc((size_t)tr->H, sizeof(double), &fail);
	tr->qn = zalloc((size_t)tr->HQ, sizeof(float), &fail);
	tr->dqn = zalloc((size_t)tr->HQ, sizeof(float), &fail);
	tr->valid = zalloc((size_t)tr->H, 1, &fail);
	tr->save_states = zalloc((size_t)tr->B * tr->S, sizeof(float), &fail);
	tr->save_mi = zalloc((size_t)tr->B * MI_NINT, sizeof(int32_t), &fail);
	tr->gen = ssm_synth_new(cfg->max_len, 256);
	if (fail || !tr->gen) {
		ssm_trainer_free(tr);
		return SSM_ENOMEM;
	}
	*out = tr;
	return SSM_OK;
}

/* Gives row b a new series and a fresh state. */
static void new_series(ssm_trainer *tr, int b)
{
	const ssm_train_cfg *c = &tr->cfg;
	double *y = tr->y + (size_t)b * (size_t)c->max_len;
	int32_t *mi = tr->mi + (size_t)b * MI_NINT;
	double *md = tr->md + (size_t)b * MD_ND;

	if (tr->ndata > 0 && ssm_rng_uniform(&tr->rng) < c->p_data) {
		const ssm_series *s =
		    &tr->data[ssm_rng_below(&tr->rng, (uint64_t)tr->ndata)];
		int n = s->n < c->max_len ? s->n : c->max_len, start = 0;

		/* Half the windows start where the series does, like eval. */
		if (s->n > n && ssm_rng_uniform(&tr->rng) >= 0.5)
			start = (int)ssm_rng_below(&tr->rng,
						   (uint64_t)(s->n - n + 1));
		memcpy(y, s->y + start, sizeof(double) * (size_t)n);
		mi[MI_N] = n;
		mi[MI_PERIOD] = s->period;
		md[MD_STEP_S] = s->step_s;
		md[MD_T0] = s->t0 + start * s->step_s;
	} else {
		ssm_synth_info in;
		int n = c->min_len +
			(int)ssm_rng_below(
			    &tr->rng, (uint64_t)(c->max_len - c->min_len + 1));

		while (ssm_synth_series(tr->gen, &tr->rng, -1, n, y, &in) != 0)
			;
		mi[MI_N] = n;
		mi[MI_PERIOD] = in.period;
		md[MD_STEP_S] = in.step_s;
		md[MD_T0] = in.t0;
	}
	mi[MI_POS] = 0;
	ssm_state_init(tr->m, tr->states + (size_t)b * tr->S, mi[MI_PERIOD],
		       md[MD_STEP_S]);
}

/*
 * Loss of row b at chunk step t (its series at position pos): fills
 * dO_row, returns the loss sum and adds the number of horizon terms to
 * *nterms.
 */
static double step_loss(ssm_trainer *tr, int b, int t, int pos, double *nterms)
{
	const ssm_model *m = tr->m;
	const double *y = tr->y + (size_t)b * (size_t)tr->cfg.max_len;
	const double *point = tr->point + (size_t)t * tr->H;
	const float *o = tr->o + (size_t)t * tr->HQ,
		    *gap = tr->gap + (size_t)t * tr->H * (tr->Q - 1);
	float *dO = tr->dO + (size_t)t * tr->HQ,
	      *st = tr->states + (size_t)b * tr->S;
	double scale = tr->scale[t], loss;
	int n = tr->mi[(size_t)b * MI_NINT + MI_N], h, any = 0;

	ssm__compose(m, o, gap, tr->qn);
	for (h = 0; h < tr->H; h++) {
		int j = pos + h + 1;
		tr->valid[h] = pos >= tr->cfg.burn_in && j < n && !isnan(y[j]);
		tr->u[h] = tr->valid[h] ? (y[j] - point[h]) / scale : 0.0;
		/* A spike or a level shift must not dominate the chunk. */
		tr->u[h] = tr->u[h] > 50.0
			       ? 50.0
			       : (tr->u[h] < -50.0 ? -50.0 : tr->u[h]);
		any += tr->valid[h];
	}
	if (!any) {
		memset(dO, 0, sizeof(float) * (size_t)tr->HQ);
		loss = 0.0;
	} else {
		/* The network is trained ungated: the gate only blends. */
		*nterms += any;
		loss = ssm__pinball(m, tr->qn, tr->u, tr->valid, tr->dqn);
		ssm__compose_backward(m, o, gap, tr->dqn, dO);
	}
	/* The state then advances exactly as the step's does (but for the
	 * head's input and anomaly score: tr->states). */
	ssm__finish(m, st, point, scale, gap, tr->qn);
	return loss;
}

/*
 * One row's chunk: its next Tb samples through the model in sequence
 * mode (the same recurrence the step runs), the loss, and the backward
 * pass into tr->grad.
 */
static double row_chunk(ssm_trainer *tr, int b, double *nterms)
{
	ssm_model *m = tr->m;
	const int F = tr->F;
	int32_t *mi = tr->mi + (size_t)b * MI_NINT;
	const double *md = tr->md + (size_t)b * MD_ND;
	const double *y = tr->y + (size_t)b * (size_t)tr->cfg.max_len;
	float *st = tr->states + (size_t)b * tr->S, *dx = tr->dxa,
	      *du = tr->dxb, *tmp;
	int Tb = mi[MI_N] - mi[MI_POS], t, l, pos0 = mi[MI_POS];
	double loss = 0.0;

	if (Tb > tr->T)
		Tb = tr->T;
	if (Tb <= 0)
		return 0.0;
	for (t = 0; t < Tb; t++) {
		ssm_sample s;

		s.t = md[MD_T0] + (pos0 + t) * md[MD_STEP_S];
		s.value = y[pos0 + t];
		ssm__observe(m, st, &s, tr->feat + (size_t)t * F,
			     tr->point + (size_t)t * tr->H, &tr->scale[t],
			     tr->gap + (size_t)t * tr->H * (tr->Q - 1),
			     &tr->gaps[t], NULL);
	}
	ssm__enc_forward(m, Tb, tr->feat, tr->X[0]);
	for (l = 0; l < tr->L; l++)
		ssm__layer_forward(m, l, Tb, st + m->off_layer[l], tr->gaps,
				   tr->X[l], tr->X[l + 1], tr->acts[l],
				   tr->seq_ws);
	ssm__head_forward(m, Tb, tr->X[tr->L], tr->hn, tr->rms, tr->o);
	for (t = 0; t < Tb; t++)
		loss += step_loss(tr, b, t, pos0 + t, nterms);
	mi[MI_POS] += Tb;
	/* Backward: head, layers in reverse, encoder. */
	ssm__head_backward(m, Tb, tr->X[tr->L], tr->rms, tr->dO, dx, tr->hn,
			   tr->grad + tr->goff[3], tr->grad + tr->goff[4],
			   tr->grad + tr->goff[2]);
	for (l = tr->L - 1; l >= 0; l--) {
		ssm__layer_backward(
		    m, l, Tb, tr->gaps, tr->X[l], tr->acts[l], dx, du,
		    tr->grad + tr->goff[m->first_tensor[l]], tr->seq_ws);
		tmp = dx;
		dx = du;
		du = tmp;
	}
	ssm__enc_backward(m, Tb, tr->feat, dx, tr->grad + tr->goff[0],
			  tr->grad + tr->goff[1]);
	return loss;
}

/* Forward and backward over one chunk; grads into tr->grad (mean loss). */
static int chunk(ssm_trainer *tr, double *loss_out)
{
	double loss = 0.0, nterms = 0.0;
	int b;
	size_t i;

	for (b = 0; b < tr->B; b++) {
		int32_t *mi = tr->mi + (size_t)b * MI_NINT;
		if (mi[MI_POS] >= mi[MI_N] - 1)
			new_series(tr, b);
	}
	memset(tr->grad, 0, sizeof(float) * tr->P);
	for (b = 0; b < tr->B; b++)
		loss += row_chunk(tr, b, &nterms);
	if (nterms > 0.0) {
		float inv = (float)(1.0 / (nterms * tr->Q));
		for (i = 0; i < tr->P; i++)
			tr->grad[i] *= inv;
		loss /= nterms * tr->Q;
	}
	*loss_out = loss;
	for (i = 0; i < tr->P; i++)
		if (!isfinite(tr->grad[i]))
			return SSM_ENONFINITE;
	return isfinite(loss) ? SSM_OK : SSM_ENONFINITE;
}

double ssm_trainer_lr(const ssm_trainer *tr, int s)
{
	const ssm_train_cfg *c = &tr->cfg;
	double p, lo = c->lr * c->lr_min_frac;

	if (s < c->warmup)
		return c->lr * (s + 1) / c->warmup;
	if (c->steps <= c->warmup)
		return c->lr;
	p = (double)(s - c->warmup) / (c->steps - c->warmup);
	if (p > 1.0)
		p = 1.0;
	return lo + 0.5 * (c->lr - lo) * (1.0 + cos(M_PI * p));
}

static void adamw(ssm_trainer *tr, double lr)
{
	const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
	double c1 = 1.0 - pow(b1, (double)(tr->step + 1)),
	       c2 = 1.0 - pow(b2, (double)(tr->step + 1));
	int i;

	for (i = 0; i < tr->m->ntensors; i++) {
		const ssm_tensor *t = &tr->m->tensors[i];
		size_t off = tr->goff[i], j;
		double tlr = t->group == SSM_TG_DYNAMICS ? lr * tr->cfg.lr_dyn
							 : lr,
		       wd = t->group == SSM_TG_WEIGHT ? tr->cfg.wd : 0.0;

		for (j = off; j < off + t->n; j++) {
			double g = tr->grad[j], mm, vv;

			mm = b1 * tr->adam_m[j] + (1.0 - b1) * g;
			vv = b2 * tr->adam_v[j] + (1.0 - b2) * g * g;
			tr->adam_m[j] = (float)mm;
			tr->adam_v[j] = (float)vv;
			t->data[j - off] -=
			    (float)(tlr * ((mm / c1) / (sqrt(vv / c2) + eps) +
					   wd * t->data[j - off]));
		}
	}
}

int ssm_trainer_step(ssm_trainer *tr, double *loss, double *gnorm)
{
	double l = 0.0, norm = 0.0;
	size_t i;
	int err;

	err = chunk(tr, &l);
	if (loss)
		*loss = l;
	if (err == SSM_OK) {
		for (i = 0; i < tr->P; i++)
			norm += (double)tr->grad[i] * tr->grad[i];
		norm = sqrt(norm);
		if (tr->cfg.clip > 0.0 && norm > tr->cfg.clip) {
			float s = (float)(tr->cfg.clip / norm);
			for (i = 0; i < tr->P; i++)
				tr->grad[i] *= s;
		}
		adamw(tr, ssm_trainer_lr(tr, (int)tr->step));
		err = ssm_model_refresh(tr->m);
	} else {
		/* A poisoned row must not poison the next chunk: restart all.
		 */
		int b;
		for (b = 0; b < tr->B; b++)
			tr->mi[(size_t)b * MI_NINT + MI_POS] =
			    tr->mi[(size_t)b * MI_NINT + MI_N];
	}
	if (gnorm)
		*gnorm = norm;
	tr->step++;
	return err;
}

int ssm_trainer_steps_done(const ssm_trainer *tr)
{
	return (int)tr->step;
}

size_t ssm_trainer_nparams(const ssm_trainer *tr)
{
	return tr->P;
}

int ssm_trainer_loss_grad(ssm_trainer *tr, double *loss, float *grad)
{
	size_t BS = (size_t)tr->B * tr->S, BM = (size_t)tr->B * MI_NINT;
	int b, err;

	/* Rows that would take a new series do so now, so a restore below
	 * returns exactly to a state from which the chunk is repeatable. */
	for (b = 0; b < tr->B; b++) {
		int32_t *mi = tr->mi + (size_t)b * MI_NINT;
		if (mi[MI_POS] >= mi[MI_N] - 1)
			new_series(tr, b);
	}
	memcpy(tr->save_states, tr->states, BS * sizeof(float));
	memcpy(tr->save_mi, tr->mi, BM * sizeof(int32_t));
	err = chunk(tr, loss);
	memcpy(grad, tr->grad, tr->P * sizeof(float));
	memcpy(tr->states, tr->save_states, BS * sizeof(float));
	memcpy(tr->mi, tr->save_mi, BM * sizeof(int32_t));
	return err;
}

int ssm_trainer_nblobs(const ssm_trainer *tr)
{
	(void)tr;
	return 8;
}

int ssm_trainer_blob(ssm_trainer *tr, int i, const char **name, void **data,
		     size_t *bytes)
{
	const size_t B = (size_t)tr->B;

	switch (i) {
	case 0:
		*name = "step";
		*data = &tr->step;
		*bytes = sizeof tr->step;
		return 0;
	case 1:
		*name = "rng";
		*data = &tr->rng;
		*bytes = sizeof tr->rng;
		return 0;
	case 2:
		*name = "adam_m";
		*data = tr->adam_m;
		*bytes = tr->P * sizeof(float);
		return 0;
	case 3:
		*name = "adam_v";
		*data = tr->adam_v;
		*bytes = tr->P * sizeof(float);
		return 0;
	case 4:
		*name = "rows_y";
		*data = tr->y;
		*bytes = B * (size_t)tr->cfg.max_len * sizeof(double);
		return 0;
	case 5:
		*name = "rows_int";
		*data = tr->mi;
		*bytes = B * MI_NINT * sizeof(int32_t);
		return 0;
	case 6:
		*name = "rows_double";
		*data = tr->md;
		*bytes = B * MD_ND * sizeof(double);
		return 0;
	case 7:
		*name = "rows_state";
		*data = tr->states;
		*bytes = B * tr->S * sizeof(float);
		return 0;
	}
	return SSM_EINVAL;
}
