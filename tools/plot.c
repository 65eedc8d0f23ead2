/*
 * tools/plot.c: see plot.h. Layout: a title line, the plot area with value
 * gridlines and labels on the left, time labels below, a legend on top
 * right. Colours match the status page's sparklines.
 */
#include "tools/plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ML 72 /* margins: left, right, top, bottom */
#define MR 24
#define MT 44
#define MB 48

typedef struct area {
	io_chart_frame f;
	double x, y, w, h; /* plot area in device units */
} area;

static double ax(const area *a, double t)
{
	return a->x + (t - a->f.t0) / (a->f.t1 - a->f.t0) * a->w;
}

static double ay(const area *a, double v)
{
	return a->y + (a->f.y1 - v) / (a->f.y1 - a->f.y0) * a->h;
}

static void rgb(cairo_t *cr, unsigned hex, double alpha)
{
	cairo_set_source_rgba(cr, ((hex >> 16) & 255) / 255.0,
			      ((hex >> 8) & 255) / 255.0, (hex & 255) / 255.0,
			      alpha);
}

#define C_HIST	 0x1f77b4
#define C_FC	 0xe6550d
#define C_BAND	 0xfd8d3c
#define C_TRUTH	 0x222222
#define C_ANCHOR 0x31a354
#define C_GRID	 0xe0e0e0
#define C_TEXT	 0x333333

/* Text with its left (align 0), centre (0.5) or right (1) edge at x. */
static void text(cairo_t *cr, double x, double y, double align, const char *s)
{
	cairo_text_extents_t e;

	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - align * e.x_advance, y);
	cairo_show_text(cr, s);
}

static void value_axis(cairo_t *cr, const area *a)
{
	double ticks[16];
	char s[32];
	int i, n = io_chart_ticks(a->f.y0, a->f.y1, 5, ticks, 16);

	cairo_set_line_width(cr, 1);
	for (i = 0; i < n; i++) {
		double y = ay(a, ticks[i]);
		rgb(cr, C_GRID, 1);
		cairo_move_to(cr, a->x, y);
		cairo_line_to(cr, a->x + a->w, y);
		cairo_stroke(cr);
		rgb(cr, C_TEXT, 1);
		snprintf(s, sizeof s, "%g", ticks[i]);
		text(cr, a->x - 6, y + 4, 1, s);
	}
}

/* Steps a time axis may use, seconds. */
static const double time_steps[] = {
    1,	   2,	  5,	  10,	  15,	   30,	    60,	     120,
    300,   600,	  900,	  1800,	  3600,	   7200,    10800,   21600,
    43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000,
};

static void time_axis(cairo_t *cr, const area *a)
{
	double span = a->f.t1 - a->f.t0, step = 0, t;
	int fmt;
	char s[32];
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof time_steps / sizeof time_steps[0]; i++) {
		step = time_steps[i];
		if (span / step <= 7)
			break;
	}
	/* Labels: a date for daily steps and up, else the time of day. */
	fmt = step >= 86400 ? 0 : step >= 60 ? 1 : 2;
	rgb(cr, C_TEXT, 1);
	for (t = ceil(a->f.t0 / step) * step; t <= a->f.t1 && n < 16;
	     t += step, n++) {
		time_t tt = (time_t)t;
		struct tm tm;
		double x = ax(a, t);
		if (!gmtime_r(&tt, &tm))
			continue;
		if (fmt == 0)
			strftime(s, sizeof s, "%Y-%m-%d", &tm);
		else if (fmt == 1)
			strftime(s, sizeof s, "%H:%M", &tm);
		else
			strftime(s, sizeof s, "%H:%M:%S", &tm);
		text(cr, x, a->y + a->h + 18, 0.5, s);
		rgb(cr, C_GRID, 1);
		cairo_move_to(cr, x, a->y + a->h);
		cairo_line_to(cr, x, a->y + a->h + 5);
		cairo_stroke(cr);
		rgb(cr, C_TEXT, 1);
	}
	/* The date range in words under the labels: times are UTC. */
	{
		time_t t0 = (time_t)a->f.t0, t1 = (time_t)a->f.t1;
		struct tm m0, m1;
		char d0[24], d1[24], line[64];
		if (gmtime_r(&t0, &m0) && gmtime_r(&t1, &m1)) {
			strftime(d0, sizeof d0, "%Y-%m-%d %H:%M", &m0);
			strftime(d1, sizeof d1, "%Y-%m-%d %H:%M", &m1);
			snprintf(line, sizeof line, "%s .. %s UTC", d0, d1);
			text(cr, a->x + a->w / 2, a->y + a->h + 38, 0.5, line);
		}
	}
}

