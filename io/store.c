/*
 * io/store.c: the store's life cycle and its loop-thread side: open (schema,
 * writer thread), submit (append to the FIFO), completions (one wake-up
 * drains every finished batch: its counter coalesces), close.
 *
 * The wake-up is an io_wake (io/wake.h tells why not a uv_async_t: the
 * writer runs at SCHED_IDLE, the case that made the loop spin most).
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "io/futex.h"
#include "io/store_int.h"

/* How much lower than the loop a BATCH writer runs (nice steps). */
#define WRITER_NICE 5

/* The probe's thread: can a thread at the writer's BATCH nice leave
 * SCHED_IDLE? Returns 0 or the errno of the refusal, as a pointer. */
static void *probe_start(void *arg)
{
	struct sched_param sp = {0};
	intptr_t err = 0;

	(void)arg;
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0 ||
	    sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		err = errno;
	return (void *)err;
}

/* 0 when the calling thread's policy and nice, given to a new thread,
 * can go to SCHED_IDLE and back (the guard's raise); else the errno. The
 * probe is a thread of its own: refused, it stays at SCHED_IDLE for good. */
static int probe_leave_idle(void)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, probe_start, NULL) != 0)
		return EAGAIN;
	pthread_join(t, &ret);
	return (int)(intptr_t)ret;
}

/*
 * Lowers the calling thread's priority as o->writer_priority says (see
 * store.h); returns what it runs under: "idle", "batch" or "normal". Nice
 * +5 comes first and stays: leaving SCHED_IDLE is checked against the
 * nice the thread has (can_nice(p, task_nice(p))), so +5 needs
 * RLIMIT_NICE >= 15 where nice 0 would need 20. *guard is 1 for "idle".
 */
static const char *writer_lower(store *s, int *err, int *guard)
{
	struct sched_param sp = {0};
	int nice, perr;

	*err = 0;
	*guard = 0;
	/* A seccomp filter refuses BATCH and IDLE alike. */
	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0) {
		*err = errno;
		return "normal";
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		setpriority(PRIO_PROCESS, 0, nice + WRITER_NICE);
	if (s->o.writer_priority != STORE_PRIO_IDLE)
		return "batch";
	if ((perr = probe_leave_idle()) != 0) {
		store__log(s,
			   "store.writer_priority idle needs RLIMIT_NICE >= %d "
			   "(LimitNICE= in the unit); using batch (%s)",
			   20 - getpriority(PRIO_PROCESS, 0), strerror(perr));
		return "batch";
	}
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		return "batch";
	*guard = 1;
	return "idle";
}

/* mu held: whether the idle writer is to run raised: its queue is past
 * bytes (starvation), or somebody waits for it: a push's client for its
 * COMMIT (in_acks), a flush, the close. At SCHED_IDLE next to programs
 * that keep every core busy, each of those waited tens of seconds at load
 * 15-20 (push replies past the clients' timeouts, a SIGTERM that did not
 * end the daemon within 30 s). */
static int guard_wanted(const store *s, size_t bytes)
{
	return s->queued_bytes > bytes || s->in_acks || s->flushers ||
	       s->stopping;
}

/* mu held: the guard's raise, from whichever thread makes it wanted
 * (store_submit on the loop thread, store_flush, store_close). raised is
 * set before the call, for store__writer_idle's check. */
static void guard_raise(store *s)
{
	struct sched_param sp = {0};
	pid_t t;

	if (!s->guard || s->raised || !guard_wanted(s, s->o.writer_raise_bytes))
		return;
	s->raised = 1;
	if (sched_setscheduler(s->writer_tid, SCHED_BATCH, &sp) != 0) {
		/* Probed at start; refused now (RLIMIT_NICE lowered from
		 * outside): the guard cannot work, say so once. */
		s->raised = 0;
		s->guard = 0;
		store__log(s, "raising the idle store writer was refused (%s)",
			   strerror(errno));
		return;
	}
	s->stats.writer_raised++;
	s->stats.writer_sched = "batch";
	/* Its WAL checkpointer with it (store_wal.c): a round that the
	 * machine's other programs starve keeps the WAL growing. */
	if ((t = atomic_load(&s->wal.tid)) > 0)
		sched_setscheduler(t, SCHED_BATCH, &sp);
}

