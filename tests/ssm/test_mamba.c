/*
 * tests/ssm/test_mamba.c: the Mamba block. Step mode against sequence mode
 * over 10,000 irregular samples, batched against single, determinism, a
 * naive twin (plain double loops, no BLAS, the formulas of mamba.h), and the
 * backward pass against central finite differences in double.
 */
#include <string.h>

#include "ssm/mamba.h"
#include "ssm/model.h"
#include "tests/harness.h"
#include "tests/ssm/util.h"

static ssm_mamba_cfg cfg_of(int D, int expand, int Ns, int K)
{
	ssm_mamba_cfg c;

	memset(&c, 0, sizeof(c));
	c.d_model = D;
	c.expand = expand;
	c.d_state = Ns;
	c.d_conv = K;
	return c;
}

static void test_step_equals_sequence(void)
{
	enum { T = 10000, D = 8 };
	ssm_mamba_cfg c = cfg_of(D, 2, 8, 4);
	ssm_mamba l;
	ssm_rng r;
	size_t S = ssm_mamba_state_size(&c);
	float *u = malloc(sizeof(float) * T * D), *y1 = malloc(4 * T * D);
	float *y2 = malloc(sizeof(float) * T * D);
	float *acts = malloc(sizeof(float) * ssm_mamba_acts_size(&c, T));
	float *s1 = calloc(S, sizeof(float)), *s2 = calloc(S, sizeof(float));
	double *gaps = malloc(sizeof(double) * T);
	void *ws = malloc(ssm_mamba_seq_workspace_bytes(&c, T) +
			  ssm_mamba_workspace_bytes(&c, 1));
	int t;

	ssm_rng_init(&r, 3);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), 0);
	fill_normal_f(&r, u, (size_t)T * D, 1.0);
	fill_gaps(&r, gaps, T);
	for (t = 0; t < T; t++)
		ssm_mamba_step(&l, s1, gaps[t], u + t * D, y1 + t * D, ws);
	ssm_mamba_forward(&l, T, s2, gaps, u, y2, acts, ws);
	CHECK(max_abs_diff_f(y1, y2, (size_t)T * D) <=
	      1e-4 * rms_f(y1, (size_t)T * D));
	CHECK(max_abs_diff_f(s1, s2, S) <= 1e-4 * rms_f(s1, S));
	CHECK(rms_f(s1, S) > 1e-3);
	ssm_mamba_release(&l);
	free(u);
	free(y1);
	free(y2);
	free(acts);
	free(s1);
	free(s2);
	free(gaps);
	free(ws);
}

/* B series batched against B single steps; B past SSM_MAMBA_TILE runs
 * several tiles, the last one partial, on a workspace sized for B. */
static void batch_vs_single(int B)
{
	enum { D = 16, T = 40 };
	ssm_mamba_cfg c = cfg_of(D, 2, 16, 4);
	ssm_mamba l;
	ssm_rng r;
	size_t S = ssm_mamba_state_size(&c);
	float *sb = calloc(S * B, 4), *ss = calloc(S * B, 4);
	float **sp = malloc(sizeof(*sp) * B), *u = malloc(4 * B * D);
	float *yb = malloc(4 * B * D), *ys = malloc(4 * B * D);
	double *gaps = malloc(sizeof(*gaps) * B), worst = 0;
	void *ws = malloc(ssm_mamba_workspace_bytes(&c, B));
	int b, t;

	ssm_rng_init(&r, 8);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), 0);
	for (b = 0; b < B; b++)
		sp[b] = sb + S * b;
	for (t = 0; t < T; t++) {
		fill_normal_f(&r, u, B * D, 1.0);
		fill_gaps(&r, gaps, B);
		ssm_mamba_step_batch(&l, B, sp, gaps, u, yb, ws);
		for (b = 0; b < B; b++)
			ssm_mamba_step(&l, ss + S * b, gaps[b], u + b * D,
				       ys + b * D, ws);
		worst = fmax(worst, row_rel_err(yb, ys, B, D));
	}
	CHECK(worst <= 1e-6);
	/* States differ only by the GEMM/GEMV rounding of their inputs. */
	CHECK(max_abs_diff_f(sb, ss, S * B) <= 1e-5 * rms_f(ss, S * B));
	ssm_mamba_release(&l);
	free(sb);
	free(ss);
	free(sp);
	free(u);
	free(yb);
	free(ys);
	free(gaps);
	free(ws);
}

