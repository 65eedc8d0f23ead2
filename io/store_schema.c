/*
 * io/store_schema.c: connections and numbered schema migrations.
 *
 * The schema version is PRAGMA user_version. Migration k (1-based) takes a
 * database from version k-1 to k inside one transaction that also sets
 * user_version, so a crash mid-migration leaves the previous version intact.
 * A database newer than this program is refused (STORE_ESCHEMA) rather than
 * written with assumptions it does not meet.
 *
 * Samples (schema 4; bench/results/slog.md): ingest interleaves the
 * series, so any table keyed by series pays a B-tree insert on a leaf of
 * its own per sample row (schema 3's WITHOUT ROWID (series_id, seq) paid it
 * once, a rowid table + index twice: bench/results/store.md). The sample
 * log is appended at its rowid's end instead, one row per transaction, and
 * compaction writes one chunk per series per few dozen samples, in key
 * order; chunks keyed (series_id, seq0) keep recovery ("seq > seen of one
 * series") and retention ("lowest seqs of one series") key range scans.
 *
 * Forecasts (schema 7; bench/results/fclog11.md): the rows append to a
 * rowid table, but version 5-6's unique index on (series_id, t) put each
 * row's entry in a leaf of its own series: at steady state (a series
 * holds up to 2016 forecasts at the defaults) every stored forecast
 * dirtied a 16 KiB leaf of its own, most of the store's cost. Keyed
 * (series_id>>6, t, series_id), a commit's entries of one group of 64
 * ids share the group's last leaf; a series' read scans its group's
 * entries of the time range (64 series', in the index only).
 */
#include <stdio.h>
#include <string.h>

#include "io/store_int.h"

/* The forecasts table's columns since version 5 (rowid table). */
#define FORECAST_COLUMNS                                                     \
	" series_id INTEGER NOT NULL, t REAL NOT NULL, horizon INTEGER NOT " \
	"NULL, nq INTEGER NOT NULL, levels BLOB NOT NULL, q BLOB NOT NULL, " \
	"mean BLOB NOT NULL);"

static const char *const migrations[] = {
    /* 1: series, samples, snapshots */
    "CREATE TABLE series("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " tags TEXT NOT NULL DEFAULT '',"
    " step_s REAL NOT NULL,"
    " period INTEGER NOT NULL,"
    " created REAL NOT NULL,"
    " UNIQUE(name, tags));"
    "CREATE TABLE samples("
    " series_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " t REAL NOT NULL,"
    " value REAL,"
    " PRIMARY KEY(series_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE snapshots("
    " series_id INTEGER PRIMARY KEY,"
    " model_id TEXT NOT NULL,"
    " model_hash INTEGER NOT NULL,"
    " t REAL NOT NULL,"
    " seen INTEGER NOT NULL,"
    " state BLOB NOT NULL,"
    " checksum INTEGER NOT NULL);",
    /* 2: forecasts (origin t; float32 blobs, quantile-major) */
    "CREATE TABLE forecasts("
    " series_id INTEGER NOT NULL,"
    " t REAL NOT NULL,"
    " horizon INTEGER NOT NULL,"
    " nq INTEGER NOT NULL,"
    " levels BLOB NOT NULL,"
    " q BLOB NOT NULL,"
    " mean BLOB NOT NULL,"
    " PRIMARY KEY(series_id, t)) WITHOUT ROWID;",
    /* 3: meta (key -> value): the generation of a valid state dump
     * (docs/STATE_DUMP.md) under key 'state_dump' */
    "CREATE TABLE meta("
    " key TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL);",
    /* 4: samples as an append-only log (an ingest transaction's samples
     * sorted by series id, in rows of at most 512 with their id range)
     * compacted into per-series chunks (store.h, store_log.c); the marks
     * of dropped series' log samples. The samples table of version 3 is
     * converted into chunks by store_open, in bounded transactions
     * (store__convert_legacy), and dropped once empty. */
    "CREATE TABLE sample_log("
    " id INTEGER PRIMARY KEY,"
    " n INTEGER NOT NULL,"
    " tmin REAL NOT NULL,"
    " smin INTEGER NOT NULL,"
    " smax INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE INDEX sample_log_sid ON sample_log(smax, smin);"
    "CREATE TABLE sample_chunks("
    " series_id INTEGER NOT NULL,"
    " seq0 INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " t0 REAL NOT NULL,"
    " t1 REAL NOT NULL,"
    " data BLOB NOT NULL,"
    " PRIMARY KEY(series_id, seq0)) WITHOUT ROWID;"
    "CREATE TABLE sample_log_void("
    " series_id INTEGER PRIMARY KEY,"
    " upto INTEGER NOT NULL);",
    /* 5: forecasts in a rowid table, appended in commit order, with a
     * unique index on (series_id, t), in place of version 2's WITHOUT
     * ROWID table keyed so (why: the head of this file). The same name,
     * columns and INSERT OR REPLACE semantics, so every statement reads
     * as before; version 4's rows are copied over in key order. */
    "CREATE TABLE forecasts_v5(" FORECAST_COLUMNS
    "INSERT INTO forecasts_v5(series_id,t,horizon,nq,levels,q,mean) "
    "SELECT series_id,t,horizon,nq,levels,q,mean FROM forecasts "
    "ORDER BY series_id,t;"
    "DROP TABLE forecasts;"
    "ALTER TABLE forecasts_v5 RENAME TO forecasts;"
    "CREATE UNIQUE INDEX forecasts_key ON forecasts(series_id,t);",
    /* 6: a forecast's mean may be an empty blob: its middle quantile's row
     * (nq odd), which the shipped models' mean equals bit for bit, is not
     * stored twice (io/store_batch.c; 0.75x the row). No table changes;
     * the version is what keeps a program of version 5, which would take
     * such a row for a corrupt one, from opening the database. Rows of
     * version 5 (every mean stored) read as before. */
    "SELECT 1;",
    /* 7: forecasts keyed for appending (why: the head of this file). The
     * unique index is (series_id>>6, t, series_id): one entry per (series,
     * t) as before, so INSERT OR REPLACE replaces as before, but the
     * entries of a group of 64 consecutive ids sort by t, so the rows one
     * commit stores for the series of a group land together at the
     * group's end. Statements name the group with the index's own
     * expression (STORE_FC_KEY). Version 6's table is renamed with its
     * index and moved over by the writer after open in bounded
     * transactions (io/store_fc.c), then dropped; until then every
     * statement on forecasts sees both. */
    "ALTER TABLE forecasts RENAME TO forecasts_v6;"
    "CREATE TABLE forecasts(" FORECAST_COLUMNS
    "CREATE UNIQUE INDEX forecasts_grp ON forecasts(series_id>>6,t,"
    "series_id);",
    /* 8: a log row's newest sample time (tmax), beside its oldest, and
     * the id-range index carrying tmax and n: a read of one series
     * picks its rows from the index alone (it took a table seek per row
     * spanning the id, most of a history read's CPU at 100k series with
     * the log near its cap, bench/results/read18.md), and a read of its
     * recent end (`history` from t, the status page's sparklines) skips
     * the rows whose samples are all older than t. Rows written before
     * it keep NULL, "unknown", and are read as before; compaction
     * empties them within a round. The index is rebuilt at the
     * migration: the log's rows, at most some 16k. */
    "ALTER TABLE sample_log ADD COLUMN tmax REAL;"
    "DROP INDEX sample_log_sid;"
    "CREATE INDEX sample_log_sid ON sample_log(smax, smin, tmax, n);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store__schema_version(void)
{
	return NMIGRATIONS;
}

int store__exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store__map_rc(rc);
}

