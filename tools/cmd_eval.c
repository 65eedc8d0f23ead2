/*
 * tools/cmd_eval.c: `statecast eval`, forecast accuracy by EVAL.md.
 *
 * Every series is streamed sample by sample into a forecaster that sees each
 * value once, in order; at each rolling origin the forecaster's H-step
 * forecast (point and 80% interval) is scored against the values that follow.
 * The forecaster never sees a value after the origin it forecasts from: the
 * truth is read from the series array, never fed ahead.
 *
 * Methods: naive and snaive (streaming twins of R's naive()/snaive(), which
 * need no fitting: their MASE must equal the anchors'), smooth (ssm/smooth.h,
 * the statistical front end on its own).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssm/smooth.h"
#include "tools/cmd.h"
#include "tools/eval.h"

int cmd_eval(int argc, char **argv); /* the table in tools/main.c */

enum { M_NAIVE, M_SNAIVE, M_SMOOTH };

/* A forecaster being evaluated on one series. */
typedef struct fc {
	int method, period, H;
	/* naive/snaive: the series; only y[0 .. seen-1] is ever read */
	const double *y;
	long seen;
	/* smooth */
	float *state;
	ssm_smooth_opts opts;
	double prev_t, step_s;
} fc;

static const float interval_levels[2] = {0.1f, 0.9f};
#define Z90 1.2815515655446004

static int fc_init(fc *f, int method, const eval_series *s,
		   const ssm_smooth_opts *opts)
{
	memset(f, 0, sizeof *f);
	f->method = method;
	f->period = s->period;
	f->H = s->horizon;
	f->y = s->y;
	f->step_s = s->step_s;
	if (method == M_SMOOTH) {
		f->state = malloc(sizeof(float) * ssm_smooth_state_floats(
						      s->period, s->horizon));
		if (!f->state)
			return -1;
		f->opts = *opts;
		return ssm_smooth_init(f->state, s->period, s->horizon, opts);
	}
	return 0;
}

static void fc_release(fc *f)
{
	free(f->state);
	f->state = NULL;
}

/* Feed sample i (C index) with timestamp t. */
static int fc_update(fc *f, long i, double t)
{
	double v = f->y[i];

	if (f->method == M_SMOOTH) {
		long gap = 1;

		if (i > 0)
			gap = lround((t - f->prev_t) / f->step_s);
		f->prev_t = t;
		return ssm_smooth_update(f->state, v, gap < 1 ? 1 : gap, 0);
	}
	f->seen = i + 1;
	return 0;
}

/* R's fitting window: the last 2000 observations (baselines.R). */
#define R_WINDOW 2000

/*
 * Forecast y[seen+1 .. seen+H]. naive/snaive intervals are R's: sigma =
 * sqrt(mean squared (seasonal) difference) over the fitting window, growing
 * as sqrt(h) or sqrt(ceil(h/m)).
 */
