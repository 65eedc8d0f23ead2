/*
 * tools/eval.h: the accuracy protocol of EVAL.md (rolling origins, scale,
 * MASE, MSIS, coverage) and the data directory it reads, for
 * `statecast eval` and its tests.
 *
 * Indices follow EVAL.md's 1-based notation where it says "t": an origin t
 * means the forecaster has seen y[1..t] (C index 0..t-1) and forecasts
 * y[t+1..t+H].
 */
#ifndef STATECAST_TOOLS_EVAL_H
#define STATECAST_TOOLS_EVAL_H

#include <stddef.h>

/* One series of a data directory; eval_data_free() releases all. */
typedef struct eval_series {
	char name[128];
	int period;    /* m, 1 = none */
	int horizon;   /* H */
	double step_s; /* nominal step, seconds */
	int n;	       /* samples */
	double *t;     /* [n] Unix seconds */
	double *y;     /* [n] */
} eval_series;

typedef struct eval_data {
	eval_series *s;
	int count;
} eval_data;

/* Reads DIR/manifest.tsv and every DIR/NAME.csv. 0 or -1 with errbuf set. */
int eval_data_load(const char *dir, eval_data *d, char *errbuf, size_t errlen);
void eval_data_free(eval_data *d);

/* E = max(H, floor(n/4)); origins first, first + step, ... <= n - H. */
typedef struct eval_origins {
	int E, first, step, count;
} eval_origins;

/* 0, or -1 when the series is too short for the protocol. */
int eval_origins_of(int n, int H, eval_origins *o);

/* scale = mean |y[i] - y[i - m']| for i = m'+1 .. n-E (1-based). */
double eval_scale(const double *y, int n, int period, int E);

/* Running scores of one series; add one origin's H forecasts at a time. */
typedef struct eval_score {
	double abs_err, int_score, inside;
	long cells;
} eval_score;

/* lo/hi may be NULL: the point is scored, intervals are not. */
void eval_score_add(eval_score *s, const double *truth, const double *point,
		    const double *lo, const double *hi, int H);

/* MASE, MSIS (alpha 0.2) and coverage from the sums; scale > 0. */
void eval_score_final(const eval_score *s, double scale, double *mase,
		      double *msis, double *coverage);

/* One row of a baselines TSV (series, method, mase, msis, coverage, fit_s). */
typedef struct eval_baseline {
	char series[128];
	char method[32];
	int origins;
	double mase, msis, coverage, fit_s;
} eval_baseline;

/* Reads a baselines-public.tsv; *rows is malloc'd (free() it). */
int eval_baselines_load(const char *path, eval_baseline **rows, int *count,
			char *errbuf, size_t errlen);
const eval_baseline *eval_baseline_find(const eval_baseline *rows, int count,
					const char *series, const char *method);

#endif
