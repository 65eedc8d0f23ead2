/*
 * io/store_writer.c: the writer thread, sole user of the write connection.
 *
 * Workload: a steady stream of small batches (one loop tick's samples, a few
 * forecasts and snapshots), tens of thousands of rows per second. Each
 * transaction is BEGIN IMMEDIATE (the write lock up front: no deadlock
 * upgrade), the batches' rows through prepared statements, COMMIT. The loop
 * thread is never blocked by SQLite: it only takes the queue mutex.
 *
 * Failure: a failed statement or COMMIT rolls the whole transaction back,
 * so all-or-nothing holds per transaction and therefore per batch. Batches
 * flagged STORE_RETRY go back to the head of the retry queue (order kept);
 * the others complete with the error. While writes fail the writer pauses
 * retry_ms between attempts and logs only the start and end of the episode.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/le.h"
#include "io/store_int.h"

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
				    NULL);

	return rc == SQLITE_OK ? 0 : store__map_rc(rc);
}

/* head, then rows copies of the tuple "(?,?,...)" of cols parameters,
 * comma separated, then tail: one INSERT of that many rows. */
static int prep_rows(sqlite3 *db, const char *head, int cols, int rows,
		     const char *tail, sqlite3_stmt **st)
{
	size_t n = strlen(head), nt = strlen(tail),
	       cap = n + (size_t)rows * (2 * cols + 2) + nt + 1;
	char *sql = malloc(cap);
	int i, k, rc;

	if (!sql)
		return STORE_ENOMEM;
	memcpy(sql, head, n);
	for (i = 0; i < rows; i++) {
		if (i)
			sql[n++] = ',';
		sql[n++] = '(';
		for (k = 0; k < cols; k++) {
			if (k)
				sql[n++] = ',';
			sql[n++] = '?';
		}
		sql[n++] = ')';
	}
	memcpy(sql + n, tail, nt);
	n += nt;
	sql[n] = '\0';
	rc = prep(db, sql, st);
	free(sql);
	return rc;
}

/* SQLite's wal_hook, after each COMMIT: how big the WAL is. Installing it
 * also turns SQLite's auto-checkpoint off (it is a wal_hook itself); the
 * writer and its checkpointer (store_wal.c) checkpoint instead. */
static int on_wal(void *ud, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((store *)ud)->wal_frames = frames;
	return SQLITE_OK;
}

static int page_size(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) !=
	    SQLITE_OK)
		return n;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

#define SQL_FORECASTS                                                       \
	"INSERT OR REPLACE INTO forecasts(series_id,t,horizon,nq,levels,q," \
	"mean) VALUES"

/* A declaration: the series' row, or its new step and period when the id
 * is known; a (name, tags) held by another id is left alone. Rows of one
 * statement are inserted in order, each under this clause, as they were
 * one statement each. */
#define SQL_SERIES \
	"INSERT INTO series(id,name,tags,step_s,period,created) VALUES"
#define SQL_SERIES_UPSERT                                 \
	" ON CONFLICT(id) DO UPDATE SET "                 \
	"step_s=excluded.step_s, period=excluded.period " \
	"ON CONFLICT DO NOTHING"

