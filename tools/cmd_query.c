/*
 * tools/cmd_query.c: connect, call, print (see cmd_query.h), and the
 * commands that are nothing more: forecast, info, list, stats.
 */
#include "tools/cmd_query.h"

#include <math.h>

#include "tools/cmd.h"
#include "tools/show.h"

int query_args(int argc, char **argv, const char *usage, client_opts *o,
	       int min, int max)
{
	int rc = client_options(argc, argv, usage, o, NULL, NULL);

	if (rc)
		return rc;
	if (o->npos < min || o->npos > max) {
		fprintf(stderr, "usage: statecast %s\n", usage);
		return 2;
	}
	return 0;
}

int query_run(const client_opts *o, const char *method, query_put_fn put,
	      query_show_fn show)
{
	client c;
	rpc_msg r;
	rpc_buf *b;
	int rc;

	if (client_connect(&c, o))
		return 1;
	b = client_begin(&c, method);
	if (put)
		put(b, o);
	else
		rpc_put_map(b, 0);
	rc = client_call(&c, &r, NULL, NULL);
	if (rc == 0) {
		if (o->json) {
			client_print_json(stdout, r.result);
			putchar('\n');
		} else {
			show(stdout, r.result);
		}
	}
	client_close(&c);
	return rc ? 1 : 0;
}

void query_put_series(rpc_buf *b, const client_opts *o)
{
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "series");
	rpc_put_cstr(b, o->pos[0]);
}

#define OPTS "[--json] [--rpc HOST:PORT | --socket PATH]"

int cmd_forecast(int argc, char **argv)
{
	client_opts o;
	int rc = query_args(argc, argv, "forecast NAME " OPTS, &o, 1, 1);

	return rc ? rc
		  : query_run(&o, "forecast", query_put_series, show_forecast);
}

static void show_info(FILE *f, const rpc_val *r)
{
	size_t i, n = rpc_val_len(r);

	for (i = 0; i < n; i++) {
		rpc_str k;
		const rpc_val *v;
		if (rpc_val_entry(r, i, &k, &v) || rpc_str_eq(k, "forecast"))
			continue;
		fprintf(f, "%-11.*s ", (int)k.n, k.p);
		if (rpc_str_eq(k, "last_t")) {
			double t = NAN;
			rpc_val_f64(v, &t);
			show_time(f, t);
		} else if (rpc_val_type(v) == RPC_T_STR) {
			rpc_str s;
			rpc_val_str(v, &s);
			fprintf(f, "%.*s", (int)s.n, s.p);
		} else {
			client_print_json(f, v);
		}
		fputc('\n', f);
	}
	if (rpc_val_type(rpc_val_get(r, "forecast")) == RPC_T_MAP) {
		fputc('\n', f);
		show_forecast(f, rpc_val_get(r, "forecast"));
	}
}

int cmd_info(int argc, char **argv)
{
	client_opts o;
	int rc = query_args(argc, argv, "info NAME " OPTS, &o, 1, 1);

	return rc ? rc : query_run(&o, "info", query_put_series, show_info);
}

static void put_pattern(rpc_buf *b, const client_opts *o)
{
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "pattern");
	rpc_put_cstr(b, o->npos ? o->pos[0] : "*");
}

static void show_list(FILE *f, const rpc_val *r)
{
	const rpc_val *all = rpc_val_get(r, "series");
	size_t i, n = rpc_val_len(all);
	char name[1100];

	for (i = 0; i < n; i++) {
		const rpc_val *e = rpc_val_at(all, i);
		fprintf(f, "%-40s %10.0f  ",
			client_str(e, "series", name, sizeof name),
			client_num(e, "samples", 0));
		show_time(f, client_num(e, "last_t", NAN));
		/* After a crash restart: the stored samples it has not
		 * stepped yet (docs/RPC.md, list). */
		if (client_num(e, "catching_up", 0) > 0)
			fprintf(f, "  (catching up: %.0f to step)",
				client_num(e, "catching_up", 0));
		fputc('\n', f);
	}
	if (rpc_val_type(rpc_val_get(r, "truncated")) == RPC_T_BOOL &&
	    client_num(r, "total", 0) > (double)n)
		fprintf(f, "(%zu of %.0f shown)\n", n,
			client_num(r, "total", 0));
	if (client_num(r, "catching_up", 0) > 0)
		fprintf(
		    f,
		    "(%.0f still catching up after a restart: their "
		    "samples are stored, their forecasts not yet current)\n",
		    client_num(r, "catching_up", 0));
}

int cmd_list(int argc, char **argv)
{
	client_opts o;
	int rc = query_args(argc, argv, "list [PATTERN] " OPTS, &o, 0, 1);

	return rc ? rc : query_run(&o, "list", put_pattern, show_list);
}

int cmd_stats(int argc, char **argv)
{
	client_opts o;
	int rc = query_args(argc, argv, "stats " OPTS, &o, 0, 0);

	return rc ? rc : query_run(&o, "stats", NULL, show_map);
}
