/*
 * io/store_recover.c: walking the database at start-up to rebuild every
 * series' state (see store_recover() in store.h).
 *
 * Workload: once per start, every series (up to millions): a scan of
 * series LEFT JOIN snapshots in id order, plus one key-range seek into
 * sample_chunks per series for the samples after its snapshot, merged
 * with that series' part of the sample log (each reader reads the log in
 * windows of series ids as its walk reaches them, store__log_window
 * samples or so each, and keeps and sorts only its own segments' samples
 * of each: the memory is the window's, not the log's),
 * and, for a series not known, one seek for its snapshot's blob and one
 * into forecasts for the latest one's origin (store.forecast_every_s
 * spacing). When the caller holds known states (a checkpoint's records:
 * most series at a restart after a crash), no seek per series: the
 * series, snapshots (`seen` only) and sample_chunks of each segment are
 * three scans in id order merged by id, a known series' samples after its
 * record coming from the chunk scan's rows (a seek into snapshots and
 * two into sample_chunks per series were 4-5 us of a 1M-series restart's
 * ~10 us per series, bench/results/crash6-profile.md).
 *
 * Threads, a pipeline: READERS reader threads, each with its own
 * connection and read transaction, walk the series in segments of ids
 * (segment k goes to reader k % READERS): SQLite's page reads, each
 * snapshot's CRC-32C, and the copy into a few blocks of decoded records,
 * with a record that closes each segment. The calling thread takes the
 * segments in order, switching reader at each close, and runs the
 * callbacks (the caller's registry, its copy of each state, the replay).
 * One reader was the bottleneck of a restore from snapshots once the
 * caller's memory was faulted in on another thread (srv_registry_prefault):
 * two shared the machine's second core, and three served a 1M-series
 * crash restart sooner than two in 4 of 4 interleaved pairs on the shared
 * 2-core machine at load 14-20 (0.93x,
 * bench/results/restart11-readers3.md), but that run, like a second at
 * load 6-11 (3 of 4), had two readers first in every pair; with the order
 * alternated, three served no sooner (2 of 4 pairs, 0.98x, load 11-13,
 * bench/results/crash15.md), on 0.94x the CPU of two. The walk waits on
 * the readers, which get a larger share of a loaded machine as three, and
 * one that waits on a page read leaves the core to the others (not told
 * apart; not measured on an idle machine). Order and content are exactly
 * those of a single-threaded walk: a series is read whole by one reader, in
 * one transaction; the readers' transactions may begin at slightly
 * different commits, which only a commit during recovery could tell apart,
 * and each series' view is consistent on its own (nothing the recovery
 * reads spans two series). Each reader's lead over the callbacks is bounded by
 * its blocks (NBLOCKS x BLOCK_BYTES, plus any one record larger than a block).
 */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io/le.h"
#include "io/store_int.h"

#define NBLOCKS	    4
#define BLOCK_BYTES (1u << 20)
#define READERS	    3
/* Series per segment: a few hundred snapshots (~2 MB) so that both readers
 * are busy while the callbacks run on one segment, and few enough
 * segments that their seeks do not count. */
#define SEG_SERIES 256
/* The recovery connections read the database file through a mapping
 * (SQLite caps it, 2 GiB in Debian's build): a snapshot's pages are then
 * read where they lie in the page cache instead of one pread copy per
 * 4 KiB page, which was a third of the reader thread's time. Pages still
 * in the WAL (after a crash) and past the cap are read as before. Unmapped
 * when recovery ends. */
#define MMAP_BYTES "2147418112"

enum { R_SERIES = 1, R_SAMPLES = 2, R_SEGEND = 3 };

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
	size_t known; /* mode KNOWN: index in rec.known */
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

struct rec;

