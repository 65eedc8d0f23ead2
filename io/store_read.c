/*
 * io/store_read.c: read-only access on a connection of its own (history,
 * list, forecasts, counts, integrity check). WAL lets these run while the
 * writer commits; each reader is used by one thread at a time.
 *
 * A history read is one series' chunks in the time range (a key range
 * seek) merged with that series' samples in the log, which it finds by a
 * binary search in each log row (rows are sorted by series id; compaction
 * bounds them to 4096), both in one read transaction.
 *
 * Forecast statements depend on the schema: during an upgrade the writer
 * moves version 6's rows into schema 7's table and drops the old one
 * (io/store_fc.c), and a reader opened on a file not yet upgraded reads a
 * table that migration 7 renames. SQLite re-prepares a statement after a
 * schema change but silently: the old layout's SELECT on "forecasts" reads
 * the new, then partial, table. So each forecast read runs in a read
 * transaction that first reads the schema cookie (PRAGMA schema_version,
 * a field of the file's header) and re-derives the statement when it
 * changed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/store_int.h"

struct store_reader {
	sqlite3 *db;
	sqlite3_stmt *list, *find, *hist, *end, *fc, *cookie;
	int fc_layout; /* STORE_FC_*: which forecasts tables it reads */
	int fc_cookie; /* the schema_version fc and fc_layout are for */
};

void store_reader_free(store_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->list);
	sqlite3_finalize(r->find);
	sqlite3_finalize(r->hist);
	sqlite3_finalize(r->end);
	sqlite3_finalize(r->fc);
	sqlite3_finalize(r->cookie);
	sqlite3_close(r->db);
	free(r);
}

