/*
 * tests/io/test_store.c: the writer against real SQLite files: group commit,
 * ordering, acknowledgement after COMMIT, migrations, snapshot UPSERT.
 * (Recovery, retention and disk full: test_store_recover.c,
 * test_store_faults.c.)
 */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/store_int.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

static store_batch *samples_batch(int64_t sid, int64_t seq0, int n, double t0)
{
	store_batch *b = store_batch_new();
	int i;

	for (i = 0; i < n; i++)
		store_batch_sample(b, sid, seq0 + i, t0 + i,
				   (double)(seq0 + i));
	return b;
}

static store_batch *series_batch(int64_t id, const char *name)
{
	store_batch *b = store_batch_new();

	store_batch_series(b, id, name, "host=a", 10.0, 6, 1000.0);
	return b;
}

static int64_t count(const char *path, const char *table)
{
	store_reader *r;
	int64_t n = -1;

	if (store_reader_open(&r, path) == 0) {
		store_count(r, table, &n);
		store_reader_free(r);
	}
	return n;
}

static void test_group_commit_by_rows(void)
{
	fx f;
	store *s;
	store_opts o;
	done_rec d[10] = {{0}};
	all_done a = {d, 10};
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 60000; /* only the row bound can close the group */
	o.commit_rows = 10 * 50 + 1;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK_EQ_INT(store_next_series_id(s), 1);
	CHECK_EQ_INT(store_submit(s, series_batch(1, "cpu"), 0, NULL, NULL), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ_INT(
		    store_submit(s,
				 samples_batch(1, 1 + i * 50, 50, 1e9 + i * 50),
				 0, fx_on_done, &d[i]),
		    0);
	CHECK(fx_run_until(&f, fx_all_called, &a, 20000));
	for (i = 0; i < 10; i++) {
		CHECK_EQ_INT(d[i].r.status, 0);
		CHECK_EQ_INT(d[i].r.rows, 50);
		/* All ten and the series row shared one transaction. */
		CHECK_EQ_INT(d[i].r.commit_rows, 501);
		CHECK_EQ_INT(d[i].order, d[0].order + i);
	}
	CHECK_EQ_INT(count(f.path, "samples"), 500);
	fx_close_store(&f, s);
	fx_release(&f);
}

static void test_row_bound_splits_and_close_flushes(void)
{
	fx f;
	store *s;
	store_opts o;
	store_stats st;
	done_rec d[5] = {{0}};
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 60000;
	o.commit_rows = 100;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	for (i = 0; i < 5; i++)
		store_submit(s, samples_batch(1, 1 + i * 50, 50, i * 50.0), 0,
			     fx_on_done, &d[i]);
	/* The fifth batch would wait a minute: close must flush it. */
	fx_close_store(&f, s);
	for (i = 0; i < 5; i++) {
		CHECK_EQ_INT(d[i].called, 1);
		CHECK_EQ_INT(d[i].r.status, 0);
	}
	CHECK_EQ_INT(d[0].r.commit_rows, 100);
	CHECK_EQ_INT(d[2].r.commit_rows, 100);
	CHECK_EQ_INT(d[4].r.commit_rows, 50);
	CHECK_EQ_INT(count(f.path, "samples"), 250);
	(void)st;
	fx_release(&f);
}

/* In the ack callback, a fresh reader must already see the rows. */
typedef struct ack_probe {
	const char *path;
	int called, status;
	int64_t seen_rows;
} ack_probe;

static void on_ack(void *ud, const store_result *r)
{
	ack_probe *p = ud;

	p->called = 1;
	p->status = r->status;
	p->seen_rows = count(p->path, "samples");
}

static int probe_called(void *ud)
{
	return ((ack_probe *)ud)->called;
}

static void test_ack_after_commit(void)
{
	fx f;
	store *s;
	store_opts o;
	ack_probe p = {0};
	int k;

	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 60000; /* an ACK batch must not wait for the window */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	p.path = f.path;
	for (k = 1; k <= 3; k++) {
		p.called = 0;
		store_submit(s,
			     samples_batch(7, 1 + (k - 1) * 20, 20, k * 100.0),
			     STORE_ACK, on_ack, &p);
		CHECK(fx_run_until(&f, probe_called, &p, 20000));
		CHECK_EQ_INT(p.status, 0);
		CHECK_EQ_INT(p.seen_rows, 20 * k);
	}
	fx_close_store(&f, s);
	fx_release(&f);
}

static void test_flush_read_your_writes(void)
{
	fx f;
	store *s;
	store_opts o;

	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 60000; /* without the flush this would wait a minute */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	store_submit(s, samples_batch(2, 1, 30, 0), 0, NULL, NULL);
	store_submit(s, samples_batch(2, 31, 30, 30), 0, NULL, NULL);
	CHECK_EQ_INT(store_flush(s, 30000), 0);
	CHECK_EQ_INT(count(f.path, "samples"), 60);
	CHECK_EQ_INT(store_flush(s, 30000), 0); /* nothing queued: at once */
	fx_close_store(&f, s);
	fx_release(&f);
}

/* What the completion of a batch saw of the store's queued bytes. */
typedef struct qseen {
	store *s;
	int called;
	size_t queued;
} qseen;

static void on_done_queued(void *ud, const store_result *r)
{
	qseen *q = ud;

	(void)r;
	q->called++;
	q->queued = store_queued_bytes(q->s);
}

static int both_called(void *ud)
{
	qseen *q = ud;

	return q[0].called && q[1].called;
}

/* store_queued_bytes: what store.max_queue and the writer's guard read.
 * Up by store_batch_bytes() at submit, down once the writer is done with
 * a batch, before its completion runs (the daemon lifts its hold there). */
static void test_queued_bytes(void)
{
	fx f;
	store *s;
	store_opts o;
	store_batch *b1, *b2;
	size_t n1, n2;
	qseen q[2] = {{0}};

	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 60000; /* nothing commits before the flush */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK_EQ_INT(store_queued_bytes(s), 0);
	b1 = samples_batch(2, 1, 30, 0);
	b2 = samples_batch(2, 31, 300, 30);
	n1 = store_batch_bytes(b1);
	n2 = store_batch_bytes(b2);
	CHECK(n1 > 0 && n2 > n1);
	q[0].s = q[1].s = s;
	CHECK_EQ_INT(store_submit(s, b1, 0, on_done_queued, &q[0]), 0);
	CHECK_EQ_INT(store_queued_bytes(s), n1);
	CHECK_EQ_INT(store_submit(s, b2, 0, on_done_queued, &q[1]), 0);
	CHECK_EQ_INT(store_queued_bytes(s), n1 + n2);
	CHECK_EQ_INT(q[0].called + q[1].called, 0);
	CHECK_EQ_INT(store_flush(s, 30000), 0);
	/* Committed: out of the count before any completion ran. */
	CHECK_EQ_INT(store_queued_bytes(s), 0);
	CHECK(fx_run_until(&f, both_called, q, 20000));
	CHECK_EQ_INT(q[0].queued, 0);
	CHECK_EQ_INT(q[1].queued, 0);
	fx_close_store(&f, s);
	fx_release(&f);
}

typedef struct hist_acc {
	int64_t seq[64];
	double v[64];
	int n;
} hist_acc;

static int hist_cb(void *ud, const store_sample *sm, size_t n)
{
	hist_acc *h = ud;
	size_t i;

	for (i = 0; i < n && h->n < 64; i++) {
		h->seq[h->n] = sm[i].seq;
		h->v[h->n++] = sm[i].value;
	}
	return 0;
}

static void test_order_history_and_nan(void)
{
	fx f;
	store *s;
	store_reader *r;
	hist_acc h = {{0}, {0}, 0};
	store_batch *b;
	int64_t id = 0;
	int i, ordered = 1;

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	store_submit(s, series_batch(3, "mem"), 0, NULL, NULL);
	/* Several submissions of interleaved seqs; history is seq order. */
	for (i = 0; i < 4; i++) {
		b = store_batch_new();
		store_batch_sample(b, 3, 1 + i, 100.0 + i,
				   i == 2 ? NAN : i * 1.5);
		store_submit(s, b, 0, NULL, NULL);
	}
	fx_close_store(&f, s);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_find_series(r, "mem", "host=a", &id), 0);
	CHECK_EQ_INT(id, 3);
	CHECK_EQ_INT(store_find_series(r, "mem", "", &id), 1);
	CHECK_EQ_INT(store_history(r, 3, 0, 1e12, 0, hist_cb, &h), 0);
	CHECK_EQ_INT(h.n, 4);
	for (i = 0; i < h.n; i++)
		if (h.seq[i] != i + 1)
			ordered = 0;
	CHECK(ordered);
	CHECK(isnan(h.v[2]));
	CHECK(h.v[3] == 4.5);
	h.n = 0;
	CHECK_EQ_INT(store_history(r, 3, 101, 103, 0, hist_cb, &h), 0);
	CHECK_EQ_INT(h.n, 2);
	h.n = 0;
	CHECK_EQ_INT(store_history(r, 3, 0, 1e12, 3, hist_cb, &h), 0);
	CHECK_EQ_INT(h.n, 3);
	CHECK_EQ_INT(store_integrity_check(r), 0);
	store_reader_free(r);
	/* A reopened store continues the id sequence. */
	fx_closed_flag = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(store_next_series_id(s), 4);
	fx_close_store(&f, s);
	fx_release(&f);
}

