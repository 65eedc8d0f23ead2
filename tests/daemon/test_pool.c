/*
 * tests/daemon/test_pool.c: the compute pool runs every job exactly once,
 * reports every job exactly once on the caller's thread, and holds nothing
 * of a run after srv_pool_run returns (run after run, big and small, with
 * and without helpers; and a stress of many small runs, back to back and
 * after pauses, where a lost wake-up hangs and a job claimed twice or
 * never is counted). Run under ASan/UBSan by make test.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/pool.h"
#include "tests/harness.h"

enum { MAXJ = 300 };

typedef struct run_ctx {
	atomic_int ran[MAXJ];
	int reported[MAXJ];
	pthread_t caller;
	int wrong_thread, bad_ws;
	long sum; /* per-job work, written into out[] */
	long out[MAXJ];
} run_ctx;

static void job(void *ctx, int j, void *ws)
{
	run_ctx *c = ctx;
	long s = 0;
	int i;

	if (!ws)
		c->bad_ws = 1;
	else
		memset(ws, j & 0xff, 64); /* each thread owns its workspace */
	for (i = 0; i < 2000 + 37 * j; i++)
		s += (long)i * j;
	c->out[j] = s;
	atomic_fetch_add(&c->ran[j], 1);
}

static void done(void *ctx, int j)
{
	run_ctx *c = ctx;

	if (!pthread_equal(pthread_self(), c->caller))
		c->wrong_thread = 1;
	c->reported[j]++;
}

static int check_run(srv_pool *p, int njobs)
{
	static run_ctx c;
	static char ws[64];
	int j, ok = 1;

	memset(&c, 0, sizeof c);
	c.caller = pthread_self();
	if (srv_pool_run(p, njobs, job, done, &c, ws))
		return 0;
	for (j = 0; j < njobs; j++) {
		long s = 0;
		int i;
		for (i = 0; i < 2000 + 37 * j; i++)
			s += (long)i * j;
		ok &= atomic_load(&c.ran[j]) == 1 && c.reported[j] == 1 &&
		      c.out[j] == s;
	}
	for (; j < MAXJ; j++)
		ok &= atomic_load(&c.ran[j]) == 0 && c.reported[j] == 0;
	return ok && !c.wrong_thread && !c.bad_ws;
}

static void test_every_job_once(void)
{
	static const int sizes[] = {0, 1, 2, 3, 7, 64, 300, 5, 1};
	int threads[] = {1, 2, 4}, t, r, k;

	for (t = 0; t < 3; t++) {
		srv_pool p;
		CHECK(srv_pool_init(&p, threads[t], 64, 0) == 0);
		CHECK(p.nthreads == threads[t]);
		for (r = 0; r < 40; r++)
			for (k = 0; k < (int)(sizeof sizes / sizeof *sizes);
			     k++)
				CHECK(check_run(&p, sizes[k]));
		srv_pool_release(&p);
	}
}

static void test_bounds(void)
{
	srv_pool p;

	CHECK(srv_pool_init(&p, 0, 64, 0) == 0);
	CHECK(p.nthreads == 1);
	srv_pool_release(&p);
	CHECK(srv_pool_init(&p, 99, 64, 0) == 0);
	CHECK(p.nthreads == 16);
	CHECK(check_run(&p, 100));
	srv_pool_release(&p);
}

/* The first run right after srv_pool_init is shared too: a helper whose
 * thread starts after the run began still joins it (runs are numbered
 * from 1). Job 0, the caller's, waits for a helper to have run job 1. */
typedef struct first_ctx {
	atomic_int helper_ran;
	pthread_t caller;
	int waited_out;
} first_ctx;

static void first_job(void *ctx, int j, void *ws)
{
	first_ctx *c = ctx;
	struct timespec ts = {0, 1000000};
	int i;

	(void)ws;
	if (j == 1 && !pthread_equal(pthread_self(), c->caller))
		atomic_store(&c->helper_ran, 1);
	if (j != 0)
		return;
	for (i = 0; i < 10000 && !atomic_load(&c->helper_ran); i++)
		nanosleep(&ts, NULL);
	c->waited_out = !atomic_load(&c->helper_ran);
}

static void first_done(void *ctx, int j)
{
	(void)ctx;
	(void)j;
}

static void test_first_run_shared(void)
{
	static first_ctx c;
	static char ws[64];
	srv_pool p;

	memset(&c, 0, sizeof c);
	c.caller = pthread_self();
	CHECK(srv_pool_init(&p, 2, 64, 0) == 0);
	CHECK(srv_pool_run(&p, 2, first_job, first_done, &c, ws) == 0);
	CHECK(!c.waited_out);
	srv_pool_release(&p);
}

/* srv_pool_worth: no helpers, never; else when the helpers' part of the
 * work (half of it, on two threads) beats SRV_POOL_MARGIN x the wake-up
 * estimate; a refusal of work big enough to be shared on an idle machine
 * lets the estimate decay (a later probe), a small one does not. Each run
 * gives a wake-up sample, learnt as the next run starts. */
