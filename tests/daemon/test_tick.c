/*
 * tests/daemon/test_tick.c: the tick steps what the read callbacks queued
 * exactly as stepping each series alone would: several series per batch,
 * several samples per series per tick (rounds), batches cut at batch_max,
 * on one thread and on two (the compute pool, daemon/pool.h),
 * forecasts refreshed every k samples, series learning their step, and a
 * series dropped while its samples wait. The reference is each series
 * stepped alone, one sample at a time, through ssm_model_step_batch
 * (B = 1); states and forecasts must be equal bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fresh.h"
#include "daemon/server.h"
#include "ssm/model.h"
#include "ssm/nominal.h"
#include "tests/harness.h"

/* Series: a round is several chunks on two threads (shared with
 * model.share_rows = 16: from 2 x 16 rows up, daemon/tick.c). */
#define NS 128
#define NT 40 /* samples per series */

static ssm_model *model;

/* Series k's sample i. Series 3 has gaps (irregular samples). */
static double t_of(int k, int i)
{
	return 1.7e9 + 60.0 * i + (k == 3 && i > 20 ? 180.0 : 0.0);
}

static double v_of(int k, int i)
{
	return 10.0 * k + sin(0.3 * i + k) + 0.1 * ((i * 7 + k) % 5);
}

typedef struct ref {
	float *state, *q, *mean;
} ref;

/* Steps series k alone through samples 0..n-1, as statecast replay does. */
static void reference(ref *r, int k, int n, double step)
{
	size_t H = (size_t)ssm_model_horizon(model);
	size_t Q = (size_t)ssm_model_nquantiles(model);
	void *ws = malloc(ssm_model_workspace_bytes(model, 1) + 1);
	int i;

	r->state = malloc(ssm_model_state_floats(model) * sizeof(float));
	r->q = malloc(H * Q * sizeof(float));
	r->mean = malloc(H * sizeof(float));
	ssm_state_init(model, r->state, 1, step);
	for (i = 0; i < n; i++) {
		ssm_sample in = {t_of(k, i), v_of(k, i)};
		ssm_forecast out = {0, r->q, r->mean, 0};
		float *st = r->state;
		ssm_model_step_batch(model, 1, &st, &in, &out, NULL, ws);
	}
	free(ws);
}

static void ref_free(ref *r)
{
	free(r->state);
	free(r->q);
	free(r->mean);
}

/* Stepping threads for setup(): 1, or 2 (the compute pool). */
static int threads = 1;
/* model.share_rows for setup(): 0 = the learnt rule. */
static int share_rows;

static void setup(srv *s, uv_loop_t *loop, int batch_max, int every,
		  double step)
{
	srv_settings set;

	memset(&set, 0, sizeof set);
	set.subscriber_queue = 1 << 20;
	io_limits_default(&set.lines);
	rpc_limits_default(&set.rpc);
	set.forecast_every = every;
	set.default_period = 1;
	set.default_step = step;
	set.learn_samples = SSM_LEARN_SAMPLES;
	set.batch_max = batch_max;
	set.threads = threads;
	set.share_rows = share_rows;
	set.history_ring = 8;
	uv_loop_init(loop);
	CHECK_EQ_INT(srv_init(s, loop, &set, model, "test"), 0);
}

static void teardown(srv *s, uv_loop_t *loop)
{
	srv_stop(s);
	uv_run(loop, UV_RUN_DEFAULT);
	srv_release(s);
	CHECK_EQ_INT(uv_loop_close(loop), 0);
}

static srv_series *find(srv *s, int k)
{
	char name[16];

	snprintf(name, sizeof name, "s%d", k);
	return srv_registry_find(&s->reg, name, strlen(name));
}

/* Feeds every series' samples, `per_tick` samples of each series per tick,
 * interleaved across series as reads from many connections would be. */
static void feed(srv *s, int per_tick)
{
	char name[16];
	int i, j, k;

	for (i = 0; i < NT; i += per_tick) {
		for (j = i; j < i + per_tick && j < NT; j++)
			for (k = 0; k < NS; k++) {
				snprintf(name, sizeof name, "s%d", k);
				CHECK_EQ_INT(srv_ingest(s, name, strlen(name),
							t_of(k, j), v_of(k, j)),
					     SRV_ACCEPTED);
			}
		srv_tick_run(s);
	}
}

