/*
 * tests/ssm/test_train.c: gradients of the model's own parts against
 * central finite differences of a naive double-precision twin, the whole
 * chunk gradient against finite differences of the float pipeline, and
 * training that learns and repeats bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/model_internal.h"
#include "ssm/rng.h"
#include "ssm/train.h"
#include "tests/harness.h"

enum { R = SSM__ROWS };

static ssm_model *small_model(uint64_t seed, double head_sd, int nlayers)
{
	ssm_model_arch a;
	ssm_model *m = NULL;
	ssm_rng r;
	int i;
	size_t j;

	ssm_model_default_arch(&a);
	a.horizon = 3;
	a.nquantiles = 5;
	a.quantiles[0] = 0.05f;
	a.quantiles[1] = 0.25f;
	a.quantiles[2] = 0.5f;
	a.quantiles[3] = 0.75f;
	a.quantiles[4] = 0.95f;
	a.d_model = 5;
	a.max_period = 12;
	a.nlayers = nlayers;
	a.layer[0].kind = SSM_LAYER_S4D;
	a.layer[0].n_state = 3;
	a.layer[1].kind = SSM_LAYER_MAMBA;
	a.layer[1].n_state = 3;
	a.layer[1].expand = 2;
	a.layer[1].d_conv = 3;
	CHECK_EQ_INT(ssm_model_new(&m, &a), 0);
	CHECK_EQ_INT(ssm_model_init_weights(m, seed), 0);
	ssm_rng_init(&r, seed + 100);
	for (i = 0; i < ssm_model_ntensors(m); i++) {
		const ssm_tensor *t = ssm_model_tensor(m, i);
		if (strncmp(t->name, "head.", 5) != 0)
			continue;
		for (j = 0; j < t->n; j++)
			t->data[j] += (float)(head_sd * ssm_rng_normal(&r));
	}
	ssm_model_refresh(m);
	return m;
}

/* ---- the naive double twin: enc -> RMSNorm -> head -> compose ---- */

typedef struct twin {
	int F, d, H, Q;
	size_t n;
	double *p; /* the encoder's and head's parameters, in order */
	double *w_in, *b_in, *g, *w_h, *b_h;
} twin;

static void twin_from(twin *tw, const ssm_model *m)
{
	size_t j;

	tw->F = m->F;
	tw->d = m->d;
	tw->H = m->arch.horizon;
	tw->Q = m->arch.nquantiles;
	tw->n = (size_t)(m->b_head - m->params) + (size_t)m->HQ;
	tw->p = malloc(sizeof(double) * tw->n);
	for (j = 0; j < tw->n; j++)
		tw->p[j] = m->params[j];
	tw->w_in = tw->p + (m->w_in - m->params);
	tw->b_in = tw->p + (m->b_in - m->params);
	tw->g = tw->p + (m->g_out - m->params);
	tw->w_h = tw->p + (m->w_head - m->params);
	tw->b_h = tw->p + (m->b_head - m->params);
}

/* L = sum over rows, h, k of c[r][h][k] qn[r][h][k]. */
static double twin_loss(const twin *tw, const ssm_model *m, const float *feat,
			const float *gap, const double *c)
{
	int r, i, j, h, k, d = tw->d, Q = tw->Q, mid = tw->Q / 2;
	double L = 0.0, x[64], hn[64], o[64], q[64];

	for (r = 0; r < R; r++) {
		double ss = 0.0, inv;
		for (i = 0; i < d; i++) {
			x[i] = tw->b_in[i];
			for (j = 0; j < tw->F; j++)
				x[i] += tw->w_in[i * tw->F + j] *
					feat[r * tw->F + j];
			ss += x[i] * x[i];
		}
		inv = 1.0 / sqrt(ss / d + 1e-6);
		for (i = 0; i < d; i++)
			hn[i] = x[i] * inv * tw->g[i];
		for (i = 0; i < tw->H * Q; i++) {
			o[i] = tw->b_h[i];
			for (j = 0; j < d; j++)
				o[i] += tw->w_h[i * d + j] * hn[j];
		}
		for (h = 0; h < tw->H; h++) {
			const float *gh = gap + (r * tw->H + h) * (Q - 1);
			q[h * Q + mid] = o[h * Q + mid];
			for (k = mid - 1; k >= 0; k--)
				q[h * Q + k] = q[h * Q + k + 1] -
					       gh[k] * exp(o[h * Q + k]);
			for (k = mid + 1; k < Q; k++)
				q[h * Q + k] = q[h * Q + k - 1] +
					       gh[k - 1] * exp(o[h * Q + k]);
		}
		for (i = 0; i < tw->H * Q; i++)
			L += c[r * tw->H * Q + i] * q[i];
	}
	(void)m;
	return L;
}

