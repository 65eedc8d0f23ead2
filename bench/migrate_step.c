/*
 * bench/migrate_step.c: what it costs the model step when a series' state
 * moves between cores from one round to the next, as the compute pool
 * (daemon/pool.c) lets it: a round's chunks go to whichever thread claims
 * them first, so a series stepped by the loop thread in one round may be
 * stepped by the helper in the next.
 *
 *   migrate_step MODEL N ROUNDS stable|swap [B]
 *
 * Two threads, pinned to CPUs 0 and 1, step N series (each state its own
 * allocation, as the registry's are) in rounds: every series once a round,
 * in batches of B (32), one half per thread, with a barrier between rounds
 * (the pool's run). "stable": each thread keeps its half; "swap": the
 * halves change threads every round, so every state was last written on
 * the other core. Both threads are busy in both modes, so whatever two busy
 * cores cost (a shared physical core, the host's clocks) is in both; only
 * where the states were last written differs. Prints ns of thread CPU per
 * step (both threads, untimed warm-up rounds left out) and a checksum (the
 * same in both modes: which thread steps a series changes no bit).
 * bench/par9 runs it interleaved: bench/results/par9.md.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/model_open.h"
#include "ssm/model.h"

enum { BMAX = 64, WARM = 4 };

typedef struct shared {
	const ssm_model *m;
	long n;
	int rounds, B, swap, HQ;
	float **sp, **qb, **mb;
	pthread_barrier_t bar;
} shared;

typedef struct worker {
	shared *sh;
	int id;
	void *ws;
	double cpu_s;
} worker;

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Steps series [a, b) once, in batches of B, at round i. */
static void step_range(const shared *sh, long a, long b, int i, void *ws)
{
	ssm_sample in[BMAX];
	ssm_forecast fc[BMAX];
	long s;
	int k, j;

	for (s = a; s < b; s += sh->B) {
		k = b - s < sh->B ? (int)(b - s) : sh->B;
		for (j = 0; j < k; j++) {
			in[j].t = 1.7e9 + 60.0 * i;
			in[j].value = (double)(((s + j) * 7 + i) % 97);
			fc[j].q = sh->qb[s + j];
			fc[j].mean = sh->mb[s + j];
		}
		ssm_model_step_batch(sh->m, k, sh->sp + s, in, fc, NULL, ws);
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;
	cpu_set_t set;
	long half = sh->n / 2;
	double t0 = 0;
	int i;

	CPU_ZERO(&set);
	CPU_SET(w->id, &set);
	if (sched_setaffinity(0, sizeof set, &set))
		perror("migrate_step: sched_setaffinity");
	for (i = 0; i < WARM + sh->rounds; i++) {
		int h = sh->swap ? (w->id ^ (i & 1)) : w->id;
		if (i == WARM)
			t0 = cpu_s();
		step_range(sh, h ? half : 0, h ? sh->n : half, i, w->ws);
		pthread_barrier_wait(&sh->bar);
	}
	w->cpu_s = cpu_s() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	ssm_model *m;
	char msg[256];
	int isdef, H, Q, t;
	long s;
	size_t nf;
	double sum = 0.0;
	shared sh;
	worker w[2];
	pthread_t th[2];

	memset(&sh, 0, sizeof sh);
	sh.B = 32;
	if (argc < 5) {
		fprintf(stderr,
			"usage: migrate_step MODEL N ROUNDS stable|swap [B]\n");
		return 2;
	}
	sh.n = atol(argv[2]);
	sh.rounds = atoi(argv[3]);
	sh.swap = !strcmp(argv[4], "swap");
	if (argc > 5)
		sh.B = atoi(argv[5]);
	if (sh.n < 2 || sh.rounds < 1 || sh.B < 1 || sh.B > BMAX ||
	    (!sh.swap && strcmp(argv[4], "stable"))) {
		fprintf(stderr, "migrate_step: bad N/ROUNDS/mode/B\n");
		return 2;
	}
	if (io_model_open(argv[1], &m, &isdef, msg, sizeof msg)) {
		fprintf(stderr, "migrate_step: %s\n", msg);
		return 1;
	}
	sh.m = m;
	H = ssm_model_horizon(m);
	Q = ssm_model_nquantiles(m);
	sh.HQ = H * Q;
	nf = ssm_model_state_floats(m);
	sh.sp = malloc(sizeof(*sh.sp) * (size_t)sh.n);
	sh.qb = malloc(sizeof(*sh.qb) * (size_t)sh.n);
	sh.mb = malloc(sizeof(*sh.mb) * (size_t)sh.n);
	if (!sh.sp || !sh.qb || !sh.mb)
		return 1;
	for (s = 0; s < sh.n; s++) {
		sh.sp[s] = malloc(sizeof(float) * nf);
		sh.qb[s] = malloc(sizeof(float) * (size_t)(H * Q + H));
		if (!sh.sp[s] || !sh.qb[s])
			return 1;
		sh.mb[s] = sh.qb[s] + H * Q;
		ssm_state_init(m, sh.sp[s], 1, 60);
	}
	pthread_barrier_init(&sh.bar, NULL, 2);
	for (t = 0; t < 2; t++) {
		w[t].sh = &sh;
		w[t].id = t;
		w[t].ws = malloc(ssm_model_workspace_bytes(m, sh.B));
		if (!w[t].ws ||
		    pthread_create(&th[t], NULL, worker_main, &w[t]))
			return 1;
	}
	for (t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	/* In series order: the same whichever thread stepped what. */
	for (s = 0; s < sh.n; s++)
		sum += sh.qb[s][sh.HQ / 2];
	printf("ns_per_step=%.1f steps=%ld checksum=%.17g\n",
	       (w[0].cpu_s + w[1].cpu_s) * 1e9 / ((double)sh.n * sh.rounds),
	       sh.n * sh.rounds, sum);
	for (t = 0; t < 2; t++)
		free(w[t].ws);
	for (s = 0; s < sh.n; s++) {
		free(sh.sp[s]);
		free(sh.qb[s]);
	}
	free(sh.sp);
	free(sh.qb);
	free(sh.mb);
	pthread_barrier_destroy(&sh.bar);
	ssm_model_free(m);
	return 0;
}
