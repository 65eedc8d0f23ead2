/*
 * tests/io/test_store_log.c: the sample log and its chunks (store_log.c,
 * store_compact.c): the log record's encoding, sorting with the first copy
 * of a seq kept, reads merging chunks + log in seq order (duplicates, gap
 * fills, a dropped and redeclared id), compaction keeping every sample
 * readable, a writer killed anywhere in a compaction round, retention
 * of chunks (whole and trimmed, never past the snapshot), the
 * conversion of a schema-3 samples table at open, and schema 8's tmax
 * (a read from t skips the log rows all older than t).
 */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "io/store_int.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

static void test_log_record_roundtrip(void)
{
	unsigned char p[STORE_LOG_REC];
	sb_sample in = {123456789012345, 42, 1.6e9 + 0.25, -3.5}, out;
	uint64_t bits;
	double odd;

	store__log_put(p, &in);
	/* Little-endian: the series id's low byte first. */
	CHECK_EQ_INT(p[0], 123456789012345 & 0xff);
	CHECK_EQ_INT(p[8], 42);
	store__log_get(p, &out);
	CHECK(out.sid == in.sid && out.seq == in.seq && out.t == in.t &&
	      out.v == in.v);
	/* Any NaN is stored as the one quiet NaN. */
	bits = 0x7ff0000000000123ull; /* a signalling NaN with a payload */
	memcpy(&odd, &bits, 8);
	in.v = odd;
	store__log_put(p, &in);
	store__log_get(p, &out);
	CHECK(isnan(out.v));
	memcpy(&bits, &out.v, 8);
	{
		double q = NAN;
		uint64_t qb;
		memcpy(&qb, &q, 8);
		CHECK(bits == qb);
	}
}

static void test_log_sort_keeps_first(void)
{
	/* Dense ids (counting sort) and sparse ones (merge sort). */
	int64_t base[2] = {1, 1000000007};
	int k;

	for (k = 0; k < 2; k++) {
		sb_sample a[8] = {
		    {base[k] + 2, 5, 1, 10}, {base[k] + 1, 2, 1, 20},
		    {base[k] + 2, 3, 1, 30}, {base[k] + 1, 2, 1, 99},
		    {base[k] + 1, 1, 1, 40}, {base[k] + 2, 5, 1, 98},
		    {base[k] + 0, 7, 1, 50}, {base[k] + 2, 4, 1, 60},
		};
		long n = store__log_sort(a, 8);
		CHECK_EQ_INT(n, 6);
		CHECK(a[0].sid == base[k] && a[0].seq == 7);
		CHECK(a[1].sid == base[k] + 1 && a[1].seq == 1);
		CHECK(a[2].seq == 2 && a[2].v == 20); /* first copy kept */
		CHECK(a[3].sid == base[k] + 2 && a[3].seq == 3);
		CHECK(a[4].seq == 4);
		CHECK(a[5].seq == 5 && a[5].v == 10);
	}
}

/* One scratch for windows of different sizes and id ranges, dense and
 * sparse, as a recovery reader's log windows: the same result as a sort
 * with its own scratch (the counters are cleared, the buffers grown). */
static void test_log_sort_scratch_reused(void)
{
	store__sortbuf b = {0};
	uint64_t x = 88172645463325252ull;
	int w, bad = 0;

	for (w = 0; w < 6; w++) {
		size_t n = w % 2 ? 3000 : 200 + (size_t)w * 50, i;
		int64_t lo = w == 4 ? 1000000007 : 1 + (int64_t)w * 100;
		int64_t span = w == 5 ? 10000000 : (int64_t)n / 3 + 1;
		sb_sample *a = malloc(n * sizeof *a),
			  *c = malloc(n * sizeof *c);
		long ka, kc;
		if (!a || !c) {
			free(a);
			free(c);
			CHECK(0);
			break;
		}
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			a[i] = (sb_sample){lo + (int64_t)(x % (uint64_t)span),
					   (int64_t)(x >> 40) % 50, 1.0,
					   (double)i};
		}
		memcpy(c, a, n * sizeof *a);
		ka = store__log_sort_in(a, n, &b);
		kc = store__log_sort(c, n);
		bad += ka != kc || ka <= 0 ||
		       memcmp(a, c, (size_t)ka * sizeof *a) != 0;
		for (i = 1; ka > 0 && i < (size_t)ka; i++)
			bad += a[i].sid < a[i - 1].sid ||
			       (a[i].sid == a[i - 1].sid &&
				a[i].seq <= a[i - 1].seq);
		free(a);
		free(c);
	}
	CHECK_EQ_INT(bad, 0);
	store__sortbuf_release(&b);
}

