/*
 * io/store_int.h: internals shared by the store's files (store.c: open,
 * submit, completions; store_writer.c: the writer thread; store_batch.c;
 * store_schema.c: connections and migrations; store_read.c, store_recover.c).
 * Not a public header: only io/ and tests/io/ include it.
 */
#ifndef STATECAST_IO_STORE_INT_H
#define STATECAST_IO_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "io/store.h"
#include "io/wake.h"

/* Rows of a batch, in flat arrays; strings and floats live in pools so that
 * a batch is a handful of allocations whatever its size. */
typedef struct sb_series {
	int64_t id;
	double step_s, created;
	int period;
	size_t name_off, tags_off; /* into cpool */
} sb_series;

typedef struct sb_sample {
	int64_t sid, seq;
	double t, v;
} sb_sample;

typedef struct sb_forecast {
	int64_t sid;
	double t;
	int H, Q;
	/* 1: mean[H] is the middle quantile's row (Q odd), stored as an empty
	 * blob and not held in fpool (io/store_batch.c). */
	int mean_mid;
	size_t off; /* fpool: levels[Q], q[Q * H] quantile-major, mean[H] */
} sb_forecast;

typedef struct sb_snapshot {
	int64_t sid;
	uint64_t hash, seen;
	double t;
	uint32_t n;
	size_t off;	/* fpool: state[n] */
	size_t mid_off; /* cpool: model id */
} sb_snapshot;

struct store_batch {
	sb_series *ser;
	size_t nser, cser;
	sb_sample *smp;
	size_t nsmp, csmp;
	sb_forecast *fc;
	size_t nfc, cfc;
	sb_snapshot *snap;
	size_t nsnap, csnap;
	uint64_t ckpt_gen; /* store_batch_checkpoint(), 0 = none */
	int64_t *drop;
	size_t ndrop, cdrop;
	float *fpool;
	size_t nf, cf;
	char *cpool;
	size_t nc, cc;

	/* Set at submit and by the writer. */
	unsigned flags;
	store_done_cb cb;
	void *ud;
	uint64_t submit_ns, begin_ns, end_ns, tx_rows;
	size_t qbytes; /* store_batch_bytes() at submit, in queued_bytes */
	int status;
	struct store_batch *next;
};

/* Rows per multi-row INSERT (store_stmts.ins_fcs): one statement step for
 * this many rows instead of one per row. */
#define STORE_FORECASTS_PER_INSERT 16
/* The same for series declarations (store_stmts.ins_sers). */
#define STORE_SERIES_PER_INSERT 16

/* The sample log and the chunks (store_log.c, store_compact.c; the model is
 * in store.h). A sample_log blob is n records of STORE_LOG_REC bytes:
 * series_id, seq (int64), t, value (float64), little-endian. A
 * sample_chunks blob is n records of STORE_CHUNK_REC bytes: t, value; the
 * k-th has seq seq0 + k. NaN is one quiet NaN in both. */
#define STORE_LOG_REC	32
#define STORE_CHUNK_REC 16
#define STORE_CHUNK_MAX 4096 /* samples per chunk at most (64 KiB) */
/* Compaction starts once the log holds STORE_LOG_PER_SERIES samples per
 * series (by the largest id seen), at least STORE_LOG_MIN, at most
 * store_opts.log_max_samples. A round writes one chunk per series into the
 * leaf that holds the series' last chunk, and once a series' history
 * fills leaves of its own that leaf is full: the insert rebalances it with
 * a sibling: 1.8-3.3 pages of 16 KiB per series a round at 32-128
 * samples, far less than in proportion. So the samples a series moves per
 * round divide that cost: 128 instead of 32 cut sample_chunks' WAL bytes a
 * compacted sample 0.46x at 2k series x 8000 samples, for a log up to 4x
 * as long for readers to merge (2x at 100k series: the row bound below;
 * bench/results/chunk16.md). */