/* Samples in multi-row INSERTs (STORE_SAMPLES_PER_INSERT per statement)
 * and singly (the remainder) land alike: NaN as NULL, a duplicate (series,
 * seq) ignored in favour of the first. The WAL is checkpointed by size
 * (checkpoint_bytes), counted in the stats, and not by SQLite's own 4 MB
 * auto-checkpoint when checkpoint_bytes is 0. */
static void test_multi_row_samples_and_wal_checkpoints(void)
{
	fx f;
	store *s;
	store_opts o;
	store_reader *r;
	store_stats st;
	store_batch *b;
	hist_acc h = {{0}, {0}, 0};
	int64_t n = 0;
	char wal[200];
	struct stat sb;
	int i, k, ok = 1;
	uint64_t end;

	fx_init(&f);
	store_opts_default(&o);
	o.checkpoint_ms = 60000;
	o.checkpoint_bytes = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	/* 3 series interleaved, 3 * 50 rows: two full statements and a
	 * remainder; series 2's seq 7 comes twice (second value ignored). */
	b = store_batch_new();
	for (i = 1; i <= 50; i++)
		for (k = 1; k <= 3; k++)
			store_batch_sample(
			    b, k, i, 100.0 + i,
			    k == 2 && i % 10 == 0 ? NAN : k * 1000 + i);
	store_batch_sample(b, 2, 7, 107.0, -1.0);
	store_submit(s, b, 0, NULL, NULL);
	/* About 10 MB of WAL: past the 4 MB of SQLite's auto-checkpoint. */
	for (i = 0; i < 50; i++)
		store_submit(s, samples_batch(10 + i, 1, 10000, 0), 0, NULL,
			     NULL);
	CHECK_EQ_INT(store_flush(s, 30000), 0);
	snprintf(wal, sizeof wal, "%s-wal", f.path);
	CHECK(stat(wal, &sb) == 0 && sb.st_size > 6 << 20);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.checkpoints, 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_count(r, "samples", &n), 0);
	CHECK_EQ_INT(n, 150 + 500000);
	CHECK_EQ_INT(store_history(r, 2, 0, 1e12, 0, hist_cb, &h), 0);
	CHECK_EQ_INT(h.n, 50);
	for (i = 0; i < h.n; i++) {
		double want = (i + 1) % 10 == 0 ? NAN : 2000 + i + 1;
		if (h.seq[i] != i + 1 ||
		    (isnan(want) ? !isnan(h.v[i]) : h.v[i] != want))
			ok = 0;
	}
	CHECK(ok);
	store_reader_free(r);

	/* By size: a small bound and a steady trickle of commits. */
	o.checkpoint_bytes = 256 << 10;
	fx_closed_flag = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	end = uv_hrtime() + 20000000000u;
	st.checkpoints = 0;
	for (i = 0; st.checkpoints == 0 && uv_hrtime() < end; i++) {
		store_submit(s, samples_batch(100, 1 + i * 2000, 2000, i), 0,
			     NULL, NULL);
		store_flush(s, 30000);
		store_get_stats(s, &st);
	}
	CHECK(st.checkpoints >= 1);
	fx_close_store(&f, s);
	fx_release(&f);
}

