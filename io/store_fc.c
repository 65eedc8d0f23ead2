/*
 * io/store_fc.c: schema 7's forecasts: the statements readers use on them,
 * and the move of version 6's rows into schema 7's table after open.
 *
 * Migration 7 renames version 6's table (rows and index) to forecasts_v6
 * and creates the new one. store_open returns at once; the writer moves
 * the rows over in its idle time (store__fc_move_idle, called from its
 * maintenance as compaction is), in transactions of store__fc_move_rows
 * rows (the oldest first: rowid order is commit order), each deleting what
 * it copied, and drops the table once empty. ~100k rows a second of a
 * free core, so a week of 100k series' forecasts (200M rows) takes about
 * half an hour, during which the daemon serves; the writer runs on spare
 * CPU (store.writer_priority idle), so on busy cores it takes longer
 * (bench/results/bgmove15.md: 7-9k rows a second at load 10-17 on two
 * shared cores, against 32k for the move inside store_open it replaces).
 *
 * Until the table is gone every statement on forecasts sees both: a
 * stored forecast goes to the new table (INSERT OR REPLACE there), so a
 * (series, t) may be in both, and then the new table's row wins: readers
 * leave the old row out (store__fc_range_sql), the move skips it (INSERT
 * OR IGNORE) and deletes it. Dropping a series and retention delete in
 * both (store_writer.c, store_retention.c: old_drop, old_ret_*);
 * recovery's latest origin is the later of both. A crash anywhere leaves
 * every row where a step's commit put it, and the next open goes on.
 */
#include "io/store_int.h"

/* ~0.6 MB of rows a transaction at the default model's row (~0.6 KiB),
 * ~10 ms of the writer (bench/results/bgmove15.md): the longest an ingest
 * commit waits behind a step. */
size_t store__fc_move_rows = 1000;

/* While ingest is queued, a step is followed by MOVE_YIELD times its own
 * duration of ingest before the next: the move takes at most a quarter
 * of a busy writer's time and at least that, so ingest cannot starve it.
 * With nothing queued, steps follow each other. */
#define MOVE_YIELD 3
/* A failed step (disk full) is retried after this. */
#define MOVE_RETRY_NS (5 * 1000000000ull)

#define FC_COLS "t,horizon,nq,levels,q,mean"
/* Seconds between progress lines. */
#define MOVE_LOG_NS (10 * 1000000000ull)

int store__fc_layout(sqlite3 *db, int *layout)
{
	int rc, moving = 0, grp = 0;

	if ((rc = store__schema_has(db, "table", "forecasts_v6", &moving)) <
		0 ||
	    (rc = store__schema_has(db, "index", "forecasts_grp", &grp)) < 0)
		return rc;
	*layout = moving ? STORE_FC_MOVING : grp ? STORE_FC_V7 : STORE_FC_OLD;
	return 0;
}

const char *store__fc_range_sql(int layout)
{
	switch (layout) {
	case STORE_FC_MOVING:
		return "SELECT " FC_COLS " FROM forecasts WHERE " STORE_FC_KEY
		       " AND t>=?2 AND t<?3 UNION ALL SELECT " FC_COLS
		       " FROM forecasts_v6 o WHERE series_id=?1 AND t>=?2 "
		       "AND t<?3 AND NOT EXISTS(SELECT 1 FROM forecasts "
		       "WHERE " STORE_FC_KEY " AND t=o.t) ORDER BY 1";
	case STORE_FC_OLD: /* keyed (series_id, t): the + would scan */
		return "SELECT " FC_COLS " FROM forecasts WHERE series_id=?1 "
		       "AND t>=?2 AND t<?3 ORDER BY t";
	default:
		return "SELECT " FC_COLS " FROM forecasts WHERE " STORE_FC_KEY
		       " AND t>=?2 AND t<?3 ORDER BY t";
	}
}

/* One row: the scan from the group's end stops at the series' first
 * entry. */