/* One reader thread: its connection, and its blocks. */
typedef struct reader {
	struct rec *r;
	int k;
	sqlite3 *db;
	sqlite3_stmt *walk, *snap, *after, *last_ck, *last_fc, *voids;
	/* With known states: the segment's snapshots (series_id, seen) and
	 * chunks (series_id, seq0, n, data) in id order, each on its next
	 * row when *_row. */
	sqlite3_stmt *snaps, *chunks;
	int snap_row, chunk_row;
	int64_t sid; /* the series being streamed */
	size_t kpos; /* known[] below it: ids lower than this reader's next */
	/* The log in windows of series ids, in this reader's transaction:
	 * log holds those of the window below win_hi, sorted (win_all: the
	 * last window, every id). */
	store__lscan ls;
	store__logv log;
	int64_t win_hi;
	int win, win_all;

	/* Under r->mu. Ready blocks are a FIFO of indices; a block is
	 * either free, the reader's current one, ready, or the
	 * consumer's. */
	block blk[NBLOCKS];
	int ready[NBLOCKS], nready, ready_head;
	int freel[NBLOCKS], nfree;
	int cur; /* reader's block, -1 = none */
	int done;
	int rc; /* reader's result, valid when done */
	pthread_t th;
	int started;
} reader;

typedef struct rec {
	uint64_t model_hash;
	double window;
	const store_known *known; /* the caller's, ids ascending */
	size_t nknown;
	/* Segment s < nseg holds the ids from lo + s * width to the next
	 * one's less one, the last up to hi; reader s % READERS walks it. */
	int64_t lo, hi, width, nseg;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int abort;
	reader rd[READERS];
} rec;

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- reader side ---- */

/* Hands the current block to the consumer. Caller holds mu. */
static void publish_locked(reader *d)
{
	if (d->cur >= 0 && d->blk[d->cur].len) {
		d->ready[(d->ready_head + d->nready) % NBLOCKS] = d->cur;
		d->nready++;
		pthread_cond_broadcast(&d->r->cv);
	} else if (d->cur >= 0) {
		d->freel[d->nfree++] = d->cur;
	}
	d->cur = -1;
}

/* Room for need bytes in the reader's block; NULL when the consumer aborted
 * or memory ran out (*rc says which). */
static unsigned char *reserve(reader *d, size_t need, int *rc)
{
	rec *r = d->r;
	block *b;

	if (d->cur >= 0) {
		b = &d->blk[d->cur];
		if (b->cap - b->len >= need) {
			unsigned char *p = b->p + b->len;
			b->len += need;
			return p;
		}
	}
	pthread_mutex_lock(&r->mu);
	publish_locked(d);
	while (!d->nfree && !r->abort)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->abort) {
		pthread_mutex_unlock(&r->mu);
		*rc = STORE_EABORT;
		return NULL;
	}
	d->cur = d->freel[--d->nfree];
	pthread_mutex_unlock(&r->mu);
	b = &d->blk[d->cur];
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

static int put_samples(reader *d, int64_t sid, const store_sample *sm, size_t n)
{
	size_t size = sizeof(rsamples) + n * sizeof(store_sample);
	int rc = 0;
	unsigned char *p = reserve(d, size, &rc);
	rsamples h;

	if (!p)
		return rc;
	h.h.type = R_SAMPLES;
	h.h.size = (uint32_t)size;
	h.sid = sid;
	h.n = n;
	memcpy(p, &h, sizeof h);
	memcpy(p + sizeof h, sm, n * sizeof(store_sample));
	return 0;
}

/* The record that closes a segment: the consumer turns to the next
 * reader. */
static int put_segend(reader *d)
{
	int rc = 0;
	unsigned char *p = reserve(d, sizeof(rhdr), &rc);
	rhdr h = {R_SEGEND, sizeof(rhdr)};

	if (!p)
		return rc;
	memcpy(p, &h, sizeof h);
	return 0;
}

static int put_merged(void *ud, const store_sample *sm, size_t n)
{
	reader *d = ud;

	return put_samples(d, d->sid, sm, n);
}

/* The window of the log that holds sid's samples (the walk's ids only
 * grow). Each reader reads the whole log so, in its own transaction: its
 * view of the log and of the chunks is the same commit's (the writer may
 * commit while recovery runs: retention, compaction). It keeps only its
 * own segments' samples: their decode is all it shares with the other
 * readers' work, and the sort and the lookups are a third as large. */