static void test_parts_vs_double_twin(void)
{
	ssm_model *m = small_model(4, 0.5, 0);
	const int F = m->F, d = m->d, H = m->arch.horizon,
		  Q = m->arch.nquantiles, HQ = m->HQ;
	float feat[R * SSM_MODEL_NFEAT], x[R * 8], hn[R * 8], rms[R], o[R * 64],
	    gap[R * 64], dO[R * 64], dx[R * 8], scratch[R * 8];
	float *grad = calloc(m->nparams, sizeof(float));
	size_t own = (size_t)(m->b_head - m->params) + (size_t)m->HQ;
	double c[R * 64];
	ssm_rng rg;
	twin tw;
	int r, i, ti;

	ssm_rng_init(&rg, 77);
	for (i = 0; i < R * F; i++)
		feat[i] = (float)ssm_rng_normal(&rg);
	for (i = 0; i < R * H * (Q - 1); i++)
		gap[i] = (float)(0.2 + ssm_rng_uniform(&rg));
	for (i = 0; i < R * HQ; i++)
		c[i] = ssm_rng_normal(&rg);
	/* Analytic, with the float code under test. */
	ssm__enc_forward(m, R, feat, x);
	ssm__head_forward(m, R, x, hn, rms, o);
	for (r = 0; r < R; r++) {
		float dq[64];
		for (i = 0; i < HQ; i++)
			dq[i] = (float)c[r * HQ + i];
		ssm__compose_backward(m, o + r * HQ, gap + r * H * (Q - 1), dq,
				      dO + r * HQ);
	}
	ssm__head_backward(
	    m, R, x, rms, dO, dx, scratch, grad + (m->w_head - m->params),
	    grad + (m->b_head - m->params), grad + (m->g_out - m->params));
	ssm__enc_backward(m, R, feat, dx, grad + (m->w_in - m->params),
			  grad + (m->b_in - m->params));
	/* Central differences on the double twin, tensor by tensor. */
	twin_from(&tw, m);
	for (ti = 0; ti < ssm_model_ntensors(m); ti++) {
		const ssm_tensor *t = ssm_model_tensor(m, ti);
		size_t off = (size_t)(t->data - m->params), j;
		double num = 0.0, den = 0.0;

		CHECK(off + t->n <= own);
		for (j = off; j < off + t->n; j++) {
			double keep = tw.p[j], e = 1e-6, lp, lm, fd;
			tw.p[j] = keep + e;
			lp = twin_loss(&tw, m, feat, gap, c);
			tw.p[j] = keep - e;
			lm = twin_loss(&tw, m, feat, gap, c);
			tw.p[j] = keep;
			fd = (lp - lm) / (2 * e);
			num += (grad[j] - fd) * (grad[j] - fd);
			den += fd * fd;
		}
		if (!(sqrt(num) <= 1e-4 * sqrt(den) + 1e-9))
			th_fail(__FILE__, __LINE__, "%s: rel err %.3g", t->name,
				sqrt(num / (den + 1e-300)));
	}
	(void)d;
	free(tw.p);
	free(grad);
	ssm_model_free(m);
}

