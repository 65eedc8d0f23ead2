/*
 * daemon/rpc_methods.c: decoding of requests and the methods themselves
 * (see methods.h; the reference is docs/RPC.md).
 */
#include "daemon/methods.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fresh.h"
#include "daemon/history_read.h"
#include "daemon/log.h"
#include "daemon/order.h"
#include "daemon/pages.h" /* SRV_PAGES_CATCHUP */
#include "daemon/persist.h"
#include "daemon/reader.h"
#include "daemon/server.h"
#include "daemon/sink.h"
#include "daemon/topk.h"
#include "io/graphite.h"
#include "io/rpc_forecast.h"

/* A push waiting for its samples to reach the sink. */
struct srv_push {
	srv_conn *c; /* referenced until the reply is sent */
	uint32_t id;
	uint32_t accepted;
	uint32_t nrej;
	struct {
		uint32_t index;
		int code;
		/* A new series refused by limits.max_series is named in the
		 * reply: a copy, as the frame is gone by then (or NULL). */
		char *series;
		size_t series_n;
	} * rej;
};

typedef struct req {
	srv *s;
	srv_conn *c;
	const rpc_msg *m;
	rpc_buf *b;
	char msg[256]; /* error message */
} req;

enum { DEFERRED = -1 };

/* Records an error reply; returns its wire code for the handler to pass
 * up. */
__attribute__((format(printf, 3, 4))) static int fail(req *r, int code,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	return code;
}

static void put_kv_str(rpc_buf *b, const char *k, const char *v)
{
	rpc_put_cstr(b, k);
	rpc_put_cstr(b, v);
}

static void put_kv_u64(rpc_buf *b, const char *k, uint64_t v)
{
	rpc_put_cstr(b, k);
	rpc_put_u64(b, v);
}

static void put_kv_f64(rpc_buf *b, const char *k, double v)
{
	rpc_put_cstr(b, k);
	rpc_put_f64(b, v);
}

/* ---- parameters ------------------------------------------------------ */

/* A string parameter by name, or positional 0 when params is [str]. */
static const rpc_val *named_or_first(const rpc_msg *m, const char *name,
				     rpc_type want)
{
	const rpc_val *v = rpc_param(m, name);

	if (!v) {
		v = rpc_param_at(m, 0);
		if (rpc_val_type(v) != want)
			v = NULL;
	}
	return v;
}

/*
 * A series by the name a client gave: its canonical form first (tags in any
 * order find the series), then the name as given (a name the Graphite rules
 * refuse may still have come in over Influx).
 */
static srv_series *find_named(srv *s, const char *p, size_t n)
{
	long nl = io_graphite_name(p, n, &s->set.lines, s->name_buf,
				   s->set.lines.max_name + 1);
	srv_series *se = NULL;

	if (nl > 0)
		se = srv_registry_find(&s->reg, s->name_buf, (size_t)nl);
	return se ? se : srv_registry_find(&s->reg, p, n);
}

static int series_param(req *r, srv_series **out)
{
	rpc_str name;
	const rpc_val *v = named_or_first(r->m, "series", RPC_T_STR);

	if (rpc_val_str(v, &name))
		return fail(r, RPC_CODE_PARAMS,
			    "expected parameter 'series' (string)");
	*out = find_named(r->s, name.p, name.n);
	if (!*out)
		return fail(r, RPC_CODE_NOTFOUND, "no series '%.*s'",
			    (int)(name.n > 200 ? 200 : name.n), name.p);
	/* Restored behind its stored samples: stepped first. */
	srv_persist_catch_up(r->s, *out, 1);
	return 0;
}

/* An optional number parameter; def when absent. */
static int num_param(req *r, const char *name, double def, double *out)
{
	const rpc_val *v = rpc_param(r->m, name);

	*out = def;
	if (!v || rpc_val_type(v) == RPC_T_NIL)
		return 0;
	if (rpc_val_f64(v, out))
		return fail(r, RPC_CODE_PARAMS,
			    "parameter '%s': expected a "
			    "number",
			    name);
	return 0;
}