static int log_window(reader *d, int64_t sid)
{
	store__lscan *l = &d->ls;
	int64_t total;
	long k;
	int rc;

	while (!d->win_all && (!d->win || sid >= d->win_hi)) {
		if (!d->win) {
			if ((rc = store__lscan_init(l, d->db, d->voids)) < 0)
				return rc;
			/* Of each window only this reader's segments: it
			 * never looks up the others' series. */
			if (d->r->nseg > 1)
				store__lscan_stripe(l, d->r->lo, d->r->width,
						    READERS, d->k);
			d->win = 1;
		} else {
			store__lscan_next(l);
		}
		d->log.n = 0;
		if ((rc = store__lscan_range(l, store__log_window, 1, &total)) <
		    0)
			return rc;
		if (total == 0) {
			d->win_all = 1;
			break;
		}
		if ((rc = store__lscan_read(l, total)) < 0)
			return rc;
		if ((k = store__log_sort_in(l->a, l->na, &l->sort)) < 0)
			return (int)k;
		d->log.a = l->a;
		d->log.n = (size_t)k;
		d->win_hi = l->hi;
		d->win_all = l->to_end;
	}
	return 0;
}

/* The series' samples with seq > after and t >= t0, chunks (one seek) +
 * log, as records. */
static int stream(reader *d, int64_t sid, int64_t after, double t0)
{
	store__range rg = {after, t0, INFINITY, 0};
	size_t nlog, first;
	int rc;

	if ((rc = log_window(d, sid)) < 0)
		return rc;
	first = store__logv_find(&d->log, sid, &nlog);
	d->sid = sid;
	sqlite3_bind_int64(d->after, 1, sid);
	sqlite3_bind_int64(d->after, 2, after + 1);
	return store__merge(d->after, nlog ? d->log.a + first : NULL, nlog, &rg,
			    put_merged, d, NULL);
}

