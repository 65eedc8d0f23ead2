/*
 * tools/plot.h: one forecast chart drawn with cairo, to SVG or PNG.
 *
 * Draws what io/chart.h describes (recent history, the forecast median and
 * the 80% band between the levels nearest 0.1 and 0.9) plus, optionally,
 * the values that actually arrived after the forecast origin and a second
 * forecast line (a baseline "anchor" such as seasonal naive), so that
 * `statecast plot` and `statecast eval --report` draw the same picture.
 *
 * The format follows the file name: ".svg" (vector) or ".png" (raster).
 * Views only: nothing passed in is kept after plot_write() returns.
 */
#ifndef STATECAST_TOOLS_PLOT_H
#define STATECAST_TOOLS_PLOT_H

#include <stddef.h>

#include "io/chart.h"

enum {
	PLOT_OK = 0,
	PLOT_EINVAL = -1,  /* a bad argument (size, NULL chart) */
	PLOT_EFORMAT = -2, /* the file name ends neither in .svg nor .png */
	PLOT_EIO = -3,	   /* cairo could not create or write the file */
};

typedef struct plot_data {
	io_chart chart;	   /* history and forecast */
	const char *title; /* top line, e.g. the series name; may be NULL */
	/* What actually happened after the origin (drawn as dots). */
	const double *truth_t, *truth_v;
	size_t ntruth;
	/* A second point forecast at the chart's horizons (dashed line). */
	const float *anchor; /* [chart.H] or NULL */
	const char *anchor_name;
} plot_data;

/* width, height in pixels (SVG: points), each 120..8000. */
int plot_write(const plot_data *d, const char *path, int width, int height);
const char *plot_strerror(int err);

/* Frees the process-wide font caches of cairo and fontconfig. Call once
 * before exit, after the last plot_write(), so leak checkers stay quiet. */
void plot_shutdown(void);

#endif
