/*
 * tools/cmd_watch.c: `statecast watch PATTERN`: subscribe and print each
 * pushed forecast and anomaly as it comes, one line each (--json: one
 * JSON object {"method": ..., "params": ...} per line).
 */
#include <math.h>
#include <stdlib.h>

#include "tools/cmd.h"
#include "tools/cmd_query.h"
#include "tools/show.h"

static void print_note(const client_opts *o, const rpc_msg *m)
{
	const rpc_val *p = m->params;
	char name[1100];

	if (o->json) {
		printf("{\"method\":\"%.*s\",\"params\":", (int)m->method.n,
		       m->method.p);
		client_print_json(stdout, p);
		printf("}\n");
	} else if (rpc_str_eq(m->method, "forecast")) {
		const rpc_val *v = rpc_val_get(p, "values");
		size_t Q = rpc_val_len(v);
		double lo = NAN, mid = NAN, hi = NAN;
		rpc_val_f64(rpc_val_at(rpc_val_at(v, 0), 0), &lo);
		rpc_val_f64(rpc_val_at(rpc_val_at(v, Q / 2), 0), &mid);
		rpc_val_f64(rpc_val_at(rpc_val_at(v, Q ? Q - 1 : 0), 0), &hi);
		printf("forecast %s ",
		       client_str(p, "series", name, sizeof name));
		show_time(stdout, client_num(p, "t", NAN));
		printf("  next %.6g [%.6g, %.6g]\n", mid, lo, hi);
	} else if (rpc_str_eq(m->method, "anomaly")) {
		printf("anomaly  %s ",
		       client_str(p, "series", name, sizeof name));
		show_time(stdout, client_num(p, "t", NAN));
		printf("  value %.6g outside [%.6g, %.6g] score %.3g\n",
		       client_num(p, "value", NAN), client_num(p, "lower", NAN),
		       client_num(p, "upper", NAN),
		       client_num(p, "score", NAN));
	}
	fflush(stdout);
}

typedef struct watch {
	const client_opts *o;
	long seen, max;
} watch;

static void on_note(void *ctx, const rpc_msg *m)
{
	watch *w = ctx;

	print_note(w->o, m);
	w->seen++;
}

int cmd_watch(int argc, char **argv)
{
	const char *usage = "watch PATTERN [--count N] [--json] "
			    "[--rpc HOST:PORT | --socket PATH]\n"
			    "  prints pushed forecasts and anomalies of the "
			    "series matching the glob; --count N stops after N";
	static const char *const extra[] = {"--count", NULL};
	const char *count = NULL;
	client_opts o;
	client c;
	rpc_msg r;
	rpc_buf *b;
	watch w;
	int rc = client_options(argc, argv, usage, &o, extra, &count);

	if (rc)
		return rc;
	if (o.npos != 1) {
		fprintf(stderr, "usage: statecast %s\n", usage);
		return 2;
	}
	w.o = &o;
	w.seen = 0;
	w.max = count ? atol(count) : -1;
	if (client_connect(&c, &o))
		return 1;
	b = client_begin(&c, "subscribe");
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "pattern");
	rpc_put_cstr(b, o.pos[0]);
	rc = client_call(&c, &r, on_note, &w);
	if (rc == 0) {
		fprintf(stderr, "statecast: watching %s (subscription %.0f)\n",
			o.pos[0], client_num(r.result, "subscription", 0));
		while (w.max < 0 || w.seen < w.max) {
			if (client_next(&c, &r)) {
				fprintf(stderr,
					"statecast: %s closed the "
					"connection\n",
					c.where);
				rc = 1;
				break;
			}
			on_note(&w, &r);
		}
	}
	client_close(&c);
	return rc ? 1 : 0;
}