int store__schema_has(sqlite3 *db, const char *type, const char *name, int *yes)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT 1 FROM sqlite_master WHERE "
				    "type=?1 AND name=?2",
				    -1, &q, NULL);

	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store__map_rc(rc);
}

int store__migrate(sqlite3 *db, int target)
{
	int v = 0, rc, k;
	char sql[64];

	if (target < 0 || target > NMIGRATIONS)
		return STORE_EINVAL;
	if ((rc = user_version(db, &v)) < 0)
		return rc;
	if (v > NMIGRATIONS)
		return STORE_ESCHEMA;
	for (k = v; k < target; k++) {
		if ((rc = store__exec(db, "BEGIN IMMEDIATE")) < 0)
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", k + 1);
		if ((rc = store__exec(db, migrations[k])) < 0 ||
		    (rc = store__exec(db, sql)) < 0 ||
		    (rc = store__exec(db, "COMMIT")) < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

const char *store__sync_name(int sync)
{
	return sync == STORE_SYNC_FULL	? "FULL"
	       : sync == STORE_SYNC_OFF ? "OFF"
					: "NORMAL";
}

int store__open_db(const char *path, int mode, const store_opts *o,
		   sqlite3 **out)
{
	sqlite3 *db = NULL;
	char sql[256];
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	store_opts def;

	if (!o) {
		store_opts_default(&def);
		o = &def;
	}
	*out = NULL;
	if (mode == STORE_DB_WRITE)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return rc == SQLITE_CANTOPEN ? STORE_EOPEN : store__map_rc(rc);
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, o->busy_timeout_ms);
	if (mode == STORE_DB_WRITE) {
		/* secure_delete is compiled ON in Debian's SQLite: zeroing
		 * every freed page doubles the cost of retention. Ingest
		 * interleaves series, so inserts land all over the samples
		 * B-tree: a 64 MiB page cache keeps its interior in memory.
		 * page_size before journal_mode: it sizes the pages of a new
		 * (empty) file and changes nothing in one that has pages
		 * (store.h, store_opts.page_size). */
		snprintf(sql, sizeof(sql),
			 "PRAGMA page_size=%d;"
			 "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=%s;"
			 "PRAGMA journal_size_limit=%lld;"
			 "PRAGMA secure_delete=OFF;"
			 "PRAGMA cache_size=-65536;",
			 o->page_size, store__sync_name(o->synchronous),
			 (long long)o->journal_size_limit);
	} else if (mode == STORE_DB_CKPT) {
		snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s;",
			 store__sync_name(o->synchronous));
	} else {
		snprintf(sql, sizeof(sql), "PRAGMA query_only=1;");
	}
	if ((rc = store__exec(db, sql)) < 0) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}
