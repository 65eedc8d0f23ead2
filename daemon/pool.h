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
	int njobs, next;   /* jobs of the run; next unclaimed */
	int active;	   /* helpers inside the run */
	int stopping;
	srv_pool_job_fn fn;
	void *ctx;
	/* Finished by helpers, not yet reported (loop thread drains). */
	int *fin;
	int nfin, capfin;
	int started; /* helper threads created */
	struct srv_pool_helper *helpers;
} srv_pool;

/*
 * nthreads in 1..16 (1 = everything on the caller's thread, no threads
 * made); ws_bytes of workspace per helper. 0 or -1 (nothing to release on
 * failure beyond srv_pool_release, which is safe after either).
 */
int srv_pool_init(srv_pool *p, int nthreads, size_t ws_bytes);
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

#endif