static void test_log_rows_sorted_by_series(void)
{
	/* Ids that differ in their first and third bytes: two radix
	 * passes; a series' records keep their order (seq 9 before 3). */
	int64_t sids[6] = {0x20001, 0x10002, 0x20001, 5, 0x10002, 0x20001};
	int64_t seqs[6] = {9, 1, 3, 7, 2, 4};
	unsigned char a[6 * STORE_LOG_REC], tmp[6 * STORE_LOG_REC];
	sb_sample r;
	int i;

	for (i = 0; i < 6; i++) {
		sb_sample in = {sids[i], seqs[i], i, i};
		store__log_put(a + i * STORE_LOG_REC, &in);
	}
	store__log_sort_rows(a, tmp, 6);
	{
		int64_t want_sid[6] = {5,	0x10002, 0x10002,
				       0x20001, 0x20001, 0x20001};
		int64_t want_seq[6] = {7, 1, 2, 9, 3, 4};
		int ok = 1;
		for (i = 0; i < 6; i++) {
			store__log_get(a + i * STORE_LOG_REC, &r);
			ok = ok && r.sid == want_sid[i] && r.seq == want_seq[i];
		}
		CHECK(ok);
	}
}

typedef struct got {
	int64_t seq[256];
	double t[256], v[256];
	int n;
} got;

static int got_cb(void *ud, const store_sample *s, size_t n)
{
	got *g = ud;
	size_t i;

	for (i = 0; i < n && g->n < 256; i++) {
		g->seq[g->n] = s[i].seq;
		g->t[g->n] = s[i].t;
		g->v[g->n] = s[i].value;
		g->n++;
	}
	return 0;
}

static int history(const char *path, int64_t sid, double t0, double t1,
		   size_t limit, got *g)
{
	store_reader *r;
	int rc;

	memset(g, 0, sizeof *g);
	if ((rc = store_reader_open(&r, path)) != 0)
		return rc;
	rc = store_history(r, sid, t0, t1, limit, got_cb, g);
	store_reader_free(r);
	return rc;
}

static int rec_called(void *ud)
{
	return ((done_rec *)ud)->called;
}

/* Submit b with an ack and wait for its commit. */
static int commit(fx *f, store *s, store_batch *b)
{
	done_rec d = {0};

	store_submit(s, b, STORE_ACK, fx_on_done, &d);
	if (!fx_run_until(f, rec_called, &d, 20000))
		return -1;
	return d.r.status;
}

/* seqs [lo, hi] of sid, t = 100 + seq, value = seq + off (NaN at 7). */
static store_batch *run_of(int64_t sid, int64_t lo, int64_t hi, double off)
{
	store_batch *b = store_batch_new();
	int64_t q;

	for (q = lo; q <= hi; q++)
		store_batch_sample(b, sid, q, 100.0 + (double)q,
				   q == 7 ? NAN : (double)q + off);
	return b;
}

static int compacted(void *ud)
{
	store_stats st;

	store_get_stats(ud, &st);
	return st.compacted > 0;
}

/* Open with compaction after every commit, wait for the first one. */
static int open_compacting(fx *f, store **s)
{
	store_opts o;
	int rc;

	store_opts_default(&o);
	o.log_max_samples = 1;
	if ((rc = store_open(s, &f->loop, f->path, &o)) != 0)
		return rc;
	return fx_run_until(f, compacted, *s, 20000) ? 0 : -1;
}

static void check_seqs(const got *g, int64_t lo, int64_t hi, double off)
{
	int i, ok = g->n == (int)(hi - lo + 1);

	for (i = 0; ok && i < g->n; i++) {
		int64_t q = lo + i;
		ok = g->seq[i] == q && g->t[i] == 100.0 + (double)q &&
		     (q == 7 ? isnan(g->v[i]) : g->v[i] == (double)q + off);
	}
	CHECK(ok);
}