const char *store__fc_last_sql(int layout)
{
	switch (layout) {
	case STORE_FC_MOVING:
		return "SELECT max(t) FROM (SELECT * FROM (SELECT t FROM "
		       "forecasts WHERE " STORE_FC_KEY " ORDER BY t DESC "
		       "LIMIT 1) UNION ALL SELECT * FROM (SELECT t FROM "
		       "forecasts_v6 WHERE series_id=?1 ORDER BY t DESC "
		       "LIMIT 1))";
	case STORE_FC_OLD:
		return "SELECT max(t) FROM (SELECT t FROM forecasts WHERE "
		       "series_id=?1 ORDER BY t DESC LIMIT 1)";
	default:
		return "SELECT max(t) FROM (SELECT t FROM forecasts "
		       "WHERE " STORE_FC_KEY " ORDER BY t DESC LIMIT 1)";
	}
}

/* Every forecast, a (series, t) in both tables once. */
const char *store__fc_count_sql(int layout)
{
	if (layout == STORE_FC_MOVING)
		return "SELECT (SELECT count(*) FROM forecasts)+(SELECT "
		       "count(*) FROM forecasts_v6 o WHERE NOT EXISTS(SELECT "
		       "1 FROM forecasts WHERE series_id>>6=o.series_id>>6 "
		       "AND t=o.t AND +series_id=o.series_id))";
	return "SELECT count(*) FROM forecasts";
}

static void finalize_old(store_stmts *t)
{
	sqlite3_stmt **p[] = {&t->mv_upto,  &t->mv_ins,	      &t->mv_del,
			      &t->old_drop, &t->old_ret_scan, &t->old_ret_del};
	size_t i;

	for (i = 0; i < sizeof p / sizeof p[0]; i++) {
		sqlite3_finalize(*p[i]);
		*p[i] = NULL;
	}
}

/* The old table's rowid range: min NULL when it is empty. */
static int old_range(store *s, int *empty)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    s->db, "SELECT min(rowid), max(rowid) FROM forecasts_v6", -1, &st,
	    NULL);

	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	rc = sqlite3_step(st);
	*empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
	s->mv.lo = sqlite3_column_int64(st, 0);
	s->mv.hi = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store__map_rc(rc);
}

int store__fc_move_open(store *s)
{
	store_stmts *t = &s->st;
	int rc, yes = 0, empty = 0;

	if ((rc = store__schema_has(s->db, "table", "forecasts_v6", &yes)) <
		0 ||
	    !yes || (rc = old_range(s, &empty)) < 0)
		return rc;
	/* A new database's (migration 7 on an empty version 6): nothing
	 * to move, and readers find one table from the start. */
	if (empty)
		return store__exec(s->db, "DROP TABLE forecasts_v6");
	if (sqlite3_prepare_v2(s->db,
			       "SELECT max(rowid) FROM (SELECT rowid FROM "
			       "forecasts_v6 ORDER BY rowid LIMIT ?1)",
			       -1, &t->mv_upto, NULL) != SQLITE_OK ||
	    /* In the new index's order: its leaves fill in order. */
	    sqlite3_prepare_v2(
		s->db,
		"INSERT OR IGNORE INTO forecasts(series_id," FC_COLS
		") SELECT series_id," FC_COLS " FROM forecasts_v6 "
		"WHERE rowid<=?1 ORDER BY series_id>>6,t,series_id",
		-1, &t->mv_ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "DELETE FROM forecasts_v6 WHERE rowid<=?1", -1,
			       &t->mv_del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "DELETE FROM forecasts_v6 WHERE series_id=?1",
			       -1, &t->old_drop, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		s->db,
		"SELECT t FROM forecasts_v6 WHERE series_id=?1 AND "
		"t<?2 ORDER BY t LIMIT ?3",
		-1, &t->old_ret_scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		s->db, "DELETE FROM forecasts_v6 WHERE series_id=?1 AND t<=?2",
		-1, &t->old_ret_del, NULL) != SQLITE_OK) {
		rc = store__map_rc(sqlite3_errcode(s->db));
		finalize_old(t);
		return rc;
	}
	s->mv.active = 1;
	s->mv.upto = s->mv.lo - 1;
	s->mv.next_ns = 0;
	s->mv.log_ns = store__now_ns();
	s->stats.fc_moving = 1;
	s->stats.fc_move_left = (uint64_t)(s->mv.hi - s->mv.upto);
	store__log(s,
		   "forecasts of schema 6 (at most %lld rows) move to schema 7 "
		   "in the background, about 100k rows a second while idle; "
		   "serving meanwhile",
		   (long long)(s->mv.hi - s->mv.upto));
	return 0;
}

