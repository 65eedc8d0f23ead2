/*
 * daemon/sdnotify.h: statecastd and its service manager (systemd).
 *
 * Three concerns, all through libsystemd's sd-daemon API:
 *
 * 1. Notifications (Type=notify): srv_sd_ready() once recovery is done and
 *    every listener is bound, srv_sd_status() for progress during long
 *    restores (optionally extending the start timeout), srv_sd_reloading()
 *    around a SIGHUP reload, srv_sd_stopping() when shutdown begins. Each is
 *    a no-op returning 0 when NOTIFY_SOCKET is unset (not under systemd), so
 *    the daemon calls them unconditionally.
 *
 * 2. Watchdog: when the manager asks for one (WatchdogSec=, seen as
 *    WATCHDOG_USEC/WATCHDOG_PID), a uv timer on the daemon's loop sends
 *    WATCHDOG=1 every half period. Because the ping comes from the loop
 *    thread, a wedged loop stops the pings and the manager restarts us; a
 *    ping from a separate thread would prove nothing.
 *
 * 3. Socket activation: srv_sd_listen_init() takes the descriptors passed by
 *    the manager (LISTEN_FDS, names from FileDescriptorName= in
 *    LISTEN_FDNAMES) and srv_sd_adopt_tcp()/srv_sd_adopt_pipe() hand the one
 *    with a given name to an initialised libuv handle. A listener whose name
 *    was not passed returns -ENOENT and the caller binds it itself, so the
 *    same binary runs with or without the .socket units.
 *
 * Descriptor names used by statecastd (systemd/statecastd*.socket):
 *   "graphite" TCP, "influx" TCP, "rpc" TCP, "socket" unix stream (RPC).
 *
 * Threads: everything here runs on the loop thread. Errors are 0 or a
 * negative errno; srv_sd_strerror() describes them.
 */
#ifndef STATECAST_DAEMON_SDNOTIFY_H
#define STATECAST_DAEMON_SDNOTIFY_H

#include <stdint.h>
#include <uv.h>

/* Well-known descriptor names (FileDescriptorName= in the socket units). */
#define SRV_SD_FD_GRAPHITE "graphite"
#define SRV_SD_FD_INFLUX   "influx"
#define SRV_SD_FD_RPC	   "rpc"
#define SRV_SD_FD_SOCKET   "socket"

/* READY=1 plus a STATUS= line summarising what is served (may be NULL). */
int srv_sd_ready(const char *status);

/*
 * STATUS=<printf text>. If extend_usec > 0, also EXTEND_TIMEOUT_USEC= so a
 * long restore (many snapshots to replay) is not killed by TimeoutStartSec;
 * call it again before the extension runs out.
 */
int srv_sd_status(uint64_t extend_usec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* RELOADING=1 at the start of a SIGHUP reload; srv_sd_ready() after it. */
int srv_sd_reloading(void);

/* STOPPING=1 when shutdown starts (before draining and closing). */
int srv_sd_stopping(void);

/*
 * Watchdog. The caller owns the struct (embed it anywhere that outlives the
 * loop's use of it). srv_sd_watchdog_start() returns 1 if the manager asked
 * for a watchdog and the timer runs (unref'd: it never keeps the loop alive),
 * 0 if no watchdog was requested (nothing to close), or a negative errno.
 * srv_sd_watchdog_close() closes the timer if it was started; the struct
 * may be freed once cb has run (cb may be NULL; then wait for uv_run to
 * finish the close before uv_loop_close, as for any handle).
 */
typedef struct srv_sd_watchdog {
	uv_timer_t timer;
	uint64_t period_usec; /* WATCHDOG_USEC as given by the manager */
	uint64_t pings;	      /* WATCHDOG=1 sent so far (for stats) */
	int active;
} srv_sd_watchdog;

int srv_sd_watchdog_start(srv_sd_watchdog *wd, uv_loop_t *loop);
void srv_sd_watchdog_close(srv_sd_watchdog *wd, uv_close_cb cb);

/*
 * Socket activation. srv_sd_listen_init() reads and unsets LISTEN_FDS,
 * LISTEN_PID and LISTEN_FDNAMES (so children do not inherit them); n = 0 when
 * not socket-activated. Descriptors not claimed by an adopt call are closed
 * by srv_sd_listen_release(), which returns how many were left over (the
 * caller logs it: a unit passes a socket the daemon does not use).
 */
#define SRV_SD_MAX_FDS 16
typedef struct srv_sd_listen {
	int n;
	int fds[SRV_SD_MAX_FDS];	/* -1 once claimed */
	char names[SRV_SD_MAX_FDS][64]; /* "unknown" when unnamed */
} srv_sd_listen;

int srv_sd_listen_init(srv_sd_listen *l);
int srv_sd_listen_release(srv_sd_listen *l);

/*
 * Returns the passed descriptor named `name` and marks it claimed, or
 * -ENOENT. The caller owns the descriptor from then on.
 */
int srv_sd_listen_take(srv_sd_listen *l, const char *name);

/*
 * Adopt the descriptor named `name` into an initialised (uv_tcp_init /
 * uv_pipe_init) but not yet bound handle. 0: adopted, the caller goes on with
 * uv_listen(); -ENOENT: no such descriptor, bind yourself; -ENOTSOCK: the
 * descriptor is not a listening stream socket of the right family (it is
 * closed, and the caller should refuse to start: the unit is wrong); another
 * negative errno from libuv.
 */
int srv_sd_adopt_tcp(srv_sd_listen *l, const char *name, uv_tcp_t *h);
int srv_sd_adopt_pipe(srv_sd_listen *l, const char *name, uv_pipe_t *h);

const char *srv_sd_strerror(int err);

#endif