static double qv(const io_chart *c, int h, int k)
{
	return (double)c->q[(size_t)h * (size_t)c->Q + (size_t)k];
}

static void forecast(cairo_t *cr, const area *a, const plot_data *d)
{
	const io_chart *c = &d->chart;
	double last_v = NAN;
	int h;

	if (c->H <= 0 || a->f.lo < 0)
		return;
	if (c->n > 0 && c->t[c->n - 1] == c->origin_t)
		last_v = c->v[c->n - 1];
	/* The band, starting from the last value when it is the origin. */
	rgb(cr, C_BAND, 0.3);
	if (isfinite(last_v))
		cairo_move_to(cr, ax(a, c->origin_t), ay(a, last_v));
	for (h = 0; h < c->H; h++)
		cairo_line_to(cr, ax(a, c->origin_t + (h + 1) * c->step_s),
			      ay(a, qv(c, h, a->f.hi)));
	for (h = c->H - 1; h >= 0; h--)
		cairo_line_to(cr, ax(a, c->origin_t + (h + 1) * c->step_s),
			      ay(a, qv(c, h, a->f.lo)));
	cairo_close_path(cr);
	cairo_fill(cr);
	/* The origin. */
	rgb(cr, 0x999999, 1);
	cairo_set_line_width(cr, 1);
	cairo_set_dash(cr, (const double[]){4, 3}, 2, 0);
	cairo_move_to(cr, ax(a, c->origin_t), a->y);
	cairo_line_to(cr, ax(a, c->origin_t), a->y + a->h);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
	/* The median. */
	rgb(cr, C_FC, 1);
	cairo_set_line_width(cr, 2);
	if (isfinite(last_v))
		cairo_move_to(cr, ax(a, c->origin_t), ay(a, last_v));
	for (h = 0; h < c->H; h++)
		cairo_line_to(cr, ax(a, c->origin_t + (h + 1) * c->step_s),
			      ay(a, qv(c, h, a->f.mid)));
	cairo_stroke(cr);
	if (d->anchor) {
		rgb(cr, C_ANCHOR, 1);
		cairo_set_dash(cr, (const double[]){6, 4}, 2, 0);
		if (isfinite(last_v))
			cairo_move_to(cr, ax(a, c->origin_t), ay(a, last_v));
		for (h = 0; h < c->H; h++)
			cairo_line_to(cr,
				      ax(a, c->origin_t + (h + 1) * c->step_s),
				      ay(a, (double)d->anchor[h]));
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
}

static void history(cairo_t *cr, const area *a, const io_chart *c)
{
	size_t i;
	int pen = 0;

	rgb(cr, C_HIST, 1);
	cairo_set_line_width(cr, 1.6);
	for (i = 0; i < c->n; i++) {
		if (!isfinite(c->t[i]) || !isfinite(c->v[i])) {
			pen = 0;
			continue;
		}
		if (pen)
			cairo_line_to(cr, ax(a, c->t[i]), ay(a, c->v[i]));
		else
			cairo_move_to(cr, ax(a, c->t[i]), ay(a, c->v[i]));
		pen = 1;
	}
	cairo_stroke(cr);
}

static void truth(cairo_t *cr, const area *a, const plot_data *d)
{
	size_t i;

	rgb(cr, C_TRUTH, 1);
	for (i = 0; i < d->ntruth; i++) {
		if (!isfinite(d->truth_v[i]))
			continue;
		cairo_arc(cr, ax(a, d->truth_t[i]), ay(a, d->truth_v[i]), 2.2,
			  0, 2 * M_PI);
		cairo_fill(cr);
	}
}

typedef struct legend_entry {
	unsigned color;
	double alpha, width;
	const char *label;
} legend_entry;

static void legend(cairo_t *cr, const area *a, const plot_data *d)
{
	legend_entry e[5];
	int n = 0, i;
	double x = a->x + a->w;

	e[n++] = (legend_entry){C_HIST, 1, 2, "history"};
	if (d->chart.H > 0) {
		e[n++] = (legend_entry){C_FC, 1, 2, "median"};
		e[n++] = (legend_entry){C_BAND, 0.3, 9, "80% band"};
	}
	if (d->ntruth > 0)
		e[n++] = (legend_entry){C_TRUTH, 1, 0, "actual"};
	if (d->anchor)
		e[n++] = (legend_entry){
		    C_ANCHOR, 1, 2, d->anchor_name ? d->anchor_name : "anchor"};
	for (i = n - 1; i >= 0; i--) {
		cairo_text_extents_t te;
		cairo_text_extents(cr, e[i].label, &te);
		x -= te.x_advance;
		rgb(cr, C_TEXT, 1);
		cairo_move_to(cr, x, MT - 12);
		cairo_show_text(cr, e[i].label);
		x -= 24;
		rgb(cr, e[i].color, e[i].alpha);
		if (e[i].width > 0) {
			cairo_set_line_width(cr, e[i].width);
			cairo_move_to(cr, x, MT - 16);
			cairo_line_to(cr, x + 18, MT - 16);
			cairo_stroke(cr);
		} else { /* a dot, as the values are drawn */
			cairo_arc(cr, x + 12, MT - 16, 2.2, 0, 2 * M_PI);
			cairo_fill(cr);
		}
		x -= 14;
	}
}

static void draw(cairo_t *cr, const plot_data *d, int width, int height)
{
	area a;

	io_chart_fit(&d->chart, &a.f);
	/* Truth after the origin widens the frame too. */
	{
		io_chart t = {0};
		io_chart_frame g;
		t.t = d->truth_t;
		t.v = d->truth_v;
		t.n = d->ntruth;
		if (d->ntruth > 0) {
			io_chart_fit(&t, &g);
			a.f.t0 = fmin(a.f.t0, g.t0);
			a.f.t1 = fmax(a.f.t1, g.t1);
			a.f.y0 = fmin(a.f.y0, g.y0);
			a.f.y1 = fmax(a.f.y1, g.y1);
		}
	}
	a.x = ML;
	a.y = MT;
	a.w = width - ML - MR;
	a.h = height - MT - MB;
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 12);
	value_axis(cr, &a);
	time_axis(cr, &a);
	cairo_save(cr);
	cairo_rectangle(cr, a.x, a.y, a.w, a.h);
	cairo_clip(cr);
	forecast(cr, &a, d);
	history(cr, &a, &d->chart);
	truth(cr, &a, d);
	cairo_restore(cr);
	rgb(cr, 0x888888, 1);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, a.x, a.y, a.w, a.h);
	cairo_stroke(cr);
	legend(cr, &a, d);
	if (d->title) {
		cairo_select_font_face(cr, "sans-serif",
				       CAIRO_FONT_SLANT_NORMAL,
				       CAIRO_FONT_WEIGHT_BOLD);
		cairo_set_font_size(cr, 14);
		rgb(cr, C_TEXT, 1);
		text(cr, ML, 20, 0, d->title);
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int plot_write(const plot_data *d, const char *path, int width, int height)
{
	cairo_surface_t *sf;
	cairo_t *cr;
	int svg, err = PLOT_OK;

	if (!d || !path || width < 120 || height < 120 || width > 8000 ||
	    height > 8000)
		return PLOT_EINVAL;
	if (ends_with(path, ".svg"))
		svg = 1;
	else if (ends_with(path, ".png"))
		svg = 0;
	else
		return PLOT_EFORMAT;
	sf =
	    svg ? cairo_svg_surface_create(path, width, height)
		: cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
	if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(sf);
		return PLOT_EIO;
	}
	cr = cairo_create(sf);
	draw(cr, d, width, height);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		err = PLOT_EIO;
	cairo_destroy(cr);
	if (!svg && err == PLOT_OK &&
	    cairo_surface_write_to_png(sf, path) != CAIRO_STATUS_SUCCESS)
		err = PLOT_EIO;
	cairo_surface_finish(sf); /* the SVG is written here */
	if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS)
		err = PLOT_EIO;
	cairo_surface_destroy(sf);
	return err;
}

const char *plot_strerror(int err)
{
	switch (err) {
	case PLOT_OK:
		return "success";
	case PLOT_EINVAL:
		return "invalid argument (sizes are 120..8000)";
	case PLOT_EFORMAT:
		return "the output name must end in .svg or .png";
	case PLOT_EIO:
		return "cannot write the image";
	default:
		return "unknown error";
	}
}

void plot_shutdown(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
