/*
 * daemon/conn.h: listeners and client connections on the loop thread.
 *
 * Three protocols share one connection type: Graphite and Influx lines (no
 * replies) and msgpack-RPC (requests, responses, notifications). A
 * connection owns a read buffer that holds at most one incomplete line or
 * frame; complete units are handed to the protocol's handler as they arrive.
 *
 * Memory per connection is bounded. Input: the partial line or frame held
 * between reads may not exceed settings.conn_buffer (nor max_line /
 * rpc.max_frame); past it the connection is closed (stats.over_buffer).
 * Buffers are allocated with the first bytes and an RPC buffer is freed
 * when no partial frame is left, so an idle client holds none. Output: the
 * bytes libuv has queued but not yet written to the kernel may not exceed
 * settings.conn_buffer, or settings.subscriber_queue once the connection
 * holds a subscription. A write past that closes the connection (counted
 * in stats as a slow client) instead of letting one reader that stopped
 * reading hold the daemon's memory hostage; other clients are unaffected
 * because nothing ever waits for a write. A producer faster than the
 * daemon costs no memory here: the daemon parses what it reads at once,
 * and TCP flow control holds the rest in the sender's buffers.
 *
 * Lifetime: a connection is freed after its close callback and once no
 * deferred reply holds a reference (srv_conn_ref/unref), so a `push`
 * acknowledgement delayed until a commit can never touch freed memory.
 */
#ifndef STATECAST_DAEMON_CONN_H
#define STATECAST_DAEMON_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "io/lines.h"
#include "io/rpc.h"

struct srv;

typedef enum srv_proto {
	SRV_GRAPHITE,
	SRV_INFLUX,
	SRV_RPC,
} srv_proto;

typedef struct srv_listener {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct srv *srv;
	srv_proto proto;
	int is_pipe;
	int open;
	int adopted;	/* passed by systemd: never unlink its path */
	gid_t sock_gid; /* unix socket's group, its members may connect */
	char addr[128]; /* the bound address as logged */
} srv_listener;

