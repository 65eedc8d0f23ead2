/*
 * tools/train_db.c: `statecast train --from-db PATH`: training series from
 * the daemon's SQLite history, so users can fine-tune on their own metrics.
 *
 * Reads the store's tables (io/store_schema.c on the store branch:
 * series(id, step_s, period, ...), samples(series_id, seq, t, value)) over a
 * read-only connection, and puts each series on its nominal grid: sample
 * k lands at round((t - t0) / step_s); grid points nothing landed on are
 * missing (NaN), as the daemon treats them. Only the most recent max_len
 * grid points of a series are kept.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "tools/train_db.h"

void train_db_free(train_db *d)
{
	int i;

	for (i = 0; i < d->count; i++)
		free(d->y[i]);
	free(d->y);
	free(d->series);
	memset(d, 0, sizeof *d);
}

/* One series' samples onto its grid; 0, or -1 (skipped: too short). */
static int load_one(sqlite3 *db, int64_t id, double step_s, int period,
		    int max_len, ssm_series *out, double **yout)
{
	sqlite3_stmt *st = NULL;
	double t0 = NAN, tl = NAN, *y;
	long n, i, k;

	if (sqlite3_prepare_v2(db,
			       "SELECT min(t), max(t) FROM samples "
			       "WHERE series_id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		t0 = sqlite3_column_double(st, 0);
		tl = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	if (!isfinite(t0) || !(step_s > 0.0))
		return -1;
	n = lround((tl - t0) / step_s) + 1;
	if (n > max_len) {
		/* Keep the most recent grid points. */
		t0 += (double)(n - max_len) * step_s;
		n = max_len;
	}
	if (n < 16)
		return -1;
	y = malloc(sizeof(double) * (size_t)n);
	if (!y)
		return -1;
	for (i = 0; i < n; i++)
		y[i] = NAN;
	if (sqlite3_prepare_v2(db,
			       "SELECT t, value FROM samples WHERE series_id "
			       "= ? AND t >= ? ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK) {
		free(y);
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, t0 - 0.5 * step_s);
	while (sqlite3_step(st) == SQLITE_ROW) {
		k = lround((sqlite3_column_double(st, 0) - t0) / step_s);
		if (k >= 0 && k < n &&
		    sqlite3_column_type(st, 1) != SQLITE_NULL)
			y[k] = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	out->y = y;
	out->n = (int)n;
	out->period = period >= 1 ? period : 1;
	out->step_s = step_s;
	out->t0 = t0;
	*yout = y;
	return 0;
}

int train_db_load(const char *path, int max_len, train_db *d, char *err,
		  size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t cap = 0, c;
	int rc = -1;

	memset(d, 0, sizeof *d);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, step_s, period FROM series", -1,
			       &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a statecast store: %s", path,
			 sqlite3_errmsg(db));
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		double *y = NULL;

		/* series and y share one capacity: grow both from it. */
		c = cap;
		if (io_grow(&d->series, &c, (size_t)d->count + 1,
			    sizeof *d->series, 64))
			goto oom;
		c = cap;
		if (io_grow(&d->y, &c, (size_t)d->count + 1, sizeof *d->y, 64))
			goto oom;
		cap = c;
		if (load_one(db, sqlite3_column_int64(st, 0),
			     sqlite3_column_double(st, 1),
			     sqlite3_column_int(st, 2), max_len,
			     &d->series[d->count], &y) == 0)
			d->y[d->count++] = y;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != 0)
		train_db_free(d);
	return rc;
}