static void test_worth(void)
{
	static run_ctx c;
	static char ws[64];
	srv_pool p;
	double w;

	CHECK(srv_pool_init(&p, 1, 64, 0) == 0);
	CHECK(!srv_pool_worth(&p, 1.0));
	srv_pool_release(&p);
	CHECK(srv_pool_init(&p, 2, 64, 0) == 0);
	CHECK(p.wake_s == SRV_POOL_WAKE0 && p.nwake == 0);
	p.wake_s = 1e-3;
	CHECK(srv_pool_worth(&p, 4.1e-3));
	CHECK(p.wake_s == 1e-3);
	CHECK(!srv_pool_worth(&p, 3.9e-3));
	CHECK(p.wake_s < 1e-3);
	w = p.wake_s;
	CHECK(!srv_pool_worth(&p, SRV_POOL_WAKE0));
	CHECK(p.wake_s == w);
	memset(&c, 0, sizeof c);
	c.caller = pthread_self();
	CHECK(srv_pool_run(&p, 8, job, done, &c, ws) == 0);
	CHECK(p.nwake == 0);
	memset(&c, 0, sizeof c);
	c.caller = pthread_self();
	CHECK(srv_pool_run(&p, 8, job, done, &c, ws) == 0);
	CHECK(p.nwake == 1 && p.wake_s >= 0 && p.wake_s < 1e9);
	srv_pool_release(&p);
}

/* Many small runs, each with a context of its own freed as soon as
 * srv_pool_run returns (ASan: a helper touching a run after it returned
 * is a use after free), jobs of varied length, and a pause after some
 * runs long enough for the helpers to leave their spin and sleep on the
 * futex: a lost wake-up of a helper leaves its jobs unclaimed only if the
 * caller waits for them, so the caller's sleep is exercised too by jobs
 * that wait for a helper to have started (below). Every job run once and
 * reported once, run after run. A lost wake-up of the caller hangs (main's
 * alarm turns the hang into a failure). */
static void stress_job(void *ctx, int j, void *ws)
{
	run_ctx *c = ctx;
	volatile long s = 0;
	int i;

	(void)ws;
	for (i = 0; i < (j % 3) * 300; i++)
		s += i;
	atomic_fetch_add(&c->ran[j], 1);
}

static void test_stress_small_runs(void)
{
	int threads[] = {2, 3}, t, r, j, bad = 0;
	unsigned seed = 12345;

	for (t = 0; t < 2; t++) {
		srv_pool p;
		CHECK(srv_pool_init(&p, threads[t], 64, 0) == 0);
		for (r = 0; r < 20000 && !bad; r++) {
			run_ctx *c = calloc(1, sizeof *c);
			char ws[64];
			int n;

			seed = seed * 1103515245u + 12345u;
			n = 1 + (int)(seed >> 16) % 8;
			c->caller = pthread_self();
			CHECK(srv_pool_run(&p, n, stress_job, done, c, ws) ==
			      0);
			for (j = 0; j < 8; j++)
				bad |= atomic_load(&c->ran[j]) != (j < n) ||
				       c->reported[j] != (j < n);
			bad |= c->wrong_thread;
			free(c);
			if (r % 500 == 499) {
				struct timespec ts = {0, 200000};
				nanosleep(&ts, NULL);
			}
		}
		CHECK(!bad);
		srv_pool_release(&p);
	}
}

/* The caller sleeps for a helper's job and is woken when it ends. Job 0
 * (the caller's, from the front) waits for a helper to start job 1, and
 * job 1 waits until the caller says it may sleep (caller_waits): so the
 * caller, its own job done, finds job 1 still out and sleeps, and only the
 * helper's publish can wake it (a lost wake-up hangs: main's alarm). Bounded
 * waits (10 s): a run whose helper never came is run by the caller alone
 * and counted apart. */
typedef struct sleep_ctx {
	srv_pool *p;
	pthread_t caller;
	atomic_int ran[2], helper_started;
	int reported[2];
} sleep_ctx;

static void sleep_job(void *ctx, int j, void *ws)
{
	sleep_ctx *c = ctx;
	struct timespec ts = {0, 100000};
	int i;

	(void)ws;
	if (pthread_equal(pthread_self(), c->caller)) {
		for (i = 0;
		     j == 0 && i < 100000 && !atomic_load(&c->helper_started);
		     i++)
			nanosleep(&ts, NULL);
	} else {
		atomic_store(&c->helper_started, 1);
		for (i = 0; i < 100000 && !atomic_load(&c->p->caller_waits);
		     i++)
			nanosleep(&ts, NULL);
	}
	atomic_fetch_add(&c->ran[j], 1);
}

static void sleep_done(void *ctx, int j)
{
	sleep_ctx *c = ctx;

	c->reported[j]++;
}

static void test_caller_sleeps(void)
{
	static sleep_ctx c;
	char ws[64];
	srv_pool p;
	int r, ok = 1, helped = 0;

	CHECK(srv_pool_init(&p, 2, 64, 0) == 0);
	for (r = 0; r < 50; r++) {
		memset(&c, 0, sizeof c);
		c.p = &p;
		c.caller = pthread_self();
		CHECK(srv_pool_run(&p, 2, sleep_job, sleep_done, &c, ws) == 0);
		ok &= atomic_load(&c.ran[0]) == 1 &&
		      atomic_load(&c.ran[1]) == 1 && c.reported[0] == 1 &&
		      c.reported[1] == 1;
		helped += atomic_load(&c.helper_started);
	}
	CHECK(ok);
	CHECK(helped > 0);
	CHECK(atomic_load(&p.caller_sleeps) >= (unsigned long)helped);
	srv_pool_release(&p);
}

int main(void)
{
	/* A lost wake-up hangs a run: SIGALRM fails the binary instead, far
	 * beyond what the tests take on a loaded machine (under a second on
	 * a quiet one). */
	alarm(600);
	TH_RUN(test_first_run_shared);
	TH_RUN(test_every_job_once);
	TH_RUN(test_bounds);
	TH_RUN(test_worth);
	TH_RUN(test_stress_small_runs);
	TH_RUN(test_caller_sleeps);
	return th_summary();
}
