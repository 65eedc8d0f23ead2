/*
 * tests/io/test_store_faults.c: a full disk (PRAGMA max_page_count) never
 * yields a false acknowledgement, line ingest waits in the bounded retry
 * queue and commits by itself once space returns, overflow is counted, the
 * episode is logged once; retention deletes old rows in small steps but
 * never what recovery needs.
 */
#include <math.h>
#include <time.h>

#include "io/store_int.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

static int log_lines;
static void count_log(void *ud, const char *msg)
{
	(void)ud;
	(void)msg;
	log_lines++;
}

static store_batch *samples_batch(int64_t sid, int64_t seq0, int n)
{
	store_batch *b = store_batch_new();
	int i;

	for (i = 0; i < n; i++)
		store_batch_sample(b, sid, seq0 + i, 1e6 + seq0 + i, i * 0.5);
	return b;
}

typedef struct stat_wait {
	store *s;
	uint64_t failures;
	uint64_t deleted;
} stat_wait;

static int failures_reached(void *ud)
{
	stat_wait *w = ud;
	store_stats st;

	store_get_stats(w->s, &st);
	return st.commit_failures >= w->failures;
}

static int deleted_reached(void *ud)
{
	stat_wait *w = ud;
	store_stats st;

	store_get_stats(w->s, &st);
	return st.retention_deleted >= w->deleted;
}

static int rec_called(void *ud)
{
	return ((done_rec *)ud)->called;
}

static void test_disk_full_no_false_ack_then_resume(void)
{
	fx f;
	store *s;
	store_opts o;
	store_stats st;
	store_reader *r;
	done_rec a1 = {0}, a2 = {0}, a3 = {0}, l1 = {0};
	stat_wait w;
	int64_t n = -1;
	store_batch *lb;
	size_t lbytes;

	fx_init(&f);
	store_opts_default(&o);
	o.retry_ms = 20;
	o.episode_quiet_ms = 0; /* the first success ends the episode */
	o.max_bytes = 1;	/* one page: the current size, no growth */
	o.log = count_log;
	log_lines = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	w.s = s;

	store_submit(s, samples_batch(1, 1, 3000), STORE_ACK, fx_on_done, &a1);
	CHECK(fx_run_until(&f, rec_called, &a1, 20000));
	CHECK_EQ_INT(a1.r.status, STORE_EFULL);
	/* Failed for good: out of the queued bytes (store.max_queue). */
	CHECK_EQ_INT(store_queued_bytes(s), 0);

	lb = samples_batch(2, 1, 3000);
	lbytes = store_batch_bytes(lb);
	store_submit(s, lb, STORE_RETRY, fx_on_done, &l1);
	w.failures = 3; /* the line batch failed at least twice */
	CHECK(fx_run_until(&f, failures_reached, &w, 20000));
	CHECK_EQ_INT(l1.called, 0);
	/* Kept for retry: still in them, so backpressure holds. */
	CHECK_EQ_INT(store_queued_bytes(s), lbytes);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.in_error, 1);
	CHECK_EQ_INT(st.retry_rows, 3000);
	CHECK_EQ_INT(st.last_error, STORE_EFULL);

	/* Queries keep being served during the episode. */
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_count(r, "samples", &n), 0);
	CHECK_EQ_INT(n, 0);
	store_reader_free(r);

	store_submit(s, samples_batch(1, 3001, 3000), STORE_ACK, fx_on_done,
		     &a2);
	CHECK(fx_run_until(&f, rec_called, &a2, 20000));
	CHECK_EQ_INT(a2.r.status, STORE_EFULL);

	/* Space returns: the queued line batch lands without help. */
	store_set_max_bytes(s, 0);
	CHECK(fx_run_until(&f, rec_called, &l1, 20000));
	CHECK_EQ_INT(l1.r.status, 0);
	CHECK_EQ_INT(store_queued_bytes(s), 0);
	store_submit(s, samples_batch(1, 1, 3000), STORE_ACK, fx_on_done, &a3);
	CHECK(fx_run_until(&f, rec_called, &a3, 20000));
	CHECK_EQ_INT(a3.r.status, 0);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.in_error, 0);
	CHECK_EQ_INT(st.rows_dropped, 0);
	CHECK_EQ_INT(st.retry_rows, 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(log_lines, 2); /* one at the start, one at the end */
	/* Nothing of the two refused pushes is stored. */
	CHECK_EQ_INT(fx_series_samples(f.path, 1), 3000);
	CHECK_EQ_INT(fx_series_samples(f.path, 2), 3000);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_integrity_check(r), 0);
	store_reader_free(r);
	fx_release(&f);
}

static void test_retry_queue_bound_and_close(void)
{
	fx f;
	store *s;
	store_opts o;
	store_stats st;
	done_rec d[3] = {{0}}, last = {0};
	all_done a = {d, 3};
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.retry_ms = 20;
	o.retry_rows = 5000;
	o.max_bytes = 1;
	o.log = count_log;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	for (i = 0; i < 3; i++)
		store_submit(s, samples_batch(1, 1 + i * 3000, 3000),
			     STORE_RETRY, fx_on_done, &d[i]);
	/* The two oldest are dropped (9000 > 5000, 6000 > 5000). */
	CHECK(fx_run_until(&f, rec_called, &d[1], 20000));
	CHECK_EQ_INT(d[0].r.status, STORE_EDROPPED);
	CHECK_EQ_INT(d[1].r.status, STORE_EDROPPED);
	CHECK_EQ_INT(d[2].called, 0);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.rows_dropped, 6000);
	CHECK_EQ_INT(st.retry_rows, 3000);
	/* Closing while writes still fail reports, never acknowledges. */
	store_submit(s, samples_batch(3, 1, 3000), STORE_ACK, fx_on_done,
		     &last);
	fx_close_store(&f, s);
	CHECK(fx_all_called(&a));
	CHECK(d[2].r.status < 0);
	CHECK_EQ_INT(last.called, 1);
	CHECK(last.r.status < 0);
	CHECK_EQ_INT(fx_series_samples(f.path, 1), 0);
	fx_release(&f);
}