static void test_batch_equals_single(void)
{
	batch_vs_single(11);
	batch_vs_single(2 * SSM_MAMBA_TILE + 5);
}

static void test_deterministic(void)
{
	enum { D = 8, T = 300 };
	ssm_mamba_cfg c = cfg_of(D, 2, 4, 3);
	ssm_mamba a, b;
	ssm_rng ra, rb;
	size_t S = ssm_mamba_state_size(&c);
	float *sa = calloc(S, 4), *sb = calloc(S, 4), u[D], ya[D], yb[D];
	void *ws = malloc(ssm_mamba_workspace_bytes(&c, 1));
	int t, same = 1;

	ssm_rng_init(&ra, 99);
	ssm_rng_init(&rb, 99);
	CHECK_EQ_INT(ssm_mamba_init(&a, &c, &ra), 0);
	CHECK_EQ_INT(ssm_mamba_init(&b, &c, &rb), 0);
	CHECK(memcmp(a.params, b.params,
		     ssm_mamba_nparams(&c) * sizeof(float)) == 0);
	for (t = 0; t < T; t++) {
		fill_normal_f(&ra, u, D, 1.0);
		ssm_mamba_step(&a, sa, t % 5 ? 1.0 : 3.0, u, ya, ws);
		ssm_mamba_step(&b, sb, t % 5 ? 1.0 : 3.0, u, yb, ws);
		same &= memcmp(ya, yb, sizeof(ya)) == 0;
	}
	CHECK(same);
	CHECK(memcmp(sa, sb, S * sizeof(float)) == 0);
	ssm_mamba_release(&a);
	ssm_mamba_release(&b);
	free(sa);
	free(sb);
	free(ws);
}

/* Naive twin state: the last K-1 inputs x (newest last) and h [Di][Ns]. */
typedef struct naive_state {
	double win[8][64];
	double h[64][32];
} naive_state;

static double silu(double v)
{
	return v / (1 + exp(-v));
}

static void naive_step(const ssm_mamba *l, naive_state *s, double gap,
		       const float *u, double *y)
{
	const ssm_mamba_tensors *p = &l->p;
	int D = l->cfg.d_model, Di = D * l->cfg.expand, Ns = l->cfg.d_state;
	int K = l->cfg.d_conv, R = l->cfg.dt_rank, P = R + 2 * Ns;
	double ss = 0, rinv, xn[64], xz[128], xs[64], dbc[64], g[64];
	int i, j, k, c, n;

	for (i = 0; i < D; i++)
		ss += (double)u[i] * u[i];
	rinv = 1 / sqrt(ss / D + 1e-5);
	for (i = 0; i < D; i++)
		xn[i] = u[i] * rinv * p->norm_w[i];
	for (j = 0; j < 2 * Di; j++) {
		xz[j] = 0;
		for (i = 0; i < D; i++)
			xz[j] += p->W_in[j * D + i] * xn[i];
	}
	for (c = 0; c < Di; c++) {
		double v = p->conv_b[c];
		for (k = 0; k < K - 1; k++)
			v += p->conv_w[c * K + k] * s->win[k][c];
		v += p->conv_w[c * K + K - 1] * xz[c];
		for (k = 0; k + 1 < K - 1; k++)
			s->win[k][c] = s->win[k + 1][c];
		if (K > 1)
			s->win[K - 2][c] = xz[c];
		xs[c] = silu(v);
	}
	for (j = 0; j < P; j++) {
		dbc[j] = 0;
		for (c = 0; c < Di; c++)
			dbc[j] += p->W_x[j * Di + c] * xs[c];
	}
	for (c = 0; c < Di; c++) {
		double pre = p->b_dt[c], dt, yc = 0;
		for (j = 0; j < R; j++)
			pre += p->W_dt[c * R + j] * dbc[j];
		dt = (pre > 20 ? pre : log1p(exp(pre))) * gap;
		for (n = 0; n < Ns; n++) {
			double A = -exp(p->A_log[c * Ns + n]);
			s->h[c][n] =
			    exp(dt * A) * s->h[c][n] + dt * dbc[R + n] * xs[c];
			yc += dbc[R + Ns + n] * s->h[c][n];
		}
		yc += p->Dskip[c] * xs[c];
		g[c] = yc * silu(xz[Di + c]);
	}
	for (i = 0; i < D; i++) {
		y[i] = u[i];
		for (c = 0; c < Di; c++)
			y[i] += p->W_out[i * Di + c] * g[c];
	}
}