static void check_equal(srv *s, double step, int check_forecast)
{
	size_t H = (size_t)ssm_model_horizon(model);
	size_t Q = (size_t)ssm_model_nquantiles(model);
	size_t nst = ssm_model_state_floats(model);
	int k;

	for (k = 0; k < NS; k++) {
		srv_series *se = find(s, k);
		ref r;
		CHECK(se && se->state);
		if (!se || !se->state)
			continue;
		reference(&r, k, NT, step);
		CHECK(memcmp(se->state, r.state, nst * sizeof(float)) == 0);
		if (check_forecast) {
			/* A reader makes a forecast left to the state current
			 * first (daemon/fresh.h): the step's bits. */
			srv_forecast_fresh(s, se);
			CHECK(!se->fc_stale);
			CHECK(memcmp(se->fq, r.q, H * Q * sizeof(float)) == 0);
			CHECK(memcmp(se->fmean, r.mean, H * sizeof(float)) ==
			      0);
			CHECK(se->f_t == t_of(k, NT - 1));
		}
		ref_free(&r);
	}
}

static void test_batched_rounds_equal_alone(void)
{
	static const int per_tick[] = {1, 3, 40};
	static const int bmax[] = {256, 2, 1};
	int a, two;

	for (a = 0; a < 6; a++) {
		srv s;
		uv_loop_t loop;
		/* Two threads share a round of 128 out in chunks of 64
		 * (whole 8-row blocks), or of bmax when that is less. */
		int cut = (a >= 3 ? 64 : NS);
		two = a >= 3;
		threads = two ? 2 : 1;
		share_rows = 16;
		setup(&s, &loop, bmax[a % 3], 1, 60);
		feed(&s, per_tick[a % 3]);
		check_equal(&s, 60, 1);
		CHECK(s.st.batch_max ==
		      (uint64_t)(bmax[a % 3] < cut ? bmax[a % 3] : cut));
		CHECK(two ? s.st.pool_rounds > 0 : s.st.pool_rounds == 0);
		CHECK_EQ_INT(s.st.samples, NS * NT);
		CHECK_EQ_INT(s.st.forecasts, NS * NT);
		CHECK_EQ_INT(find(&s, 3)->n_irregular, 1);
		teardown(&s, &loop);
	}
	threads = 1;
	share_rows = 0;
}

/* Rounds `rows` series wide, two ticks, with model.share_rows = share;
 * row_s, wake_s > 0: the learnt estimates (the loop's stepping time per
 * row, a helper's wake-up) set before the first tick. Returns the pool
 * rounds run; *learnt: the per-row estimate afterwards. */
static uint64_t pool_rounds_for(int rows, int share, double row_s,
				double wake_s, double *learnt)
{
	srv s;
	uv_loop_t loop;
	char name[16];
	uint64_t n;
	int i, k;

	threads = 2;
	share_rows = share;
	setup(&s, &loop, 256, 1, 60);
	if (row_s > 0)
		s.tick.row_s = row_s;
	if (wake_s > 0)
		s.tick.pool.wake_s = wake_s;
	for (i = 0; i < 2; i++) {
		for (k = 0; k < rows; k++) {
			snprintf(name, sizeof name, "s%d", k);
			srv_ingest(&s, name, strlen(name), t_of(k, i),
				   v_of(k, i));
		}
		srv_tick_run(&s);
	}
	CHECK_EQ_INT(s.st.stepped, 2 * rows);
	n = s.st.pool_rounds;
	if (learnt)
		*learnt = s.tick.row_s;
	teardown(&s, &loop);
	threads = 1;
	share_rows = 0;
	return n;
}

/* Which rounds the helpers get (share_round, daemon/tick.c). A fixed
 * model.share_rows: from that many rows a thread up, whatever the cost.
 * The learnt rule (0): from 48 rows a thread on always (SHARE_ALL_ROWS);
 * never under 16 (SHARE_MIN_ROWS), nor before the loop has measured its
 * cost per row (the first tick, which measures it); in between when
 * rows x that cost, halved, beats twice the helpers' wake-up
 * (srv_pool_worth), so not when the wake-up is long. The estimates are
 * set here, so no clock decides the outcome. */
static void test_share_rule(void)
{
	double row = 0;

	CHECK(pool_rounds_for(95, 48, 0, 0, NULL) == 0);
	CHECK(pool_rounds_for(96, 48, 0, 0, NULL) == 2);
	CHECK(pool_rounds_for(31, 0, 1.0, 0, NULL) == 0);
	CHECK(pool_rounds_for(32, 0, 1.0, 0, NULL) == 2);
	CHECK(pool_rounds_for(95, 0, 1.0, 1e9, NULL) == 0);
	CHECK(pool_rounds_for(96, 0, 1.0, 1e9, NULL) == 2);
	/* Nothing preset: the first tick steps on the loop alone and
	 * learns the cost of a row. */
	CHECK(pool_rounds_for(90, 0, 0, 0, &row) <= 1);
	CHECK(row > 0 && row < 1.0);
}

