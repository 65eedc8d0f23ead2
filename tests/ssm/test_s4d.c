/*
 * tests/ssm/test_s4d.c: the S4D block. Step mode against sequence mode over
 * 10,000 irregular samples, batched against single, bit-for-bit determinism,
 * a naive complex-arithmetic twin (no BLAS), and the backward pass against
 * central finite differences in double for every parameter tensor.
 */
#include <complex.h>
#include <string.h>

#include "ssm/model.h"
#include "ssm/s4d.h"
#include "tests/harness.h"
#include "tests/ssm/util.h"

static ssm_s4d_cfg cfg_of(int H, int N, int init, int disc)
{
	ssm_s4d_cfg c;

	memset(&c, 0, sizeof(c));
	c.H = H;
	c.N = N;
	c.init = init;
	c.disc = disc;
	/* Wider than the default so slow and fast modes both matter. */
	c.dt_min = 1e-2;
	c.dt_max = 0.5;
	return c;
}

/* Step mode == sequence mode over 10,000 samples with irregular gaps, for
 * every initialisation and both discretizations. */
static void test_step_equals_sequence(void)
{
	enum { T = 10000, H = 8, N = 16 };
	int init, disc;

	for (init = SSM_S4D_LIN; init <= SSM_S4D_LEGS; init++)
		for (disc = 0; disc < 2; disc++) {
			ssm_s4d_cfg c = cfg_of(H, N, init, disc);
			ssm_s4d l;
			ssm_rng r;
			size_t S = ssm_s4d_state_size(&c);
			float *u = malloc(sizeof(float) * T * H);
			float *y1 = malloc(sizeof(float) * T * H);
			float *y2 = malloc(sizeof(float) * T * H);
			float *acts =
			    malloc(sizeof(float) * ssm_s4d_acts_size(&c, T));
			float *s1 = calloc(S, sizeof(float));
			float *s2 = calloc(S, sizeof(float));
			double *gaps = malloc(sizeof(double) * T);
			void *ws = malloc(ssm_s4d_seq_workspace_bytes(&c, T) +
					  ssm_s4d_workspace_bytes(&c, 1));
			double err, rms;
			int t;

			ssm_rng_init(&r, 100 + init * 2 + disc);
			CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), 0);
			fill_normal_f(&r, u, (size_t)T * H, 1.0);
			fill_gaps(&r, gaps, T);
			for (t = 0; t < T; t++)
				ssm_s4d_step(&l, s1, gaps[t], u + t * H,
					     y1 + t * H, ws);
			ssm_s4d_forward(&l, T, s2, gaps, u, y2, acts, ws);
			err = max_abs_diff_f(y1, y2, (size_t)T * H);
			rms = rms_f(y1, (size_t)T * H);
			CHECK(err <= 1e-4 * rms);
			CHECK(max_abs_diff_f(s1, s2, S) <= 1e-4 * rms_f(s1, S));
			CHECK(rms > 0.1);
			ssm_s4d_release(&l);
			free(u);
			free(y1);
			free(y2);
			free(acts);
			free(s1);
			free(s2);
			free(gaps);
			free(ws);
		}
}

/* Stepping B series together equals B single steps within 1e-6 relative. */
static void test_batch_equals_single(void)
{
	enum { B = 13, H = 16, N = 8, T = 50 };
	ssm_s4d_cfg c = cfg_of(H, N, SSM_S4D_INV, SSM_DISC_ZOH);
	ssm_s4d l;
	ssm_rng r;
	size_t S = ssm_s4d_state_size(&c);
	float *sb = calloc(S * B, sizeof(float)), *ss = calloc(S * B, 4);
	float *sp[B], u[B * H], yb[B * H], ys[B * H];
	double gaps[B], worst = 0;
	void *ws = malloc(ssm_s4d_workspace_bytes(&c, B));
	int b, t;

	ssm_rng_init(&r, 5);
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), 0);
	for (b = 0; b < B; b++)
		sp[b] = sb + S * b;
	for (t = 0; t < T; t++) {
		fill_normal_f(&r, u, B * H, 1.0);
		fill_gaps(&r, gaps, B);
		ssm_s4d_step_batch(&l, B, sp, gaps, u, yb, ws);
		for (b = 0; b < B; b++)
			ssm_s4d_step(&l, ss + S * b, gaps[b], u + b * H,
				     ys + b * H, ws);
		worst = fmax(worst, row_rel_err(yb, ys, B, H));
	}
	CHECK(worst <= 1e-6);
	CHECK(max_abs_diff_f(sb, ss, S * B) == 0.0);
	ssm_s4d_release(&l);
	free(sb);
	free(ss);
	free(ws);
}

