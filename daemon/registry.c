/*
 * daemon/registry.c: the series hash map and the slab of states (see
 * registry.h).
 */
#include "daemon/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/grow.h"

/* Bytes of one slab chunk: large enough that chunks are few (~100 at 1M
 * series), small enough that a daemon of a few series maps little. */
#define SLAB_CHUNK_BYTES (32u << 20)
/* Bytes faulted in ahead of the slots handed out: what a new series'
 * first touch of its slot would fault page by page (at 100k new series,
 * 8% of the daemon's CPU went to those faults), for at most this much RSS
 * not yet used. */
#define SLAB_AHEAD_BYTES (1u << 20)

/* Word-at-a-time multiply-xorshift over the name, then a full avalanche
 * (MurmurHash3's fmix64), so the table may index by the low bits: about a
 * cycle per byte where FNV-1a's per-byte multiply chain took four or five.
 * The length is mixed in first, so names that differ only by trailing NULs
 * of the last word hash apart. */
uint64_t srv_registry_hash(const char *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = (uint64_t)len * k, w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
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

/* Faults in the next window of the last chunk (best effort: a kernel
 * without MADV_POPULATE_WRITE faults the pages on first touch). */
static void slab_ahead(srv_slab *b)
{
	size_t k = SLAB_AHEAD_BYTES / b->slot_bytes;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;

	if (k == 0)
		k = 1;
	if (k > b->per_chunk - b->ready)
		k = b->per_chunk - b->ready;
	lo = (uintptr_t)(b->chunks[b->nchunks - 1] + b->ready * b->slot_bytes);
	hi = lo + k * b->slot_bytes;
	lo &= ~(page - 1);
#ifdef MADV_POPULATE_WRITE
	madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#endif
	b->ready += k;
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
		if (io_grow(&b->chunks, &b->capchunks, b->nchunks + 1,
			    sizeof *b->chunks, 16))
			return NULL;
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
			b->ready = k;
		} else {
			b->ready = 0;
		}
		b->chunks[b->nchunks++] = c;
		b->used = 0;
	}
	if (b->used == b->ready)
		slab_ahead(b);
	c = b->chunks[b->nchunks - 1] + b->used * b->slot_bytes;
	b->used++;
	return c;
}

int srv_slab_adopt(srv_slab *b, unsigned char *chunk, size_t used)
{
	if (io_grow(&b->chunks, &b->capchunks, b->nchunks + 1,
		    sizeof *b->chunks, 16))
		return -1;
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

/* Slots for n series at a load of at most 3/4 (a power of two >= 1024). */
static size_t slots_for(size_t n)
{
	size_t ns = 1024;

	while (ns / 4 * 3 < n)
		ns *= 2;
	return ns;
}

int srv_registry_init(srv_registry *r, const ssm_model *m, size_t history_cap)
{
	memset(r, 0, sizeof *r);
	r->model = m;
	r->history_cap = history_cap;
	r->nslots = slots_for(0);
	r->slots = calloc(r->nslots, sizeof *r->slots);
	if (m) {
		size_t H = (size_t)ssm_model_horizon(m);
		size_t Q = (size_t)ssm_model_nquantiles(m);
		r->state_floats = ssm_model_state_floats(m);
		slab_init(&r->slab,
			  (r->state_floats + H * Q + H) * sizeof(float));
	}
	return r->slots ? 0 : -1;
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
	free(r->slots);
	slab_release(&r->slab);
	memset(r, 0, sizeof *r);
}

srv_series *srv_registry_find(const srv_registry *r, const char *name,
			      size_t len)
{
	uint64_t h = srv_registry_hash(name, len);
	size_t m = r->nslots - 1, i;
	const srv_regslot *e;

	for (i = h & m;; i = (i + 1) & m) {
		e = &r->slots[i];
		if (!e->s)
			return NULL;
		/* strnlen first: memcmp must not read past a shorter name. */
		if (e->hash == h && strnlen(e->s->name, len + 1) == len &&
		    memcmp(e->s->name, name, len) == 0)
			return e->s;
	}
}

/* Into the first free slot of its probe sequence; the caller keeps the
 * load under 1. */
static void slot_put(srv_regslot *slots, size_t nslots, srv_series *s)
{
	size_t m = nslots - 1, i = s->hash & m;

	while (slots[i].s)
		i = (i + 1) & m;
	slots[i].hash = s->hash;
	slots[i].s = s;
}

/* Rehash into ns slots (a power of two); 0 or -1 (no memory: the table
 * stays as it was). */
static int rehash(srv_registry *r, size_t ns)
{
	srv_regslot *t = calloc(ns, sizeof *t);
	size_t i;

	if (!t)
		return -1;
	for (i = 0; i < r->n; i++)
		slot_put(t, ns, r->all[i]);
	free(r->slots);
	r->slots = t;
	r->nslots = ns;
	return 0;
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
	size_t ns = slots_for(n);

	if (n > r->n)
		r->slab.expect = n - r->n;
	reserve_all(r, n);
	if (ns > r->nslots)
		rehash(r, ns);
}

srv_series *srv_registry_add(srv_registry *r, const char *name, size_t len,
			     int period, double step_s)
{
	srv_series *s;

	if (r->n == r->cap && reserve_all(r, r->cap ? 2 * r->cap : 256))
		return NULL;
	/* Open addressing needs a free slot: grow before the load passes
	 * 3/4, and fail the add (not the map) if that cannot be had. */
	if (r->n + 1 > r->nslots / 4 * 3 && rehash(r, r->nslots * 2))
		return NULL;
	s = calloc(1, sizeof *s + len + 1);
	if (!s)
		return NULL;
	s->name = s->name_buf;
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	s->hash = srv_registry_hash(name, len);
	s->period = period > 0 ? period : 1;
	s->step_s = step_s;
	s->last_t = -INFINITY;
	s->last_value = NAN;
	s->stepped_t = -INFINITY;
	s->store_fc_t = -INFINITY; /* none stored: the first one is */
	s->index = r->n;
	r->all[r->n++] = s;
	slot_put(r->slots, r->nslots, s);
	return s;
}

/* Empties slot i and moves back every later slot of the cluster whose
 * home is not cyclically in (i, j]: linear probing without tombstones. */
static void slot_remove(srv_registry *r, size_t i)
{
	size_t m = r->nslots - 1, j = i, k;

	r->slots[i].s = NULL;
	for (;;) {
		j = (j + 1) & m;
		if (!r->slots[j].s)
			return;
		k = r->slots[j].hash & m;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		r->slots[i] = r->slots[j];
		r->slots[j].s = NULL;
		i = j;
	}
}

void srv_registry_drop(srv_registry *r, srv_series *s)
{
	size_t m = r->nslots - 1, i = s->hash & m;

	while (r->slots[i].s != s)
		i = (i + 1) & m;
	slot_remove(r, i);
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