static int bool_param(req *r, const char *name, int def, int *out)
{
	const rpc_val *v = rpc_param(r->m, name);

	*out = def;
	if (!v || rpc_val_type(v) == RPC_T_NIL)
		return 0;
	if (rpc_val_bool(v, out))
		return fail(r, RPC_CODE_PARAMS,
			    "parameter '%s': expected a "
			    "boolean",
			    name);
	return 0;
}

/* The glob parameter as a NUL-terminated copy (caller frees); "*" when
 * absent and optional. */
static int pattern_param(req *r, int required, char **out)
{
	rpc_str p = {"*", 1};
	const rpc_val *v = named_or_first(r->m, "pattern", RPC_T_STR);

	if (v ? rpc_val_str(v, &p) != 0 : required)
		return fail(r, RPC_CODE_PARAMS,
			    "expected parameter 'pattern' (glob string)");
	*out = strndup(p.p, p.n);
	if (!*out)
		return fail(r, RPC_CODE_INTERNAL, "out of memory");
	return 0;
}

/* ---- shared maps ----------------------------------------------------- */

void srv_put_forecast(rpc_buf *b, srv *s, srv_series *se, uint64_t sub)
{
	srv_forecast_fresh(s, se);
	rpc_put_forecast(b, s->model, se->name, se->f_t, se->step_s, se->fq,
			 se->fmean, se->horizon, sub);
}

void srv_put_anomaly(rpc_buf *b, const srv *s, const srv_series *se, double t,
		     double value, float score, uint64_t sub)
{
	double lo = NAN, hi = NAN;
	int h = srv_forecast_interval(s->model, se, t, &lo, &hi);

	rpc_put_map(b, 9);
	put_kv_str(b, "series", se->name);
	put_kv_f64(b, "t", t);
	put_kv_f64(b, "value", value);
	rpc_put_cstr(b, "score");
	rpc_put_f32(b, score);
	put_kv_f64(b, "lower", lo);
	put_kv_f64(b, "upper", hi);
	put_kv_f64(b, "origin", se->f_t);
	put_kv_u64(b, "horizon", (uint64_t)h);
	put_kv_u64(b, "subscription", sub);
}

/* ---- methods --------------------------------------------------------- */

static int m_ping(req *r)
{
	rpc_put_map(r->b, 3);
	rpc_put_cstr(r->b, "pong");
	rpc_put_bool(r->b, 1);
	put_kv_str(r->b, "version", SRV_VERSION);
	put_kv_f64(r->b, "t", srv_now());
	return 0;
}

static int m_forecast(req *r)
{
	srv_series *se;
	int rc = series_param(r, &se);

	if (rc)
		return rc;
	if (!se->has_forecast)
		return fail(r, RPC_CODE_UNAVAILABLE,
			    "series '%s' has no forecast yet (%d samples "
			    "seen while learning its step)",
			    se->name, se->n_learn);
	srv_put_forecast(r->b, r->s, se, 0);
	return 0;
}

