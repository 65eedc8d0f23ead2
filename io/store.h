/*
 * io/store.h: SQLite persistence of series, samples, forecasts and state
 * snapshots, and crash recovery from them.
 *
 * Threads. One writer thread owns the write connection. The loop thread
 * builds a store_batch, hands it over with store_submit() (ownership passes
 * to the store) and is told the outcome by the batch's completion callback,
 * which always runs on the loop thread (through one wake-up, io/wake.h,
 * that drains every finished batch; wake.h tells why not a uv_async_t).
 * Readers (store_reader, store_recover) open their own connections and may run
 * on any one thread each.
 *
 * Group commit. The writer applies batches in submission order inside one
 * BEGIN IMMEDIATE transaction and COMMITs when (a) the transaction holds
 * commit_rows rows, or (b) commit_ms have passed since the oldest batch in it
 * was submitted, or (c) a batch flagged STORE_ACK is in it and no further
 * batch is waiting (an acknowledged push does not wait for the window; under
 * concurrent load the queue refills while a COMMIT runs, so acks share
 * transactions anyway).
 *
 * Durability. A batch's callback reports status 0 only after the COMMIT that
 * holds all its rows returned SQLITE_OK. With synchronous=NORMAL (default) a
 * committed transaction survives a crash of the process (WAL content is in
 * the OS page cache); with synchronous=FULL it also survives power loss (the
 * WAL is fsynced at each COMMIT). A failed COMMIT is rolled back and every
 * batch in it reports failure (STORE_EFULL, STORE_EIO, ...), never 0.
 * Batches flagged STORE_RETRY (line ingest, which the sender cannot be told
 * about) are instead kept, in order, in a retry queue bounded by retry_rows
 * and tried again every retry_ms; when the bound is exceeded the oldest are
 * dropped and reported with STORE_EDROPPED (and counted). The writer logs
 * once when an error episode starts and once when writes succeed again.
 *
 * Data model and invariants.
 *  - Rows of one batch are applied in this order: series drops, series
 *    declarations, samples, forecasts, snapshots.
 *  - Series ids are assigned by the caller (store_next_series_id() after open
 *    gives the first free one); (name, tags) is unique.
 *  - A sample's seq is the series' 1-based sample counter, assigned by the
 *    caller in the order the samples were stepped. A snapshot's `seen` is the
 *    seq of the last sample folded into its state; recovery replays samples
 *    with seq > seen in seq order, which is what makes the restored state
 *    bit-for-bit equal to the uninterrupted one. Stored seqs may have gaps
 *    (a batch whose COMMIT failed); a sample whose seq is already stored is
 *    not stored again (the copy stored first is what every reader sees: the
 *    INSERT OR IGNORE of a row per sample).
 *  - Samples (schema 4, io/store_log.c): a transaction appends all its
 *    samples as one row of sample_log (32 bytes each: series_id, seq, t,
 *    value; sorted by series id within the row, so that a reader of one
 *    series finds its records by binary search), so a sample costs a few bytes
 * of an append, not a B-tree insert on a leaf of its own. Between ingest
 * transactions the writer compacts the log (store_compact.c) once it holds 128
 * samples per series (at least 65536, at most log_max_samples) or 16384 rows:
 * sorted by (series, seq) into sample_chunks rows (series_id, seq0, n, t0, t1,
 * data: runs of consecutive seqs, 16 bytes a sample), in a round of steps
 * (transactions of about compact_step samples of a range of series, between
 * ingest commits) that each delete the log rows they have emptied; a sample
 * moved from a row not yet emptied is read from its chunk (the first copy).
 * Every read of samples (store_history, store_recover,
 *    store_count, retention) merges a series' chunks with its log samples.
 *    A dropped series' log samples are void (sample_log_void) until
 *    compaction removes them.
 *  - Forecasts (schema 7): a rowid table, rows appended in commit order,
 *    with a unique index on (series_id>>6, t, series_id): a forecast
 *    replaces the one of the same series and origin (INSERT OR REPLACE);
 *    a commit's index entries of a group of 64 ids append together at
 *    the group's end, and a read of one series scans its group's entries
 *    in the time range (io/store_schema.c). Schema 4's WITHOUT ROWID table
 *    is copied into schema 5's at open; version 6's table is moved into
 *    schema 7's by store_open in transactions of 20000 rows
 *    (io/store_fc.c), read alongside it until then.
 *  - Snapshots are UPSERTed, one row per series, and never go backwards (a
 *    snapshot with a smaller seen than the stored one is ignored).
 *  - Retention deletes samples older than sample_retention_s (wall clock)
 *    but never one with seq > its series' snapshot seen (those are needed
 *    for replay), and forecasts older than forecast_retention_s; it runs in
 *    transactions of at most retention_batch rows between ingest commits
 *    (a forecast is a row; a chunk counts as a row and one more per page
 *    its samples fill, twice when trimmed): whole chunks, and the chunk
 *    where the old prefix ends is rewritten without it; log samples older
 *    than the cutoff are compacted first.
 *  - NaN values are stored as one quiet NaN and read back as NaN.
 *  - A database of schema 3 (a samples row per sample) is converted into
 *    chunks by store_open in transactions of 100k rows; readers of this
 *    version need schema 4 (open it with store_open once).
 *
 * Errors: 0 or a negative STORE_E* code; store_strerror() names each.
 */
