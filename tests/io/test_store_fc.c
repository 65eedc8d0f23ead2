/*
 * tests/io/test_store_fc.c: schema 7's forecasts (io/store_fc.c): the
 * statements' plans, a version-6 database moved over by the writer after
 * open (reads the same, bounded transactions, killed anywhere), replace,
 * drop and retention of rows still in the old table, readers opened
 * before the schema changed under them, replace, drop and retention
 * inside a group of ids, retention from the table's head.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "io/store_int.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

/* Series in three groups of 64 ids, two sharing one (64, 65, 127). */
static const int64_t sids[] = {1, 63, 64, 65, 127, 200};
#define NSID  ((int)(sizeof sids / sizeof sids[0]))
#define NORIG 5

/* Every forecast of a series as read back: origin, mean[0], q[last]. */
typedef struct fcs {
	int n;
	double t[16];
	float mean[16], qlast[16];
	int H[16];
} fcs;

static int fcs_cb(void *ud, const store_forecast_row *row)
{
	fcs *a = ud;
	int k = a->n++;

	if (k >= 16)
		return 1;
	a->t[k] = row->t;
	a->H[k] = row->H;
	a->mean[k] = row->mean[0];
	a->qlast[k] = row->q[row->H * row->Q - 1];
	return 0;
}

static int read_all(const char *path, int64_t sid, double t0, double t1, fcs *a)
{
	store_reader *r;
	int rc;

	memset(a, 0, sizeof *a);
	if ((rc = store_reader_open(&r, path)) < 0)
		return rc;
	rc = store_forecasts(r, sid, t0, t1, fcs_cb, a);
	store_reader_free(r);
	return rc;
}

static int64_t count_fc(const char *path)
{
	store_reader *r;
	int64_t n = -1;

	if (store_reader_open(&r, path) == 0) {
		store_count(r, "forecasts", &n);
		store_reader_free(r);
	}
	return n;
}

/* A version-6 database: each series' NORIG origins inserted newest first
 * and interleaved with the other series' (rowid order is not key order);
 * series i's origin k has mean[0] = 10 i + k, H = 1 + i % 2. */
static void v6_db(const char *path)
{
	sqlite3 *db;
	char sql[512];
	int i, k;

	CHECK_EQ_INT(store__open_db(path, 1, NULL, &db), 0);
	CHECK_EQ_INT(store__migrate(db, 6), 0);
	for (k = NORIG - 1; k >= 0; k--)
		for (i = 0; i < NSID; i++) {
			/* H = 1 or 2, Q = 1: q = {k, mean}, mean = 10 i + k. */
			float q[2] = {(float)k, (float)(10 * i + k)},
			      mean[2] = {(float)(10 * i + k), 0};
			int H = 1 + i % 2;
			sqlite3_stmt *st;

			snprintf(sql, sizeof sql,
				 "INSERT INTO forecasts VALUES(%lld, %d.5, %d, "
				 "1, x'0000003f', ?1, ?2)",
				 (long long)sids[i], 60 * k, H);
			CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				     SQLITE_OK);
			sqlite3_bind_blob(st, 1, q + (H == 1), H * 4,
					  SQLITE_TRANSIENT);
			sqlite3_bind_blob(st, 2, mean, H * 4, SQLITE_TRANSIENT);
			CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
			sqlite3_finalize(st);
		}
	sqlite3_close(db);
	CHECK_EQ_INT(fx_scalar(path, "PRAGMA user_version"), 6);
}

/* Each series' NORIG rows, in t order, with their values, exactly once;
 * and a time range inside them. */
static int v6_rows_ok(const char *path)
{
	fcs a;
	int i, k, ok = count_fc(path) == NSID * NORIG;

	for (i = 0; ok && i < NSID; i++) {
		ok = read_all(path, sids[i], -INFINITY, INFINITY, &a) == 0 &&
		     a.n == NORIG;
		for (k = 0; ok && k < NORIG; k++)
			ok = a.t[k] == 60.0 * k + 0.5 && a.H[k] == 1 + i % 2 &&
			     a.mean[k] == (float)(10 * i + k) &&
			     a.qlast[k] == (float)(10 * i + k);
		ok = ok && read_all(path, sids[i], 60, 180.5, &a) == 0 &&
		     a.n == 2 && a.t[0] == 60.5 && a.t[1] == 120.5;
	}
	return ok;
}