void store__guard_lower(store *s)
{
	if (!s->raised || guard_wanted(s, s->o.writer_lower_bytes))
		return;
	s->raised = 0;
	s->stats.writer_sched = "idle";
}

/*
 * Back to SCHED_IDLE with mu released: a thread that enters SCHED_IDLE on a
 * busy core is preempted at once, and one that did so holding mu kept the
 * loop thread waiting for mu (every submit, every stats request) until the
 * machine's other programs left it some CPU: 10-20 s stalls of the loop
 * at load 15-20 (tests/integration/test_backpressure.py timed out in its
 * stats requests). A raise that came before the call (guard_raise sets
 * raised before its own call) is applied again.
 */
void store__writer_idle(store *s)
{
	struct sched_param sp = {0};

	if (!s->w_ceiling || s->w_idle || s->raised)
		return;
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
		/* Refused now (RLIMIT_NICE lowered from outside): the writer
		 * stays at batch for good; say so. */
		s->w_ceiling = 0;
		pthread_mutex_lock(&s->mu);
		if (!s->raised) {
			s->raised = 1;
			s->stats.writer_sched = "batch";
		}
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->w_idle = 1;
	if (s->raised && sched_setscheduler(0, SCHED_BATCH, &sp) == 0)
		s->w_idle = 0;
}

/*
 * The writer holds mu only at SCHED_BATCH (nice +5), never at SCHED_IDLE:
 * an idle writer preempted inside its few instructions under mu (a woken
 * loop or helper takes an idle thread's core at once) kept the loop
 * waiting in store_submit, every tick, until the machine's other programs
 * left the idle thread a core: a priority inversion, lat10's contended
 * sleeps of the loop (bench/results/lat10.md). So the writer leaves
 * SCHED_IDLE before it takes mu and goes back after releasing it
 * (store__wunlock), its COMMITs and housekeeping still at idle; and it
 * sleeps without mu (store__writer_wait, a futex on wake_seq) where a
 * condition variable would take mu back on waking, at the sleeper's
 * priority. Two sched_setscheduler calls a section, a few a commit.
 */
void store__wlock(store *s)
{
	struct sched_param sp = {0};

	if (s->w_idle) {
		if (sched_setscheduler(0, SCHED_BATCH, &sp) == 0)
			s->w_idle = 0;
		else
			s->w_ceiling = 0; /* refused now: as before lat11 */
	}
	pthread_mutex_lock(&s->mu);
}

void store__wunlock(store *s)
{
	pthread_mutex_unlock(&s->mu);
	store__writer_idle(s);
}

void store__writer_wait(store *s, uint64_t ns)
{
	struct timespec ts;
	uint32_t seq = atomic_load(&s->wake_seq);

	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	atomic_store(&s->w_asleep, 1);
	store__wunlock(s);
	/* Returns at once if a wake-up came since seq was read (under mu,
	 * after the state the writer saw). An absolute CLOCK_MONOTONIC
	 * deadline, as the condition variable had. */
	io_futex_wait(&s->wake_seq, seq, &ts);
	atomic_store(&s->w_asleep, 0);
	store__wlock(s);
}

void store__wake_writer(store *s)
{
	atomic_fetch_add(&s->wake_seq, 1);
	if (atomic_load(&s->w_asleep))
		io_futex_wake(&s->wake_seq, 1);
}

/*
 * The writer's thread start: background priority first. A COMMIT is
 * milliseconds of CPU; at normal priority the writer, waking from its
 * group-commit wait with little CPU used, preempted the loop thread on a
 * busy core and held it off for the whole commit (3-4 ms stalls of the
 * sample -> forecast path every commit_ms, bench/results/latency.md). At
 * SCHED_BATCH the loop still waited for the scheduler's tick (4 ms at
 * HZ=250) whenever it woke on the writer's core, the tail of
 * bench/results/latency3.md; SCHED_IDLE yields at once. The writer is
 * throughput-bound behind a queue that store.max_queue bounds, so it has
 * no latency to keep, but at SCHED_IDLE (weight 3 against 1024) next to
 * programs that keep every core busy it would get next to nothing and
 * store.max_queue would hold the senders as long as they run: the guard
 * (store.h) raises it to BATCH while its queue is long. Refused
 * (systemd's SystemCallFilter=~@resources without the exceptions
 * statecastd.service makes), it runs as the loop does and says so once.
 */
