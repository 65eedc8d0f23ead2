/*
 * io/futex.h: sleeping on a 32-bit counter without a lock, and waking its
 * sleepers: the one piece of code behind the two hand-offs that do it, the
 * store's writer (io/store.c, wake_seq) and the compute pool (daemon/pool.c,
 * run_seq and done_seq). A sleeper reads the counter, checks for work, and
 * sleeps only if the counter still reads the value it read; a waker
 * publishes the work, bumps the counter, then wakes. Neither retakes a
 * mutex on waking (why: bench/results/lat11-summary.md, pool15.md).
 *
 * The wait is FUTEX_WAIT_BITSET, the op a condition variable waits with,
 * not FUTEX_WAIT (a sleep on a held pthread mutex): bench/lat_mutex.sh
 * tells the two apart by op. Its deadline, when given, is an absolute
 * CLOCK_MONOTONIC time.
 */
#ifndef STATECAST_IO_FUTEX_H
#define STATECAST_IO_FUTEX_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *w == v, until woken or the deadline (NULL: none); returns
 * at once if *w no longer reads v. */
static inline void io_futex_wait(_Atomic uint32_t *w, uint32_t v,
				 const struct timespec *deadline)
{
	syscall(SYS_futex, w, FUTEX_WAIT_BITSET_PRIVATE, v, deadline, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

/* Wakes at most n of the threads asleep on w. */
static inline void io_futex_wake(_Atomic uint32_t *w, int n)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