static void test_forecast_every_k(void)
{
	srv s;
	uv_loop_t loop;

	setup(&s, &loop, 4, 3, 60);
	feed(&s, 5);
	/* The state advances on every sample whether or not a forecast is
	 * computed; forecasts come every third sample. */
	check_equal(&s, 60, 0);
	CHECK_EQ_INT(s.st.forecasts, NS * (NT / 3));
	CHECK(find(&s, 0)->f_t == t_of(0, NT / 3 * 3 - 1));
	teardown(&s, &loop);
}

static void test_learning_then_stepping(void)
{
	srv s;
	uv_loop_t loop;
	int k;

	setup(&s, &loop, 256, 1, 0);
	CHECK_EQ_INT(srv_ingest(&s, "s0", 2, t_of(0, 0), 1), SRV_ACCEPTED);
	srv_tick_run(&s);
	CHECK(find(&s, 0)->state == NULL && find(&s, 0)->n_learn == 1);
	srv_registry_drop(&s.reg, find(&s, 0));
	srv_tick_run(&s);
	feed(&s, 2);
	/* Learned step 60 (series 3's gap comes after its first samples). */
	for (k = 0; k < NS; k++)
		CHECK(find(&s, k)->step_s == 60.0);
	check_equal(&s, 60, 1);
	teardown(&s, &loop);
}

static void test_rejections_and_drop_in_tick(void)
{
	srv s;
	uv_loop_t loop;
	srv_series *se;

	setup(&s, &loop, 256, 1, 60);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 100, 1), SRV_ACCEPTED);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 100, 2), SRV_REJ_ORDER);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 50, 2), SRV_REJ_ORDER);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 160, NAN), SRV_REJ_VALUE);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, INFINITY, 1), SRV_REJ_VALUE);
	CHECK_EQ_INT(srv_ingest(&s, "", 0, 160, 1), SRV_REJ_NAME);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 160, 3), SRV_ACCEPTED);
	se = srv_registry_find(&s.reg, "a", 1);
	CHECK_EQ_INT(se->n_dropped, 2);
	CHECK_EQ_INT(s.st.rejected, 5);
	/* Dropped with two samples waiting: skipped, then freed (ASan). */
	srv_registry_drop(&s.reg, se);
	CHECK_EQ_INT(srv_ingest(&s, "a", 1, 10, 1), SRV_ACCEPTED);
	srv_tick_run(&s);
	CHECK_EQ_INT(s.reg.n, 1);
	CHECK_EQ_INT(srv_registry_find(&s.reg, "a", 1)->n_samples, 1);
	s.set.max_series = 1;
	CHECK_EQ_INT(srv_ingest(&s, "b", 1, 10, 1), SRV_REJ_LIMIT);
	teardown(&s, &loop);
}

/* One sample through the line protocols' batch (srv_ingest_add). */
static void add(srv *s, const char *name, double t, double v)
{
	size_t n = strlen(name);

	memcpy(srv_ingest_name(s), name, n + 1);
	srv_ingest_add(s, n, t, v);
}

/* The batch ingests as srv_ingest does, in order: a series created by one
 * sample of a batch is found by the next, rejections are counted the same,
 * and batches are cut by count (SRV_INGEST_BATCH) and by the bytes of
 * their names. */
static void test_ingest_batches_as_one_by_one(void)
{
	srv a, b;
	uv_loop_t la, lb;
	char name[128];
	int i, k, same = 1, cut_by_bytes = 0;

	setup(&a, &la, 256, 1, 60);
	setup(&b, &lb, 256, 1, 60);
	for (i = 0; i < 300; i++) {
		double t = 1000 + 60 * (i / 7) - (i % 11 == 3 ? 120 : 0);
		k = (i * 13) % 37;
		/* most names 100 bytes long: the names' buffer (room
		 * for 32 x 64 bytes and one of limits.max_name) fills up
		 * before 32 samples */
		snprintf(name, sizeof name, k % 4 ? "m.%098d" : "m.%d", k);
		srv_ingest(&a, name, strlen(name), t, i);
		k = b.tick.nq;
		add(&b, name, t, i);
		if (b.tick.nq == 1 && k > 0)
			cut_by_bytes++;
		if (i % 50 == 49) {
			add(&b, "", t, i); /* empty: refused */
			srv_ingest(&a, "", 0, t, i);
			add(&b, "m.nan", t, NAN);
			srv_ingest(&a, "m.nan", 5, t, NAN);
		}
	}
	CHECK(cut_by_bytes > 0);
	CHECK(b.tick.nq > 0); /* a batch is pending until flushed */
	srv_ingest_flush(&b);
	CHECK_EQ_INT(b.tick.nq, 0);
	CHECK_EQ_INT(b.st.samples, a.st.samples);
	CHECK_EQ_INT(b.st.rejected, a.st.rejected);
	CHECK_EQ_INT(b.st.out_of_order, a.st.out_of_order);
	CHECK_EQ_INT(b.reg.n, a.reg.n);
	CHECK_EQ_INT(b.tick.nacc, a.tick.nacc);
	for (i = 0; i < (int)a.tick.nacc; i++)
		if (strcmp(a.tick.acc[i].s->name, b.tick.acc[i].s->name) ||
		    a.tick.acc[i].t != b.tick.acc[i].t ||
		    a.tick.acc[i].value != b.tick.acc[i].value)
			same = 0;
	CHECK(same);
	srv_tick_run(&a);
	srv_tick_run(&b);
	teardown(&a, &la);
	teardown(&b, &lb);
}