int store_reader_open(store_reader **out, const char *path)
{
	store_reader *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return STORE_ENOMEM;
	if ((rc = store__open_db(path, 0, NULL, &r->db)) < 0) {
		free(r);
		return rc;
	}
	/* Pages through a mapping: a history read visits a few pages of
	 * many log rows, each a pread and a copy otherwise. */
	store__exec(r->db, "PRAGMA mmap_size=268435456");
	rc = sqlite3_prepare_v2(
	    r->db,
	    "SELECT id,name,tags,step_s,period,created FROM series ORDER BY id",
	    -1, &r->list, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    r->db, "SELECT id FROM series WHERE name=?1 AND tags=?2",
		    -1, &r->find, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    r->db,
		    "SELECT seq0,n,data FROM sample_chunks WHERE series_id=?1 "
		    "AND t1>=?2 AND t0<?3 ORDER BY seq0",
		    -1, &r->hist, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    r->db,
		    "SELECT seq0+n-1 FROM sample_chunks WHERE series_id=?1 "
		    "AND seq0<=?2 ORDER BY seq0 DESC LIMIT 1",
		    -1, &r->end, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(r->db, "PRAGMA schema_version", -1,
					&r->cookie, NULL);
	/* A file without the schema fails here rather than at a read. */
	if (rc == SQLITE_OK && store__fc_layout(r->db, &r->fc_layout) < 0)
		rc = sqlite3_errcode(r->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    r->db, store__fc_range_sql(r->fc_layout), -1, &r->fc, NULL);
	r->fc_cookie = -1; /* the first read checks */
	if (rc != SQLITE_OK) {
		/* No schema yet (never opened by a writer) or worse. */
		rc = store__map_rc(rc) == STORE_ESQL ? STORE_ESCHEMA
						     : store__map_rc(rc);
		store_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int store_list(store_reader *r,
	       int (*cb)(void *ud, const store_series_info *si), void *ud)
{
	store_series_info si;
	int rc;

	while ((rc = sqlite3_step(r->list)) == SQLITE_ROW) {
		si.id = sqlite3_column_int64(r->list, 0);
		si.name = (const char *)sqlite3_column_text(r->list, 1);
		si.tags = (const char *)sqlite3_column_text(r->list, 2);
		si.step_s = sqlite3_column_double(r->list, 3);
		si.period = sqlite3_column_int(r->list, 4);
		si.created = sqlite3_column_double(r->list, 5);
		si.forecast_t = NAN;
		si.known = 0;
		if (cb(ud, &si)) {
			sqlite3_reset(r->list);
			return STORE_EABORT;
		}
	}
	sqlite3_reset(r->list);
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

int store_find_series(store_reader *r, const char *name, const char *tags,
		      int64_t *id)
{
	int rc;

	sqlite3_bind_text(r->find, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(r->find, 2, tags ? tags : "", -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(r->find);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(r->find, 0);
	sqlite3_reset(r->find);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store__map_rc(rc);
}

/* NULL (how SQLite stores NaN) reads back as NaN. */
double store__column_value(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		   ? NAN
		   : sqlite3_column_double(st, i);
}

/* Reads run in one transaction: the log and the chunks are seen at the
 * same commit (a compaction between them would show a sample twice or
 * not at all). */
static int read_begin(store_reader *r)
{
	return store__exec(r->db, "BEGIN");
}

static void read_end(store_reader *r)
{
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
}

/* In a read transaction: r->fc and r->fc_layout for the schema it reads
 * (the head of this file). */
static int fc_current(store_reader *r)
{
	sqlite3_stmt *st = NULL;
	int rc, v, layout;

	rc = sqlite3_step(r->cookie);
	v = sqlite3_column_int(r->cookie, 0);
	sqlite3_reset(r->cookie);
	if (rc != SQLITE_ROW)
		return store__map_rc(rc);
	if (v == r->fc_cookie)
		return 0;
	if ((rc = store__fc_layout(r->db, &layout)) < 0)
		return rc;
	rc = sqlite3_prepare_v2(r->db, store__fc_range_sql(layout), -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	sqlite3_finalize(r->fc);
	r->fc = st;
	r->fc_layout = layout;
	r->fc_cookie = v;
	return 0;
}

int store_history(store_reader *r, int64_t series_id, double t0, double t1,
		  size_t limit,
		  int (*cb)(void *ud, const store_sample *s, size_t n),
		  void *ud)
{
	store__range rg = {INT64_MIN, t0, t1, limit};
	store__logv l;
	int64_t last;
	int rc;

	if ((rc = read_begin(r)) < 0)
		return rc;
	/* Rows all older than t0 hold nothing in range: not read. */
	rc = store__log_series(r->db, series_id, t0, &l);
	if (rc == 0)
		rc = store__log_dedupe(r->end, series_id, l.a, &l.n, &last);
	if (rc == 0) {
		sqlite3_bind_int64(r->hist, 1, series_id);
		sqlite3_bind_double(r->hist, 2, t0);
		sqlite3_bind_double(r->hist, 3, t1);
		rc = store__merge(r->hist, l.a, l.n, &rg, cb, ud, NULL);
	}
	store__logv_release(&l);
	read_end(r);
	return rc;
}

int store_forecasts(store_reader *r, int64_t series_id, double t0, double t1,
		    int (*cb)(void *ud, const store_forecast_row *f), void *ud)
{
	store_forecast_row f;
	float *tmp = NULL;
	size_t cap = 0;
	int rc, ret;

	if ((ret = read_begin(r)) < 0)
		return ret;
	if ((ret = fc_current(r)) < 0) {
		read_end(r);
		return ret;
	}
	sqlite3_bind_int64(r->fc, 1, series_id);
	sqlite3_bind_double(r->fc, 2, t0);
	sqlite3_bind_double(r->fc, 3, t1);
	while ((rc = sqlite3_step(r->fc)) == SQLITE_ROW) {
		size_t H, Q, need, mb;
		f.t = sqlite3_column_double(r->fc, 0);
		f.H = sqlite3_column_int(r->fc, 1);
		f.Q = sqlite3_column_int(r->fc, 2);
		H = f.H > 0 ? (size_t)f.H : 0;
		Q = f.Q > 0 ? (size_t)f.Q : 0;
		/* An empty mean (schema 6) is the middle quantile's row. */
		mb = (size_t)sqlite3_column_bytes(r->fc, 5);
		if ((size_t)sqlite3_column_bytes(r->fc, 3) != Q * 4 ||
		    (size_t)sqlite3_column_bytes(r->fc, 4) != Q * H * 4 ||
		    (mb != H * 4 && (mb != 0 || Q % 2 == 0))) {
			ret = STORE_ECORRUPT;
			break;
		}
		/* Blobs are not guaranteed float-aligned: copy. */
		need = Q + Q * H + H;
		if (need > cap) {
			float *p = realloc(tmp, need * sizeof(float));
			if (!p) {
				ret = STORE_ENOMEM;
				break;
			}
			tmp = p;
			cap = need;
		}
		if (Q) {
			memcpy(tmp, sqlite3_column_blob(r->fc, 3), Q * 4);
			memcpy(tmp + Q, sqlite3_column_blob(r->fc, 4),
			       Q * H * 4);
		}
		if (H && mb)
			memcpy(tmp + Q + Q * H, sqlite3_column_blob(r->fc, 5),
			       H * 4);
		else if (H)
			memcpy(tmp + Q + Q * H, tmp + Q + (Q / 2) * H, H * 4);
		f.levels = tmp;
		f.q = tmp + Q;
		f.mean = tmp + Q + Q * H;
		if (cb(ud, &f)) {
			ret = STORE_EABORT;
			break;
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store__map_rc(rc);
	sqlite3_reset(r->fc);
	read_end(r);
	free(tmp);
	return ret;
}

/* Samples stored: in chunks, plus those of the log no chunk holds (the
 * log read in windows of series ids, as recovery reads it). */
static int count_samples(store_reader *r, int64_t *n)
{
	sqlite3_stmt *st, *vq = NULL;
	store__lscan l;
	size_t i, j, k;
	int64_t last, total;
	long m;
	int rc;

	memset(&l, 0, sizeof l);
	if ((rc = read_begin(r)) < 0)
		return rc;
	rc = sqlite3_prepare_v2(r->db,
				"SELECT coalesce(sum(n),0) FROM sample_chunks",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		read_end(r);
		return store__map_rc(rc);
	}
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	rc = rc == SQLITE_ROW
		 ? sqlite3_prepare_v2(r->db, STORE_SQL_VOIDS_IN, -1, &vq, NULL)
		 : rc;
	rc = rc == SQLITE_OK ? store__lscan_init(&l, r->db, vq)
			     : store__map_rc(rc);
	while (rc == 0 &&
	       (rc = store__lscan_range(&l, store__log_window, 1, &total)) ==
		   0 &&
	       total > 0) {
		if ((rc = store__lscan_read(&l, total)) < 0)
			break;
		if ((m = store__log_sort(l.a, l.na)) < 0) {
			rc = (int)m;
			break;
		}
		for (i = 0; rc == 0 && i < (size_t)m; i = j) {
			for (j = i + 1;
			     j < (size_t)m && l.a[j].sid == l.a[i].sid; j++)
				;
			k = j - i;
			rc = store__log_dedupe(r->end, l.a[i].sid, l.a + i, &k,
					       &last);
			*n += (int64_t)k;
		}
		store__lscan_next(&l);
	}
	store__lscan_release(&l);
	sqlite3_finalize(vq);
	read_end(r);
	return rc;
}

int store_count(store_reader *r, const char *table, int64_t *n)
{
	static const char *const ok[] = {"series", "samples", "forecasts",
					 "snapshots"};
	char sql[96];
	const char *q = sql;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(table, ok[i]) == 0)
			break;
	if (i == sizeof(ok) / sizeof(ok[0]))
		return STORE_EINVAL;
	if (i == 1)
		return count_samples(r, n);
	if ((rc = read_begin(r)) < 0)
		return rc;
	if (i == 2 && (rc = fc_current(r)) < 0) {
		read_end(r);
		return rc;
	}
	/* Forecasts are counted in the layout this connection reads. */
	if (i == 2)
		q = store__fc_count_sql(r->fc_layout);
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", ok[i]);
	rc = sqlite3_prepare_v2(r->db, q, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	read_end(r);
	return rc == SQLITE_ROW ? 0 : store__map_rc(rc);
}

int store_integrity_check(store_reader *r)
{
	sqlite3_stmt *st;
	int rc, ok = 0;

	rc = sqlite3_prepare_v2(r->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		ok = t && strcmp(t, "ok") == 0;
	}
	sqlite3_finalize(st);
	return ok ? 0 : STORE_ECORRUPT;
}