static void test_naive_twin(void)
{
	enum { D = 12, T = 3000 };
	ssm_mamba_cfg c = cfg_of(D, 2, 16, 4);
	ssm_mamba l;
	ssm_rng r;
	naive_state *ns = calloc(1, sizeof(*ns));
	size_t S = ssm_mamba_state_size(&c);
	float *s = calloc(S, 4), u[D], y[D];
	double yn[D], sy = 0, worst = 0;
	void *ws = malloc(ssm_mamba_workspace_bytes(&c, 1));
	int t, i;

	ssm_rng_init(&r, 21);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), 0);
	for (t = 0; t < T; t++) {
		double gap = t % 7 == 6 ? 2.5 : 1.0;
		fill_normal_f(&r, u, D, 1.0);
		ssm_mamba_step(&l, s, gap, u, y, ws);
		naive_step(&l, ns, gap, u, yn);
		for (i = 0; i < D; i++) {
			double e = fabs(y[i] - yn[i]);
			sy += yn[i] * yn[i];
			if (!(e <= worst))
				worst = e;
		}
	}
	CHECK(worst <= 1e-4 * sqrt(sy / (T * D)));
	ssm_mamba_release(&l);
	free(ns);
	free(s);
	free(ws);
}

static double loss64(const ssm_mamba64 *l, int T, const double *s0,
		     const double *gaps, const double *u, const double *w,
		     double *acts, void *ws)
{
	size_t S = ssm_mamba_state_size(&l->cfg), i;
	int D = l->cfg.d_model;
	double *s = malloc(S * sizeof(double));
	double *y = malloc(sizeof(double) * (size_t)T * D), L = 0;

	memcpy(s, s0, S * sizeof(double));
	ssm_mamba64_forward(l, T, s, gaps, u, y, acts, ws);
	for (i = 0; i < (size_t)T * D; i++)
		L += w[i] * y[i];
	free(s);
	free(y);
	return L;
}

/* Finite-difference context: the fixed sequence the loss is taken over. */
typedef struct fd_ctx {
	ssm_mamba64 *l;
	int T;
	const double *s0, *gaps, *u, *w;
	double *acts;
	void *ws;
} fd_ctx;

static double fd_loss(void *p)
{
	fd_ctx *c = p;

	return loss64(c->l, c->T, c->s0, c->gaps, c->u, c->w, c->acts, c->ws);
}

static void fd_prepare(void *p)
{
	ssm_mamba64_prepare(((fd_ctx *)p)->l);
}