static int m_info(req *r)
{
	srv_series *se;
	char hash[24];
	int rc = series_param(r, &se);

	if (rc)
		return rc;
	snprintf(hash, sizeof hash, "%016" PRIx64, ssm_model_hash(r->s->model));
	size_t map = rpc_map_begin(r->b);
	put_kv_str(r->b, "series", se->name);
	put_kv_str(r->b, "model", r->s->model_desc);
	put_kv_str(r->b, "model_hash", hash);
	put_kv_u64(r->b, "period", (uint64_t)se->period);
	put_kv_f64(r->b, "step", se->step_s);
	put_kv_u64(r->b, "horizon",
		   (uint64_t)(se->horizon ? se->horizon
					  : ssm_model_horizon(r->s->model)));
	rpc_put_cstr(r->b, "learning");
	rpc_put_bool(r->b, se->state == NULL);
	put_kv_u64(r->b, "samples", se->n_samples);
	put_kv_u64(r->b, "dropped", se->n_dropped);
	put_kv_u64(r->b, "irregular", se->n_irregular);
	put_kv_u64(r->b, "resets", se->n_resets);
	put_kv_u64(r->b, "anomalies", se->n_anomalies);
	put_kv_u64(r->b, "forecasts", se->n_forecasts);
	put_kv_f64(r->b, "last_t", se->n_samples ? se->last_t : NAN);
	put_kv_f64(r->b, "last_value", se->last_value);
	rpc_put_cstr(r->b, "anomaly");
	rpc_put_f32(r->b, se->anomaly);
	put_kv_u64(r->b, "history", se->hist ? se->hist->n : 0);
	/* CRC-32C of the state block: equal states, equal CRCs (recovery
	 * tests compare a restarted daemon with one that never stopped). */
	put_kv_u64(r->b, "state_crc",
		   se->state ? io_crc32c(0, se->state,
					 ssm_model_state_floats(r->s->model) *
					     sizeof(float))
			     : 0);
	rpc_put_cstr(r->b, "forecast");
	if (se->has_forecast)
		srv_put_forecast(r->b, r->s, se, 0);
	else
		rpc_put_nil(r->b);
	rpc_map_end(r->b, map);
	return 0;
}

static int name_before(const srv_series *a, const srv_series *b)
{
	return strcmp(a->name, b->name) < 0;
}

/*
 * The first cap series matching pat in name order, into h (cap entries,
 * caller-owned), sorted; how many there are (at most cap) is returned and
 * every match is counted in *total. A list "*" at 1M series with the
 * default limit of 10,000 would otherwise sort all 1M matches on the loop
 * thread (0.3-0.46 s with every client waiting, tidy6's note): a bounded
 * heap (daemon/topk.h) keeps the first cap, and a match after the last name
 * kept (nearly all) costs one strcmp. Names are unique in the registry, so
 * the selection is the prefix a full sort gives.
 */
static size_t first_by_name(const srv_registry *g, const char *pat,
			    srv_series **h, size_t cap, size_t *total)
{
	size_t i, n = 0;
	srv_topk t;

	srv_topk_init(&t, h, cap, name_before);
	for (i = 0; i < g->n; i++) {
		srv_series *se = g->all[i];

		if (fnmatch(pat, se->name, 0) != 0)
			continue;
		n++;
		srv_topk_add(&t, se);
	}
	*total = n;
	return srv_topk_sort(&t);
}

/*
 * After a crash restart, the listed series still behind their stored
 * samples (daemon/persist.h) would show their record's counts: up to
 * SRV_PAGES_CATCHUP of their samples are stepped now, in name order (one
 * tick); the series beyond that budget are left to the background
 * catch-up and marked in the reply (put_listed), so a list "*" at 1M
 * series does not hold the loop (and every other client) for the seconds
 * stepping them all takes. Only the l[0..n) returned are stepped: the
 * rest count in total alone. 0, or -1 when out of memory.
 */
static int catch_up_listed(srv *s, srv_series *const *l, size_t n)
{
	srv_series **step;
	size_t i, nstep = 0, budget = SRV_PAGES_CATCHUP, nb;
	double t;

	if (!s->st.behind_series)
		return 0;
	step = malloc((n + 1) * sizeof *step);
	if (!step)
		return -1;
	for (i = 0; i < n && budget > 0; i++)
		if (srv_persist_behind(s, l[i], &nb, &t) && nb <= budget) {
			budget -= nb;
			step[nstep++] = l[i];
		}
	if (nstep)
		srv_persist_catch_up_list(s, step, nstep);
	free(step);
	return 0;
}

/* One entry of a list reply. A series still catching up (catch_up_listed)
 * shows what it holds once its stored samples are stepped (its record's
 * count plus them, the last one's time) and "catching_up": the samples
 * still to step. 1 when so marked. */
