/*
 * daemon/tick.c: queue samples as they are read, step them once per loop
 * iteration in batches (see tick.h).
 */
#include "daemon/tick.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fresh.h"
#include "daemon/log.h"
#include "daemon/persist.h"
#include "daemon/server.h"
#include "daemon/sink.h"
#include "daemon/trace.h"
#include "io/grow.h"

const char *srv_reject_reason(int code)
{
	switch (code) {
	case SRV_ACCEPTED:
		return "accepted";
	case SRV_REJ_ORDER:
		return "out of order or duplicate timestamp";
	case SRV_REJ_VALUE:
		return "value or timestamp not finite";
	case SRV_REJ_LIMIT:
		return "too many series (limits.max_series)";
	case SRV_REJ_NAME:
		return "invalid series name (empty, longer than "
		       "limits.max_name, "
		       "a control character, or bad tags)";
	case SRV_REJ_NOMEM:
		return "out of memory";
	case SRV_REJ_SHAPE:
		return "not a [series, t, value] triple";
	case SRV_REJ_FUTURE:
		return "timestamp too far in the future (ingest.max_skew_s)";
	}
	return "unknown";
}

/* Grows the round arrays to n rows and the chunk list to nc; 0 or -1. */
static int round_reserve(srv_tick *k, size_t n, size_t nc)
{
	size_t c = k->caprow;

	if (io_grow(&k->chunks, &k->capchunks, nc, sizeof *k->chunks, 64))
		return -1;
	if (n <= k->caprow)
		return 0;
	if (io_grow(&k->bs, &c, n, sizeof *k->bs, 64))
		return -1;
	c = k->caprow;
	if (io_grow(&k->states, &c, n, sizeof *k->states, 64))
		return -1;
	c = k->caprow;
	if (io_grow(&k->in, &c, n, sizeof *k->in, 64))
		return -1;
	c = k->caprow;
	if (io_grow(&k->out, &c, n, sizeof *k->out, 64))
		return -1;
	c = k->caprow;
	if (io_grow(&k->status, &c, n, sizeof *k->status, 64))
		return -1;
	k->caprow = c;
	return 0;
}

/* model.threads: 0 = one per core this process may run on (its affinity
 * mask: taskset, systemd CPUAffinity=, a container's cpuset). */
