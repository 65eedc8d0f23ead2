/*
 * tools/cmd_push.c: `statecast push NAME VALUE [T]` and
 * `statecast send FILE.csv NAME`: samples into the daemon over RPC `push`,
 * acknowledged once the daemon has them (stored, once the store lands).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmd.h"
#include "tools/cmd_query.h"
#include "tools/csv.h"

/* Samples per `push` call when streaming a file. */
#define SEND_BATCH 1000

typedef struct tally {
	unsigned long sent, accepted, rejected;
	int shown; /* rejection reasons printed */
} tally;

/* Sends the request begun on c (n triples) and adds up its reply. 0, or 1
 * when the call failed (already reported). rows[i] is the CSV line of
 * triple i (NULL for push). */
static int push_call(client *c, tally *y, unsigned long n, const long *rows)
{
	rpc_msg r;
	const rpc_val *rej;
	size_t i;

	if (client_call(c, &r, NULL, NULL))
		return 1;
	y->sent += n;
	y->accepted += (unsigned long)client_num(r.result, "accepted", 0);
	rej = rpc_val_get(r.result, "rejected");
	y->rejected += rpc_val_len(rej);
	for (i = 0; i < rpc_val_len(rej) && y->shown < 5; i++, y->shown++) {
		const rpc_val *e = rpc_val_at(rej, i);
		char why[128];
		double idx = client_num(e, "index", 0);
		client_str(e, "reason", why, sizeof why);
		if (rows)
			fprintf(stderr, "statecast: line %ld rejected: %s\n",
				rows[(size_t)idx], why);
		else
			fprintf(stderr, "statecast: rejected: %s\n", why);
	}
	return 0;
}

static void put_triple(rpc_buf *b, const char *name, double t, double v)
{
	rpc_put_array(b, 3);
	rpc_put_cstr(b, name);
	rpc_put_f64(b, t);
	rpc_put_f64(b, v);
}

static int report(const client_opts *o, const tally *y, const char *name)
{
	if (o->json)
		printf("{\"series\":\"%s\",\"sent\":%lu,\"accepted\":%lu,"
		       "\"rejected\":%lu}\n",
		       name, y->sent, y->accepted, y->rejected);
	else
		printf("%s: %lu sent, %lu accepted, %lu rejected\n", name,
		       y->sent, y->accepted, y->rejected);
	return y->rejected ? 1 : 0;
}

static int parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno ? -1 : 0;
}

int cmd_push(int argc, char **argv)
{
	const char *usage = "push NAME VALUE [T] [--json] "
			    "[--rpc HOST:PORT | --socket PATH]\n"
			    "  T in Unix seconds; absent, -1 or 0 = now";
	client_opts o;
	client c;
	rpc_buf *b;
	tally y = {0, 0, 0, 0};
	double v, t = 0;
	int rc = query_args(argc, argv, usage, &o, 2, 3);

	if (rc)
		return rc;
	if (parse_num(o.pos[1], &v) ||
	    (o.npos == 3 && parse_num(o.pos[2], &t))) {
		fprintf(stderr, "statecast: VALUE and T must be numbers\n");
		return 2;
	}
	if (client_connect(&c, &o))
		return 1;
	b = client_begin(&c, "push");
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "samples");
	rpc_put_array(b, 1);
	put_triple(b, o.pos[0], t, v);
	rc = push_call(&c, &y, 1, NULL);
	client_close(&c);
	return rc ? 1 : report(&o, &y, o.pos[0]);
}

/* Pushes the n buffered rows as one call. */
static int flush(client *c, tally *y, const char *name, const double *tv,
		 const long *rows, unsigned long n)
{
	rpc_buf *b = client_begin(c, "push");
	unsigned long i;

	rpc_put_map(b, 1);
	rpc_put_cstr(b, "samples");
	rpc_put_array(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		put_triple(b, name, tv[2 * i], tv[2 * i + 1]);
	return push_call(c, y, n, rows);
}

int cmd_send(int argc, char **argv)
{
	const char *usage = "send FILE.csv NAME [--json] "
			    "[--rpc HOST:PORT | --socket PATH]\n"
			    "  FILE.csv: header t,value then rows; - = stdin";
	static long rows[SEND_BATCH];
	static double tv[2 * SEND_BATCH];
	client_opts o;
	client c;
	csv_reader in;
	tally y = {0, 0, 0, 0};
	unsigned long n = 0, bad = 0;
	int rc = query_args(argc, argv, usage, &o, 2, 2), r;

	if (rc)
		return rc;
	if (csv_open(&in, o.pos[0])) {
		fprintf(stderr, "statecast: cannot open %s: %s\n", o.pos[0],
			strerror(errno));
		return 1;
	}
	if (client_connect(&c, &o)) {
		csv_close(&in);
		return 1;
	}
	while (!rc && (r = csv_next(&in, &tv[2 * n], &tv[2 * n + 1])) != 0) {
		if (r < 0) {
			if (bad++ < 5)
				fprintf(stderr,
					"statecast: %s:%ld: not a t,value "
					"row, skipped\n",
					o.pos[0], in.line);
			continue;
		}
		rows[n++] = in.line;
		if (n == SEND_BATCH) {
			rc = flush(&c, &y, o.pos[1], tv, rows, n);
			n = 0;
		}
	}
	if (!rc && n > 0)
		rc = flush(&c, &y, o.pos[1], tv, rows, n);
	csv_close(&in);
	client_close(&c);
	return rc ? 1 : report(&o, &y, o.pos[1]) | (bad ? 1 : 0);
}
