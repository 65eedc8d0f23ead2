/*
 * tools/cmd_plot.c: `statecast plot NAME -o FILE.svg|FILE.png`: fetches a
 * series' latest forecast (`info`) and its recent history (`history`) from
 * statecastd and draws them with tools/plot.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/client.h"
#include "tools/cmd.h"
#include "tools/plot.h"

int cmd_plot(int argc, char **argv); /* the table in tools/main.c */

#define USAGE                                                              \
	"plot NAME -o FILE.svg|FILE.png [--last N] [--size WxH]\n"         \
	"       [--rpc HOST:PORT | --socket PATH]\n"                       \
	"Draws the series' last N samples (default 500), its forecast "    \
	"median and\n80% band (quantiles 0.1 to 0.9); the format follows " \
	"the file name."

/* What the plot needs, copied out of the RPC responses (which are valid
 * only until the next call). */
typedef struct fetched {
	double t0, step;
	int H, Q;
	float *levels, *q, *mean; /* [Q], [H * Q], [H] */
	double *t, *v;		  /* [n] */
	size_t n;
} fetched;

static void fetched_release(fetched *f)
{
	free(f->levels);
	free(f->q);
	free(f->mean);
	free(f->t);
	free(f->v);
}

/* The forecast map of rpc_put_forecast(): quantiles [Q], values [Q][H],
 * mean [H]. 0, or -1 when malformed or out of memory. */
static int take_forecast(fetched *f, const rpc_val *fc)
{
	const rpc_val *lv = rpc_val_get(fc, "quantiles");
	const rpc_val *vals = rpc_val_get(fc, "values");
	const rpc_val *mean = rpc_val_get(fc, "mean");
	size_t Q = rpc_val_len(lv), H = rpc_val_len(mean), h, k;
	double x;

	if (!lv || !vals || !mean || Q == 0 || H == 0 || Q > 1000 ||
	    H > 100000 || rpc_val_len(vals) != Q)
		return -1;
	if (rpc_val_f64(rpc_val_get(fc, "t"), &f->t0) ||
	    rpc_val_f64(rpc_val_get(fc, "step"), &f->step))
		return -1;
	f->levels = malloc(Q * sizeof *f->levels);
	f->q = malloc(H * Q * sizeof *f->q);
	f->mean = malloc(H * sizeof *f->mean);
	if (!f->levels || !f->q || !f->mean)
		return -1;
	for (k = 0; k < Q; k++) {
		if (rpc_val_f64(rpc_val_at(lv, k), &x))
			return -1;
		f->levels[k] = (float)x;
		if (rpc_val_len(rpc_val_at(vals, k)) != H)
			return -1;
		for (h = 0; h < H; h++) {
			if (rpc_val_f64(rpc_val_at(rpc_val_at(vals, k), h), &x))
				return -1;
			f->q[h * Q + k] = (float)x;
		}
	}
	for (h = 0; h < H; h++) {
		if (rpc_val_f64(rpc_val_at(mean, h), &x))
			return -1;
		f->mean[h] = (float)x;
	}
	f->H = (int)H;
	f->Q = (int)Q;
	return 0;
}

/* The history result {series, points: [[t, v], ...]}. */
static int take_history(fetched *f, const rpc_val *r)
{
	const rpc_val *pts = rpc_val_get(r, "points");
	size_t n = rpc_val_len(pts), i;

	f->t = malloc((n ? n : 1) * sizeof *f->t);
	f->v = malloc((n ? n : 1) * sizeof *f->v);
	if (!f->t || !f->v)
		return -1;
	for (i = 0; i < n; i++) {
		const rpc_val *p = rpc_val_at(pts, i);
		if (rpc_val_f64(rpc_val_at(p, 0), &f->t[i]) ||
		    rpc_val_f64(rpc_val_at(p, 1), &f->v[i]))
			return -1;
	}
	f->n = n;
	return 0;
}

static int fetch(client *c, const char *name, long last, fetched *f)
{
	double last_t = NAN, step = 0;
	const rpc_val *fc;
	rpc_buf *b;
	rpc_msg r;

	b = client_begin(c, "info");
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "series");
	rpc_put_cstr(b, name);
	if (client_call(c, &r, NULL, NULL))
		return -1;
	rpc_val_f64(rpc_val_get(r.result, "last_t"), &last_t);
	rpc_val_f64(rpc_val_get(r.result, "step"), &step);
	fc = rpc_val_get(r.result, "forecast");
	if (fc && rpc_val_type(fc) == RPC_T_MAP && take_forecast(f, fc)) {
		fprintf(stderr, "statecast plot: malformed forecast\n");
		return -1;
	}
	b = client_begin(c, "history");
	/* The last N samples: from N steps before the last one when the
	 * step is known; else the oldest N the daemon holds. */
	if (step > 0 && isfinite(last_t)) {
		rpc_put_map(b, 3);
		rpc_put_cstr(b, "from");
		rpc_put_f64(b, last_t - (double)last * step);
	} else {
		rpc_put_map(b, 2);
	}
	rpc_put_cstr(b, "series");
	rpc_put_cstr(b, name);
	rpc_put_cstr(b, "limit");
	rpc_put_u64(b, (uint64_t)last);
	if (client_call(c, &r, NULL, NULL))
		return -1;
	if (take_history(f, r.result)) {
		fprintf(stderr, "statecast plot: malformed history\n");
		return -1;
	}
	return 0;
}

int cmd_plot(int argc, char **argv)
{
	static const char *const extra[] = {"-o", "--last", "--size", NULL};
	const char *val[3] = {NULL, NULL, NULL};
	int w = 960, h = 420, rc;
	long last = 500;
	client_opts o;
	fetched f;
	plot_data d;
	client c;

	rc = client_options(argc, argv, USAGE, &o, extra, val);
	if (rc)
		return rc;
	if (o.npos != 1 || !val[0] ||
	    (val[1] &&
	     ((last = strtol(val[1], NULL, 10)) < 1 || last > 10000000)) ||
	    (val[2] && sscanf(val[2], "%dx%d", &w, &h) != 2)) {
		fprintf(stderr, "usage: statecast %s\n", USAGE);
		return 2;
	}
	memset(&f, 0, sizeof f);
	if (client_connect(&c, &o))
		return 1;
	rc = fetch(&c, o.pos[0], last, &f);
	client_close(&c);
	if (rc) {
		fetched_release(&f);
		return 1;
	}
	memset(&d, 0, sizeof d);
	d.chart = (io_chart){f.t,      f.v, f.n,    f.H,  f.Q,
			     f.levels, f.q, f.mean, f.t0, f.step};
	d.title = o.pos[0];
	rc = plot_write(&d, val[0], w, h);
	if (rc)
		fprintf(stderr, "statecast plot: %s: %s\n", val[0],
			plot_strerror(rc));
	else
		printf("wrote %s: %zu samples, %s\n", val[0], f.n,
		       f.H ? "forecast band" : "no forecast yet");
	fetched_release(&f);
	plot_shutdown();
	return rc ? 1 : 0;
}
