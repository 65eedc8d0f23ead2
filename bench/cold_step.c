/*
 * bench/cold_step.c: the model step with cold states, as the daemon steps
 * them at many series: N series, each with its own state block and
 * forecast buffer (separate allocations, as the registry's slab and the
 * series' buffers are), stepped round-robin in batches of B (one sample
 * per series per round, bench/loadgen.c's values), so that at N = 100,000
 * every state comes from memory and at N = 1,000 from the cache.
 *
 *   cold_step MODEL N ROUNDS [B] [WARM]
 *
 * Steps WARM rounds (6) untimed, then ROUNDS rounds timed with the
 * thread's CPU clock. Prints ns of CPU per step and a checksum of the
 * served quantiles (the same in every tree that computes the same bits).
 * bench/cold_step.sh runs it against a base build, interleaved.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/model_open.h"
#include "ssm/model.h"

enum { BMAX = 64 };

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Steps one round: every series once, in batches of B. */
static double round_of(const ssm_model *m, long n, int B, int i, float **sp,
		       float **qb, float **mb, void *ws, int HQ)
{
	ssm_sample in[BMAX];
	ssm_forecast fc[BMAX];
	double sum = 0.0;
	long s;
	int b, k;

	for (s = 0; s < n; s += B) {
		k = n - s < B ? (int)(n - s) : B;
		for (b = 0; b < k; b++) {
			in[b].t = 1.7e9 + 60.0 * i;
			in[b].value = (double)(((s + b) * 7 + i) % 97);
			fc[b].q = qb[s + b];
			fc[b].mean = mb[s + b];
		}
		ssm_model_step_batch(m, k, sp + s, in, fc, NULL, ws);
		sum += fc[0].q[HQ / 2];
	}
	return sum;
}

int main(int argc, char **argv)
{
	ssm_model *m;
	char msg[256];
	int isdef, rounds, B = 32, warm = 6, H, Q, i;
	long n, s;
	size_t nf;
	float **sp, **qb, **mb;
	void *ws;
	double sum = 0.0, t0, t1;

	if (argc < 4) {
		fprintf(stderr, "usage: cold_step MODEL N ROUNDS [B] [WARM]\n");
		return 2;
	}
	n = atol(argv[2]);
	rounds = atoi(argv[3]);
	if (argc > 4)
		B = atoi(argv[4]);
	if (argc > 5)
		warm = atoi(argv[5]);
	if (n < 1 || rounds < 1 || B < 1 || B > BMAX || warm < 0) {
		fprintf(stderr, "cold_step: bad N/ROUNDS/B/WARM\n");
		return 2;
	}
	if (io_model_open(argv[1], &m, &isdef, msg, sizeof msg)) {
		fprintf(stderr, "cold_step: %s\n", msg);
		return 1;
	}
	H = ssm_model_horizon(m);
	Q = ssm_model_nquantiles(m);
	nf = ssm_model_state_floats(m);
	sp = malloc(sizeof(*sp) * (size_t)n);
	qb = malloc(sizeof(*qb) * (size_t)n);
	mb = malloc(sizeof(*mb) * (size_t)n);
	ws = malloc(ssm_model_workspace_bytes(m, B));
	if (!sp || !qb || !mb || !ws)
		return 1;
	for (s = 0; s < n; s++) {
		sp[s] = malloc(sizeof(float) * nf);
		qb[s] = malloc(sizeof(float) * (size_t)(H * Q + H));
		if (!sp[s] || !qb[s])
			return 1;
		mb[s] = qb[s] + H * Q;
		ssm_state_init(m, sp[s], 1, 60);
	}
	for (i = 0; i < warm; i++)
		sum += round_of(m, n, B, i, sp, qb, mb, ws, H * Q);
	t0 = cpu_s();
	for (; i < warm + rounds; i++)
		sum += round_of(m, n, B, i, sp, qb, mb, ws, H * Q);
	t1 = cpu_s();
	printf("ns_per_step=%.1f steps=%ld checksum=%.17g\n",
	       (t1 - t0) * 1e9 / ((double)n * rounds), n * rounds, sum);
	for (s = 0; s < n; s++) {
		free(sp[s]);
		free(qb[s]);
	}
	free(sp);
	free(qb);
	free(mb);
	free(ws);
	ssm_model_free(m);
	return 0;
}