/* A scan's next row: 0 (*row = 1 on a row, 0 at the end) or an error. */
static int scan_step(sqlite3_stmt *q, int *row)
{
	int rc = sqlite3_step(q);

	*row = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

/* Moves an id-ordered scan past the rows of ids below id. */
static int scan_to(sqlite3_stmt *q, int *row, int64_t id)
{
	int rc = 0;

	while (rc == 0 && *row && sqlite3_column_int64(q, 0) < id)
		rc = scan_step(q, row);
	return rc;
}

/* A known series' samples with seq > after, as records: its rows of the
 * chunk scan (which scan_to has brought to its first, if any), merged
 * with its log samples. Leaves the scan past its rows (or where an error
 * stopped it). */
static int stream_known(reader *d, int64_t sid, int64_t after)
{
	store__range rg = {after, -INFINITY, INFINITY, 0};
	store__merger *m = NULL;
	const sb_sample *log;
	size_t nlog, first;
	int rc, e = 0;

	if ((rc = log_window(d, sid)) < 0)
		return rc;
	first = store__logv_find(&d->log, sid, &nlog);
	log = nlog ? d->log.a + first : NULL;
	d->sid = sid;
	while (!e && d->chunk_row &&
	       sqlite3_column_int64(d->chunks, 0) == sid) {
		sqlite3_stmt *q = d->chunks;
		int64_t seq0 = sqlite3_column_int64(q, 1);
		int64_t n = sqlite3_column_int64(q, 2);
		/* Chunks hold disjoint seq ranges: one that ends at or
		 * before the record holds nothing to replay. */
		if (n > 0 && seq0 + n - 1 <= after) {
			e = scan_step(q, &d->chunk_row);
			continue;
		}
		if (!m &&
		    !(m = store__merge_begin(log, nlog, &rg, put_merged, d)))
			return STORE_ENOMEM;
		e = store__merge_chunk(m, seq0, n, sqlite3_column_blob(q, 3),
				       sqlite3_column_bytes(q, 3));
		if (!e)
			e = scan_step(q, &d->chunk_row);
	}
	if (!m && e)
		return e;
	if (!m && !nlog)
		return 0;
	if (!m && !(m = store__merge_begin(log, nlog, &rg, put_merged, d)))
		return STORE_ENOMEM;
	return store__merge_end(m, e, NULL);
}

/* The t of the series' last sample (highest seq); 1 when it has none. */
static int last_t(reader *d, int64_t sid, double *t)
{
	size_t nlog, first;
	int64_t seq = 0;
	int rc;

	if ((rc = log_window(d, sid)) < 0)
		return rc;
	first = store__logv_find(&d->log, sid, &nlog);

	sqlite3_bind_int64(d->last_ck, 1, sid);
	rc = sqlite3_step(d->last_ck);
	if (rc == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(d->last_ck, 1);
		if (n < 1 || sqlite3_column_bytes(d->last_ck, 2) !=
				 n * STORE_CHUNK_REC) {
			sqlite3_reset(d->last_ck);
			return STORE_ECORRUPT;
		}
		seq = sqlite3_column_int64(d->last_ck, 0) + n - 1;
		*t = io__getd(
		    (const unsigned char *)sqlite3_column_blob(d->last_ck, 2) +
		    (n - 1) * STORE_CHUNK_REC);
	}
	sqlite3_reset(d->last_ck);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store__map_rc(rc);
	/* A log sample past the chunks is newer (an equal seq: the chunk's
	 * copy counts). */
	if (nlog && d->log.a[first + nlog - 1].seq > seq) {
		*t = d->log.a[first + nlog - 1].t;
		seq = d->log.a[first + nlog - 1].seq;
	}
	return seq > 0 ? 0 : 1;
}

static int rebuild(reader *d, int64_t sid, double window)
{
	double last = 0;
	int rc = last_t(d, sid, &last);

	if (rc)
		return rc < 0 ? rc : 0; /* no samples at all */
	return stream(d, sid, 0, last - window);
}

/* Origin of the series' latest stored forecast (-INFINITY: none): one seek
 * to the end of its key range, in the walk's id order like the others. */
static int last_forecast(reader *d, int64_t sid, double *t)
{
	int rc;

	sqlite3_bind_int64(d->last_fc, 1, sid);
	rc = sqlite3_step(d->last_fc);
	*t = rc == SQLITE_ROW &&
		     sqlite3_column_type(d->last_fc, 0) != SQLITE_NULL
		 ? sqlite3_column_double(d->last_fc, 0)
		 : -INFINITY;
	sqlite3_reset(d->last_fc);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

static int put_series(reader *d, rseries *h, const char *name, const char *tags)
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
	p = reserve(d, align8(size), &rc);
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

/* The seq after which the caller holds the state of series id (a
 * checkpoint's record; *at its index in known), or -1 when it does not.
 * A reader's ids only grow (its segments in order, each in id order), so
 * its cursor d->kpos only moves forward: one pass over known per reader,
 * in memory order (the other reader's segments are stepped over, a few
 * hundred entries each), where a binary search per series was 20 probes. */
static int64_t known_seq(reader *d, int64_t id, size_t *at)
{
	const rec *r = d->r;
	size_t i = d->kpos;

	while (i < r->nknown && r->known[i].id < id)
		i++;
	d->kpos = i;
	if (i < r->nknown && r->known[i].id == id) {
		*at = i;
		return (int64_t)r->known[i].seq;
	}
	return -1;
}

/* The series' snapshot blob, decoded into h (mode SNAPSHOT or REBUILD).
 * Without known states the walk's 7th column is the blob itself; with
 * them it is `seen`, and the blob comes from d->snap (reset by the
 * caller once the payload is copied). */
static int read_snapshot(reader *d, rseries *h)
{
	const void *blob;
	size_t len;
	int rc;

	if (!d->r->nknown) {
		blob = sqlite3_column_blob(d->walk, 6);
		len = (size_t)sqlite3_column_bytes(d->walk, 6);
	} else {
		sqlite3_bind_int64(d->snap, 1, h->id);
		rc = sqlite3_step(d->snap);
		if (rc == SQLITE_DONE) {
			h->mode = STORE_RESTORE_FULL;
			return 0;
		}
		if (rc != SQLITE_ROW)
			return store__map_rc(rc);
		blob = sqlite3_column_blob(d->snap, 0);
		len = (size_t)sqlite3_column_bytes(d->snap, 0);
	}
	h->serr = io_snap_decode(blob, len, &h->snap);
	h->mode = !h->serr && h->snap.model_hash == d->r->model_hash
		      ? STORE_RESTORE_SNAPSHOT
		      : STORE_RESTORE_REBUILD;
	return 0;
}

/* The series of one segment (the walk's ids bound to [lo, hi)). With
 * known states (a checkpoint's records) the segment's snapshots' `seen`
 * and its chunks are read by two more id-ordered scans beside the
 * series' (d->snaps, d->chunks: a merge by id, where a B-tree seek into
 * each table per series was most of a checkpoint restart's walk at 1M
 * series); a snapshot's blob (~6.4 KB, mostly on an overflow page) is
 * read by a second statement only when it is used, so a series the
 * caller holds costs no snapshot read, and its samples after the record
 * come from the chunk scan's rows. */
static int walk(reader *d)
{
	rseries h;
	const char *name, *tags;
	int64_t ks, seen = 0;
	int rc, has_snap;

	memset(&h, 0, sizeof h);
	while ((rc = sqlite3_step(d->walk)) == SQLITE_ROW) {
		h.id = sqlite3_column_int64(d->walk, 0);
		name = (const char *)sqlite3_column_text(d->walk, 1);
		tags = (const char *)sqlite3_column_text(d->walk, 2);
		name = name ? name : "";
		tags = tags ? tags : "";
		h.name_len = (uint32_t)strlen(name);
		h.tags_len = (uint32_t)strlen(tags);
		h.step_s = sqlite3_column_double(d->walk, 3);
		h.period = sqlite3_column_int(d->walk, 4);
		h.created = sqlite3_column_double(d->walk, 5);
		if (d->r->nknown) {
			if ((rc = scan_to(d->snaps, &d->snap_row, h.id)) < 0 ||
			    (rc = scan_to(d->chunks, &d->chunk_row, h.id)) < 0)
				break;
			has_snap = d->snap_row &&
				   sqlite3_column_int64(d->snaps, 0) == h.id;
			seen = has_snap ? sqlite3_column_int64(d->snaps, 1) : 0;
		} else {
			has_snap =
			    sqlite3_column_type(d->walk, 6) != SQLITE_NULL;
		}
		h.known = 0;
		ks = d->r->nknown ? known_seq(d, h.id, &h.known) : -1;
		h.serr = 0;
		h.mode = STORE_RESTORE_FULL;
		if (ks >= 0 && (!has_snap || seen <= ks)) {
			/* The caller's state is the newest. */
			h.mode = STORE_RESTORE_KNOWN;
			h.forecast_t = NAN;
		} else {
			if ((rc = last_forecast(d, h.id, &h.forecast_t)) < 0)
				break;
			if (has_snap && (rc = read_snapshot(d, &h)) < 0)
				break;
			if (ks >= 0 && h.mode != STORE_RESTORE_SNAPSHOT) {
				/* A newer snapshot, but unusable: the caller's
				 * state is still the best there is. */
				h.mode = STORE_RESTORE_KNOWN;
				h.serr = 0;
			}
		}
		rc = put_series(d, &h, name, tags);
		sqlite3_reset(d->snap);
		if (rc != 0)
			break;
		if (h.mode == STORE_RESTORE_REBUILD) {
			rc = rebuild(d, h.id, d->r->window);
		} else if (h.mode == STORE_RESTORE_KNOWN) {
			rc = stream_known(d, h.id, ks);
		} else {
			rc = stream(d, h.id,
				    h.mode == STORE_RESTORE_SNAPSHOT
					? (int64_t)h.snap.seen
					: 0,
				    -INFINITY);
		}
		if (rc < 0)
			break;
	}
	sqlite3_reset(d->walk);
	sqlite3_reset(d->snap);
	if (rc < 0)
		return rc;
	return rc == SQLITE_DONE ? 0 : store__map_rc(rc);
}

static void *reader_main(void *arg)
{
	reader *d = arg;
	rec *r = d->r;
	int64_t s;
	int rc = 0;

	for (s = d->k; s < r->nseg && rc == 0; s += READERS) {
		int64_t lo = r->lo + s * r->width;
		int64_t hi = s == r->nseg - 1 ? r->hi : lo + r->width - 1;
		sqlite3_bind_int64(d->walk, 1, lo);
		sqlite3_bind_int64(d->walk, 2, hi);
		if (r->nknown) {
			sqlite3_bind_int64(d->snaps, 1, lo);
			sqlite3_bind_int64(d->snaps, 2, hi);
			sqlite3_bind_int64(d->chunks, 1, lo);
			sqlite3_bind_int64(d->chunks, 2, hi);
			if ((rc = scan_step(d->snaps, &d->snap_row)) == 0)
				rc = scan_step(d->chunks, &d->chunk_row);
		}
		if (rc == 0 && (rc = walk(d)) == 0)
			rc = put_segend(d);
		if (r->nknown) {
			sqlite3_reset(d->snaps);
			sqlite3_reset(d->chunks);
		}
	}
	pthread_mutex_lock(&r->mu);
	publish_locked(d);
	d->done = 1;
	d->rc = rc;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- consumer side (the caller's thread) ---- */

/* Runs the callbacks of one block's records from *off, up to the end of
 * the block or past a segment's close (*segend = 1). */
static int consume(const block *b, size_t *off, int *segend,
		   const store_recover_cb *cb, store_recover_stats *st,
		   uint64_t total, uint64_t step, uint64_t *next)
{
	*segend = 0;
	while (*off < b->len && !*segend) {
		rhdr h;
		memcpy(&h, b->p + *off, sizeof h);
		if (h.type == R_SEGEND) {
			*segend = 1;
		} else if (h.type == R_SERIES) {
			rseries s;
			store_series_info si;
			const char *strs =
			    (const char *)b->p + *off + sizeof(rseries);
			memcpy(&s, b->p + *off, sizeof s);
			si.id = s.id;
			si.name = strs;
			si.tags = strs + s.name_len + 1;
			si.step_s = s.step_s;
			si.period = s.period;
			si.created = s.created;
			si.forecast_t = s.forecast_t;
			si.known = s.mode == STORE_RESTORE_KNOWN ? s.known : 0;
			if (s.mode == STORE_RESTORE_SNAPSHOT)
				s.snap.payload = b->p + *off +
						 align8(sizeof s + s.name_len +
							1 + s.tags_len + 1);
			if (s.serr)
				st->corrupt++;
			st->series++;
			st->max_series_id = si.id;
			if (s.mode == STORE_RESTORE_KNOWN)
				st->known++;
			else if (s.mode == STORE_RESTORE_REBUILD)
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
			memcpy(&s, b->p + *off, sizeof s);
			st->samples_replayed += s.n;
			/* Records are 8-aligned and store_sample is 8-byte
			 * fields only: the array is usable in place. */
			if (cb->samples(
				cb->ud, s.sid,
				(const store_sample *)(const void *)(b->p +
								     *off +
								     sizeof s),
				(size_t)s.n))
				return STORE_EABORT;
		}
		*off += h.size;
	}
	return 0;
}

/* The segments in order: reader k's blocks until its segment closes, then
 * the next reader's. Ends when the reader whose turn it is has finished
 * and handed over everything (no segment is left), or on an error. */
static int consume_all(rec *r, const store_recover_cb *cb,
		       store_recover_stats *st, uint64_t total)
{
	uint64_t step = total / 100 ? total / 100 : 1, next = step;
	int blk[READERS], k = 0, rc = 0, segend, i;
	size_t off[READERS] = {0};

	for (i = 0; i < READERS; i++)
		blk[i] = -1;
	for (;;) {
		reader *d = &r->rd[k];
		if (blk[k] < 0) {
			pthread_mutex_lock(&r->mu);
			while (!d->nready && !d->done)
				pthread_cond_wait(&r->cv, &r->mu);
			if (!d->nready) {
				pthread_mutex_unlock(&r->mu);
				break; /* done and drained */
			}
			blk[k] = d->ready[d->ready_head];
			d->ready_head = (d->ready_head + 1) % NBLOCKS;
			d->nready--;
			pthread_mutex_unlock(&r->mu);
			off[k] = 0;
		}
		rc = consume(&d->blk[blk[k]], &off[k], &segend, cb, st, total,
			     step, &next);
		if (rc)
			break;
		if (off[k] == d->blk[blk[k]].len) {
			pthread_mutex_lock(&r->mu);
			d->freel[d->nfree++] = blk[k];
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			blk[k] = -1;
		}
		if (segend)
			k = (k + 1) % READERS;
	}
	if (rc == 0 && cb->progress && st->series + step != next)
		cb->progress(cb->ud, st->series, total); /* not yet told */
	return rc;
}

static int prepare(reader *d)
{
	int fc_layout = STORE_FC_V7;

	if (sqlite3_prepare_v2(
		d->db,
		d->r->nknown
		    ? "SELECT id,name,tags,step_s,period,created FROM series "
		      "WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
		    : "SELECT s.id,s.name,s.tags,s.step_s,s.period,s.created,"
		      "n.state FROM series s LEFT JOIN snapshots n "
		      "ON n.series_id=s.id WHERE s.id BETWEEN ?1 AND ?2 "
		      "ORDER BY s.id",
		-1, &d->walk, NULL) != SQLITE_OK ||
	    /* The chunks from the one holding seq ?2 on. */
	    sqlite3_prepare_v2(
		d->db,
		"SELECT seq0,n,data FROM sample_chunks WHERE series_id=?1 "
		"AND seq0>=(SELECT coalesce(max(seq0),0) FROM sample_chunks "
		"WHERE series_id=?1 AND seq0<=?2) ORDER BY seq0",
		-1, &d->after, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
			       "SELECT state FROM snapshots WHERE series_id=?1",
			       -1, &d->snap, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db,
			       "SELECT seq0,n,data FROM sample_chunks WHERE "
			       "series_id=?1 ORDER BY seq0 DESC LIMIT 1",
			       -1, &d->last_ck, NULL) != SQLITE_OK ||
	    /* In the reader's transaction (open_reader): the layout and
	     * the statement hold for the snapshot it reads, although the
	     * writer may end a move of version 6's forecasts meanwhile
	     * (io/store_fc.c). */
	    store__fc_layout(d->db, &fc_layout) < 0 ||
	    sqlite3_prepare_v2(d->db, store__fc_last_sql(fc_layout), -1,
			       &d->last_fc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->db, STORE_SQL_VOIDS_IN, -1, &d->voids,
			       NULL) != SQLITE_OK ||
	    (d->r->nknown &&
	     (sqlite3_prepare_v2(d->db,
				 "SELECT series_id,seen FROM snapshots WHERE "
				 "series_id BETWEEN ?1 AND ?2 ORDER BY "
				 "series_id",
				 -1, &d->snaps, NULL) != SQLITE_OK ||
	      sqlite3_prepare_v2(d->db,
				 "SELECT series_id,seq0,n,data FROM "
				 "sample_chunks WHERE series_id BETWEEN ?1 AND "
				 "?2 ORDER BY series_id,seq0",
				 -1, &d->chunks, NULL) != SQLITE_OK))) {
		/* A generic error here is a missing table: no schema yet. */
		int rc = store__map_rc(sqlite3_errcode(d->db));
		return rc == STORE_ESQL ? STORE_ESCHEMA : rc;
	}
	return 0;
}

/* A reader's connection in its read transaction. The connection passes
 * between threads but is never used by two at once: this one until the
 * reader starts and after it is joined. 32 MiB of page cache each: the
 * interior pages of samples and snapshots stay cached across a million
 * per-series seeks (the default 2 MiB reads them again, a pread each).
 * Freed when recovery ends. */
static int open_reader(rec *r, reader *d, int k, const char *path)
{
	int rc;

	d->r = r;
	d->k = k;
	d->cur = -1;
	for (d->nfree = 0; d->nfree < NBLOCKS; d->nfree++)
		d->freel[d->nfree] = d->nfree;
	if ((rc = store__open_db(path, 0, NULL, &d->db)) == 0 &&
	    (rc = store__exec(d->db, "PRAGMA cache_size=-32768")) == 0 &&
	    (rc = store__exec(d->db, "PRAGMA mmap_size=" MMAP_BYTES)) == 0 &&
	    (rc = store__exec(d->db, "BEGIN")) == 0)
		rc = prepare(d);
	return rc;
}

static void close_reader(reader *d)
{
	int i;

	if (d->db)
		sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(d->walk);
	sqlite3_finalize(d->snap);
	sqlite3_finalize(d->after);
	sqlite3_finalize(d->last_ck);
	sqlite3_finalize(d->last_fc);
	sqlite3_finalize(d->snaps);
	sqlite3_finalize(d->chunks);
	store__lscan_release(&d->ls);
	sqlite3_finalize(d->voids);
	sqlite3_close(d->db);
	for (i = 0; i < NBLOCKS; i++)
		free(d->blk[i].p);
}

/* The segments: [min id, max id] cut into about count / SEG_SERIES ranges
 * of equal width (ids are dense in practice; sparse ones give uneven
 * segments, never more of them). The count is the progress' total.
 * Three subqueries, not one `SELECT min(id),max(id),count(*)`: SQLite
 * answers a lone min() or max() by one seek and a lone count(*) from the
 * b-tree's pages, but the three together scan the (name, tags) index row
 * by row: 0.56-0.70 s at 1M series against 0.02 s, on the loop thread
 * before the readers start (bench/results/restart11-count.md). */
static int plan(rec *r, sqlite3 *db, uint64_t *total)
{
	sqlite3_stmt *q;
	int64_t n = 0, want;
	int rc;

	r->lo = 0;
	r->hi = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT min(id) FROM series),"
			       "(SELECT max(id) FROM series),"
			       "(SELECT count(*) FROM series)",
			       -1, &q, NULL) != SQLITE_OK)
		return store__map_rc(sqlite3_errcode(db));
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		r->lo = sqlite3_column_int64(q, 0);
		r->hi = sqlite3_column_int64(q, 1);
		n = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return store__map_rc(rc);
	*total = (uint64_t)n;
	r->width = 1;
	r->nseg = 0;
	if (n == 0)
		return 0;
	if (r->lo < 0) {
		/* Never written by the daemon (ids count from 1); hi - lo
		 * could overflow: one segment. */
		r->nseg = 1;
		return 0;
	}
	want = (n + SEG_SERIES - 1) / SEG_SERIES;
	r->width = (r->hi - r->lo) / want + 1;
	r->nseg = (r->hi - r->lo) / r->width + 1;
	return 0;
}

int store_recover(const char *path, uint64_t model_hash,
		  double rebuild_window_s, const store_recover_cb *cb,
		  store_recover_stats *st)
{
	store_recover_stats dummy;
	uint64_t total = 0;
	rec *r;
	int rc = 0, i;

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
	r->known = cb->known;
	r->nknown = cb->known ? cb->nknown : 0;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	for (i = 0; i < READERS && rc == 0; i++)
		rc = open_reader(r, &r->rd[i], i, path);
	if (rc == 0)
		rc = plan(r, r->rd[0].db, &total);
	if (rc == 0 && cb->progress)
		cb->progress(cb->ud, 0, total); /* lets the caller size up */
	for (i = 0; i < READERS && rc == 0; i++) {
		if (pthread_create(&r->rd[i].th, NULL, reader_main,
				   &r->rd[i]) != 0)
			rc = STORE_ENOMEM;
		else
			r->rd[i].started = 1;
	}
	if (rc == 0)
		rc = consume_all(r, cb, st, total);
	/* Readers still walking (an error, or an abort) stop at their next
	 * block. */
	pthread_mutex_lock(&r->mu);
	r->abort = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < READERS; i++) {
		if (r->rd[i].started) {
			pthread_join(r->rd[i].th, NULL);
			if (rc == 0 && r->rd[i].rc)
				rc = r->rd[i].rc;
		}
		close_reader(&r->rd[i]);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	/* What the readers held (each one's 32 MiB page cache, its blocks
	 * and log windows) was allocated in their threads' arenas: freed,
	 * it stays in the daemon's RSS for good, since nothing allocates
	 * there again once the threads are gone. Handed back now. */
	malloc_trim(0);
	return rc;
}