/* The WAL checkpointer (io/store_wal.c): a due checkpoint is its round of
 * PASSIVE passes, then the writer's RESTART. A reader's old snapshot keeps
 * the RESTART from completing (nothing counted) while commits go on; once
 * it ends, a round completes. Every row is there after. */
static void test_wal_rounds_beside_a_reader(void)
{
	fx f;
	store *s;
	store_opts o;
	store_stats st;
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t n = 0, rows = 1000;
	int i;
	uint64_t end;

	fx_init(&f);
	store_opts_default(&o);
	o.checkpoint_ms = 60000;
	o.checkpoint_bytes = 256 << 10;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	store_submit(s, samples_batch(1, 1, 1000, 0), 0, NULL, NULL);
	CHECK_EQ_INT(store_flush(s, 30000), 0);
	/* A snapshot of the WAL as it is now, held. */
	CHECK_EQ_INT(store__open_db(f.path, STORE_DB_READ, NULL, &db), 0);
	CHECK_EQ_INT(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM sample_log",
					-1, &q, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
	sqlite3_finalize(q);
	/* Several times checkpoint_bytes of WAL; then a pass, however long
	 * a busy machine keeps the checkpointer (SCHED_IDLE) from it. */
	for (i = 0; i < 40; i++) {
		store_submit(s, samples_batch(2 + i, 1, 5000, 0), 0, NULL,
			     NULL);
		rows += 5000;
		CHECK_EQ_INT(store_flush(s, 30000), 0);
	}
	end = uv_hrtime() + 300000000000u;
	while (atomic_load(&s->wal.passes) < 1 && uv_hrtime() < end) {
		store_submit(s, samples_batch(1000, 1 + i * 10, 10, i), 0, NULL,
			     NULL);
		rows += 10;
		i++;
		CHECK_EQ_INT(store_flush(s, 30000), 0);
		usleep(10000);
	}
	CHECK(atomic_load(&s->wal.passes) >= 1);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.checkpoints, 0);
	CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	end = uv_hrtime() + 300000000000u;
	for (i = 0; st.checkpoints == 0 && uv_hrtime() < end; i++) {
		store_submit(s, samples_batch(2000, 1 + i * 2000, 2000, i), 0,
			     NULL, NULL);
		rows += 2000;
		CHECK_EQ_INT(store_flush(s, 30000), 0);
		store_get_stats(s, &st);
		usleep(10000);
	}
	CHECK(st.checkpoints >= 1);
	fx_close_store(&f, s);
	n = count(f.path, "samples");
	CHECK_EQ_INT(n, rows);
	fx_release(&f);
}

