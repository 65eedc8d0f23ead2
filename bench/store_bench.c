/*
 * bench/store_bench.c: what the SQLite store sustains, against peers
 * measured in the same run, written to bench/results/store.md.
 *
 *   build/bench/store_bench [--quick] [--out FILE] [--dir DIR] [--daemon P]
 *
 * Sections:
 *  1. ingest through the store (writer thread, group commit) at 1k and 100k
 *     series: samples/s, and the submit->COMMIT latency of every batch;
 *     acknowledged pushes (STORE_ACK) with their latency distribution;
 *  2. peers on the same rows: one transaction per sample (autocommit
 *     INSERT, what a naive daemon does), and the sqlite3 CLI's .import of a
 *     CSV (a bulk load: one transaction, no per-row work of ours);
 *  3. key order of the samples table under interleaved ingest: WITHOUT
 *     ROWID (series_id, seq) [ours], rowid table + index (series_id, seq),
 *     WITHOUT ROWID (seq, series_id) (time-major: no per-series access);
 *  4. restore (store_recover: snapshot decode + copy of every state block +
 *     replay of the samples after it) at 100k and 1M series;
 *  5. statecastd itself starting on such a database (its default model),
 *     from exec to its "ready" line.
 * Timings are wall clock on a shared machine: compare within one run.
 *
 *   build/bench/store_bench --log-bench SERIES PER_SERIES [--fc-every K]
 *                           [--scatter] [--commit-rows N] [--dir DIR]
 *
 * instead prints one line of key=value figures of the store's sample path
 * at steady state, through the public API only (so bench/slog.sh builds
 * this same file against a base revision for an A/B in one run): SERIES x
 * PER_SERIES samples ingested (batches of 1000, 64 in flight) until the
 * store is closed: samples/s and the process' CPU per sample (every
 * thread, getrusage), database bytes per sample, a full-range history read
 * of 200 series, and a recovery replaying every sample (no snapshots).
 * With --fc-every K, every K-th sample of a series comes with a forecast
 * of the default model's shape (48 horizons x 3 quantiles, ~800 bytes), as
 * store.forecast_every_s stores one per 5 samples at a 60 s step.
 * written_per_sample is the bytes the process wrote during the ingest
 * (/proc/self/io wchar: WAL pages and checkpoint copies); with
 * --commit-rows N the writer commits every N rows only (not every
 * 100 ms), so that figure is the same whatever the machine's load. Series go in
 * id order, each batch a run of consecutive ids; --scatter spreads a batch's
 * ids over all series (a prime stride), for layouts that depend on a commit's
 * ids being close (schema 7's forecast index, bench/results/fclog11.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "io/model_open.h"
#include "io/store.h"
#include "ssm/model.h"
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

static char g_dir[256];
static FILE *g_out;

static double now_s(void)
{
	return (double)uv_hrtime() * 1e-9;
}

static void rm_db(const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Bytes this process has passed to write(2) and its kin (/proc/self/io
 * wchar): the WAL's pages and the checkpoints' copies, a count that the
 * machine's load does not move (-1: not readable). */
static long long wchar_bytes(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	long long v = -1;
	char line[128];

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] * 1e-6; /* ms */
}

/* ---- 1. ingest through the store ---- */

typedef struct ing {
	uv_loop_t *loop;
	store *s;
	uint64_t nseries, total, submitted, done;
	uint64_t rows_sub; /* rows submitted (samples + forecasts) */
	int fc_every;	   /* a forecast per series every fc_every samples */
	int scatter;	   /* ids of a batch spread over all (--scatter) */
	int inflight, max_inflight, batch;
	unsigned flags;
	uint64_t *lat, *txr;
	size_t nlat;
	uint64_t qmax; /* longest submit -> BEGIN */
	int failed;
	double t1;
} ing;

static void ing_fill(ing *g);

static void ing_done(void *ud, const store_result *r)
{
	ing *g = ud;

	g->inflight--;
	g->done += r->rows;
	if (r->status)
		g->failed++;
	if (r->queued_ns > g->qmax)
		g->qmax = r->queued_ns;
	g->lat[g->nlat] = r->total_ns;
	g->txr[g->nlat++] = r->commit_rows;
	if (g->done >= g->total)
		g->t1 = now_s();
	ing_fill(g);
}

/* A forecast of the daemon's default shape (48 horizons x 3 quantiles). */
static void ing_forecast(store_batch *b, int64_t sid, double t)
{
	static const float lv[3] = {0.1f, 0.5f, 0.9f};
	float q[48 * 3], mean[48];
	int h;

	for (h = 0; h < 48; h++) {
		mean[h] = (float)(sid % 97) + 0.01f * (float)h;
		q[3 * h] = mean[h] - 1.0f;
		q[3 * h + 1] = mean[h];
		q[3 * h + 2] = mean[h] + 1.0f;
	}
	store_batch_forecast(b, sid, t, 48, 3, lv, q, mean);
}

