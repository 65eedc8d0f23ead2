/*
 * daemon/status_page.h: the HTML status page statecastd serves at /.
 *
 * One self-contained page: inline CSS and inline SVG sparklines, no script,
 * no external resource (the HTTP layer also sends a Content-Security-Policy
 * that forbids them). It lists the series the loop chose to show (bounded by
 * configuration) with recent history, the current forecast median and 80%
 * band, and a table of the series whose latest sample was anomalous.
 *
 * Like daemon/metrics.h, the renderer reads only the views it is given; the
 * loop thread fills them from the registry and hands the text to the HTTP
 * thread as a snapshot.
 */
#ifndef STATECAST_DAEMON_STATUS_PAGE_H
#define STATECAST_DAEMON_STATUS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "io/chart.h"
#include "io/textbuf.h"

typedef struct srv_status_series {
	const char *name; /* any bytes: escaped, bad UTF-8 replaced */
	io_chart chart;	  /* history and forecast */
	float anomaly;	  /* score of the latest sample, 0 = inside */
	uint64_t samples;
	uint64_t anomalies; /* samples outside their interval so far */
} srv_status_series;

typedef struct srv_status {
	const char *version;
	const char *model; /* a description of the model in use */
	double now;	   /* Unix seconds at render */
	double start_time_s;
	uint64_t series;  /* live series in all */
	uint64_t samples; /* accepted since start */
	uint64_t dropped; /* refused since start */
	/* Series still catching up after a crash restart (daemon/catchup.h)
	 * and their samples to step: not ranked, not shown, counted. */
	uint64_t catching_up, catching_up_samples;
	const srv_status_series *s;
	size_t n;      /* shown; series - n are not */
	int refresh_s; /* the page reloads itself after this; 0 = never */
} srv_status;

void srv_status_render(io_tb *b, const srv_status *st);

/* An inline <svg> sparkline of w x h pixels: history, band, median. */
void srv_status_sparkline(io_tb *b, const io_chart *c, int w, int h);

/* Text with & < > " ' escaped for HTML, bad UTF-8 replaced by U+FFFD. */
void srv_html_text(io_tb *b, const char *s);

#endif
