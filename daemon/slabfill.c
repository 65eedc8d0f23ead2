/*
 * daemon/slabfill.c: see slabfill.h.
 *
 * Workload: live ingest posts one 1 MiB window of new slots (about 140 new
 * series with the default model), so a few hundred a second at most, each
 * job one madvise of 1 MiB (~0.4 ms of CPU here); a restore posts a 32 MiB
 * chunk per ~4,600 series it restores, at most AHEAD_CHUNKS (registry.c)
 * queued. A mutex, two condition variables and a small ring are all it
 * takes.
 */
#include "daemon/slabfill.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Windows queued at most: 16 MiB ahead of the loop is far more than the
 * thread ever falls behind while it has a core. */
#define FILL_RING 16

struct srv_slabfill {
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a window posted, or quit */
	pthread_cond_t idle; /* a window done (srv_slabfill_sync) */
	/* Under mu: windows posted, not started: ring[head .. head + n);
	 * busy: one started and not done. */
	struct {
		void *p;
		size_t len;
	} ring[FILL_RING];
	unsigned head, n;
	int busy;
	int quit;
	pthread_t th;
};

#ifdef MADV_POPULATE_WRITE
static void *fill_main(void *arg)
{
	srv_slabfill *f = arg;

	pthread_setname_np(pthread_self(), "slab-fill");
	pthread_mutex_lock(&f->mu);
	for (;;) {
		void *p;
		size_t len;
		while (!f->n && !f->quit)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->quit)
			break;
		p = f->ring[f->head].p;
		len = f->ring[f->head].len;
		f->head = (f->head + 1) % FILL_RING;
		f->n--;
		f->busy = 1;
		pthread_mutex_unlock(&f->mu);
		/* Best effort: a page it could not fault in faults on the
		 * loop thread's first write, as without this thread. */
		madvise(p, len, MADV_POPULATE_WRITE);
		pthread_mutex_lock(&f->mu);
		f->busy = 0;
		pthread_cond_broadcast(&f->idle);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

srv_slabfill *srv_slabfill_new(void)
{
	srv_slabfill *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	pthread_cond_init(&f->idle, NULL);
	if (pthread_create(&f->th, NULL, fill_main, f) != 0) {
		pthread_cond_destroy(&f->idle);
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return NULL;
	}
	return f;
}
#else
srv_slabfill *srv_slabfill_new(void)
{
	return NULL; /* no way to fault in beside the writes */
}
#endif

int srv_slabfill_post(srv_slabfill *f, void *p, size_t len)
{
	int rc = -1;

	pthread_mutex_lock(&f->mu);
	if (f->n < FILL_RING) {
		unsigned i = (f->head + f->n) % FILL_RING;
		f->ring[i].p = p;
		f->ring[i].len = len;
		f->n++;
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	if (rc == 0)
		pthread_cond_signal(&f->cv);
	return rc;
}

void srv_slabfill_sync(srv_slabfill *f, int drop)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	if (drop)
		f->n = 0;
	while (f->n || f->busy)
		pthread_cond_wait(&f->idle, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

void srv_slabfill_free(srv_slabfill *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_mutex_unlock(&f->mu);
	pthread_cond_signal(&f->cv);
	pthread_join(f->th, NULL);
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
