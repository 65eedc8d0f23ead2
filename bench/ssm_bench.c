/*
 * bench/ssm_bench.c: speed of the ssm/ layers, against OpenBLAS sgemm in the
 * same run. Writes a markdown report (default bench/results/ssm.md).
 *
 *   make bench-ssm          (= build/bench/ssm_bench bench/results/ssm.md)
 *
 * For Mamba (d_model 32, expand 2, d_state 16, d_conv 4) and S4D (H 32,
 * N 32): ns per sample per layer stepping one series and batches of 64 and
 * 1024, the FLOPs of one step, and the achieved GFLOP/s as a fraction of a
 * single-threaded 512^3 sgemm. Each figure is the median of 7 runs (the
 * machine is shared and noisy).
 *
 *   build/bench/ssm_bench --model FILE   (bench/perf.sh)
 * instead prints one line of key=value pairs for a whole model file: the
 * network's FLOPs per step (encoder, layers, head: the smoothing front's
 * scalar work is not counted), ns per sample of ssm_model_step_batch over
 * 1024 series in batches of 64 (front included), the GFLOP/s that makes and
 * the same run's sgemm figure.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/model_open.h"
#include "ssm/mamba.h"
#include "ssm/model.h"
#include "ssm/s4d.h"

void openblas_set_num_threads(int num_threads);

#define REPS 7

static double now_ns(void)
{
	struct timespec ts;

	/* Thread CPU time: on a shared machine, wall time would charge us
	 * for other processes' slices. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double sgemm_gflops(void)
{
	enum { n = 512 };
	float *a = malloc(sizeof(float) * n * n), *b = malloc(4 * n * n);
	float *c = malloc(sizeof(float) * n * n);
	double t[REPS];
	int i, r;

	for (i = 0; i < n * n; i++) {
		a[i] = (float)(i % 7) * 0.1f;
		b[i] = (float)(i % 5) * 0.1f;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n,
		    b, n, 0, c, n);
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (i = 0; i < 4; i++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
				    n, n, n, 1, a, n, b, n, 0, c, n);
		t[r] = 2.0 * n * n * n * 4 / (now_ns() - t0);
	}
	free(a);
	free(b);
	free(c);
	return median(t, REPS);
}

/* FLOPs of one step (multiply-add = 2, exp or division = 1).
 * S4D: RMSNorm 4H, 11 per complex mode (dA x + G u on the folded state,
 * ssm/s4d.h, and the real part's sum), SiLU 4H, W_out 2H^2 + 2H. */
static double s4d_step_flops(double H, double N)
{
	return 4 * H + 11 * H * N + 4 * H + 2 * H * H + 2 * H;
}

/* Mamba: RMSNorm 4D, in_proj 2(2Di)D, conv 2K Di, SiLU 4Di, x_proj 2 P Di,
 * dt_proj 2 R Di + softplus 3Di, scan per (c, n): dt A, exp, E h + (B dt) x,
 * C h: 7, Dskip 2Di, gate 5Di, out_proj 2 D Di + D. */
static double mamba_step_flops(double D, double Di, double Ns, double K,
			       double R)
{
	double P = R + 2 * Ns;

	return 4 * D + 4 * Di * D + 2 * K * Di + 4 * Di + 2 * P * Di +
	       2 * R * Di + 3 * Di + 7 * Di * Ns + 2 * Di + 5 * Di +
	       2 * D * Di + D;
}

static double bench_gap = 1.0;

typedef void (*step_fn)(const void *l, int B, float *const *states,
			const float *u, float *y, void *ws);

static void s4d_batch(const void *l, int B, float *const *s, const float *u,
		      float *y, void *ws)
{
	if (B == 1)
		ssm_s4d_step(l, s[0], bench_gap, u, y, ws);
	else
		ssm_s4d_step_batch(l, B, s, NULL, u, y, ws);
}

static void mamba_batch(const void *l, int B, float *const *s, const float *u,
			float *y, void *ws)
{
	if (B == 1)
		ssm_mamba_step(l, s[0], 1.0, u, y, ws);
	else
		ssm_mamba_step_batch(l, B, s, NULL, u, y, ws);
}