static void test_merge_chunks_and_log(void)
{
	fx f;
	store *s;
	store_opts o;
	got g;
	store_batch *b;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = (size_t)1 << 30; /* compaction only on demand */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	store_batch_series(b, 1, "a", "", 1, 1, 0);
	store_batch_series(b, 2, "b", "", 1, 1, 0);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	/* 1..5 and 9..12 (a gap at 6..8), with series 2 interleaved in
	 * the same log row (a reader finds each by binary search). */
	b = store_batch_new();
	{
		int q;
		for (q = 1; q <= 5; q++) {
			store_batch_sample(b, 2, q, 100.0 + q, q + 1000.0);
			store_batch_sample(b, 1, q, 100.0 + q, q);
			if (q == 3)
				break;
		}
	}
	CHECK_EQ_INT(commit(&f, s, b), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 4, 5, 0)), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 9, 12, 0)), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_chunks"),
		     0);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT sum(n) FROM sample_log"), 12);

	/* Into chunks, one per run of consecutive seqs: 1..5, 9..12; then
	 * the gap filled late: 6, 7, 8 one chunk each. */
	CHECK_EQ_INT(open_compacting(&f, &s), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 6, 8, 0)), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log"), 0);
	CHECK_EQ_INT(fx_scalar(f.path,
			       "SELECT count(*) FROM sample_chunks WHERE "
			       "series_id=1"),
		     5);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	check_seqs(&g, 1, 12, 0);
	CHECK_EQ_INT(history(f.path, 2, -INFINITY, INFINITY, 0, &g), 0);
	check_seqs(&g, 1, 3, 1000);

	/* Chunks + log: a duplicate in the log (INSERT OR IGNORE: a seq
	 * stored again with another value) loses to the chunk, and to an
	 * earlier log copy. */
	o.log_max_samples = (size_t)1 << 30;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 3, 3, 500)), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 13, 14, 0)), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 13, 13, 500)), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	check_seqs(&g, 1, 14, 0);
	{
		store_reader *r;
		int64_t n = 0;
		CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
		CHECK_EQ_INT(store_count(r, "samples", &n), 0);
		CHECK_EQ_INT(n, 14 + 3);
		store_reader_free(r);
	}
	/* A time range and a limit cut across chunks and log. */
	CHECK_EQ_INT(history(f.path, 1, 104, 113.5, 0, &g), 0);
	check_seqs(&g, 4, 13, 0);
	CHECK_EQ_INT(history(f.path, 1, 104, INFINITY, 3, &g), 0);
	check_seqs(&g, 4, 6, 0);
	/* And the same once compacted. */
	CHECK_EQ_INT(open_compacting(&f, &s), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log"), 0);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	check_seqs(&g, 1, 14, 0);
	fx_release(&f);
}

static void test_drop_voids_log_samples(void)
{
	fx f;
	store *s;
	store_opts o;
	store_batch *b;
	got g;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = (size_t)1 << 30;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = run_of(1, 1, 5, 0);
	store_batch_series(b, 1, "a", "", 1, 1, 0);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	/* In one transaction: more samples, then the drop, then the same
	 * id declared again with samples of its own. */
	store_submit(s, run_of(1, 6, 6, 0), 0, NULL, NULL);
	b = run_of(1, 1, 2, 700);
	store_batch_drop_series(b, 1);
	store_batch_series(b, 1, "a", "", 1, 1, 0);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	CHECK_EQ_INT(g.n, 2);
	CHECK(g.n == 2 && g.v[0] == 701 && g.v[1] == 702);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log_void"),
		     1);
	/* Compaction keeps it so and forgets the mark. */
	CHECK_EQ_INT(open_compacting(&f, &s), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log_void"),
		     0);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	CHECK(g.n == 2 && g.v[0] == 701 && g.v[1] == 702);
	fx_release(&f);
}

/* A compaction round in steps of at most 2 x 7 samples, in a child killed
 * after `budget` x 16 SQLite VM instructions (anywhere: inside a step's
 * transaction, between steps); exits 0 when the round is over first. */
static void crash_child(const char *path, long budget)
{
	store *s = calloc(1, sizeof *s);
	int rc;

	store_opts_default(&s->o);
	s->o.compact_step = 7;
	pthread_mutex_init(&s->mu, NULL);
	if (store__open_db(path, 1, &s->o, &s->db) != 0 ||
	    store__prepare(s) != 0)
		_exit(3);
	sqlite3_progress_handler(s->db, 16, fx_kill_after, &budget);
	if ((rc = store__compact_begin(s)) < 0)
		_exit(4);
	while (rc > 0 && s->cmp.maxid)
		if (store__compact_step(s) < 0)
			_exit(5);
	_exit(0);
}