static int pool_threads(int want)
{
	long n = want;
	cpu_set_t set;

	if (n <= 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (sched_getaffinity(0, sizeof set, &set) == 0)
			n = CPU_COUNT(&set);
	}
	return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

static void on_check(uv_check_t *h)
{
	srv_tick_run(h->data);
}

static void on_prepare(uv_prepare_t *h)
{
	srv *s = h->data;

	srv_trace(SRV_TR_POLL, (int64_t)s->tick.nacc, 0);
}

int srv_tick_init(srv *s)
{
	srv_tick *k = &s->tick;
	int B = s->set.batch_max > 0 ? s->set.batch_max : 256;

	memset(k, 0, sizeof *k);
	k->bmax = B;
	k->ws = malloc(ssm_model_workspace_bytes(s->model, B) + 1);
	/* Room for a batch of typical names, and always for one of the
	 * longest a parser may write (srv_ingest_name). */
	k->qcap = SRV_INGEST_BATCH * 64 + s->set.lines.max_name + 1;
	k->qnames = malloc(k->qcap);
	if (!k->ws || !k->qnames || round_reserve(k, (size_t)B, 4) ||
	    srv_pool_init(&k->pool, pool_threads(s->set.threads),
			  ssm_model_workspace_bytes(s->model, B),
			  s->set.slice_us)) {
		srv_pool_release(&k->pool);
		return -1;
	}
	uv_check_init(s->loop, &k->check);
	k->check.data = s;
	uv_check_start(&k->check, on_check);
	/* The check handle alone must not keep the loop alive at shutdown. */
	uv_unref((uv_handle_t *)&k->check);
	if (srv_trace_on) {
		uv_prepare_init(s->loop, &k->prep);
		k->prep.data = s;
		uv_prepare_start(&k->prep, on_prepare);
		uv_unref((uv_handle_t *)&k->prep);
	}
	return 0;
}

void srv_tick_release(srv *s)
{
	srv_tick *k = &s->tick;

	free(k->acc);
	free(k->steps);
	free(k->sorted);
	free(k->start);
	free(k->push);
	free(k->refreshed);
	free(k->replayed);
	free(k->states);
	free(k->in);
	free(k->out);
	free(k->status);
	free(k->bs);
	free(k->chunks);
	free(k->ws);
	free(k->qnames);
	srv_pool_release(&k->pool);
}

static int queue_step(srv_tick *k, srv_series *se, double t, double v,
		      int quiet)
{
	srv_step *st;

	if (k->nsteps == k->capsteps &&
	    io_grow(&k->steps, &k->capsteps, k->nsteps + 1, sizeof *k->steps,
		    64))
		return -1;
	st = &k->steps[k->nsteps++];
	st->s = se;
	st->in.t = t;
	st->in.value = v;
	st->round = se->tick_round++;
	st->quiet = (int16_t)quiet;
	if (st->round + 1 > k->rounds)
		k->rounds = st->round + 1;
	return 0;
}

/* The series has just learned its step: create its state and step what it
 * buffered meanwhile, in order. */
static void start_learned(srv *s, srv_series *se, int quiet)
{
	double t[SSM_LEARN_MAX];
	int i, err;

	for (i = 0; i < se->n_learn; i++)
		t[i] = se->learn[i].t;
	se->step_s = ssm_nominal_step(t, se->n_learn);
	err = srv_series_start(&s->reg, se);
	if (err) {
		srv_log(LOG_ERR, "series %s: cannot start its state: %s",
			se->name, ssm_strerror(err));
		se->step_s = 0;
		se->n_learn = 0;
		return;
	}
	for (i = 0; i < se->n_learn; i++)
		queue_step(&s->tick, se, se->learn[i].t, se->learn[i].value,
			   quiet);
	se->n_learn = 0;
	srv_series_learn_done(&s->reg, se);
}

static int reject(srv *s, int code)
{
	s->st.rejected++;
	return code;
}

/* limits.max_series: the refused series is named in the log, at most one
 * line per 10 s (a burst of new series would flood it otherwise) with the
 * count so far; stats.series_refused counts every refusal. */
static int refuse_series(srv *s, const char *name, size_t len)
{
	uint64_t now = uv_now(s->loop);
	char shown[128];
	size_t i, n = len < sizeof shown - 1 ? len : sizeof shown - 1;

	s->st.series_refused++;
	if (s->refused_logged && now - s->refused_logged < 10000)
		return reject(s, SRV_REJ_LIMIT);
	s->refused_logged = now ? now : 1;
	for (i = 0; i < n; i++) /* an RPC name may hold any byte */
		shown[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	shown[n] = '\0';
	srv_log(LOG_WARNING,
		"new series '%s'%s refused: limits.max_series = %zu reached "
		"(%llu refused since start; existing series continue)",
		shown, len > n ? "..." : "", s->set.max_series,
		(unsigned long long)s->st.series_refused);
	return reject(s, SRV_REJ_LIMIT);
}

static int take(srv *s, srv_series *se, double t, double value, int live);

/* srv_ingest with the name's hash known. */
static int ingest(srv *s, const char *name, size_t len, uint64_t hash, double t,
		  double value)
{
	srv_tick *k = &s->tick;
	srv_series *se;

	if (len == 0)
		return reject(s, SRV_REJ_NAME);
	if (t <= 0)
		t = srv_now();
	if (!isfinite(t) || !isfinite(value))
		return reject(s, SRV_REJ_VALUE);
	se = srv_registry_find_hashed(&s->reg, name, len, hash);
	if (!se) {
		int period;
		double step;
		if (s->set.max_series && s->reg.n >= s->set.max_series)
			return refuse_series(s, name, len);
		se = srv_registry_add(&s->reg, name, len, 0, 0);
		if (!se)
			return reject(s, SRV_REJ_NOMEM);
		srv_series_params(s, se->name, &period, &step, &se->horizon);
		se->period = period;
		se->step_s = step;
		if (step > 0 && srv_series_start(&s->reg, se)) {
			srv_registry_drop(&s->reg, se);
			return reject(s, SRV_REJ_NOMEM);
		}
	}
	/* A series restored behind its stored samples steps them first
	 * (daemon/persist.h, the catch-up). */
	if (s->st.behind_series)
		srv_persist_catch_up(s, se, 0);
	if (k->nacc == k->capacc &&
	    io_grow(&k->acc, &k->capacc, k->nacc + 1, sizeof *k->acc, 64))
		return reject(s, SRV_REJ_NOMEM);
	return take(s, se, t, value, 1);
}

/* An accepted sample of a known series: ordered, queued for its step (or
 * buffered while the series learns its step), counted; live ones go to the
 * sink too (the tick's accepted samples). */
static int take(srv *s, srv_series *se, double t, double value, int live)
{
	srv_tick *k = &s->tick;

	if (t <= se->last_t) {
		se->n_dropped++;
		s->st.out_of_order++;
		return reject(s, SRV_REJ_ORDER);
	}
	if (se->state) {
		if (queue_step(k, se, t, value, !live))
			return reject(s, SRV_REJ_NOMEM);
	} else {
		if (srv_series_learn_buf(&s->reg, se))
			return reject(s, SRV_REJ_NOMEM);
		se->learn[se->n_learn].t = t;
		se->learn[se->n_learn].value = value;
		if (++se->n_learn >= s->set.learn_samples)
			start_learned(s, se, !live);
	}
	if (live) {
		k->acc[k->nacc].s = se;
		k->acc[k->nacc].t = t;
		k->acc[k->nacc].value = value;
		k->nacc++;
	}
	se->last_t = t;
	se->last_value = value;
	se->n_samples++;
	s->st.samples++;
	return SRV_ACCEPTED;
}

int srv_ingest_replay(srv *s, srv_series *se, double t, double value)
{
	srv_tick *k = &s->tick;
	int rc;

	if (!isfinite(t) || !isfinite(value))
		return reject(s, SRV_REJ_VALUE);
	rc = take(s, se, t, value, 0);
	/* For the sink (srv_tick_out.replayed): the stored forecasts'
	 * spacing goes on from what the run before stored. */
	if (rc == SRV_ACCEPTED &&
	    (k->nrep == 0 || k->replayed[k->nrep - 1] != se) &&
	    !io_grow(&k->replayed, &k->caprep, k->nrep + 1, sizeof *k->replayed,
		     64))
		k->replayed[k->nrep++] = se;
	return rc;
}

int srv_ingest(srv *s, const char *name, size_t len, double t, double value)
{
	return ingest(s, name, len, srv_registry_hash(name, len), t, value);
}

char *srv_ingest_name(srv *s)
{
	srv_tick *k = &s->tick;

	if (k->qcap - k->qused < s->set.lines.max_name + 1)
		srv_ingest_flush(s);
	return k->qnames + k->qused;
}

void srv_ingest_add(srv *s, size_t len, double t, double value)
{
	srv_tick *k = &s->tick;
	srv_qsample *q = &k->q[k->nq++];

	q->off = k->qused;
	q->len = len;
	q->t = t;
	q->value = value;
	q->hash = srv_registry_hash(k->qnames + q->off, len);
	srv_registry_prefetch_slot(&s->reg, q->hash);
	k->qused += len + 1;
	if (k->nq == SRV_INGEST_BATCH)
		srv_ingest_flush(s);
}

void srv_ingest_flush(srv *s)
{
	srv_tick *k = &s->tick;
	int i;

	/* The slots were prefetched as the samples were added; by now they
	 * are in cache, and name the series to fetch next. */
	for (i = 0; i < k->nq; i++)
		srv_registry_prefetch_series(&s->reg, k->q[i].hash,
					     k->q[i].len);
	for (i = 0; i < k->nq; i++) {
		const srv_qsample *q = &k->q[i];
		ingest(s, k->qnames + q->off, q->len, q->hash, q->t, q->value);
	}
	k->nq = 0;
	k->qused = 0;
}

int srv_tick_hold_push(srv *s, struct srv_push *p)
{
	srv_tick *k = &s->tick;

	if (io_grow(&k->push, &k->cappush, k->npush + 1, sizeof *k->push, 64))
		return -1;
	k->push[k->npush++] = p;
	return 0;
}

/* srv_forecast_interval's bounds at horizon h of a forecast left to the
 * state: horizon 1 (a regular sample) is in the state, another is made
 * (the whole forecast, not kept: the series is about to step). */
static int stale_interval(const ssm_model *m, const srv_series *se, int h,
			  double *lo, double *hi)
{
	const int Q = ssm_model_nquantiles(m);
	const float *q1 = ssm_model_next_quantiles(m, se->state);
	float q[SSM_MAX_H * SSM_MAX_Q], mean[SSM_MAX_H];
	ssm_forecast f = {0, q, mean, 0};

	if (h > 1) {
		ssm_model_forecast(m, se->state, &f);
		q1 = q + (size_t)(h - 1) * Q;
	}
	*lo = q1 ? q1[0] : NAN; /* NaN: the step reset the state */
	*hi = q1 ? q1[Q - 1] : NAN;
	return h;
}

int srv_forecast_interval(const ssm_model *m, const srv_series *se, double t,
			  double *lo, double *hi)
{
	int H = ssm_model_horizon(m), Q = ssm_model_nquantiles(m);
	double h;

	if (!se->has_forecast || se->step_s <= 0)
		return 0;
	if (se->horizon > 0 && se->horizon < H)
		H = se->horizon; /* only what is served is checked */
	h = nearbyint((t - se->f_t) / se->step_s);
	if (!(h >= 1 && h <= H))
		return 0;
	if (se->fc_stale) /* left to the state (daemon/fresh.h) */
		return stale_interval(m, se, (int)h, lo, hi);
	*lo = se->fq[((int)h - 1) * Q];
	*hi = se->fq[((int)h - 1) * Q + Q - 1];
	return (int)h;
}

float srv_anomaly_score(const ssm_model *m, const srv_series *se, double t,
			double value)
{
	double lo, hi, width;

	if (!srv_forecast_interval(m, se, t, &lo, &hi))
		return 0;
	/* A degenerate interval still gives a finite, comparable score. */
	width = fmax(hi - lo, 1e-9 * fmax(1.0, fabs(lo)));
	if (value < lo)
		return (float)((lo - value) / width);
	if (value > hi)
		return (float)((value - hi) / width);
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A pool job: one chunk of the round's series, on any thread. Touches only
 * the chunk's rows of the round arrays and the states they point at. */
static void chunk_step(void *ctx, int j, void *ws)
{
	srv *s = ctx;
	srv_tick *k = &s->tick;
	srv_chunk *c = &k->chunks[k->coff + j];

	c->rc = ssm_model_step_batch(s->model, c->n, k->states + c->a,
				     k->in + c->a, c->fc ? k->out + c->a : NULL,
				     k->status + c->a, ws);
}

/* A chunk was stepped: bookkeeping and notifications, on the loop thread. */
static void chunk_done(void *ctx, int j)
{
	srv *s = ctx;
	srv_tick *k = &s->tick;
	const srv_chunk *c = &k->chunks[k->coff + j];
	int b;

	s->st.batches++;
	if ((uint64_t)c->n > s->st.batch_max)
		s->st.batch_max = (uint64_t)c->n;
	if (c->rc < 0) {
		srv_log(LOG_ERR, "model step failed for %d series: %s", c->n,
			ssm_strerror(c->rc));
		return;
	}
	s->st.stepped += (uint64_t)c->n;
	for (b = c->a; b < c->a + c->n; b++) {
		srv_series *se = k->bs[b];
		if (k->status[b] == SSM_ERESET) {
			se->n_resets++;
			s->st.resets++;
			srv_log(LOG_WARNING,
				"series %s: state went non-finite at t=%.3f "
				"and was reset",
				se->name, k->in[b].t);
		}
		se->stepped_t = k->in[b].t;
		if (!c->fc) {
			se->since_forecast++;
			continue;
		}
		se->has_forecast = 1;
		se->fc_stale = k->out[b].q == NULL;
		se->f_t = k->in[b].t;
		se->since_forecast = 0;
		se->n_forecasts++;
		s->st.forecasts++;
		/* A replayed step's forecast is not stored again (the store
		 * spaces them from the last one stored, which the state's
		 * record may predate), as when the walk replayed. */
		if (!c->quiet && se->tick_mark != k->serial &&
		    !io_grow(&k->refreshed, &k->capref, k->nref + 1,
			     sizeof *k->refreshed, 64)) {
			se->tick_mark = k->serial;
			k->refreshed[k->nref++] = se;
		}
		if (!c->quiet)
			srv_subs_forecast(s, se);
	}
	/* The chunk's notifications (and the round's anomalies), one write
	 * per subscriber connection. */
	srv_subs_flush(s);
}

/* Everything before the model sees the sample: order bookkeeping and the
 * check against the forecast this sample was predicted by. */
static void before_step(srv *s, srv_series *se, const ssm_sample *in, int quiet)
{
	float score = srv_anomaly_score(s->model, se, in->t, in->value);

	if (se->stepped_t > -INFINITY &&
	    in->t - se->stepped_t > 1.5 * se->step_s) {
		se->n_irregular++;
		s->st.irregular++;
	}
	se->anomaly = score;
	if (score > 0) {
		se->n_anomalies++;
		s->st.anomalies++;
		if (!quiet)
			srv_subs_anomaly(s, se, in->t, in->value, score);
	}
}

/* Whether a round of n rows is shared with the pool's helpers. With
 * model.share_rows = N > 0, from N rows a thread on, whatever it costs.
 * By default (0): from SHARE_ALL_ROWS a thread on always; from
 * SHARE_MIN_ROWS (two of the model's 8-row blocks) when the pool expects
 * the helpers' part to beat their wake-up (srv_pool_worth: n x the loop's
 * learnt cost per row, against the helpers' learnt wake-up delay); never
 * under it. One fixed threshold cannot hold on both kinds of machine: at
 * 48 rows a thread (main until lat7) the ~50-row ticks of 50,000
 * samples/s are never shared, though on idle cores a helper claims its
 * chunk in tens of microseconds and halves a 450 us round; at 16 rows on a
 * machine whose cores others hold, a helper woken every millisecond was
 * late by milliseconds and got the loop preempted 4x as often
 * (bench/results/latency5-share.md, lat6-share16.md). So the small ticks
 * are shared on idle cores only, and the backlog after a stall (where the
 * pool pays: bench/results/lat7-threads.md) always. The loop takes the
 * chunks no helper has started, so it only waits for one a helper holds;
 * letting it take over a late helper's chunk was tried and dropped
 * (bench/results/latency4-steal.md). */
#ifndef SHARE_MIN_ROWS /* -DSHARE_MIN_ROWS=N: bench/latency.sh A/B builds */
#define SHARE_MIN_ROWS 16
#endif
/* ... and from this many rows a thread on, a round is shared whatever the
 * wake-up costs (main's fixed rule until lat7): flat out and in the
 * backlog after a stall, a late helper still takes the chunks the loop
 * has not reached, so the pool's throughput stays, loaded or not. The
 * learnt rule decides the rounds in between. */
#define SHARE_ALL_ROWS 48

static int share_round(srv *s, size_t n)
{
	srv_tick *k = &s->tick;
	size_t T = (size_t)k->pool.nthreads;

	if (T < 2)
		return 0;
	if (s->set.share_rows > 0) /* model.share_rows: a fixed threshold */
		return n >= T * (size_t)s->set.share_rows;
	if (n >= T * SHARE_ALL_ROWS)
		return 1;
	return n >= T * SHARE_MIN_ROWS && k->row_s > 0 &&
	       srv_pool_worth(&k->pool, (double)n * k->row_s);
}

/* One unshared round's stepping time (spent s over n rows) into the
 * per-row estimate: a sample is capped at 4x the estimate, since a round
 * the loop was preempted in measures the machine, not the model. Rounds
 * under 8 rows (one block) are left out: their per-call cost would
 * overstate a row. */
static void learn_row(srv_tick *k, double spent, size_t n)
{
	double x;

	if (n < 8 || !(spent > 0))
		return;
	x = spent / (double)n;
	if (k->row_s <= 0) {
		k->row_s = x;
		return;
	}
	if (x > 4 * k->row_s)
		x = 4 * k->row_s;
	k->row_s += (x - k->row_s) / 16;
}

/* Rows per chunk for a group of n series: at most bmax; in a shared round,
 * the group is shared out among all threads as evenly as whole 8-row
 * blocks allow. */
static size_t chunk_rows(const srv_tick *k, size_t n, int share)
{
	size_t T = (size_t)k->pool.nthreads, per;

	if (!share)
		return (size_t)k->bmax;
	per = (n + T - 1) / T;
	per = (per + 7) / 8 * 8;
	if (per < 16)
		per = 16;
	return per < (size_t)k->bmax ? per : (size_t)k->bmax;
}

/* Rows of the watched group's first chunk: one 8-row block of the model;
 * each next chunk doubles (16, 32, ... up to the usual size), so the
 * first watched forecasts are written after 8 series' step, and a
 * watched series waits for at most about twice the rows ahead of it,
 * while a round of hundreds of watched series (a subscription to `*`)
 * costs a handful of writes per subscriber connection, not one per 8
 * rows. A row costs the same in a batch of 8 as of 64 (about 9 us with
 * the default model: it steps 8-row blocks either way), 2x alone. */
#define WATCH_ROWS 8

/* Steps steps[a, b): one round, where every series occurs at most once, as
 * ssm_model_step_batch requires. Three groups, in this order, each cut into
 * chunks of at most bmax series: the series whose forecast is due and that
 * a subscription watches, the other due ones, the rest (the last two each
 * split into replayed samples, which notify no one, and live ones). Each
 * chunk's
 * notifications are written as soon as it is stepped, so a watched
 * series' forecast waits for the watched group only, not for the
 * tick's other series (at 50,000 samples/s a tick holds ~50, and after a
 * stall hundreds). Which group a series is in is decided before any is
 * stepped, since stepping changes since_forecast. The chunks are
 * independent (distinct series), so the pool may step them on several
 * threads; the loop thread reports each one (counters, notifications) as
 * it learns it is done. */
static void step_round(srv *s, srv_step *steps, size_t a, size_t b)
{
	srv_tick *k = &s->tick;
	size_t i, n = 0, nc = 0, maxc, cut, w;
	int pass, j, nw = 0, share = share_round(s, b - a), any_quiet = 0;
	double spent = 0;

	/* Chunks hold at least min(bmax, 8) rows (WATCH_ROWS: 8) but the
	 * last of a group. */
	maxc = 5 + (b - a) / (k->bmax < 8 ? (size_t)k->bmax : 8);
	if (round_reserve(k, b - a, maxc)) {
		srv_log(LOG_ERR, "out of memory stepping %zu samples", b - a);
		return;
	}
	for (i = a; i < b; i++) {
		srv_series *se = steps[i].s;
		int due = se->since_forecast + 1 >= s->set.forecast_every;
		/* A step that makes no forecast moves the state on: one left
		 * to it is made now (daemon/fresh.h). */
		if (!due)
			srv_forecast_fresh(s, se);
		steps[i].due = (int16_t)(due ? 1 + (!steps[i].quiet &&
						    srv_subs_watched(s, se))
					     : 0);
		any_quiet |= steps[i].quiet;
	}
	/* Groups by due (watched, due, not), each split by quiet (replayed
	 * samples, after a crash restart: their chunks notify no one). */
	for (pass = 5; pass >= 0; pass--) {
		size_t first = n;
		int due = pass >> 1, quiet = pass & 1;
		if (quiet && (due == 2 || !any_quiet))
			continue;
		for (i = a; i < b; i++) {
			srv_series *se = steps[i].s;
			if (se->dropped || steps[i].due != due ||
			    steps[i].quiet != quiet)
				continue;
			before_step(s, se, &steps[i].in, quiet);
			k->bs[n] = se;
			k->in[n] = steps[i].in;
			k->states[n] = se->state;
			k->out[n].q = se->fq;
			k->out[n].mean = se->fmean;
			/* The forecast is written now where it is read at the
			 * tick's end (watched: pushed; a stored row due) or
			 * when steps skip forecasts; else the state gives it
			 * to a reader (daemon/fresh.h). The stored row is the
			 * series' last step of the tick (the sink's f_t): an
			 * earlier round's forecast is overwritten unread, such
			 * as a new series' learnt samples, stepped at once. */
			if (due == 1 && s->set.forecast_every == 1 &&
			    (quiet || steps[i].round + 1 < se->tick_round ||
			     !srv_persist_fc_due_at(s, se, steps[i].in.t)))
				k->out[n].q = k->out[n].mean = NULL;
			k->status[n] = 0;
			n++;
		}
		cut = chunk_rows(k, n - first, share);
		w = due == 2 && cut > WATCH_ROWS ? WATCH_ROWS : cut;
		for (i = first; i < n;) {
			srv_chunk *c = &k->chunks[nc++];
			c->a = (int)i;
			c->n = (int)(n - i < w ? n - i : w);
			c->fc = due > 0;
			c->quiet = quiet;
			c->rc = 0;
			i += (size_t)c->n;
			w = 2 * w < cut ? 2 * w : cut;
			nw += due == 2;
		}
	}
	/* A shared round's watched chunks are stepped on the loop first, and
	 * only the rest offered to the helpers: a watched chunk a helper
	 * took would wait for that helper's core, and its notifications for
	 * the loop to finish its own chunk (bench/results/lat7-threads-
	 * boost.md: tick start -> notification p99 1.7 ms with the pool,
	 * 0.4 ms with one thread). */
	j = 0;
	if (share && nc - (size_t)nw > 1) {
		int rc;
		for (; j < nw; j++) {
			chunk_step(s, j, k->ws);
			chunk_done(s, j);
		}
		srv_trace(SRV_TR_POOL, (int64_t)(nc - (size_t)nw), (int64_t)n);
		k->coff = nw;
		rc = srv_pool_run(&k->pool, (int)nc - nw, chunk_step,
				  chunk_done, s, k->ws);
		k->coff = 0;
		srv_trace(SRV_TR_POOLEND, rc, 0);
		if (rc == 0) {
			s->st.pool_rounds++;
			return;
		}
	}
	for (; j < (int)nc; j++) {
		double t = mono_s();
		chunk_step(s, j, k->ws);
		spent += mono_s() - t;
		chunk_done(s, j);
	}
	if (!share)
		learn_row(k, spent, n);
}

/* The slice a queued step goes to: its round, after the rounds of the
 * watched series when a subscription watches other series than its own
 * (R: the tick's rounds). */
static uint32_t slice_of(srv *s, const srv_step *st, uint32_t R)
{
	if (s->subs.head && !srv_subs_watched(s, st->s))
		return R + st->round;
	return st->round;
}

/* Orders the queue into slices, stably (counting sort): every round of
 * the series a subscription watches, in order, then every round of the
 * rest (with no subscription, just the rounds). A slice holds a series at
 * most once, and a series' slices come in the order of its rounds, since
 * it is watched or not for the whole tick (the order is fixed here, once).
 * So a watched series' forecasts of later rounds do not wait for the
 * unwatched series' earlier rounds: a series sending many samples in one
 * read makes many rounds, and so does the backlog after a stall of more
 * than a round of every series. *nslices: how many (some may be empty). */
static srv_step *by_round(srv *s, size_t **start, uint32_t *nslices)
{
	srv_tick *k = &s->tick;
	uint32_t R = k->rounds, ns = s->subs.head ? 2 * R : R;
	size_t i, sum = 0;

	if (io_grow(&k->sorted, &k->capsorted, k->nsteps, sizeof *k->sorted,
		    64) ||
	    io_grow(&k->start, &k->capstart, (size_t)ns + 1, sizeof *k->start,
		    64))
		return NULL;
	memset(k->start, 0, ((size_t)ns + 1) * sizeof *k->start);
	for (i = 0; i < k->nsteps; i++)
		k->start[slice_of(s, &k->steps[i], R) + 1]++;
	for (i = 0; i <= ns; i++) {
		sum += k->start[i];
		k->start[i] = sum;
	}
	for (i = 0; i < k->nsteps; i++)
		k->sorted[k->start[slice_of(s, &k->steps[i], R)]++] =
		    k->steps[i];
	/* start[r] now holds the end of slice r; shift back to starts. */
	memmove(k->start + 1, k->start, ns * sizeof *k->start);
	k->start[0] = 0;
	*start = k->start;
	*nslices = ns;
	return k->sorted;
}

/* The loop thread's CPU time: against the tick's wall time it tells work
 * from waiting for a core (a syscall, once per tick, at the tick's end). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void srv_tick_run(srv *s)
{
	srv_tick *k = &s->tick;
	double t0 = 0, c0 = 0;
	srv_tick_out o;
	uint32_t r;
	size_t i;

	if (!k->nacc && !k->nsteps && !k->npush) {
		srv_lines_resume(s);
		return;
	}
	k->serial++;
	if (k->nsteps) {
		s->st.ticks++;
		if (k->nsteps > s->st.tick_max)
			s->st.tick_max = k->nsteps;
		t0 = mono_s();
		c0 = cpu_s();
		srv_trace(SRV_TR_TICK, (int64_t)k->nsteps, k->rounds);
	}
	if (k->rounds == 1) {
		step_round(s, k->steps, 0, k->nsteps);
	} else if (k->rounds > 1) {
		size_t *start = NULL;
		uint32_t ns = 0;
		srv_step *sorted = by_round(s, &start, &ns);
		if (!sorted) {
			srv_log(LOG_ERR, "out of memory ordering %zu samples",
				k->nsteps);
		} else {
			for (r = 0; r < ns; r++)
				if (start[r + 1] > start[r])
					step_round(s, sorted, start[r],
						   start[r + 1]);
		}
	}
	srv_subs_flush(s);
	if (k->nsteps)
		srv_hist_observe(&s->step_latency, mono_s() - t0);
	for (i = 0; i < k->nsteps; i++)
		k->steps[i].s->tick_round = 0;
	o.samples = k->acc;
	o.nsamples = k->nacc;
	o.refreshed = k->refreshed;
	o.nrefreshed = k->nref;
	o.replayed = k->replayed;
	o.nreplayed = k->nrep;
	o.pushes = k->push;
	o.npushes = k->npush;
	srv_sink_tick(s, &o);
	srv_trace(SRV_TR_SINK, (int64_t)o.nsamples, 0);
	k->nacc = k->nsteps = k->npush = k->nref = k->nrep = 0;
	k->rounds = 0;
	srv_registry_reap(&s->reg);
	srv_lines_resume(s);
	if (t0 > 0) {
		double dc = cpu_s() - c0;
		s->st.tick_wall_s += mono_s() - t0;
		s->st.tick_cpu_s += dc;
		srv_trace(SRV_TR_TICKEND, (int64_t)(dc * 1e6), 0);
	}
}