static void test_retention_small_steps(void)
{
	fx f;
	store *s;
	store_opts o;
	store_batch *b;
	stat_wait w;
	done_rec ack = {0};
	float state[2] = {0, 0}, lv[1] = {0.5f}, q[1] = {1}, mean[1] = {1};
	double now = (double)time(NULL), old = now - 10000;
	store_stats st;
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.sample_retention_s = 3600;
	o.forecast_retention_s = 3600;
	o.retention_batch = 7; /* many small transactions */
	o.retention_ms = 1;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	w.s = s;
	b = store_batch_new();
	for (i = 1; i <= 3; i++)
		store_batch_series(b, i,
				   i == 1   ? "a"
				   : i == 2 ? "b"
					    : "c",
				   "", 1, 1, old);
	for (i = 1; i <= 60; i++)
		store_batch_sample(b, 1, i, i <= 50 ? old + i : now + i, i);
	store_batch_snapshot(b, 1, "m", 1, now, 55, state, 2);
	for (i = 1; i <= 20; i++) /* no snapshot: everything is kept */
		store_batch_sample(b, 2, i, old + i, i);
	for (i = 1; i <= 30; i++) /* snapshot at 10: 11..30 kept */
		store_batch_sample(b, 3, i, old + i, i);
	store_batch_snapshot(b, 3, "m", 1, old + 10, 10, state, 2);
	for (i = 0; i < 5; i++)
		store_batch_forecast(b, 1, old + i, 1, 1, lv, q, mean);
	for (i = 0; i < 2; i++)
		store_batch_forecast(b, 1, now + i, 1, 1, lv, q, mean);
	store_submit(s, b, 0, NULL, NULL);
	w.deleted = 50 + 10 + 5;
	CHECK(fx_run_until(&f, deleted_reached, &w, 30000));
	/* Ingest goes on between the steps. */
	store_submit(s, samples_batch(2, 21, 10), STORE_ACK, fx_on_done, &ack);
	CHECK(fx_run_until(&f, rec_called, &ack, 20000));
	CHECK_EQ_INT(ack.r.status, 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_series_samples(f.path, 1), 10);
	CHECK_EQ_INT(fx_series_samples(f.path, 2), 30);
	CHECK_EQ_INT(fx_series_samples(f.path, 3), 20);
	{
		store_reader *r;
		int64_t n = 0;
		CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
		CHECK_EQ_INT(store_count(r, "forecasts", &n), 0);
		CHECK_EQ_INT(n, 2);
		CHECK_EQ_INT(store_integrity_check(r), 0);
		store_reader_free(r);
	}
	(void)st;
	fx_release(&f);
}

/* A new database gets store_opts.page_size (16 KiB by default); one that
 * exists keeps the size it was created with; max_bytes is counted in the
 * file's own pages. */
static void test_page_size(void)
{
	fx f;
	store *s;
	store_opts o;
	done_rec a = {0};
	char old[160];

	fx_init(&f);
	store_opts_default(&o);
	CHECK_EQ_INT(o.page_size, 16384);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "PRAGMA page_size"), 16384);

	/* 1 MiB is 64 of its pages (as 4 KiB pages it was 256: 4 MiB). A
	 * transaction of 1.28 MB of log fails as on a full disk. */
	o.max_bytes = 1 << 20;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	store_submit(s, samples_batch(1, 1, 40000), STORE_ACK, fx_on_done, &a);
	CHECK(fx_run_until(&f, rec_called, &a, 20000));
	CHECK_EQ_INT(a.r.status, STORE_EFULL);
	fx_close_store(&f, s);
	CHECK(fx_scalar(f.path, "PRAGMA page_count") <= 64);

	/* Created with 4 KiB pages, opened with the default: still 4 KiB. */
	snprintf(old, sizeof old, "%s/old.db", f.dir);
	store_opts_default(&o);
	o.page_size = 4096;
	CHECK_EQ_INT(store_open(&s, &f.loop, old, &o), 0);
	fx_close_store(&f, s);
	store_opts_default(&o);
	CHECK_EQ_INT(store_open(&s, &f.loop, old, &o), 0);
	store_submit(s, samples_batch(1, 1, 10), 0, NULL, NULL);
	CHECK_EQ_INT(store_flush(s, 20000), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(old, "PRAGMA page_size"), 4096);
	CHECK_EQ_INT(fx_series_samples(old, 1), 10);

	/* Not a power of two, or out of SQLite's range: refused. */
	o.page_size = 3000;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), STORE_EINVAL);
	o.page_size = 131072;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), STORE_EINVAL);
	fx_release(&f);
}

int main(void)
{
	TH_RUN(test_page_size);
	TH_RUN(test_disk_full_no_false_ack_then_resume);
	TH_RUN(test_retry_queue_bound_and_close);
	TH_RUN(test_retention_small_steps);
	return th_summary();
}