/* Every series' samples exactly once, with their values; chunks
 * disjoint. */
static void check_all(const char *path, void *ud)
{
	int *ok = ud;
	static const int64_t last[4] = {40, 40, 64, 3};
	got g;
	int sid, i;

	for (sid = 1; sid <= 4; sid++) {
		int64_t n = last[sid - 1];
		int good =
		    history(path, sid, -INFINITY, INFINITY, 0, &g) == 0 &&
		    g.n == (int)n;
		for (i = 0; good && i < g.n; i++)
			good = g.seq[i] == i + 1 &&
			       g.t[i] == 100.0 + (double)(i + 1) &&
			       (i + 1 == 7
				    ? isnan(g.v[i])
				    : g.v[i] == (double)(i + 1) + 1000.0 * sid);
		*ok = *ok && good;
	}
	*ok = *ok && fx_scalar(path, "SELECT count(*) FROM sample_chunks a "
				     "JOIN sample_chunks b ON a.series_id = "
				     "b.series_id AND a.seq0 < b.seq0 AND "
				     "b.seq0 < a.seq0 + a.n") == 0;
}

static void test_crash_inside_compaction(void)
{
	fx f;
	store *s;
	store_opts o;
	int i, kills = 0, ok = 1, status = 0;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = (size_t)1 << 30;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	/* Series 1-3 together in each of 4 log rows (a step's range ends
	 * inside a row: the row stays until a later step empties it), 3
	 * with more than a step holds (moved a run of rows at a time), 4
	 * small and in the last row; 1's first 10 twice (the first copy
	 * wins). */
	for (i = 0; i < 4; i++) {
		store_batch *b = run_of(3, 1 + 16 * i, 16 + 16 * i, 3000);
		int64_t q;
		for (q = 1 + 10 * i; q <= 10 + 10 * i; q++) {
			store_batch_sample(b, 1, q, 100.0 + (double)q,
					   q == 7 ? NAN : (double)q + 1000);
			store_batch_sample(b, 2, q, 100.0 + (double)q,
					   q == 7 ? NAN : (double)q + 2000);
		}
		CHECK_EQ_INT(commit(&f, s, b), 0);
	}
	CHECK_EQ_INT(commit(&f, s, run_of(4, 1, 3, 4000)), 0);
	CHECK_EQ_INT(commit(&f, s, run_of(1, 1, 10, 5)), 0);
	fx_close_store(&f, s);
	/* Killed ever later: each start goes on from what the last one
	 * committed, until a round ends before its kill. */
	status = fx_crash_loop(f.path, 4, 100000, crash_child, check_all, &ok,
			       &kills);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(kills >= 10);
	CHECK(ok);
	/* The round is over: the log is empty, the samples in chunks. */
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log"), 0);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT sum(n) FROM sample_chunks"),
		     40 + 40 + 64 + 3);
	check_all(f.path, &ok);
	CHECK(ok);
	{
		store_reader *r;
		CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
		CHECK_EQ_INT(store_integrity_check(r), 0);
		store_reader_free(r);
	}
	fx_release(&f);
}

/* A scan of the log by ranges: every sample once, ranges ascending and
 * disjoint, at most 2 x budget unless one series holds more: then all of
 * it (whole), or a run of its rows at a time; store_count reads the
 * log in windows the same way. */
