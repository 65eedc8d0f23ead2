/*
 * daemon/registry.h: the series registry, a hash map name -> series.
 *
 * Workload: every ingested sample looks its series up by name (millions per
 * second at most), new series are rare after warm-up, drops are rarer still.
 * So the map is open addressing with linear probing over slots that hold
 * each series' 64-bit name hash beside its pointer: a lookup hashes the
 * name 8 bytes at a time, walks a few adjacent slots (4 to a cache line)
 * comparing hashes, and touches only the series whose hash matches (one
 * name compare). The table doubles when the load passes 3/4; a removal
 * shifts the cluster behind it back (no tombstones). A dense array of every
 * live series serves `list`, `stats` and shutdown; a drop swaps the last
 * series into the hole.
 *
 * Ownership: the registry owns every srv_series and its blocks (name, state,
 * forecast, history). A dropped series leaves the map at once but is freed
 * only by srv_registry_reap(), which the tick calls when no pending sample
 * can point at it any more.
 *
 * Memory (the daemon's size is the series' size: 1M series hold ~10 GB): a
 * series' state and its last forecast share one fixed-size slot of a slab
 * (srv_slab below), so a started series costs its state, its forecast, the
 * srv_series and its name, and no allocator header per block; the buffer of
 * samples seen while learning exists only while learning.
 *
 * A series' SSM state exists only once its nominal step is known: configured
 * by a [series "PATTERN"] rule or the default, else learned from its first
 * learn_samples timestamps (ssm_nominal_step). Samples seen while learning wait
 * in `learn` and are stepped, in order, the moment the state is created.
 */
#ifndef STATECAST_DAEMON_REGISTRY_H
#define STATECAST_DAEMON_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/history.h"
#include "ssm/model.h"
#include "ssm/nominal.h"

/* Fields are grouped by size so that the struct has no padding holes:
 * at 1M series every 8 bytes here is 8 MB. */
typedef struct srv_series {
	char *name;    /* NUL-terminated identity (tags already normalized);
			  points at name_buf */
	uint64_t hash; /* srv_registry_hash() of the name */
	struct srv_series *next; /* srv_registry.grave list, once dropped */
	size_t index;		 /* position in srv_registry.all */

	float *state; /* ssm_model_state_floats() floats, NULL while learning */
	double step_s; /* nominal step in seconds, 0 while learning */

	/* Timestamp of the last accepted sample (accepted = passed the order
	 * check; it may still be waiting in this tick). -INFINITY if none. */
	double last_t;
	double last_value;
	double stepped_t;     /* t of the last sample the model stepped */
	uint64_t n_samples;   /* accepted samples */
	uint64_t n_dropped;   /* out of order or duplicate */
	uint64_t n_irregular; /* stepped with a gap over 1.5 nominal steps */
	uint64_t n_resets;    /* state went non-finite and was reset */
	uint64_t n_anomalies; /* samples outside the last forecast interval */
	uint64_t n_forecasts; /* forecast refreshes */

	ssm_sample *learn; /* SSM_LEARN_MAX, only while learning (see
			     srv_series_learn_buf) */

	/* The last forecast: H * Q quantiles and H means, valid when
	 * has_forecast. Written in place by the step. They live in the state's
	 * slot, right after the state. */
	float *fq;
	float *fmean;
	double f_t; /* origin */

	/* Recent samples when no store serves history; NULL until the first
	 * (srv_series_history). */
	srv_history *hist;

	/* Persistence (daemon/persist.h); all 0 without a store. */
	int64_t store_id;    /* series id in the store, 0 = not declared */
	uint64_t store_seq;  /* samples handed to the store = last seq */
	uint64_t snap_seq;   /* store_seq of the last snapshot written */
	double store_fc_t;   /* origin of the last forecast stored,
				-INFINITY = none yet */
	double store_step_s; /* step_s and period of its last declaration */
	int store_period;
	/* Whether a subscription matches the name (daemon/subscribe.h):
	 * srv_subs.gen | 1 if one does, srv_subs.gen if none, anything else
	 * = not looked up since the subscriptions last changed. Here, it
	 * fills the hole before tick_mark: the struct does not grow. */
	uint32_t sub_gen;
	uint64_t tick_mark; /* serial of the last tick that refreshed it */

	int period;  /* seasonal period in nominal steps, 1 = none */
	int horizon; /* horizons served, 0 = all the model has */
	int n_learn;
	/* fc_stale: fq and fmean are not yet the forecast of f_t, which the
	 * state gives on demand (daemon/fresh.h); learn_lead: counted in
	 * srv_registry.learning. The struct does not grow. */
	unsigned char has_forecast, fc_stale, learn_lead;
	int since_forecast;  /* samples stepped since the last refresh */
	float anomaly;	     /* score of the last stepped sample, 0 = inside */
	uint32_t tick_round; /* samples of this series queued in this tick */
	int dropped;	     /* dropped while samples were pending */
	char name_buf[];     /* the name, allocated with the struct */
} srv_series;

