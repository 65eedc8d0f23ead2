/*
 * io/store_logscan.c: walking the sample log by ranges of series ids, for
 * compaction's steps (store_compact.c) and recovery's windows
 * (store_recover.c), in memory bounded by the range, not by the log.
 *
 * Workload: the log is at most a few thousand rows of up to 512 records,
 * each row sorted by series id. A scan holds the rows' ids, counts and id
 * ranges (56 bytes a row) and, per row, how far it has been walked; a
 * range reads each row's run of records in it (one binary search through
 * incremental blob I/O where the range ends inside the row, one read),
 * rows in id order, so the copy written first comes first.
 */
#include <stdlib.h>
#include <string.h>

#include "io/store_int.h"

size_t store__log_window = (size_t)1 << 19;

static void blob_close(store__lscan *l)
{
	sqlite3_blob_close(l->bh);
	l->bh = NULL;
}

/* Row r open in l->bh, its size checked. */
static int blob_row(store__lscan *l, const store__lrow *r)
{
	int rc = l->bh ? sqlite3_blob_reopen(l->bh, r->id)
		       : sqlite3_blob_open(l->db, "main", "sample_log", "data",
					   r->id, 0, &l->bh);

	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	return sqlite3_blob_bytes(l->bh) == r->n * STORE_LOG_REC
		   ? 0
		   : STORE_ECORRUPT;
}

void store__lscan_release(store__lscan *l)
{
	blob_close(l);
	free(l->r);
	free(l->a);
	store__sortbuf_release(&l->sort);
	memset(l, 0, sizeof *l);
}

int store__lscan_init(store__lscan *l, sqlite3 *db, sqlite3_stmt *voids)
{
	sqlite3_stmt *q;
	size_t cap = 0;
	store__lrow *p;
	int rc;

	memset(l, 0, sizeof *l);
	l->db = db;
	l->voids = voids;
	rc = sqlite3_prepare_v2(db,
				"SELECT id, n, smin, smax FROM sample_log "
				"ORDER BY id",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return store__map_rc(rc);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (l->n == cap) {
			cap = cap ? 2 * cap : 256;
			if (!(p = realloc(l->r, cap * sizeof *p))) {
				rc = SQLITE_NOMEM;
				break;
			}
			l->r = p;
		}
		p = &l->r[l->n];
		p->id = sqlite3_column_int64(q, 0);
		p->n = sqlite3_column_int64(q, 1);
		p->next = sqlite3_column_int64(q, 2);
		p->smax = sqlite3_column_int64(q, 3);
		p->pos = p->end = 0;
		/* An empty row (none is written) holds nothing to walk. */
		l->n += p->n > 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store__lscan_release(l);
		return store__map_rc(rc);
	}
	l->maxid = l->n ? l->r[l->n - 1].id : 0;
	return 0;
}

/* Where [lo, hi) ends in each row (to_end: hi is past every id); the
 * samples that takes. */
static int range_ends(store__lscan *l, int64_t hi, int to_end, int64_t *total)
{
	size_t i;
	int rc;

	*total = 0;
	for (i = 0; i < l->n; i++) {
		store__lrow *r = &l->r[i];
		r->end = r->pos;
		if (!to_end && r->next >= hi)
			continue;
		if (to_end || r->smax < hi) {
			r->end = r->n;
		} else if ((rc = blob_row(l, r)) < 0 ||
			   (rc = store__blob_lower(l->bh, r->pos, r->n, hi,
						   &r->end)) < 0) {
			return rc;
		}
		*total += r->end - r->pos;
	}
	return 0;
}

int store__lscan_range(store__lscan *l, size_t budget, int whole,
		       int64_t *total)
{
	uint64_t left = 0;
	int64_t lo = INT64_MAX, maxs = INT64_MIN, cum;
	double width;
	size_t i;
	int rc = 0;

	*total = 0;
	for (i = 0; i < l->n; i++) {
		lo = l->r[i].next < lo ? l->r[i].next : lo;
		maxs = l->r[i].smax > maxs ? l->r[i].smax : maxs;
		left += (uint64_t)(l->r[i].n - l->r[i].pos);
	}
	l->lo = lo;
	if (!l->n)
		return 0;
	/* As wide as budget samples would be if what is left were spread
	 * evenly over the ids; halved while it holds more than twice. */
	width = ((double)maxs - (double)lo + 1) * (double)budget / (double)left;
	l->to_end = width >= (double)maxs - (double)lo + 1;
	l->hi = l->to_end ? maxs : lo + (width < 1 ? 1 : (int64_t)width);
	for (;;) {
		if ((rc = range_ends(l, l->hi, l->to_end, total)) < 0)
			goto out;
		if ((uint64_t)*total <= 2 * (uint64_t)budget || l->hi - lo <= 1)
			break;
		l->hi = lo + (l->hi - lo) / 2;
		l->to_end = 0;
	}
	if (whole || (uint64_t)*total <= 2 * (uint64_t)budget)
		goto out;
	/* One series with more: its oldest rows first, about budget. */
	for (i = 0, cum = 0; i < l->n; i++) {
		store__lrow *r = &l->r[i];
		if ((uint64_t)cum >= budget)
			r->end = r->pos;
		cum += r->end - r->pos;
	}
	*total = cum;
out:
	blob_close(l);
	return rc;
}