int store__prepare(store *s)
{
	store_stmts *t = &s->st;
	sqlite3 *db = s->db;

	s->page_size = page_size(db);
	sqlite3_wal_hook(db, on_wal, s);
	if (prep(db, "BEGIN IMMEDIATE", &t->begin) ||
	    prep(db, "COMMIT", &t->commit) ||
	    prep(db, "ROLLBACK", &t->rollback) ||
	    prep_rows(db, SQL_SERIES, 6, 1, SQL_SERIES_UPSERT,
		      &t->ins_series) ||
	    prep_rows(db, SQL_SERIES, 6, STORE_SERIES_PER_INSERT,
		      SQL_SERIES_UPSERT, &t->ins_sers) ||
	    prep(db,
		 "INSERT INTO sample_log(n,tmin,smin,smax,data,tmax) "
		 "VALUES(?1,?2,?3,?4,?5,?6)",
		 &t->ins_log) ||
	    prep_rows(db, SQL_FORECASTS, 7, 1, "", &t->ins_fc) ||
	    prep_rows(db, SQL_FORECASTS, 7, STORE_FORECASTS_PER_INSERT, "",
		      &t->ins_fcs) ||
	    prep(db,
		 "INSERT INTO snapshots(series_id,model_id,model_hash,t,seen,"
		 "state,checksum) VALUES(?1,?2,?3,?4,?5,?6,?7) "
		 "ON CONFLICT(series_id) DO UPDATE SET "
		 "model_id=excluded.model_id,model_hash=excluded.model_hash,"
		 "t=excluded.t,seen=excluded.seen,state=excluded.state,"
		 "checksum=excluded.checksum "
		 "WHERE excluded.seen >= snapshots.seen",
		 &t->ups_snap) ||
	    prep(db,
		 "INSERT OR REPLACE INTO meta(key,value) "
		 "VALUES(" STORE_CKPT_KEY ",?1)",
		 &t->ups_ckpt) ||
	    prep(db, "DELETE FROM sample_chunks WHERE series_id=?1",
		 &t->drop[0]) ||
	    prep(db,
		 "INSERT OR REPLACE INTO sample_log_void(series_id,upto) "
		 "SELECT ?1, id FROM sample_log ORDER BY id DESC LIMIT 1",
		 &t->ins_void) ||
	    prep(db, "DELETE FROM sample_log WHERE id=?1", &t->log_del1) ||
	    prep(db, STORE_SQL_VOIDS_IN, &t->void_range) ||
	    prep(db, "DELETE FROM sample_log_void WHERE upto<=?1",
		 &t->void_del) ||
	    prep(db, "SELECT min(tmin) FROM sample_log", &t->log_tmin) ||
	    prep(db,
		 "SELECT seq0+n-1 FROM sample_chunks WHERE series_id=?1 AND "
		 "seq0<=?2 ORDER BY seq0 DESC LIMIT 1",
		 &t->ck_end) ||
	    prep(db,
		 "INSERT INTO sample_chunks(series_id,seq0,n,t0,t1,data) "
		 "VALUES(?1,?2,?3,?4,?5,?6)",
		 &t->ck_ins) ||
	    prep(db, "DELETE FROM forecasts WHERE " STORE_FC_KEY,
		 &t->drop[1]) ||
	    prep(db, "DELETE FROM snapshots WHERE series_id=?1", &t->drop[2]) ||
	    prep(db, "DELETE FROM series WHERE id=?1", &t->drop[3]) ||
	    prep(db, "SELECT id FROM series WHERE id > ?1 ORDER BY id LIMIT ?2",
		 &t->ret_list) ||
	    prep(db, "SELECT seen FROM snapshots WHERE series_id=?1",
		 &t->ret_seen) ||
	    prep(db,
		 "SELECT seq0, n, t0, data FROM sample_chunks WHERE "
		 "series_id=?1 ORDER BY seq0 LIMIT ?2",
		 &t->ret_ck_scan) ||
	    prep(db, "DELETE FROM sample_chunks WHERE series_id=?1 AND seq0=?2",
		 &t->ret_ck_del) ||
	    prep(db,
		 "SELECT t FROM forecasts WHERE " STORE_FC_KEY " AND t<?2 "
		 "ORDER BY t LIMIT ?3",
		 &t->ret_fc_scan) ||
	    prep(db, "DELETE FROM forecasts WHERE " STORE_FC_KEY " AND t<=?2",
		 &t->ret_fc_del) ||
	    prep(db, "SELECT rowid, t FROM forecasts ORDER BY rowid LIMIT ?1",
		 &t->ret_fc_head) ||
	    prep(db, "DELETE FROM forecasts WHERE rowid<=?1", &t->ret_fc_hdel))
		return store__map_rc(sqlite3_errcode(db));
	return 0;
}

void store__finalize(store *s)
{
	sqlite3_stmt **p = (sqlite3_stmt **)&s->st;
	size_t i, n = sizeof(s->st) / sizeof(sqlite3_stmt *);

	for (i = 0; i < n; i++) {
		sqlite3_finalize(p[i]);
		p[i] = NULL;
	}
}

/* Run a statement that returns no row; 0 or STORE_E*. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

/* The transaction's log blob: room for n more samples. */
static int log_room(store *s, size_t n)
{
	size_t need = (s->ln + n) * STORE_LOG_REC;

	if (need > s->lcap) {
		size_t cap = need > 2 * s->lcap ? need : 2 * s->lcap;
		unsigned char *p = realloc(s->lbuf, cap);
		if (!p)
			return STORE_ENOMEM;
		s->lbuf = p;
		s->lcap = cap;
	}
	return 0;
}

