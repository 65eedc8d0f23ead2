/*
 * daemon/pool.c: the tick's compute pool (see pool.h). One mutex guards
 * the run; a job is a few hundred microseconds of model stepping, so a
 * lock per job costs nothing measurable.
 */
#include "daemon/pool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Who holds a job of the current run (jst[]). */
enum { J_FREE, J_CALLER, J_HELPER, J_DONE, J_TAKEN };

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A helper runs job j of the run it joined (gen seen), with mu held on
 * entry and exit. 1 = done and to be reported, 0 = dropped (isolated and
 * taken over meanwhile, or the run is over). */
static int helper_job(srv_pool *p, int j, void *ws, unsigned long seen)
{
	srv_pool_job_fn fn = p->fn;
	void *ctx = p->ctx;
	/* A copy: the caller's may be gone by the time run() returns (the job
	 * taken over, the run over). */
	srv_pool_iso iso = p->iso;

	if (!p->isolated) {
		pthread_mutex_unlock(&p->mu);
		fn(ctx, j, ws);
		pthread_mutex_lock(&p->mu);
		return 1;
	}
	p->jst[j] = J_HELPER;
	p->jt0[j] = mono_s();
	iso.begin(ctx, j, ws);
	pthread_mutex_unlock(&p->mu);
	iso.run(ctx, j, ws);
	pthread_mutex_lock(&p->mu);
	if (p->gen != seen || p->jst[j] != J_HELPER)
		return 0;
	iso.end(ctx, j, ws);
	p->jst[j] = J_DONE;
	return 1;
}

typedef struct srv_pool_helper {
	srv_pool *p;
	void *ws;
} srv_pool_helper;

static void *helper_main(void *arg)
{
	srv_pool_helper *h = arg;
	srv_pool *p = h->p;
	unsigned long seen;

	/* Named, so that ps -T and /proc tell it from the store's writer. */
	pthread_setname_np(pthread_self(), "pool-helper");
	pthread_mutex_lock(&p->mu);
	/* Runs are numbered from 1: a helper that starts after the first run
	 * began still joins it. */
	seen = 0;
	for (;;) {
		while (!p->stopping && p->gen == seen)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stopping)
			break;
		seen = p->gen;
		p->active++;
		while (p->gen == seen && p->next < p->njobs) {
			int j = p->next++;

			if (!helper_job(p, j, h->ws, seen))
				continue;
			p->fin[p->nfin++] = j;
			pthread_cond_signal(&p->done_cv);
		}
		p->active--;
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int srv_pool_init(srv_pool *p, int nthreads, size_t ws_bytes)
{
	srv_pool_helper *hs;
	int i;

	memset(p, 0, sizeof *p);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 16)
		nthreads = 16;
	p->nthreads = 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	{
		/* The caller waits on done_cv with a deadline (isolated
		 * runs): on the monotonic clock, as the helpers' job times. */
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&p->done_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (nthreads == 1)
		return 0;
	p->th = calloc((size_t)nthreads - 1, sizeof *p->th);
	p->ws = calloc((size_t)nthreads - 1, sizeof *p->ws);
	hs = calloc((size_t)nthreads - 1, sizeof *hs);
	p->helpers = hs;
	if (!p->th || !p->ws || !hs)
		return -1;
	p->nhelpers = nthreads - 1;
	for (i = 0; i < nthreads - 1; i++) {
		p->ws[i] = malloc(ws_bytes + 1);
		if (!p->ws[i])
			return -1;
		hs[i].p = p;
		hs[i].ws = p->ws[i];
		if (pthread_create(&p->th[i], NULL, helper_main, &hs[i]))
			return -1;
		p->started++;
		p->nthreads++;
	}
	return 0;
}

void srv_pool_release(srv_pool *p)
{
	int i;

	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->started; i++)
		pthread_join(p->th[i], NULL);
	for (i = 0; p->ws && i < p->nhelpers; i++)
		free(p->ws[i]);
	free(p->ws);
	free(p->th);
	free(p->helpers);
	free(p->fin);
	free(p->jst);
	free(p->jt0);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	memset(p, 0, sizeof *p);
}

/* Grows the per-job arrays to njobs; 0 or -1. Under mu. */
static int reserve_jobs(srv_pool *p, int njobs)
{
	int *f, *st;
	double *t0;

	if (p->capfin >= njobs)
		return 0;
	f = realloc(p->fin, (size_t)njobs * sizeof *f);
	if (f)
		p->fin = f;
	st = realloc(p->jst, (size_t)njobs * sizeof *st);
	if (st)
		p->jst = st;
	t0 = realloc(p->jt0, (size_t)njobs * sizeof *t0);
	if (t0)
		p->jt0 = t0;
	if (!f || !st || !t0)
		return -1;
	p->capfin = njobs;
	return 0;
}

/* An isolated run: the job a helper has held longest, or -1. Under mu. */
static int oldest_held(const srv_pool *p)
{
	int j, v = -1;

	for (j = 0; j < p->njobs; j++)
		if (p->jst[j] == J_HELPER && (v < 0 || p->jt0[j] < p->jt0[v]))
			v = j;
	return v;
}

static void wait_until(srv_pool *p, double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->done_cv, &p->mu, &ts);
}

int srv_pool_run(srv_pool *p, int njobs, srv_pool_job_fn fn,
		 srv_pool_done_fn done, void *ctx, void *caller_ws)
{
	return srv_pool_run_iso(p, njobs, fn, done, ctx, caller_ws, NULL);
}

int srv_pool_run_iso(srv_pool *p, int njobs, srv_pool_job_fn fn,
		     srv_pool_done_fn done, void *ctx, void *caller_ws,
		     const srv_pool_iso *iso)
{
	int reported = 0, own = 0, j;

	pthread_mutex_lock(&p->mu);
	if (reserve_jobs(p, njobs)) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->isolated = iso != NULL;
	if (iso)
		p->iso = *iso;
	p->njobs = njobs;
	p->next = 0;
	p->nfin = 0;
	for (j = 0; j < njobs; j++)
		p->jst[j] = J_FREE;
	p->gen++;
	pthread_cond_broadcast(&p->work_cv);
	for (;;) {
		/* Report what the helpers finished, outside the lock. */
		while (reported < p->nfin) {
			j = p->fin[reported++];
			pthread_mutex_unlock(&p->mu);
			done(ctx, j);
			pthread_mutex_lock(&p->mu);
		}
		if (p->next < p->njobs) {
			j = p->next++;
			p->jst[j] = J_CALLER;
			pthread_mutex_unlock(&p->mu);
			fn(ctx, j, caller_ws);
			done(ctx, j);
			own++;
			pthread_mutex_lock(&p->mu);
			continue;
		}
		/* Isolated: a helper still in run() holds only copies. */
		if (own + reported == njobs && (p->isolated || p->active == 0))
			break;
		j = iso ? oldest_held(p) : -1;
		if (j < 0) {
			pthread_cond_wait(&p->done_cv, &p->mu);
			continue;
		}
		if (mono_s() - p->jt0[j] < iso->steal_after_s) {
			wait_until(p, p->jt0[j] + iso->steal_after_s);
			continue;
		}
		/* Held too long: the helper lost its core. Run it here; the
		 * helper's copies are dropped when it comes back. */
		p->jst[j] = J_TAKEN;
		p->steals++;
		pthread_mutex_unlock(&p->mu);
		fn(ctx, j, caller_ws);
		done(ctx, j);
		own++;
		pthread_mutex_lock(&p->mu);
	}
	/* A helper that wakes after this sees no job left and goes back. */
	p->njobs = 0;
	p->next = 0;
	p->isolated = 0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}
