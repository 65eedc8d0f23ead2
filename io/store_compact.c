/*
 * io/store_compact.c: moving samples from the log into per-series chunks
 * (the writer thread, between ingest transactions), and converting the
 * samples table of a schema-3 database into chunks at open.
 *
 * Workload: at 100k series a compaction round moves a few million log
 * samples, in steps of about store_opts.compact_step samples: one step
 * reads the part of each of the round's rows that holds its range of
 * series (rows are sorted by series id: a binary search and one read per
 * row), sorts it by (series, seq) and writes one chunk per series: one
 * B-tree seek and one insert per series instead of one per sample, in
 * (series, seq) order, then deletes the rows it has emptied, in one
 * transaction. The writer's pause is one step, and so is the memory (32
 * bytes a sample, plus 56 bytes per row of the round).
 *
 * Crash safety without rewriting rows: a row a step moved part of keeps
 * those samples until a later step empties it. Every reader drops a log
 * sample whose seq a chunk holds (the chunk's copy was written first),
 * so a moved sample is read once whether or not its row is gone yet, and
 * a crash anywhere (inside a step: the transaction is undone; between
 * steps) leaves each sample readable exactly once. The round's progress
 * lives only in memory; a round cut short is not resumed: the next one
 * moves what is left and drops what chunks already hold.
 *
 * Chunks of a series hold disjoint seq ranges, each a run of consecutive
 * seqs (a gap in the seqs, from a failed commit, starts a new chunk). A log
 * sample whose seq a chunk already holds is a duplicate and is dropped (the
 * chunk's copy was written first); one that falls in a gap between chunks
 * becomes a chunk of its own.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/le.h"
#include "io/store_int.h"

/* Legacy rows converted per transaction at open. */
#define CONVERT_ROWS 100000

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

int store__chunk_insert(store *s, int64_t sid, int64_t seq0,
			const unsigned char *data, size_t n)
{
	sqlite3_stmt *q = s->st.ck_ins;
	double t0 = INFINITY, t1 = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		double t = io__getd(data + i * STORE_CHUNK_REC);
		t0 = t < t0 ? t : t0;
		t1 = t > t1 ? t : t1;
	}
	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_int64(q, 2, seq0);
	sqlite3_bind_int64(q, 3, (int64_t)n);
	sqlite3_bind_double(q, 4, t0);
	sqlite3_bind_double(q, 5, t1);
	sqlite3_bind_blob(q, 6, data, (int)(n * STORE_CHUNK_REC),
			  SQLITE_STATIC);
	return run(q);
}

/* One chunk: a[0..n) of one series with consecutive seqs. */
static int put_chunk(store *s, const sb_sample *a, size_t n)
{
	size_t i;

	if (n * STORE_CHUNK_REC > s->cbuf_cap) {
		unsigned char *p = realloc(s->cbuf, n * STORE_CHUNK_REC);
		if (!p)
			return STORE_ENOMEM;
		s->cbuf = p;
		s->cbuf_cap = n * STORE_CHUNK_REC;
	}
	for (i = 0; i < n; i++)
		store__chunk_put(s->cbuf + i * STORE_CHUNK_REC, a[i].t, a[i].v);
	return store__chunk_insert(s, a[0].sid, a[0].seq, s->cbuf, n);
}

int store__chunks_write(store *s, sb_sample *a, size_t n)
{
	size_t i = 0, j, k, m, left;
	int64_t last;
	int rc;

	while (i < n) {
		for (j = i + 1; j < n && a[j].sid == a[i].sid; j++)
			;
		left = j - i;
		if ((rc = store__log_dedupe(s->st.ck_end, a[i].sid, a + i,
					    &left, &last)) < 0)
			return rc;
		/* What is left below the series' last chunk fills gaps
		 * between chunks: one chunk each, so none overlaps the next
		 * chunk. */
		for (k = i; k < i + left && a[k].seq <= last; k++)
			if ((rc = put_chunk(s, &a[k], 1)) < 0)
				return rc;
		for (; k < i + left; k = m) {
			for (m = k + 1;
			     m < i + left && m - k < STORE_CHUNK_MAX &&
			     a[m].seq == a[m - 1].seq + 1;
			     m++)
				;
			if ((rc = put_chunk(s, &a[k], m - k)) < 0)
				return rc;
		}
		i = j;
	}
	return 0;
}

static int tx_end(store *s, int rc)
{
	if (rc == 0)
		rc = run(s->st.commit);
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		run(s->st.rollback);
	return rc;
}

void store__compact_end(store *s)
{
	store__lscan_release(&s->cmp);
}

int store__compact_begin(store *s)
{
	int rc;

	store__compact_end(s);
	if ((rc = store__lscan_init(&s->cmp, s->db, s->st.void_range)) < 0)
		return rc;
	if (!s->cmp.n) {
		store__compact_end(s);
		return 0;
	}
	s->cmp_begin_ns = store__now_ns();
	return 1;
}

