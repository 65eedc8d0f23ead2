/*
 * daemon/ckpt.h: the periodic checkpoint, a state dump written while the
 * daemon runs, so that a start after a crash maps it as the slab and
 * replays from SQLite only what followed it (docs/STATE_DUMP.md; file
 * format io/statedump.h, the clean-stop dump's).
 *
 * Writing (a fuzzy checkpoint). Every store.checkpoint_s, if any sample
 * was stored since the last generation began, a generation starts: the
 * started series declared in the store are listed, the file
 * <store.path>.ckpt.tmp is laid out for them, and every CKPT_TICK_MS the
 * loop thread writes the next slice of their slots (straight from the
 * slab, pwritev) and records (each with the seq its state holds, and the
 * slot's CRC-32C), so that the whole list is written over about
 * store.checkpoint_s. Each record is consistent with its slot (both are
 * written between two ticks, on the thread that steps them); different
 * records are from different moments, which is what the per-record seq
 * is for. The writeback of each slice starts as it is written
 * (sync_file_range on the checkpoint's own thread, daemon/bg.h, one at
 * a time), so the fsync at the end finds little left to write and the
 * records age by less before they count. Then the header goes last, that
 * thread fsyncs the file, renames it to <store.path>.ckpt0 or .ckpt1 (the
 * parity of the generation number; the other one holds the generation
 * the database names now) and fsyncs the directory, and the loop submits a
 * store batch naming the generation (store_batch_checkpoint). Once that
 * commits, the previous generation's file is removed. A crash at any point
 * leaves the database naming a complete, fsynced file: the new one or the
 * previous. A series dropped while a generation is written abandons it (the
 * list holds pointers); the next one starts at the next period.
 *
 * Loading (srv_ckpt_load): the file the database names is checked like
 * the dump (generation, model hash, slot layout, every CRC) and its
 * chunks become the slab's; store_recover then walks the database with
 * the records' (id, seq) as known states (store.h, STORE_RESTORE_KNOWN),
 * srv_ckpt_series() gives each known series its mapped slot and
 * counters, and only samples after each record's seq are replayed.
 * Series not in the file (created after the generation began, or
 * snapshotted in SQLite since) come from SQLite as before; records of
 * series no longer in the database are ignored (their slots stay unused).
 *
 * Loop thread only.
 */
#ifndef STATECAST_DAEMON_CKPT_H
#define STATECAST_DAEMON_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/dump.h"
#include "io/store.h"

/* Period of the slice timer: a generation is written in
 * store.checkpoint_s * 1000 / CKPT_TICK_MS slices. */
#define CKPT_TICK_MS 100

typedef struct srv_ckpt srv_ckpt;

/* recorded: the generation the database names now (0 = none). NULL when
 * out of memory. */
srv_ckpt *srv_ckpt_new(srv *s, uint64_t recorded);
/* Abandons a generation being written (its temporary file removed) and
 * writes no more. A writeback or an fsync under way is waited for (the
 * loop blocks for it: at shutdown) and a generation being fsynced is
 * dropped; the thread ends, and the loop must run once more before
 * srv_ckpt_free (its wake-up handle closes). */
void srv_ckpt_stop(srv_ckpt *c);
void srv_ckpt_free(srv_ckpt *c);
/* From the slice timer: starts a generation when one is due (moved: a
 * counter of samples stored, unchanged = nothing to write) and writes the
 * next slice. */
void srv_ckpt_tick(srv_ckpt *c, uint64_t moved);
/* The series is being dropped. */
void srv_ckpt_forget(srv_ckpt *c, const srv_series *se);
/* The batch naming gen has completed (status 0 = committed). */
void srv_ckpt_recorded(srv_ckpt *c, uint64_t gen, int status);
/* Generations written and recorded since start, and the last one's
 * seconds from its start to its record. */
uint64_t srv_ckpt_generations(const srv_ckpt *c);

/* Provided by daemon/persist.c: submit the batch naming gen; its
 * completion calls srv_ckpt_recorded. -1 when the store is closed. */
int srv__persist_record_ckpt(srv *s, uint64_t gen);

/* <store.path>.ckpt0 / .ckpt1 by the generation's parity, or .ckpt.tmp
 * for gen 0. */
void srv_ckpt_path(const srv *s, uint64_t gen, char *buf, size_t cap);

/* ---- start-up ---- */

/* Records decoded ahead of their series (srv_ckpt_series), by index mod
 * SRV_CKPT_RING: more than the lookahead (CKPT_AHEAD in ckpt.c). */
#define SRV_CKPT_RING 16

typedef struct srv_ckpt_ahead {
	size_t at; /* known[] index + 1 of rec; 0 = none */
	io_dump_rec rec;
	uint64_t hash; /* srv_registry_hash of rec's name */
} srv_ckpt_ahead;

typedef struct srv_ckpt_restore {
	srv_dump_view v;
	store_known *known; /* n, ids ascending: store_recover_cb.known */
	uint32_t *rec;	    /* known[i]'s record in v */
	size_t n;
	int64_t max_id; /* largest store id in the file */
	/* Loop thread only: each record decoded and its name hashed once,
	 * for the prefetch and then for the insert. */
	srv_ckpt_ahead ring[SRV_CKPT_RING];
} srv_ckpt_restore;

/* Maps the checkpoint gen into the (empty) registry's slab. 0 = loaded;
 * -1 = not (why says why; *dirty = the slab holds part of it, the caller
 * resets the registry). The slots' checksums are checked on two threads
 * meanwhile (reading the file, which at 1M series may not be in the page
 * cache, while store_recover walks the database): nothing of the
 * checkpoint may be trusted until srv_ckpt_check_wait returns 0. */
int srv_ckpt_load(srv *s, uint64_t gen, uint64_t hash, srv_ckpt_restore *cr,
		  int *dirty, char *why, size_t whylen);
/* The series si (announced with STORE_RESTORE_KNOWN, si->known its index
 * in cr->known as the walk found it) from its record:
 * added to the registry with its mapped slot (*out). 0, with *out NULL
 * when the record does not match the database (logged: the series is
 * skipped); -1 when out of memory. */
int srv_ckpt_series(srv *s, srv_ckpt_restore *cr, const store_series_info *si,
		    srv_series **out);
/* Joins the check of every slot: 0 = every checksum holds; -1 = one
 * does not (why): the caller resets the registry and restores from the
 * database alone. */
int srv_ckpt_check_wait(srv_ckpt_restore *cr, char *why, size_t whylen);
void srv_ckpt_restore_release(srv_ckpt_restore *cr);
/* Internal (tests/daemon/test_ckpt_sort.c): a record's id, seq and index,
 * and their sort by id (ascending; equal ids end up adjacent, which the
 * load rejects), linear when the input is sorted or nearly so. */
typedef struct srv__kent {
	int64_t id;
	uint64_t seq;
	uint32_t rec;
} srv__kent;
void srv__ckpt_sort(srv__kent *k, size_t n);

#endif