/*
 * Fixed-size slots carved from large anonymous mappings (chunks), for the
 * blocks every started series has: state + forecast. A released slot goes to
 * a free list and is handed out again; chunks are unmapped only by
 * srv_registry_release. Pages of a chunk become resident when first
 * written, so a chunk costs what its used slots touch. One thread, the
 * slab-fill thread (daemon/slabfill.h), faults them in ahead of the loop
 * thread, one MADV_POPULATE_WRITE per window rather than a page fault per
 * 4 KiB: a restore, which knows its count, posts whole chunks a few ahead
 * of the one being filled (srv_registry_prefault); ingest posts windows of
 * about 1 MiB, a window ahead of the slots handed out and as many slots
 * more as there are series learning their step past their first sample,
 * which take one each a few samples later.
 * Slots are 32-byte aligned (a vector of 8 floats).
 */
typedef struct srv_slab {
	size_t slot_bytes; /* multiple of 32 */
	size_t per_chunk;  /* slots per chunk */
	unsigned char **chunks;
	size_t nchunks, capchunks;
	size_t used;   /* slots handed out of the last chunk */
	size_t ready;  /* slots of the last chunk already faulted in */
	size_t expect; /* slots announced by srv_registry_reserve, to
			  prefault as chunks are mapped */
	void *free;    /* released slots, linked through their first bytes */
	struct srv_slab_ahead
	    *ahead; /* a restore's chunks, mapped ahead and
		       posted to fill (srv_registry_prefault) */
	/* The thread that faults in windows ahead of the slots handed out
	 * (daemon/slabfill.h; NULL: the loop does, each window when it
	 * reaches it, or before the first window), and, for ingest, the
	 * chunks mapped ahead of the last one for it (at most SLAB_SPARE). */
	struct srv_slabfill *fill;
	int fill_tried; /* srv_slabfill_new was called */
	size_t nadopt;	/* chunks[0 .. nadopt) are adopted (srv_slab_adopt):
			   the state dump's private file mappings */
	unsigned char **spare;
	size_t nspare;
	size_t spare_ready; /* slots of spare[0], spare[1].. posted */
	size_t lead;	    /* slots to have posted ahead of used besides a
			       window: the series learning their step */
} srv_slab;

/* One slot of the map: s == NULL is empty. key: srv_registry_key() of the
 * series' hash and name length. */
typedef struct srv_regslot {
	uint64_t key;
	srv_series *s;
} srv_regslot;

typedef struct srv_registry {
	const ssm_model *model;
	srv_regslot *slots;
	size_t nslots; /* power of two; more than n * 4/3 */
	srv_series **all;
	size_t n, cap;
	srv_series *grave; /* dropped, freed by srv_registry_reap() */
	size_t history_cap;
	srv_slab slab;
	size_t state_floats; /* ssm_model_state_floats(), 0 without a model */
	size_t learning;     /* series learning their step that have sent a
				second sample: each takes a slab slot once
				its step is learned (a name seen once may
				never come back: not counted) */
} srv_registry;

