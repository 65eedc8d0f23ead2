/*
 * bench/front_bench.c: the smoothing front's cost per sample, one
 * ssm_smooth_update() plus one ssm_smooth_forecast() (3 quantiles), which is
 * what the daemon runs for every sample of every series, and its state size.
 *
 *   front_bench [REPS]   one line per period: period, H, state floats,
 *                        median us per sample over REPS runs
 *
 * Uses only the public ssm/smooth.h, so bench/front.sh builds the same
 * source against an older tree to compare in one run. Series: 32 positive
 * seasonal series with trend and noise, 1000 samples each (the first ~100
 * are warm-up, as in the daemon). Time is thread CPU time: on a shared
 * machine wall time would charge us for other processes' slices.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ssm/rng.h"
#include "ssm/smooth.h"

#define NSERIES 32
#define NSAMPLE 1000
#define H	48

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One run over every series; returns CPU us per sample. */
static double run(int period, float *st, size_t nf, double *sink)
{
	static const float lv[3] = {0.1f, 0.5f, 0.9f};
	double p[H], q[3 * H], sc, t0;
	int cyc = period > 1 ? period : 24, i, s;
	ssm_rng r;

	ssm_rng_init(&r, 1);
	for (s = 0; s < NSERIES; s++)
		ssm_smooth_init(st + nf * s, period, H, NULL);
	t0 = now_us();
	for (i = 0; i < NSAMPLE; i++)
		for (s = 0; s < NSERIES; s++) {
			float *x = st + nf * s;
			double y = 100 + s + 10 * sin(2 * M_PI * i / cyc) +
				   0.01 * i + ssm_rng_normal(&r);

			ssm_smooth_update_forecast(x, y, 1, 0, p, lv, 3, q,
						   &sc);
			*sink += p[H - 1];
		}
	return (now_us() - t0) / ((double)NSAMPLE * NSERIES);
}

int main(int argc, char **argv)
{
	static const int periods[] = {1, 12, 48};
	int reps = argc > 1 ? atoi(argv[1]) : 5, j, k;
	double sink = 0;

	if (reps < 1 || reps > 99)
		reps = 5;
	for (j = 0; j < 3; j++) {
		size_t nf = ssm_smooth_state_floats(periods[j], H);
		float *st = malloc(nf * NSERIES * sizeof *st);
		double t[99];

		if (!st)
			return 1;
		for (k = 0; k < reps; k++)
			t[k] = run(periods[j], st, nf, &sink);
		qsort(t, (size_t)reps, sizeof t[0], cmp_double);
		printf("%d %d %zu %.3f\n", periods[j], H, nf, t[reps / 2]);
		free(st);
	}
	/* The sum keeps the forecasts from being optimised away. */
	fprintf(stderr, "checksum %.6g\n", sink);
	return 0;
}
