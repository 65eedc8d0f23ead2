/*
 * bench/model_diff.c: how far a tree's model step moved the served
 * forecasts, for changes that are meant to alter rounding only.
 *
 *   model_diff MODEL OUT      step MODEL over the fixed workload below and
 *                             write every served quantile to OUT
 *   model_diff --cmp A B      compare two such files: one line
 *                             "n=... same=... max_rel=... mean_rel=..."
 *
 * Workload: 256 series x 600 samples (periods 1 and 24, scales 1e-2 to
 * 1e4, level shifts, missing values, doubled gaps), stepped through
 * ssm_model_step_batch() in batches of 64 as the daemon does. A difference
 * is measured in units of its series' scale (the amplitude the generator
 * gives it), so a quantile that happens to sit near zero does not inflate
 * it. Uses only public headers (ssm/model.h, io/model_open.h), so
 * bench/step_speed.sh builds the same source against another tree.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_open.h"
#include "ssm/model.h"

enum { S = 256, T = 600, B = 64 };

static double scale_of(int b)
{
	return pow(10.0, (b % 7) - 2);
}

static ssm_sample sample_of(int b, int i)
{
	ssm_sample s;
	double sc = scale_of(b);

	s.t = 1.7e9 + 60.0 * i + (b % 5 == 0 && i % 17 == 5 ? 60.0 : 0);
	s.value = sc * (10.0 + 0.01 * i + 3.0 * sin(2 * M_PI * i / 24.0 + b) +
			sin(1.7 * i + b) + (i > 300 && b % 3 == 0 ? 5.0 : 0));
	if (b % 4 == 1 && i % 13 == 0)
		s.value = NAN;
	return s;
}

static int run(const char *model, const char *out)
{
	ssm_model *m;
	char msg[256];
	int isdef, H, Q, b, i;
	int32_t hdr[3];
	size_t nf;
	float *st, **sp, *q, *mean;
	ssm_sample in[S];
	ssm_forecast fc[S];
	void *ws;
	FILE *f;

	if (io_model_open(model, &m, &isdef, msg, sizeof msg)) {
		fprintf(stderr, "model_diff: %s\n", msg);
		return 1;
	}
	H = ssm_model_horizon(m);
	Q = ssm_model_nquantiles(m);
	nf = ssm_model_state_floats(m);
	st = malloc(sizeof(float) * nf * S);
	sp = malloc(sizeof(*sp) * S);
	q = malloc(sizeof(float) * (size_t)(H * Q) * S);
	mean = malloc(sizeof(float) * (size_t)H * S);
	ws = malloc(ssm_model_workspace_bytes(m, B));
	f = fopen(out, "wb");
	if (!st || !sp || !q || !mean || !ws || !f)
		return 1;
	hdr[0] = S;
	hdr[1] = T;
	hdr[2] = H * Q;
	fwrite(hdr, sizeof hdr, 1, f);
	for (b = 0; b < S; b++) {
		float sc = (float)scale_of(b);

		fwrite(&sc, sizeof sc, 1, f);
		sp[b] = st + nf * (size_t)b;
		ssm_state_init(m, sp[b], b % 2 ? 24 : 1, 60);
		fc[b].q = q + (size_t)(H * Q) * b;
		fc[b].mean = mean + (size_t)H * b;
	}
	for (i = 0; i < T; i++) {
		for (b = 0; b < S; b++)
			in[b] = sample_of(b, i);
		for (b = 0; b < S; b += B)
			ssm_model_step_batch(m, B, sp + b, in + b, fc + b, NULL,
					     ws);
		fwrite(q, sizeof(float), (size_t)(H * Q) * S, f);
	}
	fclose(f);
	free(st);
	free(sp);
	free(q);
	free(mean);
	free(ws);
	ssm_model_free(m);
	return 0;
}

static int cmp(const char *pa, const char *pb)
{
	FILE *a = fopen(pa, "rb"), *b = fopen(pb, "rb");
	int32_t ha[3], hb[3];
	float sc[S], x, y;
	long n = 0, same = 0, nonfin = 0, r;
	double mx = 0, sum = 0;
	int s;

	if (!a || !b || fread(ha, sizeof ha, 1, a) != 1 ||
	    fread(hb, sizeof hb, 1, b) != 1 || memcmp(ha, hb, sizeof ha) ||
	    ha[0] != S || fread(sc, sizeof(float), S, a) != S ||
	    fread(sc, sizeof(float), S, b) != S) {
		fprintf(stderr, "model_diff: unreadable or different shapes\n");
		return 1;
	}
	for (r = 0; fread(&x, 4, 1, a) == 1 && fread(&y, 4, 1, b) == 1; r++) {
		double d;

		s = (int)((r / ha[2]) % S);
		n++;
		same += !memcmp(&x, &y, 4);
		if (isfinite(x) != isfinite(y)) {
			nonfin++;
			continue;
		}
		if (!isfinite(x))
			continue;
		d = fabs((double)x - y) / fmax(fabs(x), sc[s]);
		mx = d > mx ? d : mx;
		sum += d;
	}
	printf("n=%ld same=%ld nonfinite_mismatch=%ld max_rel=%.3g "
	       "mean_rel=%.3g\n",
	       n, same, nonfin, mx, n ? sum / n : 0.0);
	fclose(a);
	fclose(b);
	return nonfin != 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--cmp"))
		return cmp(argv[2], argv[3]);
	if (argc == 3)
		return run(argv[1], argv[2]);
	fprintf(stderr, "usage: model_diff MODEL OUT | model_diff --cmp A B\n");
	return 2;
}