static void ing_fill(ing *g)
{
	while (g->inflight < g->max_inflight && g->submitted < g->total) {
		store_batch *b = store_batch_new();
		int i;
		for (i = 0; i < g->batch && g->submitted < g->total; i++) {
			uint64_t k = g->submitted++;
			/* --scatter: the k-th series of a round is
			 * k x 1000003 mod nseries (a prime: every id once a
			 * round), so a batch's ids are spread over all. */
			int64_t sid =
			    (int64_t)(g->scatter ? (k % g->nseries) * 1000003u %
						       g->nseries
						 : k % g->nseries) +
			    1;
			int64_t seq = (int64_t)(k / g->nseries) + 1;
			store_batch_sample(b, sid, seq, 1.7e9 + seq * 10.0,
					   sin((double)k));
			if (g->fc_every && seq % g->fc_every == 0)
				ing_forecast(b, sid, 1.7e9 + seq * 10.0);
		}
		g->rows_sub += store_batch_rows(b);
		g->inflight++;
		store_submit(g->s, b, g->flags, ing_done, g);
	}
}

static int closed_flag;
static void on_closed(void *ud)
{
	(void)ud;
	closed_flag = 1;
}

static void close_store(uv_loop_t *loop, store *s)
{
	closed_flag = 0;
	store_close(s, on_closed, NULL);
	while (!closed_flag)
		uv_run(loop, UV_RUN_ONCE);
}

/* Declare nseries series in batches (not timed). */
static void declare_series(uv_loop_t *loop, store *s, uint64_t nseries)
{
	uint64_t i;
	store_batch *b = NULL;
	char name[48];

	for (i = 1; i <= nseries; i++) {
		if (!b)
			b = store_batch_new();
		snprintf(name, sizeof(name), "bench.series.%llu",
			 (unsigned long long)i);
		store_batch_series(b, (int64_t)i, name, "host=bench", 10, 1,
				   1.7e9);
		if (store_batch_rows(b) == 10000 || i == nseries) {
			store_submit(s, b, 0, NULL, NULL);
			b = NULL;
		}
	}
	(void)loop;
}

typedef struct ing_res {
	double rate, p50, p90, p99, max, mean_tx;
	int failed;
} ing_res;

static ing_res run_ingest(const char *path, uint64_t nseries, uint64_t total,
			  int batch, int inflight, unsigned flags, int sync)
{
	uv_loop_t loop;
	store *s;
	store_opts o;
	ing g;
	ing_res res;
	double t0, txsum = 0;
	size_t i, nb = (size_t)(total / (uint64_t)batch) + 2;

	rm_db(path);
	uv_loop_init(&loop);
	store_opts_default(&o);
	o.synchronous = sync;
	if (store_open(&s, &loop, path, &o) != 0) {
		fprintf(stderr, "store_open %s failed\n", path);
		exit(1);
	}
	declare_series(&loop, s, nseries);
	close_store(&loop, s); /* series committed before timing starts */
	store_open(&s, &loop, path, &o);
	memset(&g, 0, sizeof(g));
	g.loop = &loop;
	g.s = s;
	g.nseries = nseries;
	g.total = total;
	g.batch = batch;
	g.max_inflight = inflight;
	g.flags = flags;
	g.lat = calloc(nb, sizeof(uint64_t));
	g.txr = calloc(nb, sizeof(uint64_t));
	t0 = now_s();
	ing_fill(&g);
	while (g.done < g.total)
		uv_run(&loop, UV_RUN_ONCE);
	close_store(&loop, s);
	uv_loop_close(&loop);
	for (i = 0; i < g.nlat; i++)
		txsum += (double)g.txr[i];
	qsort(g.lat, g.nlat, sizeof(uint64_t), cmp_u64);
	res.rate = (double)total / (g.t1 - t0);
	res.p50 = pct(g.lat, g.nlat, 0.5);
	res.p90 = pct(g.lat, g.nlat, 0.9);
	res.p99 = pct(g.lat, g.nlat, 0.99);
	res.max = pct(g.lat, g.nlat, 1.0);
	res.mean_tx = txsum / (double)g.nlat;
	res.failed = g.failed;
	free(g.lat);
	free(g.txr);
	return res;
}

/* ---- 2. peers ---- */

static void exec_or_die(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s: %s\n", sql, err);
		exit(1);
	}
}

