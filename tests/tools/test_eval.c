/*
 * tests/tools/test_eval.c: the EVAL.md protocol pieces (origins, scale,
 * scores) on hand-computed cases, and `statecast eval --model` end to end on
 * a small data directory with a freshly initialised (untrained) model file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/model_file.h"
#include "ssm/model.h"
#include "tests/harness.h"
#include "tools/eval.h"

int cmd_eval(int argc, char **argv);

/* The origins of baselines-public.tsv: AirPassengers, taylor, nhtemp. */
static void test_origins(void)
{
	eval_origins o;

	CHECK_EQ_INT(eval_origins_of(144, 18, &o), 0);
	CHECK_EQ_INT(o.E, 36);
	CHECK_EQ_INT(o.first, 108);
	CHECK_EQ_INT(o.step, 1);
	CHECK_EQ_INT(o.count, 19);
	CHECK_EQ_INT(eval_origins_of(4032, 48, &o), 0);
	CHECK_EQ_INT(o.E, 1008);
	CHECK_EQ_INT(o.step, 33); /* ceil(961 / 30) */
	CHECK_EQ_INT(o.count, 30);
	CHECK_EQ_INT(eval_origins_of(60, 6, &o), 0);
	CHECK_EQ_INT(o.E, 15);
	CHECK_EQ_INT(o.count, 10);
	CHECK(eval_origins_of(5, 6, &o) < 0);
}

static void test_scale_and_scores(void)
{
	const double y[] = {1, 2, 4, 7, 11, 16, 22, 29};
	const double truth[] = {10, 20}, point[] = {12, 20};
	const double lo[] = {11, 15}, hi[] = {13, 25};
	eval_score s;
	double mase, msis, cov;

	/* n = 8, E = 2: upto 6; m = 2 > (6 > 4): lag 2 -> |4-1|,|7-2|,... */
	CHECK_NEAR(eval_scale(y, 8, 2, 2), (3 + 5 + 7 + 9) / 4.0, 1e-12);
	/* m = 3: 6 > 6 fails, lag 1 */
	CHECK_NEAR(eval_scale(y, 8, 3, 2), (1 + 2 + 3 + 4 + 5) / 5.0, 1e-12);
	memset(&s, 0, sizeof s);
	eval_score_add(&s, truth, point, lo, hi, 2);
	eval_score_final(&s, 2.0, &mase, &msis, &cov);
	CHECK_NEAR(mase, (2 + 0) / 2.0 / 2.0, 1e-12);
	/* (2 + 10 * 1) and 10: mean 11, over scale 2 */
	CHECK_NEAR(msis, 11.0 / 2.0, 1e-12);
	CHECK_NEAR(cov, 0.5, 1e-12);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Two series (seasonal and not) in the EVAL.md layout under dir. */
static int write_data(const char *dir)
{
	char path[512], line[128];
	FILE *f;
	int i;

	snprintf(path, sizeof path, "%s/manifest.tsv", dir);
	if (write_file(path, "name\tperiod\thorizon\tstep_s\tn\tsource\n"
			     "wave\t12\t12\t3600\t120\ttest\n"
			     "walk\t1\t6\t60\t80\ttest\n") < 0)
		return -1;
	snprintf(path, sizeof path, "%s/wave.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("t,value\n", f);
	for (i = 0; i < 120; i++) {
		snprintf(line, sizeof line, "%d,%.6f\n", 1000 + 3600 * i,
			 50 + 0.1 * i + 8 * sin(2 * M_PI * i / 12.0) +
			     0.5 * cos(1.7 * i * i));
		fputs(line, f);
	}
	fclose(f);
	snprintf(path, sizeof path, "%s/walk.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("t,value\n", f);
	for (i = 0; i < 80; i++) {
		snprintf(line, sizeof line, "%d,%.6f\n", 60 * i,
			 100 + 3 * sin(0.37 * i) + 0.2 * i);
		fputs(line, f);
	}
	return fclose(f);
}

static void test_eval_model_end_to_end(void)
{
	char dir[] = "/tmp/statecast-eval-XXXXXX", model[600], out[600];
	char line[512];
	ssm_model *m = NULL;
	FILE *f;
	int rows = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(write_data(dir), 0);
	snprintf(model, sizeof model, "%s/untrained.model", dir);
	snprintf(out, sizeof out, "%s/out.tsv", dir);
	CHECK_EQ_INT(ssm_model_new_default(&m, 7), 0);
	CHECK_EQ_INT(io_model_save(m, model), 0);
	ssm_model_free(m);
	{
		char *argv[] = {"eval", "--model", model, "--data",
				dir,	"--out",   out,	  "--no-timing"};

		CHECK_EQ_INT(cmd_eval(8, argv), 0);
	}
	f = fopen(out, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof line, f)) {
		char name[64], method[16];
		int origins;
		double mase, msis, cov;

		if (rows++ == 0) {
			const char *hdr = "series\tmethod\torigins\tmase\tmsis"
					  "\tcoverage\t";

			CHECK(strncmp(line, hdr, strlen(hdr)) == 0);
			continue;
		}
		CHECK_EQ_INT(sscanf(line, "%63s %15s %d %lf %lf %lf", name,
				    method, &origins, &mase, &msis, &cov),
			     6);
		CHECK(strcmp(method, "model") == 0);
		CHECK(origins > 0);
		CHECK(isfinite(mase) && mase > 0 && msis > 0);
		CHECK(cov >= 0 && cov <= 1);
	}
	CHECK_EQ_INT(rows, 3);
	if (f)
		fclose(f);
	{
		/* A model file that is not one fails cleanly. */
		char *argv[] = {"eval", "--model", out, "--data", dir};

		CHECK_EQ_INT(cmd_eval(5, argv), 1);
	}
	{
		char cmd[700];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
}

int main(void)
{
	TH_RUN(test_origins);
	TH_RUN(test_scale_and_scores);
	TH_RUN(test_eval_model_end_to_end);
	return th_summary();
}
