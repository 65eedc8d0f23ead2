/*
 * bench/step_age.c: the model step of series of a given age, for callgrind.
 *
 *   step_age MODEL KIND FROM TO [N]
 *
 * Steps N series (16) of KIND through ssm_model_step_batch() in one batch,
 * samples 0 .. TO-1 of each; samples FROM .. TO-1 (0-based) go through
 * aged_steps(), so that
 *
 *   valgrind --tool=callgrind --toggle-collect=aged_steps step_age ...
 *
 * counts only the steps of series that have seen FROM samples, and
 * callgrind_annotate splits them by function (bench/step_age.sh does it
 * for several ages and both kinds). KIND:
 *   loadgen   period 1, bench/loadgen.c's values ((7 i + r) mod 97: a
 *             ramp that wraps), what perf.sh's and ing100k.sh's daemons see
 *   seasonal  period 24, a daily cycle with trend and noise (no gaps)
 * Prints the checksum of the served quantiles (keeps them live). With
 * STEP_AGE_NOFC=1 in the environment the measured steps pass out = NULL
 * (a step that makes no forecast, model.forecast_every's skipped steps)
 * and the checksum is the states' one-step quantiles instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_open.h"
#include "ssm/model.h"

enum { NMAX = 64 };

static ssm_sample sample_of(int seasonal, int b, int i)
{
	ssm_sample s;

	s.t = 1.7e9 + 60.0 * i;
	if (seasonal)
		s.value = 100.0 + b + 0.02 * i +
			  10.0 * sin(2 * M_PI * (i + b) / 24.0) +
			  sin(1.7 * i + b);
	else
		s.value = (double)((b * 7 + i) % 97);
	return s;
}

/* The measured steps: callgrind's --toggle-collect names this function. */
__attribute__((noinline)) static double
aged_steps(const ssm_model *m, int n, float **sp, ssm_sample *in,
	   ssm_forecast *fc, void *ws, int seasonal, int from, int to, int HQ)
{
	const char *e = getenv("STEP_AGE_NOFC");
	int nofc = e && *e == '1';
	double sum = 0;
	int i, b, j;

	for (i = from; i < to; i++) {
		for (b = 0; b < n; b++)
			in[b] = sample_of(seasonal, b, i);
		ssm_model_step_batch(m, n, sp, in, nofc ? NULL : fc, NULL, ws);
		for (b = 0; b < n; b++)
			for (j = 0; !nofc && j < HQ; j += 7)
				sum += fc[b].q[j];
		for (b = 0; nofc && b < n; b++)
			sum += sp[b][0] + sp[b][1];
	}
	return sum;
}

int main(int argc, char **argv)
{
	ssm_model *m;
	char msg[256];
	int isdef, seasonal, from, to, n = 16, H, Q, b, i;
	size_t nf;
	float *st, *sp[NMAX], *q, *mean;
	ssm_sample in[NMAX];
	ssm_forecast fc[NMAX];
	void *ws;
	double sum;

	if (argc < 5 ||
	    (strcmp(argv[2], "loadgen") && strcmp(argv[2], "seasonal"))) {
		fprintf(stderr,
			"usage: step_age MODEL loadgen|seasonal FROM TO [N]\n");
		return 2;
	}
	seasonal = !strcmp(argv[2], "seasonal");
	from = atoi(argv[3]);
	to = atoi(argv[4]);
	if (argc > 5)
		n = atoi(argv[5]);
	if (from < 0 || to <= from || n < 1 || n > NMAX) {
		fprintf(stderr, "step_age: bad FROM/TO/N\n");
		return 2;
	}
	if (io_model_open(argv[1], &m, &isdef, msg, sizeof msg)) {
		fprintf(stderr, "step_age: %s\n", msg);
		return 1;
	}
	H = ssm_model_horizon(m);
	Q = ssm_model_nquantiles(m);
	nf = ssm_model_state_floats(m);
	st = malloc(sizeof(float) * nf * n);
	q = malloc(sizeof(float) * (size_t)(H * Q) * n);
	mean = malloc(sizeof(float) * (size_t)H * n);
	ws = malloc(ssm_model_workspace_bytes(m, n));
	if (!st || !q || !mean || !ws)
		return 1;
	for (b = 0; b < n; b++) {
		sp[b] = st + nf * (size_t)b;
		ssm_state_init(m, sp[b], seasonal ? 24 : 1, 60);
		fc[b].q = q + (size_t)(H * Q) * b;
		fc[b].mean = mean + (size_t)H * b;
	}
	for (i = 0; i < from; i++) {
		for (b = 0; b < n; b++)
			in[b] = sample_of(seasonal, b, i);
		ssm_model_step_batch(m, n, sp, in, fc, NULL, ws);
	}
	sum = aged_steps(m, n, sp, in, fc, ws, seasonal, from, to, H * Q);
	printf("steps=%d checksum=%.9g\n", (to - from) * n, sum);
	free(st);
	free(q);
	free(mean);
	free(ws);
	ssm_model_free(m);
	return 0;
}