/* The samples gathered so far as sample_log rows: sorted by series id and
 * cut into pieces of at most STORE_LOG_PIECE, each with its id range, so a
 * reader of one series opens only the pieces that can hold it. */
static int log_flush(store *s)
{
	store_stmts *t = &s->st;
	size_t i, k, m;
	int rc;

	if (!s->ln)
		return 0;
	if (s->lsort_cap < s->lcap) {
		unsigned char *p = realloc(s->lsort, s->lcap);
		if (!p)
			return STORE_ENOMEM;
		s->lsort = p;
		s->lsort_cap = s->lcap;
	}
	store__log_sort_rows(s->lbuf, s->lsort, s->ln);
	for (i = 0; i < s->ln; i += m) {
		const unsigned char *p = s->lbuf + i * STORE_LOG_REC;
		double tmin = INFINITY, tmax = -INFINITY;
		sb_sample r;

		m = s->ln - i < STORE_LOG_PIECE ? s->ln - i : STORE_LOG_PIECE;
		for (k = 0; k < m; k++) {
			store__log_get(p + k * STORE_LOG_REC, &r);
			tmin = r.t < tmin ? r.t : tmin;
			tmax = r.t > tmax ? r.t : tmax;
		}
		sqlite3_bind_int64(t->ins_log, 1, (int64_t)m);
		sqlite3_bind_double(t->ins_log, 2, tmin);
		sqlite3_bind_double(t->ins_log, 6, tmax);
		sqlite3_bind_int64(t->ins_log, 3, (int64_t)io__get64(p));
		sqlite3_bind_int64(t->ins_log, 4,
				   r.sid); /* the last: largest */
		sqlite3_bind_blob(t->ins_log, 5, p, (int)(m * STORE_LOG_REC),
				  SQLITE_STATIC);
		if ((rc = run(t->ins_log)) < 0)
			return rc;
		s->tx_rows++;
	}
	s->tx_logged += s->ln;
	s->ln = 0;
	return 0;
}

/* A declaration's six parameters (text in the batch's pool). */
static void bind_series(sqlite3_stmt *st, int p, const store_batch *b,
			const sb_series *r)
{
	sqlite3_bind_int64(st, p, r->id);
	sqlite3_bind_text(st, p + 1, b->cpool + r->name_off, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, p + 2, b->cpool + r->tags_off, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, p + 3, r->step_s);
	sqlite3_bind_int(st, p + 4, r->period);
	sqlite3_bind_double(st, p + 5, r->created);
}

/* A forecast's seven parameters (blobs point into the batch's pool). */
static void bind_forecast(sqlite3_stmt *st, int p, const store_batch *b,
			  const sb_forecast *r)
{
	const float *f = b->fpool + r->off;
	size_t Q = (size_t)r->Q, H = (size_t)r->H;

	sqlite3_bind_int64(st, p, r->sid);
	sqlite3_bind_double(st, p + 1, r->t);
	sqlite3_bind_int(st, p + 2, r->H);
	sqlite3_bind_int(st, p + 3, r->Q);
	sqlite3_bind_blob(st, p + 4, f, (int)(Q * 4), SQLITE_STATIC);
	sqlite3_bind_blob(st, p + 5, f + Q, (int)(Q * H * 4), SQLITE_STATIC);
	if (r->mean_mid)
		sqlite3_bind_zeroblob(st, p + 6, 0);
	else
		sqlite3_bind_blob(st, p + 6, f + Q + Q * H, (int)(H * 4),
				  SQLITE_STATIC);
}

