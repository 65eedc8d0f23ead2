/*
 * io/wake.h: waking the loop thread from another thread, through an eventfd
 * of our own watched by a uv_poll_t, in place of a uv_async_t.
 *
 * Why not uv_async_send: it marks the handle busy, writes libuv's eventfd
 * and then marks it done, and the loop, woken by that write, spins (with
 * sched_yield) on any handle it finds still busy (libuv 1.44's
 * uv__async_spin). When the sender shares a core with the loop, the loop's
 * wake-up can preempt it between the write and the mark, and the loop then
 * spins until the sender gets a core again: 3-30 ms of the loop's CPU after
 * every COMMIT of the store's SCHED_IDLE writer at 50,000 samples/s
 * (bench/results/lat8.md: perf shows sched_yield in those stretches); less
 * for a thread at normal priority (the HTTP threads), but the same spin at
 * the load this machine runs at. A write(2) to an eventfd leaves nothing
 * half done: the loop reads the counter (which coalesces any number of
 * sends into one callback) and never waits for the sender.
 *
 * Threads: io_wake_send() from any thread, as long as the wake-up is open
 * (the owner stops its senders before io_wake_close); everything else on
 * the loop thread. A send after the callback's read of the counter wakes
 * the loop again, so no send is lost.
 *
 * Ownership: the io_wake lives in the caller's memory, which must stay
 * until the closed callback (libuv's rule for handles); the eventfd is
 * closed before that callback runs.
 */
#ifndef STATECAST_IO_WAKE_H
#define STATECAST_IO_WAKE_H

#include <uv.h>

typedef struct io_wake io_wake;
typedef void (*io_wake_cb)(io_wake *w);

struct io_wake {
	int fd; /* the eventfd, -1 when not open */
	uv_poll_t poll;
	io_wake_cb cb;	   /* loop thread, once per wake-up */
	io_wake_cb closed; /* loop thread, after io_wake_close */
	void *data;	   /* the owner's */
};

/*
 * Opens w on loop and starts watching it: cb runs on the loop thread after
 * one or more io_wake_send(). 0, or a negative errno; on failure nothing is
 * left to close unless w->fd is still >= 0, in which case the handle exists
 * and the caller must io_wake_close() it (and wait for closed) before
 * freeing w's memory. w->data is the caller's to set, before or after.
 */
int io_wake_open(io_wake *w, uv_loop_t *loop, io_wake_cb cb);

/* Any thread: makes cb run soon on the loop thread. Async-signal-safe. */
void io_wake_send(io_wake *w);

/* Loop thread: stops watching and closes; closed(w) (may be NULL) runs
 * from the loop once the handle is closed, with the eventfd closed. */
void io_wake_close(io_wake *w, io_wake_cb closed);

#endif
