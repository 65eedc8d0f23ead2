/* io/chart.c: see chart.h. */
#include "io/chart.h"

#include <math.h>

int io_chart_level(const float *levels, int Q, float want)
{
	int k, best = -1;
	float bd = 0;

	for (k = 0; k < Q; k++) {
		float d = fabsf(levels[k] - want);
		if (best < 0 || d < bd) {
			best = k;
			bd = d;
		}
	}
	return best;
}

static void widen(double *lo, double *hi, double x)
{
	if (!isfinite(x))
		return;
	if (x < *lo)
		*lo = x;
	if (x > *hi)
		*hi = x;
}

void io_chart_fit(const io_chart *c, io_chart_frame *f)
{
	double tlo = INFINITY, thi = -INFINITY;
	double ylo = INFINITY, yhi = -INFINITY;
	size_t i;
	int h;

	f->lo = f->mid = f->hi = -1;
	for (i = 0; i < c->n; i++) {
		widen(&tlo, &thi, c->t[i]);
		if (isfinite(c->t[i]))
			widen(&ylo, &yhi, c->v[i]);
	}
	if (c->H > 0 && c->Q > 0 && c->step_s > 0) {
		f->lo = io_chart_level(c->levels, c->Q, 0.1f);
		f->mid = io_chart_level(c->levels, c->Q, 0.5f);
		f->hi = io_chart_level(c->levels, c->Q, 0.9f);
		widen(&tlo, &thi, c->origin_t);
		widen(&tlo, &thi, c->origin_t + c->H * c->step_s);
		for (h = 0; h < c->H; h++) {
			const float *qh = c->q + (size_t)h * (size_t)c->Q;
			widen(&ylo, &yhi, (double)qh[f->lo]);
			widen(&ylo, &yhi, (double)qh[f->mid]);
			widen(&ylo, &yhi, (double)qh[f->hi]);
		}
	}
	if (!(tlo < thi)) {
		double t = isfinite(tlo) ? tlo : 0;
		tlo = t - 0.5;
		thi = t + 0.5;
	}
	if (!(ylo <= yhi)) {
		ylo = 0;
		yhi = 1;
	} else if (ylo == yhi) {
		double pad = fabs(ylo) > 0 ? fabs(ylo) * 0.1 : 1;
		ylo -= pad;
		yhi += pad;
	} else {
		double pad = (yhi - ylo) * 0.05;
		ylo -= pad;
		yhi += pad;
	}
	f->t0 = tlo;
	f->t1 = thi;
	f->y0 = ylo;
	f->y1 = yhi;
}

int io_chart_ticks(double a, double b, int target, double *out, int max)
{
	double span = b - a, raw, mag, step, inv, k;
	int n = 0;

	if (!(span > 0) || !isfinite(span) || target < 1 || max < 1)
		return 0;
	raw = span / target;
	mag = pow(10, floor(log10(raw)));
	/* The 1-2-5 step nearest the raw one. */
	if (raw / mag < 1.5)
		step = mag;
	else if (raw / mag < 3.5)
		step = 2 * mag;
	else if (raw / mag < 7.5)
		step = 5 * mag;
	else
		step = 10 * mag;
	/* Ticks as k * step, or k / (1 / step) for steps below 1 so that
	 * 3 x 0.2 prints as 0.6, not 0.6000000000000001. */
	inv = step < 1 ? round(1 / step) : 0;
	for (k = ceil(a / step - 1e-9); k <= floor(b / step + 1e-9) && n < max;
	     k++) {
		double x = inv > 0 ? k / inv : k * step;
		out[n++] = x == 0 ? 0 : x; /* no -0 */
	}
	return n;
}