#define STORE_LOG_PER_SERIES 128
#define STORE_LOG_MIN	     65536
/* ... or once it has this many rows (the index a history read scans, and
 * one row a commit it opens: kept when the samples per series went up,
 * since a read's cost grows with the log's rows: at 100k series 25k rows
 * (12.7M samples) took 3-6x the 8k rows' (4M) per read (the larger file
 * past the reader's mmap, the smaller inside it). It binds before
 * 128 samples a series from about 65k series on: ~80 at 100k, where the
 * 4M cap gave 40.) */
#define STORE_LOG_MAX_ROWS 16384
/* Samples per sample_log row at most (16 KiB): a history read opens the
 * rows whose id range holds its series and binary-searches each. */
#define STORE_LOG_PIECE	  512
#define STORE_MERGE_CHUNK 512 /* samples per store__merge callback */
#define STORE_STR_(x)	  #x
#define STORE_STR(x)	  STORE_STR_(x)

/* Decoded log, sorted by (sid, seq), one copy per seq (the first
 * written); maxid = the last log row read (0: none). */
typedef struct store__logv {
	sb_sample *a;
	size_t n, cap;
	int64_t maxid;
} store__logv;

/* What a merge hands on: seq > after, t0 <= t < t1, at most limit (0 = no
 * limit) samples. */
typedef struct store__range {
	int64_t after;
	double t0, t1;
	size_t limit;
} store__range;

/*
 * The log walked by ranges of series ids (store_logscan.c), in memory
 * bounded by the range: the rows of the log when the scan began, in id
 * order, and how far each is walked ([0, pos) done; next = the series id
 * of record pos). A range is [lo, hi) (to_end: every id from lo); it takes
 * [pos, end) of each row, whose next is then nnext.
 */
typedef struct store__lrow {
	int64_t id, n, smax, pos, next, end, nnext;
} store__lrow;

/* Scratch of store__log_sort_in, kept for the next sort (zero-initialised;
 * store__sortbuf_release). A log window's sort (512k samples: a 16 MB
 * buffer) freshly allocated each time was faulted in and zeroed each time:
 * 5% of a recovery reader's CPU (bench/results/crash9-profile.md). */
typedef struct store__sortbuf {
	sb_sample *tmp;
	size_t ntmp;
	size_t *pos;
	size_t npos;
} store__sortbuf;

typedef struct store__lscan {
	sqlite3 *db;
	sqlite3_stmt *voids; /* the marks of ids [?1, ?2], ordered; NULL */
	sqlite3_blob *bh;
	store__lrow *r; /* rows not walked through yet */
	size_t n;
	int64_t maxid;	/* the last row's id when the scan began, 0: none */
	int64_t lo, hi; /* the range */
	int to_end;
	sb_sample *a;	     /* its samples (store__lscan_read), rows in id */
	size_t na, cap;	     /* order, less the dropped series' ones */
	store__sortbuf sort; /* for sorting a, window after window */
	/* With stripe_mod > 0 (store__lscan_stripe) a range keeps only the
	 * samples of ids in runs k, k + mod, k + 2 mod... of width ids from
	 * base: a recovery reader's own segments (store_recover.c). */
	int64_t stripe_base, stripe_width;
	int stripe_mod, stripe_k;
} store__lscan;

/* The marks of the dropped series with ids in [?1, ?2], in id order (for
 * store__lscan_init's voids). */
#define STORE_SQL_VOIDS_IN                                             \
	"SELECT series_id, upto FROM sample_log_void WHERE series_id " \
	"BETWEEN ?1 AND ?2 ORDER BY series_id"

/* A forecast statement's series ?1 by schema 7's index on (series_id>>6,
 * t, series_id): SQLite uses an index on an expression only where a
 * statement has the same expression, so this must stay migration 7's
 * verbatim (io/store_schema.c). The unary + keeps a SELECT's constant
 * propagation from rewriting series_id>>6 into ?1>>6 (which no index
 * has: a scan of the whole index); tests/io/test_store_fc.c checks the
 * plans. */