static int put_listed(srv *s, rpc_buf *b, const srv_series *se)
{
	size_t nb = 0;
	double t;
	int late = s->st.behind_series && srv_persist_behind(s, se, &nb, &t);

	rpc_put_map(b, late ? 4 : 3);
	put_kv_str(b, "series", se->name);
	put_kv_u64(b, "samples", se->n_samples + (late ? nb : 0));
	put_kv_f64(b, "last_t", late ? t : se->last_t);
	if (late)
		put_kv_u64(b, "catching_up", nb);
	return late;
}

static int m_list(req *r)
{
	srv_registry *g = &r->s->reg;
	srv_series **hit;
	size_t i, n = 0, cap, limit, late = 0;
	double lim;
	char *pat;
	int rc = pattern_param(r, 0, &pat);

	if (rc)
		return rc;
	if ((rc = num_param(r, "limit", 10000, &lim))) {
		free(pat);
		return rc;
	}
	/* A negative or NaN limit, or one past the registry, returns every
	 * match. */
	cap = lim >= 0 && lim < (double)g->n ? (size_t)lim : g->n;
	hit = malloc((cap + 1) * sizeof *hit);
	if (!hit) {
		free(pat);
		return fail(r, RPC_CODE_INTERNAL, "out of memory");
	}
	limit = first_by_name(g, pat, hit, cap, &n);
	free(pat);
	if (catch_up_listed(r->s, hit, limit)) {
		free(hit);
		return fail(r, RPC_CODE_INTERNAL, "out of memory");
	}
	rpc_put_map(r->b, 4);
	rpc_put_cstr(r->b, "series");
	rpc_put_array(r->b, (uint32_t)limit);
	for (i = 0; i < limit; i++)
		late += (size_t)put_listed(r->s, r->b, hit[i]);
	put_kv_u64(r->b, "total", n);
	rpc_put_cstr(r->b, "truncated");
	rpc_put_bool(r->b, limit < n);
	put_kv_u64(r->b, "catching_up", late);
	free(hit);
	return 0;
}

static void count_point(void *arg, double t, double v)
{
	(void)t;
	(void)v;
	(void)arg;
}

static void put_point(void *arg, double t, double v)
{
	rpc_buf *b = arg;

	rpc_put_array(b, 2);
	rpc_put_f64(b, t);
	rpc_put_f64(b, v);
}

static int m_history(req *r)
{
	srv_series *se;
	double from, to, lim;
	size_t n, max;
	int rc = series_param(r, &se);

	if (rc || (rc = num_param(r, "from", -INFINITY, &from)) ||
	    (rc = num_param(r, "to", INFINITY, &to)) ||
	    (rc = num_param(r, "limit", 100000, &lim)))
		return rc;
	max = lim >= 0 && lim < 1e7 ? (size_t)lim : 10000000;
	/* With the store, the read runs on the read thread (reader.h). */
	if (se->store_id && max > 0 && srv_reader_on(r->s)) {
		rc = srv_history_defer(r->s, r->c, r->m->id, se, from, to, max,
				       r->msg, sizeof r->msg);
		return rc ? rc : DEFERRED;
	}
	n = srv_sink_history(r->s, se, from, to, max, count_point, NULL);
	rpc_put_map(r->b, 2);
	put_kv_str(r->b, "series", se->name);
	rpc_put_cstr(r->b, "points");
	rpc_put_array(r->b, (uint32_t)n);
	srv_sink_history(r->s, se, from, to, n, put_point, r->b);
	return 0;
}

static int m_subscribe(req *r)
{
	int fc, an, rc;
	char *pat;
	uint64_t id;

	if ((rc = pattern_param(r, 1, &pat)))
		return rc;
	if ((rc = bool_param(r, "forecasts", 1, &fc)) ||
	    (rc = bool_param(r, "anomalies", 1, &an))) {
		free(pat);
		return rc;
	}
	id = srv_subscribe(r->s, r->c, pat, strlen(pat), fc, an);
	free(pat);
	if (!id)
		return fail(r, RPC_CODE_INTERNAL, "out of memory");
	rpc_put_map(r->b, 1);
	put_kv_u64(r->b, "subscription", id);
	return 0;
}