static void *writer_start(void *arg)
{
	store *s = arg;
	int err, guard;
	const char *how;

	how = writer_lower(s, &err, &guard);
	/* Named after the probe has come and gone: it would inherit it. */
	pthread_setname_np(pthread_self(), "store-writer");
	s->w_ceiling = s->w_idle = guard;
	store__wlock(s);
	s->writer_tid = (pid_t)syscall(SYS_gettid);
	s->guard = guard;
	s->stats.writer_sched = how;
	/* Batches submitted before the guard was armed. */
	guard_raise(s);
	store__wunlock(s);
	if (err)
		store__log(s,
			   "the store's writer runs at the loop's priority: "
			   "lowering it was refused (%s)",
			   strerror(err));
	return store__writer_main(s);
}

const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_EINVAL:
		return "invalid argument";
	case STORE_ENOMEM:
		return "out of memory";
	case STORE_EFULL:
		return "database or disk is full";
	case STORE_EIO:
		return "disk I/O error";
	case STORE_EBUSY:
		return "database is locked by another process";
	case STORE_ECORRUPT:
		return "database file is malformed";
	case STORE_ESCHEMA:
		return "database schema is newer than this program";
	case STORE_EDROPPED:
		return "write retry queue overflowed: rows dropped";
	case STORE_ECLOSED:
		return "store is closing";
	case STORE_ESQL:
		return "SQLite error";
	case STORE_EOPEN:
		return "cannot open database file";
	case STORE_EABORT:
		return "stopped by callback";
	}
	return "unknown store error";
}

void store_opts_default(store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->synchronous = STORE_SYNC_NORMAL;
	o->commit_ms = 100;
	o->commit_rows = 10000;
	o->checkpoint_ms = 30000;
	o->checkpoint_bytes = STORE_WAL_BYTES;
	o->busy_timeout_ms = 5000;
	/* The WAL a checkpoint leaves is kept up to checkpoint_bytes and a
	 * commit past it, so that ingest writes over it rather than growing
	 * a new file every checkpoint (io/store_writer.c, maintenance). */
	o->journal_size_limit = STORE_WAL_KEEP(STORE_WAL_BYTES);
	o->page_size = 16384;
	o->retry_rows = 1000000;
	o->retry_ms = 250;
	o->episode_quiet_ms = 5000;
	o->retention_batch = 2000;
	o->retention_ms = 1000;
	o->log_max_samples = (size_t)8 << 20;
	o->compact_step = (size_t)128 << 10;
	o->writer_raise_bytes = (size_t)64 << 20;
	o->writer_lower_bytes = (size_t)16 << 20;
}

static int opts_valid(const store_opts *o)
{
	return (o->synchronous == STORE_SYNC_OFF ||
		o->synchronous == STORE_SYNC_NORMAL ||
		o->synchronous == STORE_SYNC_FULL) &&
	       o->commit_ms >= 1 && o->commit_ms <= 60000 &&
	       o->commit_rows >= 1 && o->checkpoint_ms >= 1 &&
	       o->checkpoint_bytes >= 0 && o->busy_timeout_ms >= 0 &&
	       o->journal_size_limit >= -1 && o->retry_ms >= 1 &&
	       o->episode_quiet_ms >= 0 && o->sample_retention_s >= 0 &&
	       o->forecast_retention_s >= 0 && o->retention_batch >= 1 &&
	       o->retention_ms >= 1 && o->max_bytes >= 0 &&
	       o->page_size >= 512 && o->page_size <= 65536 &&
	       (o->page_size & (o->page_size - 1)) == 0 &&
	       o->log_max_samples >= 1 && o->compact_step >= 1 &&
	       o->writer_lower_bytes < o->writer_raise_bytes;
}

