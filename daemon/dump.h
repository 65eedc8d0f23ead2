/*
 * daemon/dump.h: the registry's side of the state dump (file format:
 * io/statedump.h; when it is written and trusted: docs/STATE_DUMP.md).
 *
 * At a clean stop, once every accepted sample is committed, srv_dump_write
 * writes every series (its identity in the store, counters that recovery
 * would set, its slab slot: state + last forecast) to one file. At the next
 * start, if the database vouches for that file (daemon/persist.c),
 * srv_dump_load maps the file's chunks as the slab's (MAP_PRIVATE: pages
 * are shared with the page cache until a series is next written) and
 * builds the registry from the records, after checking every checksum.
 * Loop thread only (start-up and shutdown).
 */
#ifndef STATECAST_DAEMON_DUMP_H
#define STATECAST_DAEMON_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/server.h"

/* NULL when every series can be dumped (started, declared in the store,
 * no sample waiting), else why not. */
const char *srv_dump_unfit(const srv *s);

/* Writes path.tmp, fsyncs it, renames it to path and fsyncs the directory.
 * 0, or -1 with errno-based text in why. */
int srv_dump_write(srv *s, const char *path, uint64_t gen, uint64_t hash,
		   char *why, size_t whylen);

/*
 * Loads the dump at path into an empty registry. It must have generation
 * gen, model hash, the registry's slot layout and exactly `count` series
 * (the database's). 0 = every series is in the registry; -1 = rejected,
 * why says why: the registry is untouched, or (when *dirty is set) holds a
 * partial load that the caller must reset. progress(ud, done, total) is
 * called as series are added (may be NULL).
 */
int srv_dump_load(srv *s, const char *path, uint64_t gen, uint64_t hash,
		  uint64_t count, int *dirty, char *why, size_t whylen,
		  void (*progress)(void *ud, uint64_t done, uint64_t total),
		  void *ud);

/* ---- shared with the checkpoint (daemon/ckpt.c) ---- */

#include <sys/types.h>

#include "io/statedump.h"

/* State + forecast floats of one slot. */
size_t srv__dump_slot_floats(const srv *s);
/* The record of a series as it is now (slot_crc left 0). */
void srv__dump_rec_of(const srv_series *se, io_dump_rec *r);
/* pwrite of all len bytes: 0 or -1 (errno). */
int srv__dump_pwrite(int fd, const void *buf, size_t len, off_t off);
/* The slots (slot_bytes each) of the n series ser[] back to back at off,
 * straight from the slab: 0 or -1 (errno). */
int srv__dump_slots(int fd, srv_series *const *ser, size_t n, size_t slot_bytes,
		    off_t off);
/* fsync of the directory holding path: 0 or -1. */
int srv__dump_fsync_dir(const char *path);

typedef struct srv__dump_check srv__dump_check;

/* A checked file, mapped: its header, chunks and records. */
typedef struct srv_dump_view {
	io_dump_hdr h;
	unsigned char **chunks; /* nchunks mappings */
	size_t nchunks;
	unsigned char *meta; /* the records' section, in meta_map */
	void *meta_map;	     /* its read-only mapping (from a page) */
	size_t meta_map_len;
	size_t *offsets;	/* record i at meta + offsets[i] */
	int adopted;		/* the chunks belong to the slab */
	srv__dump_check *check; /* the slots' check, NULL = none */
} srv_dump_view;

/* Opens path, checks it (generation gen, model hash, this registry's slot
 * layout, `count` series unless count is UINT64_MAX, every checksum) and
 * maps its chunks. 0, or -1 with why (v released). */
int srv__dump_open(const srv *s, const char *path, uint64_t gen, uint64_t hash,
		   uint64_t count, srv_dump_view *v, char *why, size_t whylen);
/* srv__dump_open without waiting for the slots' checksums: two threads
 * check them meanwhile (reading the file with pread: the slab's copies may
 * be written), srv__dump_check_wait checks what is left beside them and
 * joins them. Until it returns 0 no slot is known good. */
int srv__dump_open_bg(const srv *s, const char *path, uint64_t gen,
		      uint64_t hash, uint64_t count, srv_dump_view *v,
		      char *why, size_t whylen);
/* 0 once every slot's checksum holds; -1 with why (a bad slot: the
 * lowest found before the check stopped; or a read that failed).
 * Idempotent; srv__dump_view_release waits too. */
int srv__dump_check_wait(srv_dump_view *v, char *why, size_t whylen);
/* The slab (which must have no chunk yet) adopts every chunk of v. */
int srv__dump_adopt(srv *s, srv_dump_view *v, char *why, size_t whylen);
float *srv__dump_slot(const srv_dump_view *v, size_t i);
/* Record i (its name points into v->meta). */
void srv__dump_rec(const srv_dump_view *v, size_t i, io_dump_rec *rec);
/* Starts loading record i into the cache (a caller that reads the records
 * in an order it knows ahead). */
void srv__dump_rec_prefetch(const srv_dump_view *v, size_t i);
/* Record i's store id and seq only. */
void srv__dump_rec_key(const srv_dump_view *v, size_t i, int64_t *store_id,
		       uint64_t *seq);
/* The series takes rec's counters and slot. */
void srv__dump_apply(srv_registry *r, srv_series *se, const io_dump_rec *rec,
		     float *slot);
/* Frees the records; unmaps the chunks unless adopted. */
void srv__dump_view_release(srv_dump_view *v);

#endif
