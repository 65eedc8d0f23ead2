/*
 * io/store_retention.c: deleting old samples and forecasts in small steps.
 *
 * Each step is one short transaction of at most retention_batch rows (a
 * forecast, or a chunk of samples: its row and a row per page its samples
 * fill), run by the writer between ingest transactions, so ingest waits at
 * most one step. A cursor walks the series by id and wraps, so every series
 * is visited in turn however many there are.
 *
 * Samples: the oldest samples of a series are its lowest seqs, in its first
 * chunks. A step reads a series' first chunks in seq order and deletes the
 * prefix of samples with t < cutoff: whole chunks, and the chunk where the
 * prefix ends is rewritten without it (so retention is exact to the
 * sample, as it was with a row per sample). It stops at the first younger
 * sample (a late sample with an old timestamp waits until the samples
 * before it have aged too) and never goes beyond the series' snapshot
 * `seen`: samples after the snapshot are what recovery replays. Samples
 * still in the log are compacted into chunks first (a compaction round
 * begins) when any of them is older than the cutoff (in steady state the
 * log is minutes old and this never happens).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/le.h"
#include "io/store_int.h"

#define RET_SERIES_PER_STEP 256
#define RET_CHUNKS	    64 /* chunks of one series read per visit */

/* A step's count: its budget's rows (used: a forecast deleted, a chunk by
 * chunk_cost) and the rows it deleted (a sample or a forecast each: the
 * stat store_retention_deleted). */
typedef struct ret_count {
	int used, deleted;
} ret_count;

/* A trimmed chunk's remainder. */
typedef struct trim {
	int64_t seq0, k, n;
	unsigned char *rest;
} trim;

/* What a chunk of n samples costs a step's budget: its row, and a row more
 * per page its samples fill (a step's work is its b-tree pages, and a
 * chunk of a few dozen samples is one row on one leaf like a forecast's;
 * budgeting samples made a step of 2000 delete ~60 chunks, too few steps
 * to keep up with a feed: bench/results/ret16.md). */
static int chunk_cost(const store *s, int64_t n)
{
	return 1 + (int)(n * STORE_CHUNK_REC / s->o.page_size);
}

/* The series' snapshot's seen into *seen (0 without a snapshot: nothing
 * is deleted). Read only for a series whose first chunk is old: a
 * snapshot row is a state (~6.4 KB, two to a 16 KiB page), and reading
 * every visited series' was most of a young store's retention reads
 * (bench/results/ret16.md). */
