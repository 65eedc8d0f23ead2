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

#endif