static void test_log_scan_ranges(void)
{
	fx f;
	store *s;
	store_opts o;
	sqlite3 *db;
	int whole, i;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = (size_t)1 << 30;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	/* 6 rows: series 1..20 with 3 samples each per row, and series 9
	 * with 40 more per row. */
	for (i = 0; i < 6; i++) {
		store_batch *b = run_of(9, 100 + 40 * i, 139 + 40 * i, 9000);
		int64_t sid, q;
		for (sid = 1; sid <= 20; sid++)
			for (q = 1 + 3 * i; q <= 3 + 3 * i; q++)
				store_batch_sample(b, sid, q, 100.0 + (double)q,
						   (double)q);
		CHECK_EQ_INT(commit(&f, s, b), 0);
	}
	fx_close_store(&f, s);
	CHECK_EQ_INT(store__open_db(f.path, 0, NULL, &db), 0);
	for (whole = 0; whole <= 1; whole++) {
		store__lscan l;
		int64_t total, seen = 0, prev_hi = INT64_MIN;
		int ranges = 0, ok = 1, big = 0;
		CHECK_EQ_INT(store__exec(db, "BEGIN"), 0);
		CHECK_EQ_INT(store__lscan_init(&l, db, NULL), 0);
		CHECK_EQ_INT((int)l.n, 6);
		while (store__lscan_range(&l, 10, whole, &total) == 0 &&
		       total > 0) {
			size_t k;
			CHECK_EQ_INT(store__lscan_read(&l, total), 0);
			ok = ok && (int64_t)l.na == total && l.lo >= prev_hi;
			for (k = 0; k < l.na; k++)
				ok = ok && l.a[k].sid >= l.lo &&
				     (l.to_end || l.a[k].sid < l.hi);
			if (total > 20) {
				/* only series 9 may overflow a range */
				ok = ok && l.lo == 9 && l.hi == 10;
				big++;
			}
			if (!(l.hi == l.lo + 1 && l.lo == 9 && !whole))
				prev_hi = l.hi;
			seen += total;
			ranges++;
			store__lscan_next(&l);
		}
		CHECK(ok);
		CHECK_EQ_INT(seen, 6 * (20 * 3 + 40));
		CHECK(ranges >= 6);
		/* series 9: 240 samples, all at once, or one row's 40 at a
		 * time (at least a row) */
		CHECK_EQ_INT(big, whole ? 1 : 6);
		store__lscan_release(&l);
		CHECK_EQ_INT(store__exec(db, "COMMIT"), 0);
	}
	sqlite3_close(db);
	{
		store_reader *r;
		int64_t n = 0;
		size_t w = store__log_window;
		store__log_window = 5;
		CHECK_EQ_INT(store_reader_open(&r, f.path), 0);
		CHECK_EQ_INT(store_count(r, "samples", &n), 0);
		store_reader_free(r);
		store__log_window = w;
		CHECK_EQ_INT(n, 20 * 18 + 240);
	}
	fx_release(&f);
}

static int deleted_at_least(void *ud)
{
	store_stats st;

	store_get_stats(ud, &st);
	return st.retention_deleted >= 40 + 15;
}

static void test_retention_of_chunks(void)
{
	fx f;
	store *s;
	store_opts o;
	store_batch *b;
	float state[2] = {0, 0};
	double now = (double)time(NULL), old = now - 10000;
	got g;
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = 1; /* a chunk per commit */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	store_batch_series(b, 1, "a", "", 1, 1, old);
	store_batch_series(b, 2, "b", "", 1, 1, old);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	/* Five chunks of 10: 1..40 old, 41..50 young; snapshot at 45. */
	for (i = 0; i < 5; i++) {
		int k;
		b = store_batch_new();
		for (k = 1; k <= 10; k++) {
			int q = 10 * i + k;
			store_batch_sample(b, 1, q, q <= 40 ? old + q : now + q,
					   q);
		}
		CHECK_EQ_INT(commit(&f, s, b), 0);
	}
	b = store_batch_new();
	store_batch_snapshot(b, 1, "m", 1, now, 45, state, 2);
	/* Series 2: all old, snapshot at 15: its chunk 1..30 is trimmed to
	 * 16..30. */
	for (i = 1; i <= 30; i++)
		store_batch_sample(b, 2, i, old + i, i);
	store_batch_snapshot(b, 2, "m", 1, old + 15, 15, state, 2);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	fx_close_store(&f, s);
	CHECK(fx_scalar(f.path, "SELECT count(*) FROM sample_chunks WHERE "
				"series_id=1") == 5);

	o.log_max_samples = (size_t)1 << 30;
	o.sample_retention_s = 3600;
	o.retention_batch = 4; /* chunks trimmed over many steps */
	o.retention_ms = 1;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK(fx_run_until(&f, deleted_at_least, s, 30000));
	fx_close_store(&f, s);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 0, &g), 0);
	CHECK_EQ_INT(g.n, 10);
	CHECK(g.n > 0 && g.seq[0] == 41);
	CHECK_EQ_INT(history(f.path, 2, -INFINITY, INFINITY, 0, &g), 0);
	CHECK_EQ_INT(g.n, 15);
	CHECK(g.n > 0 && g.seq[0] == 16 && g.t[0] == old + 16);
	fx_release(&f);
}

