/*
 * io/store_dump.c: the database side of the state dump (docs/STATE_DUMP.md):
 * the meta row that says which dump, if any, holds the states of exactly
 * what the database holds.
 *
 * The row is written by the last transaction of a clean stop, after every
 * other one committed and after the dump was fsynced (store_mark_dump), and
 * deleted by store_open before the writer starts, so before any new row can
 * be committed, let alone acknowledged. A dump is therefore usable only on
 * the first start after the stop that wrote it; a crash at any later point
 * restarts from the snapshots and samples, never from a stale dump.
 */
#include <stdio.h>

#include "io/store_int.h"

#define DUMP_KEY "'state_dump'"

/* Both transactions are made durable against power loss too
 * (synchronous=FULL for their COMMIT): the row's deletion must not be the
 * one write that a power cut takes back while later ones stay. */
static int set_sync(sqlite3 *db, int level)
{
	char sql[48];

	snprintf(sql, sizeof sql, "PRAGMA synchronous=%s",
		 store__sync_name(level));
	return store__exec(db, sql);
}

int store__take_dump_row(sqlite3 *db, int synchronous, uint64_t *gen)
{
	sqlite3_stmt *st;
	int rc;

	*gen = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=" DUMP_KEY,
			       -1, &st, NULL) != SQLITE_OK)
		return store__map_rc(sqlite3_errcode(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0; /* nothing to clear: no write at all */
	if (rc != SQLITE_ROW)
		return store__map_rc(rc);
	if ((rc = set_sync(db, STORE_SYNC_FULL)) < 0)
		return rc;
	rc = store__exec(db, "DELETE FROM meta WHERE key=" DUMP_KEY);
	set_sync(db, synchronous);
	if (rc < 0)
		*gen = 0; /* not cleared: the dump must not be used */
	return rc;
}

uint64_t store_dump_generation(const store *s)
{
	return s->dump_gen;
}

int store__read_ckpt_row(sqlite3 *db, uint64_t *gen)
{
	sqlite3_stmt *st;
	int rc;

	*gen = 0;
	if (sqlite3_prepare_v2(
		db, "SELECT value FROM meta WHERE key=" STORE_CKPT_KEY, -1, &st,
		NULL) != SQLITE_OK)
		return store__map_rc(sqlite3_errcode(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

uint64_t store_checkpoint_generation(const store *s)
{
	return s->ckpt_gen;
}

int store_mark_dump(const char *path, uint64_t gen)
{
	sqlite3 *db;
	char sql[96];
	int rc;

	if (!path || !gen)
		return STORE_EINVAL;
	if ((rc = store__open_db(path, 1, NULL, &db)) < 0)
		return rc;
	snprintf(sql, sizeof sql,
		 "INSERT OR REPLACE INTO meta(key,value) VALUES(" DUMP_KEY
		 ",%lld)",
		 (long long)gen);
	if ((rc = set_sync(db, STORE_SYNC_FULL)) == 0)
		rc = store__exec(db, sql);
	sqlite3_close(db);
	return rc;
}