/* The step committed: the rows move on, the counts, the stats. */
static void step_done(store *s, size_t moved, uint64_t t0)
{
	store__lscan *l = &s->cmp;
	uint64_t dt;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->r[i].end == l->r[i].n) {
			s->log_samples -= (size_t)l->r[i].n;
			s->log_rows--;
		}
	store__lscan_next(l);
	dt = store__now_ns() - t0;
	pthread_mutex_lock(&s->mu);
	s->stats.compact_steps++;
	s->stats.compacted += moved;
	s->stats.compact_ns += dt;
	if (dt > s->stats.compact_step_max_ns)
		s->stats.compact_step_max_ns = dt;
	if (!l->n)
		s->stats.compactions++;
	s->stats.compacting = l->n > 0;
	pthread_mutex_unlock(&s->mu);
	if (!l->n) {
		/* What is left came after the round began. */
		s->log_since_ns = s->cmp_begin_ns;
		store__compact_end(s);
	}
}

long store__compact_step(store *s)
{
	store__lscan *l = &s->cmp;
	int64_t total = 0;
	uint64_t t0 = store__now_ns();
	size_t i, gone = 0;
	long k = 0;
	int rc;

	if (!l->maxid)
		return 0;
	if ((rc = run(s->st.begin)) < 0)
		return rc;
	rc = store__lscan_range(l, s->o.compact_step, 0, &total);
	if (rc == 0 && total > 0)
		rc = store__lscan_read(l, total);
	if (rc == 0 && l->na > 0 &&
	    (k = store__log_sort_in(l->a, l->na, &l->sort)) < 0)
		rc = (int)k;
	if (rc == 0 && k > 0)
		rc = store__chunks_write(s, l->a, (size_t)k);
	for (i = 0; rc == 0 && i < l->n; i++) {
		if (l->r[i].end == l->r[i].n) {
			sqlite3_bind_int64(s->st.log_del1, 1, l->r[i].id);
			rc = run(s->st.log_del1);
			gone++;
		}
	}
	/* The round's last rows: the marks of dropped series whose samples
	 * only these rows held go too. */
	if (rc == 0 && gone == l->n) {
		sqlite3_bind_int64(s->st.void_del, 1, l->maxid);
		rc = run(s->st.void_del);
	}
	if ((rc = tx_end(s, rc)) < 0)
		return rc;
	step_done(s, (size_t)total, t0);
	return (long)total;
}

size_t store__compact_threshold(const store *s)
{
	uint64_t want = (uint64_t)STORE_LOG_PER_SERIES *
			(uint64_t)(s->max_sid > 0 ? s->max_sid : 1);

	if (want < STORE_LOG_MIN)
		want = STORE_LOG_MIN;
	if (want > (uint64_t)s->o.log_max_samples)
		want = (uint64_t)s->o.log_max_samples;
	return (size_t)want;
}

/* One conversion transaction: the first CONVERT_ROWS rows of samples (in
 * key order) into chunks, deleted from samples; the table dropped once
 * empty. *done = 1 then. */
static int convert_step(store *s, sqlite3_stmt *sel, sqlite3_stmt *del,
			sb_sample *a, int *done, int64_t *moved)
{
	size_t n = 0;
	int rc;

	if ((rc = run(s->st.begin)) < 0)
		return rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		a[n].sid = sqlite3_column_int64(sel, 0);
		a[n].seq = sqlite3_column_int64(sel, 1);
		a[n].t = sqlite3_column_double(sel, 2);
		a[n].v = store__column_value(sel, 3);
		n++;
	}
	sqlite3_reset(sel);
	rc = rc == SQLITE_DONE ? 0 : store__map_rc(rc);
	*done = rc == 0 && n == 0;
	if (rc == 0 && n)
		rc = store__chunks_write(s, a, n);
	if (rc == 0 && n) {
		sqlite3_bind_int64(del, 1, a[n - 1].sid);
		sqlite3_bind_int64(del, 2, a[n - 1].seq);
		rc = run(del);
	}
	if (rc == 0 && *done)
		rc = store__exec(s->db, "DROP TABLE samples");
	*moved += (int64_t)n;
	return tx_end(s, rc);
}

int store__convert_legacy(store *s)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	sb_sample *a;
	int64_t moved = 0;
	int rc, yes = 0, done = 0;

	if ((rc = store__schema_has(s->db, "table", "samples", &yes)) < 0 ||
	    !yes)
		return rc;
	a = malloc(CONVERT_ROWS * sizeof *a);
	if (!a)
		return STORE_ENOMEM;
	rc = sqlite3_prepare_v2(
	    s->db,
	    "SELECT series_id,seq,t,value FROM samples ORDER BY series_id,seq "
	    "LIMIT " STORE_STR(CONVERT_ROWS),
	    -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc =
		    sqlite3_prepare_v2(s->db,
				       "DELETE FROM samples WHERE series_id<?1 "
				       "OR (series_id=?1 AND seq<=?2)",
				       -1, &del, NULL);
	rc = rc == SQLITE_OK ? 0 : store__map_rc(rc);
	while (rc == 0 && !done)
		rc = convert_step(s, sel, del, a, &done, &moved);
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	free(a);
	if (moved)
		store__log(s,
			   "converted %lld samples of schema 3 into chunks%s",
			   (long long)moved, rc ? " (interrupted)" : "");
	return rc;
}
