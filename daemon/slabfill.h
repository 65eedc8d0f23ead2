/*
 * daemon/slabfill.h: a helper thread that faults in the slab's pages
 * ahead of the loop thread while new series arrive (live ingest).
 *
 * Why: a new series' first touch of its slab slot (7.2 KiB with the
 * default model) costs the kernel's page allocation, memcg charge and
 * zeroing, ~3 us of CPU per series on this machine even in one
 * MADV_POPULATE_WRITE per 1 MiB window: 9% of the daemon's CPU, all of it
 * on the loop thread, at perf.sh's 100k x 6 row
 * (bench/results/young10-split.md), where the loop thread is the one that
 * limits the rate. Here the loop thread posts the windows it is about to
 * hand out and this thread faults them in, on the other core.
 *
 * MADV_POPULATE_WRITE faults a page in only where none is mapped, and never
 * changes a page's contents, so it may run beside the loop thread's writes
 * to the same pages: a slot the loop reaches before this thread is faulted
 * by the loop's own write, as without the helper.
 *
 * Two posters share the thread: live ingest (1 MiB windows of new slots,
 * as the series arrive) and a restore (srv_registry_prefault: whole 32 MiB
 * chunks mapped ahead, a few of them ahead of the chunk being filled). One
 * thread, one queue: the restore comes first and ingest after it, so the
 * two never compete for the ring.
 *
 * Ownership: the caller (daemon/registry.c) owns the memory posted and must
 * keep it mapped until srv_slabfill_sync() or srv_slabfill_free() returned.
 */
#ifndef STATECAST_DAEMON_SLABFILL_H
#define STATECAST_DAEMON_SLABFILL_H

#include <stddef.h>

typedef struct srv_slabfill srv_slabfill;

/* Starts the thread ("slab-fill"); NULL where that cannot be had (no
 * MADV_POPULATE_WRITE in this build, no memory, no thread): the caller
 * then faults its windows in itself. */
srv_slabfill *srv_slabfill_new(void);

/* Queues [p, p + len) to be faulted in (p page-aligned); 0, or -1 when
 * the queue is full (the thread is far behind): the caller faults the
 * window in itself. Never blocks for longer than taking a lock. */
int srv_slabfill_post(srv_slabfill *f, void *p, size_t len);

/* Waits until the thread touches none of the memory posted so far: with
 * drop, the windows still queued are dropped (their pages fault on first
 * touch) and only the one being faulted in, if any, is waited for; without,
 * every window queued is faulted in first. Call it before unmapping memory
 * that was posted (and post nothing meanwhile). NULL is accepted. */
void srv_slabfill_sync(srv_slabfill *f, int drop);

/* Stops the thread (windows still queued are dropped: their pages fault
 * on first touch) and joins it. NULL is accepted. */
void srv_slabfill_free(srv_slabfill *f);

#endif