/* Median ns per sample (per series step) for batches of B. */
static double time_steps(step_fn f, const void *l, int B, int d, size_t S,
			 size_t wsb)
{
	/* Each series' state starts on a 64-byte line, so that the figures
	 * do not depend on where malloc happens to put the block: the S4D
	 * scan's 32-byte vector loads straddle lines when it does not. */
	size_t Sp = (S + 15) & ~(size_t)15;
	float *states = aligned_alloc(64, sizeof(float) * Sp * B),
	      **sp = malloc(sizeof(*sp) * B);
	float *u = malloc(sizeof(float) * B * d), *y = malloc(4 * B * d);
	void *ws = malloc(wsb);
	long iters = 50000 / B + 20, k;
	double t[REPS];
	int b, r;

	memset(states, 0, sizeof(float) * Sp * B);
	for (b = 0; b < B; b++)
		sp[b] = states + Sp * b;
	for (b = 0; b < B * d; b++)
		u[b] = (float)((b * 37) % 11) * 0.1f - 0.5f;
	for (k = 0; k < 10; k++)
		f(l, B, sp, u, y, ws);
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (k = 0; k < iters; k++) {
			f(l, B, sp, u, y, ws);
			u[k % (B * d)] += 1e-3f; /* keep the input moving */
		}
		t[r] = (now_ns() - t0) / ((double)iters * B);
	}
	free(states);
	free(sp);
	free(u);
	free(y);
	free(ws);
	return median(t, REPS);
}

/* One layer's sequence-mode pair, behind void pointers for time_train. */
typedef struct train_ops {
	const void *l;
	int d; /* channels of u and y */
	size_t S, acts, np,
	    ws; /* sizes at T = 64: reals, reals, reals, bytes */
	void (*fwd)(const void *l, int T, float *st, const float *u, float *y,
		    float *acts, void *ws);
	void (*bwd)(const void *l, int T, const float *u, const float *acts,
		    const float *dy, float *du, float *g, void *ws);
} train_ops;

static void s4d_fwd(const void *l, int T, float *st, const float *u, float *y,
		    float *acts, void *ws)
{
	ssm_s4d_forward(l, T, st, NULL, u, y, acts, ws);
}

static void s4d_bwd(const void *l, int T, const float *u, const float *acts,
		    const float *dy, float *du, float *g, void *ws)
{
	ssm_s4d_backward(l, T, NULL, u, acts, dy, du, g, ws);
}

static void mamba_fwd(const void *l, int T, float *st, const float *u, float *y,
		      float *acts, void *ws)
{
	ssm_mamba_forward(l, T, st, NULL, u, y, acts, ws);
}

static void mamba_bwd(const void *l, int T, const float *u, const float *acts,
		      const float *dy, float *du, float *g, void *ws)
{
	ssm_mamba_backward(l, T, NULL, u, acts, dy, du, g, ws);
}

/* Training cost: median ns per sample of forward + backward over chunks of
 * T = 64 samples (sequence mode, saved activations), for one layer. */
static double time_train(const train_ops *o)
{
	enum { T = 64 };
	int n = T * o->d, i, r, k;
	float *u = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
	float *dy = malloc(sizeof(float) * n), *du = malloc(sizeof(float) * n);
	float *acts = malloc(sizeof(float) * o->acts);
	float *g = calloc(o->np, sizeof(float));
	float *st = calloc(o->S, sizeof(float));
	void *ws = malloc(o->ws);
	double t[REPS];

	for (i = 0; i < n; i++) {
		u[i] = (float)((i * 37) % 11) * 0.1f - 0.5f;
		dy[i] = 1e-3f * (float)(i % 5);
	}
	for (r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (k = 0; k < 40; k++) {
			o->fwd(o->l, T, st, u, y, acts, ws);
			o->bwd(o->l, T, u, acts, dy, du, g, ws);
		}
		t[r] = (now_ns() - t0) / (40.0 * T);
	}
	free(u);
	free(y);
	free(dy);
	free(du);
	free(acts);
	free(g);
	free(st);
	free(ws);
	return median(t, REPS);
}

/* The network's FLOPs per step of model m (see the header comment). */
static double model_flops(const ssm_model *m)
{
	const ssm_model_arch *a = ssm_model_get_arch(m);
	double d = a->d_model, f = 2.0 * SSM_MODEL_NFEAT * d + d;
	int l;

	for (l = 0; l < a->nlayers; l++) {
		const ssm_layer_spec *L = &a->layer[l];
		if (L->kind == SSM_LAYER_MAMBA)
			f += mamba_step_flops(d, L->expand * d, L->n_state,
					      L->d_conv,
					      ceil(d / 16)); /* default R */
		else
			f += s4d_step_flops(d, L->n_state);
	}
	/* Final RMSNorm, head to H x Q. */
	return f + 4 * d + 2.0 * d * a->horizon * a->nquantiles;
}