/* history_cap: samples kept per series in memory (0 = none). */
int srv_registry_init(srv_registry *r, const ssm_model *m, size_t history_cap);
void srv_registry_release(srv_registry *r);
/* Sizes the map and the dense array for n series, and has the slab fault in
 * the slots of the n - r->n series to come as it maps them (restore knows
 * the count up front: no rehash, no array copy, no page fault per 4 KiB on
 * the way). Best effort. */
void srv_registry_reserve(srv_registry *r, size_t n);

/*
 * A restore's slab, faulted in on another thread: maps the chunks for the
 * slots announced by srv_registry_reserve (not yet handed out) and posts
 * them to the slab-fill thread (daemon/slabfill.h), chunk by chunk in the
 * order slots are handed out: the first few at once, then one more each
 * time the slab takes a chunk, so the filler stays a few chunks ahead of
 * the one being filled (the memory is not taken long before it is used)
 * and the thread that fills the slots (the restore's consumer) writes into
 * resident memory instead of zeroing ~7 GB of fresh pages itself at 1M
 * series. Only MADV_POPULATE_WRITE touches the chunks from that thread
 * (never a store), so a slot the caller writes meanwhile is safe: where
 * the filler is behind, the caller's writes fault as usual. Best effort
 * (nothing is mapped ahead without the filler: slab_grow then faults each
 * chunk in on the caller's thread as it maps it).
 * srv_registry_prefault_end drops the chunks still queued, waits for the
 * one being faulted in, if any, and unmaps the chunks mapped ahead and not
 * handed out (a caller may announce more slots than it fills: at most a
 * few chunks of them were faulted in), and ends the announcement;
 * srv_registry_release ends it too. After srv_slab_adopt, the slots left
 * in the last adopted chunk come first.
 */
void srv_registry_prefault(srv_registry *r);
void srv_registry_prefault_end(srv_registry *r);

/* The map's hash of a name (len bytes, no NUL needed); in-memory only: it
 * depends on the machine's byte order, so it is never stored. */
uint64_t srv_registry_hash(const char *name, size_t len);
srv_series *srv_registry_find(const srv_registry *r, const char *name,
			      size_t len);
/* The same for a caller that has the name's hash (srv_registry_hash). */
srv_series *srv_registry_find_hashed(const srv_registry *r, const char *name,
				     size_t len, uint64_t hash);

/*
 * Prefetch hints for lookups to come, so that a batch of them waits for
 * memory once rather than once per name (at 100k series the map's slot and
 * the series' lines are cache misses): first the map slot of each hash,
 * then, once that is in cache, the series the slot names (its fields and
 * its name). Hints only: they change nothing, and a stale or wrong guess
 * (another series, a slot taken since) costs a wasted fetch.
 */
static inline void srv_registry_prefetch_slot(const srv_registry *r,
					      uint64_t hash)
{
	__builtin_prefetch(&r->slots[hash & (r->nslots - 1)]);
}

/*
 * The map's key of a name: its hash's low 44 bits (the slot index is the
 * hash's low bits: the key's too) and its length in the top 20, so that a
 * probe tells a name of another length apart without reading the series
 * (its name is a cache miss at 100k series) and then compares the bytes
 * with memcmp alone (no strnlen: equal lengths). Lengths from
 * SRV_KEY_LEN_MAX up (over limits.max_name's ceiling) share the top value
 * and are checked by strnlen as well.
 */
#define SRV_KEY_LEN_MAX ((1u << 20) - 1)
static inline uint64_t srv_registry_key(uint64_t hash, size_t len)
{
	uint64_t l = len < SRV_KEY_LEN_MAX ? len : SRV_KEY_LEN_MAX;

	return (hash & ((1ull << 44) - 1)) | l << 44;
}

