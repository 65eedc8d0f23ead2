/*
 * io/store_fc.c: schema 7's forecasts: the statements readers use on them,
 * and the move of version 6's rows into schema 7's table at open.
 *
 * Migration 7 renames version 6's table (rows and index) to forecasts_v6
 * and creates the new one; store_open then moves the rows over in
 * transactions of store__fc_convert_rows rows (the oldest first: rowid
 * order is commit order), each deleting what it copied, and drops the
 * table once empty. A crash anywhere leaves every row in exactly one of
 * the two tables, and the next store_open goes on where it stopped;
 * until then a reader reads both (a row cannot be in both, and version 6
 * kept (series_id, t) unique, so the union has no duplicate either).
 * store_open returns once the table is gone, as for schema 3's samples
 * (store__convert_legacy): ~100k rows a second, so a week of 100k series'
 * forecasts (200M rows) holds the start for about half an hour. Moving
 * in the writer's idle time after open instead would need the writes
 * meanwhile (replace, drop, retention) to see the old table too.
 */
#include "io/store_int.h"

/* ~12 MB of rows a transaction at the default model's row (~0.6 KiB),
 * ~0.2 s of CPU (bench/results/fclog11.md section 4): readers wait for
 * no more than that, memory and WAL stay bounded. */
size_t store__fc_convert_rows = 20000;

#define FC_COLS "t,horizon,nq,levels,q,mean"
/* Seconds between progress lines: each also extends systemd's start
 * timeout by 30 s (daemon/persist.c), so well under that. */
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
		       " FROM forecasts_v6 WHERE series_id=?1 AND t>=?2 "
		       "AND t<?3 ORDER BY 1";
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

/* One transaction: the oldest store__fc_convert_rows rows of forecasts_v6
 * copied (in the new index's order: its leaves fill in order) and
 * deleted; the table dropped once empty (*done = 1). */
static int convert_step(store *s, sqlite3_stmt *upto, sqlite3_stmt *ins,
			sqlite3_stmt *del, int *done, int64_t *moved)
{
	int64_t last = 0;
	int rc;

	if ((rc = store__exec(s->db, "BEGIN IMMEDIATE")) < 0)
		return rc;
	sqlite3_bind_int64(upto, 1, (int64_t)store__fc_convert_rows);
	rc = sqlite3_step(upto);
	*done = rc == SQLITE_ROW && sqlite3_column_type(upto, 0) == SQLITE_NULL;
	if (rc == SQLITE_ROW)
		last = sqlite3_column_int64(upto, 0);
	sqlite3_reset(upto);
	rc = rc == SQLITE_ROW ? 0 : store__map_rc(rc);
	if (rc == 0 && *done)
		rc = store__exec(s->db, "DROP TABLE forecasts_v6");
	else if (rc == 0) {
		sqlite3_bind_int64(ins, 1, last);
		rc = sqlite3_step(ins);
		*moved += sqlite3_changes(s->db);
		sqlite3_reset(ins);
		if (rc == SQLITE_DONE) {
			sqlite3_bind_int64(del, 1, last);
			rc = sqlite3_step(del);
			sqlite3_reset(del);
		}
		rc = rc == SQLITE_DONE ? 0 : store__map_rc(rc);
	}
	if (rc == 0)
		rc = store__exec(s->db, "COMMIT");
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		store__exec(s->db, "ROLLBACK");
	return rc;
}

int store__convert_forecasts(store *s)
{
	sqlite3_stmt *upto = NULL, *ins = NULL, *del = NULL;
	int64_t moved = 0;
	uint64_t last_log;
	int rc, yes = 0, done = 0;

	if ((rc = store__schema_has(s->db, "table", "forecasts_v6", &yes)) <
		0 ||
	    !yes)
		return rc;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT max(rowid) FROM (SELECT rowid FROM "
				"forecasts_v6 ORDER BY rowid LIMIT ?1)",
				-1, &upto, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    s->db,
		    "INSERT INTO forecasts(series_id," FC_COLS
		    ") SELECT series_id," FC_COLS " FROM forecasts_v6 "
		    "WHERE rowid<=?1 ORDER BY series_id>>6,t,series_id",
		    -1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    s->db, "DELETE FROM forecasts_v6 WHERE rowid<=?1", -1, &del,
		    NULL);
	rc = rc == SQLITE_OK ? 0 : store__map_rc(rc);
	/* A line once the first transaction has moved rows, then every
	 * MOVE_LOG_NS: a week of 100k series' forecasts (200M rows) takes
	 * minutes (bench/results/fclog11.md section 4), and an operator (and
	 * systemd) must see that the start is moving. A new database's
	 * forecasts_v6 (migration 7 on an empty version 6) is empty: no
	 * line. */
	last_log = 0;
	while (rc == 0 && !done) {
		rc = convert_step(s, upto, ins, del, &done, &moved);
		if (rc == 0 && !done && moved > 0 &&
		    (!last_log || store__now_ns() - last_log >= MOVE_LOG_NS)) {
			last_log = store__now_ns();
			store__log(s,
				   "moving the forecasts of schema 6 to schema "
				   "7 before serving: %lld so far (about 100k "
				   "rows a second)",
				   (long long)moved);
		}
	}
	sqlite3_finalize(upto);
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	if (moved)
		store__log(s, "moved %lld forecasts of schema 6 to schema 7%s",
			   (long long)moved, rc ? " (interrupted)" : "");
	return rc;
}