static int64_t user_version(const char *path)
{
	return fx_scalar(path, "PRAGMA user_version");
}

/* A database at schema version v, with sql run in it: what a program of
 * that version left behind. */
static void old_db(const fx *f, int v, const char *sql)
{
	sqlite3 *db;

	CHECK_EQ_INT(store__open_db(f->path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__migrate(db, v), 0);
	CHECK_EQ_INT(store__exec(db, sql), 0);
	sqlite3_close(db);
	CHECK_EQ_INT(user_version(f->path), v);
}

static void test_migrations(void)
{
	fx f;
	store *s;
	sqlite3 *db;
	store_reader *r;
	store_batch *b;
	float lv[3] = {0.1f, 0.5f, 0.9f}, q[6] = {1, 2, 3, 4, 5, 6},
	      mean[2] = {2, 5};
	int64_t n = 0;

	/* From empty. */
	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(user_version(f.path), store__schema_version());
	CHECK(store__schema_version() >= 2);
	fx_release(&f);

	/* From version 3 with data in it: every migration after it, and
	 * the conversion of its samples table. */
	fx_init(&f);
	old_db(&f, 3,
	       "INSERT INTO series VALUES(5,'old','',60,1,0);"
	       "INSERT INTO samples VALUES(5,1,10,1.5)");
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(store_next_series_id(s), 6);
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_forecast(b, 5, 10, 2, 3, lv, q, mean), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(user_version(f.path), store__schema_version());
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_count(r, "samples", &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_count(r, "forecasts", &n), 0);
	CHECK_EQ_INT(n, 1);
	store_reader_free(r);

	/* A database from the future is refused, not written. */
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__exec(db, "PRAGMA user_version=999"), 0);
	sqlite3_close(db);
	s = NULL;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), STORE_ESCHEMA);
	CHECK(s == NULL);
	CHECK_EQ_INT(user_version(f.path), 999);
	fx_release(&f);
}

typedef struct fc_acc {
	int n;
	float q01_h2, mean_h1, lv2;
	int H, Q;
} fc_acc;

static int fc_cb(void *ud, const store_forecast_row *row)
{
	fc_acc *a = ud;

	a->n++;
	a->H = row->H;
	a->Q = row->Q;
	a->q01_h2 = row->q[0 * row->H + 1];
	a->mean_h1 = row->mean[0];
	a->lv2 = row->levels[2];
	return 0;
}