/* The pinball derivative, away from its kinks. */
static void test_pinball_derivative(void)
{
	ssm_model *m = small_model(1, 0.0, 0);
	const int HQ = m->HQ, H = m->arch.horizon;
	float qn[64], dqn[64];
	double u[8];
	unsigned char valid[8] = {1, 0, 1, 1, 1, 1, 1, 1};
	ssm_rng rg;
	int i, bad = 0;

	ssm_rng_init(&rg, 3);
	for (i = 0; i < H; i++)
		u[i] = ssm_rng_normal(&rg);
	for (i = 0; i < HQ; i++)
		qn[i] = (float)ssm_rng_normal(&rg);
	ssm__pinball(m, qn, u, valid, dqn);
	for (i = 0; i < HQ; i++) {
		float keep = qn[i], scratch[64];
		double lp, lm;
		qn[i] = keep + 1e-3f;
		lp = ssm__pinball(m, qn, u, valid, scratch);
		qn[i] = keep - 1e-3f;
		lm = ssm__pinball(m, qn, u, valid, scratch);
		qn[i] = keep;
		if (fabs((lp - lm) / 2e-3 - dqn[i]) > 1e-3)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	ssm_model_free(m);
}

static void small_cfg(ssm_train_cfg *c)
{
	ssm_train_default_cfg(c);
	c->batch = 8;
	c->chunk = 12;
	c->steps = 40;
	c->warmup = 5;
	c->min_len = 60;
	c->max_len = 120;
	c->burn_in = 2;
	c->seed = 5;
}

/*
 * The trainer's whole chunk gradient (sampling, front, loss scaling,
 * backward through every step) against central differences of its own
 * float loss, through an S4D and a Mamba layer. The pinball loss has kinks,
 * so the tolerance is looser than the twin's; a wiring error would be off by
 * far more.
 */
static void test_chunk_gradient(void)
{
	ssm_model *m = small_model(8, 0.3, 2);
	ssm_train_cfg c;
	ssm_trainer *tr = NULL;
	float *g, *g2;
	double L, Lp, Lm;
	size_t off = 0;
	int ti;

	small_cfg(&c);
	CHECK_EQ_INT(ssm_trainer_new(&tr, m, &c, NULL, 0), 0);
	g = calloc(ssm_trainer_nparams(tr), sizeof(float));
	g2 = calloc(ssm_trainer_nparams(tr), sizeof(float));
	CHECK_EQ_INT(ssm_trainer_loss_grad(tr, &L, g), 0);
	CHECK(L > 0.0);
	for (ti = 0; ti < ssm_model_ntensors(m); ti++) {
		const ssm_tensor *t = ssm_model_tensor(m, ti);
		double num = 0.0, den = 0.0;
		size_t j;

		for (j = 0; j < t->n; j++) {
			float keep = t->data[j], e = 2e-3f;
			double fd;
			/* refresh: the layers cache their discretization. */
			t->data[j] = keep + e;
			ssm_model_refresh(m);
			ssm_trainer_loss_grad(tr, &Lp, g2);
			t->data[j] = keep - e;
			ssm_model_refresh(m);
			ssm_trainer_loss_grad(tr, &Lm, g2);
			t->data[j] = keep;
			ssm_model_refresh(m);
			fd = (Lp - Lm) / (2.0 * e);
			num += (g[off + j] - fd) * (g[off + j] - fd);
			den += fd * fd;
		}
		/* The float forward resolves a difference quotient to about
		 * 1e-5 per element: tensors whose gradient is smaller than
		 * that (Mamba's dt path here) are checked to that floor; the
		 * layers' own tests check them in double. */
		if (!(sqrt(num) <=
		      0.05 * sqrt(den) + 1e-5 * sqrt((double)t->n)))
			th_fail(__FILE__, __LINE__, "%s: rel err %.3g", t->name,
				sqrt(num / (den + 1e-300)));
		off += t->n;
	}
	free(g);
	free(g2);
	ssm_trainer_free(tr);
	ssm_model_free(m);
}

/*
 * Trains for `steps` and returns the loss on a fixed held-out chunk
 * (another trainer's rows, never advanced) after training over before.
 */
static double train_run(int steps, uint64_t *hash)
{
	ssm_model *m = NULL;
	ssm_trainer *tr = NULL, *ev = NULL;
	ssm_train_cfg c, ce;
	double before, after, l;
	float *g;
	int s;

	small_cfg(&c);
	c.steps = steps;
	c.batch = 16;
	c.chunk = 32;
	c.lr = 1e-2;
	ce = c;
	ce.seed = 99;
	ce.batch = 32;
	ce.chunk = 64;
	ssm_model_new_default(&m, 2);
	CHECK_EQ_INT(ssm_trainer_new(&tr, m, &c, NULL, 0), 0);
	CHECK_EQ_INT(ssm_trainer_new(&ev, m, &ce, NULL, 0), 0);
	g = calloc(ssm_trainer_nparams(ev), sizeof(float));
	ssm_trainer_loss_grad(ev, &before, g);
	for (s = 0; s < steps; s++)
		CHECK_EQ_INT(ssm_trainer_step(tr, &l, NULL), 0);
	ssm_trainer_loss_grad(ev, &after, g);
	*hash = ssm_model_hash(m);
	free(g);
	ssm_trainer_free(ev);
	ssm_trainer_free(tr);
	ssm_model_free(m);
	return after / before;
}

static void test_training_learns_and_repeats(void)
{
	uint64_t h1, h2;
	double r1 = train_run(60, &h1), r2 = train_run(60, &h2);

	CHECK(h1 == h2);
	CHECK(r1 == r2);
	CHECK(r1 < 1.0); /* the held-out loss went down */
}

int main(void)
{
	TH_RUN(test_parts_vs_double_twin);
	TH_RUN(test_pinball_derivative);
	TH_RUN(test_chunk_gradient);
	TH_RUN(test_training_learns_and_repeats);
	return th_summary();
}
