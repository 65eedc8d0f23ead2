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
 * bytes a sample, plus 48 bytes per row of the round).
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

/* A log row of the round: records [0, pos) are moved (in chunks), next is
 * the series id of record pos (when pos < n). The step in progress moves
 * [pos, end); nnext is then the series id of record end. */
typedef struct store__crow {
	int64_t id, n, smax, pos, next, end, nnext;
} crow;

void store__compact_end(store *s)
{
	free(s->crow);
	free(s->cmp_a);
	s->crow = NULL;
	s->cmp_a = NULL;
	s->ncrow = s->cmp_live = s->cmp_cap = 0;
	s->cmp_maxid = 0;
}

int store__compact_begin(store *s)
{
	sqlite3_stmt *q;
	size_t cap = 0;
	crow *p;
	int rc;

	store__compact_end(s);
	rc = sqlite3_prepare_v2(s->db,
				"SELECT id, n, smin, smax FROM sample_log "
				"ORDER BY id",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (s->ncrow == cap) {
			cap = cap ? 2 * cap : 256;
			if (!(p = realloc(s->crow, cap * sizeof *p))) {
				rc = SQLITE_NOMEM;
				break;
			}
			s->crow = p;
		}
		p = &s->crow[s->ncrow++];
		p->id = sqlite3_column_int64(q, 0);
		p->n = sqlite3_column_int64(q, 1);
		p->next = sqlite3_column_int64(q, 2);
		p->smax = sqlite3_column_int64(q, 3);
		p->pos = p->end = 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store__compact_end(s);
		return store__map_rc(rc);
	}
	if (!s->ncrow) {
		store__compact_end(s);
		return 0;
	}
	s->cmp_live = s->ncrow;
	s->cmp_maxid = s->crow[s->ncrow - 1].id;
	s->cmp_begin_ns = store__now_ns();
	return 1;
}

/* Where the step's range [lo, hi) ends in each live row (to_end: hi is
 * past every id); the samples that moves. */
static int step_ends(store *s, sqlite3_blob **bh, int64_t hi, int to_end,
		     int64_t *total)
{
	size_t i;
	int rc;

	*total = 0;
	for (i = 0; i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		r->end = r->pos;
		if (r->pos == r->n || (!to_end && r->next >= hi))
			continue;
		if (to_end || r->smax < hi) {
			r->end = r->n;
		} else {
			rc =
			    *bh ? sqlite3_blob_reopen(*bh, r->id)
				: sqlite3_blob_open(s->db, "main", "sample_log",
						    "data", r->id, 0, bh);
			if (rc != SQLITE_OK)
				return store__map_rc(rc);
			if (sqlite3_blob_bytes(*bh) != r->n * STORE_LOG_REC)
				return STORE_ECORRUPT;
			if ((rc = store__blob_lower(*bh, r->pos, r->n, hi,
						    &r->end)) < 0)
				return rc;
		}
		*total += r->end - r->pos;
	}
	return 0;
}

/* The range of one step: from the smallest series id left, about
 * compact_step samples wide by the density of what is left, halved while
 * it holds more than twice that. One series holding more than that is
 * moved a run of rows at a time (the oldest first). */
static int step_range(store *s, sqlite3_blob **bh, int64_t *total)
{
	uint64_t step = s->o.compact_step, left = 0;
	int64_t lo = INT64_MAX, maxs = INT64_MIN, hi, cum;
	double width;
	size_t i;
	int rc, to_end;

	for (i = 0; i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		if (r->pos == r->n)
			continue;
		lo = r->next < lo ? r->next : lo;
		maxs = r->smax > maxs ? r->smax : maxs;
		left += (uint64_t)(r->n - r->pos);
	}
	width = ((double)maxs - (double)lo + 1) * (double)step / (double)left;
	to_end = width >= (double)maxs - (double)lo + 1;
	hi = to_end ? maxs : lo + (width < 1 ? 1 : (int64_t)width);
	for (;;) {
		if ((rc = step_ends(s, bh, hi, to_end, total)) < 0)
			return rc;
		if ((uint64_t)*total <= 2 * step || hi - lo <= 1)
			break;
		hi = lo + (hi - lo) / 2;
		to_end = 0;
	}
	if ((uint64_t)*total <= 2 * step)
		return 0;
	for (i = 0, cum = 0; i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		if ((uint64_t)cum >= step)
			r->end = r->pos;
		cum += r->end - r->pos;
	}
	*total = cum;
	return 0;
}

/* The step's samples, rows in id order (the first-written copy first),
 * less the dropped series' ones: *n of them into s->cmp_a. */
