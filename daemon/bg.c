/*
 * daemon/bg.c: see bg.h.
 *
 * Workload: a few jobs a second at most (one checkpoint writeback every
 * CKPT_TICK_MS while a generation is written, one fsync at its end), each
 * a system call that may wait for the disk. A mutex, a condition variable
 * and two singly linked FIFOs are all it takes; the thread sleeps on the
 * condition variable between jobs.
 */
#include "daemon/bg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/wake.h"

struct srv_bg {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: queued, not started (todo); worked, done not yet run
	 * (fin). Each a FIFO: head and the last one's next pointer. */
	srv_bg_job *todo, **todo_end;
	srv_bg_job *fin, **fin_end;
	int quit;
	pthread_t th;
	io_wake wake;
	char name[16];
};

static void *bg_main(void *arg)
{
	srv_bg *b = arg;
	srv_bg_job *j;

	pthread_setname_np(pthread_self(), b->name);
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->todo && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->todo)
			break; /* quit, and nothing left */
		j = b->todo;
		b->todo = j->next;
		if (!b->todo)
			b->todo_end = &b->todo;
		pthread_mutex_unlock(&b->mu);
		j->work(j);
		pthread_mutex_lock(&b->mu);
		j->next = NULL;
		*b->fin_end = j;
		b->fin_end = &j->next;
		pthread_mutex_unlock(&b->mu);
		/* Outside the lock: the loop, woken, may take our core and
		 * must not then wait for us to release it. srv_bg_stop
		 * joins us before it closes the wake-up. */
		io_wake_send(&b->wake);
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Loop thread: every finished job's done, in order. */
static void run_dones(srv_bg *b)
{
	srv_bg_job *j, *next;

	pthread_mutex_lock(&b->mu);
	j = b->fin;
	b->fin = NULL;
	b->fin_end = &b->fin;
	pthread_mutex_unlock(&b->mu);
	for (; j; j = next) {
		next = j->next; /* done may free j */
		j->done(j);
	}
}

static void on_wake(io_wake *w)
{
	run_dones(w->data);
}

static void on_closed(io_wake *w)
{
	srv_bg *b = w->data;

	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

int srv_bg_start(srv_bg **out, uv_loop_t *loop, const char *name)
{
	srv_bg *b = calloc(1, sizeof *b);
	int rc;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->todo_end = &b->todo;
	b->fin_end = &b->fin;
	snprintf(b->name, sizeof b->name, "%s", name);
	b->wake.data = b;
	rc = io_wake_open(&b->wake, loop, on_wake);
	if (rc == 0) {
		uv_unref((uv_handle_t *)&b->wake.poll);
		rc = -pthread_create(&b->th, NULL, bg_main, b);
	}
	if (rc == 0) {
		*out = b;
		return 0;
	}
	if (b->wake.fd >= 0) /* the handle exists: the loop frees b */
		io_wake_close(&b->wake, on_closed);
	else
		on_closed(&b->wake);
	return rc;
}

void srv_bg_submit(srv_bg *b, srv_bg_job *j)
{
	pthread_mutex_lock(&b->mu);
	j->next = NULL;
	*b->todo_end = j;
	b->todo_end = &j->next;
	pthread_mutex_unlock(&b->mu);
	/* After the unlock, as srv_pool_run's broadcast (daemon/pool.c):
	 * woken under the mutex, the thread took the loop's core at the
	 * signal and again at the unlock. */
	pthread_cond_signal(&b->cv);
}

void srv_bg_stop(srv_bg *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->quit = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->th, NULL);
	run_dones(b);
	io_wake_close(&b->wake, on_closed);
}
