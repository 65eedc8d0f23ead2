/*
 * io/store_log.c: the sample log's and the chunks' encodings, loading the
 * log sorted by (series, seq), and the merge of chunks + log that every
 * reader of samples goes through (history, recovery, counts, retention).
 *
 * Workload: the writer packs every accepted sample (32 bytes) into the
 * transaction's sample_log rows; a reader loads one series' part of the log
 * (a history read) or the log in windows of series ids (store_logscan.c:
 * recovery, counts, compaction), and merges it with each series' chunks in
 * seq order. A sample is stored once: when a seq is
 * both in a chunk and in the log, or twice in the log, the copy written
 * first wins (the chunk: compaction only ever moves older log rows into
 * chunks), which is what INSERT OR IGNORE on (series_id, seq) gave.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "io/le.h"
#include "io/store_int.h"

void store__log_put(unsigned char *p, const sb_sample *r)
{
	io__put64(p, (uint64_t)r->sid);
	io__put64(p + 8, (uint64_t)r->seq);
	io__putd(p + 16, r->t);
	/* One NaN: what reads back does not depend on the sender's bits
	 * (a NULL column gave the same). */
	io__putd(p + 24, isnan(r->v) ? NAN : r->v);
}

void store__log_get(const unsigned char *p, sb_sample *r)
{
	r->sid = (int64_t)io__get64(p);
	r->seq = (int64_t)io__get64(p + 8);
	r->t = io__getd(p + 16);
	r->v = io__getd(p + 24);
}

void store__chunk_put(unsigned char *p, double t, double v)
{
	io__putd(p, t);
	io__putd(p + 8, isnan(v) ? NAN : v);
}

void store__log_sort_rows(unsigned char *a, unsigned char *tmp, size_t n)
{
	size_t cnt[256], i, b, k;
	unsigned char *src = a, *dst = tmp, *t;

	/* LSD radix sort on the series id's bytes (ids are positive, stored
	 * little-endian): stable, so a series' records keep their order;
	 * bytes all records share (the high ones) cost one counting pass. */
	for (b = 0; b < 8; b++) {
		memset(cnt, 0, sizeof cnt);
		for (i = 0; i < n; i++)
			cnt[src[i * STORE_LOG_REC + b]]++;
		if (cnt[src[b]] == n)
			continue;
		for (i = k = 0; i < 256; i++) {
			size_t c = cnt[i];
			cnt[i] = k;
			k += c;
		}
		for (i = 0; i < n; i++)
			memcpy(dst + cnt[src[i * STORE_LOG_REC + b]]++ *
					 STORE_LOG_REC,
			       src + i * STORE_LOG_REC, STORE_LOG_REC);
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * STORE_LOG_REC);
}

/* (sid, seq) order; a stable sort keeps the first-written copy first. */
static int before(const sb_sample *a, const sb_sample *b)
{
	return a->sid < b->sid || (a->sid == b->sid && a->seq < b->seq);
}

/* Stable top-down merge sort of a[0..n) by (sid, seq); tmp holds n. */
static void msort(sb_sample *a, sb_sample *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	msort(a, tmp, h);
	msort(a + h, tmp, n - h);
	if (!before(&a[h], &a[h - 1]))
		return; /* already in order: the common case for the log */
	while (i < h && j < n)
		tmp[k++] = before(&a[j], &a[i]) ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	memcpy(a, tmp, k * sizeof *a); /* a[j..n) is in place */
}

/* Counting sort by sid (stable) when the ids are dense, as the daemon
 * hands them out: two passes instead of log2(n). 0, or 1 when not used
 * (pos: range + 1 counters from b). */
static int count_sort(sb_sample *a, sb_sample *tmp, size_t n, store__sortbuf *b)
{
	int64_t lo = a[0].sid, hi = a[0].sid;
	size_t i, range, *pos;

	for (i = 1; i < n; i++) {
		lo = a[i].sid < lo ? a[i].sid : lo;
		hi = a[i].sid > hi ? a[i].sid : hi;
	}
	if (lo < 0 || (uint64_t)(hi - lo) > 2 * (uint64_t)n + 65536)
		return 1;
	range = (size_t)(hi - lo) + 1;
	if (io_grow(&b->pos, &b->npos, range + 1, sizeof *b->pos, 1024))
		return 1;
	pos = b->pos;
	memset(pos, 0, (range + 1) * sizeof *pos);
	for (i = 0; i < n; i++)
		pos[a[i].sid - lo + 1]++;
	for (i = 1; i <= range; i++)
		pos[i] += pos[i - 1];
	for (i = 0; i < n; i++)
		tmp[pos[a[i].sid - lo]++] = a[i];
	memcpy(a, tmp, n * sizeof *a);
	return 0;
}

