/*
 * daemon/pool.c: the tick's compute pool (see pool.h). One mutex guards
 * the run; a job is a few hundred microseconds of model stepping, so a
 * lock per job costs nothing measurable.
 *
 * The caller claims jobs from the front of the run, the helpers from its
 * end, until they meet. The tick lists a round's series in about the same
 * order round after round (the order they arrive in), so more of them are
 * stepped by the same thread as in the last round and find their state in
 * that core's caches: a state last written on the other core costs the
 * step 1.09x at 1,000 series (states in L3), 1.19x at 64 (in L2), 1.02x
 * at 20,000 (from memory either way; bench/migrate_step.sh). Claimed in one
 * order by everyone, 46-53% of the rows of a 1k x 200 run changed threads
 * from one step to the next; from both ends 31-34% (load 22: how far
 * the loop gets before the helper wakes varies from round to round;
 * bench/results/par9.md).
 */
#include "daemon/pool.h"

#include "daemon/sched.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct srv_pool_helper {
	srv_pool *p;
	void *ws;
} srv_pool_helper;

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *helper_main(void *arg)
{
	srv_pool_helper *h = arg;
	srv_pool *p = h->p;
	unsigned long seen;

	/* Named, so that ps -T and /proc tell it from the store's writer. */
	pthread_setname_np(pthread_self(), "pool-helper");
	/* A helper woken for a round is waited for by the loop: it asks
	 * for the loop's slice (the kernel took it from the caller; a
	 * refusal here would leave the kernel's default). */
	if (p->slice_us > 0)
		(void)srv_sched_set_slice(p->slice_us);
	pthread_mutex_lock(&p->mu);
	/* Runs are numbered from 1: a helper whose thread starts after the
	 * first run began still joins it. */
	seen = 0;
	for (;;) {
		while (!p->stopping && p->gen == seen)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stopping)
			break;
		seen = p->gen;
		p->active++;
		/* The first helper up for this run times its wake-up, even
		 * when the run is over: a late helper is what is measured. */
		if (p->woke_gen != p->gen) {
			p->woke_gen = p->gen;
			p->woke_s = mono_s() - p->t_run;
		}
		while (p->next + p->back < p->njobs) {
			int j = p->njobs - 1 - p->back++;
			srv_pool_job_fn fn = p->fn;
			void *ctx = p->ctx;

			pthread_mutex_unlock(&p->mu);
			fn(ctx, j, h->ws);
			pthread_mutex_lock(&p->mu);
			p->fin[p->nfin++] = j;
			pthread_cond_signal(&p->done_cv);
		}
		p->active--;
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int srv_pool_init(srv_pool *p, int nthreads, size_t ws_bytes, int slice_us)
{
	srv_pool_helper *hs;
	int i;

	memset(p, 0, sizeof *p);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 16)
		nthreads = 16;
	p->nthreads = 1;
	p->wake_s = SRV_POOL_WAKE0;
	if (slice_us > 0) {
		p->slice_rc = srv_sched_set_slice(slice_us);
		p->slice_us = p->slice_rc == 0 ? slice_us : 0;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
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
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	memset(p, 0, sizeof *p);
}

/* One run's wake-up sample into the estimate (see srv_pool_worth). */
static void learn_wake(srv_pool *p, double d)
{
	if (!(d >= 0))
		return;
	p->wake_s += (d - p->wake_s) / (d > p->wake_s ? 2 : 16);
	p->nwake++;
}

int srv_pool_run(srv_pool *p, int njobs, srv_pool_job_fn fn,
		 srv_pool_done_fn done, void *ctx, void *caller_ws)
{
	int reported = 0, own = 0;

	pthread_mutex_lock(&p->mu);
	if (p->capfin < njobs) {
		int *f = realloc(p->fin, (size_t)njobs * sizeof *f);
		if (!f) {
			pthread_mutex_unlock(&p->mu);
			return -1;
		}
		p->fin = f;
		p->capfin = njobs;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->njobs = njobs;
	p->next = p->back = 0;
	p->nfin = 0;
	/* The previous run's wake-up sample: its first helper's delay, or,
	 * when none has woken for it yet, the time since it was offered
	 * (a lower bound: it was signalled that long ago). */
	if (p->gen > 0 && p->started > 0)
		learn_wake(p, p->woke_gen == p->gen ? p->woke_s
						    : mono_s() - p->t_run);
	p->t_run = mono_s();
	p->gen++;
	/* Woken after the unlock, a helper finds the mutex free. Woken under
	 * it, it only blocked on it, and on a busy machine took the loop's
	 * core twice: at the broadcast and again at the unlock that woke it
	 * (perf sched_switch on the loop, bench/results/lat10.md). */
	pthread_mutex_unlock(&p->mu);
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		/* Report what the helpers finished, outside the lock. */
		while (reported < p->nfin) {
			int j = p->fin[reported++];
			pthread_mutex_unlock(&p->mu);
			done(ctx, j);
			pthread_mutex_lock(&p->mu);
		}
		if (p->next + p->back < p->njobs) {
			int j = p->next++;
			pthread_mutex_unlock(&p->mu);
			fn(ctx, j, caller_ws);
			done(ctx, j);
			own++;
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (own + reported == njobs && p->active == 0)
			break;
		pthread_cond_wait(&p->done_cv, &p->mu);
	}
	/* A helper that wakes after this sees no job left and goes back. */
	p->njobs = 0;
	p->next = p->back = 0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int srv_pool_worth(srv_pool *p, double work_s)
{
	double T = p->nthreads, save = work_s * (T - 1) / T;

	if (p->nthreads < 2)
		return 0;
	if (save > SRV_POOL_MARGIN * p->wake_s)
		return 1;
	if (save >= SRV_POOL_WAKE0)
		p->wake_s -= p->wake_s / 1024;
	return 0;
}