/* Latest stored origin per series, as recovery reads it. */
typedef struct last_fc {
	int n;
	int64_t sid[8];
	double t[8];
} last_fc;

static int last_series(void *ud, const store_series_info *si, int mode,
		       const io_snap *snap, int snap_err)
{
	last_fc *l = ud;

	(void)mode;
	(void)snap;
	(void)snap_err;
	if (l->n < 8) {
		l->sid[l->n] = si->id;
		l->t[l->n] = si->forecast_t;
	}
	l->n++;
	return 0;
}

static int last_samples(void *ud, int64_t sid, const store_sample *sm, size_t n)
{
	(void)ud;
	(void)sid;
	(void)sm;
	(void)n;
	return 0;
}

/* Recovery's latest origin of each series into *l; 0 or STORE_E*. */
static int recover_last(const char *path, last_fc *l)
{
	store_recover_cb cb = {last_series, last_samples, NULL, NULL, NULL, 0};

	memset(l, 0, sizeof *l);
	cb.ud = l;
	return store_recover(path, 0x42, 0, &cb, NULL);
}

/* Recovery's latest origin of every series: NORIG - 1's. */
static int last_ok(const char *path)
{
	last_fc l;
	int i, ok = recover_last(path, &l) == 0 && l.n == NSID;

	for (i = 0; ok && i < NSID; i++)
		ok = l.sid[i] == sids[i] && l.t[i] == 60.0 * (NORIG - 1) + 0.5;
	return ok;
}

static void add_series(const char *path)
{
	sqlite3 *db;
	char sql[128];
	int i;

	CHECK_EQ_INT(store__open_db(path, 1, NULL, &db), 0);
	for (i = 0; i < NSID; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO series VALUES(%lld,'s%d','',60,1,0)",
			 (long long)sids[i], i);
		CHECK_EQ_INT(store__exec(db, sql), 0);
	}
	sqlite3_close(db);
}

/* The readers' and the writer's statements find a series by the index
 * (a seek on its group), not by a scan of it. */
static void test_plans(void)
{
	static const char *const writer[] = {
	    "SELECT t FROM forecasts WHERE " STORE_FC_KEY " AND t<?2 ORDER BY "
	    "t LIMIT ?3",
	    "DELETE FROM forecasts WHERE " STORE_FC_KEY " AND t<=?2",
	    "DELETE FROM forecasts WHERE " STORE_FC_KEY,
	};
	const char *sql[5];
	char q[1024];
	fx f;
	store *s;
	int i, k;

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name='forecasts_v6'"),
		     0);
	sql[0] = store__fc_range_sql(STORE_FC_V7);
	sql[1] = store__fc_last_sql(STORE_FC_V7);
	for (i = 0; i < 3; i++)
		sql[2 + i] = writer[i];
	for (i = 0; i < 5; i++) {
		sqlite3 *db;
		sqlite3_stmt *st;
		int seek = 0, scan = 0;

		snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql[i]);
		CHECK_EQ_INT(store__open_db(f.path, 0, NULL, &db), 0);
		CHECK_EQ_INT(sqlite3_prepare_v2(db, q, -1, &st, NULL),
			     SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *d =
			    (const char *)sqlite3_column_text(st, 3);
			seek +=
			    strstr(d, "INDEX forecasts_grp (<expr>=?") != NULL;
			scan += strncmp(d, "SCAN forecasts", 14) == 0;
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		k = seek == 1 && scan == 0;
		if (!k)
			fprintf(stderr, "plan of: %s\n", sql[i]);
		CHECK(k);
	}
	fx_release(&f);
}

/* The layout store__fc_layout finds in the database at path, if it is
 * `want`: 1 when its readers' statements both seek `index`. */