void store__sortbuf_release(store__sortbuf *b)
{
	free(b->tmp);
	free(b->pos);
	memset(b, 0, sizeof *b);
}

long store__log_sort_in(sb_sample *a, size_t n, store__sortbuf *b)
{
	size_t i, j, k;

	for (i = 1; i < n && !before(&a[i], &a[i - 1]); i++)
		;
	if (i < n) {
		sb_sample *tmp;
		if (io_grow(&b->tmp, &b->ntmp, n, sizeof *b->tmp, 1024))
			return STORE_ENOMEM;
		tmp = b->tmp;
		if (count_sort(a, tmp, n, b) == 0) {
			/* Within a series the log is in seq order but for
			 * retried or replayed batches: sort those runs. */
			for (i = 0; i < n; i = j) {
				for (j = i + 1; j < n && a[j].sid == a[i].sid;
				     j++)
					;
				msort(a + i, tmp, j - i);
			}
		} else {
			msort(a, tmp, n);
		}
	}
	for (i = k = 0; i < n; i++)
		if (k == 0 || a[i].sid != a[k - 1].sid ||
		    a[i].seq != a[k - 1].seq)
			a[k++] = a[i];
	return (long)k;
}

long store__log_sort(sb_sample *a, size_t n)
{
	store__sortbuf b = {0};
	long k = store__log_sort_in(a, n, &b);

	store__sortbuf_release(&b);
	return k;
}

static int void_cmp(const void *a, const void *b)
{
	int64_t x = ((const store__void *)a)->sid;
	int64_t y = ((const store__void *)b)->sid;

	return (x > y) - (x < y);
}

int store__voids_read(sqlite3_stmt *q, store__void **out, size_t *n)
{
	store__void *v = NULL, *p;
	size_t cap = 0;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			p = realloc(v, cap * sizeof *v);
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = p;
		}
		v[*n].sid = sqlite3_column_int64(q, 0);
		v[*n].upto = sqlite3_column_int64(q, 1);
		(*n)++;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		v = NULL;
	}
	*out = v;
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

/* The dropped series' marks (sample_log_void), sorted by sid. */
static int load_voids(sqlite3 *db, store__void **out, size_t *n)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT series_id, upto FROM "
				    "sample_log_void ORDER BY series_id",
				    -1, &q, NULL);

	*out = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	rc = store__voids_read(q, out, n);
	sqlite3_finalize(q);
	return rc;
}

int store__voided(const store__void *v, size_t nv, int64_t sid, int64_t row)
{
	store__void key = {sid, 0}, *e;

	if (!nv)
		return 0;
	e = bsearch(&key, v, nv, sizeof *v, void_cmp);
	return e && row <= e->upto;
}

/* Room for one more sample in out. */
static int logv_room(store__logv *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? 2 * out->cap : 64;
		sb_sample *a = realloc(out->a, cap * sizeof *a);
		if (!a)
			return STORE_ENOMEM;
		out->a = a;
		out->cap = cap;
	}
	return 0;
}

int store__blob_sid(sqlite3_blob *bh, int64_t i, int64_t *sid)
{
	unsigned char b[8];
	int rc = sqlite3_blob_read(bh, b, 8, (int)(i * STORE_LOG_REC));

	*sid = (int64_t)io__get64(b);
	return rc == SQLITE_OK ? 0 : store__map_rc(rc);
}