static void test_convert_schema3(void)
{
	fx f;
	store *s;
	sqlite3 *db;
	got g;
	char sql[160];
	int i, k;

	fx_init(&f);
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__migrate(db, 3), 0);
	CHECK_EQ_INT(store__exec(db, "BEGIN"), 0);
	/* 3 series; series 2 with a gap at 6..8 and a NULL (NaN) at 7 of
	 * series 1; 150k rows in all: two conversion transactions. */
	for (k = 1; k <= 3; k++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO series VALUES(%d,'s%d','',60,1,0)", k, k);
		CHECK_EQ_INT(store__exec(db, sql), 0);
	}
	{
		sqlite3_stmt *st;
		CHECK_EQ_INT(sqlite3_prepare_v2(db,
						"INSERT INTO samples "
						"VALUES(?,?,?,?)",
						-1, &st, NULL),
			     SQLITE_OK);
		for (k = 1; k <= 3; k++)
			for (i = 1; i <= 50000; i++) {
				if (k == 2 && i >= 6 && i <= 8)
					continue;
				sqlite3_bind_int(st, 1, k);
				sqlite3_bind_int(st, 2, i);
				sqlite3_bind_double(st, 3, 100.0 + i);
				if (i == 7)
					sqlite3_bind_null(st, 4);
				else
					sqlite3_bind_double(st, 4,
							    i + 1000.0 * k);
				CHECK(sqlite3_step(st) == SQLITE_DONE);
				sqlite3_reset(st);
			}
		sqlite3_finalize(st);
	}
	CHECK_EQ_INT(store__exec(db, "COMMIT"), 0);
	sqlite3_close(db);

	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "PRAGMA user_version"),
		     store__schema_version());
	CHECK_EQ_INT(fx_scalar(f.path,
			       "SELECT count(*) FROM sqlite_master WHERE "
			       "name='samples'"),
		     0);
	CHECK_EQ_INT(fx_series_samples(f.path, 1), 50000);
	CHECK_EQ_INT(fx_series_samples(f.path, 2), 50000 - 3);
	CHECK_EQ_INT(fx_series_samples(f.path, 3), 50000);
	CHECK_EQ_INT(history(f.path, 1, -INFINITY, INFINITY, 10, &g), 0);
	check_seqs(&g, 1, 10, 1000);
	CHECK_EQ_INT(history(f.path, 2, 104, 111, 0, &g), 0);
	CHECK(g.n == 4 && g.seq[0] == 4 && g.seq[1] == 5 && g.seq[2] == 9 &&
	      g.v[2] == 2009);
	CHECK_EQ_INT(history(f.path, 3, 50091, 50101, 0, &g), 0);
	CHECK(g.n == 10 && g.seq[9] == 50000 && g.v[9] == 53000);
	fx_release(&f);
}

/* seqs [lo, hi] of sid at t = t0 + 10 * (seq - lo), value = seq. */
static store_batch *span_of(int64_t sid, int64_t lo, int64_t hi, double t0)
{
	store_batch *b = store_batch_new();
	int64_t q;

	for (q = lo; q <= hi; q++)
		store_batch_sample(b, sid, q, t0 + 10.0 * (double)(q - lo),
				   (double)q);
	return b;
}

/* The full read, filtered to t >= t0 by hand: the naive twin of a read
 * from t0 (which skips the log rows all older than t0). */
static int same_as_filtered(const char *path, int64_t sid, double t0)
{
	got all, from;
	int i, k = 0, ok;

	if (history(path, sid, -INFINITY, INFINITY, 0, &all) ||
	    history(path, sid, t0, INFINITY, 0, &from))
		return 0;
	ok = from.n > 0 || t0 > all.t[all.n - 1];
	for (i = 0; ok && i < all.n; i++) {
		if (all.t[i] < t0)
			continue;
		ok = k < from.n && from.seq[k] == all.seq[i] &&
		     from.t[k] == all.t[i] && from.v[k] == all.v[i];
		k++;
	}
	return ok && k == from.n;
}

/*
 * Schema 8: a log row records its newest sample time (tmax) as well as its
 * oldest, and a read from t skips the rows all older than t with the same
 * result as the whole read filtered; rows without tmax (written before
 * the migration) are read as before; a reader on a database still at
 * schema 7 reads every row.
 */