static int apply_batch(store *s, store_batch *b)
{
	store_stmts *t = &s->st;
	size_t i, need;
	int rc;

	for (i = 0; i < b->ndrop; i++) {
		int k;
		/* The series' samples in the log up to here (its earlier
		 * batches' too) are void from now on: a later series with
		 * the same id must not inherit them. */
		if ((rc = log_flush(s)) < 0)
			return rc;
		sqlite3_bind_int64(t->ins_void, 1, b->drop[i]);
		if ((rc = run(t->ins_void)) < 0)
			return rc;
		for (k = 0; k < 4; k++) {
			sqlite3_bind_int64(t->drop[k], 1, b->drop[i]);
			if ((rc = run(t->drop[k])) < 0)
				return rc;
		}
		/* Its forecasts not yet moved from version 6 (store_fc.c). */
		if (t->old_drop) {
			sqlite3_bind_int64(t->old_drop, 1, b->drop[i]);
			if ((rc = run(t->old_drop)) < 0)
				return rc;
		}
	}
	/* Declarations STORE_SERIES_PER_INSERT to a statement, as the
	 * forecasts below: a tick of new series (every series of a first
	 * round) paid a statement each, about as much as its row. */
	for (i = 0; i + STORE_SERIES_PER_INSERT <= b->nser;
	     i += STORE_SERIES_PER_INSERT) {
		int k;
		for (k = 0; k < STORE_SERIES_PER_INSERT; k++)
			bind_series(t->ins_sers, 6 * k + 1, b,
				    &b->ser[i + (size_t)k]);
		if ((rc = run(t->ins_sers)) < 0)
			return rc;
	}
	for (; i < b->nser; i++) {
		bind_series(t->ins_series, 1, b, &b->ser[i]);
		if ((rc = run(t->ins_series)) < 0)
			return rc;
	}
	/* Samples append to the transaction's one log row: 32 bytes each,
	 * where a row per sample cost a B-tree insert on a leaf of its own
	 * (ingest interleaves the series). */
	if (b->nsmp && (rc = log_room(s, b->nsmp)) < 0)
		return rc;
	for (i = 0; i < b->nsmp; i++) {
		const sb_sample *r = &b->smp[i];
		store__log_put(s->lbuf + (s->ln + i) * STORE_LOG_REC, r);
		if (r->sid > s->max_sid)
			s->max_sid = r->sid;
	}
	s->ln += b->nsmp;
	/* Most forecasts go STORE_FORECASTS_PER_INSERT rows per statement:
	 * the per-statement work (step, reset, VDBE setup) was as much as
	 * the B-tree insert of a row. */
	for (i = 0; i + STORE_FORECASTS_PER_INSERT <= b->nfc;
	     i += STORE_FORECASTS_PER_INSERT) {
		int k;
		for (k = 0; k < STORE_FORECASTS_PER_INSERT; k++)
			bind_forecast(t->ins_fcs, 7 * k + 1, b,
				      &b->fc[i + (size_t)k]);
		if ((rc = run(t->ins_fcs)) < 0)
			return rc;
	}
	for (; i < b->nfc; i++) {
		bind_forecast(t->ins_fc, 1, b, &b->fc[i]);
		if ((rc = run(t->ins_fc)) < 0)
			return rc;
	}
	for (i = 0; i < b->nsnap; i++) {
		sb_snapshot *r = &b->snap[i];
		uint32_t crc;
		long n;

		need = io_snap_size(r->n);
		if (need > s->enc_cap) {
			unsigned char *e = realloc(s->enc, need);
			if (!e)
				return STORE_ENOMEM;
			s->enc = e;
			s->enc_cap = need;
		}
		n = io_snap_encode(s->enc, s->enc_cap, r->hash, r->seen, r->t,
				   b->fpool + r->off, r->n, &crc);
		if (n < 0)
			return STORE_EINVAL;
		sqlite3_bind_int64(t->ups_snap, 1, r->sid);
		sqlite3_bind_text(t->ups_snap, 2, b->cpool + r->mid_off, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(t->ups_snap, 3, (int64_t)r->hash);
		sqlite3_bind_double(t->ups_snap, 4, r->t);
		sqlite3_bind_int64(t->ups_snap, 5, (int64_t)r->seen);
		sqlite3_bind_blob(t->ups_snap, 6, s->enc, (int)n,
				  SQLITE_STATIC);
		sqlite3_bind_int64(t->ups_snap, 7, crc);
		if ((rc = run(t->ups_snap)) < 0)
			return rc;
	}
	/* Last: the checkpoint file is named only in the transaction that
	 * holds (or follows) every sample its records cover. */
	if (b->ckpt_gen) {
		sqlite3_bind_int64(t->ups_ckpt, 1, (int64_t)b->ckpt_gen);
		if ((rc = run(t->ups_ckpt)) < 0)
			return rc;
	}
	return 0;
}

/* One transaction holding every batch of the list. */
static int run_tx(store *s, store_batch *g, uint64_t rows)
{
	store_batch *b;
	uint64_t now;
	int rc;

	if ((rc = run(s->st.begin)) < 0)
		return rc;
	now = store__now_ns();
	s->ln = 0;
	s->tx_logged = 0;
	s->tx_rows = 0;
	for (b = g; b; b = b->next) {
		b->begin_ns = now;
		b->tx_rows = rows;
		if ((rc = apply_batch(s, b)) < 0)
			break;
	}
	if (rc == 0)
		rc = log_flush(s);
	if (rc == 0)
		rc = run(s->st.commit);
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		run(s->st.rollback);
	if (rc == 0) {
		if (!s->log_samples && s->tx_logged)
			s->log_since_ns = store__now_ns();
		s->log_samples += s->tx_logged;
		s->log_rows += s->tx_rows;
	}
	s->ln = 0;
	return rc;
}

static void push_done(store *s, store_batch *b, int status, uint64_t end)
{
	b->status = status;
	b->end_ns = end;
	s->nfinished++;
	s->queued_bytes -= b->qbytes;
	b->next = NULL;
	if (s->done_tail)
		s->done_tail->next = b;
	else
		s->done_head = b;
	s->done_tail = b;
	if (status == 0) {
		s->stats.batches_committed++;
		s->stats.rows_committed += store_batch_rows(b);
	} else {
		s->stats.batches_failed++;
	}
}

/*
 * Take the next group (mu held): the retry queue first (older), then the
 * input FIFO, up to commit_rows rows and at least one batch.
 */
static store_batch *take_group(store *s, uint64_t *rows_out)
{
	store_batch *head = NULL, *tail = NULL, *b;
	uint64_t rows = 0, lim = (uint64_t)s->o.commit_rows;

	while ((b = s->retry_head) && (rows == 0 || rows < lim)) {
		s->retry_head = b->next;
		if (!s->retry_head)
			s->retry_tail = NULL;
		s->retry_rows -= store_batch_rows(b);
		b->next = NULL;
		if (tail)
			tail->next = b;
		else
			head = b;
		tail = b;
		rows += store_batch_rows(b);
	}
	while ((b = s->in_head) && (rows == 0 || rows < lim)) {
		size_t r = store_batch_rows(b);
		s->in_head = b->next;
		if (!s->in_head)
			s->in_tail = NULL;
		s->in_rows -= r;
		if (b->flags & STORE_ACK)
			s->in_acks--;
		b->next = NULL;
		if (tail)
			tail->next = b;
		else
			head = b;
		tail = b;
		rows += r;
	}
	s->stats.retry_rows = s->retry_rows;
	*rows_out = rows;
	return head;
}

static void end_episode(store *s, const char *how)
{
	store__log(s, "%s after %llu failed attempts (%llu rows dropped)", how,
		   (unsigned long long)s->fail_count,
		   (unsigned long long)s->episode_dropped);
	s->episode_open = 0;
}

static void finish_group(store *s, store_batch *g, int rc, uint64_t rows)
{
	store_batch *b, *n, *rh = NULL, *rt = NULL;
	uint64_t end = store__now_ns();
	size_t lim = s->o.retry_rows;

	if (rc == 0) {
		s->stats.commits++;
		s->stats.queued_rows -= rows;
		s->stats.in_error = 0;
		/* Near a full disk small transactions may pass between
		 * failing ones: the episode ends only after a quiet spell,
		 * so it is logged once, not once per flap. */
		if (s->episode_open &&
		    end - s->last_fail_ns >=
			(uint64_t)s->o.episode_quiet_ms * 1000000u)
			end_episode(s, "writes resumed");
		for (b = g; b; b = n) {
			n = b->next;
			push_done(s, b, 0, end);
		}
		return;
	}
	s->stats.commit_failures++;
	s->stats.last_error = rc;
	if (!s->episode_open) {
		store__log(s,
			   "write failed: %s; line ingest is queued (up to "
			   "%zu rows) and retried every %d ms",
			   store_strerror(rc), lim, s->o.retry_ms);
		s->episode_open = 1;
		s->fail_count = 0;
		s->episode_dropped = 0;
	}
	s->stats.in_error = 1;
	s->last_fail_ns = end;
	s->fail_count++;
	for (b = g; b; b = n) {
		n = b->next;
		if ((b->flags & STORE_RETRY) && !s->stopping) {
			b->next = NULL;
			if (rt)
				rt->next = b;
			else
				rh = b;
			rt = b;
			s->retry_rows += store_batch_rows(b);
		} else {
			s->stats.queued_rows -= store_batch_rows(b);
			push_done(s, b, rc, end);
		}
	}
	if (rh) {
		rt->next = s->retry_head;
		s->retry_head = rh;
		if (!s->retry_tail)
			s->retry_tail = rt;
	}
	/* Bound the retry queue: the oldest go first. */
	while (s->retry_head && s->retry_rows > lim) {
		size_t r;
		b = s->retry_head;
		s->retry_head = b->next;
		if (!s->retry_head)
			s->retry_tail = NULL;
		r = store_batch_rows(b);
		s->retry_rows -= r;
		s->stats.queued_rows -= r;
		s->stats.rows_dropped += r;
		s->episode_dropped += r;
		push_done(s, b, STORE_EDROPPED, end);
	}
	s->stats.retry_rows = s->retry_rows;
}

static void apply_pages(store *s)
{
	char sql[64];
	int64_t pages = s->want_bytes / s->page_size;

	/* In the file's own pages, at least one (SQLite then keeps the
	 * current size: no growth); 0 restores its compiled-in maximum. */
	if (s->want_bytes > 0 && pages < 1)
		pages = 1;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld",
		 (long long)(s->want_bytes > 0 ? pages : 1073741823));
	store__exec(s->db, sql);
}