#ifndef STATECAST_IO_STORE_H
#define STATECAST_IO_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "io/snapshot.h"

enum {
	STORE_OK = 0,
	STORE_EINVAL = -1,   /* bad argument or option out of bounds */
	STORE_ENOMEM = -2,   /* allocation failed */
	STORE_EFULL = -3,    /* disk or database size limit full */
	STORE_EIO = -4,	     /* I/O error from the OS */
	STORE_EBUSY = -5,    /* database locked by another process */
	STORE_ECORRUPT = -6, /* database file malformed */
	STORE_ESCHEMA = -7,  /* schema newer than this program, or bad */
	STORE_EDROPPED = -8, /* retry queue overflowed: rows discarded */
	STORE_ECLOSED = -9,  /* store is closing */
	STORE_ESQL = -10,    /* any other SQLite error */
	STORE_EOPEN = -11,   /* database file could not be opened */
	STORE_EABORT = -12,  /* a callback asked to stop */
};

const char *store_strerror(int err);

/* PRAGMA synchronous; same values as config's CFG_SYNC_*. OFF leaves syncing
 * to the OS entirely: a process crash is survived, power loss may corrupt. */
enum { STORE_SYNC_OFF = 0, STORE_SYNC_NORMAL = 1, STORE_SYNC_FULL = 2 };

/*
 * The writer thread's scheduling, set by the thread itself as it starts
 * (Linux: policy and nice are per thread; lowering needs no privilege).
 * IDLE: SCHED_IDLE, so the loop, the compute pool and the clients on the
 * same cores take the writer's core the moment they wake (a COMMIT is
 * milliseconds of CPU) and it runs on what they leave; if other programs
 * keep every core busy it gets next to nothing, its queue fills and the
 * daemon's backpressure (store.max_queue) holds the senders. BATCH:
 * SCHED_BATCH at nice +5, a smaller but fair share that waking threads
 * take only at the scheduler's next tick.
 * IDLE is guarded against starvation: once the bytes submitted and not yet
 * finished pass writer_raise_bytes, or while somebody waits for the writer
 * (a STORE_ACK batch queued, a store_flush, store_close), the thread that
 * made it so raises the writer to BATCH (a starved writer could not be
 * trusted to notice in time: at SCHED_IDLE on a busy core one COMMIT takes
 * seconds), and the writer goes back to IDLE once the bytes are at or
 * below writer_lower_bytes and nobody waits (after releasing its lock: a
 * thread entering SCHED_IDLE is preempted at once). Leaving
 * SCHED_IDLE unprivileged needs RLIMIT_NICE >= 20 - (the writer's nice), 15
 * for a daemon at nice 0 (the kernel treats SCHED_IDLE as nice 20): the
 * writer probes it as it starts and, refused, runs at BATCH and logs why.
 */
enum { STORE_PRIO_IDLE = 0, STORE_PRIO_BATCH = 1 };

/* The WAL's size at which it is checkpointed (the bulk by the WAL
 * checkpointer's thread, the rest by the writer: io/store_wal.c), and what
 * it keeps of the file after one: a commit past the bound and a quarter
 * more, so that ingest writes over the file rather than growing it again
 * (io/store_writer.c, maintenance). */
#define STORE_WAL_BYTES	  ((int64_t)256 << 20)
#define STORE_WAL_KEEP(b) ((b) + (b) / 4)

