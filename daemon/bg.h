/*
 * daemon/bg.h: a background thread of our own for slow file work (the
 * checkpoint's writeback and fsync, daemon/ckpt.c), its jobs run in the
 * order they were queued and their completions run on the loop thread.
 *
 * Why not libuv's pool (uv_queue_work): its work threads report to the
 * loop through libuv's internal uv_async_t, and libuv 1.44's loop spins
 * with sched_yield on an async handle whose sender is between its eventfd
 * write and its "done" mark (io/wake.h tells the whole story). A work
 * thread preempted there, on a machine with more runnable threads than
 * cores, holds the loop in that spin until it gets a core again: a stall
 * of every series' forecast, once per checkpoint slice (every
 * CKPT_TICK_MS) since each one starts a writeback. Here the thread
 * answers through an io_wake, which leaves nothing half done.
 *
 * Threads: srv_bg_submit and srv_bg_stop on the loop thread only; a job's
 * work on the background thread, its done on the loop thread, once each,
 * in submission order (a job's work has returned before the next one's
 * starts, and before its own done runs).
 *
 * Ownership: a job's memory is the caller's, and must stay until its done
 * has run. The srv_bg is ours: srv_bg_stop hands it to the loop, which
 * frees it once its wake-up handle is closed.
 */
#ifndef STATECAST_DAEMON_BG_H
#define STATECAST_DAEMON_BG_H

#include <uv.h>

typedef struct srv_bg srv_bg;
typedef struct srv_bg_job srv_bg_job;
typedef void (*srv_bg_fn)(srv_bg_job *j);

struct srv_bg_job {
	srv_bg_fn work;	  /* the background thread */
	srv_bg_fn done;	  /* the loop thread, after work returned */
	void *data;	  /* the caller's */
	srv_bg_job *next; /* srv_bg's queue */
};

/* Starts the thread, named name (at most 15 bytes, the kernel's limit).
 * 0, or a negative errno with nothing to stop (*out NULL). The wake-up
 * handle does not keep the loop alive (unreferenced): a job queued does
 * not either, srv_bg_stop finishes them. */
int srv_bg_start(srv_bg **out, uv_loop_t *loop, const char *name);

/* Queues j (work and done set by the caller; next is ours). Never fails:
 * nothing is allocated. Not after srv_bg_stop. */
void srv_bg_submit(srv_bg *b, srv_bg_job *j);

/* Runs every job queued to the end, blocking the loop thread for their
 * work (at shutdown: a pending fsync is waited for, as store_close waits
 * for its COMMIT), runs their dones here, ends the thread and closes the
 * wake-up; b is freed from the loop once that handle is closed. A done
 * run from here must not submit. NULL is a no-op. */
void srv_bg_stop(srv_bg *b);

#endif