static void test_forecast_layout(void)
{
	fx f;
	store *s;
	store_reader *r;
	store_batch *b;
	fc_acc a = {0};
	int i, ok = 1;
	size_t nb;
	/* H=2, Q=3 horizon-major: h1 = {1,2,3}, h2 = {4,5,6}. */
	float lv[3] = {0.1f, 0.5f, 0.9f}, q[6] = {1, 2, 3, 4, 5, 6},
	      mean[2] = {2, 5};

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_forecast(b, 9, 50, 2, 3, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 9, 50, 2, 3, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 9, 0, 0, 3, lv, q, mean),
		     STORE_EINVAL);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_forecasts(r, 9, 0, 100, fc_cb, &a), 0);
	CHECK_EQ_INT(a.n, 1); /* same origin replaced */
	CHECK_EQ_INT(a.H, 2);
	CHECK_EQ_INT(a.Q, 3);
	CHECK(a.q01_h2 == 4.0f); /* quantile 0.1 at horizon 2 */
	CHECK(a.mean_h1 == 2.0f);
	CHECK(a.lv2 == 0.9f);
	store_reader_free(r);

	/* 40 forecasts in one batch: two multi-row statements of
	 * STORE_FORECASTS_PER_INSERT and 8 single ones. Series 20 + i gets
	 * mean[0] = i; series 25's origin comes twice in the first statement,
	 * the later row (mean 100) replaces the earlier. */
	fx_closed_flag = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	/* Reserved ahead (as the daemon's ticks do): the appends fit, the
	 * batch does not grow, and its rows read back the same. */
	CHECK_EQ_INT(store_batch_reserve(b, 3, 40, 2, 3), 0);
	nb = store_batch_bytes(b);
	CHECK(nb >= 40 * (3 + 6 + 2) * sizeof(float) + 3 * 4 * 8);
	for (i = 0; i < 40; i++) {
		mean[0] = (float)(i == 7 ? 100 : i);
		store_batch_forecast(b, 20 + (i == 7 ? 5 : i), 60, 2, 3, lv, q,
				     mean);
		if (i < 3)
			store_batch_sample(b, 20 + i, 1, 60, i);
	}
	CHECK_EQ_INT(store_batch_bytes(b), nb);
	CHECK_EQ_INT(store_batch_rows(b), 43);
	/* Room already there: nothing moves. */
	CHECK_EQ_INT(store_batch_reserve(b, 0, 0, 0, 0), 0);
	CHECK_EQ_INT(store_batch_bytes(b), nb);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	for (i = 0; i < 40; i++) {
		memset(&a, 0, sizeof a);
		store_forecasts(r, 20 + i, 0, 100, fc_cb, &a);
		if (i == 7 ? a.n != 0
			   : a.n != 1 || a.mean_h1 != (i == 5 ? 100 : i) ||
				 a.q01_h2 != 4.0f || a.lv2 != 0.9f)
			ok = 0;
	}
	CHECK(ok);
	store_reader_free(r);
	fx_release(&f);
}

/* Forecast rows as read back, for comparing two stores. */
typedef struct fc_all {
	int n;
	double t[8];
	float v[8][4]; /* q[0], q[last], mean[0], levels[0] */
	int H[8], Q[8];
} fc_all;

static int fc_all_cb(void *ud, const store_forecast_row *row)
{
	fc_all *a = ud;
	int k = a->n++;

	if (k >= 8)
		return 1;
	a->t[k] = row->t;
	a->H[k] = row->H;
	a->Q[k] = row->Q;
	a->v[k][0] = row->q[0];
	a->v[k][1] = row->q[row->H * row->Q - 1];
	a->v[k][2] = row->mean[0];
	a->v[k][3] = row->levels[0];
	return 0;
}

/*
 * Schema 4's forecasts (WITHOUT ROWID, keyed (series_id, t)) migrate into
 * schema 5's rowid table + unique index with every row: store_forecasts
 * reads the same rows in the same order as from the old table, a forecast
 * with a stored origin replaces its row, and the rest append.
 */
