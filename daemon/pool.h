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
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	/* The current run, guarded by mu. */
	unsigned long gen; /* bumped per run: helpers wake on a change */
	int njobs, next;   /* jobs of the run; the caller's next (front) */
	int back;	   /* jobs the helpers claimed (from the end) */
	int active;	   /* helpers inside the run */
	int stopping;
	srv_pool_job_fn fn;
	void *ctx;
	/* Finished by helpers, not yet reported (loop thread drains). */
	int *fin;
	int nfin, capfin;
	int started;  /* helper threads created */
	int slice_us; /* helpers' scheduling slice, 0 = the kernel's */
	int slice_rc; /* the caller's srv_sched_set_slice: 0 or an errno */
	struct srv_pool_helper *helpers;
	/* The wake-up cost (srv_pool_worth), guarded by mu. t_run:
	 * monotonic seconds the current run was offered; woke_gen, woke_s:
	 * the last run a helper woke up for, and how long after it was
	 * offered; wake_s: the estimate of a helper's wake-up (s), and
	 * nwake the runs it was learnt from. */
	double t_run, woke_s;
	unsigned long woke_gen;
	double wake_s;
	unsigned long nwake;
} srv_pool;

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
