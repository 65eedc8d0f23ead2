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

#include "daemon/slabfill.h"
#include "io/grow.h"

/* Bytes of one slab chunk: large enough that chunks are few (~100 at 1M
 * series), small enough that a daemon of a few series maps little. */
#define SLAB_CHUNK_BYTES (32u << 20)
/* Bytes faulted in ahead of the slots handed out: what a new series'
 * first touch of its slot would fault page by page (at 100k new series,
 * 8% of the daemon's CPU went to those faults). With the filler thread
 * (slab_fill), one window more, and one slot per series learning its step
 * past its first sample, at most SLAB_SPARE chunks ahead: RSS that those
 * series take a few samples later. */
#define SLAB_AHEAD_BYTES (1u << 20)
/* Chunks mapped ahead of the last one for the filler, at most (256 MiB,
 * ~36k series of the default model): a burst of new series (100k series'
 * first samples, perf.sh's 100k row) has most of its slots faulted in by
 * the filler while the series learn their step. */
#define SLAB_SPARE 8

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

/* A restore's chunks, mapped up front (srv_registry_prefault) and handed
 * to the slab in order; the slab-fill thread faults each in a few chunks
 * before the loop thread reaches it. The loop thread's alone: pre[] and
 * npre are fixed once mapped. */
typedef struct srv_slab_ahead {
	unsigned char **pre;
	size_t npre;
	size_t last_slots; /* of pre[npre - 1] to fault in: its slots to come */
	size_t next;	   /* first chunk of pre[] not yet handed to the slab */
} srv_slab_ahead;

/* Chunks posted to the filler ahead of the one being filled, at most:
 * enough that the filling never waits for it (a chunk is faulted in many
 * times faster than it is filled), and little enough that the memory is
 * not taken long before it is used. Faulting in every chunk at once made a
 * 1M-series restore slower (bench/results/restore3.md): it evicted ~7 GB
 * of page cache up front, the database pages the readers were about to
 * read among them, which then came from disk again. */
#define AHEAD_CHUNKS 4

static void fault_in(srv_slab *b, unsigned char *c, size_t from, size_t k);

/* Posts chunk i of the restore's, if there is one, to be faulted in. */
static void ahead_post(srv_slab *b, size_t i)
{
	srv_slab_ahead *a = b->ahead;

	if (i < a->npre)
		fault_in(b, a->pre[i], 0,
			 i == a->npre - 1 ? a->last_slots : b->per_chunk);
}

/* Unmaps the chunks not handed out and frees the bookkeeping. */
static void ahead_free(srv_slab *b)
{
	srv_slab_ahead *a = b->ahead;

	if (!a)
		return;
	/* The filler may be faulting in (or have queued) a chunk about to
	 * be unmapped: dropped, or waited for. Those handed out are the
	 * slab's: their pages fault on first touch from here on. */
	if (a->next < a->npre)
		srv_slabfill_sync(b->fill, 1);
	for (; a->next < a->npre; a->next++)
		munmap(a->pre[a->next], b->per_chunk * b->slot_bytes);
	free(a->pre);
	free(a);
	b->ahead = NULL;
}

/* The next chunk mapped ahead, or NULL when there is none left; posts
 * the one AHEAD_CHUNKS after it, which keeps the lead. */
static unsigned char *ahead_take(srv_slab *b)
{
	srv_slab_ahead *a = b->ahead;
	unsigned char *c;

	if (!a || a->next == a->npre)
		return NULL;
	c = a->pre[a->next++];
	ahead_post(b, a->next - 1 + AHEAD_CHUNKS);
	if (a->next == a->npre)
		ahead_free(b); /* every chunk handed out: nothing to unmap */
	return c;
}

