/*
 * io/store_recover.c: walking the database at start-up to rebuild every
 * series' state (see store_recover() in store.h).
 *
 * Workload: once per start, every series (up to millions): one sequential
 * scan of series LEFT JOIN snapshots in id order, plus one key-range seek
 * into samples per series for the rows after its snapshot and one into
 * forecasts for the latest one's origin (store.forecast_every_s spacing). All
 * of it runs in one read transaction, so the view is consistent and the pages
 * of a series' samples are read once.
 *
 * Two threads, a pipeline: a reader thread owns the connection for the walk
 * (SQLite's page reads, a pread per 4 KiB page, and each snapshot's CRC-32C)
 * and writes decoded records into a few blocks; the calling thread takes the
 * blocks in order and runs the callbacks (the caller's registry, its copy of
 * each state, the replay). At 1M series the two halves cost about the same,
 * so a restore takes about half the time it took on one thread. Order and
 * content are exactly those of a single-threaded walk; only the reader's
 * lead over the callbacks is bounded, by the blocks (NBLOCKS x BLOCK_BYTES,
 * plus any one record larger than a block).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io/store_int.h"

#define REC_CHUNK   512
#define NBLOCKS	    4
#define BLOCK_BYTES (1u << 20)

enum { R_SERIES = 1, R_SAMPLES = 2 };

/* Records in a block are 8-byte aligned; size covers the whole record. */
typedef struct rhdr {
	uint32_t type;
	uint32_t size;
} rhdr;

/* Followed by name\0 tags\0, then (8-aligned) the snapshot's payload when
 * mode is STORE_RESTORE_SNAPSHOT. */
typedef struct rseries {
	rhdr h;
	int64_t id;
	double step_s, created, forecast_t;
	int period, mode, serr;
	uint32_t name_len, tags_len;
	io_snap snap; /* payload pointer fixed up by the consumer */
} rseries;

/* Followed by n store_sample. */
typedef struct rsamples {
	rhdr h;
	int64_t sid;
	uint64_t n;
} rsamples;

typedef struct block {
	unsigned char *p;
	size_t len, cap;
} block;

typedef struct rec {
	sqlite3 *db;
	sqlite3_stmt *walk, *after, *last_t, *since, *last_fc;
	uint64_t model_hash;
	double window;
	store_sample buf[REC_CHUNK];

	/* The pipeline, under mu. Ready blocks are a FIFO of indices; a block
	 * is either free, the reader's current one, ready, or the
	 * consumer's. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	block blk[NBLOCKS];
	int ready[NBLOCKS], nready, ready_head;
	int freel[NBLOCKS], nfree;
	int cur; /* reader's block, -1 = none */
	int done, abort;
	int rc; /* reader's result, valid when done */
} rec;

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- reader side ---- */

/* Hands the current block to the consumer. Caller holds mu. */
static void publish_locked(rec *r)
{
	if (r->cur >= 0 && r->blk[r->cur].len) {
		r->ready[(r->ready_head + r->nready) % NBLOCKS] = r->cur;
		r->nready++;
		pthread_cond_broadcast(&r->cv);
	} else if (r->cur >= 0) {
		r->freel[r->nfree++] = r->cur;
	}
	r->cur = -1;
}

/* Room for need bytes in the reader's block; NULL when the consumer aborted
 * or memory ran out (*rc says which). */
static unsigned char *reserve(rec *r, size_t need, int *rc)
{
	block *b;

	if (r->cur >= 0) {
		b = &r->blk[r->cur];
		if (b->cap - b->len >= need) {
			unsigned char *p = b->p + b->len;
			b->len += need;
			return p;
		}
	}
	pthread_mutex_lock(&r->mu);
	publish_locked(r);
	while (!r->nfree && !r->abort)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->abort) {
		pthread_mutex_unlock(&r->mu);
		*rc = STORE_EABORT;
		return NULL;
	}
	r->cur = r->freel[--r->nfree];
	pthread_mutex_unlock(&r->mu);
	b = &r->blk[r->cur];
	b->len = 0;
	if (b->cap < need) {
		size_t cap = need > BLOCK_BYTES ? need : BLOCK_BYTES;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			*rc = STORE_ENOMEM;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len = need;
	return b->p;
}

static int put_samples(rec *r, int64_t sid, size_t n)
{
	size_t size = sizeof(rsamples) + n * sizeof(store_sample);
	int rc = 0;
	unsigned char *p = reserve(r, size, &rc);
	rsamples h;

	if (!p)
		return rc;
	h.h.type = R_SAMPLES;
	h.h.size = (uint32_t)size;
	h.sid = sid;
	h.n = n;
	memcpy(p, &h, sizeof h);
	memcpy(p + sizeof h, r->buf, n * sizeof(store_sample));
	return 0;
}