/* Options; store_opts_default() fills the defaults given in brackets. */
typedef struct store_opts {
	int synchronous;   /* STORE_SYNC_OFF, _NORMAL, _FULL [NORMAL] */
	int commit_ms;	   /* group-commit window, 1..60000 [100] */
	int commit_rows;   /* rows per transaction, >= 1 [10000] */
	int checkpoint_ms; /* wal_checkpoint(RESTART) period [30000] */
	/* ... or sooner once the WAL holds this many bytes (0 = by time
	 * only) [STORE_WAL_BYTES, 256 MiB; store.wal_size]. SQLite's own
	 * auto-checkpoint (every 4 MB of WAL, run inside COMMIT) is off: each
	 * checkpoint copies every page that changed since the last one, so
	 * spacing them out writes a page that ingest dirties over and over
	 * once per checkpoint, not once per commit. At steady state
	 * compaction rewrites every chunk leaf once a round and the forecast
	 * index's group ends change every commit: replayed from the same
	 * WAL frames, 1 GiB would copy 0.59x the bytes of 256 MiB, but the
	 * daemon's CPU did not show it (bench/results/wal15.md). */
	int64_t checkpoint_bytes;
	int busy_timeout_ms; /* [5000] */
	/* Bytes kept of the WAL after a checkpoint
	 * [STORE_WAL_KEEP(checkpoint_bytes), 320 MiB]. */
	int64_t journal_size_limit;
	size_t retry_rows;    /* bound of the retry queue [1000000] */
	int episode_quiet_ms; /* failure-free time that ends an error episode
				 (what the log reports) [5000] */
	int retry_ms;	      /* pause between failing attempts [250] */
	int writer_priority;  /* STORE_PRIO_IDLE or _BATCH [IDLE] */
	/* The IDLE writer's guard, bytes as store_batch_bytes() counts them:
	 * raised past raise, lowered at or below lower < raise [64 MiB,
	 * 16 MiB: a quarter and a sixteenth of store.max_queue's default]. */
	size_t writer_raise_bytes, writer_lower_bytes;
	double sample_retention_s;   /* 0 = keep forever [0] */
	double forecast_retention_s; /* 0 = keep forever [0] */
	int retention_batch;	     /* rows per transaction [2000] */
	int retention_ms;	     /* pause between retention steps [1000] */
	/* Writes past this many bytes of database file fail as on a full
	 * disk (PRAGMA max_page_count, in the file's own pages: at least
	 * one; 0 = unlimited) [0] */
	int64_t max_bytes;
	/* Bytes a page of a database this store creates: a power of two,
	 * 512..65536 [16384]. An existing database keeps the size it was
	 * created with (WAL mode cannot change it). 4 KiB pages cost the
	 * writer a system call and a page-cache folio per 4 KiB, twice (the
	 * WAL, then the checkpoint): 16 KiB took 0.87x the writer's CPU per
	 * sample at 100k series x 30 samples and 0.68x the store's at 2k
	 * series x 1500 (forecast index leaves of their own), copying
	 * 3.3x and 1.5x the bytes through pwrite but dirtying 1.0x and
	 * 1.14x of the page cache, what reaches the disk
	 * (bench/results/store10-split.md). */
	int page_size;
	/* Compaction moves the sample log into chunks once it holds 128
	 * samples per series, at least 65536 and at most this [8388608]
	 * (the log's bound, 256 MiB: what a recovery reads of it, in
	 * windows of series ids), or 16384 rows (what a history read looks
	 * into; rows hold at most 512 samples, so it binds first above
	 * 8M). Each round rewrites ~2-3 chunk leaves per series of a
	 * long history, far from in proportion to what it moves
	 * (io/store_int.h): fewer samples a series a round cost the writer
	 * more (bench/results/chunk16.md). */
	size_t log_max_samples;
	/* Log samples one compaction step moves, about (at most twice
	 * this, or one log row of a series holding more: one transaction
	 * between ingest commits, it bounds the writer's pause and the
	 * step's memory, 32 bytes a sample) [131072] */
	size_t compact_step;
	/* Log sink, called from the writer thread; NULL = stderr. */
	void (*log)(void *ud, const char *msg);
	void *log_ud;
} store_opts;

void store_opts_default(store_opts *o);

/* ---- batches (built on the loop thread) ---- */

typedef struct store_batch store_batch;

store_batch *store_batch_new(void);
/* Frees a batch that was never submitted. */
void store_batch_free(store_batch *b);
/*
 * Room for `samples` more store_batch_sample() rows and `forecasts` more
 * store_batch_forecast() rows of horizon H and Q quantiles, allocated now
 * in one step per array: a caller that knows a batch's size ahead spares
 * the arrays their growth by doubling (a realloc copy of everything
 * appended so far at each step) and the memory left over by it. Optional:
 * the appends grow the arrays anyway. 0, STORE_EINVAL, STORE_ENOMEM (the
 * batch's rows are unchanged and it is still usable).
 */