static void test_log_tmax(void)
{
	static const double from[] = {-INFINITY, 0,   150, 195, 200,
				      205,	 290, 305, 400};
	fx f;
	store *s;
	store_opts o;
	sqlite3 *db;
	store_batch *b;
	size_t i;
	int ok = 1;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = (size_t)1 << 30; /* no compaction */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	store_batch_series(b, 1, "a", "", 1, 1, 0);
	store_batch_series(b, 2, "b", "", 1, 1, 0);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	/* Three transactions: t 100..190, 200..290, 300..390, with series
	 * 2 in the middle one's row. */
	CHECK_EQ_INT(commit(&f, s, span_of(1, 1, 10, 100)), 0);
	b = span_of(1, 11, 20, 200);
	store_batch_sample(b, 2, 1, 250, -1);
	CHECK_EQ_INT(commit(&f, s, b), 0);
	CHECK_EQ_INT(commit(&f, s, span_of(1, 21, 30, 300)), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log"), 3);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sample_log "
				       "WHERE tmin=100 AND tmax=190 OR "
				       "tmin=200 AND tmax=290 OR "
				       "tmin=300 AND tmax=390"),
		     3);
	for (i = 0; i < sizeof from / sizeof *from; i++)
		ok = ok && same_as_filtered(f.path, 1, from[i]);
	CHECK(ok);
	/* The rows are picked from the index alone (no table seek each). */
	{
		sqlite3_stmt *q;
		const char *plan;
		CHECK_EQ_INT(store__open_db(f.path, 0, NULL, &db), 0);
		CHECK_EQ_INT(sqlite3_prepare_v2(
				 db,
				 "EXPLAIN QUERY PLAN SELECT id, n FROM "
				 "sample_log WHERE smax>=1 AND smin<=1 AND "
				 "(tmax IS NULL OR tmax>=0)",
				 -1, &q, NULL),
			     SQLITE_OK);
		CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
		plan = (const char *)sqlite3_column_text(q, 3);
		CHECK(plan && strstr(plan, "COVERING INDEX sample_log_sid"));
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	{
		got g;
		CHECK_EQ_INT(history(f.path, 1, 205, 300, 0, &g), 0);
		CHECK_EQ_INT(g.n, 9); /* seqs 12..20 */
		CHECK(g.n == 9 && g.seq[0] == 12 && g.seq[8] == 20);
		CHECK_EQ_INT(history(f.path, 2, 240, INFINITY, 0, &g), 0);
		CHECK(g.n == 1 && g.t[0] == 250 && g.v[0] == -1);
		CHECK_EQ_INT(history(f.path, 2, 251, INFINITY, 0, &g), 0);
		CHECK_EQ_INT(g.n, 0);
	}

	/* Rows from before the migration (tmax NULL) are read. */
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__exec(db, "UPDATE sample_log SET tmax=NULL"), 0);
	sqlite3_close(db);
	ok = 1;
	for (i = 0; i < sizeof from / sizeof *from; i++)
		ok = ok && same_as_filtered(f.path, 1, from[i]);
	CHECK(ok);
	fx_release(&f);

	/* A database at schema 7: the migration adds the column, and a
	 * reader opened before it (no tmax) reads every row. */
	fx_init(&f);
	CHECK_EQ_INT(store__open_db(f.path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__migrate(db, 7), 0);
	CHECK_EQ_INT(
	    store__exec(db, "INSERT INTO series VALUES(1,'a','',1,1,0)"), 0);
	sqlite3_close(db);
	{
		got g;
		CHECK_EQ_INT(history(f.path, 1, 0, INFINITY, 0, &g), 0);
		CHECK_EQ_INT(g.n, 0);
	}
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK_EQ_INT(commit(&f, s, span_of(1, 1, 10, 100)), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "PRAGMA user_version"), 8);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT tmax FROM sample_log"), 190);
	CHECK(same_as_filtered(f.path, 1, 150));
	fx_release(&f);
}

int main(void)
{
	TH_RUN(test_log_record_roundtrip);
	TH_RUN(test_log_sort_keeps_first);
	TH_RUN(test_log_sort_scratch_reused);
	TH_RUN(test_log_rows_sorted_by_series);
	TH_RUN(test_merge_chunks_and_log);
	TH_RUN(test_drop_voids_log_samples);
	TH_RUN(test_crash_inside_compaction);
	TH_RUN(test_log_scan_ranges);
	TH_RUN(test_retention_of_chunks);
	TH_RUN(test_convert_schema3);
	TH_RUN(test_log_tmax);
	return th_summary();
}