static void slab_prefault(srv_slab *b)
{
	srv_slab_ahead *a;
	size_t i, k, last, bytes = b->per_chunk * b->slot_bytes;

	if (b->ahead || !b->slot_bytes || !b->expect)
		return;
	/* Slots left in the current chunk come first, as slab_get hands
	 * them out. */
	k = b->nchunks ? b->per_chunk - b->used : 0;
	if (b->expect <= k)
		return;
	if (!b->fill_tried) {
		b->fill_tried = 1;
		b->fill = srv_slabfill_new();
	}
	/* Without the filler (no MADV_POPULATE_WRITE, no thread) there is no
	 * way to fault in from another thread without racing the writes:
	 * slab_grow faults each chunk in as it maps it, on this thread. */
	if (!b->fill)
		return;
	a = calloc(1, sizeof *a);
	if (!a)
		return;
	last = (b->expect - k) % b->per_chunk;
	k = (b->expect - k + b->per_chunk - 1) / b->per_chunk;
	a->pre = calloc(k, sizeof *a->pre);
	if (!a->pre) {
		free(a);
		return;
	}
	for (; a->npre < k; a->npre++) {
		unsigned char *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			break;
		a->pre[a->npre] = c;
	}
	if (a->npre == 0) {
		free(a->pre);
		free(a);
		return;
	}
	/* Of the last chunk, only the slots to come (a whole chunk when
	 * mapping stopped short). */
	a->last_slots = a->npre == k && last ? last : b->per_chunk;
	b->ahead = a;
	for (i = 0; i < AHEAD_CHUNKS; i++)
		ahead_post(b, i);
}

void srv_registry_prefault(srv_registry *r)
{
	slab_prefault(&r->slab);
}

void srv_registry_prefault_end(srv_registry *r)
{
	ahead_free(&r->slab);
	/* The announcement ends with the restore: series that come later
	 * have their windows posted as they arrive (slab_keep_ahead). */
	r->slab.expect = 0;
}

static void slab_release(srv_slab *b)
{
	size_t i;

	/* First: the filler may be faulting in a chunk unmapped below. */
	srv_slabfill_free(b->fill);
	b->fill = NULL;
	for (i = 0; i < b->nspare; i++)
		munmap(b->spare[i], b->per_chunk * b->slot_bytes);
	free(b->spare);
	ahead_free(b);
	for (i = 0; i < b->nchunks; i++)
		munmap(b->chunks[i], b->per_chunk * b->slot_bytes);
	free(b->chunks);
	memset(b, 0, sizeof *b);
}

/* Slots of one window of SLAB_AHEAD_BYTES. */
static size_t window_slots(const srv_slab *b)
{
	size_t k = SLAB_AHEAD_BYTES / b->slot_bytes;

	return k ? k : 1;
}

/* Has slots [from, from + k) of chunk c faulted in: by the filler thread
 * when there is one and its queue has room, else here (best effort: a
 * kernel without MADV_POPULATE_WRITE faults the pages on first touch). */
static void fault_in(srv_slab *b, unsigned char *c, size_t from, size_t k)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)(c + from * b->slot_bytes);
	uintptr_t hi = lo + k * b->slot_bytes;

	lo &= ~(page - 1);
	if (b->fill && srv_slabfill_post(b->fill, (void *)lo, hi - lo) == 0)
		return;
#ifdef MADV_POPULATE_WRITE
	madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#endif
}

/* The loop faults in the next window of the last chunk itself (no
 * filler): when it reaches it. */
static void slab_ahead(srv_slab *b)
{
	size_t k = window_slots(b);

	if (k > b->per_chunk - b->ready)
		k = b->per_chunk - b->ready;
	fault_in(b, b->chunks[b->nchunks - 1], b->ready, k);
	b->ready += k;
}

/* With the filler: posts windows until slots [0, want) of the last chunk,
 * and past its end of the chunks mapped ahead (spare), are posted. Not
 * during a restore, whose chunks come from b->ahead (expect). */