uint64_t store__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double store__wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int store__map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_FULL:
		return STORE_EFULL;
	case SQLITE_IOERR:
		return STORE_EIO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_ECORRUPT;
	case SQLITE_NOMEM:
		return STORE_ENOMEM;
	case SQLITE_CANTOPEN:
		return STORE_EOPEN;
	}
	return STORE_ESQL;
}

void store__log(store *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->o.log)
		s->o.log(s->o.log_ud, msg);
	else
		fprintf(stderr, "statecast store: %s\n", msg);
}

/* Every finished batch's callback, on the loop thread. */
static void drain_done(store *s)
{
	store_batch *b, *n;
	store_result r;

	pthread_mutex_lock(&s->mu);
	b = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->mu);
	for (; b; b = n) {
		n = b->next;
		if (b->cb) {
			r.status = b->status;
			r.rows = store_batch_rows(b);
			r.queued_ns = b->begin_ns > b->submit_ns
					  ? b->begin_ns - b->submit_ns
					  : 0;
			r.total_ns = b->end_ns > b->submit_ns
					 ? b->end_ns - b->submit_ns
					 : 0;
			r.commit_rows = b->tx_rows;
			b->cb(b->ud, &r);
		}
		store_batch_free(b);
	}
}

static void on_done(io_wake *w)
{
	drain_done(w->data);
}

/* One integer from sql (NULL reads 0), or -1. */
static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void store_free(store *s)
{
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->done_cv);
	free(s->path);
	free(s->enc);
	free(s->tmp);
	free(s->lbuf);
	free(s->lsort);
	free(s->cbuf);
	store__compact_end(s);
	free(s);
}

static void on_closed(io_wake *w)
{
	store *s = w->data;
	void (*cb)(void *) = s->closed;
	void *ud = s->closed_ud;

	store_free(s);
	if (cb)
		cb(ud);
}

int store_open(store **out, uv_loop_t *loop, const char *path,
	       const store_opts *o)
{
	store *s;
	pthread_condattr_t ca;
	int rc;
	int64_t maxid, logn, logr;

	*out = NULL;
	if (!loop || !path)
		return STORE_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return STORE_ENOMEM;
	if (o)
		s->o = *o;
	else
		store_opts_default(&s->o);
	if (!opts_valid(&s->o)) {
		free(s);
		return STORE_EINVAL;
	}
	s->path = strdup(path);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!s->path) {
		store_free(s);
		return STORE_ENOMEM;
	}
	if ((rc = store__open_db(path, 1, &s->o, &s->db)) < 0)
		goto fail;
	if ((rc = store__migrate(s->db, store__schema_version())) < 0)
		goto fail;
	if ((rc = store__take_dump_row(s->db, s->o.synchronous, &s->dump_gen)) <
	    0)
		goto fail;
	if ((rc = store__read_ckpt_row(s->db, &s->ckpt_gen)) < 0)
		goto fail;
	if ((maxid = scalar(s->db, "SELECT coalesce(max(id),0) FROM series")) <
		0 ||
	    (logn = scalar(s->db,
			   "SELECT coalesce(sum(n),0) FROM sample_log")) < 0 ||
	    (logr = scalar(s->db, "SELECT count(*) FROM sample_log")) < 0) {
		rc = STORE_ESQL;
		goto fail;
	}
	s->next_id = maxid + 1;
	s->max_sid = maxid;
	s->log_samples = (size_t)logn;
	s->log_rows = (size_t)logr;
	s->log_since_ns = store__now_ns();
	s->want_bytes = s->o.max_bytes;
	s->pages_dirty = s->o.max_bytes > 0;
	if ((rc = store__prepare(s)) < 0 ||
	    (rc = store__convert_legacy(s)) < 0 ||
	    (rc = store__fc_move_open(s)) < 0)
		goto fail;
	s->loop = loop;
	s->done.data = s;
	rc = io_wake_open(&s->done, loop, on_done);
	if (rc < 0 && s->done.fd < 0) { /* no handle to close */
		rc = STORE_ENOMEM;
		goto fail;
	}
	if (rc < 0 || pthread_create(&s->th, NULL, writer_start, s) != 0) {
		store__finalize(s);
		sqlite3_close(s->db);
		s->db = NULL;
		/* The loop frees s once the handle is closed. */
		io_wake_close(&s->done, on_closed);
		return STORE_ENOMEM;
	}
	*out = s;
	return 0;