static void test_anomaly_score(void)
{
	srv s;
	uv_loop_t loop;
	srv_series *se;
	int Q = ssm_model_nquantiles(model), H = ssm_model_horizon(model);
	int h;
	double lo, hi;

	setup(&s, &loop, 256, 1, 60);
	srv_ingest(&s, "a", 1, 1000, 1);
	srv_tick_run(&s);
	se = srv_registry_find(&s.reg, "a", 1);
	/* A hand-made forecast: interval [h, h + 2] at horizon h (in the
	 * buffer: not left to the state). */
	for (h = 0; h < H; h++) {
		se->fq[h * Q] = (float)(h + 1);
		se->fq[h * Q + Q - 1] = (float)(h + 3);
	}
	se->fc_stale = 0;
	CHECK_EQ_INT(srv_forecast_interval(model, se, 1060, &lo, &hi), 1);
	CHECK(lo == 1 && hi == 3);
	CHECK_EQ_INT(
	    srv_forecast_interval(model, se, 1000 + 60 * 3 + 20, &lo, &hi), 3);
	CHECK(srv_anomaly_score(model, se, 1060, 2) == 0);
	CHECK(srv_anomaly_score(model, se, 1060, 7) == 2.0f);
	CHECK(srv_anomaly_score(model, se, 1120, 0) == 1.0f);
	/* Before the origin or beyond the horizon nothing is predicted. */
	CHECK(srv_anomaly_score(model, se, 990, 1e9) == 0);
	CHECK(srv_anomaly_score(model, se, 1000 + 60.0 * (H + 1), 1e9) == 0);
	teardown(&s, &loop);
}

/* A forecast left to the state (daemon/fresh.h) gives the intervals the
 * buffer holds once made current: horizon 1 from the state, the others
 * made on the spot; a step without a forecast makes it current first. */
static void test_stale_interval(void)
{
	srv s;
	uv_loop_t loop;
	srv_series *se;
	double lo[4], hi[4], lo2, hi2, t;
	int i, h;

	setup(&s, &loop, 256, 1, 60);
	for (i = 0; i < 30; i++) {
		srv_ingest(&s, "a", 1, 1000 + 60.0 * i, 5 + sin(i));
		srv_tick_run(&s);
	}
	se = srv_registry_find(&s.reg, "a", 1);
	CHECK(se && se->fc_stale);
	if (!se)
		return;
	for (h = 1; h <= 3; h++) {
		t = se->f_t + 60.0 * h;
		CHECK_EQ_INT(
		    srv_forecast_interval(model, se, t, &lo[h], &hi[h]), h);
		CHECK(lo[h] < hi[h]);
	}
	srv_forecast_fresh(&s, se);
	CHECK(!se->fc_stale);
	for (h = 1; h <= 3; h++) {
		t = se->f_t + 60.0 * h;
		srv_forecast_interval(model, se, t, &lo2, &hi2);
		CHECK(lo2 == lo[h] && hi2 == hi[h]);
	}
	/* With forecasts every 2 samples, the next step makes none. */
	se->fc_stale = 1;
	s.set.forecast_every = 2;
	se->since_forecast = 0;
	srv_ingest(&s, "a", 1, 1000 + 60.0 * 30, 5);
	srv_tick_run(&s);
	CHECK(!se->fc_stale && se->since_forecast == 1);
	srv_forecast_interval(model, se, se->f_t + 60.0, &lo2, &hi2);
	CHECK(lo2 == lo[1] && hi2 == hi[1]);
	teardown(&s, &loop);
}

