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
 * A third job, last in line: the warm-up of a restore's slab
 * (srv_slabfill_warm), the chunks mapped privately from the state dump or
 * checkpoint (daemon/dump.c). Their pages are the file's until written, and
 * each series' first write after the restart took a copy-on-write fault
 * per page on the loop or pool thread, in the middle of the first ticks
 * (bench/results/warm17.md). MADV_POPULATE_WRITE breaks that sharing ahead
 * of the writes, on this thread: the same copy of the file's bytes that the
 * fault makes, content unchanged, so beside the loop's writes it is as
 * safe as for fresh memory (the page table lock orders a copy and a write
 * of one page; a page already copied is left alone). It runs in 1 MiB
 * slices, a ring window first whenever one is queued.
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

/* A range of memory to warm up (srv_slabfill_warm). */
struct srv_slabfill_range {
	unsigned char *p; /* page-aligned */
	size_t len;
};

/* Queues the n ranges r (copied; each page-aligned) to be faulted in for
 * writing, slice by slice, whenever no window is queued: the warm-up of a
 * restored slab. Replaces a warm-up not done yet. 0, or -1 (f NULL, n 0,
 * or no memory: the pages then fault on first write, as without it). */
int srv_slabfill_warm(srv_slabfill *f, const struct srv_slabfill_range *r,
		      size_t n);

/* Bytes of warm-ups handed to madvise so far (0 for NULL): the metric
 * slab_warmed_bytes. */
size_t srv_slabfill_warmed(srv_slabfill *f);

/* Waits until the thread touches none of the memory posted so far: with
 * drop, the windows still queued, and the warm-up not done, are dropped
 * (their pages fault on first touch) and only the slice being faulted in,
 * if any, is waited for; without, every window queued is faulted in first
 * (the warm-up is dropped all the same). Call it before unmapping memory
 * that was posted (and post nothing meanwhile). NULL is accepted. */
void srv_slabfill_sync(srv_slabfill *f, int drop);

/* Stops the thread (windows still queued are dropped: their pages fault
 * on first touch) and joins it. NULL is accepted. */
void srv_slabfill_free(srv_slabfill *f);

#endif