#define STORE_FC_KEY "series_id>>6=?1>>6 AND +series_id=?1"

/* Prepared statements of the write connection. */
typedef struct store_stmts {
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *ins_series, *ins_sers, *ins_log, *ins_fc, *ins_fcs;
	sqlite3_stmt *ups_snap, *ups_ckpt;
	sqlite3_stmt *drop[4]; /* chunks, forecasts, snapshots, series */
	sqlite3_stmt *ins_void, *void_del, *log_tmin;
	sqlite3_stmt *ck_end, *ck_ins;
	sqlite3_stmt *log_del1, *void_range;
	sqlite3_stmt *ret_list, *ret_seen, *ret_ck_scan, *ret_ck_del,
	    *ret_fc_scan, *ret_fc_del, *ret_fc_head, *ret_fc_hdel;
	/* While version 6's forecasts are being moved (store_fc.c; NULL
	 * otherwise): the move's step (its last rowid, copy, delete), and
	 * the old table's rows of a dropped series and retention's scan
	 * and delete there, as drop[1] and ret_fc_* in the new one. */
	sqlite3_stmt *mv_upto, *mv_ins, *mv_del;
	sqlite3_stmt *old_drop, *old_ret_scan, *old_ret_del;
} store_stmts;

struct store {
	store_opts o;
	char *path;
	uv_loop_t *loop;
	/* The writer's wake-up of the loop (io/wake.h: not a uv_async_t). */
	io_wake done;
	sqlite3 *db; /* writer thread only, after open */
	store_stmts st;
	int64_t next_id;
	uint64_t dump_gen; /* meta row taken by store_open, 0 = none */
	uint64_t ckpt_gen; /* the checkpoint's meta row at open, 0 = none */

	pthread_t th;
	pthread_mutex_t mu;
	/* The writer's wake-ups (store__wake_writer, store__writer_wait): a
	 * count it sleeps on with a futex, without mu, in place of a
	 * condition variable, whose wake-up takes mu back at the sleeper's
	 * SCHED_IDLE (store.c); w_asleep: it is in that sleep or about to
	 * be, so that a wake-up without a sleeper makes no system call. */
	_Atomic uint32_t wake_seq;
	_Atomic int w_asleep;
	/* Under mu. wake_rows: in the group-commit window, the queued rows
	 * at which the writer is to be woken (commit_rows less its retry
	 * queue); 0 elsewhere: every submit wakes it. */
	store_batch *in_head, *in_tail;
	size_t in_rows, in_acks, wake_rows;
	/* Batches submitted / finished (committed, failed or dropped), and
	 * store_flush() callers waiting on done_cv. */
	uint64_t nsubmitted, nfinished;
	int flushers;
	pthread_cond_t done_cv;
	store_batch *done_head, *done_tail;
	int stopping;
	int64_t want_bytes; /* store_set_max_bytes */
	int pages_dirty;
	store_stats stats;
	/* The starvation guard (store.c): bytes of batches submitted and
	 * not yet finished; the writer's thread id; 1 when the writer runs
	 * at SCHED_IDLE with a working guard; 1 while raised to batch.
	 * queued_bytes changes under mu but is read without it
	 * (store_queued_bytes, from the loop thread at every submit and
	 * completion): a SCHED_IDLE writer preempted while it holds mu would
	 * stall each of those reads. */
	_Atomic size_t queued_bytes;
	pid_t writer_tid;
	int guard;
	/* Written under mu, read without it by store__writer_idle. */
	_Atomic int raised;