int store_batch_reserve(store_batch *b, size_t samples, size_t forecasts, int H,
			int Q);
/* Rows (samples + forecasts + snapshots + series) in the batch. */
size_t store_batch_rows(const store_batch *b);
/* Heap bytes the batch holds (its arrays and pools): what waits in memory
 * until the batch is committed. */
size_t store_batch_bytes(const store_batch *b);

/*
 * Declare a series, or update the step and period of a declared one (same
 * id). step_s 0 = not known yet (a series still learning its step). A second
 * id for a (name, tags) already stored is ignored: drop the old one first.
 * Strings are copied.
 */
int store_batch_series(store_batch *b, int64_t id, const char *name,
		       const char *tags, double step_s, int period,
		       double created);
/*
 * Delete a series with every sample, forecast and snapshot of it. Applied
 * before the batch's other rows, so one batch may drop a series and declare
 * its name again under a new id.
 */
int store_batch_drop_series(store_batch *b, int64_t id);
/* One sample; value NaN = missing. */
int store_batch_sample(store_batch *b, int64_t series_id, int64_t seq, double t,
		       double value);
/*
 * One forecast with origin t: q is [H * Q] horizon-major as ssm_forecast
 * writes it (stored quantile-major: Q arrays of H float32), mean [H],
 * levels [Q]. Replaces a stored forecast with the same (series, t). A mean
 * equal bit for bit to the middle quantile (Q odd) is stored as an empty
 * blob; store_forecasts gives it back whole either way.
 */
int store_batch_forecast(store_batch *b, int64_t series_id, double t, int H,
			 int Q, const float *levels, const float *q,
			 const float *mean);
/*
 * Name gen (!= 0, <= INT64_MAX) as the database's checkpoint
 * (docs/STATE_DUMP.md): `meta(key='checkpoint')` is set by the transaction
 * that holds this batch, after its other rows. Batches commit in
 * submission order, so every sample submitted before this batch is
 * committed with it or before it: the checkpoint's records never cover a
 * sample the database lacks, unless that sample's own batch failed.
 */
int store_batch_checkpoint(store_batch *b, uint64_t gen);
/* The state block (copied now, encoded by the writer). */
int store_batch_snapshot(store_batch *b, int64_t series_id,
			 const char *model_id, uint64_t model_hash, double t,
			 uint64_t seen, const float *state, uint32_t nfloats);

/* ---- the store (writer thread + completions) ---- */

typedef struct store store;

/* What a completion callback is told about its batch. */
typedef struct store_result {
	int status;	      /* 0 = committed, else STORE_E* */
	size_t rows;	      /* rows in the batch */
	uint64_t queued_ns;   /* submit -> BEGIN of its transaction */
	uint64_t total_ns;    /* submit -> COMMIT returned */
	uint64_t commit_rows; /* rows in the transaction that held it */
} store_result;

typedef void (*store_done_cb)(void *ud, const store_result *r);

enum {
	STORE_ACK = 1,	 /* a client waits: commit without waiting for more */
	STORE_RETRY = 2, /* keep and retry on failure (line ingest) */
};

/*
 * Open (creating and migrating as needed) the database at path and start the
 * writer. loop is the loop whose thread gets the completions. o may be NULL
 * (defaults). On error *out is NULL and the return says why.
 */
int store_open(store **out, uv_loop_t *loop, const char *path,
	       const store_opts *o);

/*
 * The state dump (docs/STATE_DUMP.md). store_open takes the generation that
 * the last clean stop recorded (store_mark_dump) and deletes its record in
 * a durable transaction of its own before the writer starts, so that record
 * exists only until the first start after that stop: a dump with this
 * generation holds the states of exactly what the database holds; 0 = no
 * usable dump.
 */
uint64_t store_dump_generation(const store *s);
/*
 * After store_close, once the dump with generation gen (!= 0) is fsynced:
 * record it as the database's valid dump, in the database's last
 * transaction (synchronous=FULL, own connection).
 */
int store_mark_dump(const char *path, uint64_t gen);

/*
 * The checkpoint the database names (store_batch_checkpoint), read by
 * store_open; 0 = none. Unlike the dump's, the row stays: the checkpoint
 * holds for every later start until a newer one replaces it, because the
 * samples after each of its records are kept (store_recover's KNOWN mode).
 */