static int series_seen(store *s, int64_t sid, int64_t *seen)
{
	sqlite3_stmt *q = s->st.ret_seen;
	int rc;

	sqlite3_bind_int64(q, 1, sid);
	rc = sqlite3_step(q);
	*seen = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

/* One series' old samples, whole chunks and the prefix of the chunk where
 * they end, up to its snapshot's seen, within room (chunk_cost's rows; a
 * trim costs its chunk twice, deleted and inserted, and is left for the
 * next step if it does not fit after whole chunks). Counts both in *c. */
static int step_samples(store *s, int64_t sid, double cutoff, int room,
			ret_count *c, int *full)
{
	store_stmts *t = &s->st;
	int64_t whole[RET_CHUNKS], seen = -1;
	trim tr = {0, 0, 0, NULL};
	int nw = 0, n = 0, cost = 0, rc, err = 0, stop = 0, i;

	sqlite3_bind_int64(t->ret_ck_scan, 1, sid);
	sqlite3_bind_int(t->ret_ck_scan, 2, RET_CHUNKS);
	while (!stop && (rc = sqlite3_step(t->ret_ck_scan)) == SQLITE_ROW) {
		int64_t seq0 = sqlite3_column_int64(t->ret_ck_scan, 0);
		int64_t cn = sqlite3_column_int64(t->ret_ck_scan, 1), k;
		const unsigned char *p;
		int cc;

		if (sqlite3_column_double(t->ret_ck_scan, 2) >= cutoff)
			break; /* its first sample is younger */
		if (seen < 0 && (err = series_seen(s, sid, &seen)) < 0)
			break;
		if (seen <= 0 || seq0 > seen) {
			stop = 1; /* replay's */
			break;
		}
		if (cn < 1) {
			rc = SQLITE_CORRUPT;
			break;
		}
		cc = chunk_cost(s, cn);
		if (nw > 0 && cost + cc > room) {
			*full = 1;
			break;
		}
		p = sqlite3_column_blob(t->ret_ck_scan, 3);
		if (sqlite3_column_bytes(t->ret_ck_scan, 3) !=
		    cn * STORE_CHUNK_REC) {
			rc = SQLITE_CORRUPT;
			break;
		}
		for (k = 0; k < cn && seq0 + k <= seen &&
			    io__getd(p + k * STORE_CHUNK_REC) < cutoff;
		     k++)
			;
		if (k == cn) {
			whole[nw++] = seq0;
			n += (int)cn;
			cost += cc;
			continue;
		}
		stop = 1;
		if (k == 0)
			break;
		if (nw > 0 && cost + 2 * cc > room) {
			*full = 1; /* the trim, next step */
			break;
		}
		tr.rest = malloc((size_t)(cn - k) * STORE_CHUNK_REC);
		if (!tr.rest) {
			rc = SQLITE_NOMEM;
			break;
		}
		memcpy(tr.rest, p + k * STORE_CHUNK_REC,
		       (size_t)(cn - k) * STORE_CHUNK_REC);
		tr.seq0 = seq0;
		tr.k = k;
		tr.n = cn;
		n += (int)k;
		cost += 2 * cc;
	}
	sqlite3_reset(t->ret_ck_scan);
	if (err < 0) {
		free(tr.rest);
		return err;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(tr.rest);
		return store__map_rc(rc);
	}
	if (!stop && nw == RET_CHUNKS)
		*full = 1;
	rc = 0;
	for (i = 0; i < nw + (tr.rest != NULL) && rc == 0; i++) {
		sqlite3_bind_int64(t->ret_ck_del, 1, sid);
		sqlite3_bind_int64(t->ret_ck_del, 2,
				   i < nw ? whole[i] : tr.seq0);
		rc = sqlite3_step(t->ret_ck_del);
		sqlite3_reset(t->ret_ck_del);
		rc = rc == SQLITE_DONE ? 0 : store__map_rc(rc);
	}
	if (rc == 0 && tr.rest)
		rc = store__chunk_insert(s, sid, tr.seq0 + tr.k, tr.rest,
					 (size_t)(tr.n - tr.k));
	free(tr.rest);
	if (rc == 0) {
		c->deleted += n;
		c->used += cost;
	}
	return rc;
}

/* Log samples older than the cutoff are moved into chunks first, where
 * retention finds them, once the log has been there a while: a thousandth
 * of the retention, 1 s to 60 s. Not sooner: samples that arrive already
 * older than the retention (a backfill, a replay, a benchmark's fixed
 * timestamps) would otherwise make every retention step compact a few
 * seconds of log into chunks of a sample or two per series. */
static int compact_if_old(store *s, double cutoff)
{
	sqlite3_stmt *q = s->st.log_tmin;
	double tmin = INFINITY, age = s->o.sample_retention_s / 1000;
	int rc;

	if (!s->log_samples)
		return 0;
	age = age < 1 ? 1 : age > 60 ? 60 : age;
	if ((double)(store__now_ns() - s->log_since_ns) < age * 1e9)
		return 0;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		tmin = sqlite3_column_double(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return store__map_rc(rc);
	if (tmin >= cutoff || s->cmp.maxid)
		return 0;
	/* A round: its steps run between the next commits, and the steps
	 * of retention find the samples in chunks as they come. */
	rc = store__compact_begin(s);
	return rc < 0 ? rc : 0;
}

/* One table's forecasts of series sid older than cutoff, at most room:
 * scan (their t, oldest first) then delete up to the last. */
static int step_fc_table(store *s, sqlite3_stmt *scan, sqlite3_stmt *del,
			 int64_t sid, double cutoff, int room, ret_count *c,
			 int *full)
{
	double last = 0;
	int n = 0, rc;

	sqlite3_bind_int64(scan, 1, sid);
	sqlite3_bind_double(scan, 2, cutoff);
	sqlite3_bind_int(scan, 3, room);
	while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
		last = sqlite3_column_double(scan, 0);
		n++;
	}
	sqlite3_reset(scan);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	*full = n == room;
	if (!n)
		return 0;
	sqlite3_bind_int64(del, 1, sid);
	sqlite3_bind_double(del, 2, last);
	rc = sqlite3_step(del);
	sqlite3_reset(del);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	c->deleted += sqlite3_changes(s->db);
	c->used += sqlite3_changes(s->db);
	return 0;
}

/* Schema 7's table, then version 6's while its rows are being moved
 * (io/store_fc.c). */
static int step_forecasts(store *s, int64_t sid, double cutoff, int room,
			  ret_count *c, int *full)
{
	store_stmts *t = &s->st;
	int before = c->used, rc;

	rc = step_fc_table(s, t->ret_fc_scan, t->ret_fc_del, sid, cutoff, room,
			   c, full);
	if (rc == 0 && !*full && t->old_ret_scan)
		rc = step_fc_table(s, t->old_ret_scan, t->old_ret_del, sid,
				   cutoff, room - (c->used - before), c, full);
	return rc;
}

/* The forecasts table's head: rowid order is the order rows were stored, so
 * its first rows are, at steady state or in a purge of old history, the
 * oldest. Those older than the cutoff, up to room and up to the first
 * younger one, go in one range delete: neighbours on the table's leaves
 * (rows stored by one commit) and on its index's (a group's entries of one
 * origin), so a step dirties a leaf per ~25 rows. The walk by series below
 * (a leaf per row where a series holds forecasts of many origins: each
 * origin's rows are a commit's, one leaf apart) deletes what this leaves:
 * rows stored late with an old time, behind a younger one. Sets *full when
 * room was reached (a backlog at the head). */
static int head_forecasts(store *s, double cutoff, int room, ret_count *c,
			  int *full)
{
	store_stmts *t = &s->st;
	int64_t last = 0;
	int n = 0, rc;

	sqlite3_bind_int(t->ret_fc_head, 1, room);
	while ((rc = sqlite3_step(t->ret_fc_head)) == SQLITE_ROW &&
	       sqlite3_column_double(t->ret_fc_head, 1) < cutoff) {
		last = sqlite3_column_int64(t->ret_fc_head, 0);
		n++;
	}
	sqlite3_reset(t->ret_fc_head);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store__map_rc(rc);
	*full = n == room;
	if (!n)
		return 0;
	sqlite3_bind_int64(t->ret_fc_hdel, 1, last);
	rc = sqlite3_step(t->ret_fc_hdel);
	sqlite3_reset(t->ret_fc_hdel);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	c->deleted += sqlite3_changes(s->db);
	c->used += sqlite3_changes(s->db);
	return 0;
}

/*
 * One step. Returns rows deleted (>= 0) or STORE_E*; *more = 1 when the
 * step stopped because it was full (a backlog remains).
 */
int store__retention_step(store *s, int *more)
{
	store_stmts *t = &s->st;
	int64_t ids[RET_SERIES_PER_STEP];
	double now = store__wall_s();
	double cs = now - s->o.sample_retention_s;
	double cf = now - s->o.forecast_retention_s;
	int batch = s->o.retention_batch, n = 0, i, rc, full;
	ret_count c = {0, 0};
	int head_full = 0, fc = s->o.forecast_retention_s > 0;

	*more = 0;
	if (s->o.sample_retention_s > 0 && (rc = compact_if_old(s, cs)) < 0)
		return rc;
	sqlite3_bind_int64(t->ret_list, 1, s->ret_cursor);
	sqlite3_bind_int(t->ret_list, 2, RET_SERIES_PER_STEP);
	while ((rc = sqlite3_step(t->ret_list)) == SQLITE_ROW) {
		ids[n++] = sqlite3_column_int64(t->ret_list, 0);
	}
	sqlite3_reset(t->ret_list);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	if (n == 0) {
		s->ret_cursor = 0;
		return 0;
	}
	rc = sqlite3_step(t->begin);
	sqlite3_reset(t->begin);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	/* The head first, with half the step. While it has a backlog (it
	 * filled that half) the walk leaves forecasts to it (it would
	 * delete the same rows, a leaf per row) and deletes samples; the
	 * head then gets what the walk left of the step. */
	rc = fc ? head_forecasts(s, cf, (batch + 1) / 2, &c, &head_full) : 0;
	for (i = 0; rc == 0 && i < n && c.used < batch; i++) {
		full = 0;
		if (s->o.sample_retention_s > 0)
			rc = step_samples(s, ids[i], cs, batch - c.used, &c,
					  &full);
		if (rc == 0 && !full && fc && !head_full && c.used < batch)
			rc = step_forecasts(s, ids[i], cf, batch - c.used, &c,
					    &full);
		if (rc < 0)
			break;
		if (full) {
			*more = 1; /* revisit this series next step */
			break;
		}
		s->ret_cursor = ids[i];
	}
	if (rc == 0 && i == n && n < RET_SERIES_PER_STEP)
		s->ret_cursor = 0; /* pass complete: wrap */
	if (rc == 0 && head_full && c.used < batch)
		rc = head_forecasts(s, cf, batch - c.used, &c, &head_full);
	if (rc == 0 && !*more && (c.used >= batch || head_full))
		*more = 1;
	if (rc == 0) {
		rc = sqlite3_step(t->commit);
		sqlite3_reset(t->commit);
		rc = rc == SQLITE_DONE ? 0 : store__map_rc(rc);
	}
	if (rc < 0) {
		if (!sqlite3_get_autocommit(s->db)) {
			sqlite3_step(t->rollback);
			sqlite3_reset(t->rollback);
		}
		return rc;
	}
	return c.deleted;
}
