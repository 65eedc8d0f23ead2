/*
 * io/store_wal.c: the WAL checkpointer, a thread with its own connection
 * that copies the WAL into the database file while the writer commits.
 *
 * Why: the writer's wal_checkpoint(RESTART) copied every page changed
 * since the last one (up to store.wal_size of WAL, 256 MiB) and fsynced
 * the file between two commits, holding every queued row for it: the
 * longest stretch without a commit in a drain's tail was that checkpoint
 * (bench/results/ret17.md). A PASSIVE checkpoint from another connection
 * runs beside the writer's commits (it takes SQLite's checkpoint lock, not
 * the write lock), but it copies only the frames that were in the WAL when
 * it began, and the WAL starts over from its beginning only once every
 * frame has been copied. So a round is: PASSIVE passes here, each copying
 * what came since the last, until what is left is at most a sixteenth of
 * the bound (or STORE_WAL_PASSES passes), then the writer's RESTART copies
 * that rest and restarts the WAL as before (io/store_writer.c,
 * maintenance). A RESTART (and its journal_size_limit) stays the writer's:
 * the WAL's size stays bounded as before, only the bulk of the copy and
 * its fsync move off the commit path.
 *
 * Durability: the checkpointer's connection has the writer's synchronous
 * setting; a PASSIVE checkpoint syncs the WAL before it copies and the
 * database file after, as the writer's did. It moves committed pages only.
 *
 * Priority: the writer's. It runs at SCHED_IDLE while the writer does, and
 * at SCHED_BATCH while the writer's guard has it raised (store.c raises
 * this thread with the writer; it lowers itself before each pass).
 *
 * States (wal.state): OFF: no thread (it could not be started: the writer
 * checkpoints alone, as before); IDLE; WANT: the writer asked for a round;
 * RUN; READY: the round is done, the writer's RESTART is due; STOP. The
 * writer moves IDLE -> WANT, READY -> IDLE and any -> STOP; this thread
 * WANT -> RUN -> READY, each by compare-and-swap so that STOP sticks.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/futex.h"
#include "io/store_int.h"

/* Passes of a round at most: under a feed that fills the WAL faster than
 * a pass copies it the rest does not shrink, and the RESTART has to come
 * for the WAL to stay bounded. */
#define STORE_WAL_PASSES 4

/* While the writer's guard has not raised it, the thread runs at
 * SCHED_IDLE (if the writer does); the raise (store.c) may come between
 * the two calls, hence the second look. */
static void ck_lower(store *s)
{
	struct sched_param sp = {0};

	if (!s->wal.idle || atomic_load(&s->raised))
		return;
	if (sched_setscheduler(0, SCHED_IDLE, &sp) == 0 &&
	    atomic_load(&s->raised))
		sched_setscheduler(0, SCHED_BATCH, &sp);
}

static int ck_move(store *s, uint32_t from, uint32_t to)
{
	return atomic_compare_exchange_strong(&s->wal.state, &from, to);
}

/* One round: PASSIVE passes until the WAL's rest (the writer's frames
 * after the last commit, less those copied) is at most a sixteenth of the
 * bound, or the WAL has reached the size its file is kept at
 * (journal_size_limit's default, STORE_WAL_KEEP): past it, the RESTART
 * would truncate the file and the next commits grow it again. */
static void ck_round(store *s)
{
	int64_t bound = s->o.checkpoint_bytes > 0 ? s->o.checkpoint_bytes
						  : STORE_WAL_BYTES,
		tail = bound / 16, keep = STORE_WAL_KEEP(bound), frames;
	int i, nlog, nck, rc;

	for (i = 0; i < STORE_WAL_PASSES; i++) {
		ck_lower(s);
		nlog = nck = 0;
		rc = sqlite3_wal_checkpoint_v2(
		    s->wal.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nck);
		/* Busy or failing: the writer's RESTART will say why. */
		if (rc != SQLITE_OK || nck < 0)
			break;
		atomic_fetch_add(&s->wal.passes, 1);
		/* Less than nck frames after the last commit: the WAL has
		 * started over since (a pass that copied all of it lets the
		 * writer's next transaction restart it). */
		frames = atomic_load(&s->wal_frames);
		if ((frames - nck) * s->page_size <= tail ||
		    frames * s->page_size >= keep)
			break;
		if (atomic_load(&s->wal.state) != STORE_WAL_RUN)
			break;
	}
}