/* Same seed, same inputs: the same bits (initialisation and stepping). */
static void test_deterministic(void)
{
	enum { H = 8, N = 8, T = 200 };
	ssm_s4d_cfg c = cfg_of(H, N, SSM_S4D_LEGS, SSM_DISC_BILINEAR);
	ssm_s4d a, b;
	ssm_rng ra, rb;
	size_t S = ssm_s4d_state_size(&c);
	float *sa = calloc(S, 4), *sb = calloc(S, 4), u[H], ya[H], yb[H];
	void *ws = malloc(ssm_s4d_workspace_bytes(&c, 1));
	int t, same = 1;

	ssm_rng_init(&ra, 77);
	ssm_rng_init(&rb, 77);
	CHECK_EQ_INT(ssm_s4d_init(&a, &c, &ra), 0);
	CHECK_EQ_INT(ssm_s4d_init(&b, &c, &rb), 0);
	CHECK(memcmp(a.params, b.params, ssm_s4d_nparams(&c) * sizeof(float)) ==
	      0);
	for (t = 0; t < T; t++) {
		fill_normal_f(&ra, u, H, 1.0);
		ssm_s4d_step(&a, sa, t % 7 ? 1.0 : 2.5, u, ya, ws);
		ssm_s4d_step(&b, sb, t % 7 ? 1.0 : 2.5, u, yb, ws);
		same &= memcmp(ya, yb, sizeof(ya)) == 0;
	}
	CHECK(same);
	CHECK(memcmp(sa, sb, S * sizeof(float)) == 0);
	ssm_s4d_release(&a);
	ssm_s4d_release(&b);
	free(sa);
	free(sb);
	free(ws);
}

/* The naive twin: the block as written in s4d.h, with complex doubles and
 * plain loops, discretizing from the closed forms every sample. */
static void naive_step(const ssm_s4d *l, double complex *x, double gap,
		       const float *u, double *y)
{
	int H = l->cfg.H, N = l->cfg.N, h, n, o;
	double ss = 0, rinv, xn[64], act[64];

	for (h = 0; h < H; h++)
		ss += (double)u[h] * u[h];
	rinv = 1.0 / sqrt(ss / H + 1e-5);
	for (h = 0; h < H; h++) {
		double dt = exp(l->p.log_dt[h]) * gap, v = 0;
		xn[h] = u[h] * rinv * l->p.norm_w[h];
		for (n = 0; n < N; n++) {
			int i = n * H + h;
			double complex a =
			    -exp(l->p.log_A_re[i]) + I * l->p.A_im[i];
			double complex B = l->p.B_re[i] + I * l->p.B_im[i];
			double complex C = l->p.C_re[i] + I * l->p.C_im[i];
			double complex dA, dB;
			if (l->cfg.disc == SSM_DISC_ZOH) {
				dA = cexp(dt * a);
				dB = (dA - 1.0) / a * B;
			} else {
				dA = (1.0 + dt * a / 2) / (1.0 - dt * a / 2);
				dB = dt / (1.0 - dt * a / 2) * B;
			}
			x[i] = dA * x[i] + dB * xn[h];
			v += 2 * creal(C * x[i]);
		}
		v += l->p.D[h] * xn[h];
		act[h] = v / (1 + exp(-v));
	}
	for (o = 0; o < H; o++) {
		y[o] = u[o] + l->p.b_out[o];
		for (h = 0; h < H; h++)
			y[o] += l->p.W_out[o * H + h] * act[h];
	}
}

static void test_naive_twin(void)
{
	enum { H = 6, N = 10, T = 3000 };
	int disc;

	for (disc = 0; disc < 2; disc++) {
		ssm_s4d_cfg c = cfg_of(H, N, SSM_S4D_LIN, disc);
		ssm_s4d l;
		ssm_rng r;
		size_t S = ssm_s4d_state_size(&c);
		float *s = calloc(S, 4), u[H], y[H];
		double complex x[H * N];
		double yn[H], se = 0, sy = 0, worst = 0;
		void *ws = malloc(ssm_s4d_workspace_bytes(&c, 1));
		int t, h;

		memset(x, 0, sizeof(x));
		ssm_rng_init(&r, 11 + disc);
		CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), 0);
		for (t = 0; t < T; t++) {
			/* Integer gaps take the powering path under ZOH,
			 * 2.5 the exact exp path. */
			double gap = t % 5 == 4	    ? 3.0
				     : t % 11 == 10 ? 17.0
				     : t % 13 == 12 ? 2.5
						    : 1.0;
			fill_normal_f(&r, u, H, 1.0);
			ssm_s4d_step(&l, s, gap, u, y, ws);
			naive_step(&l, x, gap, u, yn);
			for (h = 0; h < H; h++) {
				double e = fabs(y[h] - yn[h]);
				se += e * e;
				sy += yn[h] * yn[h];
				if (e > worst)
					worst = e;
			}
		}
		CHECK(worst <= 1e-4 * sqrt(sy / (T * H)));
		ssm_s4d_release(&l);
		free(s);
		free(ws);
	}
}

