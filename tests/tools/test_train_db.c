/*
 * tests/tools/test_train_db.c: `train --from-db` reads the store's tables
 * and puts irregular samples on the nominal grid, gaps as NaN.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tools/train_db.h"

static void make_db(const char *path)
{
	sqlite3 *db;
	char sql[256];
	int i, seq = 0;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(
	    sqlite3_exec(db,
			 "CREATE TABLE series(id INTEGER PRIMARY KEY, name "
			 "TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '', "
			 "step_s REAL NOT NULL, period INTEGER NOT NULL, "
			 "created REAL NOT NULL, UNIQUE(name, tags));"
			 "CREATE TABLE samples(series_id INTEGER NOT NULL, "
			 "seq INTEGER NOT NULL, t REAL NOT NULL, value REAL, "
			 "PRIMARY KEY(series_id, seq)) WITHOUT ROWID;"
			 "INSERT INTO series VALUES(1, 'cpu', '', 60, 24, 0);"
			 "INSERT INTO series VALUES(2, 'short', '', 60, 1, 0);",
			 NULL, NULL, NULL) == SQLITE_OK);
	/* 40 samples a minute apart with jitter; 10..12 missing; one NULL. */
	for (i = 0; i < 40; i++) {
		if (i >= 10 && i <= 12)
			continue;
		if (i == 20)
			snprintf(sql, sizeof sql,
				 "INSERT INTO samples VALUES(1, %d, %f, NULL)",
				 seq++, 1e9 + 60.0 * i + 2.0);
		else
			snprintf(sql, sizeof sql,
				 "INSERT INTO samples VALUES(1, %d, %f, %d)",
				 seq++, 1e9 + 60.0 * i + (i % 2 ? 3.0 : -3.0),
				 i);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	CHECK(sqlite3_exec(db, "INSERT INTO samples VALUES(2, 0, 1e9, 1)", NULL,
			   NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static void test_grid_and_gaps(void)
{
	char path[] = "/tmp/statecast-db-XXXXXX", err[256];
	train_db d;
	int fd = mkstemp(path), i, ok = 1;

	close(fd);
	unlink(path);
	make_db(path);
	CHECK_EQ_INT(train_db_load(path, 1000, &d, err, sizeof err), 0);
	CHECK_EQ_INT(d.count, 1); /* the 1-sample series is skipped */
	if (d.count == 1) {
		const ssm_series *s = &d.series[0];
		CHECK_EQ_INT(s->n, 40);
		CHECK_EQ_INT(s->period, 24);
		CHECK_NEAR(s->step_s, 60.0, 0.0);
		for (i = 0; i < 40; i++) {
			int missing = (i >= 10 && i <= 12) || i == 20;
			if (missing ? !isnan(s->y[i]) : s->y[i] != i)
				ok = 0;
		}
		CHECK(ok);
	}
	train_db_free(&d);
	/* The most recent points only, when capped. */
	CHECK_EQ_INT(train_db_load(path, 25, &d, err, sizeof err), 0);
	CHECK(d.count == 1 && d.series[0].n == 25 && d.series[0].y[24] == 39);
	train_db_free(&d);
	unlink(path);
}

static void test_not_a_store(void)
{
	train_db d;
	char err[256];

	CHECK(train_db_load("/nonexistent/dir/x.db", 100, &d, err,
			    sizeof err) != 0);
	CHECK_EQ_INT(d.count, 0);
}

int main(void)
{
	TH_RUN(test_grid_and_gaps);
	TH_RUN(test_not_a_store);
	return th_summary();
}
