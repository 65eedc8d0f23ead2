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
 * the statistical front end on its own), and --model FILE: the model stepped
 * through ssm_model_step_batch(), the very call the daemon makes, one sample
 * at a time with a forecast refreshed at every sample.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/model_open.h"
#include "io/progress.h"
#include "ssm/model.h"
#include "ssm/smooth.h"
#include "tools/cmd.h"
#include "tools/eval.h"
#include "tools/eval_report.h"

int cmd_eval(int argc, char **argv); /* the table in tools/main.c */

enum { M_NAIVE, M_SNAIVE, M_SMOOTH, M_MODEL };

/* A forecaster being evaluated on one series. */
typedef struct fc {
	int method, period, H;
	/* naive/snaive: the series; only y[0 .. seen-1] is ever read */
	const double *y;
	long seen;
	/* smooth and model */
	float *state;
	ssm_smooth_opts opts;
	double prev_t, step_s;
	/* model: its last forecast, and where 0.1 / 0.9 sit among its levels */
	const ssm_model *model;
	void *ws;
	float *q, *mean;
	int Q, klo, khi;
} fc;

/* What is being evaluated. */
typedef struct eval_cfg {
	int method;
	ssm_smooth_opts opts;	/* smooth */
	const ssm_model *model; /* model */
	FILE *forecasts; /* --forecasts: each origin's forecast, or NULL */
} eval_cfg;

static const float interval_levels[2] = {0.1f, 0.9f};
#define Z90 1.2815515655446004

/* Index of level lv among the model's quantiles, or -1. */
static int level_index(const ssm_model *m, double lv)
{
	const float *q = ssm_model_quantiles(m);
	int k;

	for (k = 0; k < ssm_model_nquantiles(m); k++)
		if (fabs(q[k] - lv) < 1e-6)
			return k;
	return -1;
}

static int fc_init_model(fc *f, const eval_series *s, const ssm_model *m)
{
	f->model = m;
	f->Q = ssm_model_nquantiles(m);
	f->klo = level_index(m, 0.1);
	f->khi = level_index(m, 0.9);
	if (ssm_model_horizon(m) < s->horizon || f->klo < 0 || f->khi < 0) {
		fprintf(stderr,
			"eval: %s: the model forecasts %d steps (needs %d) "
			"and must have the 0.1 and 0.9 quantiles\n",
			s->name, ssm_model_horizon(m), s->horizon);
		return -1;
	}
	f->state = malloc(sizeof(float) * ssm_model_state_floats(m));
	f->ws = malloc(ssm_model_workspace_bytes(m, 1));
	f->q =
	    malloc(sizeof(float) * (size_t)ssm_model_horizon(m) * (size_t)f->Q);
	f->mean = malloc(sizeof(float) * (size_t)ssm_model_horizon(m));
	if (!f->state || !f->ws || !f->q || !f->mean)
		return -1;
	return ssm_state_init(m, f->state, s->period, s->step_s);
}

static void fc_release(fc *f)
{
	free(f->state);
	free(f->ws);
	free(f->q);
	free(f->mean);
	memset(f, 0, sizeof *f);
}

static int fc_init(fc *f, const eval_cfg *cfg, const eval_series *s)
{
	int rc = 0, method = cfg->method;

	memset(f, 0, sizeof *f);
	f->method = method;
	f->period = s->period;
	f->H = s->horizon;
	f->y = s->y;
	f->step_s = s->step_s;
	if (method == M_MODEL) {
		rc = fc_init_model(f, s, cfg->model);
	} else if (method == M_SMOOTH) {
		f->state = malloc(sizeof(float) * ssm_smooth_state_floats(
						      s->period, s->horizon));
		f->opts = cfg->opts;
		rc = f->state ? ssm_smooth_init(f->state, s->period, s->horizon,
						&cfg->opts)
			      : -1;
	}
	if (rc != 0)
		fc_release(f);
	return rc;
}