static void test_forecasts_migrate_v4(void)
{
	fx f;
	store *s;
	sqlite3 *db;
	store_reader *r;
	store_batch *b;
	fc_all a, a4[3];
	float lv[3] = {0.1f, 0.5f, 0.9f}, q[6] = {1, 2, 3, 4, 5, 6},
	      mean[2] = {2, 5};
	int64_t n = 0;
	int i, k, ok = 1;

	fx_init(&f);
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__migrate(db, 4), 0);
	/* Series 1..3, four origins each (inserted out of order), H = 2,
	 * Q = 3 (series 2: H = 1), as version 4's writer stored them. */
	CHECK_EQ_INT(
	    store__exec(
		db,
		"WITH RECURSIVE s(sid) AS (VALUES(1) UNION ALL SELECT sid+1 "
		"FROM s WHERE sid<3), o(t) AS (VALUES(300.0),(0.0),(600.0),"
		"(120.5)) INSERT INTO forecasts SELECT sid, t, "
		"CASE sid WHEN 2 THEN 1 ELSE 2 END, 3, "
		"x'cdcccc3d0000003f6666663f', "
		"CASE sid WHEN 2 THEN x'0000803f0000004000004040' ELSE "
		"x'0000803f00004040000000400000a040000080400000c040' END, "
		"CASE sid WHEN 2 THEN x'00000040' ELSE "
		"x'0000004000000000' END FROM s, o"),
	    0);
	CHECK_EQ_INT(store__exec(db, "INSERT INTO series VALUES(1,'a','',60,1,"
				     "0),(2,'b','',60,1,0),(3,'c','',60,1,0)"),
		     0);
	sqlite3_close(db);
	/* What version 4 reads (the reader's statement is the same). */
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	for (i = 0; i < 3; i++) {
		memset(&a4[i], 0, sizeof a4[i]);
		CHECK_EQ_INT(
		    store_forecasts(r, i + 1, -1e9, 1e9, fc_all_cb, &a4[i]), 0);
		CHECK_EQ_INT(a4[i].n, 4);
	}
	CHECK(a4[0].t[0] == 0.0 && a4[0].t[1] == 120.5 && a4[0].t[3] == 600.0);
	store_reader_free(r);

	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(user_version(f.path), store__schema_version());
	/* Series 1's origin 300 again (replaces), a new origin 900. */
	b = store_batch_new();
	mean[0] = 42;
	CHECK_EQ_INT(store_batch_forecast(b, 1, 300, 2, 3, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 1, 900, 2, 3, lv, q, mean), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);

	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	CHECK_EQ_INT(store_count(r, "forecasts", &n), 0);
	CHECK_EQ_INT(n, 13);
	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof a);
		CHECK_EQ_INT(
		    store_forecasts(r, i + 1, -1e9, 1e9, fc_all_cb, &a), 0);
		if (a.n != (i == 0 ? 5 : 4))
			ok = 0;
		for (k = 0; k < 4 && k < a.n; k++) {
			const fc_all *w = &a4[i];
			/* Series 1: 300 (k = 2) replaced, 900 appended. */
			if (i == 0 && k == 2) {
				if (a.t[k] != 300 || a.v[k][2] != 42)
					ok = 0;
				continue;
			}
			if (a.t[k] != w->t[k] || a.H[k] != w->H[k] ||
			    a.Q[k] != w->Q[k] ||
			    memcmp(a.v[k], w->v[k], sizeof a.v[k]))
				ok = 0;
		}
		if (i == 0 && (a.t[4] != 900 || a.v[4][2] != 42))
			ok = 0;
	}
	CHECK(ok);
	/* The series' rows by time range use the index. */
	memset(&a, 0, sizeof a);
	CHECK_EQ_INT(store_forecasts(r, 3, 100, 600, fc_all_cb, &a), 0);
	CHECK(a.n == 2 && a.t[0] == 120.5 && a.t[1] == 300);
	store_reader_free(r);
	/* Schema 7's index in place of version 5's (test_store_fc.c). */
	CHECK_EQ_INT(fx_scalar(f.path,
			       "SELECT count(*) FROM sqlite_schema WHERE "
			       "name='forecasts_grp' AND type='index'"),
		     1);
	fx_release(&f);
}

/* Forecast rows as read back: origin, both means, the middle quantile. */
typedef struct fc_means {
	int n;
	double t[8];
	float mean[8][2], mid[8][2];
} fc_means;

static int fc_means_cb(void *ud, const store_forecast_row *row)
{
	fc_means *a = ud;
	int k = a->n++;

	if (k >= 8 || row->H != 2 || row->Q != 3)
		return 1;
	a->t[k] = row->t;
	memcpy(a->mean[k], row->mean, sizeof a->mean[k]);
	memcpy(a->mid[k], row->q + row->H, sizeof a->mid[k]);
	return 0;
}

/*
 * Schema 6: a mean equal bit for bit to the middle quantile (the shipped
 * models' every mean) is stored as an empty blob and read back whole; any
 * other mean, and every row of a version-5 database (each mean stored),
 * reads as it was written. An empty mean with an even nq has no middle
 * quantile: corrupt.
 */