static int layout_seeks(const char *path, int want, const char *index)
{
	const char *sql[2] = {store__fc_range_sql(want),
			      store__fc_last_sql(want)};
	char q[1024], pat[64];
	sqlite3 *db;
	int layout = -1, i, seek = 0;

	snprintf(pat, sizeof pat, "INDEX %s (", index);
	if (store__open_db(path, 0, NULL, &db) != 0)
		return -1;
	if (store__fc_layout(db, &layout) == 0 && layout == want)
		for (i = 0; i < 2; i++) {
			sqlite3_stmt *st;

			snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql[i]);
			if (sqlite3_prepare_v2(db, q, -1, &st, NULL) !=
			    SQLITE_OK)
				break;
			while (sqlite3_step(st) == SQLITE_ROW)
				seek +=
				    strstr((const char *)sqlite3_column_text(st,
									     3),
					   pat) != NULL;
			sqlite3_finalize(st);
		}
	sqlite3_close(db);
	return seek == 2;
}

static int move_over(void *ud)
{
	store_stats st;

	store_get_stats(ud, &st);
	return !st.fc_moving;
}

/* A version-6 database opens at version 7 (and on) with the same forecasts
 * (moved over three rows a transaction by the writer), and a reader of the old
 * one read them the same; then a stored origin replaces its row (also in
 * a group shared with others), a new one appends. */
static void test_migrate_v6(void)
{
	fx f;
	store *s;
	store_batch *b;
	store_stats st;
	fcs a;
	float lv[1] = {0.5f}, q[2] = {7, 8}, mean[2] = {99, 98};
	size_t rows = store__fc_move_rows;
	int i;

	fx_init(&f);
	v6_db(f.path);
	add_series(f.path);
	CHECK(v6_rows_ok(f.path)); /* version 6, read by this program */
	CHECK(last_ok(f.path));
	CHECK_EQ_INT(layout_seeks(f.path, STORE_FC_OLD, "forecasts_key"), 1);
	store__fc_move_rows = 3;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(fx_scalar(f.path, "PRAGMA user_version"),
		     store__schema_version());
	CHECK(fx_run_until(&f, move_over, s, 30000));
	store__fc_move_rows = rows;
	store_get_stats(s, &st);
	CHECK_EQ_INT((int)st.fc_moved, NSID * NORIG);
	CHECK_EQ_INT((int)st.fc_move_left, 0);
	CHECK(store__schema_version() >= 7);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name IN ('forecasts_v6', "
				       "'forecasts_key')"),
		     0);
	CHECK(v6_rows_ok(f.path));
	CHECK(last_ok(f.path));
	CHECK_EQ_INT(layout_seeks(f.path, STORE_FC_V7, "forecasts_grp"), 1);

	/* Series 64: origin 120.5 again (replaced), 600 new; 65 (same
	 * group) and 1 untouched. */
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_forecast(b, 64, 120.5, 2, 1, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 64, 600, 2, 1, lv, q, mean), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(count_fc(f.path), NSID * NORIG + 1);
	CHECK_EQ_INT(read_all(f.path, 64, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, NORIG + 1);
	for (i = 0; i < a.n; i++)
		CHECK(a.t[i] == (i < NORIG ? 60.0 * i + 0.5 : 600.0));
	CHECK(a.mean[2] == 99 && a.qlast[2] == 8 && a.H[2] == 2);
	CHECK(a.mean[1] == 21 && a.mean[5] == 99);
	CHECK_EQ_INT(read_all(f.path, 65, -INFINITY, INFINITY, &a), 0);
	CHECK(a.n == NORIG && a.mean[2] == 32);
	fx_release(&f);
}

/* Migration 7 and the move, two rows a transaction, in a child killed
 * after `budget` x 16 SQLite VM instructions (inside the migration,
 * inside a step, between steps); exits 0 when the move is over first.
 * Before the move, series 64's rows are stored again (as a restart's
 * replay stores its origins again: the same rows), into the new table
 * while the old still holds them. */
