/*
 * tools/show.c: tables and key/value lines for humans (see show.h).
 */
#include "tools/show.h"

#include <math.h>
#include <time.h>

#include "tools/client.h"

static void fmt_time(char *buf, size_t cap, double t)
{
	/* Before 1980 it is more likely an index than a date. */
	if (isfinite(t) && t >= 315532800.0 && t < 4e9) {
		time_t s = (time_t)t;
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		snprintf(buf, cap, "%.10g", t);
	}
}

void show_time(FILE *f, double t)
{
	char buf[40];

	fmt_time(buf, sizeof buf, t);
	fputs(buf, f);
}

void show_forecast(FILE *f, const rpc_val *fc)
{
	const rpc_val *lv = rpc_val_get(fc, "quantiles");
	const rpc_val *vals = rpc_val_get(fc, "values");
	const rpc_val *mean = rpc_val_get(fc, "mean");
	double t = client_num(fc, "t", NAN), step = client_num(fc, "step", 0);
	size_t Q = rpc_val_len(lv), H = rpc_val_len(mean), h, k;
	char name[512], buf[40];
	double x;

	fprintf(f, "%s  origin ", client_str(fc, "series", name, sizeof name));
	show_time(f, t);
	fprintf(f, "  step %gs\n%4s  %-20s", step, "h", "time");
	for (k = 0; k < Q; k++) {
		x = NAN;
		rpc_val_f64(rpc_val_at(lv, k), &x);
		snprintf(buf, sizeof buf, "q%g", x);
		fprintf(f, " %14s", buf);
	}
	fprintf(f, " %14s\n", "mean");
	for (h = 0; h < H; h++) {
		fmt_time(buf, sizeof buf, t + (double)(h + 1) * step);
		fprintf(f, "%4zu  %-20s", h + 1, buf);
		for (k = 0; k < Q; k++) {
			x = NAN;
			rpc_val_f64(rpc_val_at(rpc_val_at(vals, k), h), &x);
			fprintf(f, " %14.6g", x);
		}
		x = NAN;
		rpc_val_f64(rpc_val_at(mean, h), &x);
		fprintf(f, " %14.6g\n", x);
	}
}

void show_map(FILE *f, const rpc_val *map)
{
	size_t i, n = rpc_val_len(map);

	for (i = 0; i < n; i++) {
		rpc_str k;
		const rpc_val *v;
		double d;
		if (rpc_val_entry(map, i, &k, &v))
			continue;
		fprintf(f, "%.*s: ", (int)k.n, k.p);
		if (rpc_val_type(v) == RPC_T_FLOAT && rpc_val_f64(v, &d) == 0)
			fprintf(f, "%.10g", d);
		else if (rpc_val_type(v) == RPC_T_STR) {
			rpc_str s;
			rpc_val_str(v, &s);
			fprintf(f, "%.*s", (int)s.n, s.p);
		} else
			client_print_json(f, v);
		fputc('\n', f);
	}
}
