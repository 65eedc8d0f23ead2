/*
 * daemon/registry.c: the series hash map and the slab of states (see
 * registry.h).
 */
#include "daemon/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Bytes of one slab chunk: large enough that chunks are few (~100 at 1M
 * series), small enough that a daemon of a few series maps little. */
#define SLAB_CHUNK_BYTES (32u << 20)

static uint64_t fnv1a(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* ---- the slab of state + forecast slots ---- */

static void slab_init(srv_slab *b, size_t bytes)
{
	memset(b, 0, sizeof *b);
	b->slot_bytes = (bytes + 31) / 32 * 32;
	if (b->slot_bytes)
		b->per_chunk = SLAB_CHUNK_BYTES / b->slot_bytes
				   ? SLAB_CHUNK_BYTES / b->slot_bytes
				   : 1;
}

static void slab_release(srv_slab *b)
{
	size_t i;

	for (i = 0; i < b->nchunks; i++)
		munmap(b->chunks[i], b->per_chunk * b->slot_bytes);
	free(b->chunks);
	memset(b, 0, sizeof *b);
}

static void *slab_get(srv_slab *b)
{
	unsigned char *c;

	if (b->free) {
		void *p = b->free;
		memcpy(&b->free, p, sizeof b->free);
		return p;
	}
	if (!b->slot_bytes)
		return NULL;
	if (b->nchunks == 0 || b->used == b->per_chunk) {
		if (b->nchunks == b->capchunks) {
			size_t cap = b->capchunks ? 2 * b->capchunks : 16;
			unsigned char **cs =
			    realloc(b->chunks, cap * sizeof *cs);
			if (!cs)
				return NULL;
			b->chunks = cs;
			b->capchunks = cap;
		}
		/* Anonymous and private: pages are zero and not resident
		 * until written, so the unused tail costs nothing. */
		c = mmap(NULL, b->per_chunk * b->slot_bytes,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		/* Slots the caller announced (a restore) are faulted in by one
		 * call per chunk rather than a page fault per 4 KiB. Not huge
		 * pages: with the usual defrag=madvise their faults compact
		 * memory synchronously, seconds of it when the page cache is
		 * full (a 1M-series restore). Best effort (Linux >= 5.14). */
		if (b->expect) {
			size_t k =
			    b->expect < b->per_chunk ? b->expect : b->per_chunk;
#ifdef MADV_POPULATE_WRITE
			madvise(c, k * b->slot_bytes, MADV_POPULATE_WRITE);
#endif
			b->expect -= k;
		}
		b->chunks[b->nchunks++] = c;
		b->used = 0;
	}
	c = b->chunks[b->nchunks - 1] + b->used * b->slot_bytes;
	b->used++;
	return c;
}

int srv_slab_adopt(srv_slab *b, unsigned char *chunk, size_t used)
{
	if (b->nchunks == b->capchunks) {
		size_t cap = b->capchunks ? 2 * b->capchunks : 16;
		unsigned char **cs = realloc(b->chunks, cap * sizeof *cs);
		if (!cs)
			return -1;
		b->chunks = cs;
		b->capchunks = cap;
	}
	b->chunks[b->nchunks++] = chunk;
	b->used = used;
	b->expect -= b->expect < used ? b->expect : used;
	return 0;
}

static void slab_put(srv_slab *b, void *p)
{
	if (!p)
		return;
	memcpy(p, &b->free, sizeof b->free);
	b->free = p;
}

/* ---- the map ---- */

int srv_registry_init(srv_registry *r, const ssm_model *m, size_t history_cap)
{
	memset(r, 0, sizeof *r);
	r->model = m;
	r->history_cap = history_cap;
	r->nbuckets = 1024;
	r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
	if (m) {
		size_t H = (size_t)ssm_model_horizon(m);
		size_t Q = (size_t)ssm_model_nquantiles(m);
		r->state_floats = ssm_model_state_floats(m);
		slab_init(&r->slab,
			  (r->state_floats + H * Q + H) * sizeof(float));
	}
	return r->buckets ? 0 : -1;
}

static void series_free(srv_registry *r, srv_series *s)
{
	free(s->learn);
	slab_put(&r->slab, s->state);
	if (s->hist) {
		srv_history_release(s->hist);
		free(s->hist);
	}
	free(s);
}

void srv_registry_release(srv_registry *r)
{
	size_t i;

	srv_registry_reap(r);
	for (i = 0; i < r->n; i++)
		series_free(r, r->all[i]);
	free(r->all);
	free(r->buckets);
	slab_release(&r->slab);
	memset(r, 0, sizeof *r);
}

srv_series *srv_registry_find(const srv_registry *r, const char *name,
			      size_t len)
{
	uint64_t h = fnv1a(name, len);
	srv_series *s;

	for (s = r->buckets[h & (r->nbuckets - 1)]; s; s = s->next)
		if (s->hash == h && strncmp(s->name, name, len) == 0 &&
		    s->name[len] == '\0')
			return s;
	return NULL;
}

/* Rehash into nb buckets (a power of two); a failed allocation just leaves
 * the chains longer. */
static void rehash(srv_registry *r, size_t nb)
{
	srv_series **b = calloc(nb, sizeof *b);
	size_t i;

	if (!b)
		return;
	for (i = 0; i < r->n; i++) {
		srv_series *s = r->all[i];
		s->next = b[s->hash & (nb - 1)];
		b[s->hash & (nb - 1)] = s;
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = nb;
}

static int reserve_all(srv_registry *r, size_t n)
{
	srv_series **all;

	if (n <= r->cap)
		return 0;
	all = realloc(r->all, n * sizeof *all);
	if (!all)
		return -1;
	r->all = all;
	r->cap = n;
	return 0;
}

void srv_registry_reserve(srv_registry *r, size_t n)
{
	size_t nb = r->nbuckets;

	if (n > r->n)
		r->slab.expect = n - r->n;
	reserve_all(r, n);
	while (nb < n)
		nb *= 2;
	if (nb != r->nbuckets)
		rehash(r, nb);
}

srv_series *srv_registry_add(srv_registry *r, const char *name, size_t len,
			     int period, double step_s)
{
	srv_series *s;
	size_t slot;

	if (r->n == r->cap && reserve_all(r, r->cap ? 2 * r->cap : 256))
		return NULL;
	s = calloc(1, sizeof *s + len + 1);
	if (!s)
		return NULL;
	s->name = s->name_buf;
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	s->hash = fnv1a(name, len);
	s->period = period > 0 ? period : 1;
	s->step_s = step_s;
	s->last_t = -INFINITY;
	s->last_value = NAN;
	s->stepped_t = -INFINITY;
	s->index = r->n;
	r->all[r->n++] = s;
	slot = s->hash & (r->nbuckets - 1);
	s->next = r->buckets[slot];
	r->buckets[slot] = s;
	if (r->n > r->nbuckets)
		rehash(r, r->nbuckets * 2);
	return s;
}

void srv_registry_drop(srv_registry *r, srv_series *s)
{
	srv_series **pp = &r->buckets[s->hash & (r->nbuckets - 1)];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	r->all[s->index] = r->all[r->n - 1];
	r->all[s->index]->index = s->index;
	r->n--;
	s->dropped = 1;
	s->next = r->grave;
	r->grave = s;
}

void srv_registry_reap(srv_registry *r)
{
	while (r->grave) {
		srv_series *s = r->grave;
		r->grave = s->next;
		series_free(r, s);
	}
}

void srv_series_set_slot(srv_registry *r, srv_series *s, float *slot)
{
	const ssm_model *m = r->model;

	s->state = slot;
	s->fq = slot + r->state_floats;
	s->fmean = s->fq + (size_t)ssm_model_horizon(m) *
			       (size_t)ssm_model_nquantiles(m);
}

int srv_series_alloc(srv_registry *r, srv_series *s)
{
	float *slot = slab_get(&r->slab);

	if (!slot)
		return SSM_ENOMEM;
	srv_series_set_slot(r, s, slot);
	s->has_forecast = 0;
	return 0;
}

int srv_series_start(srv_registry *r, srv_series *s)
{
	int err = srv_series_alloc(r, s);

	if (err)
		return err;
	err = ssm_state_init(r->model, s->state, s->period, s->step_s);
	if (err == 0)
		return 0;
	/* Leave the series as it was: still learning, nothing allocated. */
	slab_put(&r->slab, s->state);
	s->state = s->fq = s->fmean = NULL;
	return err;
}

int srv_series_learn_buf(srv_series *s)
{
	if (!s->learn)
		s->learn = malloc(SSM_LEARN_MAX * sizeof *s->learn);
	return s->learn ? 0 : -1;
}

void srv_series_learn_done(srv_series *s)
{
	free(s->learn);
	s->learn = NULL;
}

srv_history *srv_series_history(const srv_registry *r, srv_series *s)
{
	if (!s->hist && r->history_cap > 0) {
		s->hist = malloc(sizeof *s->hist);
		if (s->hist)
			srv_history_init(s->hist, r->history_cap);
	}
	return s->hist;
}