static void crash_child(const char *path, long budget)
{
	store *s = calloc(1, sizeof *s);
	int rc;

	store_opts_default(&s->o);
	pthread_mutex_init(&s->mu, NULL);
	store__fc_move_rows = 2;
	if (store__open_db(path, 1, &s->o, &s->db) != 0)
		_exit(3);
	sqlite3_progress_handler(s->db, 16, fx_kill_after, &budget);
	if (store__migrate(s->db, store__schema_version()) != 0 ||
	    store__prepare(s) != 0 || store__fc_move_open(s) != 0)
		_exit(4);
	if (s->mv.active &&
	    store__exec(s->db, "INSERT OR REPLACE INTO forecasts SELECT "
			       "series_id,t,horizon,nq,levels,q,mean FROM "
			       "forecasts_v6 WHERE series_id=64") != 0)
		_exit(5);
	while ((rc = store__fc_move_step(s)) == 0)
		;
	_exit(rc == 1 ? 0 : 6);
}

typedef struct killed {
	int ok, mixed;
} killed;

/* After a kill: every forecast reads the same; counts the kills that left
 * rows in both tables. */
static void check_killed(const char *path, void *ud)
{
	killed *k = ud;

	k->ok = k->ok && v6_rows_ok(path) && last_ok(path);
	k->mixed += fx_scalar(path, "SELECT count(*) FROM sqlite_schema "
				    "WHERE name='forecasts_v6'") == 1 &&
		    fx_scalar(path, "SELECT count(*) FROM forecasts") > 0;
}

static void test_crash_inside_move(void)
{
	fx f;
	store *s;
	killed k = {1, 0};
	int kills = 0, status;

	fx_init(&f);
	v6_db(f.path);
	add_series(f.path);
	/* Killed ever later: each start goes on from what the last one
	 * committed; every state in between reads the same forecasts. */
	status = fx_crash_loop(f.path, 10, 1000000, crash_child, check_killed,
			       &k, &kills);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(kills >= 10);
	CHECK(k.mixed >= 2); /* killed between steps, rows in both tables */
	CHECK(k.ok);
	CHECK_EQ_INT(fx_scalar(f.path, "PRAGMA user_version"),
		     store__schema_version());
	CHECK(v6_rows_ok(f.path));
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name='forecasts_v6'"),
		     0);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	fx_close_store(&f, s);
	CHECK(v6_rows_ok(f.path));
	fx_release(&f);
}

/* Series 64's rows after test_background_writes's batch and retention:
 * 180.5 replaced (mean 99), 240.5 as version 6 stored it, 600 new. */
static int bg_64_ok(store_reader *r)
{
	fcs a;

	memset(&a, 0, sizeof a);
	return store_forecasts(r, 64, -INFINITY, INFINITY, fcs_cb, &a) == 0 &&
	       a.n == 3 && a.t[0] == 180.5 && a.mean[0] == 99 &&
	       a.qlast[0] == 8 && a.t[1] == 240.5 && a.mean[1] == 24 &&
	       a.t[2] == 600 && a.mean[2] == 99;
}

/* Every series as test_background_writes leaves it, read by r. */
static int bg_ok(store_reader *r)
{
	fcs a;
	int64_t n = -1;
	int i, ok = store_count(r, "forecasts", &n) == 0 &&
		    n == (NSID - 1) * 2 + 1 && bg_64_ok(r);

	for (i = 0; ok && i < NSID; i++) {
		if (sids[i] == 64)
			continue;
		memset(&a, 0, sizeof a);
		ok = store_forecasts(r, sids[i], -INFINITY, INFINITY, fcs_cb,
				     &a) == 0;
		if (sids[i] == 65)
			ok = ok && a.n == 0;
		else
			ok = ok && a.n == 2 && a.t[0] == 180.5 &&
			     a.mean[0] == (float)(10 * i + 3) &&
			     a.t[1] == 240.5 &&
			     a.mean[1] == (float)(10 * i + 4);
	}
	return ok;
}

static int bg_done(void *ud)
{
	return bg_ok(ud);
}

/* Recovery's latest origin while and after the move: 600 for 64, 240.5
 * for the others, none for the dropped 65. */