/* --model FILE: the whole model's step, as the daemon runs it. */
static int model_mode(const char *path)
{
	enum { S = 1024, B = 64, ROUNDS = 10 };
	ssm_model *m;
	char msg[256];
	int isdef, r, b, rep, H, Q;
	size_t nf;
	float *st, **sp;
	ssm_sample *in;
	ssm_forecast *out;
	float *q, *mean;
	void *ws;
	double t[REPS], tt = 1.7e9, ns, fl, gf;

	if (io_model_open(path, &m, &isdef, msg, sizeof msg)) {
		fprintf(stderr, "ssm_bench: %s\n", msg);
		return 1;
	}
	H = ssm_model_horizon(m);
	Q = ssm_model_nquantiles(m);
	nf = ssm_model_state_floats(m);
	st = malloc(sizeof(float) * nf * S);
	sp = malloc(sizeof(*sp) * S);
	in = malloc(sizeof(*in) * S);
	out = malloc(sizeof(*out) * S);
	q = malloc(sizeof(float) * (size_t)(H * Q) * S);
	mean = malloc(sizeof(float) * (size_t)H * S);
	ws = malloc(ssm_model_workspace_bytes(m, B));
	if (!st || !sp || !in || !out || !q || !mean || !ws)
		return 1;
	for (b = 0; b < S; b++) {
		sp[b] = st + nf * (size_t)b;
		ssm_state_init(m, sp[b], 1, 60);
		out[b].q = q + (size_t)(H * Q) * b;
		out[b].mean = mean + (size_t)H * b;
	}
	for (rep = -1; rep < REPS; rep++) { /* rep -1 warms the states */
		double t0 = now_ns();
		for (r = 0; r < ROUNDS; r++, tt += 60) {
			for (b = 0; b < S; b++) {
				in[b].t = tt;
				in[b].value = 50 + (b * 7 + r) % 13;
			}
			for (b = 0; b < S; b += B)
				ssm_model_step_batch(m, B, sp + b, in + b,
						     out + b, NULL, ws);
		}
		if (rep >= 0)
			t[rep] = (now_ns() - t0) / ((double)ROUNDS * S);
	}
	ns = median(t, REPS);
	fl = model_flops(m);
	gf = sgemm_gflops();
	printf("model_flops=%.0f step_ns=%.0f model_gflops=%.3f "
	       "sgemm_gflops=%.1f fraction=%.4f state_bytes=%zu\n",
	       fl, ns, fl / ns, gf, fl / ns / gf, nf * sizeof(float));
	free(st);
	free(sp);
	free(in);
	free(out);
	free(q);
	free(mean);
	free(ws);
	ssm_model_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "bench/results/ssm.md";
	static const int batches[3] = {1, 64, 1024};
	ssm_s4d_cfg sc = {32, 32, SSM_S4D_LIN, SSM_DISC_ZOH, 0, 0};
	ssm_mamba_cfg mc = {32, 2, 16, 4, 0, 0, 0};
	ssm_s4d s4d;
	ssm_mamba mamba;
	ssm_rng rng;
	double gf, s4d_flops, mamba_flops, ns[2][3], ns_gap[2], ns_train[2];
	char cpu[512] = "unknown", load[64] = "unknown";
	FILE *f;
	int i;

	openblas_set_num_threads(1);
	if (argc > 2 && !strcmp(argv[1], "--model"))
		return model_mode(argv[2]);
	{
		FILE *la = fopen("/proc/loadavg", "r");
		if (la && fgets(load, sizeof(load), la))
			load[strcspn(load, " ")] = 0;
		if (la)
			fclose(la);
	}
	ssm_rng_init(&rng, 1);
	if (ssm_s4d_init(&s4d, &sc, &rng) || ssm_mamba_init(&mamba, &mc, &rng))
		return 1;
	s4d_flops = s4d_step_flops(32, 32);
	mamba_flops = mamba_step_flops(32, 64, 16, 4, mamba.cfg.dt_rank);
	gf = sgemm_gflops();
	for (i = 0; i < 3; i++) {
		int B = batches[i];
		ns[0][i] = time_steps(mamba_batch, &mamba, B, 32,
				      ssm_mamba_state_size(&mc),
				      ssm_mamba_workspace_bytes(&mc, B));
		ns[1][i] =
		    time_steps(s4d_batch, &s4d, B, 32, ssm_s4d_state_size(&sc),
			       ssm_s4d_workspace_bytes(&sc, B));
	}
	{
		train_ops mo = {&mamba,
				32,
				ssm_mamba_state_size(&mc),
				ssm_mamba_acts_size(&mc, 64),
				ssm_mamba_nparams(&mc),
				ssm_mamba_seq_workspace_bytes(&mc, 64),
				mamba_fwd,
				mamba_bwd};
		train_ops so = {&s4d,
				32,
				ssm_s4d_state_size(&sc),
				ssm_s4d_acts_size(&sc, 64),
				ssm_s4d_nparams(&sc),
				ssm_s4d_seq_workspace_bytes(&sc, 64),
				s4d_fwd,
				s4d_bwd};
		ns_train[0] = time_train(&mo);
		ns_train[1] = time_train(&so);
	}
	/* Irregular samples: an integer gap (ZOH powering) and a fractional
	 * one (closed form: ssm/kern_s4d_disc.c's exp and sincos per mode). */
	for (i = 0; i < 2; i++) {
		bench_gap = i ? 2.5 : 2.0;
		ns_gap[i] =
		    time_steps(s4d_batch, &s4d, 1, 32, ssm_s4d_state_size(&sc),
			       ssm_s4d_workspace_bytes(&sc, 1));
	}
	bench_gap = 1.0;
	{
		FILE *c = fopen("/proc/cpuinfo", "r");
		char line[400];
		while (c && fgets(line, sizeof(line), c))
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');
				snprintf(cpu, sizeof(cpu), "%s",
					 p ? p + 2 : line);
				cpu[strcspn(cpu, "\n")] = 0;
				break;
			}
		if (c)
			fclose(c);
	}
	f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "# ssm/ layer step speed\n\n");
	fprintf(f,
		"Written by `make bench-ssm` (`build/bench/ssm_bench %s`).\n"
		"Machine: %s, one core (%s, openblas_set_num_threads(1)); "
		"1-minute load average %s when the run started (shared with "
		"other work), so each figure is the median of %d runs of "
		"thread CPU time. Each series' state starts on a 64-byte "
		"line.\n\n",
		out, cpu, OPENBLAS_VERSION, load, REPS);
	fprintf(f,
		"Peer measured in the same run: single-threaded sgemm "
		"512x512x512 = **%.1f GFLOP/s**.\n\n",
		gf);
	fprintf(f, "| layer | FLOPs/step | B | ns/sample | GFLOP/s | "
		   "fraction of sgemm |\n|---|---|---|---|---|---|\n");
	for (i = 0; i < 3; i++)
		fprintf(f,
			"| Mamba d32 e2 s16 c4 | %.0f | %d | %.0f | %.2f | "
			"%.1f%% |\n",
			mamba_flops, batches[i], ns[0][i],
			mamba_flops / ns[0][i],
			100 * mamba_flops / ns[0][i] / gf);
	for (i = 0; i < 3; i++)
		fprintf(f,
			"| S4D H32 N32 | %.0f | %d | %.0f | %.2f | %.1f%% |\n",
			s4d_flops, batches[i], ns[1][i], s4d_flops / ns[1][i],
			100 * s4d_flops / ns[1][i] / gf);
	fprintf(f,
		"\nS4D single series at irregular gaps (discretized per "
		"call): gap 2 (ZOH by powering) %.0f ns, gap 2.5 (closed "
		"form, vectorized exp and sincos per mode) %.0f ns.\n",
		ns_gap[0], ns_gap[1]);
	fprintf(f,
		"\nTraining (sequence forward + backward, chunks of 64 "
		"samples, one series): Mamba %.0f ns/sample, S4D %.0f "
		"ns/sample.\n",
		ns_train[0], ns_train[1]);
	fprintf(f,
		"\nTargets: single-series Mamba step < 2000 ns (%s: %.0f), "
		"S4D < 500 ns (%s: %.0f); batched >= 25%% of sgemm "
		"(best batched: Mamba %.1f%%, S4D %.1f%%).\n",
		ns[0][0] < 2000 ? "met" : "MISSED", ns[0][0],
		ns[1][0] < 500 ? "met" : "MISSED", ns[1][0],
		100 * mamba_flops /
		    (ns[0][1] < ns[0][2] ? ns[0][1] : ns[0][2]) / gf,
		100 * s4d_flops / (ns[1][1] < ns[1][2] ? ns[1][1] : ns[1][2]) /
		    gf);
	fclose(f);
	ssm_s4d_release(&s4d);
	ssm_mamba_release(&mamba);
	printf("wrote %s\n", out);
	return 0;
}