	/* Writer thread only. w_ceiling: it holds mu at SCHED_BATCH and
	 * runs the rest at SCHED_IDLE (store__wlock); w_idle: it is at
	 * SCHED_IDLE now. */
	int w_ceiling, w_idle;
	store_batch *retry_head, *retry_tail;
	size_t retry_rows;
	unsigned char *enc;
	size_t enc_cap;
	float *tmp;
	size_t tmp_cap;
	uint64_t last_ckpt_ns, next_ret_ns;
	/* Frames in the WAL after the last commit (the writer's wal_hook;
	 * read by the checkpointer). */
	_Atomic int wal_frames;
	/* The WAL checkpointer (store_wal.c): its thread and connection, its
	 * state (STORE_WAL_*) and the counter it sleeps on, its thread id
	 * (0 when none; the guard raises it with the writer), whether it
	 * runs at SCHED_IDLE when not raised, its PASSIVE passes. */
	struct {
		pthread_t th;
		sqlite3 *db;
		_Atomic uint32_t state, seq;
		_Atomic pid_t tid;
		int idle;
		_Atomic uint64_t passes;
	} wal;
	int page_size;
	int64_t ret_cursor;
	uint64_t fail_count, episode_dropped, last_fail_ns;
	int episode_open;
	/* The transaction's samples (lbuf, ln records; lsort the sort's
	 * room); committed log samples and rows; the largest series id seen;
	 * the chunk encoder's buffer. */
	unsigned char *lbuf, *lsort;
	size_t ln, lcap, lsort_cap;
	size_t log_samples, log_rows, tx_logged, tx_rows;
	uint64_t log_since_ns; /* when the log last became non-empty */
	uint64_t compact_next_ns;
	int64_t max_sid;
	unsigned char *cbuf;
	size_t cbuf_cap;
	/* The compaction round in progress (store_compact.c): its scan of
	 * the log (cmp.maxid 0 = no round), when it began. */
	store__lscan cmp;
	uint64_t cmp_begin_ns;
	/* The background move of version 6's forecasts (store_fc.c):
	 * active while forecasts_v6 exists; its rowids [lo, hi] at open
	 * (progress), the last one moved, rows moved, when the next step
	 * may run, the last progress line, a failure already logged. */
	struct {
		int active, failing;
		int64_t lo, hi, upto, moved;
		uint64_t next_ns, log_ns;
	} mv;

	void (*closed)(void *ud);
	void *closed_ud;
};

uint64_t store__now_ns(void);
/* Writer, mu held: ends the guard's raise once the queue is down to
 * writer_lower_bytes (marked so); the writer's next store__writer_idle,
 * after releasing mu, goes back to SCHED_IDLE. */
void store__guard_lower(store *s);
/* Writer, mu not held: back to SCHED_IDLE unless the guard has it raised
 * (see store.c). */
void store__writer_idle(store *s);
/* Writer: takes mu, at SCHED_BATCH first when it is at SCHED_IDLE. */
void store__wlock(store *s);
/* Writer: releases mu, then back to SCHED_IDLE unless raised. */
void store__wunlock(store *s);
/* Writer, mu held: releases it, sleeps until a wake-up or ns
 * (CLOCK_MONOTONIC) at SCHED_IDLE unless raised, takes mu back. */
void store__writer_wait(store *s, uint64_t ns);
/* The WAL checkpointer (store_wal.c), writer thread only. start: its
 * connection and thread (a failure is logged and leaves the writer to
 * checkpoint alone); stop: joins it and closes its connection, before the
 * writer's last checkpoint. wal_due: given whether a checkpoint is due,
 * whether the writer's RESTART is to run now (a due one starts a round of
 * PASSIVE passes; the RESTART comes once it is done); wal_done: the
 * RESTART was run; wal_round: a round is in progress or its RESTART is
 * due (the round's end wakes the writer, without mu: a wake-up between
 * the writer's look and its sleep is missed, so it looks again soon). */
void store__wal_start(store *s);
void store__wal_stop(store *s);
/* The WAL's size (bytes) at which a checkpoint falls due: the bound
 * (checkpoint_bytes), or with the checkpointer the size its round begins
 * at, before the bound, so that the RESTART comes near it. */
