/*
 * tests/ssm/test_hippo.c: the HiPPO memory layer. Step mode against sequence
 * mode over 10,000 irregular samples, batched against single, determinism,
 * a naive twin (own bilinear solve, plain loops, no BLAS), and the backward
 * pass against central finite differences in double.
 */
#include <string.h>

#include "ssm/hippo.h"
#include "ssm/model.h"
#include "tests/harness.h"
#include "tests/ssm/util.h"

static ssm_hippo_cfg cfg_of(int H, int N, int kind, int disc, double theta)
{
	ssm_hippo_cfg c;

	c.H = H;
	c.N = N;
	c.kind = kind;
	c.disc = disc;
	c.theta = theta;
	return c;
}

static void test_step_equals_sequence(void)
{
	enum { T = 10000, H = 4, N = 8 };
	int kind, disc;

	for (kind = 0; kind < 2; kind++)
		for (disc = 0; disc < 2; disc++) {
			ssm_hippo_cfg c = cfg_of(H, N, kind, disc, 30.0);
			ssm_hippo l;
			ssm_rng r;
			size_t S = ssm_hippo_state_size(&c);
			float *u = malloc(sizeof(float) * T * H);
			float *y1 = malloc(sizeof(float) * T * H);
			float *y2 = malloc(sizeof(float) * T * H);
			float *acts =
			    malloc(sizeof(float) * ssm_hippo_acts_size(&c, T));
			float *s1 = calloc(S, 4), *s2 = calloc(S, 4);
			double *gaps = malloc(sizeof(double) * T);
			void *ws = malloc(ssm_hippo_seq_workspace_bytes(&c, T) +
					  ssm_hippo_workspace_bytes(&c, 1));
			int t;

			ssm_rng_init(&r, 40 + kind * 2 + disc);
			CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), 0);
			fill_normal_f(&r, u, (size_t)T * H, 1.0);
			fill_gaps(&r, gaps, T);
			for (t = 0; t < T; t++)
				ssm_hippo_step(&l, s1, gaps[t], u + t * H,
					       y1 + t * H, ws);
			ssm_hippo_forward(&l, T, s2, gaps, u, y2, acts, ws);
			CHECK(max_abs_diff_f(y1, y2, (size_t)T * H) <=
			      1e-4 * rms_f(y1, (size_t)T * H));
			CHECK(max_abs_diff_f(s1, s2, S) <= 1e-4 * rms_f(s1, S));
			CHECK(rms_f(s1, S) > 1e-2);
			ssm_hippo_release(&l);
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

static void test_batch_equals_single(void)
{
	enum { B = 9, H = 8, N = 12, T = 30 };
	ssm_hippo_cfg c = cfg_of(H, N, SSM_HIPPO_LEGT, SSM_DISC_ZOH, 20.0);
	ssm_hippo l;
	ssm_rng r;
	size_t S = ssm_hippo_state_size(&c);
	float *sb = calloc(S * B, 4), *ss = calloc(S * B, 4), *sp[B];
	float u[B * H], yb[B * H], ys[B * H];
	double gaps[B], worst = 0;
	void *ws = malloc(ssm_hippo_workspace_bytes(&c, B));
	int b, t;

	ssm_rng_init(&r, 12);
	CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), 0);
	for (b = 0; b < B; b++)
		sp[b] = sb + S * b;
	for (t = 0; t < T; t++) {
		fill_normal_f(&r, u, B * H, 1.0);
		fill_gaps(&r, gaps, B);
		ssm_hippo_step_batch(&l, B, sp, gaps, u, yb, ws);
		for (b = 0; b < B; b++)
			ssm_hippo_step(&l, ss + S * b, gaps[b], u + b * H,
				       ys + b * H, ws);
		worst = fmax(worst, row_rel_err(yb, ys, B, H));
	}
	CHECK(worst <= 1e-6);
	CHECK(max_abs_diff_f(sb, ss, S * B) <= 1e-6 * rms_f(ss, S * B));
	ssm_hippo_release(&l);
	free(sb);
	free(ss);
	free(ws);
}