typedef struct srv_conn {
	union {
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct srv *srv;
	srv_proto proto;
	struct srv_conn *prev, *next; /* srv.conns */
	/* Line protocols: the splitter keeps one partial line. */
	io_lines lines;
	char *lbuf;
	/* RPC: received bytes holding at most one partial frame. */
	char *rbuf;
	size_t rlen, rcap;
	rpc_scan *scan; /* with dec, at the first bytes (288 bytes saved
			   on a client that never sends) */
	rpc_dec *dec;
	int closing;
	int warned; /* a bad line was logged; later ones are only counted */
	int refs;   /* 1 while open + deferred replies in flight */
	int nsubs;  /* live subscriptions owned by this connection */
	/* Notifications encoded this tick, not yet written (subscribe.h):
	 * nlen bytes of nbuf (kept between ticks, at its largest); listed
	 * in srv.subs.pending while nlen > 0. */
	char *nbuf;
	size_t nlen, ncap;
	struct srv_conn *nnext;
	int authed; /* may call methods other than `auth` (rpc.token) */
	/* Replies in request order while reads run off the loop
	 * (daemon/order.h): the slots, bytes held in them, open ones. */
	struct srv_slot *oq_head, *oq_tail;
	size_t oq_bytes, oq_open;
	int paused; /* reading stopped until the tick runs (srv_lines_pause) */
	struct srv_conn *pnext; /* srv.paused */
	uint64_t id;		/* for log lines */
	uint64_t last_read;	/* uv_now() of the last bytes received */
	/* limits.min_rate: set while a line or frame is in progress, with
	 * the bytes received since rate_mark (uv_now()). */
	int rate_on;
	uint64_t rate_mark;
	uint64_t rate_bytes;
	char peer[64];
} srv_conn;

/* Binds and listens on host:port over TCP, or on the unix socket path
 * `host` when port < 0. Port 0 picks a free port; the bound address is
 * logged as "listening PROTO on ADDR". 0 or a negative libuv error
 * (logged). */
int srv_listen(struct srv *s, srv_listener *l, srv_proto proto,
	       const char *host, int port);
/* Stops accepting: closes the listening handle (a unix socket's path is
 * unlinked). Safe to call twice. */
void srv_listener_close(srv_listener *l);

/*
 * Guards (daemon/guard.c). srv_idle_start starts the timer that closes
 * connections silent (no bytes received, no subscription) for
 * settings.idle_timeout_s, and those whose line or frame in progress came
 * slower than settings.min_rate over settings.min_rate_window_s (counted
 * as stats.slow_senders). A client that connects and never sends has no
 * line in progress: the idle timeout is what closes it.
 *
 * Both verdicts are taken at the time the last poll phase returned, not at
 * the timer's own time: after one loop iteration longer than the timeout
 * (a long tick), the timer runs before the poll that reads what clients
 * sent meanwhile, and the loop's lateness must not count as their silence.
 */
void srv_idle_start(struct srv *s);
/* Closes the guard's handles (srv_stop); safe if never started. */
void srv_idle_stop(struct srv *s);

/*
 * Backpressure (daemon/listen.c). srv_hold(s, 1) stops reading every
 * Graphite and Influx connection (and new ones start held); srv_hold(s, 0)
 * reads them again. The kernel's socket buffers then fill and senders
 * block, as they do in front of a slow carbon relay: nothing is dropped.
 * RPC connections keep being read (queries, and pushes whose clients wait
 * for their acknowledgement anyway). While held, the idle and min_rate
 * guards leave those connections alone. Logged once per episode.
 */
void srv_hold(struct srv *s, int on);
int srv_conn_held(const srv_conn *c);
/*
 * Tick bound (daemon/listen.c, SRV_TICK_SAMPLES in tick.h). A Graphite or
 * Influx connection whose read leaves the tick full stops reading
 * (srv_lines_pause, from its read callback: libuv then ends its reads for
 * this poll); every other connection readable in the same poll still gets
 * its one read and is paused after it, so all senders keep their turn.
 * srv_tick_run calls srv_lines_resume once the tick has run, and the next
 * poll reads on. Only connections that were read are touched (none of
 * thousands of idle ones). A pause lasts until the tick has run: seconds
 * on a loaded machine, so the guards skip a paused connection and its
 * clocks restart at the resume (the wait was the daemon's, as a hold's).
 */
void srv_lines_pause(srv_conn *c);
void srv_lines_resume(struct srv *s);
/* The read path's half of the rate check: n bytes arrived (before they
 * are parsed), then the parse is done (a unit may still be in progress). */
void srv_rate_read(srv_conn *c, size_t n);
void srv_rate_done(srv_conn *c);
/* Bytes of the partial line or frame c holds (a line being discarded for
 * its length counts 1: it is in progress but holds nothing). */
size_t srv_conn_pending(const srv_conn *c);
/* Raises the soft RLIMIT_NOFILE to fit settings.max_connections clients
 * plus the daemon's own descriptors, up to the hard limit. When the hard
 * limit is lower, sets srv.fd_clients to the clients it leaves room for
 * (logged); connections past it are refused as past max_connections.
 * Call at start, before dropping root, and again after a reload. */
void srv_fd_budget(struct srv *s);

/* Queues len bytes (copied) for the client. Returns 0, or -1 when the
 * connection is closing or was just closed for exceeding its output bound. */
int srv_conn_write(srv_conn *c, const void *data, size_t len);
/* Starts closing the connection (idempotent); why is logged if not NULL. */
void srv_conn_close(srv_conn *c, const char *why);
void srv_conn_ref(srv_conn *c);
void srv_conn_unref(srv_conn *c);

const char *srv_proto_name(srv_proto p);

#endif