static int m_unsubscribe(req *r)
{
	const rpc_val *v = named_or_first(r->m, "subscription", RPC_T_INT);
	int64_t id;

	if (rpc_val_i64(v, &id) || id <= 0)
		return fail(r, RPC_CODE_PARAMS,
			    "expected parameter 'subscription' (id > 0)");
	if (srv_unsubscribe(r->s, r->c, (uint64_t)id))
		return fail(r, RPC_CODE_NOTFOUND,
			    "no subscription %" PRId64 " on this connection",
			    id);
	rpc_put_map(r->b, 1);
	put_kv_u64(r->b, "subscription", (uint64_t)id);
	return 0;
}

static int m_drop(req *r)
{
	srv_series *se;
	int rc = series_param(r, &se);

	if (rc)
		return rc;
	srv_log(LOG_INFO, "series %s dropped by request", se->name);
	rpc_put_map(r->b, 2);
	put_kv_str(r->b, "series", se->name);
	rpc_put_cstr(r->b, "dropped");
	rpc_put_bool(r->b, 1);
	srv_persist_drop(r->s, se);
	srv_registry_drop(&r->s->reg, se);
	return 0;
}

static int m_stats(req *r)
{
	const srv_stats *t = &r->s->st;
	size_t nconn = 0;
	srv_conn *c;

	for (c = r->s->conns; c; c = c->next)
		nconn++;
	store_stats ss;
	int has_store = srv_persist_stats(r->s, &ss) == 0;
	uint64_t reads_run, reads_busy;
	size_t reads_queued;

	size_t map = rpc_map_begin(r->b);
	srv_reader_counts(r->s, &reads_run, &reads_busy, &reads_queued);
	put_kv_str(r->b, "version", SRV_VERSION);
	put_kv_str(r->b, "model", r->s->model_desc);
	put_kv_f64(r->b, "uptime", srv_now() - r->s->started);
	put_kv_u64(r->b, "series", r->s->reg.n);
	put_kv_u64(r->b, "subscriptions", r->s->subs.n);
	put_kv_u64(r->b, "clients", nconn);
	put_kv_u64(r->b, "lines", t->lines);
	put_kv_u64(r->b, "lines_bad", t->lines_bad);
	put_kv_u64(r->b, "lines_long", t->lines_long);
	put_kv_u64(r->b, "samples", t->samples);
	put_kv_u64(r->b, "stepped", t->stepped);
	put_kv_u64(r->b, "rejected", t->rejected);
	put_kv_u64(r->b, "out_of_order", t->out_of_order);
	put_kv_u64(r->b, "irregular", t->irregular);
	put_kv_u64(r->b, "resets", t->resets);
	put_kv_u64(r->b, "anomalies", t->anomalies);
	put_kv_u64(r->b, "forecasts", t->forecasts);
	put_kv_u64(r->b, "ticks", t->ticks);
	put_kv_u64(r->b, "batches", t->batches);
	put_kv_u64(r->b, "batch_max", t->batch_max);
	put_kv_u64(r->b, "threads", (uint64_t)r->s->tick.pool.nthreads);
	put_kv_u64(r->b, "pool_rounds", t->pool_rounds);
	put_kv_f64(r->b, "pool_wake_us", r->s->tick.pool.wake_s * 1e6);
	put_kv_u64(r->b, "pool_spin_hits", r->s->tick.pool.spin_hits);
	put_kv_u64(r->b, "pool_helper_sleeps", r->s->tick.pool.helper_sleeps);
	put_kv_u64(r->b, "pool_caller_sleeps", r->s->tick.pool.caller_sleeps);
	put_kv_f64(r->b, "step_row_us", r->s->tick.row_s * 1e6);
	put_kv_u64(r->b, "tick_max", t->tick_max);
	put_kv_u64(r->b, "tick_paused", t->tick_paused);
	put_kv_f64(r->b, "tick_wall_s", t->tick_wall_s);
	put_kv_f64(r->b, "tick_cpu_s", t->tick_cpu_s);
	put_kv_u64(r->b, "rpc_requests", t->rpc_requests);
	put_kv_u64(r->b, "rpc_errors", t->rpc_errors);
	put_kv_u64(r->b, "notifications", t->notifications);
	put_kv_u64(r->b, "connections", t->connections);
	put_kv_u64(r->b, "slow_clients", t->slow_clients);
	put_kv_u64(r->b, "bad_frames", t->bad_frames);
	put_kv_u64(r->b, "refused", t->refused);
	put_kv_u64(r->b, "idle_closed", t->idle_closed);
	put_kv_u64(r->b, "slow_senders", t->slow_senders);
	put_kv_u64(r->b, "over_buffer", t->over_buffer);
	put_kv_u64(r->b, "accept_errors", t->accept_errors);
	put_kv_u64(r->b, "series_refused", t->series_refused);
	put_kv_u64(r->b, "holds", t->holds);
	rpc_put_cstr(r->b, "held");
	rpc_put_bool(r->b, r->s->held);
	if (has_store) {
		put_kv_u64(r->b, "store_queued_bytes",
			   srv_persist_queued(r->s));
		put_kv_u64(r->b, "store_commits", ss.commits);
		put_kv_u64(r->b, "reads_run", reads_run);
		put_kv_u64(r->b, "reads_busy", reads_busy);
		put_kv_u64(r->b, "reads_queued", reads_queued);
		put_kv_u64(r->b, "store_checkpoints", ss.checkpoints);
		put_kv_u64(r->b, "store_wal_passes", ss.wal_passes);
		put_kv_u64(r->b, "restore_behind_series",
			   r->s->st.behind_series);
		put_kv_u64(r->b, "restore_behind_samples",
			   r->s->st.behind_samples);
		put_kv_u64(r->b, "slab_warmed_bytes",
			   srv_registry_warmed(&r->s->reg));
		put_kv_u64(r->b, "store_commit_failures", ss.commit_failures);
		put_kv_u64(r->b, "store_rows_committed", ss.rows_committed);
		put_kv_u64(r->b, "store_rows_dropped", ss.rows_dropped);
		put_kv_u64(r->b, "store_queued_rows", ss.queued_rows);
		put_kv_str(r->b, "store_writer_sched",
			   ss.writer_sched ? ss.writer_sched : "");
		put_kv_u64(r->b, "store_writer_raised", ss.writer_raised);
		put_kv_u64(r->b, "store_compactions", ss.compactions);
		put_kv_u64(r->b, "store_compact_steps", ss.compact_steps);
		put_kv_u64(r->b, "store_compacted", ss.compacted);
		put_kv_f64(r->b, "store_compact_s",
			   (double)ss.compact_ns / 1e9);
		put_kv_f64(r->b, "store_compact_step_max_s",
			   (double)ss.compact_step_max_ns / 1e9);
		rpc_put_cstr(r->b, "store_compacting");
		rpc_put_bool(r->b, ss.compacting);
		rpc_put_cstr(r->b, "store_fc_moving");
		rpc_put_bool(r->b, ss.fc_moving);
		put_kv_u64(r->b, "store_fc_moved", ss.fc_moved);
		put_kv_u64(r->b, "store_fc_move_left", ss.fc_move_left);
		put_kv_u64(r->b, "store_retention_deleted",
			   ss.retention_deleted);
	}
	rpc_map_end(r->b, map);
	return 0;
}