static int bg_last_ok(const char *path)
{
	last_fc l;
	int i, ok = recover_last(path, &l) == 0 && l.n == NSID - 1;

	for (i = 0; ok && i < l.n; i++)
		ok = l.sid[i] != 65 && l.t[i] == (l.sid[i] == 64 ? 600 : 240.5);
	return ok;
}

/* While version 6's rows wait to be moved (the move held): a stored
 * origin replaces one still in the old table, a dropped series' old rows
 * go, retention deletes old rows; a reader opened on version 6 (before
 * migration 7 renamed its table) and one opened mid-move read every
 * forecast right, and the same once the move has ended and dropped the
 * old table under them. */
static void test_background_writes(void)
{
	fx f;
	store *s;
	store_opts o;
	store_batch *b;
	store_reader *r_old, *r_mid;
	float lv[1] = {0.5f}, q[2] = {7, 8}, mean[2] = {99, 98};
	size_t rows = store__fc_move_rows;
	double now = (double)time(NULL);

	fx_init(&f);
	v6_db(f.path);
	add_series(f.path);
	CHECK_EQ_INT(store_reader_open(&r_old, f.path), 0);
	CHECK(v6_rows_ok(f.path));
	store_opts_default(&o);
	/* Origins before ~130 s after the epoch are old: 0.5, 60.5,
	 * 120.5 (180.5 ages in 50 s). */
	o.forecast_retention_s = now - 130;
	o.retention_batch = 3;
	o.retention_ms = 1;
	store__fc_move_rows = 0; /* held */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_forecast(b, 64, 180.5, 2, 1, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_forecast(b, 64, 600, 2, 1, lv, q, mean), 0);
	CHECK_EQ_INT(store_batch_drop_series(b, 65), 0);
	store_submit(s, b, 0, NULL, NULL);
	CHECK_EQ_INT(store_reader_open(&r_mid, f.path), 0);
	CHECK(fx_run_until(&f, bg_done, r_mid, 30000));
	CHECK(bg_ok(r_old));
	/* Nothing moved: the rows read from both tables. */
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM forecasts_v6"),
		     (NSID - 1) * 2);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM forecasts"), 2);
	CHECK_EQ_INT(layout_seeks(f.path, STORE_FC_MOVING, "forecasts_key"), 1);
	fx_close_store(&f, s);
	CHECK(bg_last_ok(f.path));
	/* Moved, two rows a transaction, by the next start's writer. */
	store__fc_move_rows = 2;
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	CHECK(fx_run_until(&f, move_over, s, 30000));
	store__fc_move_rows = rows;
	fx_close_store(&f, s);
	CHECK_EQ_INT(fx_scalar(f.path, "SELECT count(*) FROM sqlite_schema "
				       "WHERE name='forecasts_v6'"),
		     0);
	CHECK(bg_ok(r_mid));
	CHECK(bg_ok(r_old));
	CHECK(bg_last_ok(f.path));
	CHECK_EQ_INT(layout_seeks(f.path, STORE_FC_V7, "forecasts_grp"), 1);
	store_reader_free(r_old);
	store_reader_free(r_mid);
	fx_release(&f);
}

typedef struct gone_at {
	store *s;
	uint64_t n;
} gone_at;

static int fc_gone(void *ud)
{
	gone_at *g = ud;
	store_stats st;

	store_get_stats(g->s, &st);
	return st.retention_deleted >= g->n;
}

/* Submit b and wait until retention has deleted n rows. */
static int retention_wait(fx *f, store *s, store_batch *b, uint64_t n)
{
	gone_at g = {s, n};

	store_submit(s, b, 0, NULL, NULL);
	return fx_run_until(f, fc_gone, &g, 30000);
}

/* A store whose forecasts older than an hour go in steps of batch rows,
 * and a batch declaring every series of sids[] (created at old). */