static int watched(srv *s, int k)
{
	return srv_subs_watched(s, find(s, k));
}

/* Series a subscription watches are stepped first in their round, as a
 * chunk of their own (their notifications written before the others are
 * stepped), with the same results; the cached match follows subscribe
 * and unsubscribe, and survives the generation counter wrapping. */
static void test_watched_first(void)
{
	srv s;
	uv_loop_t loop;
	srv_conn c;
	uint64_t id;
	int b, k, nw = 0;

	setup(&s, &loop, 256, 1, 60);
	/* Not a live connection: a closing one gets no notifications
	 * written, but its subscriptions still count as watching. */
	memset(&c, 0, sizeof c);
	c.closing = 1;
	id = srv_subscribe(&s, &c, "s1*", 3, 1, 1);
	CHECK(id > 0);
	for (k = 0; k < NS; k++)
		nw += k == 1 || (k >= 10 && k < 20) || (k >= 100 && k < 200);
	feed(&s, 1);
	check_equal(&s, 60, 1);
	/* Per tick one round: the 39 watched series in chunks of 8, 16
	 * and 15 rows (WATCH_ROWS, doubling), then the other 89 in one. */
	CHECK_EQ_INT(nw, 39);
	CHECK_EQ_INT(s.st.batches, 4 * NT);
	for (b = 0; b < NS; b++) {
		const char *nm = s.tick.bs[b]->name;
		CHECK_EQ_INT(b < nw, nm[1] == '1');
	}
	CHECK(watched(&s, 1) && watched(&s, 127) && !watched(&s, 2));
	CHECK_EQ_INT(srv_unsubscribe(&s, &c, id), 0);
	CHECK(!watched(&s, 1));
	id = srv_subscribe(&s, &c, "s1", 2, 1, 1);
	CHECK(watched(&s, 1) && !watched(&s, 10));
	/* Series 1 matched at generation 4, 2^31 changes ago, and the
	 * counter wraps and comes back to 4: the wrap made every series
	 * look its match up again. */
	CHECK_EQ_INT(srv_unsubscribe(&s, &c, id), 0);
	find(&s, 1)->sub_gen = 4 | 1;
	s.subs.gen = UINT32_MAX - 1;
	srv_subscribe(&s, &c, "s2", 2, 1, 1); /* gen wraps to 2 */
	srv_subscribe(&s, &c, "s3", 2, 1, 1); /* 4 */
	CHECK(!watched(&s, 1) && watched(&s, 2) && watched(&s, 3));
	teardown(&s, &loop);
}

/* A tick of several rounds steps every round of the watched series before
 * any round of the rest (the unwatched series' round 0 does not hold up
 * a watched series' round 3), each series' samples still in order, with
 * the same results. */
static void test_watched_rounds_first(void)
{
	srv s;
	uv_loop_t loop;
	srv_conn c;
	size_t i, n = (size_t)NS * 4;
	int nw = 0, k, order_ok = 1;
	uint32_t last_round = 0;

	setup(&s, &loop, 256, 1, 60);
	memset(&c, 0, sizeof c);
	c.closing = 1;
	CHECK(srv_subscribe(&s, &c, "s1*", 3, 1, 1) > 0);
	for (k = 0; k < NS; k++)
		nw += k == 1 || (k >= 10 && k < 20) || (k >= 100 && k < 200);
	feed(&s, 4); /* NT = 40: the last tick holds 4 rounds */
	check_equal(&s, 60, 1);
	/* The stepping order of the last tick: the watched series' 4
	 * rounds, then the others' 4, rounds ascending within each. */
	for (i = 0; i < n; i++) {
		const srv_step *st = &s.tick.sorted[i];
		int w = st->s->name[1] == '1';
		if (i == (size_t)nw * 4)
			last_round = 0;
		if (w != (i < (size_t)nw * 4) || st->round < last_round)
			order_ok = 0;
		last_round = st->round;
	}
	CHECK(order_ok);
	teardown(&s, &loop);
}

int main(void)
{
	if (ssm_model_new_default(&model, 1))
		return 1;
	TH_RUN(test_batched_rounds_equal_alone);
	TH_RUN(test_share_rule);
	TH_RUN(test_watched_first);
	TH_RUN(test_watched_rounds_first);
	TH_RUN(test_forecast_every_k);
	TH_RUN(test_stale_interval);
	TH_RUN(test_learning_then_stepping);
	TH_RUN(test_rejections_and_drop_in_tick);
	TH_RUN(test_ingest_batches_as_one_by_one);
	TH_RUN(test_anomaly_score);
	ssm_model_free(model);
	return th_summary();
}
