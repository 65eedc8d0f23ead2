/*
 * tests/daemon/test_bg.c: daemon/bg.h's thread runs every job's work once,
 * in submission order, off the loop thread; runs every done once, in the
 * same order, on the loop thread, after its work; a done may free its
 * job; srv_bg_stop finishes whatever is still queued before it returns,
 * and the loop then frees everything (ASan's leak check, under make test).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "daemon/bg.h"
#include "tests/harness.h"

enum { NJOB = 300 };

typedef struct ctx {
	pthread_t loop_thread;
	atomic_int worked; /* works returned, in order */
	int work_order_bad, work_on_loop;
	int done_n, done_order_bad, done_off_loop, done_before_work;
	uv_timer_t guard;
	int guard_fired;
} ctx;

typedef struct tjob {
	srv_bg_job j;
	ctx *c;
	int k;
	int work_ran; /* written by the thread, read in done */
} tjob;

static void work(srv_bg_job *j)
{
	tjob *t = j->data;
	ctx *c = t->c;
	volatile long s = 0;
	int i;

	if (pthread_equal(pthread_self(), c->loop_thread))
		c->work_on_loop = 1;
	/* The previous job's work has returned before ours starts. */
	if (atomic_load(&c->worked) != t->k)
		c->work_order_bad = 1;
	for (i = 0; i < 1000 * (t->k % 7); i++)
		s += i;
	t->work_ran = 1;
	atomic_fetch_add(&c->worked, 1);
}

static void done(srv_bg_job *j)
{
	tjob *t = j->data;
	ctx *c = t->c;

	if (!pthread_equal(pthread_self(), c->loop_thread))
		c->done_off_loop = 1;
	if (t->k != c->done_n)
		c->done_order_bad = 1;
	if (!t->work_ran)
		c->done_before_work = 1;
	c->done_n++;
	if (c->done_n == NJOB)
		uv_timer_stop(&c->guard);
	free(t); /* as ckpt.c's writeback completion does */
}

static void on_guard(uv_timer_t *h)
{
	ctx *c = h->data;

	c->guard_fired = 1;
	uv_timer_stop(h);
}

static void submit_all(srv_bg *b, ctx *c)
{
	int k;

	for (k = 0; k < NJOB; k++) {
		tjob *t = calloc(1, sizeof *t);
		CHECK(t != NULL);
		if (!t)
			return;
		t->c = c;
		t->k = k;
		t->j.work = work;
		t->j.done = done;
		t->j.data = t;
		srv_bg_submit(b, &t->j);
	}
}

static void check_ctx(const ctx *c)
{
	CHECK_EQ_INT(atomic_load(&c->worked), NJOB);
	CHECK_EQ_INT(c->done_n, NJOB);
	CHECK(!c->work_order_bad);
	CHECK(!c->work_on_loop);
	CHECK(!c->done_order_bad);
	CHECK(!c->done_off_loop);
	CHECK(!c->done_before_work);
}

/* A loop with c's guard timer (stopped by the last done) and a started
 * srv_bg, or NULL (failed: checked). */
static srv_bg *setup(uv_loop_t *loop, ctx *c)
{
	srv_bg *b = NULL;

	memset(c, 0, sizeof *c);
	c->loop_thread = pthread_self();
	CHECK_EQ_INT(uv_loop_init(loop), 0);
	uv_timer_init(loop, &c->guard);
	c->guard.data = c;
	CHECK_EQ_INT(srv_bg_start(&b, loop, "test-bg"), 0);
	return b;
}

/* The loop runs the dones as the thread reports them. */
static void test_jobs_in_order(void)
{
	uv_loop_t loop;
	ctx c;
	srv_bg *b = setup(&loop, &c);

	if (!b)
		return;
	/* Only the guard keeps the loop alive (the wake-up handle is
	 * unreferenced): the last done stops it. A guard that fires means
	 * a done never came, which the checks below report. */
	uv_timer_start(&c.guard, on_guard, 60000, 0);
	submit_all(b, &c);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(!c.guard_fired);
	check_ctx(&c);
	srv_bg_stop(b);
	uv_close((uv_handle_t *)&c.guard, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

/* Stopped with jobs queued and the loop never run: every work and done
 * has run when srv_bg_stop returns. */
static void test_stop_finishes(void)
{
	uv_loop_t loop;
	ctx c;
	srv_bg *b = setup(&loop, &c);

	if (!b)
		return;
	submit_all(b, &c);
	srv_bg_stop(b);
	check_ctx(&c);
	uv_close((uv_handle_t *)&c.guard, NULL);
	uv_run(&loop, UV_RUN_DEFAULT); /* closes the wake-up, frees b */
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

/* Started and stopped with nothing to do. */
static void test_idle_stop(void)
{
	uv_loop_t loop;
	srv_bg *b = NULL;

	CHECK_EQ_INT(uv_loop_init(&loop), 0);
	CHECK_EQ_INT(srv_bg_start(&b, &loop, "a-name-longer-than-15"), 0);
	srv_bg_stop(b);
	srv_bg_stop(NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
	TH_RUN(test_jobs_in_order);
	TH_RUN(test_stop_finishes);
	TH_RUN(test_idle_stop);
	return th_summary();
}