static store_batch *retention_store(fx *f, store **s, int batch, double old)
{
	store_opts o;
	store_batch *b;
	int i;

	fx_init(f);
	store_opts_default(&o);
	o.forecast_retention_s = 3600;
	o.retention_batch = batch;
	o.retention_ms = 1;
	CHECK_EQ_INT(store_open(s, &f->loop, f->path, &o), 0);
	b = store_batch_new();
	for (i = 0; i < NSID; i++) {
		char name[16];
		snprintf(name, sizeof name, "s%d", i);
		store_batch_series(b, sids[i], name, "", 60, 1, old);
	}
	return b;
}

/* Drop and retention touch one series' rows, not its group's others. */
static void test_drop_and_retention_in_group(void)
{
	fx f;
	store *s;
	store_batch *b;
	fcs a;
	float lv[1] = {0.5f}, q[1] = {1}, mean[1] = {1};
	double now = (double)time(NULL), old = now - 10000;
	int i, k;

	b = retention_store(&f, &s, 3, old); /* many small transactions */
	/* 64, 65, 127: 4 old origins and 2 young each; 1: young only. */
	for (k = 0; k < 6; k++)
		for (i = 2; i < 5; i++)
			store_batch_forecast(b, sids[i],
					     k < 4 ? old + k : now + k, 1, 1,
					     lv, q, mean);
	store_batch_forecast(b, 1, now, 1, 1, lv, q, mean);
	CHECK(retention_wait(&f, s, b, 3 * 4));
	b = store_batch_new();
	CHECK_EQ_INT(store_batch_drop_series(b, 65), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(count_fc(f.path), 2 * 2 + 1);
	CHECK_EQ_INT(read_all(f.path, 64, -INFINITY, INFINITY, &a), 0);
	CHECK(a.n == 2 && a.t[0] == now + 4 && a.t[1] == now + 5);
	CHECK_EQ_INT(read_all(f.path, 65, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 0);
	CHECK_EQ_INT(read_all(f.path, 127, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 2);
	CHECK_EQ_INT(read_all(f.path, 1, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 1);
	fx_release(&f);
}

/* Retention deletes the table's head (rows in the order stored, up to the
 * first younger one) as one range, and the walk by series what is stored
 * behind a younger row: every old row goes, every young one stays. */
static void test_retention_head_and_stragglers(void)
{
	fx f;
	store *s;
	store_batch *b;
	fcs a;
	float lv[1] = {0.5f}, q[1] = {1}, mean[1] = {1};
	double now = (double)time(NULL), old = now - 10000;
	int k;

	b = retention_store(&f, &s, 3, old); /* the head gets 2 a step */
	/* The head: 1's five old origins (an odd count: the last step's
	 * room of 2 reaches the young row behind them). */
	for (k = 0; k < 5; k++)
		store_batch_forecast(b, 1, old + k, 1, 1, lv, q, mean);
	store_batch_forecast(b, 64, now, 1, 1, lv, q, mean);
	for (k = 0; k < 3; k++) /* behind a young row */
		store_batch_forecast(b, 65, old + k, 1, 1, lv, q, mean);
	for (k = 0; k < 2; k++)
		store_batch_forecast(b, 127, now + k, 1, 1, lv, q, mean);
	CHECK(retention_wait(&f, s, b, 5 + 3));
	fx_close_store(&f, s);
	CHECK_EQ_INT(count_fc(f.path), 3);
	CHECK_EQ_INT(read_all(f.path, 1, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 0);
	CHECK_EQ_INT(read_all(f.path, 64, -INFINITY, INFINITY, &a), 0);
	CHECK(a.n == 1 && a.t[0] == now);
	CHECK_EQ_INT(read_all(f.path, 65, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 0);
	CHECK_EQ_INT(read_all(f.path, 127, -INFINITY, INFINITY, &a), 0);
	CHECK_EQ_INT(a.n, 2);
	fx_release(&f);
}

int main(void)
{
	TH_RUN(test_plans);
	TH_RUN(test_migrate_v6);
	TH_RUN(test_crash_inside_move);
	TH_RUN(test_background_writes);
	TH_RUN(test_drop_and_retention_in_group);
	TH_RUN(test_retention_head_and_stragglers);
	return th_summary();
}