int store__blob_lower(sqlite3_blob *bh, int64_t lo, int64_t hi, int64_t sid,
		      int64_t *pos)
{
	int64_t at;
	int rc;

	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if ((rc = store__blob_sid(bh, mid, &at)) < 0)
			return rc;
		if (at < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

/* Row n records long (sorted by sid): sid's records through the blob
 * handle, a binary search on the ids and a read of the matching run. */
static int row_series(sqlite3_blob *bh, int64_t row, int64_t n, int64_t sid,
		      const store__void *v, size_t nv, store__logv *out)
{
	unsigned char buf[64 * STORE_LOG_REC];
	int64_t lo, i, k, m;
	int rc;

	if ((rc = store__blob_lower(bh, 0, n, sid, &lo)) < 0)
		return rc;
	for (i = lo; i < n; i += m) {
		m = n - i < 64 ? n - i : 64;
		if ((rc = sqlite3_blob_read(bh, buf, (int)(m * STORE_LOG_REC),
					    (int)(i * STORE_LOG_REC))) !=
		    SQLITE_OK)
			return store__map_rc(rc);
		for (k = 0; k < m; k++) {
			if ((int64_t)io__get64(buf + k * STORE_LOG_REC) != sid)
				return 0;
			if (store__voided(v, nv, sid, row))
				return 0;
			if (logv_room(out))
				return STORE_ENOMEM;
			store__log_get(buf + k * STORE_LOG_REC,
				       &out->a[out->n++]);
		}
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The log rows whose id range holds sid, in row order: [2k] = row id,
 * [2k + 1] = its sample count. */
/* The log rows that may hold samples of sid at t >= t0: their id range
 * spans sid, and their newest sample (tmax, schema 8; NULL in rows
 * written before it) is not older than t0. A database still at schema 7
 * (a reader opened on it before any writer of this version) has no tmax:
 * every row spanning sid then. */
static int series_rows(sqlite3 *db, int64_t sid, double t0, int64_t **out,
		       size_t *n)
{
	sqlite3_stmt *q;
	int64_t *a = NULL, *p;
	size_t cap = 0;
	int rc;

	*n = 0;
	rc = sqlite3_prepare_v2(db,
				"SELECT id, n FROM sample_log WHERE smax>=?1 "
				"AND smin<=?1 AND (tmax IS NULL OR tmax>=?2)",
				-1, &q, NULL);
	if (rc == SQLITE_ERROR) /* no such column: schema 7 */
		rc = sqlite3_prepare_v2(db,
					"SELECT id, n FROM sample_log WHERE "
					"smax>=?1 AND smin<=?1",
					-1, &q, NULL);
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	sqlite3_bind_int64(q, 1, sid);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_double(q, 2, t0);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			p = realloc(a, 2 * cap * sizeof *a);
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			a = p;
		}
		a[2 * *n] = sqlite3_column_int64(q, 0);
		a[2 * *n + 1] = sqlite3_column_int64(q, 1);
		(*n)++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		free(a);
		*n = 0;
		return store__map_rc(rc);
	}
	/* The index gives them in id-range order; first-written wins. */
	if (*n)
		qsort(a, *n, 2 * sizeof *a, cmp_i64);
	*out = a;
	return 0;
}

int store__log_series(sqlite3 *db, int64_t sid, double t0, store__logv *out)
{
	sqlite3_blob *bh = NULL;
	store__void *v = NULL;
	int64_t *rows = NULL;
	size_t nv = 0, nr = 0, i;
	int e;
	long k;

	memset(out, 0, sizeof *out);
	if ((e = load_voids(db, &v, &nv)) < 0)
		return e;
	e = series_rows(db, sid, t0, &rows, &nr);
	for (i = 0; !e && i < nr; i++) {
		int64_t row = rows[2 * i], n = rows[2 * i + 1];
		int brc = bh ? sqlite3_blob_reopen(bh, row)
			     : sqlite3_blob_open(db, "main", "sample_log",
						 "data", row, 0, &bh);
		if (brc != SQLITE_OK) {
			e = store__map_rc(brc);
			break;
		}
		if (sqlite3_blob_bytes(bh) != n * STORE_LOG_REC) {
			e = STORE_ECORRUPT;
			break;
		}
		out->maxid = row;
		e = row_series(bh, row, n, sid, v, nv, out);
	}
	sqlite3_blob_close(bh);
	free(rows);
	free(v);
	if (!e && (k = store__log_sort(out->a, out->n)) < 0)
		e = (int)k;
	if (e) {
		store__logv_release(out);
		return e;
	}
	out->n = (size_t)k;
	return 0;
}

void store__logv_release(store__logv *l)
{
	free(l->a);
	memset(l, 0, sizeof *l);
}

size_t store__logv_find(const store__logv *l, int64_t sid, size_t *n)
{
	size_t lo = 0, hi = l->n, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->a[mid].sid < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < l->n && l->a[lo].sid == sid)
		lo++;
	*n = lo - first;
	return first;
}

int store__chunk_end(sqlite3_stmt *q, int64_t sid, int64_t seq, int64_t *end)
{
	int rc;

	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_int64(q, 2, seq);
	rc = sqlite3_step(q);
	*end = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

int store__log_dedupe(sqlite3_stmt *end_q, int64_t sid, sb_sample *a, size_t *n,
		      int64_t *last)
{
	int64_t e;
	size_t i, k;
	int rc;

	/* The series' last chunk first: the log is usually past it, and
	 * then one seek settles every sample. */
	if ((rc = store__chunk_end(end_q, sid, INT64_MAX, last)) < 0)
		return rc;
	for (i = k = 0; i < *n; i++) {
		if (a[i].seq <= *last) {
			rc = store__chunk_end(end_q, sid, a[i].seq, &e);
			if (rc < 0)
				return rc;
			if (e >= a[i].seq)
				continue; /* a chunk holds it */
		}
		a[k++] = a[i];
	}
	*n = k;
	return 0;
}

/* The merge's output: filtered, buffered, handed on in chunks; the log
 * samples not yet merged (log[j..nlog)). */
struct store__merger {
	const store__range *rg;
	store_sample buf[STORE_MERGE_CHUNK];
	size_t n, total;
	int (*cb)(void *ud, const store_sample *s, size_t n);
	void *ud;
	int full; /* limit reached */
	const sb_sample *log;
	size_t nlog, j;
};

static int emit(store__merger *o, int64_t seq, double t, double v)
{
	const store__range *rg = o->rg;

	if (seq <= rg->after || !(t >= rg->t0) || !(t < rg->t1))
		return 0;
	o->buf[o->n].seq = seq;
	o->buf[o->n].t = t;
	o->buf[o->n].value = v;
	o->total++;
	if (++o->n == STORE_MERGE_CHUNK) {
		o->n = 0;
		if (o->cb(o->ud, o->buf, STORE_MERGE_CHUNK))
			return STORE_EABORT;
	}
	if (rg->limit && o->total >= rg->limit) {
		o->full = 1;
		return 1;
	}
	return 0;
}

store__merger *
store__merge_begin(const sb_sample *log, size_t nlog, const store__range *rg,
		   int (*cb)(void *ud, const store_sample *s, size_t n),
		   void *ud)
{
	store__merger *o = malloc(sizeof *o);

	if (!o)
		return NULL;
	o->rg = rg;
	o->n = o->total = 0;
	o->cb = cb;
	o->ud = ud;
	o->full = 0;
	o->log = log;
	o->nlog = log ? nlog : 0;
	o->j = 0;
	return o;
}

int store__merge_chunk(store__merger *o, int64_t seq0, int64_t n,
		       const void *data, int bytes)
{
	const unsigned char *p = data;
	const sb_sample *log = o->log;
	int64_t i;
	int e = 0;

	if (n < 1 || bytes != n * STORE_CHUNK_REC)
		return STORE_ECORRUPT;
	for (i = 0; i < n && !e; i++, p += STORE_CHUNK_REC) {
		int64_t seq = seq0 + i;
		while (!e && o->j < o->nlog && log[o->j].seq < seq) {
			e = emit(o, log[o->j].seq, log[o->j].t, log[o->j].v);
			o->j++;
		}
		if (o->j < o->nlog && log[o->j].seq == seq)
			o->j++; /* stored twice: the chunk's copy is older */
		if (!e)
			e = emit(o, seq, io__getd(p), io__getd(p + 8));
	}
	return e;
}

int store__merge_end(store__merger *o, int e, size_t *count)
{
	for (; !e && o->j < o->nlog; o->j++)
		e = emit(o, o->log[o->j].seq, o->log[o->j].t, o->log[o->j].v);
	if (e == 1)
		e = 0; /* the limit */
	if (!e && o->n && o->cb(o->ud, o->buf, o->n))
		e = STORE_EABORT;
	if (count)
		*count = o->total;
	free(o);
	return e;
}

int store__merge(sqlite3_stmt *q, const sb_sample *log, size_t nlog,
		 const store__range *rg,
		 int (*cb)(void *ud, const store_sample *s, size_t n), void *ud,
		 size_t *count)
{
	store__merger *o = store__merge_begin(log, nlog, rg, cb, ud);
	int rc = SQLITE_DONE, e = 0;

	if (!o) {
		if (q)
			sqlite3_reset(q);
		return STORE_ENOMEM;
	}
	while (q && !e && (rc = sqlite3_step(q)) == SQLITE_ROW)
		e = store__merge_chunk(
		    o, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
		    sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2));
	if (q)
		sqlite3_reset(q);
	if (!e && rc != SQLITE_DONE)
		e = store__map_rc(rc);
	return store__merge_end(o, e, count);
}
