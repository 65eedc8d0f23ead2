/*
 * tools/eval_report.h: `statecast eval --report DIR`: the accuracy table
 * as Markdown (DIR/report.md) plus one chart per series (DIR/NAME.svg,
 * drawn by tools/plot.h): the history before the last rolling origin, the
 * evaluated method's median and 80% band from that origin, the values that
 * actually followed, and the forecast of the better of the two anchors
 * (naive, snaive) on that series, by MASE.
 *
 * Lifetime: eval_report_open() creates DIR (one level) and report.md;
 * eval_report_series() once per evaluated series; eval_report_close()
 * writes the summary line and frees. Errors: 0 or -1 with a message on
 * stderr.
 */
#ifndef STATECAST_TOOLS_EVAL_REPORT_H
#define STATECAST_TOOLS_EVAL_REPORT_H

#include "tools/eval.h"

typedef struct eval_report eval_report;

/* One series' scores and last-origin forecasts (views, not kept). */
typedef struct eval_report_row {
	double mase, msis, coverage; /* the evaluated method */
	const char *anchor;	     /* "naive" or "snaive" */
	double anchor_mase;
	int origin;		       /* C index of the last sample seen */
	const double *point, *lo, *hi; /* [H] the method at that origin */
	const double *anchor_point;    /* [H] the anchor at that origin */
} eval_report_row;

int eval_report_open(eval_report **out, const char *dir, const char *method);
int eval_report_series(eval_report *r, const eval_series *s,
		       const eval_report_row *row);
int eval_report_close(eval_report *r);

#endif