uint64_t store_checkpoint_generation(const store *s);

/* First series id not used in the database (valid right after open). */
int64_t store_next_series_id(const store *s);

/*
 * Hand a batch to the writer (loop thread). The store owns b from now on,
 * also on error (then cb is not called). cb may be NULL. flags: STORE_ACK,
 * STORE_RETRY.
 */
int store_submit(store *s, store_batch *b, unsigned flags, store_done_cb cb,
		 void *ud);

/*
 * Bytes of the batches submitted and not yet finished, store_batch_bytes()
 * of each at its submit. A batch leaves the count when the writer is done
 * with it (committed, or failed for good; one kept for retry stays in it),
 * before its completion callback runs. The one count behind the writer's
 * guard (writer_raise_bytes) and the daemon's store.max_queue. Any thread;
 * a lock-free read.
 */
size_t store_queued_bytes(store *s);

/*
 * Read-your-writes for the loop thread: commit what is queued now (no
 * group-commit wait) and block until every batch submitted so far has
 * finished, for at most timeout_ms. Returns 0, STORE_EBUSY on timeout, or
 * the store's error while writes are failing (then it does not wait).
 * Completions still arrive through the loop as usual.
 */
int store_flush(store *s, int timeout_ms);

/*
 * Change max_bytes (store_opts) at run time (0 = no limit beyond SQLite's
 * own). Applied by the writer before its next transaction.
 */
void store_set_max_bytes(store *s, int64_t bytes);

typedef struct store_stats {
	uint64_t commits, commit_failures;
	uint64_t rows_committed, batches_committed, batches_failed;
	uint64_t rows_dropped; /* discarded from the retry queue */
	uint64_t retry_rows;   /* rows waiting in the retry queue now */
	uint64_t queued_rows;  /* rows submitted, not yet committed */
	uint64_t retention_deleted;
	uint64_t checkpoints;
	/* The WAL checkpointer's PASSIVE checkpoints (io/store_wal.c): a
	 * round of up to 4 before each of the writer's RESTARTs. */
	uint64_t wal_passes;
	/* The log's compaction into chunks (store_compact.c): rounds
	 * finished, steps (transactions) run, log samples moved (duplicates
	 * and dropped series' ones included), the steps' time in all and the
	 * longest one (the writer's longest pause for it, ns); 1 while a
	 * round is in progress. */
	uint64_t compactions, compact_steps, compacted;
	uint64_t compact_ns, compact_step_max_ns;
	int compacting;
	/* Version 6's forecasts moved to schema 7 after open (an upgrade,
	 * io/store_fc.c): 1 while the move runs, rows moved since open, at
	 * most how many are left (from the old table's rowids). */
	int fc_moving;
	uint64_t fc_moved;
	uint64_t fc_move_left;
	int in_error; /* 1 while writes are failing */
	/* The writer's scheduling now: "idle", "batch" (also while the
	 * guard holds an idle writer raised), or "normal" when lowering was
	 * refused (a seccomp filter); "" before the
	 * thread has started. Static storage. */
	const char *writer_sched;
	uint64_t writer_raised; /* times the guard raised idle to batch (a
				   long queue or a wait, see above) */
	int last_error;		/* STORE_E* of the last failure */
} store_stats;

void store_get_stats(store *s, store_stats *st);

/*
 * Stop: commit everything queued (retrying failing writes no longer than
 * one retry_ms pause, the rest is reported STORE_EDROPPED / the error),
 * checkpoint, join the writer, deliver every completion, then close the
 * wake-up's handle. closed(ud) runs from the loop once the handle is closed,
 * after which s is freed; the caller must run the loop until then.
 */
void store_close(store *s, void (*closed)(void *ud), void *ud);

/* ---- reading (own connection) ---- */

typedef struct store_series_info {
	int64_t id;
	const char *name;
	const char *tags;
	double step_s;
	int period;
	double created;
	/* Origin t of the series' latest stored forecast, -INFINITY when it
	 * has none. Read by store_recover only (one key seek per series), so
	 * a restart keeps store.forecast_every_s' spacing; NAN from
	 * store_list. */
	double forecast_t;
	/* store_recover, mode STORE_RESTORE_KNOWN: the series' index in
	 * store_recover_cb.known (the walk has found it there already, so
	 * the caller need not search again); 0 otherwise. */
	size_t known;
} store_series_info;

