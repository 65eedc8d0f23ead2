/*
 * daemon/trace.h: an in-memory trace of the loop thread's timeline, for
 * finding what a slow sample waited on (bench/latency.sh --trace).
 *
 * Off unless the environment names a file: STATECAST_TRACE=PATH. Then each
 * srv_trace() call appends one fixed-size event (CLOCK_MONOTONIC time,
 * kind, two integers) to a buffer allocated once at srv_trace_open (at
 * most SRV_TRACE_MAX events; later ones are counted, not kept), and
 * srv_trace_close writes them to PATH as text, one event per line:
 *     <monotonic microseconds> <kind> <a> <b> <cpu us> <preempts> <wait us>
 * CLOCK_MONOTONIC is shared by every process of the machine, so the lines
 * join with a load generator's own timestamps (bench/loadgen.c
 * --lat-trace). Off, a call costs one load and one branch.
 *
 * What the loop thread did between two events: cpu = its CPU time
 * (CLOCK_THREAD_CPUTIME_ID), cumulative, on every event; wait = its
 * cumulative time runnable but without a core (/proc/thread-self/
 * schedstat's run delay) and preempts = its involuntary context switches
 * (getrusage), read only at the events that open and close the loop's
 * phases (poll, tick, pool round, periodic work: SRV_TRACE_WAIT_KINDS),
 * -1 on the others, since reading them costs a few microseconds (read
 * before the event's clocks, so that a wait inside those reads falls
 * before its time, in the phase it closes). So a
 * gap is told apart: work (cpu), waiting for a core (wait), or sleeping
 * (the rest: idle in the poll, or blocked on a helper's chunk). On, an
 * event costs one clock read (and two syscalls with the run delay).
 *
 * Single-threaded: only the loop thread records (helpers and the store's
 * writer are seen through the loop's events around them).
 */
#ifndef STATECAST_DAEMON_TRACE_H
#define STATECAST_DAEMON_TRACE_H

#include <stdint.h>

#define SRV_TRACE_MAX (1u << 20)

/* Event kinds: one letter each, as written. */
enum srv_trace_kind {
	SRV_TR_POLL = 'p',     /* loop about to poll: a = pending samples */
	SRV_TR_READ = 'r',     /* a line read: a = bytes, b = samples queued */
	SRV_TR_TICK = 'T',     /* tick begins: a = steps, b = rounds */
	SRV_TR_TICKEND = 'E',  /* tick ends: a = its CPU us, b = steps */
	SRV_TR_SINK = 'K',     /* sink (store submit) done: a = samples */
	SRV_TR_NOTIFY = 'N',   /* notification written: a = bytes, b = queued
				  bytes on the connection before it */
	SRV_TR_SNAP = 'S',     /* snapshot slice: a = series asked */
	SRV_TR_SNAPEND = 's',  /* ... done: a = rows submitted */
	SRV_TR_STORE = 'D',    /* store completions handled: a = batches */
	SRV_TR_POOL = 'P',     /* a round shared with the pool: a = chunks */
	SRV_TR_POOLEND = 'Q',  /* ... all its chunks done: a = 0 or -1 */
	SRV_TR_STOREEND = 'd', /* ... store completions handled */
	SRV_TR_CKPT = 'C',     /* checkpoint slice timer */
	SRV_TR_CKPTEND = 'c',  /* ... done: a = its phase afterwards */
};

/* The kinds whose events also read the run delay (see above). */
#define SRV_TRACE_WAIT_KINDS "pTEPQSsDdCc"

extern int srv_trace_on;

/* Reads STATECAST_TRACE; allocates the buffer when set. 0 or -1 (no
 * memory: tracing stays off). */
int srv_trace_open(void);
/* Writes the events to the file and frees the buffer; 0, or -1 when the
 * file could not be written. A no-op when tracing is off. */
int srv_trace_close(void);
/* Events recorded and dropped (past SRV_TRACE_MAX) so far. */
uint64_t srv_trace_count(uint64_t *dropped);

void srv_trace__ev(int kind, int64_t a, int64_t b);
static inline void srv_trace(int kind, int64_t a, int64_t b)
{
	if (srv_trace_on)
		srv_trace__ev(kind, a, b);
}

#endif