static inline void srv_registry_prefetch_series(const srv_registry *r,
						uint64_t hash, size_t len)
{
	const srv_regslot *e = &r->slots[hash & (r->nslots - 1)];
	const char *p, *end;

	if (!e->s || e->key != srv_registry_key(hash, len))
		return;
	/* The struct's lines, up to the end of its name (64-byte lines). */
	end = e->s->name_buf + len;
	for (p = (const char *)e->s; p <= end; p += 64)
		__builtin_prefetch(p);
	__builtin_prefetch(end);
}
/* Creates the series (state not yet allocated); NULL on allocation failure.
 * The caller has checked that the name is not present. */
srv_series *srv_registry_add(srv_registry *r, const char *name, size_t len,
			     int period, double step_s);
/* The same in one probe of the map for a caller that has not looked the
 * name up (a restore, a million names): NULL with *dup = 1 when the name is
 * present already (nothing added), NULL with *dup = 0 on allocation
 * failure. */
srv_series *srv_registry_add_new(srv_registry *r, const char *name, size_t len,
				 int period, double step_s, int *dup);
/* The same for a caller that has the name's hash (srv_registry_hash): a
 * checkpoint restart hashes each name once, to prefetch its map slot a few
 * series ahead (srv_registry_prefetch_slot: the insert's probe into a table
 * of tens of MB, 32 MB at 1M series, is otherwise a cache miss per series,
 * most of the insert's time on the loop thread) and then to insert it. */
srv_series *srv_registry_add_hashed(srv_registry *r, const char *name,
				    size_t len, uint64_t hash, int period,
				    double step_s, int *dup);
/* Removes the series from the map now; frees it at the next reap. */
void srv_registry_drop(srv_registry *r, srv_series *s);
void srv_registry_reap(srv_registry *r);

/* Allocates the state and forecast blocks and initialises the state for
 * the series' period and step_s (> 0). 0 or a negative SSM_E* code. */
int srv_series_start(srv_registry *r, srv_series *s);
/*
 * The state dump (daemon/dump.c) hands the slab chunks it mapped from its
 * file: per_chunk * slot_bytes bytes each, unmapped by
 * srv_registry_release like the slab's own. Chunks are adopted in order by
 * a registry whose slab has none yet, each full but the last, whose first
 * `used` slots the caller gives to its series (srv_series_set_slot); the
 * slab hands out the rest. 0 or -1 (no memory).
 */
int srv_slab_adopt(srv_slab *b, unsigned char *chunk, size_t used);
/*
 * Once a restore is done (the states trusted, the daemon about to serve):
 * has the slab-fill thread (daemon/slabfill.h) fault the adopted chunks'
 * pages in for writing, in the background, so that each restored series'
 * first write after the restart does not take a copy-on-write fault per
 * page of its slot on the loop or pool thread (docs/STATE_DUMP.md,
 * "Loading"). Content unchanged, safe beside the loop's writes; a series
 * stepped before its chunk is reached copies its pages itself, as before.
 * No-op without adopted chunks or without the filler. Best effort.
 */
void srv_registry_warm(srv_registry *r);
/* Bytes of the adopted chunks faulted in so far (metric slab_warmed_bytes). */
size_t srv_registry_warmed(const srv_registry *r);
/* Points the series' state and forecast at slot, a slot of an adopted
 * chunk (the forecast's validity is the caller's to set). */
void srv_series_set_slot(srv_registry *r, srv_series *s, float *slot);
/* Allocates the state and forecast blocks without initialising them, for a
 * caller that overwrites the whole state (a restored snapshot); the
 * forecast is not valid (has_forecast stays 0). 0 or SSM_ENOMEM. */
int srv_series_alloc(srv_registry *r, srv_series *s);
/* The buffer of samples seen while learning (SSM_LEARN_MAX), allocated on
 * first use: 0 or -1 (no memory). Freed by srv_series_learn_done (once the
 * caller has stepped what it held) or with the series. */
int srv_series_learn_buf(srv_registry *r, srv_series *s);
void srv_series_learn_done(srv_registry *r, srv_series *s);
/* The series' in-memory history ring (registry's history_cap), allocated on
 * first use; NULL when history_cap is 0 or the allocation fails. */
srv_history *srv_series_history(const srv_registry *r, srv_series *s);

#endif