void store__lscan_stripe(store__lscan *l, int64_t base, int64_t width, int mod,
			 int k)
{
	l->stripe_base = base;
	l->stripe_width = width;
	l->stripe_mod = mod;
	l->stripe_k = k;
}

/* Where a row's ids are in the stripe: the run [lo, hi) that the last id
 * looked at is in, and whether it is kept. A row's records are in id
 * order, so the division is once a run, not once a record. */
typedef struct stripe_cur {
	const store__lscan *l;
	int64_t lo, hi;
	int keep;
} stripe_cur;

static int stripe_keeps(stripe_cur *c, int64_t sid)
{
	const store__lscan *l = c->l;
	int64_t run;

	if (!l->stripe_mod)
		return 1;
	if (sid >= c->lo && sid < c->hi)
		return c->keep;
	if (sid < l->stripe_base)
		return 0;
	run = (sid - l->stripe_base) / l->stripe_width;
	c->lo = l->stripe_base + run * l->stripe_width;
	c->hi = l->stripe_width > INT64_MAX - c->lo ? INT64_MAX
						    : c->lo + l->stripe_width;
	c->keep = run % l->stripe_mod == l->stripe_k;
	return c->keep;
}

int store__lscan_read(store__lscan *l, int64_t total)
{
	unsigned char buf[STORE_LOG_PIECE * STORE_LOG_REC];
	int64_t hi = INT64_MIN, k, m, j;
	store__void *v = NULL;
	stripe_cur sc = {l, 0, 0, 0};
	size_t nv = 0, i;
	int rc = 0;

	l->na = 0;
	if ((size_t)total > l->cap) {
		sb_sample *a = realloc(l->a, (size_t)total * sizeof *a);
		if (!a)
			return STORE_ENOMEM;
		l->a = a;
		l->cap = (size_t)total;
	}
	for (i = 0; i < l->n; i++)
		if (l->r[i].end > l->r[i].pos && l->r[i].smax > hi)
			hi = l->r[i].smax;
	if (l->voids && hi >= l->lo) {
		/* The dropped series' marks within the runs' ids. */
		sqlite3_bind_int64(l->voids, 1, l->lo);
		sqlite3_bind_int64(l->voids, 2, hi);
		if ((rc = store__voids_read(l->voids, &v, &nv)) < 0)
			goto out;
	}
	for (i = 0; i < l->n; i++) {
		store__lrow *r = &l->r[i];
		r->nnext = r->next;
		if (r->end == r->pos)
			continue;
		if ((rc = blob_row(l, r)) < 0)
			goto out;
		for (k = r->pos; k < r->end; k += m) {
			m = r->end - k < STORE_LOG_PIECE ? r->end - k
							 : STORE_LOG_PIECE;
			rc = sqlite3_blob_read(l->bh, buf,
					       (int)(m * STORE_LOG_REC),
					       (int)(k * STORE_LOG_REC));
			if (rc != SQLITE_OK) {
				rc = store__map_rc(rc);
				goto out;
			}
			for (j = 0; j < m; j++) {
				sb_sample *a = &l->a[l->na];
				store__log_get(buf + j * STORE_LOG_REC, a);
				if (stripe_keeps(&sc, a->sid) &&
				    !store__voided(v, nv, a->sid, r->id))
					l->na++;
			}
		}
		/* The next series of a row left part-way. */
		if (r->end < r->n &&
		    (rc = store__blob_sid(l->bh, r->end, &r->nnext)) < 0)
			goto out;
	}
	rc = 0;
out:
	blob_close(l);
	free(v);
	return rc;
}

void store__lscan_next(store__lscan *l)
{
	size_t i, k;

	for (i = k = 0; i < l->n; i++) {
		store__lrow *r = &l->r[i];
		if (r->end > r->pos)
			r->next = r->nnext;
		r->pos = r->end;
		if (r->pos < r->n)
			l->r[k++] = *r; /* the emptied rows leave */
	}
	l->n = k;
}
