/*
 * daemon/guard.c: what keeps a connection from holding the daemon's
 * resources for nothing (see conn.h): the idle timeout, the minimum rate of
 * a line or frame in progress, and the descriptor budget.
 *
 * Workload: one timer pass over every connection at most every 5 s (more
 * often only when a timeout below 20 s asks), a few comparisons each; with
 * 10,000 connections that is well under a millisecond of the loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"

/* Descriptors the daemon needs besides its clients: listeners, the store's
 * database and WAL files and readers, the log, the loop's own. */
#define FD_RESERVE 64

void srv_rate_read(srv_conn *c, size_t n)
{
	if (!c->rate_on) {
		c->rate_on = 1;
		c->rate_mark = uv_now(c->srv->loop);
		c->rate_bytes = 0;
	}
	c->rate_bytes += n;
}

void srv_rate_done(srv_conn *c)
{
	if (srv_conn_pending(c) == 0)
		c->rate_on = 0;
}

/* A line or frame in progress for a whole window must have come at
 * min_rate on average over that window; then the next window starts. Real
 * senders (collectd, Telegraf, carbon-c-relay) write whole lines and
 * frames, so their units are in progress for microseconds and never reach
 * a window; a client that trickles bytes to keep a connection open does. */
static int too_slow(srv *s, srv_conn *c, uint64_t now)
{
	uint64_t span = now > c->rate_mark ? now - c->rate_mark : 0;
	double window = s->set.min_rate_window_s * 1000;

	if (!c->rate_on || s->set.min_rate <= 0 || (double)span < window)
		return 0;
	if ((double)c->rate_bytes >= s->set.min_rate * (double)span / 1000) {
		c->rate_mark = now;
		c->rate_bytes = 0;
		return 0;
	}
	return 1;
}

static void on_guard_timer(uv_timer_t *t);

/* The pass runs at a quarter of the shortest timeout (5 s at most), so a
 * connection is closed within 25% past its limit. Re-armed after each
 * pass, which also picks up values changed by a reload. */
static void arm(srv *s)
{
	double p = 5;

	if (s->set.idle_timeout_s > 0 && s->set.idle_timeout_s / 4 < p)
		p = s->set.idle_timeout_s / 4;
	if (s->set.min_rate > 0 && s->set.min_rate_window_s / 4 < p)
		p = s->set.min_rate_window_s / 4;
	uv_timer_start(&s->idle, on_guard_timer, (uint64_t)(p * 1000) + 1, 0);
}

/* libuv runs check handles right after the poll phase, before anything
 * updates the loop time again: uv_now() here is when the poll returned. */
static void on_polled(uv_check_t *h)
{
	srv *s = h->data;

	s->polled = uv_now(s->loop);
}

/*
 * Timers run at the top of a loop iteration, before its poll. When the
 * previous iteration ran long (a tick stepping a large backlog, a stall
 * of the machine), the timer is late and the requests clients sent in the
 * meantime still sit unread in the kernel. Judged at uv_now(), such a
 * client would look silent for the loop's own lateness; judged at the
 * last poll's time, silence means no bytes were there to read for a whole
 * timeout, which is the client's doing. The pass after the next poll
 * catches up on what is really idle.
 */
static void on_guard_timer(uv_timer_t *t)
{
	srv *s = t->data;
	uint64_t now = s->polled;
	uint64_t idle = (uint64_t)(s->set.idle_timeout_s * 1000);
	char why[128];
	srv_conn *c;

	for (c = s->conns; c; c = c->next) {
		/* Held (store.max_queue) or paused (a tick's backlog): the
		 * daemon is not reading it, so its silence and its line in
		 * progress are the daemon's wait, not the sender's; both
		 * restart the clocks when reading resumes. At load 15-20 a
		 * pause outlasted limits.min_rate_window_s and the sender
		 * was closed as slow (tests/integration/test_backpressure.py).
		 */
		if (c->closing || c->paused || srv_conn_held(c))
			continue;
		/* A subscriber only listens: waiting for notifications is
		 * not idle. (last_read may be later than the last poll: a
		 * hold lifted by a timer sets it.) */
		if (idle > 0 && c->nsubs == 0 && now > c->last_read &&
		    now - c->last_read > idle) {
			s->st.idle_closed++;
			srv_conn_close(c, "idle past limits.idle_timeout_s");
		} else if (too_slow(s, c, now)) {
			s->st.slow_senders++;
			snprintf(why, sizeof why,
				 "slower than limits.min_rate: %" PRIu64
				 " bytes in %.1f s with a %s unfinished",
				 c->rate_bytes,
				 (double)(now - c->rate_mark) / 1000,
				 c->proto == SRV_RPC ? "frame" : "line");
			srv_conn_close(c, why);
		}
	}
	arm(s);
}

void srv_idle_start(srv *s)
{
	s->polled = uv_now(s->loop);
	uv_check_init(s->loop, &s->polled_check);
	s->polled_check.data = s;
	uv_check_start(&s->polled_check, on_polled);
	/* It only observes: it must not keep the loop alive by itself. */
	uv_unref((uv_handle_t *)&s->polled_check);
	uv_timer_init(s->loop, &s->idle);
	s->idle.data = s;
	arm(s);
}

void srv_idle_stop(srv *s)
{
	if (s->idle.loop)
		uv_close((uv_handle_t *)&s->idle, NULL);
	if (s->polled_check.loop)
		uv_close((uv_handle_t *)&s->polled_check, NULL);
}

void srv_fd_budget(srv *s)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)s->set.max_connections + FD_RESERVE;

	s->fd_clients = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
				  ? want
				  : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= want || rl.rlim_cur == RLIM_INFINITY)
		return;
	/* Short of descriptors: clients past the budget are refused like
	 * those past limits.max_connections (counted, the limit logged) and
	 * never reach EMFILE, which would also starve the store. */
	s->fd_clients = rl.rlim_cur > FD_RESERVE + 1
			    ? (size_t)(rl.rlim_cur - FD_RESERVE)
			    : 1;
	srv_log(LOG_WARNING,
		"limits.max_connections = %d but only %llu file descriptors "
		"allowed (raise LimitNOFILE or ulimit -n): at most %zu clients",
		s->set.max_connections, (unsigned long long)rl.rlim_cur,
		s->fd_clients);
}
