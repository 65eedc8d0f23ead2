/*
 * io/store_recover.c: walking the database at start-up to rebuild every
 * series' state (see store_recover() in store.h).
 *
 * Workload: once per start, every series (up to millions): one sequential
 * scan of series LEFT JOIN snapshots in id order, plus one key-range seek
 * into samples per series for the rows after its snapshot. All of it runs in
 * one read transaction, so the view is consistent and the pages of a series'
 * samples are read once.
 */
#include <math.h>
#include <stdlib.h>

#include "io/store_int.h"

#define REC_CHUNK 512

typedef struct rec {
	sqlite3 *db;
	sqlite3_stmt *walk, *after, *last_t, *since;
	const store_recover_cb *cb;
	store_recover_stats *st;
	store_sample buf[REC_CHUNK];
} rec;

/* Stream the rows of a prepared (seq, t, value) query to cb->samples. */
static int stream(rec *r, sqlite3_stmt *q, int64_t sid)
{
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r->buf[n].seq = sqlite3_column_int64(q, 0);
		r->buf[n].t = sqlite3_column_double(q, 1);
		r->buf[n].value = store__column_value(q, 2);
		if (++n == REC_CHUNK) {
			r->st->samples_replayed += n;
			if (r->cb->samples(r->cb->ud, sid, r->buf, n)) {
				sqlite3_reset(q);
				return STORE_EABORT;
			}
			n = 0;
		}
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	r->st->samples_replayed += n;
	if (n && r->cb->samples(r->cb->ud, sid, r->buf, n))
		return STORE_EABORT;
	return 0;
}

static int rebuild(rec *r, int64_t sid, double window)
{
	double last;
	int rc;

	sqlite3_bind_int64(r->last_t, 1, sid);
	rc = sqlite3_step(r->last_t);
	last = rc == SQLITE_ROW ? sqlite3_column_double(r->last_t, 0) : 0;
	sqlite3_reset(r->last_t);
	if (rc == SQLITE_DONE)
		return 0; /* no samples at all */
	if (rc != SQLITE_ROW)
		return store__map_rc(rc);
	sqlite3_bind_int64(r->since, 1, sid);
	sqlite3_bind_double(r->since, 2, last - window);
	return stream(r, r->since, sid);
}

static int prepare(rec *r)
{
	if (sqlite3_prepare_v2(
		r->db,
		"SELECT s.id,s.name,s.tags,s.step_s,s.period,s.created,"
		"n.state FROM series s LEFT JOIN snapshots n "
		"ON n.series_id=s.id ORDER BY s.id",
		-1, &r->walk, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT seq,t,value FROM samples WHERE "
			       "series_id=?1 AND seq>?2 ORDER BY seq",
			       -1, &r->after, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT t FROM samples WHERE series_id=?1 "
			       "ORDER BY seq DESC LIMIT 1",
			       -1, &r->last_t, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT seq,t,value FROM samples WHERE "
			       "series_id=?1 AND t>=?2 ORDER BY seq",
			       -1, &r->since, NULL) != SQLITE_OK) {
		/* A generic error here is a missing table: no schema yet. */
		int rc = store__map_rc(sqlite3_errcode(r->db));
		return rc == STORE_ESQL ? STORE_ESCHEMA : rc;
	}
	return 0;
}

static int64_t count_series(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM series", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int walk(rec *r, uint64_t model_hash, double window)
{
	const store_recover_cb *cb = r->cb;
	store_recover_stats *st = r->st;
	uint64_t total = (uint64_t)count_series(r->db), step, next;
	store_series_info si;
	io_snap snap;
	int rc, mode, serr;

	step = total / 100 ? total / 100 : 1;
	next = step;
	while ((rc = sqlite3_step(r->walk)) == SQLITE_ROW) {
		si.id = sqlite3_column_int64(r->walk, 0);
		si.name = (const char *)sqlite3_column_text(r->walk, 1);
		si.tags = (const char *)sqlite3_column_text(r->walk, 2);
		si.step_s = sqlite3_column_double(r->walk, 3);
		si.period = sqlite3_column_int(r->walk, 4);
		si.created = sqlite3_column_double(r->walk, 5);
		serr = 0;
		if (sqlite3_column_type(r->walk, 6) == SQLITE_NULL) {
			mode = STORE_RESTORE_FULL;
		} else {
			serr = io_snap_decode(
			    sqlite3_column_blob(r->walk, 6),
			    (size_t)sqlite3_column_bytes(r->walk, 6), &snap);
			if (serr)
				st->corrupt++;
			mode = !serr && snap.model_hash == model_hash
				   ? STORE_RESTORE_SNAPSHOT
				   : STORE_RESTORE_REBUILD;
		}
		st->series++;
		st->max_series_id = si.id;
		if (cb->series(cb->ud, &si, mode,
			       mode == STORE_RESTORE_SNAPSHOT ? &snap : NULL,
			       serr))
			return STORE_EABORT;
		if (mode == STORE_RESTORE_REBUILD) {
			st->rebuilt++;
			rc = rebuild(r, si.id, window);
		} else {
			if (mode == STORE_RESTORE_SNAPSHOT)
				st->from_snapshot++;
			else
				st->full_replay++;
			sqlite3_bind_int64(r->after, 1, si.id);
			sqlite3_bind_int64(r->after, 2,
					   mode == STORE_RESTORE_SNAPSHOT
					       ? (int64_t)snap.seen
					       : 0);
			rc = stream(r, r->after, si.id);
		}
		if (rc < 0)
			return rc;
		if (cb->progress && st->series >= next) {
			cb->progress(cb->ud, st->series, total);
			next += step;
		}
	}
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	if (cb->progress && st->series + step != next)
		cb->progress(cb->ud, st->series, total); /* not yet told */
	return 0;
}

int store_recover(const char *path, uint64_t model_hash,
		  double rebuild_window_s, const store_recover_cb *cb,
		  store_recover_stats *st)
{
	store_recover_stats dummy;
	rec *r;
	int rc;

	if (!path || !cb || !cb->series || !cb->samples ||
	    !(rebuild_window_s >= 0))
		return STORE_EINVAL;
	if (!st)
		st = &dummy;
	*st = (store_recover_stats){0};
	r = calloc(1, sizeof(*r));
	if (!r)
		return STORE_ENOMEM;
	r->cb = cb;
	r->st = st;
	if ((rc = store__open_db(path, 0, NULL, &r->db)) == 0 &&
	    (rc = prepare(r)) == 0 && (rc = store__exec(r->db, "BEGIN")) == 0) {
		rc = walk(r, model_hash, rebuild_window_s);
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(r->walk);
	sqlite3_finalize(r->after);
	sqlite3_finalize(r->last_t);
	sqlite3_finalize(r->since);
	sqlite3_close(r->db);
	free(r);
	return rc;
}
