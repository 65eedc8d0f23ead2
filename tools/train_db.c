/*
 * tools/train_db.c: `statecast train --from-db PATH`: training series from
 * the daemon's SQLite history, so users can fine-tune on their own metrics.
 *
 * Reads the series table over a read-only connection and each series'
 * samples through the store's reader (io/store.h: chunks + log), or, in a
 * schema-3 database that no statecastd of schema 4 has opened yet, from its
 * samples(series_id, seq, t, value) table; and puts each series on its
 * nominal grid: sample k lands at round((t - t0) / step_s); grid points
 * nothing landed on are missing (NaN), as the daemon treats them. Only the
 * most recent max_len grid points of a series are kept.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "io/store.h"
#include "tools/train_db.h"

/* One series' samples in seq order. */
typedef struct tv {
	store_sample *a;
	size_t n, cap;
} tv;

static int tv_add(void *ud, const store_sample *s, size_t n)
{
	tv *v = ud;

	if (io_grow(&v->a, &v->cap, v->n + n, sizeof *v->a, 256))
		return 1;
	memcpy(v->a + v->n, s, n * sizeof *s);
	v->n += n;
	return 0;
}

/* Where the samples are: the store's reader, or a schema-3 table. */
typedef struct src {
	store_reader *rd;
	sqlite3_stmt *legacy;
} src;

static int fetch(src *s, int64_t id, tv *v)
{
	store_sample sm;

	v->n = 0;
	if (s->rd)
		return store_history(s->rd, id, -INFINITY, INFINITY, 0, tv_add,
				     v);
	sqlite3_bind_int64(s->legacy, 1, id);
	while (sqlite3_step(s->legacy) == SQLITE_ROW) {
		sm.seq = 0;
		sm.t = sqlite3_column_double(s->legacy, 0);
		sm.value = sqlite3_column_type(s->legacy, 1) == SQLITE_NULL
			       ? NAN
			       : sqlite3_column_double(s->legacy, 1);
		if (tv_add(v, &sm, 1)) {
			sqlite3_reset(s->legacy);
			return -1;
		}
	}
	sqlite3_reset(s->legacy);
	return 0;
}

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
static int load_one(const tv *v, double step_s, int period, int max_len,
		    ssm_series *out, double **yout)
{
	double t0 = INFINITY, tl = -INFINITY, *y;
	long n, i, k;
	size_t j;

	for (j = 0; j < v->n; j++) {
		t0 = v->a[j].t < t0 ? v->a[j].t : t0;
		tl = v->a[j].t > tl ? v->a[j].t : tl;
	}
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
	for (j = 0; j < v->n; j++) {
		if (!(v->a[j].t >= t0 - 0.5 * step_s))
			continue;
		k = lround((v->a[j].t - t0) / step_s);
		if (k >= 0 && k < n && !isnan(v->a[j].value))
			y[k] = v->a[j].value;
	}
	out->y = y;
	out->n = (int)n;
	out->period = period >= 1 ? period : 1;
	out->step_s = step_s;
	out->t0 = t0;
	*yout = y;
	return 0;
}

static int has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	int yes = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM sqlite_master WHERE type='table' "
			       "AND name=?1",
			       -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return yes;
}

int train_db_load(const char *path, int max_len, train_db *d, char *err,
		  size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t cap = 0, c;
	src sr = {NULL, NULL};
	tv v = {NULL, 0, 0};
	int rc = -1, e;

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
	if (!has_table(db, "sample_chunks") && has_table(db, "samples")) {
		if (sqlite3_prepare_v2(db,
				       "SELECT t, value FROM samples WHERE "
				       "series_id = ? ORDER BY seq",
				       -1, &sr.legacy, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path,
				 sqlite3_errmsg(db));
			goto out;
		}
	} else if ((e = store_reader_open(&sr.rd, path)) != 0) {
		snprintf(err, errlen, "%s: %s", path, store_strerror(e));
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
		if (fetch(&sr, sqlite3_column_int64(st, 0), &v) != 0) {
			snprintf(err, errlen, "%s: cannot read samples", path);
			goto out;
		}
		if (load_one(&v, sqlite3_column_double(st, 1),
			     sqlite3_column_int(st, 2), max_len,
			     &d->series[d->count], &y) == 0)
			d->y[d->count++] = y;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(v.a);
	store_reader_free(sr.rd);
	sqlite3_finalize(sr.legacy);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != 0)
		train_db_free(d);
	return rc;
}