fail:
	store__finalize(s);
	if (s->db)
		sqlite3_close(s->db);
	store_free(s);
	return rc;
}

int64_t store_next_series_id(const store *s)
{
	return s->next_id;
}

int store_submit(store *s, store_batch *b, unsigned flags, store_done_cb cb,
		 void *ud)
{
	size_t rows;
	int first;

	if (!s || !b)
		return STORE_EINVAL;
	rows = store_batch_rows(b);
	b->flags = flags;
	b->cb = cb;
	b->ud = ud;
	b->submit_ns = store__now_ns();
	b->next = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		store_batch_free(b);
		return STORE_ECLOSED;
	}
	first = !s->in_head;
	if (s->in_tail)
		s->in_tail->next = b;
	else
		s->in_head = b;
	s->in_tail = b;
	s->in_rows += rows;
	if (flags & STORE_ACK)
		s->in_acks++;
	s->stats.queued_rows += rows;
	b->qbytes = store_batch_bytes(b);
	s->queued_bytes += b->qbytes;
	guard_raise(s);
	s->nsubmitted++;
	/* In its group-commit window the writer waits for commit_rows, an
	 * acknowledged batch or the deadline: a wake-up per tick short of
	 * those only had it look and sleep again (at idle, a core's two
	 * context switches each). */
	if (first || (flags & STORE_ACK) || s->in_rows >= s->wake_rows)
		store__wake_writer(s);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

size_t store_queued_bytes(store *s)
{
	return atomic_load_explicit(&s->queued_bytes, memory_order_relaxed);
}

int store_flush(store *s, int timeout_ms)
{
	struct timespec ts;
	uint64_t target, end;
	int rc = 0;

	end = store__now_ns() + (uint64_t)timeout_ms * 1000000u;
	ts.tv_sec = (time_t)(end / 1000000000u);
	ts.tv_nsec = (long)(end % 1000000000u);
	pthread_mutex_lock(&s->mu);
	target = s->nsubmitted;
	s->flushers++;
	guard_raise(s);
	store__wake_writer(s);
	while (s->nfinished < target) {
		if (s->stats.in_error) {
			rc = s->stats.last_error;
			break;
		}
		if (pthread_cond_timedwait(&s->done_cv, &s->mu, &ts) ==
		    ETIMEDOUT) {
			rc = s->nfinished < target ? STORE_EBUSY : 0;
			break;
		}
	}
	s->flushers--;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void store_set_max_bytes(store *s, int64_t bytes)
{
	pthread_mutex_lock(&s->mu);
	s->want_bytes = bytes < 0 ? 0 : bytes;
	s->pages_dirty = 1;
	store__wake_writer(s);
	pthread_mutex_unlock(&s->mu);
}

void store_get_stats(store *s, store_stats *st)
{
	int p;

	pthread_mutex_lock(&s->mu);
	*st = s->stats;
	st->wal_passes = atomic_load(&s->wal.passes);
	/* The guard's writer lowers itself after releasing mu
	 * (store__writer_idle): its policy is read, not remembered, so that
	 * "idle" is said only once it is. */
	if (s->guard && (p = sched_getscheduler(s->writer_tid)) >= 0)
		st->writer_sched = p == SCHED_IDLE    ? "idle"
				   : p == SCHED_BATCH ? "batch"
						      : "normal";
	pthread_mutex_unlock(&s->mu);
}

void store_close(store *s, void (*closed)(void *ud), void *ud)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	guard_raise(s);
	store__wake_writer(s);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	drain_done(s); /* what the writer finished last */
	s->closed = closed;
	s->closed_ud = ud;
	io_wake_close(&s->done, on_closed);
}