static void *ck_main(void *arg)
{
	store *s = arg;
	uint32_t seq;

	pthread_setname_np(pthread_self(), "store-wal");
	atomic_store(&s->wal.tid, (pid_t)syscall(SYS_gettid));
	for (;;) {
		seq = atomic_load(&s->wal.seq);
		if (atomic_load(&s->wal.state) == STORE_WAL_STOP)
			break;
		if (!ck_move(s, STORE_WAL_WANT, STORE_WAL_RUN)) {
			io_futex_wait(&s->wal.seq, seq, NULL);
			continue;
		}
		ck_round(s);
		if (ck_move(s, STORE_WAL_RUN, STORE_WAL_READY))
			store__wake_writer(s);
	}
	atomic_store(&s->wal.tid, 0);
	return NULL;
}

static void ck_kick(store *s)
{
	atomic_fetch_add(&s->wal.seq, 1);
	io_futex_wake(&s->wal.seq, 1);
}

void store__wal_start(store *s)
{
	int rc;

	atomic_store(&s->wal.state, STORE_WAL_OFF);
	/* The writer runs at SCHED_IDLE between its sections under mu (its
	 * guard is armed): so will this thread, which inherits its nice. */
	s->wal.idle = s->w_ceiling;
	if ((rc = store__open_db(s->path, STORE_DB_CKPT, &s->o, &s->wal.db)) <
	    0) {
		store__log(s,
			   "the WAL checkpointer's connection could not be "
			   "opened (%s): the writer checkpoints alone",
			   store_strerror(rc));
		return;
	}
	atomic_store(&s->wal.state, STORE_WAL_IDLE);
	if ((rc = pthread_create(&s->wal.th, NULL, ck_main, s)) != 0) {
		atomic_store(&s->wal.state, STORE_WAL_OFF);
		sqlite3_close(s->wal.db);
		s->wal.db = NULL;
		store__log(s,
			   "the WAL checkpointer could not be started (%s): "
			   "the writer checkpoints alone",
			   strerror(rc));
	}
}

void store__wal_stop(store *s)
{
	if (atomic_exchange(&s->wal.state, STORE_WAL_STOP) == STORE_WAL_OFF) {
		atomic_store(&s->wal.state, STORE_WAL_OFF);
		return;
	}
	ck_kick(s);
	pthread_join(s->wal.th, NULL);
	sqlite3_close(s->wal.db);
	s->wal.db = NULL;
	atomic_store(&s->wal.state, STORE_WAL_OFF);
}

/* Three quarters of the bound: the WAL grows while a round copies it
 * (100k series flat out: to 310-394 MiB, past STORE_WAL_KEEP, where a
 * round begun at the bound itself ended; bench/results/writer18.md). */
int64_t store__wal_begin_bytes(store *s)
{
	int64_t b = s->o.checkpoint_bytes;

	return atomic_load(&s->wal.state) == STORE_WAL_OFF ? b : b / 4 * 3;
}

int store__wal_due(store *s, int due)
{
	switch (atomic_load(&s->wal.state)) {
	case STORE_WAL_OFF:
		return due;
	case STORE_WAL_READY:
		return 1;
	case STORE_WAL_IDLE:
		if (due && ck_move(s, STORE_WAL_IDLE, STORE_WAL_WANT))
			ck_kick(s);
		return 0;
	default:
		return 0;
	}
}

void store__wal_done(store *s)
{
	ck_move(s, STORE_WAL_READY, STORE_WAL_IDLE);
}

int store__wal_round(store *s)
{
	uint32_t st = atomic_load(&s->wal.state);

	return st == STORE_WAL_WANT || st == STORE_WAL_RUN ||
	       st == STORE_WAL_READY;
}