/* The triples: {"samples": [...]}, [{"samples": [...]}] or [[...]]. */
static const rpc_val *push_samples(const rpc_msg *m)
{
	const rpc_val *v = rpc_param(m, "samples");

	if (!v) {
		v = rpc_param_at(m, 0);
		if (rpc_val_type(v) != RPC_T_ARRAY)
			v = NULL;
	}
	return v;
}

static int m_push(req *r)
{
	const rpc_val *arr = push_samples(r->m);
	size_t i, n = rpc_val_len(arr);
	double skew = r->s->set.lines.max_skew_s;
	/* The same bound the line parsers apply to Graphite and Influx. */
	double latest = skew > 0 ? srv_now() + skew : INFINITY;
	srv_push *p;

	if (rpc_val_type(arr) != RPC_T_ARRAY)
		return fail(r, RPC_CODE_PARAMS,
			    "expected parameter 'samples': an array of "
			    "[series, t, value]");
	p = calloc(1, sizeof *p);
	if (!p)
		return fail(r, RPC_CODE_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		rpc_str name;
		double t, v;
		long nl = 0;
		int code;
		if (rpc_triple(arr, i, &name, &t, &v))
			code = SRV_REJ_SHAPE;
		else if (t > latest)
			code = SRV_REJ_FUTURE;
		else if ((nl = io_graphite_name(
			      name.p, name.n, &r->s->set.lines, r->s->name_buf,
			      r->s->set.lines.max_name + 1)) < 0)
			code = SRV_REJ_NAME;
		else
			code =
			    srv_ingest(r->s, r->s->name_buf, (size_t)nl, t, v);
		/* srv_ingest counts its own rejections; these never got there.
		 */
		if (code == SRV_REJ_SHAPE || code == SRV_REJ_FUTURE ||
		    (code == SRV_REJ_NAME && nl < 0))
			r->s->st.rejected++;
		if (code == SRV_ACCEPTED) {
			p->accepted++;
			continue;
		}
		if (!p->rej) {
			p->rej = calloc(n, sizeof *p->rej);
			if (!p->rej) {
				free(p);
				return fail(r, RPC_CODE_INTERNAL,
					    "out of memory");
			}
		}
		p->rej[p->nrej].index = (uint32_t)i;
		if (code == SRV_REJ_LIMIT &&
		    (p->rej[p->nrej].series = malloc(name.n + 1)) != NULL) {
			memcpy(p->rej[p->nrej].series, name.p, name.n);
			p->rej[p->nrej].series_n = name.n;
		}
		p->rej[p->nrej++].code = code;
	}
	p->c = r->c;
	p->id = r->m->id;
	srv_conn_ref(r->c);
	if (srv_tick_hold_push(r->s, p)) {
		srv_push_complete(r->s, p, -1);
		return DEFERRED;
	}
	return DEFERRED;
}