/* The WAL outgrew checkpoint_bytes (with the checkpointer: reached the
 * size its round begins at). Not within a second of the last
 * checkpoint: one that readers kept from finishing is not retried after
 * every commit. */
static int wal_full(store *s, uint64_t now)
{
	return s->o.checkpoint_bytes > 0 &&
	       (int64_t)s->wal_frames * s->page_size >=
		   store__wal_begin_bytes(s) &&
	       now - s->last_ckpt_ns >= 1000000000u;
}

/* Housekeeping between transactions (mu not held). */
static void maintenance(store *s, uint64_t now)
{
	int more = 0, n = 0, rc;

	/* A due checkpoint is a round of the checkpointer's (store_wal.c)
	 * first: the RESTART here copies what came since its passes. */
	if (store__wal_due(s, now - s->last_ckpt_ns >=
				      (uint64_t)s->o.checkpoint_ms * 1000000u ||
				  wal_full(s, now))) {
		/* RESTART, not TRUNCATE: the next commits write the WAL
		 * from its start again, over pages of the file that exist
		 * and are cached, where a truncated WAL grows again from
		 * nothing, each new block allocated and zeroed by the file
		 * system (a third of the writer's CPU at 100k series:
		 * bench/results/thr6-split.md). journal_size_limit bounds
		 * what is kept. RESTART waits for readers through the busy
		 * handler; a stalled writer would stall ingest, so do not
		 * wait. */
		sqlite3_busy_timeout(s->db, 0);
		rc = sqlite3_wal_checkpoint_v2(
		    s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		sqlite3_busy_timeout(s->db, s->o.busy_timeout_ms);
		store__wal_done(s);
		s->last_ckpt_ns = now;
		if (rc == SQLITE_OK) {
			s->wal_frames = 0;
			store__wlock(s);
			s->stats.checkpoints++;
			store__wunlock(s);
		}
	}
	/* Compaction first: it empties the log, which a retention step may
	 * need, and it is what keeps the log (and reads of it) bounded. One
	 * bounded step per call: ingest commits go between them. A failing
	 * step (disk full) is not retried after every commit. */
	if (!s->cmp.maxid &&
	    (s->log_samples >= store__compact_threshold(s) ||
	     s->log_rows >= STORE_LOG_MAX_ROWS) &&
	    now >= s->compact_next_ns && (rc = store__compact_begin(s)) != 0) {
		s->compact_next_ns = rc < 0 ? now + 5000000000u : now;
		store__wlock(s);
		s->stats.compacting = rc > 0;
		store__wunlock(s);
	}
	if (s->cmp.maxid && now >= s->compact_next_ns &&
	    store__compact_step(s) < 0)
		s->compact_next_ns = now + 5000000000u;
	if ((s->o.sample_retention_s > 0 || s->o.forecast_retention_s > 0) &&
	    now >= s->next_ret_ns) {
		n = store__retention_step(s, &more);
		/* A full step means a backlog: the next step comes after
		 * the next ingest commit rather than after the pause. */
		s->next_ret_ns =
		    more ? now : now + (uint64_t)s->o.retention_ms * 1000000u;
		if (n > 0) {
			store__wlock(s);
			s->stats.retention_deleted += (uint64_t)n;
			store__wunlock(s);
		}
	}
	/* Last, paced by itself: an upgrade's move of version 6's
	 * forecasts, a bounded step at a time. */
	store__fc_move_idle(s, now);
}

/* A round of the checkpointer's ends with a wake-up of the writer, but
 * one that comes between this look and the writer's sleep is not seen
 * (the checkpointer does not take mu): look again after this long. */
#define WAL_ROUND_POLL_NS 50000000u

static uint64_t next_maintenance(store *s)
{
	uint64_t a = s->last_ckpt_ns + (uint64_t)s->o.checkpoint_ms * 1000000u,
		 f;

	if (store__wal_round(s))
		a = store__now_ns() + WAL_ROUND_POLL_NS;
	if ((s->o.sample_retention_s > 0 || s->o.forecast_retention_s > 0) &&
	    s->next_ret_ns < a)
		a = s->next_ret_ns;
	/* A round in progress goes on while the queue is empty. */
	if (s->cmp.maxid && s->compact_next_ns < a)
		a = s->compact_next_ns;
	if ((f = store__fc_move_next(s)) < a)
		a = f;
	return a;
}

void *store__writer_main(void *arg)
{
	store *s = arg;
	store_batch *g;
	uint64_t rows, now, deadline, oldest;
	int rc, signal;

	s->last_ckpt_ns = store__now_ns();
	s->next_ret_ns = s->last_ckpt_ns;
	store__wal_start(s);
	store__wlock(s);
	for (;;) {
		if (s->pages_dirty) {
			s->pages_dirty = 0;
			store__wunlock(s);
			apply_pages(s);
			store__wlock(s);
		}
		if (!s->in_head && !s->retry_head) {
			if (s->stopping)
				break;
			store__wunlock(s);
			maintenance(s, store__now_ns());
			store__wlock(s);
			if (!s->in_head && !s->stopping && !s->pages_dirty)
				store__writer_wait(s, next_maintenance(s));
			continue;
		}
		/* Group-commit window, measured from the oldest batch. */
		oldest = s->retry_head ? s->retry_head->submit_ns
				       : s->in_head->submit_ns;
		deadline = oldest + (uint64_t)s->o.commit_ms * 1000000u;
		/* Submits that leave the rows short of commit_rows need not
		 * wake it (store_submit). */
		s->wake_rows = s->retry_rows < (size_t)s->o.commit_rows
				   ? (size_t)s->o.commit_rows - s->retry_rows
				   : 0;
		while (!s->stopping && !s->in_acks && !s->flushers &&
		       !s->stats.in_error &&
		       s->in_rows + s->retry_rows < (size_t)s->o.commit_rows &&
		       store__now_ns() < deadline)
			store__writer_wait(s, deadline);
		s->wake_rows = 0;
		g = take_group(s, &rows);
		store__wunlock(s);
		rc = run_tx(s, g, rows);
		store__wlock(s);
		finish_group(s, g, rc, rows);
		store__guard_lower(s);
		signal = s->done_head != NULL;
		if (s->flushers)
			pthread_cond_broadcast(&s->done_cv);
		pthread_mutex_unlock(&s->mu);
		if (signal) /* the loop delivers the finished batches */
			io_wake_send(&s->done);
		/* After the wake-up: at idle it may wait long for a core. */
		store__writer_idle(s);
		now = store__now_ns();
		if (rc == 0)
			maintenance(s, now);
		store__wlock(s);
		/* While failing, line ingest waits retry_ms between
		 * attempts; an acknowledged batch or a stop cuts it short. */
		deadline = now + (uint64_t)s->o.retry_ms * 1000000u;
		while (rc < 0 && !s->stopping && !s->in_acks &&
		       !s->pages_dirty && store__now_ns() < deadline)
			store__writer_wait(s, deadline);
	}
	if (s->episode_open)
		end_episode(s, s->stats.in_error ? "closing with writes failing"
						 : "writes resumed");
	store__wunlock(s);
	store__wal_stop(s);
	/* Leave a short WAL behind for the next start. */
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
				  NULL);
	store__finalize(s);
	sqlite3_close(s->db);
	s->db = NULL;
	return NULL;
}