static void test_forecasts_mean_v6(void)
{
	fx f;
	store *s;
	sqlite3 *db;
	store_reader *r;
	store_batch *b;
	fc_means a;
	/* H = 2, Q = 3, horizon-major: the middle quantile is {2, 5}. */
	float lv[3] = {0.1f, 0.5f, 0.9f}, q[6] = {1, 2, 3, 4, 5, 6},
	      mid[2] = {2, 5}, other[2] = {9, 5};
	const float want[4][2] = {{2, 5}, {7, 8}, {2, 5}, {9, 5}};
	int k, ok = 1;

	fx_init(&f);
	/* As version 5 stored them: origin 0 with the median as its mean,
	 * origin 60 with a mean of its own ({7, 8}). */
	old_db(&f, 5,
	       "INSERT INTO series VALUES(1,'a','',60,1,0),(2,'b','',60,1,0);"
	       "INSERT INTO forecasts VALUES(1, 0.0, 2, 3, "
	       "x'cdcccc3d0000003f6666663f', x'0000803f00008040"
	       "000000400000a040000040400000c040', x'000000400000a040'),"
	       "(1, 60.0, 2, 3, x'cdcccc3d0000003f6666663f', "
	       "x'0000803f00008040000000400000a040000040400000c040', "
	       "x'0000e04000000041')");

	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(user_version(f.path), store__schema_version());
	CHECK(store__schema_version() >= 6);
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_forecast(b, 1, 120, 2, 3, lv, q, mid), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 1, 180, 2, 3, lv, q, other), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	/* Old rows untouched, the new median-mean row without its mean. */
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT sum(length(mean)) FROM "
				       "forecasts WHERE t IN (0, 60, 180)"),
		     24);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT length(mean) FROM forecasts "
				       "WHERE t = 120"),
		     0);

	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	memset(&a, 0, sizeof a);
	CHECK_EQ_INT(store_forecasts(r, 1, -1e9, 1e9, fc_means_cb, &a), 0);
	CHECK_EQ_INT(a.n, 4);
	for (k = 0; k < 4 && k < a.n; k++)
		if (a.t[k] != 60.0 * k || memcmp(a.mean[k], want[k], 8) ||
		    memcmp(a.mid[k], mid, 8))
			ok = 0;
	CHECK(ok);
	store_reader_free(r);

	/* nq 2 and an empty mean: no middle quantile to take it from. */
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__exec(db, "INSERT INTO forecasts VALUES(2, 0.0, 1, "
				     "2, x'cdcccc3d6666663f', "
				     "x'0000803f00000040', x'')"),
		     0);
	sqlite3_close(db);
	CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
	memset(&a, 0, sizeof a);
	CHECK_EQ_INT(store_forecasts(r, 2, -1e9, 1e9, fc_means_cb, &a),
		     STORE_ECORRUPT);
	store_reader_free(r);
	fx_release(&f);
}

static void test_snapshot_upsert(void)
{
	fx f;
	store *s;
	store_batch *b;
	sqlite3 *db;
	sqlite3_stmt *st;
	float state[16];
	uint64_t seens[4] = {5, 10, 7, 12};
	int i, rows = 0;
	int64_t seen = 0;
	io_snap sn;

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	for (i = 0; i < 4; i++) {
		int j;
		for (j = 0; j < 16; j++)
			state[j] = (float)(seens[i] * 100 + (uint64_t)j);
		b = store_batch_new();
		CHECK_EQ_INT(store_batch_snapshot(b, 4, "m1", 0xabcULL,
						  (double)seens[i], seens[i],
						  state, 16),
			     0);
		store_submit(s, b, 0, NULL, NULL);
		if (i == 1) {
			/* Make sure 10 is committed before 7 arrives. */
			fx_close_store(&f, s);
			CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
		}
	}
	fx_close_store(&f, s);
	CHECK_EQ_INT(sqlite3_open(f.path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db,
					"SELECT seen, state, checksum, "
					"model_hash FROM snapshots",
					-1, &st, NULL),
		     SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		seen = sqlite3_column_int64(st, 0);
		CHECK_EQ_INT(io_snap_decode(sqlite3_column_blob(st, 1),
					    (size_t)sqlite3_column_bytes(st, 1),
					    &sn),
			     0);
		CHECK_EQ_INT(sn.seen, 12);
		CHECK_EQ_INT(sn.nfloats, 16);
		CHECK_EQ_INT(sqlite3_column_int64(st, 2), sn.crc);
		CHECK_EQ_INT(sqlite3_column_int64(st, 3), 0xabc);
		io_snap_copy_state(&sn, state);
		CHECK(state[3] == 1203.0f);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_EQ_INT(rows, 1);
	CHECK_EQ_INT(seen, 12);
	/* Older snapshot 7 after 10 was ignored: prove with a fresh run. */
	fx_release(&f);
}

static void test_series_update_drop_redeclare(void)
{
	fx f;
	store *s;
	store_batch *b;
	float st[2] = {1, 2};

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	/* Declared while learning (step 0), then its step becomes known. */
	CHECK_EQ_INT(store_batch_series(b, 1, "cpu", "", 0, 1, 5), 0);
	store_batch_sample(b, 1, 1, 10, 1);
	store_batch_snapshot(b, 1, "m", 1, 10, 1, st, 2);
	CHECK_EQ_INT(store_batch_series(b, 1, "cpu", "", 15, 4, 5), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT step_s*10+period FROM series"),
		     154);
	/* Dropped and declared again under a new id in one batch. */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_drop_series(b, 1), 0);
	CHECK_EQ_INT(store_batch_series(b, 2, "cpu", "", 15, 1, 6), 0);
	store_batch_sample(b, 2, 1, 20, 1);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT group_concat(id) FROM series"),
		     2);
	CHECK_EQ_INT(fx_series_samples(f.path, 1), 0);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM snapshots"), 0);
	CHECK_EQ_INT(count(f.path, "samples"), 1);
	fx_release(&f);
}

