/* daemon/status_page.c: see status_page.h. */
#include "daemon/status_page.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *html_esc(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		/* Control characters are not allowed in XML 1.0. */
		return c < 0x20 && c != '\t' ? IO_UTF8_REPLACEMENT : NULL;
	}
}

void srv_html_text(io_tb *b, const char *s)
{
	io_tb_escape(b, s, html_esc);
}

/* Pixel coordinates of a chart frame. */
typedef struct px {
	io_chart_frame f;
	double w, h;
} px;

static double px_x(const px *p, double t)
{
	return (t - p->f.t0) / (p->f.t1 - p->f.t0) * p->w;
}

static double px_y(const px *p, double v)
{
	/* 1 px margin so a line at the extreme is not cut in half. */
	return 1 + (p->f.y1 - v) / (p->f.y1 - p->f.y0) * (p->h - 2);
}

static double fq(const io_chart *c, int h, int k)
{
	return (double)c->q[(size_t)h * (size_t)c->Q + (size_t)k];
}

void srv_status_sparkline(io_tb *b, const io_chart *c, int w, int h)
{
	px p;
	size_t i;
	int k, pen = 0;

	io_chart_fit(c, &p.f);
	p.w = w;
	p.h = h;
	io_tb_printf(
	    b,
	    "<svg class=\"spark\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">",
	    w, h, w, h);
	if (c->H > 0 && p.f.lo >= 0) {
		/* The band: upper edge forward, lower edge back. */
		io_tb_puts(b, "<polygon class=\"band\" points=\"");
		for (k = 0; k < c->H; k++)
			io_tb_printf(
			    b, "%.1f,%.1f ",
			    px_x(&p, c->origin_t + (k + 1) * c->step_s),
			    px_y(&p, fq(c, k, p.f.hi)));
		for (k = c->H - 1; k >= 0; k--)
			io_tb_printf(
			    b, "%.1f,%.1f ",
			    px_x(&p, c->origin_t + (k + 1) * c->step_s),
			    px_y(&p, fq(c, k, p.f.lo)));
		io_tb_puts(b, "\"/>");
		io_tb_printf(b,
			     "<line class=\"now\" x1=\"%.1f\" y1=\"0\" "
			     "x2=\"%.1f\" y2=\"%d\"/>",
			     px_x(&p, c->origin_t), px_x(&p, c->origin_t), h);
		io_tb_puts(b, "<polyline class=\"median\" points=\"");
		for (k = 0; k < c->H; k++)
			io_tb_printf(
			    b, "%.1f,%.1f ",
			    px_x(&p, c->origin_t + (k + 1) * c->step_s),
			    px_y(&p, fq(c, k, p.f.mid)));
		io_tb_puts(b, "\"/>");
	}
	if (c->n > 0) {
		io_tb_puts(b, "<path class=\"hist\" d=\"");
		for (i = 0; i < c->n; i++) {
			if (!isfinite(c->v[i]) || !isfinite(c->t[i])) {
				pen = 0; /* a gap */
				continue;
			}
			io_tb_printf(b, "%c%.1f %.1f ", pen ? 'L' : 'M',
				     px_x(&p, c->t[i]), px_y(&p, c->v[i]));
			pen = 1;
		}
		io_tb_puts(b, "\"/>");
	}
	io_tb_puts(b, "</svg>");
}

static void num(io_tb *b, double v)
{
	if (isfinite(v))
		io_tb_printf(b, "%.4g", v);
	else
		io_tb_puts(b, "&#8211;");
}

static void utc(io_tb *b, double t)
{
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!isfinite(t) || !gmtime_r(&tt, &tm)) {
		io_tb_puts(b, "&#8211;");
		return;
	}
	strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
	io_tb_puts(b, s);
}

static void duration(io_tb *b, double s)
{
	long t = s > 0 ? (long)s : 0;

	if (t >= 86400)
		io_tb_printf(b, "%ldd %ldh", t / 86400, t / 3600 % 24);
	else if (t >= 3600)
		io_tb_printf(b, "%ldh %ldm", t / 3600, t / 60 % 60);
	else
		io_tb_printf(b, "%ldm %lds", t / 60, t % 60);
}

static const char css[] =
    "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 "
    ".4em}table{border-collapse:collapse}"
    "td,th{padding:3px 8px;border-bottom:1px solid #e4e4e4;text-align:left;"
    "vertical-align:middle}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums}.name{font-family:monospace;max-width:28em;overflow-wrap:"
    "anywhere}.meta{color:#666}.anom{color:#b00;font-weight:600}"
    "svg.spark{display:block;background:#fafafa}"
    ".hist{fill:none;stroke:#1f77b4;stroke-width:1.3}"
    ".median{fill:none;stroke:#e6550d;stroke-width:1.3}"
    ".band{fill:#fd8d3c;fill-opacity:.3;stroke:none}"
    ".now{stroke:#999;stroke-dasharray:2,2}.catchup{color:#a60}";

/* The shown series' indices by anomaly score, highest first. */
static int by_anomaly(const void *a, const void *b, void *arg)
{
	const srv_status *st = arg;
	float x = st->s[*(const size_t *)a].anomaly;
	float y = st->s[*(const size_t *)b].anomaly;

	return (x < y) - (x > y);
}

