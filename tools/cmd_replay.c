/*
 * tools/cmd_replay.c: `statecast replay FILE.csv`: step a model through a
 * CSV offline, one sample at a time, and print the final forecast in the
 * daemon's `forecast` map. Same model choice (io/model_open.h), same
 * learned step (ssm/nominal.h), same dropping of out-of-order rows as
 * statecastd, so for the same CSV and settings the two agree bit for bit;
 * the integration tests hold them to that.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_open.h"
#include "io/rpc_forecast.h"
#include "ssm/nominal.h"
#include "tools/client.h"
#include "tools/cmd.h"
#include "tools/cmd_query.h"
#include "tools/csv.h"
#include "tools/show.h"

typedef struct replay {
	const ssm_model *m;
	float *state, *q, *mean;
	void *ws;
	double step;
	int period;
	int horizon; /* horizons printed, 0 = all */
	ssm_sample learn[SSM_LEARN_MAX];
	int nlearn;
	long stepped;
	double origin;
} replay;

static int step_one(replay *r, double t, double v)
{
	ssm_sample in = {t, v};
	ssm_forecast out = {0, r->q, r->mean, 0};
	float *st = r->state;
	int rc = ssm_model_step_batch(r->m, 1, &st, &in, &out, NULL, r->ws);

	if (rc < 0)
		return rc;
	r->stepped++;
	r->origin = t;
	return 0;
}

/* The state exists once the step is known: given, or learned as the daemon
 * learns it from its first SSM_LEARN_SAMPLES samples. */
static int add(replay *r, double t, double v)
{
	double ts[SSM_LEARN_MAX];
	int i, rc;

	if (r->step > 0 && r->nlearn == 0 && r->stepped)
		return step_one(r, t, v);
	r->learn[r->nlearn].t = t;
	r->learn[r->nlearn++].value = v;
	if (r->step <= 0 && r->nlearn < SSM_LEARN_SAMPLES)
		return 0;
	if (r->step <= 0) {
		for (i = 0; i < r->nlearn; i++)
			ts[i] = r->learn[i].t;
		r->step = ssm_nominal_step(ts, r->nlearn);
	}
	rc = ssm_state_init(r->m, r->state, r->period, r->step);
	for (i = 0; !rc && i < r->nlearn; i++)
		rc = step_one(r, r->learn[i].t, r->learn[i].value);
	r->nlearn = 0;
	return rc;
}

static int output(const replay *r, const char *name, int json)
{
	rpc_buf b;
	rpc_dec *d = rpc_dec_new();
	rpc_msg m;
	int rc;

	/* Encoded and decoded like a daemon response, so the printed map is
	 * the same bytes' worth of floats as `statecast forecast` shows. */
	rpc_buf_init(&b, 64u << 20);
	rpc_put_result(&b, 0);
	rpc_put_forecast(&b, r->m, name, r->origin, r->step, r->q, r->mean,
			 r->horizon, 0);
	rc = d && !b.err ? rpc_decode(d, b.p, b.len, &m) : RPC_ENOMEM;
	if (rc == 0) {
		if (json) {
			client_print_json(stdout, m.result);
			putchar('\n');
		} else {
			show_forecast(stdout, m.result);
		}
	}
	rpc_buf_release(&b);
	if (d)
		rpc_dec_free(d);
	return rc ? 1 : 0;
}

int cmd_replay(int argc, char **argv)
{
	const char *usage =
	    "replay FILE.csv [--model PATH] [--step S] [--period P] "
	    "[--horizon H] [--name NAME] [--json]\n"
	    "  steps the model through the CSV (header t,value) one sample "
	    "at a time\n  and prints the last forecast; the step is learned "
	    "as statecastd learns it\n  unless given; the model is PATH "
	    "(default models/default.model), or the\n  untrained default "
	    "when that file is absent";
	static const char *const extra[] = {"--model", "--step",    "--period",
					    "--name",  "--horizon", NULL};
	const char *ev[5] = {NULL, NULL, NULL, NULL, NULL};
	const char *model_path;
	client_opts o;
	csv_reader in;
	replay r;
	ssm_model *m = NULL;
	char msg[256];
	double t, v, last = -INFINITY;
	int is_default, rc = client_options(argc, argv, usage, &o, extra, ev);

	if (rc)
		return rc;
	if (o.npos != 1) {
		fprintf(stderr, "usage: statecast %s\n", usage);
		return 2;
	}
	model_path = ev[0] ? ev[0] : "models/default.model";
	if (io_model_open(model_path, &m, &is_default, msg, sizeof msg)) {
		fprintf(stderr, "statecast: %s: %s\n", model_path, msg);
		return 1;
	}
	memset(&r, 0, sizeof r);
	r.m = m;
	r.step = ev[1] ? atof(ev[1]) : 0;
	r.period = ev[2] ? atoi(ev[2]) : 1;
	r.horizon = ev[4] ? atoi(ev[4]) : 0;
	r.state = malloc(ssm_model_state_floats(m) * sizeof *r.state);
	r.q = malloc((size_t)(ssm_model_horizon(m) * ssm_model_nquantiles(m)) *
		     sizeof *r.q);
	r.mean = malloc((size_t)ssm_model_horizon(m) * sizeof *r.mean);
	r.ws = malloc(ssm_model_workspace_bytes(m, 1) + 1);
	rc = !r.state || !r.q || !r.mean || !r.ws;
	if (!rc && csv_open(&in, o.pos[0])) {
		fprintf(stderr, "statecast: cannot open %s: %s\n", o.pos[0],
			strerror(errno));
		rc = 1;
	} else if (!rc) {
		int k;
		while ((k = csv_next(&in, &t, &v)) != 0 && !rc) {
			/* The daemon drops what it would drop. */
			if (k < 0 || !isfinite(t) || !isfinite(v) || t <= last)
				continue;
			last = t;
			rc = add(&r, t, v) ? 1 : 0;
		}
		csv_close(&in);
	}
	if (!rc && r.stepped == 0) {
		fprintf(stderr,
			"statecast: %s: too few samples for a "
			"forecast\n",
			o.pos[0]);
		rc = 1;
	}
	if (!rc)
		rc = output(&r, ev[3] ? ev[3] : o.pos[0], o.json);
	free(r.state);
	free(r.q);
	free(r.mean);
	free(r.ws);
	ssm_model_free(m);
	return rc;
}
