/*
 * io/chart.h: what a forecast chart shows, independent of how it is drawn.
 *
 * The status page (daemon/status_page.c, inline SVG) and `statecast plot`
 * (tools/plot.c, cairo) draw the same picture: recent history, the forecast
 * median, and the 80% band (levels nearest 0.1 and 0.9). This module owns
 * the shared decisions, so the two cannot disagree: which quantile levels
 * form the band, the time and value ranges, and round axis ticks.
 *
 * Views only: an io_chart points at arrays it does not own. Times are Unix
 * seconds; horizon h (1..H) lies at origin_t + h * step_s.
 */
#ifndef STATECAST_IO_CHART_H
#define STATECAST_IO_CHART_H

#include <stddef.h>

typedef struct io_chart {
	const double *t; /* [n] increasing sample times */
	const double *v; /* [n] values; NaN = missing (a gap in the line) */
	size_t n;
	/* The forecast; H = 0 when there is none. */
	int H, Q;
	const float *levels; /* [Q] increasing quantile levels */
	const float *q;	     /* [H * Q], q[h * Q + k] at horizon h + 1 */
	const float *mean;   /* [H] or NULL */
	double origin_t;     /* time of the last sample the forecast saw */
	double step_s;	     /* nominal step, > 0 */
} io_chart;

/* The frame of a chart: data ranges and the quantile columns to draw. */
typedef struct io_chart_frame {
	double t0, t1;	 /* time range, t0 < t1 */
	double y0, y1;	 /* value range with a margin, y0 < y1 */
	int lo, mid, hi; /* level indices of the band and median; -1 = none */
} io_chart_frame;

/* The index of the level nearest `want`, -1 when Q = 0. */
int io_chart_level(const float *levels, int Q, float want);

/* Fits the frame around every finite history value and the band (and the
 * median). A chart with nothing finite gets [0, 1] ranges. Always succeeds. */
void io_chart_fit(const io_chart *c, io_chart_frame *f);

/* Round tick values covering [a, b]: steps of 1, 2 or 5 x 10^k, about
 * `target` of them. Writes at most max values into out; returns the count. */
int io_chart_ticks(double a, double b, int target, double *out, int max);

#endif