static int fc_forecast(fc *f, double *point, double *lo, double *hi)
{
	long ws = f->seen > R_WINDOW ? f->seen - R_WINDOW : 0, j, nd = 0;
	int h, m = f->method == M_SNAIVE ? f->period : 1;
	double ss = 0, sig;

	if (f->method == M_SMOOTH) {
		double q[2 * SSM_SMOOTH_MAX_H];
		int rc = ssm_smooth_forecast(f->state, point, interval_levels,
					     2, q, NULL);

		for (h = 0; h < f->H; h++) {
			lo[h] = q[2 * h];
			hi[h] = q[2 * h + 1];
		}
		return rc;
	}
	if (f->seen - ws <= m) /* R's snaive on a short history: naive */
		m = 1;
	for (j = ws + m; j < f->seen; j++, nd++)
		ss += (f->y[j] - f->y[j - m]) * (f->y[j] - f->y[j - m]);
	sig = nd ? sqrt(ss / (double)nd) : 0;
	for (h = 1; h <= f->H; h++) {
		long k = (h - 1) / m + 1; /* seasonal cycles ahead */

		point[h - 1] = f->y[f->seen - 1 + h - m * k];
		lo[h - 1] = point[h - 1] - Z90 * sig * sqrt((double)k);
		hi[h - 1] = point[h - 1] + Z90 * sig * sqrt((double)k);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct series_result {
	int origins;
	double mase, msis, coverage;
	double update_s, forecast_s;
	long samples, forecasts;
} series_result;

static int eval_one(const eval_series *s, int method,
		    const ssm_smooth_opts *opts, series_result *r)
{
	eval_origins o;
	eval_score sc;
	fc f;
	double *buf, *point, *lo, *hi, scale, t0;
	long i, next;
	int rc = 0;

	memset(r, 0, sizeof *r);
	memset(&sc, 0, sizeof sc);
	if (eval_origins_of(s->n, s->horizon, &o) < 0)
		return -1;
	scale = eval_scale(s->y, s->n, s->period, o.E);
	if (!(scale > 0))
		return -1;
	if (fc_init(&f, method, s, opts) < 0)
		return -1;
	buf = malloc(sizeof(double) * 3 * (size_t)s->horizon);
	if (!buf) {
		fc_release(&f);
		return -1;
	}
	point = buf;
	lo = buf + s->horizon;
	hi = buf + 2 * s->horizon;
	next = o.first;
	for (i = 0; i < s->n && rc == 0; i++) {
		t0 = now_s();
		rc = fc_update(&f, i, s->t[i]);
		r->update_s += now_s() - t0;
		r->samples++;
		/* Seen y[1..i+1] (1-based): an origin when i + 1 == next. */
		if (rc == 0 && i + 1 == next && r->origins < o.count) {
			t0 = now_s();
			rc = fc_forecast(&f, point, lo, hi);
			r->forecast_s += now_s() - t0;
			r->forecasts++;
			eval_score_add(&sc, s->y + i + 1, point, lo, hi,
				       s->horizon);
			r->origins++;
			next += o.step;
		}
	}
	fc_release(&f);
	free(buf);
	if (rc != 0)
		return -1;
	eval_score_final(&sc, scale, &r->mase, &r->msis, &r->coverage);
	return 0;
}

/* --smooth-opt KEY=VALUE, for ablations. */
static int parse_opt(ssm_smooth_opts *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	const char *v = eq ? eq + 1 : "";
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);

	if (!eq)
		return -1;
	if (kl == 4 && strncmp(kv, "comb", 4) == 0) {
		static const char *names[] = {"inverse", "best", "equal",
					      "softmin"};
		int i;

		for (i = 0; i < 4; i++)
			if (strcmp(v, names[i]) == 0) {
				o->comb = i;
				return 0;
			}
		return -1;
	}
	if (kl == 5 && strncmp(kv, "top_n", 5) == 0)
		return (o->top_n = atoi(v)) >= 1 ? 0 : -1;
	if (kl == 10 && strncmp(kv, "err_window", 10) == 0)
		return (o->err_window = strtof(v, NULL)) >= 1 ? 0 : -1;
	if (kl == 12 && strncmp(kv, "softmin_temp", 12) == 0)
		return (o->softmin_temp = strtof(v, NULL)) > 0 ? 0 : -1;
	if (kl == 8 && strncmp(kv, "aci_rate", 8) == 0)
		return (o->aci_rate = strtof(v, NULL)) >= 0 ? 0 : -1;
	if (kl == 3 && strncmp(kv, "off", 3) == 0) {
		/* comma-separated member names */
		char name[64];
		const char *p = v;

		while (*p) {
			size_t n = strcspn(p, ",");
			int k, found = 0;

			snprintf(name, sizeof name, "%.*s", (int)n, p);
			for (k = 0; k < ssm_smooth_members(); k++)
				if (strcmp(ssm_smooth_member_name(k), name) ==
				    0) {
					o->member_off |= 1u << k;
					found = 1;
				}
			if (!found)
				return -1;
			p += n;
			if (*p == ',')
				p++;
		}
		return 0;
	}
	return -1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: statecast eval --data DIR [--method naive|snaive|smooth]\n"
	    "                      [--out FILE.tsv] [--baselines FILE.tsv]\n"
	    "                      [--smooth-opt KEY=VALUE]...\n"
	    "Scores rolling-origin forecasts by EVAL.md: per-series MASE,\n"
	    "MSIS, 80%% coverage; aggregates, and relMASE against ets when\n"
	    "--baselines is given. smooth-opt keys: comb=inverse|best|equal|"
	    "softmin,\n"
	    "top_n=N, err_window=W, softmin_temp=T, aci_rate=R, "
	    "off=MEMBER,...\n");
}

static const char *method_name(int m)
{
	return m == M_NAIVE ? "naive" : m == M_SNAIVE ? "snaive" : "smooth";
}

