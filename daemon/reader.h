/*
 * daemon/reader.h: the read thread: reads of the store that used to run on
 * the loop thread (`history`, the status page's sparklines), on a
 * background thread (daemon/bg.h) with a read-only connection of its own.
 *
 * Why: at 100k series with the sample log near its cap, one `history` read
 * costs some 4 ms of CPU and the status page 140 ms (50 sparklines;
 * bench/results/log17-read.md); on the loop each was a stall of every
 * series' sample -> forecast path (issue 9's p99 under 2 ms). Here the loop
 * only looks the series up and copies what the read needs (store id,
 * range; for the page, the registry's view), and gets the encoded reply or
 * rendered page back through the job's done.
 *
 * Ownership: the registry stays the loop's; a job carries copies, never a
 * series pointer, so a series dropped meanwhile is no hazard (its read
 * finds what the store still holds). The thread uses its own store_reader
 * and, of the writer's store, only store_flush (thread-safe) for
 * read-your-writes. Jobs run one at a time, in submission order.
 *
 * Bounds: at most SRV_READ_QUEUE jobs queued or running (one status page
 * job besides, which its caller keeps to one at a time); past that
 * srv_reader_submit refuses, and the caller answers "busy" (RPC error 6).
 *
 * Threads: every function here on the loop thread; a job's run on the read
 * thread, its done on the loop thread after run returned.
 */
#ifndef STATECAST_DAEMON_READER_H
#define STATECAST_DAEMON_READER_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/bg.h"
#include "io/store.h"

struct srv;

/* Jobs queued or running at most (the status page's job aside). */
#define SRV_READ_QUEUE 64
/* Of which one connection's `history` requests at most. */
#define SRV_READ_PER_CONN 16

typedef struct srv_read_job srv_read_job;
struct srv_read_job {
	/* Read thread: the work, on the thread's own connection rd; st is
	 * the writer's store, for store_flush only, or NULL while the
	 * reader closes (no waiting for commits then: read what is
	 * committed). */
	void (*run)(srv_read_job *j, store_reader *rd, store *st);
	/* Loop thread, after run; frees the job. */
	void (*done)(struct srv *s, srv_read_job *j);
	struct srv *s;
	int bounded; /* counts against SRV_READ_QUEUE (set by submit) */
	srv_bg_job bg;
};

/* Opens the thread's connection to the store at path and starts it; the
 * reads fall back to the loop thread when this fails (logged). 0 or -1. */
int srv_reader_open(struct srv *s, store *st, const char *path);
/* Runs the jobs queued to their end (their dones too), stops the thread,
 * closes its connection. Before store_close. NULL reader: no-op. */
void srv_reader_close(struct srv *s);
/* The read thread is running. */
int srv_reader_on(const struct srv *s);
/* Queues j (run, done set). bounded: refused (-EAGAIN) when
 * SRV_READ_QUEUE bounded jobs are queued or running. 0, -EAGAIN, or
 * -ENODEV when the thread is not running. */
int srv_reader_submit(struct srv *s, srv_read_job *j, int bounded);
/* A read refused by its caller's own bound (SRV_READ_PER_CONN): counted
 * with the busy ones. */
void srv_reader_note_busy(struct srv *s);
/* Counters for `stats`: jobs run, refused as busy, queued now. */
void srv_reader_counts(const struct srv *s, uint64_t *run, uint64_t *busy,
		       size_t *queued);

#endif