/* The samples table of schema 3 (a row per sample): what the naive and
 * import peers write, and the first of the key orders compared. */
#define ROW_SAMPLES                                                         \
	"samples(series_id INTEGER NOT NULL, seq INTEGER NOT NULL, t REAL " \
	"NOT NULL, value REAL, PRIMARY KEY(series_id, seq)) WITHOUT ROWID"

/* A database with our schema and the store's pragmas, and a row-per-sample
 * samples table, no rows. */
static sqlite3 *fresh_schema_db(const char *path)
{
	uv_loop_t loop;
	store *s;
	sqlite3 *db;

	rm_db(path);
	uv_loop_init(&loop);
	if (store_open(&s, &loop, path, NULL) != 0)
		exit(1);
	close_store(&loop, s);
	uv_loop_close(&loop);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	exec_or_die(db, "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
			"PRAGMA secure_delete=OFF;PRAGMA cache_size=-65536;");
	exec_or_die(db, "CREATE TABLE IF NOT EXISTS " ROW_SAMPLES);
	return db;
}

static double naive_rate(const char *path, uint64_t nseries, uint64_t n)
{
	sqlite3 *db = fresh_schema_db(path);
	sqlite3_stmt *st;
	uint64_t k;
	double t0, t1;

	sqlite3_prepare_v2(db, "INSERT INTO samples VALUES(?,?,?,?)", -1, &st,
			   NULL);
	t0 = now_s();
	for (k = 0; k < n; k++) {
		int64_t seq = (int64_t)(k / nseries) + 1;
		sqlite3_bind_int64(st, 1, (int64_t)(k % nseries) + 1);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_double(st, 3, 1.7e9 + seq * 10.0);
		sqlite3_bind_double(st, 4, sin((double)k));
		if (sqlite3_step(st) != SQLITE_DONE)
			exit(1);
		sqlite3_reset(st);
	}
	t1 = now_s();
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)n / (t1 - t0);
}

static double import_rate(const char *path, uint64_t nseries, uint64_t n,
			  char *cmd_out, size_t cmd_cap)
{
	char csv[512], cmd[1536];
	sqlite3 *db = fresh_schema_db(path);
	FILE *f;
	uint64_t k;
	double t0, t1;

	sqlite3_close(db);
	snprintf(csv, sizeof(csv), "%s/import.csv", g_dir);
	f = fopen(csv, "w");
	for (k = 0; k < n; k++) {
		int64_t seq = (int64_t)(k / nseries) + 1;
		fprintf(f, "%lld,%lld,%.17g,%.17g\n",
			(long long)(k % nseries) + 1, (long long)seq,
			1.7e9 + seq * 10.0, sin((double)k));
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 -bail %s 'PRAGMA synchronous=NORMAL' "
		 "'PRAGMA cache_size=-65536' '.import --csv %s samples'",
		 path, csv);
	snprintf(cmd_out, cmd_cap, "%s", cmd);
	t0 = now_s();
	if (system(cmd) != 0) {
		fprintf(stderr, "import failed: %s\n", cmd);
		return -1;
	}
	t1 = now_s();
	unlink(csv);
	return (double)n / (t1 - t0);
}

/* ---- 3. key order ---- */

static const char *const layouts[][2] = {
    {"WITHOUT ROWID, key (series_id, seq) [store until schema 4]",
     "CREATE TABLE " ROW_SAMPLES},
    {"rowid table + index (series_id, seq)",
     "CREATE TABLE samples(series_id INTEGER NOT NULL, seq INTEGER NOT "
     "NULL, t REAL NOT NULL, value REAL); CREATE UNIQUE INDEX samples_k "
     "ON samples(series_id, seq)"},
    {"WITHOUT ROWID, key (seq, series_id) (time-major, no per-series "
     "index)",
     "CREATE TABLE samples(series_id INTEGER NOT NULL, seq INTEGER NOT "
     "NULL, t REAL NOT NULL, value REAL, PRIMARY KEY(seq, series_id)) "
     "WITHOUT ROWID"},
};

typedef struct layout_res {
	double rate, replay_ms;
	long long bytes;
} layout_res;