/* Declarations go STORE_SERIES_PER_INSERT to a statement: every row is
 * applied in order under the upsert, as one statement each did. */
static void test_series_many_in_one_batch(void)
{
	fx f;
	store *s;
	store_batch *b;
	char name[32];
	int i, n = 2 * STORE_SERIES_PER_INSERT + 8;

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof name, "s%d", i);
		CHECK_EQ_INT(store_batch_series(b, i, name, "", 0, 1, i), 0);
	}
	/* Series 2's step learned in the same statement's rows; then a row
	 * whose (name, tags) another id holds is left out. */
	CHECK_EQ_INT(store_batch_series(b, 2, "s2", "", 30, 7, 2), 0);
	CHECK_EQ_INT(store_batch_series(b, n + 1, "s3", "", 60, 1, 3), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM series"), n);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT sum(id) FROM series"),
		     n * (n + 1) / 2);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM series WHERE "
				       "name = 's' || id AND created = id"),
		     n);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT step_s*10+period FROM series "
				       "WHERE id = 2"),
		     307);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT id FROM series WHERE "
				       "name = 's3'"),
		     3);
	fx_release(&f);
}

static void test_bad_args(void)
{
	fx f;
	store *s = NULL;
	store_opts o;
	store_batch *b = store_batch_new();

	CHECK_EQ_INT(store_batch_sample(b, 0, 1, 1, 1), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_sample(b, 1, 0, 1, 1), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_sample(b, 1, 1, NAN, 1), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_series(b, 1, "x", NULL, -1, 1, 0),
		     STORE_EINVAL);
	CHECK_EQ_INT(store_batch_reserve(b, 1, 1, 0, 3), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_reserve(b, 1, 1, 2, 1001), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_reserve(b, SIZE_MAX, 0, 0, 0), STORE_ENOMEM);
	CHECK_EQ_INT(store_batch_reserve(b, 0, SIZE_MAX / 4, 2, 3),
		     STORE_ENOMEM);
	CHECK_EQ_INT(store_batch_reserve(NULL, 1, 0, 0, 0), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_rows(b), 0);
	store_batch_free(b);
	fx_init(&f);
	store_opts_default(&o);
	o.commit_ms = 0;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), STORE_EINVAL);
	CHECK_EQ_INT(store_open(&s, &f.loop, "/nonexistent/dir/x.db", NULL),
		     STORE_EOPEN);
	CHECK(strlen(store_strerror(STORE_EFULL)) > 0);
	fx_release(&f);
}

int main(void)
{
	TH_RUN(test_group_commit_by_rows);
	TH_RUN(test_row_bound_splits_and_close_flushes);
	TH_RUN(test_ack_after_commit);
	TH_RUN(test_flush_read_your_writes);
	TH_RUN(test_queued_bytes);
	TH_RUN(test_order_history_and_nan);
	TH_RUN(test_multi_row_samples_and_wal_checkpoints);
	TH_RUN(test_wal_rounds_beside_a_reader);
	TH_RUN(test_migrations);
	TH_RUN(test_forecast_layout);
	TH_RUN(test_forecasts_migrate_v4);
	TH_RUN(test_forecasts_mean_v6);
	TH_RUN(test_snapshot_upsert);
	TH_RUN(test_series_many_in_one_batch);
	TH_RUN(test_series_update_drop_redeclare);
	TH_RUN(test_bad_args);
	return th_summary();
}