int cmd_eval(int argc, char **argv)
{
	const char *data = NULL, *out = NULL, *base = NULL;
	int method = M_SMOOTH, i, nok = 0, nrel = 0, nsn = 0, nbetter = 0;
	ssm_smooth_opts opts;
	eval_data d;
	eval_baseline *rows = NULL;
	int nrows = 0;
	char err[512];
	FILE *fo = NULL;
	double sum_mase = 0, sum_msis = 0, sum_cov = 0, log_rel = 0;
	double upd = 0, fcs = 0, rfit = 0;
	long samples = 0, forecasts = 0, rorig = 0;

	ssm_smooth_opts_default(&opts);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(a, "--data") == 0)
			data = argv[++i];
		else if (strcmp(a, "--out") == 0)
			out = argv[++i];
		else if (strcmp(a, "--baselines") == 0)
			base = argv[++i];
		else if (strcmp(a, "--method") == 0) {
			const char *m = argv[++i];

			if (strcmp(m, "naive") == 0)
				method = M_NAIVE;
			else if (strcmp(m, "snaive") == 0)
				method = M_SNAIVE;
			else if (strcmp(m, "smooth") == 0)
				method = M_SMOOTH;
			else {
				fprintf(stderr, "eval: unknown method %s\n", m);
				return 2;
			}
		} else if (strcmp(a, "--smooth-opt") == 0) {
			if (parse_opt(&opts, argv[++i]) < 0) {
				fprintf(stderr, "eval: bad --smooth-opt %s\n",
					argv[i]);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!data) {
		usage(stderr);
		return 2;
	}
	if (eval_data_load(data, &d, err, sizeof err) < 0) {
		fprintf(stderr, "eval: %s\n", err);
		return 1;
	}
	if (base &&
	    eval_baselines_load(base, &rows, &nrows, err, sizeof err) < 0) {
		fprintf(stderr, "eval: %s\n", err);
		eval_data_free(&d);
		return 1;
	}
	if (out && !(fo = fopen(out, "w"))) {
		fprintf(stderr, "eval: cannot write %s\n", out);
		eval_data_free(&d);
		free(rows);
		return 1;
	}
	if (fo)
		fprintf(fo, "series\tmethod\torigins\tmase\tmsis\tcoverage\t"
			    "us_per_update\tus_per_forecast\n");
	for (i = 0; i < d.count; i++) {
		const eval_series *s = &d.s[i];
		series_result r;
		const eval_baseline *be, *bs;

		if (eval_one(s, method, &opts, &r) < 0) {
			fprintf(stderr, "eval: %s: cannot be evaluated\n",
				s->name);
			continue;
		}
		nok++;
		sum_mase += r.mase;
		sum_msis += r.msis;
		sum_cov += r.coverage;
		upd += r.update_s;
		fcs += r.forecast_s;
		samples += r.samples;
		forecasts += r.forecasts;
		if (fo)
			fprintf(fo,
				"%s\t%s\t%d\t%.15g\t%.15g\t%.15g\t%.4g\t%.4g\n",
				s->name, method_name(method), r.origins, r.mase,
				r.msis, r.coverage,
				1e6 * r.update_s / (double)r.samples,
				1e6 * r.forecast_s / (double)r.forecasts);
		be = eval_baseline_find(rows, nrows, s->name, "ets");
		bs = eval_baseline_find(rows, nrows, s->name, "snaive");
		if (be && be->mase > 0) {
			log_rel += log(r.mase / be->mase);
			nrel++;
			if (be->fit_s > 0) {
				rfit += be->fit_s;
				rorig += be->origins;
			}
		}
		if (bs) {
			nsn++;
			nbetter += r.mase < bs->mase;
		}
	}
	if (fo)
		fclose(fo);
	printf("method %s: %d series\n", method_name(method), nok);
	if (nok) {
		printf("mean MASE      %.4f\n", sum_mase / nok);
		printf("mean MSIS      %.4f\n", sum_msis / nok);
		printf("mean coverage  %.4f\n", sum_cov / nok);
	}
	if (nrel)
		printf("relMASE vs ets %.4f (%d series)\n", exp(log_rel / nrel),
		       nrel);
	if (nsn)
		printf("better than snaive on %d of %d series (%.2f)\n",
		       nbetter, nsn, (double)nbetter / nsn);
	if (samples)
		printf("cost           %.3f us per update, %.3f us per "
		       "forecast\n",
		       1e6 * upd / (double)samples,
		       forecasts ? 1e6 * fcs / (double)forecasts : 0.0);
	if (rorig && samples)
		printf("R ets fit      %.0f us per origin (%.0fx the update "
		       "+ forecast)\n",
		       1e6 * rfit / (double)rorig,
		       (rfit / (double)rorig) /
			   (upd / (double)samples +
			    (forecasts ? fcs / (double)forecasts : 0.0)));
	i = nok == d.count ? 0 : 1;
	eval_data_free(&d);
	free(rows);
	return i;
}
