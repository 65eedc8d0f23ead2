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
/* Bytes per madvise of a warm-up (srv_slabfill_warm): the ring is looked
 * at between slices, so a window that live ingest posts waits for one
 * slice at most (256 copies of a 4 KiB page, well under a millisecond
 * here), and the mmap lock is never held long for the loop thread's own
 * maps. */
#define WARM_SLICE ((size_t)1 << 20)

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
	/* Under mu: the warm-up's ranges (srv_slabfill_warm) not yet done,
	 * warm[wi] from byte woff on; done after every ring window. */
	struct srv_slabfill_range *warm;
	size_t nwarm, wi, woff;
	size_t warmed; /* under mu: bytes of warm-ups handed to madvise */
	int busy;
	int quit;
	pthread_t th;
};

static void warm_free(srv_slabfill *f)
{
	free(f->warm);
	f->warm = NULL;
	f->nwarm = f->wi = f->woff = 0;
}

#ifdef MADV_POPULATE_WRITE
/* The warm-up's next slice (f->wi < f->nwarm), under mu. */
static void warm_slice(srv_slabfill *f, void **p, size_t *len)
{
	const struct srv_slabfill_range *r = &f->warm[f->wi];

	*p = r->p + f->woff;
	*len = r->len - f->woff < WARM_SLICE ? r->len - f->woff : WARM_SLICE;
	f->woff += *len;
	if (f->woff == r->len) {
		f->wi++;
		f->woff = 0;
	}
	f->warmed += *len;
	if (f->wi == f->nwarm)
		warm_free(f);
}

static void *fill_main(void *arg)
{
	srv_slabfill *f = arg;

	pthread_setname_np(pthread_self(), "slab-fill");
	pthread_mutex_lock(&f->mu);
	for (;;) {
		void *p;
		size_t len;
		while (!f->n && f->wi == f->nwarm && !f->quit)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->quit)
			break;
		if (f->n) {
			p = f->ring[f->head].p;
			len = f->ring[f->head].len;
			f->head = (f->head + 1) % FILL_RING;
			f->n--;
		} else {
			warm_slice(f, &p, &len);
		}
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
	warm_free(f); /* best effort: dropped either way */
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
	warm_free(f);
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int srv_slabfill_warm(srv_slabfill *f, const struct srv_slabfill_range *r,
		      size_t n)
{
	struct srv_slabfill_range *copy;
	size_t i, k = 0;

	if (!f || !n)
		return -1;
	copy = malloc(n * sizeof *copy);
	if (!copy)
		return -1;
	for (i = 0; i < n; i++)
		if (r[i].len)
			copy[k++] = r[i];
	if (!k) {
		free(copy);
		return 0;
	}
	pthread_mutex_lock(&f->mu);
	warm_free(f); /* a newer warm-up replaces one not done */
	f->warm = copy;
	f->nwarm = k;
	pthread_mutex_unlock(&f->mu);
	pthread_cond_signal(&f->cv);
	return 0;
}

size_t srv_slabfill_warmed(srv_slabfill *f)
{
	size_t b;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->mu);
	b = f->warmed;
	pthread_mutex_unlock(&f->mu);
	return b;
}