static int step_read(store *s, sqlite3_blob **bh, int64_t total, size_t *n)
{
	unsigned char buf[STORE_LOG_PIECE * STORE_LOG_REC];
	int64_t lo = INT64_MAX, hi = INT64_MIN, k, m, j;
	store__void *v = NULL;
	size_t nv = 0, i;
	int rc = 0;

	*n = 0;
	if ((size_t)total > s->cmp_cap) {
		sb_sample *a = realloc(s->cmp_a, (size_t)total * sizeof *a);
		if (!a)
			return STORE_ENOMEM;
		s->cmp_a = a;
		s->cmp_cap = (size_t)total;
	}
	for (i = 0; i < s->ncrow; i++)
		if (s->crow[i].end > s->crow[i].pos) {
			lo = s->crow[i].next < lo ? s->crow[i].next : lo;
			hi = s->crow[i].smax > hi ? s->crow[i].smax : hi;
		}
	if (lo <= hi) {
		/* The dropped series' marks within the runs' ids. */
		sqlite3_bind_int64(s->st.void_range, 1, lo);
		sqlite3_bind_int64(s->st.void_range, 2, hi);
		if ((rc = store__voids_read(s->st.void_range, &v, &nv)) < 0)
			goto out;
	}
	for (i = 0; i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		for (k = r->pos; k < r->end; k += m) {
			m = r->end - k < STORE_LOG_PIECE ? r->end - k
							 : STORE_LOG_PIECE;
			rc =
			    *bh ? sqlite3_blob_reopen(*bh, r->id)
				: sqlite3_blob_open(s->db, "main", "sample_log",
						    "data", r->id, 0, bh);
			if (rc == SQLITE_OK &&
			    sqlite3_blob_bytes(*bh) != r->n * STORE_LOG_REC)
				rc = SQLITE_CORRUPT;
			if (rc == SQLITE_OK)
				rc = sqlite3_blob_read(
				    *bh, buf, (int)(m * STORE_LOG_REC),
				    (int)(k * STORE_LOG_REC));
			if (rc != SQLITE_OK) {
				rc = store__map_rc(rc);
				goto out;
			}
			for (j = 0; j < m; j++) {
				sb_sample *a = &s->cmp_a[*n];
				store__log_get(buf + j * STORE_LOG_REC, a);
				if (!store__voided(v, nv, a->sid, r->id))
					(*n)++;
			}
		}
		/* The next series of a row left part-way. */
		r->nnext = r->next;
		if (r->end > r->pos && r->end < r->n &&
		    (rc = store__blob_sid(*bh, r->end, &r->nnext)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(v);
	return rc;
}

/* The step committed: the rows' new positions, the counts, the stats. */
static void step_done(store *s, size_t moved, uint64_t t0)
{
	uint64_t dt;
	size_t i, k;

	for (i = k = 0; i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		if (r->pos < r->n && r->end == r->n) {
			s->log_samples -= (size_t)r->n;
			s->log_rows--;
			s->cmp_live--;
		}
		if (r->end > r->pos)
			r->next = r->nnext;
		r->pos = r->end;
		if (r->pos < r->n)
			s->crow[k++] = *r; /* drop the emptied rows */
	}
	s->ncrow = k;
	dt = store__now_ns() - t0;
	pthread_mutex_lock(&s->mu);
	s->stats.compact_steps++;
	s->stats.compacted += moved;
	s->stats.compact_ns += dt;
	if (dt > s->stats.compact_step_max_ns)
		s->stats.compact_step_max_ns = dt;
	if (!s->cmp_live)
		s->stats.compactions++;
	s->stats.compacting = s->cmp_live > 0;
	pthread_mutex_unlock(&s->mu);
	if (!s->cmp_live) {
		/* What is left came after the round began. */
		s->log_since_ns = s->cmp_begin_ns;
		store__compact_end(s);
	}
}

long store__compact_step(store *s)
{
	sqlite3_blob *bh = NULL;
	int64_t total = 0;
	uint64_t t0 = store__now_ns();
	size_t n = 0, i, gone = 0;
	long k = 0;
	int rc;

	if (!s->cmp_maxid)
		return 0;
	if ((rc = run(s->st.begin)) < 0)
		return rc;
	rc = step_range(s, &bh, &total);
	if (rc == 0 && total > 0)
		rc = step_read(s, &bh, total, &n);
	sqlite3_blob_close(bh);
	if (rc == 0 && n > 0 && (k = store__log_sort(s->cmp_a, n)) < 0)
		rc = (int)k;
	if (rc == 0 && k > 0)
		rc = store__chunks_write(s, s->cmp_a, (size_t)k);
	for (i = 0; rc == 0 && i < s->ncrow; i++) {
		crow *r = &s->crow[i];
		if (r->pos < r->n && r->end == r->n) {
			sqlite3_bind_int64(s->st.log_del1, 1, r->id);
			rc = run(s->st.log_del1);
			gone++;
		}
	}
	/* The round's last rows: the marks of dropped series whose samples
	 * only these rows held go too. */
	if (rc == 0 && gone == s->cmp_live) {
		sqlite3_bind_int64(s->st.void_del, 1, s->cmp_maxid);
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

static int legacy_exists(sqlite3 *db, int *yes)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT 1 FROM sqlite_master WHERE "
				    "type='table' AND name='samples'",
				    -1, &q, NULL);

	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	rc = sqlite3_step(q);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
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

	if ((rc = legacy_exists(s->db, &yes)) < 0 || !yes)
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