/* Stream the rows of a prepared (seq, t, value) query as records. */
static int stream(rec *r, sqlite3_stmt *q, int64_t sid)
{
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r->buf[n].seq = sqlite3_column_int64(q, 0);
		r->buf[n].t = sqlite3_column_double(q, 1);
		r->buf[n].value = store__column_value(q, 2);
		if (++n == REC_CHUNK) {
			if ((rc = put_samples(r, sid, n)) != 0) {
				sqlite3_reset(q);
				return rc;
			}
			n = 0;
		}
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store__map_rc(rc);
	return n ? put_samples(r, sid, n) : 0;
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

/* Origin of the series' latest stored forecast (-INFINITY: none): one seek
 * to the end of its key range, in the walk's id order like the others. */
static int last_forecast(rec *r, int64_t sid, double *t)
{
	int rc;

	sqlite3_bind_int64(r->last_fc, 1, sid);
	rc = sqlite3_step(r->last_fc);
	*t =
	    rc == SQLITE_ROW ? sqlite3_column_double(r->last_fc, 0) : -INFINITY;
	sqlite3_reset(r->last_fc);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

static int put_series(rec *r, rseries *h, const char *name, const char *tags)
{
	size_t strs = (size_t)h->name_len + 1 + h->tags_len + 1;
	size_t pay = h->mode == STORE_RESTORE_SNAPSHOT
			 ? (size_t)h->snap.nfloats * sizeof(float)
			 : 0;
	size_t size = align8(sizeof *h + strs) + pay;
	unsigned char *p;
	int rc = 0;

	if (size > UINT32_MAX)
		return STORE_ENOMEM;
	p = reserve(r, align8(size), &rc);
	if (!p)
		return rc;
	h->h.type = R_SERIES;
	h->h.size = (uint32_t)align8(size);
	memcpy(p, h, sizeof *h);
	memcpy(p + sizeof *h, name, (size_t)h->name_len + 1);
	memcpy(p + sizeof *h + h->name_len + 1, tags, (size_t)h->tags_len + 1);
	if (pay) /* CRC checked by io_snap_decode: copied as verified */
		memcpy(p + align8(sizeof *h + strs), h->snap.payload, pay);
	return 0;
}

static int walk(rec *r)
{
	rseries h;
	const char *name, *tags;
	int rc;

	memset(&h, 0, sizeof h);
	while ((rc = sqlite3_step(r->walk)) == SQLITE_ROW) {
		h.id = sqlite3_column_int64(r->walk, 0);
		name = (const char *)sqlite3_column_text(r->walk, 1);
		tags = (const char *)sqlite3_column_text(r->walk, 2);
		name = name ? name : "";
		tags = tags ? tags : "";
		h.name_len = (uint32_t)strlen(name);
		h.tags_len = (uint32_t)strlen(tags);
		h.step_s = sqlite3_column_double(r->walk, 3);
		h.period = sqlite3_column_int(r->walk, 4);
		h.created = sqlite3_column_double(r->walk, 5);
		if ((rc = last_forecast(r, h.id, &h.forecast_t)) < 0)
			return rc;
		h.serr = 0;
		if (sqlite3_column_type(r->walk, 6) == SQLITE_NULL) {
			h.mode = STORE_RESTORE_FULL;
		} else {
			h.serr = io_snap_decode(
			    sqlite3_column_blob(r->walk, 6),
			    (size_t)sqlite3_column_bytes(r->walk, 6), &h.snap);
			h.mode = !h.serr && h.snap.model_hash == r->model_hash
				     ? STORE_RESTORE_SNAPSHOT
				     : STORE_RESTORE_REBUILD;
		}
		if ((rc = put_series(r, &h, name, tags)) != 0)
			return rc;
		if (h.mode == STORE_RESTORE_REBUILD) {
			rc = rebuild(r, h.id, r->window);
		} else {
			sqlite3_bind_int64(r->after, 1, h.id);
			sqlite3_bind_int64(r->after, 2,
					   h.mode == STORE_RESTORE_SNAPSHOT
					       ? (int64_t)h.snap.seen
					       : 0);
			rc = stream(r, r->after, h.id);
		}
		if (rc < 0)
			return rc;
	}
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

static void *reader_main(void *arg)
{
	rec *r = arg;
	int rc = walk(r);

	pthread_mutex_lock(&r->mu);
	publish_locked(r);
	r->done = 1;
	r->rc = rc;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- consumer side (the caller's thread) ---- */

/* Runs the callbacks of one block's records. */
static int consume(const block *b, const store_recover_cb *cb,
		   store_recover_stats *st, uint64_t total, uint64_t step,
		   uint64_t *next)
{
	size_t off = 0;

	while (off < b->len) {
		rhdr h;
		memcpy(&h, b->p + off, sizeof h);
		if (h.type == R_SERIES) {
			rseries s;
			store_series_info si;
			const char *strs =
			    (const char *)b->p + off + sizeof(rseries);
			memcpy(&s, b->p + off, sizeof s);
			si.id = s.id;
			si.name = strs;
			si.tags = strs + s.name_len + 1;
			si.step_s = s.step_s;
			si.period = s.period;
			si.created = s.created;
			si.forecast_t = s.forecast_t;
			if (s.mode == STORE_RESTORE_SNAPSHOT)
				s.snap.payload = b->p + off +
						 align8(sizeof s + s.name_len +
							1 + s.tags_len + 1);
			if (s.serr)
				st->corrupt++;
			st->series++;
			st->max_series_id = si.id;
			if (s.mode == STORE_RESTORE_REBUILD)
				st->rebuilt++;
			else if (s.mode == STORE_RESTORE_SNAPSHOT)
				st->from_snapshot++;
			else
				st->full_replay++;
			if (cb->series(cb->ud, &si, s.mode,
				       s.mode == STORE_RESTORE_SNAPSHOT
					   ? &s.snap
					   : NULL,
				       s.serr))
				return STORE_EABORT;
			if (cb->progress && st->series >= *next) {
				cb->progress(cb->ud, st->series, total);
				*next += step;
			}
		} else {
			rsamples s;
			memcpy(&s, b->p + off, sizeof s);
			st->samples_replayed += s.n;
			/* Records are 8-aligned and store_sample is 8-byte
			 * fields only: the array is usable in place. */
			if (cb->samples(
				cb->ud, s.sid,
				(const store_sample *)(const void *)(b->p +
								     off +
								     sizeof s),
				(size_t)s.n))
				return STORE_EABORT;
		}
		off += h.size;
	}
	return 0;
}

static int run(rec *r, const store_recover_cb *cb, store_recover_stats *st,
	       uint64_t total)
{
	uint64_t step = total / 100 ? total / 100 : 1, next = step;
	pthread_t th;
	int rc = 0, i;

	for (i = 0; i < NBLOCKS; i++)
		r->freel[r->nfree++] = i;
	r->cur = -1;
	if (cb->progress)
		cb->progress(cb->ud, 0, total); /* lets the caller size up */
	if (pthread_create(&th, NULL, reader_main, r) != 0)
		return STORE_ENOMEM;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		int k;
		while (!r->nready && !r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->nready)
			break; /* done and drained */
		k = r->ready[r->ready_head];
		r->ready_head = (r->ready_head + 1) % NBLOCKS;
		r->nready--;
		pthread_mutex_unlock(&r->mu);
		rc = consume(&r->blk[k], cb, st, total, step, &next);
		pthread_mutex_lock(&r->mu);
		r->freel[r->nfree++] = k;
		if (rc)
			r->abort = 1; /* before the wake-up: the reader stops */
		pthread_cond_broadcast(&r->cv);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&r->mu);
	pthread_join(th, NULL);
	if (rc)
		return rc;
	if (r->rc)
		return r->rc;
	if (cb->progress && st->series + step != next)
		cb->progress(cb->ud, st->series, total); /* not yet told */
	return 0;
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
			       -1, &r->since, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT t FROM forecasts WHERE series_id=?1 "
			       "ORDER BY t DESC LIMIT 1",
			       -1, &r->last_fc, NULL) != SQLITE_OK) {
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

int store_recover(const char *path, uint64_t model_hash,
		  double rebuild_window_s, const store_recover_cb *cb,
		  store_recover_stats *st)
{
	store_recover_stats dummy;
	rec *r;
	int rc, i;

	if (!path || !cb || !cb->series || !cb->samples ||
	    !(rebuild_window_s >= 0))
		return STORE_EINVAL;
	if (!st)
		st = &dummy;
	*st = (store_recover_stats){0};
	r = calloc(1, sizeof(*r));
	if (!r)
		return STORE_ENOMEM;
	r->model_hash = model_hash;
	r->window = rebuild_window_s;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* The connection passes between threads but is never used by two at
	 * once: this one until the reader starts and after it is joined. */
	/* 64 MiB of page cache: the interior pages of samples and snapshots
	 * stay cached across a million per-series seeks (the default 2 MiB
	 * reads them again, a pread each). Freed when recovery ends. */
	if ((rc = store__open_db(path, 0, NULL, &r->db)) == 0 &&
	    (rc = store__exec(r->db, "PRAGMA cache_size=-65536")) == 0 &&
	    (rc = prepare(r)) == 0 && (rc = store__exec(r->db, "BEGIN")) == 0) {
		rc = run(r, cb, st, (uint64_t)count_series(r->db));
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(r->walk);
	sqlite3_finalize(r->after);
	sqlite3_finalize(r->last_t);
	sqlite3_finalize(r->since);
	sqlite3_finalize(r->last_fc);
	sqlite3_close(r->db);
	for (i = 0; i < NBLOCKS; i++)
		free(r->blk[i].p);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return rc;
}