static void test_deterministic(void)
{
	enum { H = 4, N = 16, T = 200 };
	ssm_hippo_cfg c = cfg_of(H, N, SSM_HIPPO_LEGS, SSM_DISC_BILINEAR, 50);
	ssm_hippo a, b;
	ssm_rng ra, rb;
	size_t S = ssm_hippo_state_size(&c);
	float *sa = calloc(S, 4), *sb = calloc(S, 4), u[H], ya[H], yb[H];
	void *ws = malloc(ssm_hippo_workspace_bytes(&c, 1));
	int t, same = 1;

	ssm_rng_init(&ra, 5);
	ssm_rng_init(&rb, 5);
	CHECK_EQ_INT(ssm_hippo_init(&a, &c, &ra), 0);
	CHECK_EQ_INT(ssm_hippo_init(&b, &c, &rb), 0);
	for (t = 0; t < T; t++) {
		fill_normal_f(&ra, u, H, 1.0);
		ssm_hippo_step(&a, sa, t % 9 ? 1.0 : 4.0, u, ya, ws);
		ssm_hippo_step(&b, sb, t % 9 ? 1.0 : 4.0, u, yb, ws);
		same &= memcmp(ya, yb, sizeof(ya)) == 0;
	}
	CHECK(same);
	CHECK(memcmp(sa, sb, S * sizeof(float)) == 0);
	ssm_hippo_release(&a);
	ssm_hippo_release(&b);
	free(sa);
	free(sb);
	free(ws);
}

/* Solve M X = R (n x n, m right-hand columns) by Gauss-Jordan with partial
 * pivoting; M and R are overwritten, X lands in R. */
static void gauss(int n, int m, double *M, double *R)
{
	int i, j, k;

	for (k = 0; k < n; k++) {
		int p = k;
		for (i = k + 1; i < n; i++)
			if (fabs(M[i * n + k]) > fabs(M[p * n + k]))
				p = i;
		for (j = 0; j < n; j++) {
			double t = M[k * n + j];
			M[k * n + j] = M[p * n + j];
			M[p * n + j] = t;
		}
		for (j = 0; j < m; j++) {
			double t = R[k * m + j];
			R[k * m + j] = R[p * m + j];
			R[p * m + j] = t;
		}
		for (i = 0; i < n; i++) {
			double f;
			if (i == k)
				continue;
			f = M[i * n + k] / M[k * n + k];
			for (j = 0; j < n; j++)
				M[i * n + j] -= f * M[k * n + j];
			for (j = 0; j < m; j++)
				R[i * m + j] -= f * R[k * m + j];
		}
	}
	for (k = 0; k < n; k++)
		for (j = 0; j < m; j++)
			R[k * m + j] /= M[k * n + k];
}

/* Naive bilinear twin: [dA dB] from its own solve, loops for everything. */
static void test_naive_twin(void)
{
	enum { H = 3, N = 10, T = 2000 };
	int kind;

	for (kind = 0; kind < 2; kind++) {
		ssm_hippo_cfg c = cfg_of(H, N, kind, SSM_DISC_BILINEAR, 25.0);
		ssm_hippo l;
		ssm_rng r;
		double A[N * N], Bv[N], M[N * N], R[N * (N + 1)];
		double x[H][N], xn[N], sy = 0, worst = 0;
		float *s = calloc(ssm_hippo_state_size(&c), 4), u[H], y[H];
		void *ws = malloc(ssm_hippo_workspace_bytes(&c, 1));
		int t, i, j, h;

		memset(x, 0, sizeof(x));
		ssm_rng_init(&r, 70 + kind);
		CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), 0);
		if (kind == SSM_HIPPO_LEGT) {
			ssm_hippo_legt(N, 25.0, A, Bv);
		} else {
			ssm_hippo_legs(N, A, Bv);
			for (i = 0; i < N * N; i++)
				A[i] /= 25.0;
			for (i = 0; i < N; i++)
				Bv[i] /= 25.0;
		}
		for (i = 0; i < N; i++) {
			for (j = 0; j < N; j++) {
				M[i * N + j] = (i == j) - A[i * N + j] / 2;
				R[i * (N + 1) + j] =
				    (i == j) + A[i * N + j] / 2;
			}
			R[i * (N + 1) + N] = Bv[i];
		}
		gauss(N, N + 1, M, R);
		for (t = 0; t < T; t++) {
			fill_normal_f(&r, u, H, 1.0);
			ssm_hippo_step(&l, s, 1.0, u, y, ws);
			for (h = 0; h < H; h++) {
				for (i = 0; i < N; i++) {
					xn[i] = R[i * (N + 1) + N] * u[h];
					for (j = 0; j < N; j++)
						xn[i] += R[i * (N + 1) + j] *
							 x[h][j];
				}
				memcpy(x[h], xn, sizeof(xn));
			}
			for (h = 0; h < H; h++) {
				double v = (double)u[h] + l.p.b_out[h], e;
				for (i = 0; i < H * N; i++)
					v += l.p.W_out[h * H * N + i] *
					     x[i / N][i % N];
				e = fabs(v - y[h]);
				sy += v * v;
				if (!(e <= worst))
					worst = e;
			}
		}
		CHECK(worst <= 1e-4 * sqrt(sy / (T * H)));
		ssm_hippo_release(&l);
		free(s);
		free(ws);
	}
}