int64_t store__wal_begin_bytes(store *s);
int store__wal_due(store *s, int due);
void store__wal_done(store *s);
int store__wal_round(store *s);
enum {
	STORE_WAL_OFF,
	STORE_WAL_IDLE,
	STORE_WAL_WANT,
	STORE_WAL_RUN,
	STORE_WAL_READY,
	STORE_WAL_STOP
};

/* Any thread, mu held: the writer's state changed, it is to look. */
void store__wake_writer(store *s);
double store__wall_s(void);
int store__map_rc(int rc);
void store__log(store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Connections and schema (store_schema.c). A reader's is query_only; the
 * writer's creates the file and sets the store's pragmas; the WAL
 * checkpointer's sets only the writer's synchronous (its checkpoints sync
 * as the writer's did). o NULL: the defaults. */
enum { STORE_DB_READ = 0, STORE_DB_WRITE = 1, STORE_DB_CKPT = 2 };
/* PRAGMA synchronous's value ("OFF", "NORMAL", "FULL") for STORE_SYNC_*. */
const char *store__sync_name(int sync);
int store__open_db(const char *path, int mode, const store_opts *o,
		   sqlite3 **out);
int store__schema_version(void);
/* Migrate db up to version target (<= store__schema_version()). */
int store__migrate(sqlite3 *db, int target);
int store__exec(sqlite3 *db, const char *sql);
/* Reads and deletes the state dump's meta row (store_dump.c); *gen 0 when
 * there was none or it could not be deleted. */
int store__take_dump_row(sqlite3 *db, int synchronous, uint64_t *gen);
/* The checkpoint's meta row (docs/STATE_DUMP.md), 0 when there is none. */
int store__read_ckpt_row(sqlite3 *db, uint64_t *gen);
/* The meta key of the checkpoint's generation, as SQL text. */
#define STORE_CKPT_KEY "'checkpoint'"

/* Writer thread (store_writer.c). */
void *store__writer_main(void *arg);
int store__prepare(store *s);
void store__finalize(store *s);
/* One retention transaction (store_retention.c): rows deleted or STORE_E*. */
int store__retention_step(store *s, int *more);

/* The log and chunks (store_log.c). */
void store__log_put(unsigned char *p, const sb_sample *r);
void store__log_get(const unsigned char *p, sb_sample *r);
void store__chunk_put(unsigned char *p, double t, double v);
/* Sorts n log records (STORE_LOG_REC bytes each) by series id, stably;
 * tmp holds as many. A log row is written so: a reader of one series finds
 * its records by binary search. */
void store__log_sort_rows(unsigned char *a, unsigned char *tmp, size_t n);
/* Sorts a by (sid, seq), stably, and keeps the first of equal keys: the
 * count kept, or STORE_ENOMEM. */
long store__log_sort(sb_sample *a, size_t n);
/* store__log_sort with b's scratch (grown as needed). */
long store__log_sort_in(sb_sample *a, size_t n, store__sortbuf *b);
void store__sortbuf_release(store__sortbuf *b);
/* The log samples of series sid only, less those the dropped series'
 * marks void (sample_log_void), sorted, reading just its records of each
 * row (a binary search through incremental blob I/O). Rows whose samples
 * are all older than t0 (their tmax) are skipped: samples with t < t0 may
 * be missing from out (-INFINITY: none skipped). */
int store__log_series(sqlite3 *db, int64_t sid, double t0, store__logv *out);
void store__logv_release(store__logv *l);
/* A dropped series' mark: its log samples in rows <= upto are void. */
typedef struct store__void {
	int64_t sid, upto;
} store__void;
/* The marks q returns (series_id, upto, in series id order), steps q to
 * its end and resets it; *out is the caller's to free. */
int store__voids_read(sqlite3_stmt *q, store__void **out, size_t *n);
/* 1 when sid's sample in log row `row` is void by the marks v[0..nv). */
int store__voided(const store__void *v, size_t nv, int64_t sid, int64_t row);
/* A log row open in bh (n records, sorted by series id): *sid = record
 * i's series id; *pos = the first record of [lo, hi) whose series id is
 * >= sid (hi when none). */
int store__blob_sid(sqlite3_blob *bh, int64_t i, int64_t *sid);
int store__blob_lower(sqlite3_blob *bh, int64_t lo, int64_t hi, int64_t sid,
		      int64_t *pos);
/* q: SELECT seq0+n-1 FROM sample_chunks WHERE series_id=?1 AND seq0<=?2
 * ORDER BY seq0 DESC LIMIT 1. *end = the last seq of sid's chunk that
 * starts at or below seq, 0 when none. */
int store__chunk_end(sqlite3_stmt *q, int64_t sid, int64_t seq, int64_t *end);
/* Drops from a[0..*n) (sid's log samples, sorted) those a chunk holds
 * (the chunk's copy is older); *last = the series' last chunked seq. */
int store__log_dedupe(sqlite3_stmt *end_q, int64_t sid, sb_sample *a, size_t *n,
		      int64_t *last);
/* Index of sid's first sample in l and (*n) how many. */
size_t store__logv_find(const store__logv *l, int64_t sid, size_t *n);
/*
 * One series' samples in seq order: q (bound, rows seq0, n, data of its
 * chunks in seq0 order; NULL = none) merged with log[0..nlog) (that
 * series', sorted), the chunk's copy winning a seq held twice; those in rg
 * go to cb in runs of at most STORE_MERGE_CHUNK. q is reset. *count (may
 * be NULL) = samples handed on. 0, STORE_EABORT (cb), STORE_E*.
 */
int store__merge(sqlite3_stmt *q, const sb_sample *log, size_t nlog,
		 const store__range *rg,
		 int (*cb)(void *ud, const store_sample *s, size_t n), void *ud,
		 size_t *count);
/* The same merge fed one chunk row at a time (a caller that reads the
 * chunks of many series in one ordered scan): begin (NULL: no memory),
 * each of the series' chunks in seq0 order (0, 1 = the limit is reached,
 * STORE_EABORT, STORE_ECORRUPT), then end with the last result, which
 * hands on the rest of the log and frees the merger (0 or an error). */
typedef struct store__merger store__merger;
store__merger *
store__merge_begin(const sb_sample *log, size_t nlog, const store__range *rg,
		   int (*cb)(void *ud, const store_sample *s, size_t n),
		   void *ud);
int store__merge_chunk(store__merger *m, int64_t seq0, int64_t n,
		       const void *data, int bytes);
int store__merge_end(store__merger *m, int e, size_t *count);

/* Compaction (store_compact.c), writer thread. */
/* One chunk of n encoded samples, seqs seq0.., in the caller's
 * transaction. */
int store__chunk_insert(store *s, int64_t sid, int64_t seq0,
			const unsigned char *data, size_t n);
/* Sorted samples a[0..n) into chunks, inside the caller's transaction. */
int store__chunks_write(store *s, sb_sample *a, size_t n);

/* The log scan (store_logscan.c, the struct above). The log's rows now,
 * in db's transaction (the caller's); voids as above
 * (its statement, on db) or NULL to keep the dropped series' samples. */
int store__lscan_init(store__lscan *l, sqlite3 *db, sqlite3_stmt *voids);
/*
 * The next range: from the smallest id left, about budget samples wide by
 * the density of what is left, halved while it holds more than 2 x
 * budget. One series holding more: with whole, all of it; else a run of
 * its rows, the oldest first, about budget (hi = lo + 1 then, and it is
 * not done). *total = the range's samples, 0 when the scan is over.
 */
int store__lscan_range(store__lscan *l, size_t budget, int whole,
		       int64_t *total);
/* The range's samples into l->a[0..na) (total from store__lscan_range:
 * at most that many, fewer with a stripe). */
int store__lscan_read(store__lscan *l, int64_t total);
/* From the next store__lscan_read on, the samples of ids below base, and
 * of runs of width ids from base whose index is not k modulo mod, are
 * left out (width >= 1, mod >= 1, 0 <= k < mod). */
void store__lscan_stripe(store__lscan *l, int64_t base, int64_t width, int mod,
			 int k);
/* The range is done: the rows move on, those emptied leave l->r. */
void store__lscan_next(store__lscan *l);
void store__lscan_release(store__lscan *l);
/* Log samples per window of a reader of the whole log (recovery's
 * readers, store_count): 32 bytes each, as much again while a window is
 * sorted [524288; tests set it small to walk many windows]. */
extern size_t store__log_window;

/*
 * Compaction runs in rounds of bounded steps (store_compact.c). A round
 * covers the log rows that exist when it starts (ids <= cmp_maxid) and
 * walks the series by id; each step is one transaction between ingest
 * commits that moves the round rows' samples of a range of series (at
 * most 2 x compact_step samples, or a run of rows of one series that has
 * more) into chunks and deletes the rows it has emptied. A sample moved
 * stays in its row until the row is emptied: every reader drops a log
 * copy of a seq a chunk holds, so reads see it once either way.
 */
/* Starts a round over the whole log: 1, or 0 when the log is empty. */
int store__compact_begin(store *s);
/* One step of the round: log samples moved, or STORE_E*. The round is
 * over when s->cmp_maxid is 0 again. */
long store__compact_step(store *s);
/* Drops the round's state (the rows stay as they are: a later round moves
 * what is left). */
void store__compact_end(store *s);
/* Log samples at which the writer compacts. */
size_t store__compact_threshold(const store *s);
/* At open: a schema-3 samples table into chunks, bounded transactions. */
int store__convert_legacy(store *s);
/* Version 6's forecasts (forecasts_v6) into schema 7's table in the
 * writer's idle time (io/store_fc.c). At open (after store__prepare):
 * drops an empty forecasts_v6, or prepares the move (s->mv.active). */
int store__fc_move_open(store *s);
/* One transaction of the move: 0 = more to move, 1 = done (the table is
 * dropped, s->mv.active 0), or STORE_E*. */
int store__fc_move_step(store *s);
/* The writer's idle-time hook (maintenance(), mu not held): a step when
 * its time has come, paced so that queued ingest keeps most of the
 * writer; its progress in the stats and the log. */
void store__fc_move_idle(store *s, uint64_t now);
/* When store__fc_move_idle next has work (UINT64_MAX: none). */
uint64_t store__fc_move_next(const store *s);
/* *yes = whether the database has a `type` ("table", "index") `name`. */
int store__schema_has(sqlite3 *db, const char *type, const char *name,
		      int *yes);
/* Which forecasts a reader's connection finds (io/store_fc.c): schema 7's,
 * version 6's still being moved over (forecasts_v6: read both), or a
 * database no writer of schema 7 has opened yet (keyed (series_id, t)). */
enum { STORE_FC_V7, STORE_FC_MOVING, STORE_FC_OLD };
int store__fc_layout(sqlite3 *db, int *layout);
/* A reader's statements on forecasts for that layout: the rows of series
 * ?1 with t in [?2, ?3) in t order, the latest t of series ?1 (one row,
 * NULL: none), and the count of all. While moving, a (series, t) in both
 * tables reads as the new table's row. A statement holds for the schema
 * it was derived in: a reader re-derives when the schema changes
 * (io/store_read.c), recovery derives in its read transaction. */
const char *store__fc_range_sql(int layout);
const char *store__fc_last_sql(int layout);
const char *store__fc_count_sql(int layout);
/* Rows a move step copies (tests set it; 0 holds the move). */
extern size_t store__fc_move_rows;

/* A sample value column: NULL (how SQLite stores NaN) reads as NaN. */
double store__column_value(sqlite3_stmt *st, int i);

void store__batch_release_all(store_batch *b);

#endif