typedef struct store_sample {
	int64_t seq;
	double t;
	double value; /* NaN = missing */
} store_sample;

typedef struct store_reader store_reader;

int store_reader_open(store_reader **out, const char *path);
void store_reader_free(store_reader *r);
/* Every series in id order; cb returns non-zero to stop (-> STORE_EABORT). */
int store_list(store_reader *r,
	       int (*cb)(void *ud, const store_series_info *si), void *ud);
/* Find a series by name and tags; STORE_OK and *id, or 1 when absent. */
int store_find_series(store_reader *r, const char *name, const char *tags,
		      int64_t *id);
/*
 * Samples of one series with t0 <= t < t1 in seq order, at most limit (0 =
 * no limit), delivered in chunks. cb returns non-zero to stop.
 */
int store_history(store_reader *r, int64_t series_id, double t0, double t1,
		  size_t limit,
		  int (*cb)(void *ud, const store_sample *s, size_t n),
		  void *ud);
/* Count of rows in a table ("samples", "forecasts", ...); for tests/tools. */
int store_count(store_reader *r, const char *table, int64_t *n);
/* PRAGMA integrity_check: 0 when "ok", STORE_ECORRUPT otherwise. */
int store_integrity_check(store_reader *r);

/* One stored forecast, quantile-major as stored. */
typedef struct store_forecast_row {
	double t;
	int H, Q;
	const float *levels; /* [Q] */
	const float *q;	     /* [Q * H]: q[k * H + h] */
	const float *mean;   /* [H] */
} store_forecast_row;
int store_forecasts(store_reader *r, int64_t series_id, double t0, double t1,
		    int (*cb)(void *ud, const store_forecast_row *f), void *ud);

/* ---- recovery (own connection) ---- */

enum {
	STORE_RESTORE_SNAPSHOT = 0, /* state from snapshot, then replay after */
	STORE_RESTORE_FULL = 1,	    /* no snapshot: replay every sample */
	STORE_RESTORE_REBUILD = 2,  /* snapshot unusable (model changed or
				       corrupt): replay the window only */
	STORE_RESTORE_KNOWN = 3,    /* the caller holds the state at the
				       seq it named (store_known): replay
				       what follows it */
};

/* A series whose state the caller already holds, after sample seq (a
 * checkpoint's record, docs/STATE_DUMP.md). */
typedef struct store_known {
	int64_t id;
	uint64_t seq;
} store_known;

typedef struct store_recover_cb {
	/*
	 * One series, in id order. snap is the decoded snapshot when mode is
	 * STORE_RESTORE_SNAPSHOT (payload valid during the call only), else
	 * NULL; snap_err is the decode error of a corrupt one (0 otherwise).
	 * Non-zero return aborts recovery.
	 */
	int (*series)(void *ud, const store_series_info *si, int mode,
		      const io_snap *snap, int snap_err);
	/* Samples to replay for the series just announced, seq ascending. */
	int (*samples)(void *ud, int64_t series_id, const store_sample *s,
		       size_t n);
	/* Called once with done = 0 before the first series (total = the
	 * series stored, so the caller can size its tables), then about every
	 * 1% and at the end; may be NULL. */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *ud;
	/* nknown series, ids strictly ascending (may be NULL), whose state
	 * the caller holds: each is announced with mode STORE_RESTORE_KNOWN
	 * (snap NULL, si->forecast_t not read: NAN) and followed by its
	 * samples with seq > known seq, unless its snapshot in the database
	 * is newer (seen > known seq: then mode SNAPSHOT as usual, since
	 * retention may have deleted samples up to seen). Read by the
	 * reader threads during the call. */
	const store_known *known;
	size_t nknown;
} store_recover_cb;

typedef struct store_recover_stats {
	uint64_t series, from_snapshot, full_replay, rebuilt, corrupt;
	uint64_t known; /* mode STORE_RESTORE_KNOWN */
	uint64_t samples_replayed;
	int64_t max_series_id;
} store_recover_stats;

/*
 * Walk every series: its latest snapshot (used when its model_hash equals
 * model_hash) and the samples after it. When the snapshot is missing the
 * whole stored history is replayed (mode FULL; exact, because retention
 * keeps every sample of a series without snapshot). When it is unusable the
 * samples with t >= (last t - rebuild_window_s) are replayed (mode REBUILD).
 */
int store_recover(const char *path, uint64_t model_hash,
		  double rebuild_window_s, const store_recover_cb *cb,
		  store_recover_stats *st);

#endif
