/*
 * tests/daemon/test_pool.c: the compute pool runs every job exactly once,
 * reports every job exactly once on the caller's thread, and holds nothing
 * of a run after srv_pool_run returns (run after run, big and small, with
 * and without helpers). Run under ASan/UBSan by make test.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		CHECK(srv_pool_init(&p, threads[t], 64) == 0);
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

	CHECK(srv_pool_init(&p, 0, 64) == 0);
	CHECK(p.nthreads == 1);
	srv_pool_release(&p);
	CHECK(srv_pool_init(&p, 99, 64) == 0);
	CHECK(p.nthreads == 16);
	CHECK(check_run(&p, 100));
	srv_pool_release(&p);
}

/* ---- isolated runs: a job a helper holds too long is taken over ---- */

typedef struct iso_ctx {
	long in[MAXJ], out[MAXJ];
	int reported[MAXJ];
	atomic_int ended[MAXJ]; /* end() calls per job */
	atomic_int helper_took; /* a helper began a job */
	atomic_int release;	/* the helper's blocked run() may go on */
	atomic_int helper_back; /* ... and has come back */
	int block;		/* the helper's first run() blocks */
	int waited_out;		/* the caller gave up waiting (a failure) */
} iso_ctx;

/* Waits (yielding) for *flag, 10 s at most; 0 = it never came. */
static int await(atomic_int *flag)
{
	struct timespec ts = {0, 1000000};
	int i;

	for (i = 0; i < 10000; i++) {
		if (atomic_load(flag))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* The caller's in-place job: job 0 first waits until a helper holds a
 * job, so that there is one to take over. */
static void iso_fn(void *ctx, int j, void *ws)
{
	iso_ctx *c = ctx;

	(void)ws;
	if (c->block && j == 0 && !await(&c->helper_took))
		c->waited_out = 1;
	c->out[j] = c->in[j] * 3 + 1;
}

/* A helper: its copy in ws, the same computation on it. */
static void iso_begin(void *ctx, int j, void *ws)
{
	iso_ctx *c = ctx;

	*(long *)ws = c->in[j];
	atomic_store(&c->helper_took, 1);
}

static void iso_run(void *ctx, int j, void *ws)
{
	iso_ctx *c = ctx;
	long *v = ws;

	(void)j;
	if (c->block && !atomic_load(&c->release)) {
		/* Stands for a helper that lost its core mid-job. */
		if (!await(&c->release))
			c->waited_out = 1;
		*v = -999; /* what end() must never copy back now */
		atomic_store(&c->helper_back, 1);
		return;
	}
	*v = *v * 3 + 1;
}

static void iso_end(void *ctx, int j, void *ws)
{
	iso_ctx *c = ctx;

	c->out[j] = *(long *)ws;
	atomic_fetch_add(&c->ended[j], 1);
}

static void iso_done(void *ctx, int j)
{
	iso_ctx *c = ctx;

	c->reported[j]++;
}

static void test_iso_takes_over(void)
{
	static iso_ctx c;
	static char ws[64];
	srv_pool p;
	srv_pool_iso iso = {iso_begin, iso_run, iso_end, 0};
	int j, ok = 1;

	memset(&c, 0, sizeof c);
	for (j = 0; j < MAXJ; j++)
		c.in[j] = j + 10;
	c.block = 1;
	CHECK(srv_pool_init(&p, 2, 64) == 0);
	/* Job 0 is the caller's (it takes the first job before a helper can
	 * wake); job 1 the helper's, which then blocks: without the take-over
	 * this run would never return. */
	CHECK(srv_pool_run_iso(&p, 2, iso_fn, iso_done, &c, ws, &iso) == 0);
	CHECK(!c.waited_out);
	CHECK(p.steals == 1);
	for (j = 0; j < 2; j++) {
		CHECK(c.reported[j] == 1);
		CHECK(c.out[j] == c.in[j] * 3 + 1);
	}
	/* The helper comes back after the run: its copy is dropped, and
	 * nothing of the caller's hooks is used any more (the caller's may
	 * have gone out of scope: wipe them). */
	memset(&iso, 0, sizeof iso);
	atomic_store(&c.release, 1);
	CHECK(await(&c.helper_back));
	/* A run that is not isolated waits until no helper is inside: the
	 * late helper has decided, and dropped its copy. */
	CHECK(srv_pool_run(&p, 0, iso_fn, iso_done, &c, ws) == 0);
	CHECK(atomic_load(&c.ended[1]) == 0);
	CHECK(c.out[1] == c.in[1] * 3 + 1);
	/* Further runs: the helper takes part again. */
	iso.begin = iso_begin;
	iso.run = iso_run;
	iso.end = iso_end;
	c.block = 0;
	memset(c.reported, 0, sizeof c.reported);
	CHECK(srv_pool_run_iso(&p, 64, iso_fn, iso_done, &c, ws, &iso) == 0);
	for (j = 0; j < 64; j++) {
		ok &= c.reported[j] == 1;
		ok &= c.out[j] == c.in[j] * 3 + 1;
	}
	CHECK(ok);
	/* Runs with a patient take-over bound: every job once, by whoever. */
	iso.steal_after_s = 10;
	for (j = 0; j < 20; j++) {
		int i;
		memset(c.reported, 0, sizeof c.reported);
		memset(c.out, 0, sizeof c.out);
		CHECK(srv_pool_run_iso(&p, 1 + j * 7, iso_fn, iso_done, &c, ws,
				       &iso) == 0);
		for (i = 0; i < 1 + j * 7; i++) {
			ok &= c.reported[i] == 1;
			ok &= c.out[i] == c.in[i] * 3 + 1;
		}
	}
	CHECK(ok);
	srv_pool_release(&p);
}

int main(void)
{
	TH_RUN(test_every_job_once);
	TH_RUN(test_bounds);
	TH_RUN(test_iso_takes_over);
	return th_summary();
}
