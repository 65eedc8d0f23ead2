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

/* Rows per multi-row INSERT (store_stmts.ins_samples, ins_fcs): one
 * statement step for this many rows instead of one per row. */
#define STORE_SAMPLES_PER_INSERT   64
#define STORE_FORECASTS_PER_INSERT 16

/* Prepared statements of the write connection. */
typedef struct store_stmts {
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *ins_series, *ins_sample, *ins_samples, *ins_fc, *ins_fcs;
	sqlite3_stmt *ups_snap, *ups_ckpt;
	sqlite3_stmt *drop[4]; /* samples, forecasts, snapshots, series */
	sqlite3_stmt *ret_list, *ret_smp_scan, *ret_smp_del, *ret_fc_scan,
	    *ret_fc_del;
} store_stmts;

struct store {
	store_opts o;
	char *path;
	uv_loop_t *loop;
	uv_async_t async;
	sqlite3 *db; /* writer thread only, after open */
	store_stmts st;
	int64_t next_id;
	uint64_t dump_gen; /* meta row taken by store_open, 0 = none */
	uint64_t ckpt_gen; /* the checkpoint's meta row at open, 0 = none */

	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. */
	store_batch *in_head, *in_tail;
	size_t in_rows, in_acks;
	/* Batches submitted / finished (committed, failed or dropped), and
	 * store_flush() callers waiting on done_cv. */
	uint64_t nsubmitted, nfinished;
	int flushers;
	pthread_cond_t done_cv;
	store_batch *done_head, *done_tail;
	int stopping;
	int64_t want_pages;
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
	int guard, raised;

	/* Writer thread only. */
	store_batch *retry_head, *retry_tail;
	size_t retry_rows;
	unsigned char *enc;
	size_t enc_cap;
	float *tmp;
	size_t tmp_cap;
	uint64_t last_ckpt_ns, next_ret_ns;
	int wal_frames; /* frames in the WAL after the last commit */
	int page_size;
	int64_t ret_cursor;
	uint64_t fail_count, episode_dropped, last_fail_ns;
	int episode_open;

	void (*closed)(void *ud);
	void *closed_ud;
};

uint64_t store__now_ns(void);
/* Writer, mu held: back to SCHED_IDLE once the guard's raise is over. */
void store__guard_lower(store *s);
double store__wall_s(void);
int store__map_rc(int rc);
void store__log(store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Connections and schema (store_schema.c). */
int store__open_db(const char *path, int writer, const store_opts *o,
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

/* A sample value column: NULL (how SQLite stores NaN) reads as NaN. */
double store__column_value(sqlite3_stmt *st, int i);

void store__batch_release_all(store_batch *b);

#endif