static double loss64(const ssm_hippo64 *l, int T, const double *s0,
		     const double *gaps, const double *u, const double *w,
		     double *acts, void *ws)
{
	size_t S = ssm_hippo_state_size(&l->cfg), i;
	double *s = malloc(S * sizeof(double));
	double *y = malloc(sizeof(double) * (size_t)T * l->cfg.H), L = 0;

	memcpy(s, s0, S * sizeof(double));
	ssm_hippo64_forward(l, T, s, gaps, u, y, acts, ws);
	for (i = 0; i < (size_t)T * l->cfg.H; i++)
		L += w[i] * y[i];
	free(s);
	free(y);
	return L;
}

/* Finite-difference context: the fixed sequence the loss is taken over. */
typedef struct fd_ctx {
	ssm_hippo64 *l;
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
	ssm_hippo64_prepare(((fd_ctx *)p)->l);
}

static void test_gradcheck(void)
{
	enum { H = 3, N = 4, T = 9 };
	ssm_hippo_cfg c = cfg_of(H, N, SSM_HIPPO_LEGT, SSM_DISC_ZOH, 5.0);
	ssm_hippo64 l;
	ssm_rng r;
	ssm_tensor_info info[SSM_HIPPO_NTENSORS];
	double s0[H * N], u[T * H], w[T * H], du[T * H];
	double gaps[T] = {1, 2, 1, 1, 0.5, 1, 3, 1, 1}, *grads, *acts;
	size_t np, j;
	void *ws;

	ssm_rng_init(&r, 9);
	CHECK_EQ_INT(ssm_hippo64_init(&l, &c, &r), 0);
	np = ssm_hippo_nparams(&c);
	for (j = 0; j < np; j++)
		l.params[j] += 0.1 * ssm_rng_normal(&r);
	grads = calloc(np, sizeof(double));
	acts = malloc(sizeof(double) * ssm_hippo64_acts_size(&c, T));
	ws = malloc(ssm_hippo64_seq_workspace_bytes(&c, T));
	fill_normal_d(&r, s0, H * N, 0.5);
	fill_normal_d(&r, u, T * H, 1.0);
	fill_normal_d(&r, w, T * H, 1.0);
	loss64(&l, T, s0, gaps, u, w, acts, ws);
	ssm_hippo64_backward(&l, T, gaps, u, acts, w, du, grads, ws);
	{
		fd_ctx ctx = {&l, T, s0, gaps, u, w, acts, ws};
		fd_layer f = {&ctx, fd_loss, fd_prepare,   l.params,
			      np,   u,	     (size_t)T * H};
		char label[80];

		snprintf(label, sizeof(label), "%s", "hippo LegT ZOH");
		fd_check(&f, info, ssm_hippo_tensors_info(&c, info), grads, du,
			 label);
	}
	ssm_hippo64_release(&l);
	free(grads);
	free(acts);
	free(ws);
}

static void test_bad_config(void)
{
	ssm_hippo_cfg c = cfg_of(4, 0, SSM_HIPPO_LEGT, SSM_DISC_ZOH, 10);
	ssm_hippo l;
	ssm_rng r;

	ssm_rng_init(&r, 1);
	CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, 7, SSM_DISC_ZOH, 10);
	CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, SSM_HIPPO_LEGS, SSM_DISC_ZOH, 0.5);
	CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), SSM_EINVAL);
	c = cfg_of(4, 4, SSM_HIPPO_LEGS, SSM_DISC_ZOH, 10);
	CHECK_EQ_INT(ssm_hippo_init(&l, &c, &r), 0);
	l.p.b_out[1] = NAN;
	CHECK_EQ_INT(ssm_hippo_prepare(&l), SSM_ENONFINITE);
	ssm_hippo_release(&l);
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