/* Feed sample i (C index) with timestamp t. */
static int fc_update(fc *f, long i, double t)
{
	double v = f->y[i];
	long gap = 1;

	if (f->method == M_MODEL) {
		ssm_sample in = {t, v};
		ssm_forecast out = {0, f->q, f->mean, 0};
		float *states[1] = {f->state};
		int st;

		return ssm_model_step_batch(f->model, 1, states, &in, &out, &st,
					    f->ws) < 0
			   ? -1
			   : 0;
	}
	if (f->method == M_SMOOTH) {
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

	if (f->method == M_MODEL) {
		for (h = 0; h < f->H; h++) {
			point[h] = f->mean[h];
			lo[h] = f->q[h * f->Q + f->klo];
			hi[h] = f->q[h * f->Q + f->khi];
		}
		return isfinite(point[0]) ? 0 : -1;
	}
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

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct series_result {
	int origins;
	double mase, msis, coverage;
	double us_per_sample; /* update + forecast, CPU time, best of 3 */
	size_t state_floats;  /* the series' state block */
} series_result;

/*
 * The per-sample cost as the daemon pays it: a fresh stream with an update
 * and a full forecast at every sample, timed as one block (no clock call
 * per sample) in this thread's CPU time, so that other processes on a
 * shared machine do not count; best of 3 passes.
 */
static int time_stream(const eval_series *s, const eval_cfg *cfg, double *buf,
		       double *us)
{
	int rep;

	*us = INFINITY;
	for (rep = 0; rep < 3; rep++) {
		fc f;
		long i;
		double t0, dt;
		int rc = fc_init(&f, cfg, s);

		t0 = now_s();
		for (i = 0; i < s->n && rc == 0; i++) {
			rc = fc_update(&f, i, s->t[i]);
			if (rc == 0)
				rc = fc_forecast(&f, buf, buf + s->horizon,
						 buf + 2 * s->horizon);
		}
		dt = now_s() - t0;
		fc_release(&f);
		if (rc != 0)
			return -1;
		if (1e6 * dt / (double)s->n < *us)
			*us = 1e6 * dt / (double)s->n;
	}
	return 0;
}

/* The forecasts at the last rolling origin (--report); arrays of H. */
typedef struct last_origin {
	int origin; /* C index of the last sample seen, -1 = none */
	double *point, *lo, *hi;
} last_origin;
/*
 * --forecasts: one row per origin and horizon, the values printed exactly
 * (%.17g round-trips doubles, and floats widened to double), so that other
 * programs can be compared with eval bit for bit (the daemon's integration
 * tests do). i is the C index of the origin's last sample.
 */
static void dump_origin(FILE *f, const eval_series *s, long i,
			const double *point, const double *lo, const double *hi)
{
	int h;

	for (h = 0; h < s->horizon; h++)
		fprintf(f, "%s\t%ld\t%.17g\t%d\t%.17g\t%.17g\t%.17g\n", s->name,
			i + 1, s->t[i], h + 1, point[h], lo[h], hi[h]);
}

static int eval_one(const eval_series *s, const eval_cfg *cfg, int timing,
		    series_result *r, last_origin *last)
{
	eval_origins o;
	eval_score sc;
	fc f;
	double *buf, *point, *lo, *hi, scale;
	long i, next;
	int rc = 0;

	memset(r, 0, sizeof *r);
	memset(&sc, 0, sizeof sc);
	if (eval_origins_of(s->n, s->horizon, &o) < 0)
		return -1;
	scale = eval_scale(s->y, s->n, s->period, o.E);
	if (!(scale > 0))
		return -1;
	if (fc_init(&f, cfg, s) < 0)
		return -1;
	r->state_floats = f.method == M_MODEL
			      ? ssm_model_state_floats(cfg->model)
			  : f.method == M_SMOOTH
			      ? ssm_smooth_state_floats(s->period, s->horizon)
			      : 0;
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
		rc = fc_update(&f, i, s->t[i]);
		/* Seen y[1..i+1] (1-based): an origin when i + 1 == next. */
		if (rc == 0 && i + 1 == next && r->origins < o.count) {
			rc = fc_forecast(&f, point, lo, hi);
			if (rc == 0 && cfg->forecasts)
				dump_origin(cfg->forecasts, s, i, point, lo,
					    hi);
			eval_score_add(&sc, s->y + i + 1, point, lo, hi,
				       s->horizon);
			if (last) {
				size_t nb = sizeof(double) * (size_t)s->horizon;
				last->origin = (int)i;
				memcpy(last->point, point, nb);
				memcpy(last->lo, lo, nb);
				memcpy(last->hi, hi, nb);
			}
			r->origins++;
			next += o.step;
		}
	}
	fc_release(&f);
	if (rc == 0 && timing)
		rc = time_stream(s, cfg, buf, &r->us_per_sample);
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
	if (kl == 4 && strncmp(kv, "pool", 4) == 0)
		return (o->pool = atoi(v)) == 0 || o->pool == 1 ? 0 : -1;
	if (kl == 5 && strncmp(kv, "top_n", 5) == 0)
		return (o->top_n = atoi(v)) >= 1 ? 0 : -1;
	if (kl == 10 && strncmp(kv, "err_window", 10) == 0)
		return (o->err_window = strtof(v, NULL)) >= 1 ? 0 : -1;
	if (kl == 12 && strncmp(kv, "softmin_temp", 12) == 0)
		return (o->softmin_temp = strtof(v, NULL)) > 0 ? 0 : -1;
	if (kl == 8 && strncmp(kv, "aci_rate", 8) == 0)
		return (o->aci_rate = strtof(v, NULL)) >= 0 ? 0 : -1;
	if ((kl == 3 && strncmp(kv, "off", 3) == 0) ||
	    (kl == 4 && strncmp(kv, "only", 4) == 0)) {
		/* comma-separated member names */
		uint32_t set = 0;
		int only = kl == 4;
		char name[64];
		const char *p = v;

		while (*p) {
			size_t n = strcspn(p, ",");
			int k, found = 0;

			snprintf(name, sizeof name, "%.*s", (int)n, p);
			for (k = 0; k < ssm_smooth_members(); k++)
				if (strcmp(ssm_smooth_member_name(k), name) ==
				    0) {
					set |= 1u << k;
					found = 1;
				}
			if (!found)
				return -1;
			p += n;
			if (*p == ',')
				p++;
		}
		o->member_off = only ? ~set : o->member_off | set;
		return 0;
	}
	return -1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: statecast eval --data DIR\n"
	    "                      [--model FILE | --method "
	    "naive|snaive|smooth]\n"
	    "                      [--out FILE.tsv] [--baselines FILE.tsv]\n"
	    "                      [--smooth-opt KEY=VALUE]... [--no-timing]\n"
	    "                      [--forecasts FILE.tsv]\n"
	    "                      [--report DIR]\n"
	    "Scores rolling-origin forecasts by EVAL.md: per-series MASE,\n"
	    "MSIS, 80%% coverage; aggregates, and relMASE against ets when\n"
	    "--baselines is given. smooth-opt keys: comb=inverse|best|equal|"
	    "softmin,\n"
	    "pool=0|1, top_n=N, err_window=W, softmin_temp=T, aci_rate=R, "
	    "off|only=MEMBER,...\n"
	    "--report DIR writes DIR/report.md and one chart per series\n"
	    "against its better anchor (naive or snaive).\n");
}