void srv_push_complete(srv *s, srv_push *p, int err)
{
	rpc_buf *b = &s->reply;
	uint32_t i;

	rpc_buf_reset(b);
	if (err < 0) {
		char msg[128];
		/* err is a STORE_E* code from the store, or -1. */
		snprintf(msg, sizeof msg, "samples were not stored: %s",
			 err == -1 ? "internal error" : store_strerror(err));
		rpc_put_error(b, p->id, RPC_CODE_UNAVAILABLE, msg);
		s->st.rpc_errors++;
	} else {
		rpc_put_result(b, p->id);
		rpc_put_map(b, 2);
		put_kv_u64(b, "accepted", p->accepted);
		rpc_put_cstr(b, "rejected");
		rpc_put_array(b, p->nrej);
		for (i = 0; i < p->nrej; i++) {
			rpc_put_map(b, p->rej[i].series ? 4 : 3);
			put_kv_u64(b, "index", p->rej[i].index);
			put_kv_u64(b, "code", (uint64_t)p->rej[i].code);
			put_kv_str(b, "reason",
				   srv_reject_reason(p->rej[i].code));
			if (p->rej[i].series) {
				rpc_put_cstr(b, "series");
				rpc_put_str(b, p->rej[i].series,
					    p->rej[i].series_n);
			}
		}
	}
	s->st.rpc_requests++;
	if (!b->err)
		srv_conn_write(p->c, b->p, b->len);
	srv_conn_unref(p->c);
	for (i = 0; i < p->nrej; i++)
		free(p->rej[i].series);
	free(p->rej);
	free(p);
}

/* ---- dispatch -------------------------------------------------------- */

static const struct method {
	const char *name;
	int (*fn)(req *r);
} methods[] = {
    {"push", m_push},
    {"forecast", m_forecast},
    {"list", m_list},
    {"info", m_info},
    {"history", m_history},
    {"subscribe", m_subscribe},
    {"unsubscribe", m_unsubscribe},
    {"stats", m_stats},
    {"drop", m_drop},
    {"ping", m_ping},
};