static void gradcheck_one(ssm_mamba_cfg c, int irregular, uint64_t seed)
{
	enum { T = 10 };
	ssm_mamba64 l;
	ssm_rng r;
	ssm_tensor_info info[SSM_MAMBA_NTENSORS];
	size_t S, np, j;
	int D = c.d_model, k;
	double *s0, *u, *w, *du, gaps[T], *grads, *acts;
	void *ws;

	ssm_rng_init(&r, seed);
	CHECK_EQ_INT(ssm_mamba64_init(&l, &c, &r), 0);
	c = l.cfg;
	S = ssm_mamba_state_size(&c);
	np = ssm_mamba_nparams(&c);
	/* Perturb everything off its init (Dskip = 1, norm_w = 1, ...); make
	 * dt large enough that the state matters within T samples. */
	for (j = 0; j < np; j++)
		l.params[j] += 0.1 * ssm_rng_normal(&r);
	for (k = 0; k < l.cfg.expand * D; k++)
		l.p.b_dt[k] += 2.0;
	CHECK_EQ_INT(ssm_mamba64_prepare(&l), 0);
	s0 = malloc(S * sizeof(double));
	u = malloc(sizeof(double) * T * D);
	w = malloc(sizeof(double) * T * D);
	du = malloc(sizeof(double) * T * D);
	grads = calloc(np, sizeof(double));
	acts = malloc(sizeof(double) * ssm_mamba64_acts_size(&c, T));
	ws = malloc(ssm_mamba64_seq_workspace_bytes(&c, T));
	fill_normal_d(&r, s0, S, 0.5);
	fill_normal_d(&r, u, T * D, 1.0);
	fill_normal_d(&r, w, T * D, 1.0);
	for (k = 0; k < T; k++)
		gaps[k] = irregular && k % 3 == 1 ? 2.5 : 1.0;
	loss64(&l, T, s0, gaps, u, w, acts, ws);
	ssm_mamba64_backward(&l, T, gaps, u, acts, w, du, grads, ws);
	{
		fd_ctx ctx = {&l, T, s0, gaps, u, w, acts, ws};
		fd_layer f = {&ctx, fd_loss, fd_prepare,   l.params,
			      np,   u,	     (size_t)T * D};
		char label[80];

		snprintf(label, sizeof(label), "K %d irr %d", c.d_conv,
			 irregular);
		fd_check(&f, info, ssm_mamba_tensors_info(&c, info), grads, du,
			 label);
	}
	ssm_mamba64_release(&l);
	free(s0);
	free(u);
	free(w);
	free(du);
	free(grads);
	free(acts);
	free(ws);
}

static void test_gradcheck(void)
{
	ssm_mamba_cfg c = cfg_of(4, 2, 3, 4);

	gradcheck_one(c, 0, 1);
	gradcheck_one(c, 1, 2);
	c = cfg_of(5, 1, 2, 1); /* K = 1: no conv window */
	c.dt_rank = 2;
	gradcheck_one(c, 1, 3);
	c = cfg_of(3, 2, 4, 2);
	gradcheck_one(c, 0, 4);
}

static void test_bad_config(void)
{
	ssm_mamba_cfg c = cfg_of(0, 2, 16, 4);
	ssm_mamba l;
	ssm_rng r;

	ssm_rng_init(&r, 1);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(8, 2, 16, 0);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(8, 2, 16, 4);
	c.dt_min = 0.5;
	c.dt_max = 0.1;
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(32, 2, 16, 4);
	CHECK_EQ_INT(ssm_mamba_init(&l, &c, &r), 0);
	CHECK_EQ_INT(l.cfg.dt_rank, 2);
	/* Reference init: Dskip = 1, A_log = log(n+1), dt in range. */
	CHECK_NEAR(l.p.Dskip[5], 1.0, 0);
	CHECK_NEAR(l.p.A_log[3 * 16 + 4], log(5.0), 1e-6);
	{
		double b = l.p.b_dt[7], dt = log1p(exp(b));
		CHECK(dt >= 1e-3 * 0.999 && dt <= 0.1 * 1.001);
	}
	l.p.W_x[0] = INFINITY;
	CHECK_EQ_INT(ssm_mamba_prepare(&l), SSM_ENONFINITE);
	ssm_mamba_release(&l);
}

int main(void)
{
	TH_RUN(test_step_equals_sequence);
	TH_RUN(test_batch_equals_single);
	TH_RUN(test_deterministic);
	TH_RUN(test_naive_twin);
	TH_RUN(test_gradcheck);
	TH_RUN(test_bad_config);
	return th_summary();
}