/* One transaction: the oldest store__fc_move_rows rows of forecasts_v6
 * copied (those the new table does not hold) and deleted; the table
 * dropped once empty. */
int store__fc_move_step(store *s)
{
	store_stmts *t = &s->st;
	int64_t last = 0;
	int rc, done, moved = 0;

	if (!s->mv.active)
		return 1;
	if ((rc = store__exec(s->db, "BEGIN IMMEDIATE")) < 0)
		return rc;
	sqlite3_bind_int64(t->mv_upto, 1, (int64_t)store__fc_move_rows);
	rc = sqlite3_step(t->mv_upto);
	done = rc == SQLITE_ROW &&
	       sqlite3_column_type(t->mv_upto, 0) == SQLITE_NULL;
	if (rc == SQLITE_ROW)
		last = sqlite3_column_int64(t->mv_upto, 0);
	sqlite3_reset(t->mv_upto);
	rc = rc == SQLITE_ROW ? 0 : store__map_rc(rc);
	if (rc == 0 && done)
		rc = store__exec(s->db, "DROP TABLE forecasts_v6");
	else if (rc == 0) {
		sqlite3_bind_int64(t->mv_ins, 1, last);
		rc = sqlite3_step(t->mv_ins);
		sqlite3_reset(t->mv_ins);
		if (rc == SQLITE_DONE) {
			sqlite3_bind_int64(t->mv_del, 1, last);
			rc = sqlite3_step(t->mv_del);
			sqlite3_reset(t->mv_del);
			moved = sqlite3_changes(s->db);
		}
		rc = rc == SQLITE_DONE ? 0 : store__map_rc(rc);
	}
	if (rc == 0)
		rc = store__exec(s->db, "COMMIT");
	if (rc < 0) {
		if (!sqlite3_get_autocommit(s->db))
			store__exec(s->db, "ROLLBACK");
		return rc;
	}
	if (done) {
		finalize_old(t);
		s->mv.active = 0;
		return 1;
	}
	s->mv.moved += moved;
	s->mv.upto = last;
	return 0;
}

void store__fc_move_idle(store *s, uint64_t now)
{
	uint64_t t0, end;
	int rc, busy;

	if (!s->mv.active || !store__fc_move_rows || now < s->mv.next_ns)
		return;
	t0 = store__now_ns();
	rc = store__fc_move_step(s);
	end = store__now_ns();
	store__wlock(s);
	busy = s->in_head || s->retry_head;
	s->stats.fc_moving = s->mv.active;
	s->stats.fc_moved = (uint64_t)s->mv.moved;
	s->stats.fc_move_left =
	    s->mv.active ? (uint64_t)(s->mv.hi - s->mv.upto) : 0;
	store__wunlock(s);
	if (rc < 0) {
		if (!s->mv.failing)
			store__log(s,
				   "moving the forecasts of schema 6 failed: "
				   "%s; retried every %llu s (both tables "
				   "are read meanwhile)",
				   store_strerror(rc),
				   MOVE_RETRY_NS / 1000000000ull);
		s->mv.failing = 1;
		s->mv.next_ns = end + MOVE_RETRY_NS;
		return;
	}
	s->mv.failing = 0;
	s->mv.next_ns = busy ? end + MOVE_YIELD * (end - t0) : end;
	if (rc == 1)
		store__log(s,
			   "moved the forecasts of schema 6 to schema 7 "
			   "(%lld rows, the old table dropped)",
			   (long long)s->mv.moved);
	else if (end - s->mv.log_ns >= MOVE_LOG_NS) {
		s->mv.log_ns = end;
		store__log(s,
			   "moving the forecasts of schema 6 to schema 7: "
			   "%lld rows moved, at most %lld left",
			   (long long)s->mv.moved,
			   (long long)(s->mv.hi - s->mv.upto));
	}
}

uint64_t store__fc_move_next(const store *s)
{
	return s->mv.active && store__fc_move_rows ? s->mv.next_ns : UINT64_MAX;
}