static void reply_error(srv *s, srv_conn *c, uint32_t id, int code,
			const char *msg)
{
	rpc_buf *b = &s->reply;

	rpc_buf_reset(b);
	rpc_put_error(b, id, code, msg);
	s->st.rpc_requests++;
	s->st.rpc_errors++;
	if (!b->err)
		srv_order_write(c, b->p, b->len);
}

/* Equal strings, in time that depends on the lengths only. */
static int token_eq(const rpc_str *given, const char *token)
{
	size_t n = strlen(token), i;
	unsigned char diff = given->n != n;

	for (i = 0; i < given->n; i++)
		diff |= (unsigned char)given->p[i] ^
			(unsigned char)token[i < n ? i : 0];
	return diff == 0;
}

/*
 * `auth {"token": str}` and every request before it on a connection that
 * must authenticate (rpc.token set, TCP). A wrong token, or any other
 * method first, is answered with error 7 and the connection is closed: a
 * client does not get to guess twice on one connection.
 */
static int auth(srv *s, srv_conn *c, const rpc_msg *m)
{
	const char *token = s->set.rpc_token;
	const rpc_val *v = rpc_param(m, "token");
	rpc_str given;
	rpc_buf *b = &s->reply;

	if (!rpc_str_eq(m->method, "auth")) {
		reply_error(s, c, m->id, RPC_CODE_AUTH,
			    "authenticate first: call auth {\"token\": ...}");
		srv_conn_close(c, "request before auth");
		return 0;
	}
	if (token && token[0] &&
	    (!v || rpc_val_str(v, &given) != 0 || !token_eq(&given, token))) {
		reply_error(s, c, m->id, RPC_CODE_AUTH, "wrong token");
		srv_conn_close(c, "wrong rpc.token");
		return 0;
	}
	c->authed = 1;
	rpc_buf_reset(b);
	rpc_put_result(b, m->id);
	rpc_put_map(b, 1);
	rpc_put_cstr(b, "auth");
	rpc_put_bool(b, 1);
	s->st.rpc_requests++;
	if (!b->err)
		srv_order_write(c, b->p, b->len);
	return 0;
}

int srv_rpc_frame(srv *s, srv_conn *c, const char *frame, size_t len)
{
	rpc_msg m;
	req r;
	size_t i;
	int rc = rpc_decode(c->dec, frame, len, &m);

	if (rc == RPC_EMSG && m.kind == RPC_REQUEST) {
		reply_error(s, c, m.id, RPC_CODE_PARSE,
			    "not a msgpack-RPC message");
		return 0;
	}
	if (rc)
		return -1;
	/* Notifications and responses from a client need no answer. */
	if (m.kind != RPC_REQUEST)
		return 0;
	if (rpc_str_eq(m.method, "auth") || !c->authed)
		return auth(s, c, &m);
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (rpc_str_eq(m.method, methods[i].name))
			break;
	if (i == sizeof methods / sizeof methods[0]) {
		char msg[128];
		snprintf(msg, sizeof msg, "unknown method '%.*s'",
			 (int)(m.method.n > 64 ? 64 : m.method.n), m.method.p);
		reply_error(s, c, m.id, RPC_CODE_METHOD, msg);
		return 0;
	}
	r.s = s;
	r.c = c;
	r.m = &m;
	r.b = &s->reply;
	r.msg[0] = '\0';
	rpc_buf_reset(r.b);
	rpc_put_result(r.b, m.id);
	rc = methods[i].fn(&r);
	if (rc == DEFERRED)
		return 0;
	if (rc == 0 && r.b->err)
		rc = fail(&r, RPC_CODE_LIMIT, "result too large");
	if (rc) {
		reply_error(s, c, m.id, rc, r.msg);
		return 0;
	}
	s->st.rpc_requests++;
	srv_order_write(c, r.b->p, r.b->len);
	return 0;
}
