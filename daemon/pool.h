/*
 * daemon/pool.h: a small compute pool that runs a tick's model batches on
 * the loop thread and nthreads - 1 helper threads.
 *
 * What runs on a helper thread: only the job function, which must touch
 * nothing but the job's own data (for the tick: ssm_model_step_batch over
 * series that no other job of the same run holds, with that thread's
 * workspace). Everything else (libuv, the registry, counters, sockets)
 * stays on the loop thread: the per-job completion callback runs there.
 *
 * Determinism: which thread steps which batch never changes a result, since
 * the model rounds a series the same whatever batch it is stepped in
 * (ssm/model.h, blocks of 8 rows); tests/integration/test_pool.py checks
 * the daemon against offline stepping with the pool on.
 *
 * srv_pool_run() returns only when every job is done and no helper thread
 * holds anything of the run, so the caller may reuse the job data at once.
 *
 * Whether sharing pays (srv_pool_worth): a shared run finishes sooner only
 * when the helpers start on it soon enough. The pool learns how long a
 * helper takes to claim its first job of a run (its wake-up: microseconds
 * on an idle core, milliseconds on a machine whose cores other processes
 * hold) and the caller asks, per run, whether the work it would share is
 * worth that wait.
 */
#ifndef STATECAST_DAEMON_POOL_H
#define STATECAST_DAEMON_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* job j of a run, on some thread, with that thread's workspace ws. */
typedef void (*srv_pool_job_fn)(void *ctx, int j, void *ws);
/* job j finished: called on the caller's (loop) thread, in any order. */
typedef void (*srv_pool_done_fn)(void *ctx, int j);

typedef struct srv_pool {
	int nthreads; /* helpers + the caller; 1 = no helper threads */
	pthread_t *th;
	void **ws;    /* [nhelpers] helper workspaces */
	int nhelpers; /* helper slots allocated (threads: started) */
	/*
	 * The current run, without a mutex (pool.c says why and how).
	 * claim: the unclaimed jobs [lo, hi) as lo | hi << 32; the caller
	 * takes lo (the front), helpers hi - 1 (the back), each by a
	 * compare-and-swap; lo >= hi: nothing left (between runs too).
	 * fn, ctx: written by the caller before it publishes claim, read by
	 * a helper only after a claim succeeded. fin[0, nfin): the jobs
	 * helpers finished, in the order they finished, -1 for a slot whose
	 * job is not written yet; the caller reports them.
	 */
	_Atomic unsigned long long claim;
	srv_pool_job_fn fn;
	void *ctx;
	_Atomic int *fin;
	atomic_int nfin;
	int capfin;
	/* Helpers' sleep: run_seq, a futex word bumped per run and at stop;
	 * sleepers: helpers about to sleep or asleep on it. */
	_Atomic unsigned run_seq;
	atomic_int sleepers;
	atomic_int stopping;
	/* The caller's wait for helpers' jobs: done_seq, a futex word bumped
	 * per finished job; caller_waits: the caller may be asleep on it. */
	_Atomic unsigned done_seq;
	atomic_int caller_waits;
	int started;  /* helper threads created */
	int slice_us; /* helpers' scheduling slice, 0 = the kernel's */
	int slice_rc; /* the caller's srv_sched_set_slice: 0 or an errno */
	struct srv_pool_helper *helpers;
	/* The wake-up cost (srv_pool_worth). t_run_ns[seq & 1]: monotonic
	 * ns run seq was offered (two slots: a helper late for one run
	 * still reads its own's while the next is offered); woke: the last
	 * run a helper woke up for and how long after it was offered, as
	 * seq << 32 | ns (clamped), written by the first helper up; the
	 * caller's alone: wake_s, the estimate of a helper's wake-up (s),
	 * and nwake the runs it was learnt from. */
	_Atomic long long t_run_ns[2];
	_Atomic unsigned long long woke;
	double wake_s;
	unsigned long nwake;
	/* Counters (relaxed; for tests and bench): runs a helper found
	 * while spinning, and futex sleeps of helpers and of the caller. */
	atomic_ulong spin_hits, helper_sleeps, caller_sleeps;
} srv_pool;

/* How long a helper that found no job spins for the next run before it
 * sleeps (ns): a round of a tick that has several comes within a few
 * microseconds of the last; a tick's next round at 50,000 samples/s is a
 * millisecond away and is not waited for. Bounded, on a 2-core machine a
 * spinning helper holds a core the loop or the writer could use. */
#ifndef SRV_POOL_SPIN_NS
#define SRV_POOL_SPIN_NS 3000
#endif

/* The wake-up estimate before any shared run: a guess of what a helper
 * woken on an idle core takes (tens of microseconds), corrected by the
 * first runs. */
#define SRV_POOL_WAKE0 100e-6
/* Sharing must save this many times the estimated wake-up. */
#define SRV_POOL_MARGIN 2.0

/*
 * nthreads in 1..16 (1 = everything on the caller's thread, no threads
 * made); ws_bytes of workspace per helper. slice_us > 0: the calling
 * thread (which steps jobs too) asks the kernel for that scheduling slice
 * (daemon/sched.h) and, if the kernel took it, so does each helper as it
 * starts; slice_rc tells the caller how its own request went. 0 or -1
 * (nothing to release on failure beyond srv_pool_release, which is safe
 * after either).
 */
int srv_pool_init(srv_pool *p, int nthreads, size_t ws_bytes, int slice_us);
/* Stops and joins the helpers, frees everything. */
void srv_pool_release(srv_pool *p);

/*
 * Runs fn(ctx, j, ws) for every j in [0, njobs), the caller's thread taking
 * jobs too (with caller_ws); done(ctx, j) is called on the caller's thread
 * as soon as it learns that job j finished. -1 (and nothing run) only when
 * the completion list cannot grow; the caller then runs the jobs itself.
 */
int srv_pool_run(srv_pool *p, int njobs, srv_pool_job_fn fn,
		 srv_pool_done_fn done, void *ctx, void *caller_ws);

/*
 * Whether a run of work_s seconds of work (as the caller's thread alone
 * would take) is worth sharing: 1 when the time the helpers would save,
 * work_s * (nthreads - 1) / nthreads, is more than SRV_POOL_MARGIN times
 * the estimated wake-up; always 0 without helpers. The estimate is learnt
 * from each srv_pool_run (the first helper's delay from the run's offer to
 * its waking up, whether or not a job was left for it: a round the loop
 * finished alone does not hide a late helper), taken in at the next run,
 * rising fast (half way to a larger sample) and falling slowly (1/16), so
 * a few late wake-ups stop the sharing. A refusal of a run that would be
 * shared on an idle machine (saving at least SRV_POOL_WAKE0) lets the
 * estimate decay by 1/1024, so that after about a thousand such rounds
 * (a second at 50,000 samples/s) a machine that got quieter is tried
 * again.
 */
int srv_pool_worth(srv_pool *p, double work_s);

#endif
