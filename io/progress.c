/* io/progress.c: see progress.h. */
#include "io/progress.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH    24
#define BAR_PERIOD_S 0.1 /* a terminal redraw at most this often */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void io_progress_init(io_progress *p, FILE *out, const char *what,
		      uint64_t total)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	snprintf(p->what, sizeof p->what, "%s", what ? what : "work");
	p->total = total;
	p->interval_s = 5.0;
	p->now = mono_now;
	p->mode = IO_PROGRESS_AUTO;
	if (out && isatty(fileno(out)))
		p->mode = IO_PROGRESS_BAR;
	else
		p->mode = IO_PROGRESS_LINES;
	p->t0 = p->now();
	p->t_line = p->t0;
	p->t_bar = p->t0 - BAR_PERIOD_S;
}

void io_progress_set_mode(io_progress *p, int mode)
{
	if (mode == IO_PROGRESS_AUTO)
		mode = p->out && isatty(fileno(p->out)) ? IO_PROGRESS_BAR
							: IO_PROGRESS_LINES;
	p->mode = mode;
}

void io_progress_detail(io_progress *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof p->detail, fmt, ap);
	va_end(ap);
}

/* "1h02m", "3m05s", "42s": short enough for a bar line. */
static void fmt_secs(char *buf, size_t size, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%lds", t);
}

/* A rate in 3 significant digits, without an exponent above 1000. */
static void fmt_rate(char *buf, size_t size, double r)
{
	if (r >= 1000)
		snprintf(buf, size, "%.0f", r);
	else
		snprintf(buf, size, "%.3g", r);
}

void io_progress_format(const io_progress *p, char *buf, size_t size)
{
	double el = p->now() - p->t0;
	double rate = el > 0 ? (double)p->done / el : 0;
	size_t n;
	char eta[48];

	if (p->total) {
		double pct = 100.0 * (double)p->done / (double)p->total;
		n = (size_t)snprintf(buf, size, "%s: %llu/%llu (%.0f%%)",
				     p->what, (unsigned long long)p->done,
				     (unsigned long long)p->total, pct);
	} else {
		n = (size_t)snprintf(buf, size, "%s: %llu", p->what,
				     (unsigned long long)p->done);
	}
	if (n < size && el > 0 && p->done > 0) {
		char r[32];
		fmt_rate(r, sizeof r, rate);
		n += (size_t)snprintf(buf + n, size - n, ", %s/s", r);
	}
	if (n < size && p->total && rate > 0 && p->done < p->total) {
		fmt_secs(eta, sizeof eta, (double)(p->total - p->done) / rate);
		n += (size_t)snprintf(buf + n, size - n, ", eta %s", eta);
	}
	if (n < size && p->detail[0])
		snprintf(buf + n, size - n, ", %s", p->detail);
}

static void draw_bar(io_progress *p)
{
	char text[256], bar[BAR_WIDTH + 1];
	int i, fill = 0;

	if (p->total)
		fill = (int)((double)BAR_WIDTH * (double)p->done /
			     (double)p->total);
	if (fill > BAR_WIDTH)
		fill = BAR_WIDTH;
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	io_progress_format(p, text, sizeof text);
	/* \033[K clears what a longer previous line left behind. */
	if (p->total)
		fprintf(p->out, "\r[%s] %s\033[K", bar, text);
	else
		fprintf(p->out, "\r%s\033[K", text);
	fflush(p->out);
	p->bar_shown = 1;
}

static void emit_line(io_progress *p)
{
	char text[256];

	io_progress_format(p, text, sizeof text);
	if (p->mode == IO_PROGRESS_LINES && p->out) {
		fprintf(p->out, "%s\n", text);
		fflush(p->out);
	}
	if (p->sink)
		p->sink(p->sink_arg, text);
}

void io_progress_update(io_progress *p, uint64_t done)
{
	double t;

	p->done = done;
	t = p->now();
	if (p->mode == IO_PROGRESS_BAR && p->out &&
	    t - p->t_bar >= BAR_PERIOD_S) {
		p->t_bar = t;
		draw_bar(p);
	}
	if (t - p->t_line >= p->interval_s) {
		p->t_line = t;
		emit_line(p);
	}
}

void io_progress_done(io_progress *p)
{
	char text[256], el[48];
	double secs = p->now() - p->t0;
	size_t n;

	fmt_secs(el, sizeof el, secs);
	if (secs < 60)
		n = (size_t)snprintf(text, sizeof text,
				     "%s: done %llu in %.1fs", p->what,
				     (unsigned long long)p->done, secs);
	else
		n = (size_t)snprintf(text, sizeof text, "%s: done %llu in %s",
				     p->what, (unsigned long long)p->done, el);
	if (n < sizeof text && secs > 0 && p->done > 0) {
		char r[32];
		fmt_rate(r, sizeof r, (double)p->done / secs);
		n += (size_t)snprintf(text + n, sizeof text - n, " (%s/s)", r);
	}
	if (n < sizeof text && p->detail[0])
		snprintf(text + n, sizeof text - n, ", %s", p->detail);
	if (p->out && p->mode != IO_PROGRESS_QUIET) {
		if (p->mode == IO_PROGRESS_BAR && p->bar_shown)
			fputs("\r\033[K", p->out);
		fprintf(p->out, "%s\n", text);
		fflush(p->out);
	}
	p->bar_shown = 0;
	if (p->sink)
		p->sink(p->sink_arg, text);
}