static layout_res layout_bench(const char *path, const char *ddl,
			       uint64_t nseries, uint64_t n, uint64_t tx)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t k;
	double t0, t1;
	layout_res r;
	int64_t acc = 0;

	rm_db(path);
	sqlite3_open(path, &db);
	exec_or_die(db, "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
			"PRAGMA secure_delete=OFF;PRAGMA cache_size=-65536;");
	exec_or_die(db, ddl);
	sqlite3_prepare_v2(db, "INSERT INTO samples VALUES(?,?,?,?)", -1, &st,
			   NULL);
	t0 = now_s();
	for (k = 0; k < n; k++) {
		int64_t seq = (int64_t)(k / nseries) + 1;
		if (k % tx == 0)
			exec_or_die(db, "BEGIN IMMEDIATE");
		sqlite3_bind_int64(st, 1, (int64_t)(k % nseries) + 1);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_double(st, 3, 1.7e9 + seq * 10.0);
		sqlite3_bind_double(st, 4, sin((double)k));
		if (sqlite3_step(st) != SQLITE_DONE)
			exit(1);
		sqlite3_reset(st);
		if (k % tx == tx - 1 || k == n - 1)
			exec_or_die(db, "COMMIT");
	}
	t1 = now_s();
	sqlite3_finalize(st);
	exec_or_die(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	r.rate = (double)n / (t1 - t0);
	r.bytes = file_size(path);
	/* The recovery query: the last 2 samples of 100 series. */
	sqlite3_prepare_v2(db,
			   "SELECT seq,t,value FROM samples WHERE series_id=? "
			   "AND seq>? ORDER BY seq",
			   -1, &st, NULL);
	t0 = now_s();
	for (k = 1; k <= 100; k++) {
		sqlite3_bind_int64(st, 1, (int64_t)k);
		sqlite3_bind_int64(st, 2, (int64_t)(n / nseries) - 2);
		while (sqlite3_step(st) == SQLITE_ROW)
			acc += sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	t1 = now_s();
	r.replay_ms = (t1 - t0) * 1e3 * (double)nseries / 100.0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (acc < 0)
		exit(1);
	return r;
}

/* ---- 4. restore ---- */

#define RS_FLOATS 128

typedef struct rs {
	float *states;
	uint64_t nseries, samples;
	double last;
} rs;

static int rs_series(void *ud, const store_series_info *si, int mode,
		     const io_snap *snap, int snap_err)
{
	rs *r = ud;

	(void)snap_err;
	if (mode == STORE_RESTORE_SNAPSHOT && snap->nfloats == RS_FLOATS &&
	    (uint64_t)si->id <= r->nseries)
		io_snap_copy_state(snap, r->states +
					     (size_t)(si->id - 1) * RS_FLOATS);
	return 0;
}

static int rs_samples(void *ud, int64_t sid, const store_sample *s, size_t n)
{
	rs *r = ud;

	(void)sid;
	r->samples += n;
	r->last = s[n - 1].value;
	return 0;
}

/*
 * Every series of 1..nseries gets a snapshot of nfloats floats (base, or a
 * per-series pattern when base is NULL) taken at seq 10, and two samples
 * after it to replay. Series are declared by declare_series() (step 10 s).
 */
static void build_snapshot_db(const char *path, uint64_t nseries,
			      uint32_t nfloats, uint64_t hash,
			      const char *model_id, const float *base)
{
	uv_loop_t loop;
	store *s;
	store_batch *b = NULL;
	float *st = calloc(nfloats ? nfloats : 1, sizeof(float));
	uint64_t i;
	uint32_t j;

	rm_db(path);
	uv_loop_init(&loop);
	if (!st || store_open(&s, &loop, path, NULL) != 0)
		exit(1);
	declare_series(&loop, s, nseries);
	for (i = 1; i <= nseries; i++) {
		if (!b)
			b = store_batch_new();
		for (j = 0; j < nfloats; j++)
			st[j] = base ? base[j] : (float)(i + j) * 1e-3f;
		store_batch_snapshot(b, (int64_t)i, model_id, hash, 1.7e9 + 100,
				     10, st, nfloats);
		store_batch_sample(b, (int64_t)i, 11, 1.7e9 + 110, 1.0);
		store_batch_sample(b, (int64_t)i, 12, 1.7e9 + 120, 2.0);
		if (store_batch_rows(b) >= 9000 || i == nseries) {
			store_submit(s, b, 0, NULL, NULL);
			b = NULL;
			/* keep the queue short: drain completions */
			uv_run(&loop, UV_RUN_NOWAIT);
		}
	}
	close_store(&loop, s);
	uv_loop_close(&loop);
	free(st);
}

typedef struct rs_res {
	double build_s, restore_s;
	long long bytes;
	uint64_t replayed, from_snapshot;
} rs_res;

static rs_res restore_bench(const char *path, uint64_t nseries)
{
	double t0;
	rs r;
	store_recover_cb cb = {rs_series, rs_samples, NULL, &r, NULL, 0};
	store_recover_stats stt;
	rs_res res;

	t0 = now_s();
	build_snapshot_db(path, nseries, RS_FLOATS, 0x42, "bench", NULL);
	res.build_s = now_s() - t0;
	res.bytes = file_size(path);
	memset(&r, 0, sizeof(r));
	r.nseries = nseries;
	r.states = malloc(nseries * RS_FLOATS * sizeof(float));
	t0 = now_s();
	if (store_recover(path, 0x42, 0, &cb, &stt) != 0)
		exit(1);
	res.restore_s = now_s() - t0;
	res.replayed = r.samples;
	res.from_snapshot = stt.from_snapshot;
	free(r.states);
	return res;
}

/* ---- the sample path at steady state (--log-bench) ---- */

static double cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 +
	       (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

static int lb_hist(void *ud, const store_sample *s, size_t n)
{
	(void)s;
	*(uint64_t *)ud += n;
	return 0;
}

static int lb_fc(void *ud, const store_forecast_row *f)
{
	(void)f;
	(*(uint64_t *)ud)++;
	return 0;
}

static int lb_series(void *ud, const store_series_info *si, int mode,
		     const io_snap *snap, int snap_err)
{
	(void)ud;
	(void)si;
	(void)mode;
	(void)snap;
	(void)snap_err;
	return 0;
}

static void log_bench(const char *path, uint64_t nseries, uint64_t per,
		      int fc_every, int scatter, int commit_rows)
{
	uv_loop_t loop;
	store *s;
	store_reader *r;
	store_opts o;
	ing g;
	rs rr;
	store_recover_cb cb = {lb_series, rs_samples, NULL, &rr, NULL, 0};
	char wal[600];
	uint64_t total = nseries * per, nread = 0, nfc = 0, k;
	double t0, c0, t_ing, c_ing, t_h, t_f, t_r, lat_p99, lat_max, rss_ing;
	struct rusage ru;
	long long bytes, w0, w_ing;

	rm_db(path);
	uv_loop_init(&loop);
	store_opts_default(&o);
	/* Nothing here competes with the writer for its core, and at
	 * SCHED_IDLE a shared machine's other load would starve it: the
	 * wall clock would measure the neighbours. */
	o.writer_priority = STORE_PRIO_BATCH;
	if (commit_rows > 0) { /* commits by rows only: the same each run */
		o.commit_rows = commit_rows;
		o.commit_ms = 60000;
	}
	if (store_open(&s, &loop, path, &o) != 0)
		exit(1);
	declare_series(&loop, s, nseries);
	close_store(&loop, s);
	if (store_open(&s, &loop, path, &o) != 0)
		exit(1);
	memset(&g, 0, sizeof(g));
	g.loop = &loop;
	g.s = s;
	g.nseries = nseries;
	g.total = total;
	g.batch = 1000;
	g.max_inflight = 64;
	g.fc_every = fc_every;
	g.scatter = scatter;
	g.lat = calloc(total / 1000 + 2, sizeof(uint64_t));
	g.txr = calloc(total / 1000 + 2, sizeof(uint64_t));
	t0 = now_s();
	c0 = cpu_s();
	w0 = wchar_bytes();
	ing_fill(&g);
	while (g.submitted < g.total || g.done < g.rows_sub)
		uv_run(&loop, UV_RUN_ONCE);
	/* Until closed: what the writer does after the last commit (a
	 * compaction, the final checkpoint) is part of the cost. */
	close_store(&loop, s);
	t_ing = now_s() - t0;
	c_ing = cpu_s() - c0;
	w_ing = wchar_bytes() - w0;
	uv_loop_close(&loop);
	/* The batches' wait for their commit: a compaction that holds the
	 * writer shows in the tail; the peak RSS of the ingest (before the
	 * reads and the recovery below), the writer's buffers included. */
	qsort(g.lat, g.nlat, sizeof(uint64_t), cmp_u64);
	lat_p99 = pct(g.lat, g.nlat, 0.99);
	lat_max = pct(g.lat, g.nlat, 1.0);
	getrusage(RUSAGE_SELF, &ru);
	rss_ing = (double)ru.ru_maxrss / 1024.0;
	free(g.lat);
	free(g.txr);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	bytes = file_size(path) + (file_size(wal) > 0 ? file_size(wal) : 0);

	if (store_reader_open(&r, path) != 0)
		exit(1);
	t0 = now_s();
	for (k = 0; k < 200; k++)
		store_history(r, (int64_t)(1 + k * (nseries / 200)), -INFINITY,
			      INFINITY, 0, lb_hist, &nread);
	t_h = now_s() - t0;
	/* With forecasts: the same 200 series' stored forecasts. */
	t0 = now_s();
	for (k = 0; fc_every && k < 200; k++)
		store_forecasts(r, (int64_t)(1 + k * (nseries / 200)),
				-INFINITY, INFINITY, lb_fc, &nfc);
	t_f = now_s() - t0;
	store_reader_free(r);

	memset(&rr, 0, sizeof(rr));
	t0 = now_s();
	if (store_recover(path, 0x42, 0, &cb, NULL) != 0)
		exit(1);
	t_r = now_s() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("samples=%llu rate=%.0f cpu_us=%.3f bytes_per_sample=%.1f "
	       "hist_ms=%.2f hist_samples=%.0f fc_ms=%.2f fc_rows=%.0f "
	       "replayed=%llu "
	       "replay_rate=%.0f failed=%d lat_p99_ms=%.1f lat_max_ms=%.1f "
	       "queue_max_ms=%.1f rss_ingest_mb=%.0f rss_recover_mb=%.0f "
	       "written_per_sample=%.1f\n",
	       (unsigned long long)total, (double)total / t_ing,
	       c_ing / (double)total * 1e6, (double)bytes / (double)total,
	       t_h * 1e3 / 200.0, (double)nread / 200.0, t_f * 1e3 / 200.0,
	       (double)nfc / 200.0, (unsigned long long)rr.samples,
	       (double)rr.samples / t_r, g.failed, lat_p99, lat_max,
	       (double)g.qmax * 1e-6, rss_ing, (double)ru.ru_maxrss / 1024.0,
	       (double)w_ing / (double)total);
	rm_db(path);
}

/* ---- 5. the daemon's own restore ---- */

typedef struct dr_res {
	double ready_s, logged_s;
	size_t nfloats;
	int ok;
} dr_res;

/*
 * A database the daemon's default model fits: every series has a snapshot
 * of that model's state and two samples after it. Then statecastd starts on
 * it; the time is from exec to its "ready" line (restore included), and the
 * restore time it logs itself.
 */
static dr_res daemon_restore(const char *path, const char *daemon,
			     uint64_t nseries)
{
	ssm_model *m = NULL;
	char msg[256], line[1024], opt[600];
	int isdef, pfd[2];
	float *st;
	double t0;
	dr_res res = {0, 0, 0, 0};
	pid_t pid;
	FILE *f;

	if (io_model_open("/nonexistent/bench.model", &m, &isdef, msg,
			  sizeof msg))
		return res;
	res.nfloats = ssm_model_state_floats(m);
	st = calloc(res.nfloats, sizeof(float));
	ssm_state_init(m, st, 1, 10.0);
	build_snapshot_db(path, nseries, (uint32_t)res.nfloats,
			  ssm_model_hash(m), "untrained default", st);
	free(st);
	ssm_model_free(m);
	if (pipe(pfd))
		return res;
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		snprintf(opt, sizeof(opt), "store.path=%s", path);
		execl(daemon, daemon, "-o", opt, "-o", "listen.graphite=", "-o",
		      "listen.influx=", "-o", "listen.rpc=", "-o",
		      "listen.http=", "-o", "listen.socket=", "-o",
		      "model.path=/nonexistent/bench.model", "-o",
		      "store.retention_s=0", "-o", "limits.max_series=2000000",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " series from ");
		if (p && strstr(line, "restored ")) {
			p = strstr(p, " in ");
			if (p)
				res.logged_s = atof(p + 4);
		}
		if (strstr(line, " ready")) {
			res.ready_s = now_s() - t0;
			res.ok = 1;
			break;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (f)
		fclose(f);
	return res;
}

/* ---- report ---- */

static void machine(void)
{
	struct utsname u;
	char line[256], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *p = strchr(line, ':');
			snprintf(model, sizeof(model), "%s", p ? p + 2 : line);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	uname(&u);
	line[0] = 0;
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		line[strcspn(line, "\n")] = 0;
	}
	fprintf(g_out,
		"Machine: %s, %ld cores online, %s %s; SQLite %s; "
		"database files under %s; load average at start %s "
		"(a shared machine: compare rows within one run).\n\n",
		model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release,
		sqlite3_libversion(), g_dir, line);
}

int main(int argc, char **argv)
{
	const char *out = "bench/results/store.md";
	const char *base = "/tmp";
	const char *daemon = "build/statecastd";
	char path[512], cmdline[1024] = "", impcmd[1536];
	int quick = 0, i;
	uint64_t lb_series_n = 0, lb_per = 0;
	int lb_fc = 0, lb_scatter = 0, lb_rows = 0;
	uint64_t n1k, n100k, nnaive, nlayout, rs_small, rs_big;
	ing_res a, b, p, full;
	double naive, imp;
	time_t tnow = time(NULL);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--daemon") == 0 && i + 1 < argc)
			daemon = argv[++i];
		else if (strcmp(argv[i], "--log-bench") == 0 && i + 2 < argc) {
			lb_series_n = strtoull(argv[++i], NULL, 10);
			lb_per = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--fc-every") == 0 && i + 1 < argc) {
			lb_fc = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--scatter") == 0) {
			lb_scatter = 1;
		} else if (strcmp(argv[i], "--commit-rows") == 0 &&
			   i + 1 < argc) {
			lb_rows = atoi(argv[++i]);
		} else {
			fprintf(stderr,
				"usage: %s [--quick] [--out FILE] "
				"[--dir DIR] [--daemon PATH]\n"
				"       %s --log-bench SERIES PER_SERIES "
				"[--fc-every K] [--scatter] [--commit-rows N] "
				"[--dir DIR]\n",
				argv[0], argv[0]);
			return 2;
		}
	}
	for (i = 0; i < argc; i++) {
		strncat(cmdline, argv[i],
			sizeof(cmdline) - strlen(cmdline) - 2);
		strcat(cmdline, " ");
	}
	snprintf(g_dir, sizeof(g_dir), "%s/store_bench_XXXXXX", base);
	if (!mkdtemp(g_dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (lb_series_n && lb_per) {
		snprintf(path, sizeof(path), "%s/log.db", g_dir);
		log_bench(path, lb_series_n, lb_per, lb_fc, lb_scatter,
			  lb_rows);
		rmdir(g_dir);
		return 0;
	}
	n1k = quick ? 200000 : 2000000;
	n100k = quick ? 400000 : 2000000;
	nnaive = quick ? 5000 : 20000;
	nlayout = quick ? 400000 : 2000000;
	rs_small = quick ? 20000 : 100000;
	rs_big = quick ? 100000 : 1000000;
	g_out = fopen(out, "w");
	if (!g_out) {
		perror(out);
		return 1;
	}
	fprintf(g_out, "# SQLite store benchmark\n\nWritten by `%s` on %s",
		cmdline, ctime(&tnow));
	fprintf(g_out, "(build: `make bench`). ");
	machine();

	snprintf(path, sizeof(path), "%s/ingest.db", g_dir);
	fprintf(stderr, "ingest 1k...\n");
	a = run_ingest(path, 1000, n1k, 1000, 64, 0, STORE_SYNC_NORMAL);
	fprintf(stderr, "ingest 100k...\n");
	b = run_ingest(path, 100000, n100k, 1000, 64, 0, STORE_SYNC_NORMAL);
	fprintf(stderr, "ingest full...\n");
	full = run_ingest(path, 1000, n1k / 4, 1000, 64, 0, STORE_SYNC_FULL);
	fprintf(stderr, "push...\n");
	p = run_ingest(path, 1000, n1k / 10, 100, 8, STORE_ACK,
		       STORE_SYNC_NORMAL);
	fprintf(stderr, "naive...\n");
	naive = naive_rate(path, 1000, nnaive);
	fprintf(stderr, "import...\n");
	imp = import_rate(path, 1000, n1k, impcmd, sizeof(impcmd));

	fprintf(g_out,
		"## 1. Ingest through the store, and peers on the same rows\n\n"
		"Batches of 1000 samples (one loop tick of line ingest, no "
		"ack), 64 in flight, defaults commit_ms=100 commit_rows=10000; "
		"pushes: batches of 100 samples with STORE_ACK, 8 in flight "
		"(8 clients). Latency = submit -> COMMIT returned, per "
		"batch.\n\n"
		"| run | samples | samples/s | vs naive | latency p50 / p90 / "
		"p99 / max (ms) | mean rows per COMMIT |\n"
		"|---|---:|---:|---:|---|---:|\n");
#define ROW(name, n, r)                                                     \
	fprintf(g_out,                                                      \
		"| %s | %llu | %.0f | %.0fx | %.1f / %.1f / %.1f / %.1f | " \
		"%.0f |%s\n",                                               \
		name, (unsigned long long)(n), (r).rate, (r).rate / naive,  \
		(r).p50, (r).p90, (r).p99, (r).max, (r).mean_tx,            \
		(r).failed ? " FAILED batches!" : "")
	ROW("store, 1k series, synchronous=NORMAL", n1k, a);
	ROW("store, 100k series, synchronous=NORMAL", n100k, b);
	ROW("store, 1k series, synchronous=FULL", n1k / 4, full);
	ROW("store, pushes with ack, 1k series, NORMAL", n1k / 10, p);
	fprintf(g_out,
		"| peer: one transaction per sample (autocommit INSERT, "
		"NORMAL), 1k series | %llu | %.0f | 1x | - | 1 |\n",
		(unsigned long long)nnaive, naive);
	fprintf(g_out,
		"| peer: sqlite3 CLI `.import` of the same rows as CSV (one "
		"transaction, process start included), 1k series | %llu | "
		"%.0f | %.0fx | - | %llu |\n\n",
		(unsigned long long)n1k, imp, imp / naive,
		(unsigned long long)n1k);
	fprintf(g_out, "Peer command: `%s`\n\n", impcmd);
	fflush(g_out);

	fprintf(g_out,
		"## 2. Key order of `samples` under interleaved ingest\n\n"
		"%llu rows round-robin over 100k series (as ingest "
		"interleaves them), 10000 rows per transaction, "
		"synchronous=NORMAL, 64 MiB cache. Replay = the recovery "
		"query (`series_id=? AND seq>?`) for 100 series, scaled to "
		"100k.\n\n"
		"| layout | rows/s | file MB | replay query, 100k series (ms) "
		"|\n|---|---:|---:|---:|\n",
		(unsigned long long)nlayout);
	for (i = 0; i < 3; i++) {
		layout_res lr;
		fprintf(stderr, "layout %d...\n", i);
		snprintf(path, sizeof(path), "%s/layout.db", g_dir);
		lr = layout_bench(path, layouts[i][1], 100000, nlayout, 10000);
		fprintf(g_out, "| %s | %.0f | %.1f | %.0f |\n", layouts[i][0],
			lr.rate, (double)lr.bytes / 1e6, lr.replay_ms);
		rm_db(path);
		fflush(g_out);
	}
	fprintf(g_out, "\n");

	fprintf(g_out,
		"## 3. Restore (store_recover)\n\n"
		"Every series has a snapshot of %d floats (%zu-byte blob, "
		"decoded and CRC-checked, copied into a state array) and two "
		"samples after it to replay.\n\n"
		"| series | build (s) | file MB | restore (s) | from snapshot "
		"| samples replayed |\n|---:|---:|---:|---:|---:|---:|\n",
		RS_FLOATS, io_snap_size(RS_FLOATS));
	{
		uint64_t sizes[2] = {rs_small, rs_big};
		for (i = 0; i < 2; i++) {
			rs_res rr;
			fprintf(stderr, "restore %llu...\n",
				(unsigned long long)sizes[i]);
			snprintf(path, sizeof(path), "%s/restore.db", g_dir);
			rr = restore_bench(path, sizes[i]);
			fprintf(g_out,
				"| %llu | %.1f | %.0f | %.2f | %llu | %llu |\n",
				(unsigned long long)sizes[i], rr.build_s,
				(double)rr.bytes / 1e6, rr.restore_s,
				(unsigned long long)rr.from_snapshot,
				(unsigned long long)rr.replayed);
			rm_db(path);
			fflush(g_out);
		}
	}
	fprintf(g_out,
		"\n## 4. statecastd's restore\n\n"
		"The same shape with the daemon's default model (its state "
		"size, its hash): `%s` starts on the database; ready = exec "
		"to its `ready` log line (model, store open, every series "
		"registered, state copied, 2 samples each replayed through "
		"the batched tick); restore = what the daemon logs for the "
		"restore alone.\n\n"
		"| series | state floats | ready (s) | restore (s) |\n"
		"|---:|---:|---:|---:|\n",
		daemon);
	{
		/* The default model's state is ~20 KB: 1M series would be a
		 * 20 GB file and 20 GB of RAM, past this machine. */
		uint64_t sizes[2] = {rs_small / 10, rs_small};
		for (i = 0; i < 2; i++) {
			dr_res dr;
			fprintf(stderr, "daemon restore %llu...\n",
				(unsigned long long)sizes[i]);
			snprintf(path, sizeof(path), "%s/daemon.db", g_dir);
			dr = daemon_restore(path, daemon, sizes[i]);
			if (dr.ok)
				fprintf(g_out, "| %llu | %zu | %.2f | %.2f |\n",
					(unsigned long long)sizes[i],
					dr.nfloats, dr.ready_s, dr.logged_s);
			else
				fprintf(g_out, "| %llu | - | failed | - |\n",
					(unsigned long long)sizes[i]);
			rm_db(path);
			fflush(g_out);
		}
	}
	snprintf(path, sizeof(path), "%s/ingest.db", g_dir);
	rm_db(path);
	rmdir(g_dir);
	fclose(g_out);
	fprintf(stderr, "wrote %s\n", out);
	return 0;
}