static void anomalies(io_tb *b, const srv_status *st)
{
	size_t *idx, i, m = 0;

	idx = malloc((st->n ? st->n : 1) * sizeof *idx);
	if (!idx) {
		b->failed = 1;
		return;
	}
	for (i = 0; i < st->n; i++)
		if (st->s[i].anomaly > 0)
			idx[m++] = i;
	io_tb_printf(b, "<h2>Anomalies now (%zu)</h2>\n", m);
	if (m == 0) {
		io_tb_puts(b, "<p class=\"meta\">The latest sample of every "
			      "shown series lies inside its forecast "
			      "interval.</p>\n");
		free(idx);
		return;
	}
	qsort_r(idx, m, sizeof *idx, by_anomaly, (void *)st);
	io_tb_puts(b, "<table><tr><th>series</th><th>score</th><th>last "
		      "value</th><th>at (UTC)</th><th>anomalies so "
		      "far</th></tr>\n");
	for (i = 0; i < m; i++) {
		const srv_status_series *s = &st->s[idx[i]];
		const io_chart *c = &s->chart;
		io_tb_puts(b, "<tr><td class=\"name\">");
		srv_html_text(b, s->name);
		io_tb_puts(b, "</td><td class=\"n anom\">");
		num(b, s->anomaly);
		io_tb_puts(b, "</td><td class=\"n\">");
		num(b, c->n ? c->v[c->n - 1] : NAN);
		io_tb_puts(b, "</td><td>");
		utc(b, c->n ? c->t[c->n - 1] : NAN);
		io_tb_printf(b, "</td><td class=\"n\">%llu</td></tr>\n",
			     (unsigned long long)s->anomalies);
	}
	io_tb_puts(b, "</table>\n");
	free(idx);
}

static void series_row(io_tb *b, const srv_status_series *s)
{
	const io_chart *c = &s->chart;
	io_chart_frame f;

	io_tb_puts(b, "<tr><td class=\"name\">");
	srv_html_text(b, s->name);
	io_tb_puts(b, "</td><td>");
	srv_status_sparkline(b, c, 240, 44);
	io_tb_puts(b, "</td><td class=\"n\">");
	num(b, c->n ? c->v[c->n - 1] : NAN);
	io_tb_puts(b, "</td><td class=\"n\">");
	io_chart_fit(c, &f);
	if (c->H > 0 && f.mid >= 0) {
		num(b, fq(c, 0, f.mid));
		io_tb_puts(b, " <span class=\"meta\">[");
		num(b, fq(c, 0, f.lo));
		io_tb_puts(b, ", ");
		num(b, fq(c, 0, f.hi));
		io_tb_puts(b, "]</span>");
	} else {
		io_tb_puts(b, "<span class=\"meta\">learning</span>");
	}
	io_tb_printf(b, "</td><td class=\"n%s\">",
		     s->anomaly > 0 ? " anom" : "");
	num(b, s->anomaly);
	io_tb_printf(b,
		     "</td><td class=\"n\">%llu</td><td "
		     "class=\"n\">%llu</td></tr>\n",
		     (unsigned long long)s->samples,
		     (unsigned long long)s->anomalies);
}

void srv_status_render(io_tb *b, const srv_status *st)
{
	size_t i;

	/* Polyglot markup (valid HTML and well-formed XML), which lets the
	 * tests check it with an XML parser. */
	io_tb_puts(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
		      "xhtml\" lang=\"en\"><head>"
		      "<meta charset=\"utf-8\"/>");
	if (st->refresh_s > 0)
		io_tb_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\"/>",
			     st->refresh_s);
	io_tb_printf(b,
		     "<title>statecast</title><style>%s</style></head>\n"
		     "<body><h1>statecast</h1>\n<p class=\"meta\">",
		     css);
	io_tb_puts(b, "statecastd ");
	srv_html_text(b, st->version ? st->version : "?");
	io_tb_puts(b, " &#183; model ");
	srv_html_text(b, st->model ? st->model : "?");
	io_tb_puts(b, " &#183; up ");
	duration(b, st->now - st->start_time_s);
	io_tb_puts(b, " &#183; ");
	utc(b, st->now);
	io_tb_printf(b,
		     " UTC</p>\n<p>%llu series &#183; %llu samples accepted "
		     "&#183; %llu dropped</p>\n",
		     (unsigned long long)st->series,
		     (unsigned long long)st->samples,
		     (unsigned long long)st->dropped);
	if (st->catching_up)
		io_tb_printf(b,
			     "<p class=\"catchup\">Restarted after a crash: "
			     "%llu series still catching up (%llu stored "
			     "samples to step in the background); they are "
			     "ranked and shown once stepped.</p>\n",
			     (unsigned long long)st->catching_up,
			     (unsigned long long)st->catching_up_samples);
	anomalies(b, st);
	io_tb_printf(b, "<h2>Series (%zu shown", st->n);
	if (st->series > st->n)
		io_tb_printf(b, " of %llu", (unsigned long long)st->series);
	io_tb_puts(b, ")</h2>\n<p class=\"meta\">Blue: recent history; "
		      "orange: forecast median and 80% band (quantiles 0.1 "
		      "to 0.9) after the dashed line.</p>\n");
	io_tb_puts(b, "<table><tr><th>series</th><th>history and "
		      "forecast</th><th>last</th><th>next: median "
		      "[0.1, 0.9]</th><th>anomaly</th><th>samples</th>"
		      "<th>anomalies</th></tr>\n");
	for (i = 0; i < st->n; i++)
		series_row(b, &st->s[i]);
	io_tb_puts(b, "</table>\n</body></html>\n");
}