static const char *method_name(int m)
{
	static const char *names[] = {"naive", "snaive", "smooth", "model"};

	return names[m];
}

/* The aggregates over a data set. */
typedef struct totals {
	int n, nrel, nsn, nbetter, nratio;
	double mase, msis, cov, log_rel, us;
	double r_fit, r_origins; /* R's ets fit seconds and origins, summed */
	size_t max_state;
	double *ratio; /* per series: R's ets fit per origin / our sample */
} totals;

static void totals_add(totals *t, const eval_series *s, const series_result *r,
		       const eval_baseline *rows, int nrows)
{
	const eval_baseline *be =
	    eval_baseline_find(rows, nrows, s->name, "ets");
	const eval_baseline *bs =
	    eval_baseline_find(rows, nrows, s->name, "snaive");

	t->n++;
	t->mase += r->mase;
	t->msis += r->msis;
	t->cov += r->coverage;
	t->us += r->us_per_sample;
	if (r->state_floats > t->max_state)
		t->max_state = r->state_floats;
	if (be && be->mase > 0) {
		t->log_rel += log(r->mase / be->mase);
		t->nrel++;
		if (be->fit_s > 0 && be->origins > 0) {
			t->r_fit += be->fit_s;
			t->r_origins += be->origins;
		}
		if (be->fit_s > 0 && be->origins > 0 && r->us_per_sample > 0)
			t->ratio[t->nratio++] =
			    be->fit_s / be->origins / (1e-6 * r->us_per_sample);
	}
	if (bs) {
		t->nsn++;
		t->nbetter += r->mase < bs->mase;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void totals_print(totals *t, int method, int timing)
{
	printf("method %s: %d series\n", method_name(method), t->n);
	if (!t->n)
		return;
	printf("mean MASE      %.4f\n", t->mase / t->n);
	printf("mean MSIS      %.4f\n", t->msis / t->n);
	printf("mean coverage  %.4f\n", t->cov / t->n);
	if (t->nrel)
		printf("relMASE vs ets %.4f (%d series)\n",
		       exp(t->log_rel / t->nrel), t->nrel);
	if (t->nsn)
		printf("better than snaive on %d of %d series (%.2f)\n",
		       t->nbetter, t->nsn, (double)t->nbetter / t->nsn);
	if (t->max_state)
		printf("state          %zu floats per series (largest)\n",
		       t->max_state);
	if (timing)
		printf("cost           %.3f us per sample (update + forecast, "
		       "mean over series)\n",
		       t->us / t->n);
	if (timing && t->nratio) {
		qsort(t->ratio, (size_t)t->nratio, sizeof *t->ratio,
		      cmp_double);
		printf("R ets refit    / our sample: median %.0fx, min %.0fx, "
		       "pooled %.0fx (R %.0f us per origin)\n",
		       t->ratio[t->nratio / 2], t->ratio[0],
		       1e6 * t->r_fit / t->r_origins / (t->us / t->n),
		       1e6 * t->r_fit / t->r_origins);
	}
}

typedef struct eval_args {
	const char *data, *out, *base, *model, *forecasts, *report;
	int timing;
	eval_cfg cfg;
} eval_args;

/* 0, or the exit status for a usage error (2) or --help (-1). */
static int parse_args(int argc, char **argv, eval_args *a)
{
	static const char *methods[] = {"naive", "snaive", "smooth"};
	int i, k;

	memset(a, 0, sizeof *a);
	a->timing = 1;
	a->cfg.method = M_SMOOTH;
	ssm_smooth_opts_default(&a->cfg.opts);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
			return -1;
		if (strcmp(o, "--no-timing") == 0) {
			a->timing = 0;
			continue;
		}
		if (!v)
			return 2;
		i++;
		if (strcmp(o, "--data") == 0)
			a->data = v;
		else if (strcmp(o, "--out") == 0)
			a->out = v;
		else if (strcmp(o, "--report") == 0)
			a->report = v;
		else if (strcmp(o, "--forecasts") == 0)
			a->forecasts = v;
		else if (strcmp(o, "--baselines") == 0)
			a->base = v;
		else if (strcmp(o, "--model") == 0) {
			a->model = v;
			a->cfg.method = M_MODEL;
		} else if (strcmp(o, "--method") == 0) {
			for (k = 0; k < 3 && strcmp(v, methods[k]) != 0; k++)
				;
			if (k == 3) {
				fprintf(stderr, "eval: unknown method %s\n", v);
				return 2;
			}
			a->cfg.method = k;
		} else if (strcmp(o, "--smooth-opt") == 0) {
			if (parse_opt(&a->cfg.opts, v) < 0) {
				fprintf(stderr, "eval: bad --smooth-opt %s\n",
					v);
				return 2;
			}
		} else {
			return 2;
		}
	}
	return a->data ? 0 : 2;
}

/* The report's row of one series: the method's last-origin forecast
 * (in `m`) against the better of naive and snaive by MASE. */
static int report_series(eval_report *rep, const eval_series *s,
			 const series_result *r, const last_origin *m)
{
	static const int anchors[2] = {M_NAIVE, M_SNAIVE};
	double *buf = malloc(sizeof(double) * 6 * (size_t)s->horizon);
	last_origin la[2];
	series_result ra[2];
	eval_report_row row;
	eval_cfg ac;
	int k, best = -1, rc = -1;

	if (!buf)
		return -1;
	memset(&ac, 0, sizeof ac);
	for (k = 0; k < 2; k++) {
		la[k].origin = -1;
		la[k].point = buf + (size_t)(3 * k) * (size_t)s->horizon;
		la[k].lo = la[k].point + s->horizon;
		la[k].hi = la[k].lo + s->horizon;
		ac.method = anchors[k];
		if (eval_one(s, &ac, 0, &ra[k], &la[k]) == 0 &&
		    la[k].origin == m->origin &&
		    (best < 0 || ra[k].mase < ra[best].mase))
			best = k;
	}
	if (best >= 0 && m->origin >= 0) {
		row.mase = r->mase;
		row.msis = r->msis;
		row.coverage = r->coverage;
		row.anchor = method_name(anchors[best]);
		row.anchor_mase = ra[best].mase;
		row.origin = m->origin;
		row.point = m->point;
		row.lo = m->lo;
		row.hi = m->hi;
		row.anchor_point = la[best].point;
		rc = eval_report_series(rep, s, &row);
	}
	free(buf);
	return rc;
}

int cmd_eval(int argc, char **argv)
{
	eval_args a;
	eval_data d;
	eval_baseline *rows = NULL;
	ssm_model *model = NULL;
	char err[512];
	FILE *fo = NULL;
	totals t;
	eval_report *rep = NULL;
	last_origin last = {-1, NULL, NULL, NULL};
	double *lbuf = NULL;
	io_progress prog;
	int i, nrows = 0, rc = parse_args(argc, argv, &a);

	if (rc != 0) {
		usage(rc < 0 ? stdout : stderr);
		return rc < 0 ? 0 : rc;
	}
	if (a.model) {
		int is_default; /* the file is absent: io/model_open.h */
		rc = io_model_open(a.model, &model, &is_default, err,
				   sizeof err);
		if (rc < 0) {
			fprintf(stderr, "eval: %s: %s\n", a.model, err);
			return 1;
		}
		a.cfg.model = model;
	}
	if (eval_data_load(a.data, &d, err, sizeof err) < 0) {
		fprintf(stderr, "eval: %s\n", err);
		ssm_model_free(model);
		return 1;
	}
	memset(&t, 0, sizeof t);
	t.ratio = calloc((size_t)d.count + 1, sizeof *t.ratio);
	rc = 1;
	if (a.base &&
	    eval_baselines_load(a.base, &rows, &nrows, err, sizeof err) < 0)
		fprintf(stderr, "eval: %s\n", err);
	else if (!t.ratio || (a.out && !(fo = fopen(a.out, "w"))))
		fprintf(stderr, "eval: cannot write %s\n", a.out ? a.out : "");
	else if (a.forecasts && !(a.cfg.forecasts = fopen(a.forecasts, "w")))
		fprintf(stderr, "eval: cannot write %s\n", a.forecasts);
	else
		rc = 0;
	if (rc == 0 && a.report) {
		int hmax = 1;
		for (i = 0; i < d.count; i++)
			if (d.s[i].horizon > hmax)
				hmax = d.s[i].horizon;
		lbuf = malloc(sizeof(double) * 3 * (size_t)hmax);
		if (!lbuf || eval_report_open(&rep, a.report,
					      method_name(a.cfg.method)) < 0)
			rc = 1;
		last.point = lbuf;
		last.lo = lbuf ? lbuf + hmax : NULL;
		last.hi = lbuf ? lbuf + 2 * hmax : NULL;
	}
	if (a.cfg.forecasts)
		fprintf(a.cfg.forecasts,
			"series\torigin\tt\th\tpoint\tlo\thi\n");
	if (fo)
		fprintf(fo, "series\tmethod\torigins\tmase\tmsis\tcoverage\t"
			    "us_per_sample\n");
	io_progress_init(&prog, stderr, "eval", (uint64_t)d.count);
	for (i = 0; i < d.count && rc == 0; i++) {
		const eval_series *s = &d.s[i];
		series_result r;

		io_progress_update(&prog, (uint64_t)i);
		last.origin = -1;
		if (eval_one(s, &a.cfg, a.timing, &r, rep ? &last : NULL) < 0) {
			fprintf(stderr, "eval: %s: cannot be evaluated\n",
				s->name);
			continue;
		}
		totals_add(&t, s, &r, rows, nrows);
		if (fo)
			fprintf(fo, "%s\t%s\t%d\t%.15g\t%.15g\t%.15g\t%.4g\n",
				s->name, method_name(a.cfg.method), r.origins,
				r.mase, r.msis, r.coverage, r.us_per_sample);
		if (rep && report_series(rep, s, &r, &last) < 0)
			fprintf(stderr, "eval: %s: no chart\n", s->name);
	}
	io_progress_update(&prog, (uint64_t)i);
	io_progress_done(&prog);
	if (rep && eval_report_close(rep) < 0)
		rc = 1;
	free(lbuf);
	if (fo)
		fclose(fo);
	if (a.cfg.forecasts)
		fclose(a.cfg.forecasts);
	if (rc == 0) {
		totals_print(&t, a.cfg.method, a.timing);
		rc = t.n == d.count ? 0 : 1;
	}
	eval_data_free(&d);
	free(rows);
	free(t.ratio);
	ssm_model_free(model);
	return rc;
}
