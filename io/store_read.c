/*
 * io/store_read.c: read-only access on a connection of its own (history,
 * list, forecasts, counts, integrity check). WAL lets these run while the
 * writer commits; each reader is used by one thread at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/store_int.h"

#define READ_CHUNK 512

struct store_reader {
	sqlite3 *db;
	sqlite3_stmt *list, *find, *hist, *fc;
};

void store_reader_free(store_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->list);
	sqlite3_finalize(r->find);
	sqlite3_finalize(r->hist);
	sqlite3_finalize(r->fc);
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
		    "SELECT seq,t,value FROM samples WHERE series_id=?1 "
		    "AND t>=?2 AND t<?3 ORDER BY seq",
		    -1, &r->hist, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    r->db,
		    "SELECT t,horizon,nq,levels,q,mean FROM forecasts "
		    "WHERE series_id=?1 AND t>=?2 AND t<?3 ORDER BY t",
		    -1, &r->fc, NULL);
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

int store_history(store_reader *r, int64_t series_id, double t0, double t1,
		  size_t limit,
		  int (*cb)(void *ud, const store_sample *s, size_t n),
		  void *ud)
{
	store_sample buf[READ_CHUNK];
	size_t n = 0, total = 0;
	int rc;

	sqlite3_bind_int64(r->hist, 1, series_id);
	sqlite3_bind_double(r->hist, 2, t0);
	sqlite3_bind_double(r->hist, 3, t1);
	while ((limit == 0 || total < limit) &&
	       (rc = sqlite3_step(r->hist)) == SQLITE_ROW) {
		buf[n].seq = sqlite3_column_int64(r->hist, 0);
		buf[n].t = sqlite3_column_double(r->hist, 1);
		buf[n].value = store__column_value(r->hist, 2);
		n++;
		total++;
		if (n == READ_CHUNK) {
			if (cb(ud, buf, n)) {
				sqlite3_reset(r->hist);
				return STORE_EABORT;
			}
			n = 0;
		}
	}
	if (limit && total >= limit)
		rc = SQLITE_DONE;
	sqlite3_reset(r->hist);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	if (n && cb(ud, buf, n))
		return STORE_EABORT;
	return 0;
}

int store_forecasts(store_reader *r, int64_t series_id, double t0, double t1,
		    int (*cb)(void *ud, const store_forecast_row *f), void *ud)
{
	store_forecast_row f;
	float *tmp = NULL;
	size_t cap = 0;
	int rc, ret = 0;

	sqlite3_bind_int64(r->fc, 1, series_id);
	sqlite3_bind_double(r->fc, 2, t0);
	sqlite3_bind_double(r->fc, 3, t1);
	while ((rc = sqlite3_step(r->fc)) == SQLITE_ROW) {
		size_t H, Q, need;
		f.t = sqlite3_column_double(r->fc, 0);
		f.H = sqlite3_column_int(r->fc, 1);
		f.Q = sqlite3_column_int(r->fc, 2);
		H = f.H > 0 ? (size_t)f.H : 0;
		Q = f.Q > 0 ? (size_t)f.Q : 0;
		if ((size_t)sqlite3_column_bytes(r->fc, 3) != Q * 4 ||
		    (size_t)sqlite3_column_bytes(r->fc, 4) != Q * H * 4 ||
		    (size_t)sqlite3_column_bytes(r->fc, 5) != H * 4) {
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
		if (H)
			memcpy(tmp + Q + Q * H, sqlite3_column_blob(r->fc, 5),
			       H * 4);
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
	free(tmp);
	return ret;
}

int store_count(store_reader *r, const char *table, int64_t *n)
{
	static const char *const ok[] = {"series", "samples", "forecasts",
					 "snapshots"};
	char sql[64];
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(table, ok[i]) == 0)
			break;
	if (i == sizeof(ok) / sizeof(ok[0]))
		return STORE_EINVAL;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", ok[i]);
	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store__map_rc(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
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