static void slab_fill(srv_slab *b, size_t want)
{
	size_t k = window_slots(b);

	while (b->ready < want && b->ready < b->per_chunk) {
		size_t n =
		    k < b->per_chunk - b->ready ? k : b->per_chunk - b->ready;
		fault_in(b, b->chunks[b->nchunks - 1], b->ready, n);
		b->ready += n;
	}
	if (b->ready < b->per_chunk || b->ahead || b->expect)
		return;
	while (b->per_chunk + b->spare_ready < want) {
		size_t i = b->spare_ready / b->per_chunk;
		size_t j = b->spare_ready % b->per_chunk, n;
		if (i == SLAB_SPARE)
			return;
		if (i == b->nspare) {
			void *c;
			if (!b->spare) {
				b->spare = calloc(SLAB_SPARE, sizeof *b->spare);
				if (!b->spare)
					return;
			}
			c = mmap(NULL, b->per_chunk * b->slot_bytes,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (c == MAP_FAILED)
				return;
			b->spare[b->nspare++] = c;
		}
		n = k < b->per_chunk - j ? k : b->per_chunk - j;
		fault_in(b, b->spare[i], j, n);
		b->spare_ready += n;
	}
}

/* Slots posted from the last chunk's start: its ready ones and those of
 * the chunks mapped ahead. */
static size_t slab_posted(const srv_slab *b)
{
	return b->ready + b->spare_ready;
}

static int slab_grow(srv_slab *b);

/* Before a slot is handed out, or when the lead changed: keeps a window
 * and the lead posted ahead of the slots handed out (hysteresis of a
 * window: one post per window). The filler is started with the first
 * window, and the first chunk mapped for it while the first series learn
 * their step. */
static void slab_keep_ahead(srv_slab *b)
{
	size_t k, want;

	if (!b->slot_bytes)
		return;
	if (!b->nchunks && (!b->lead || b->expect || b->ahead || slab_grow(b)))
		return;
	if (b->used > b->ready)
		return; /* a dump's chunk: its tail faults on first touch */
	k = window_slots(b);
	if (!b->fill_tried) {
		b->fill_tried = 1;
		b->fill = srv_slabfill_new();
	}
	if (!b->fill) {
		if (b->used == b->ready && b->ready < b->per_chunk)
			slab_ahead(b);
		return;
	}
	want = b->used + 1 + k + b->lead;
	if (slab_posted(b) < want)
		slab_fill(b, want + k);
}

/* Room in the chunk array for one more: 0 or -1 (no memory). */
static int chunks_room(srv_slab *b)
{
	return io_grow(&b->chunks, &b->capchunks, b->nchunks + 1,
		       sizeof *b->chunks, 16);
}

/* Maps the slab's next chunk (mapped ahead if it was) and readies its
 * first slots; 0 or -1 (no memory). */
static int slab_grow(srv_slab *b)
{
	unsigned char *c;

	if (chunks_room(b))
		return -1;
	c = ahead_take(b);
	if (!c && b->nspare && !b->expect) {
		/* Mapped ahead by slab_fill, windows of it posted. */
		c = b->spare[0];
		memmove(b->spare, b->spare + 1, --b->nspare * sizeof *b->spare);
		b->ready = b->spare_ready < b->per_chunk ? b->spare_ready
							 : b->per_chunk;
		b->spare_ready -= b->ready;
	} else if (c) {
		/* Faulted in by the filler (or being: where it is behind,
		 * the writes fault as usual). */
		b->expect -=
		    b->expect < b->per_chunk ? b->expect : b->per_chunk;
		b->ready = b->per_chunk;
	} else {
		/* Anonymous and private: pages are zero and not resident
		 * until written, so the unused tail costs nothing. */
		c = mmap(NULL, b->per_chunk * b->slot_bytes,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (c == MAP_FAILED)
			return -1;
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
	}
	b->chunks[b->nchunks++] = c;
	b->used = 0;
	return 0;
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
	if ((b->nchunks == 0 || b->used == b->per_chunk) && slab_grow(b))
		return NULL;
	slab_keep_ahead(b);
	c = b->chunks[b->nchunks - 1] + b->used * b->slot_bytes;
	b->used++;
	return c;
}

int srv_slab_adopt(srv_slab *b, unsigned char *chunk, size_t used)
{
	if (chunks_room(b))
		return -1;
	b->chunks[b->nchunks++] = chunk;
	b->nadopt = b->nchunks;
	b->used = used;
	b->expect -= b->expect < used ? b->expect : used;
	return 0;
}

void srv_registry_warm(srv_registry *r)
{
	srv_slab *b = &r->slab;
	struct srv_slabfill_range *v;
	size_t i, full = b->per_chunk * b->slot_bytes;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!b->nadopt)
		return;
	if (!b->fill_tried) {
		b->fill_tried = 1;
		b->fill = srv_slabfill_new();
	}
	if (!b->fill)
		return; /* no MADV_POPULATE_WRITE: copied on first write */
	v = malloc(b->nadopt * sizeof *v);
	if (!v)
		return;
	for (i = 0; i < b->nadopt; i++) {
		size_t len = full;
		/* The slab's last chunk: only the slots handed out (the
		 * file's hole past them would become zeroed private pages,
		 * RSS that no series uses). */
		if (i == b->nchunks - 1) {
			len =
			    (b->used * b->slot_bytes + page - 1) / page * page;
			len = len < full ? len : full;
		}
		v[i] = (struct srv_slabfill_range){b->chunks[i], len};
	}
	srv_slabfill_warm(b->fill, v, b->nadopt);
	free(v);
}

size_t srv_registry_warmed(const srv_registry *r)
{
	return srv_slabfill_warmed(r->slab.fill);
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

static void learn_uncount(srv_registry *r, srv_series *s);

static void series_free(srv_registry *r, srv_series *s)
{
	learn_uncount(r, s);
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

/* The series' name is name[len], for a series whose key matched (the
 * same length): memcmp reads no further than the series' name. */
static int same_name(const srv_series *s, const char *name, size_t len)
{
	return (len < SRV_KEY_LEN_MAX ||
		strnlen(s->name_buf, len + 1) == len) &&
	       memcmp(s->name_buf, name, len) == 0;
}

srv_series *srv_registry_find(const srv_registry *r, const char *name,
			      size_t len)
{
	return srv_registry_find_hashed(r, name, len,
					srv_registry_hash(name, len));
}

srv_series *srv_registry_find_hashed(const srv_registry *r, const char *name,
				     size_t len, uint64_t h)
{
	size_t m = r->nslots - 1, i;
	uint64_t k = srv_registry_key(h, len);
	const srv_regslot *e;

	for (i = h & m;; i = (i + 1) & m) {
		e = &r->slots[i];
		if (!e->s)
			return NULL;
		if (e->key == k && same_name(e->s, name, len))
			return e->s;
	}
}

/* Into the first free slot of its probe sequence; the caller keeps the
 * load under 1. */
static void slot_put(srv_regslot *slots, size_t nslots, uint64_t key,
		     srv_series *s)
{
	size_t m = nslots - 1, i = key & m;

	while (slots[i].s)
		i = (i + 1) & m;
	slots[i].key = key;
	slots[i].s = s;
}

/* A table of this many bytes or more is faulted in writable as soon as
 * it is allocated (table_new). */
#define TABLE_POPULATE_BYTES (1u << 20)

/* A zeroed table of ns slots. A large one (a restore's reserve: 32 MB at
 * 1M series) is faulted in writable in one call: otherwise the first probe
 * into a page of it reads it (the kernel maps its shared zero page) and
 * the insert that follows writes it, a second fault whose copy flushes the
 * page's TLB entry on every core the process runs on, an IPI each (6% of
 * the loop thread of a 1M-series checkpoint restart, with the IPIs,
 * bench/results/crash7-profile.md). The pages are all written within the
 * restore anyway. Best effort (Linux >= 5.14). */
static srv_regslot *table_new(size_t ns)
{
	srv_regslot *t = calloc(ns, sizeof *t);
#ifdef MADV_POPULATE_WRITE
	size_t bytes = ns * sizeof *t;

	if (t && bytes >= TABLE_POPULATE_BYTES) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t lo = ((uintptr_t)t + page - 1) & ~(page - 1);
		uintptr_t hi = ((uintptr_t)t + bytes) & ~(page - 1);
		/* Writable pages keep what they hold: calloc's zeros. */
		if (hi > lo)
			madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
	}
#endif
	return t;
}

/* Rehash into ns slots (a power of two); 0 or -1 (no memory: the table
 * stays as it was). From the old slots, which hold the keys: no series is
 * read. */
static int rehash(srv_registry *r, size_t ns)
{
	srv_regslot *t = table_new(ns);
	size_t i;

	if (!t)
		return -1;
	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].s)
			slot_put(t, ns, r->slots[i].key, r->slots[i].s);
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

/* A new series, in the dense array (the caller puts it in the map). */
static srv_series *series_new(srv_registry *r, const char *name, size_t len,
			      int period, double step_s, uint64_t hash)
{
	srv_series *s = calloc(1, sizeof *s + len + 1);

	if (!s)
		return NULL;
	s->name = s->name_buf;
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	s->hash = hash;
	s->period = period > 0 ? period : 1;
	s->step_s = step_s;
	s->last_t = -INFINITY;
	s->last_value = NAN;
	s->store_fc_t = -INFINITY; /* none stored: the first one is */
	s->stepped_t = -INFINITY;
	s->index = r->n;
	r->all[r->n++] = s;
	return s;
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
	s = series_new(r, name, len, period, step_s,
		       srv_registry_hash(name, len));
	if (s)
		slot_put(r->slots, r->nslots, srv_registry_key(s->hash, len),
			 s);
	return s;
}

srv_series *srv_registry_add_new(srv_registry *r, const char *name, size_t len,
				 int period, double step_s, int *dup)
{
	return srv_registry_add_hashed(
	    r, name, len, srv_registry_hash(name, len), period, step_s, dup);
}

srv_series *srv_registry_add_hashed(srv_registry *r, const char *name,
				    size_t len, uint64_t h, int period,
				    double step_s, int *dup)
{
	uint64_t k = srv_registry_key(h, len);
	size_t m, i;
	srv_series *s;

	*dup = 0;
	if (r->n == r->cap && reserve_all(r, r->cap ? 2 * r->cap : 256))
		return NULL;
	if (r->n + 1 > r->nslots / 4 * 3 && rehash(r, r->nslots * 2))
		return NULL;
	m = r->nslots - 1;
	for (i = h & m; r->slots[i].s; i = (i + 1) & m) {
		if (r->slots[i].key == k &&
		    same_name(r->slots[i].s, name, len)) {
			*dup = 1;
			return NULL;
		}
	}
	s = series_new(r, name, len, period, step_s, h);
	if (s) /* slot i: the end of the probe, free */
		r->slots[i] = (srv_regslot){k, s};
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
		k = r->slots[j].key & m;
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
	s->has_forecast = s->fc_stale = 0;
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

/* The slots to have faulted in ahead: one for each series counted in
 * r->learning, as many as SLAB_SPARE chunks hold at most. */
static void learning_changed(srv_registry *r)
{
	srv_slab *b = &r->slab;
	size_t cap = SLAB_SPARE * b->per_chunk;

	b->lead = r->learning < cap ? r->learning : cap;
	slab_keep_ahead(b);
}

int srv_series_learn_buf(srv_registry *r, srv_series *s)
{
	if (!s->learn) {
		s->learn = malloc(SSM_LEARN_MAX * sizeof *s->learn);
		if (!s->learn)
			return -1;
	}
	/* Its second sample: a series that goes on, not a name seen once
	 * (whose slot faulted in ahead would be RSS for nothing). */
	if (s->n_learn == 1 && !s->learn_lead) {
		s->learn_lead = 1;
		r->learning++;
		/* A few compares; a post (a lock) once per window. */
		learning_changed(r);
	}
	return 0;
}

/* The series no longer waits for a slot. */
static void learn_uncount(srv_registry *r, srv_series *s)
{
	if (s->learn_lead) {
		s->learn_lead = 0;
		r->learning--;
	}
	if (r->slab.lead > r->learning)
		r->slab.lead = r->learning;
}

void srv_series_learn_done(srv_registry *r, srv_series *s)
{
	learn_uncount(r, s);
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