/* Loss = sum w . y over a short sequence, in the double twin. */
static double loss64(const ssm_s4d64 *l, int T, const double *s0,
		     const double *gaps, const double *u, const double *w,
		     double *acts, void *ws)
{
	size_t S = ssm_s4d_state_size(&l->cfg), i;
	int H = l->cfg.H;
	double *s = malloc(S * sizeof(double)),
	       *y = malloc(sizeof(double) * (size_t)T * H);
	double L = 0;

	memcpy(s, s0, S * sizeof(double));
	ssm_s4d64_forward(l, T, s, gaps, u, y, acts, ws);
	for (i = 0; i < (size_t)T * H; i++)
		L += w[i] * y[i];
	free(s);
	free(y);
	return L;
}

/* Finite-difference context: the fixed sequence the loss is taken over. */
typedef struct fd_ctx {
	ssm_s4d64 *l;
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
	ssm_s4d64_prepare(((fd_ctx *)p)->l);
}

static void gradcheck_one(int init, int disc, int irregular, uint64_t seed)
{
	enum { H = 3, N = 4, T = 12 };
	ssm_s4d_cfg c = cfg_of(H, N, init, disc);
	ssm_s4d64 l;
	ssm_rng r;
	ssm_tensor_info info[SSM_S4D_NTENSORS];
	size_t S = ssm_s4d_state_size(&c), np, j;
	double s0[2 * H * N], u[T * H], w[T * H], du[T * H], gaps[T];
	double *grads, *acts;
	void *ws;
	int k;

	ssm_rng_init(&r, seed);
	CHECK_EQ_INT(ssm_s4d64_init(&l, &c, &r), 0);
	np = ssm_s4d_nparams(&c);
	/* Move every parameter off its structured init so each gradient
	 * path is exercised (B_im, norm_w and b_out start at constants). */
	for (j = 0; j < np; j++)
		l.params[j] += 0.1 * ssm_rng_normal(&r);
	CHECK_EQ_INT(ssm_s4d64_prepare(&l), 0);
	grads = calloc(np, sizeof(double));
	acts = malloc(sizeof(double) * ssm_s4d64_acts_size(&c, T));
	ws = malloc(ssm_s4d64_seq_workspace_bytes(&c, T));
	fill_normal_d(&r, s0, S, 0.5);
	fill_normal_d(&r, u, T * H, 1.0);
	fill_normal_d(&r, w, T * H, 1.0);
	for (k = 0; k < T; k++)
		gaps[k] = irregular
			      ? (k % 3 == 1 ? 2.0 : (k % 4 == 3 ? 0.5 : 1.0))
			      : 1.0;
	loss64(&l, T, s0, gaps, u, w, acts, ws);
	ssm_s4d64_backward(&l, T, gaps, u, acts, w, du, grads, ws);
	{
		fd_ctx ctx = {&l, T, s0, gaps, u, w, acts, ws};
		fd_layer f = {&ctx, fd_loss, fd_prepare,   l.params,
			      np,   u,	     (size_t)T * H};
		char label[80];

		snprintf(label, sizeof(label), "init %d disc %d irr %d", init,
			 disc, irregular);
		fd_check(&f, info, ssm_s4d_tensors_info(&c, info), grads, du,
			 label);
	}
	ssm_s4d64_release(&l);
	free(grads);
	free(acts);
	free(ws);
}

static void test_gradcheck(void)
{
	int init, disc;

	for (init = SSM_S4D_LIN; init <= SSM_S4D_LEGS; init++)
		for (disc = 0; disc < 2; disc++) {
			gradcheck_one(init, disc, 0, 1000 + init * 2 + disc);
			gradcheck_one(init, disc, 1, 2000 + init * 2 + disc);
		}
}

static void test_bad_config(void)
{
	ssm_s4d_cfg c = cfg_of(0, 4, SSM_S4D_LIN, SSM_DISC_ZOH);
	ssm_s4d l;
	ssm_rng r;

	ssm_rng_init(&r, 1);
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, 9, SSM_DISC_ZOH);
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, SSM_S4D_LIN, 5);
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, SSM_S4D_LIN, SSM_DISC_ZOH);
	c.dt_min = -1;
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), SSM_EINVAL);
	/* A non-finite weight is refused by prepare. */
	c = cfg_of(4, 4, SSM_S4D_LIN, SSM_DISC_ZOH);
	CHECK_EQ_INT(ssm_s4d_init(&l, &c, &r), 0);
	l.p.C_re[3] = NAN;
	CHECK_EQ_INT(ssm_s4d_prepare(&l), SSM_ENONFINITE);
	ssm_s4d_release(&l);
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
