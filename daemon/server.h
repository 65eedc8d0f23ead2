/*
 * daemon/server.h: the daemon's state, owned by the loop thread.
 *
 * One srv per process. Everything in it is touched only from the libuv loop
 * thread: sockets, timers, signals, the registry, the tick's pending
 * samples, subscriptions. The model is read-only and shared.
 *
 * srv_settings is the daemon's view of the configuration: main.c fills it
 * from config/ once at start, so no other daemon file depends on how the
 * config table is spelled, and tests can build one by hand.
 */
#ifndef STATECAST_DAEMON_SERVER_H
#define STATECAST_DAEMON_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/cfg.h"
#include "daemon/conn.h"
#include "daemon/metrics.h"
#include "daemon/registry.h"
#include "daemon/sdnotify.h"
#include "daemon/subscribe.h"
#include "daemon/tick.h"
#include "io/influx.h"
#include "io/lines.h"
#include "io/rpc.h"
#include "io/store.h"
#include "ssm/model.h"

typedef struct srv_settings {
	/* TCP listeners (enabled = 0: off) and the unix socket ("" = off). */
	const cfg_addr *listen_graphite;
	const cfg_addr *listen_influx;
	const cfg_addr *listen_rpc;
	const char *listen_socket;
	size_t subscriber_queue; /* output queued per subscriber, max */
	/* Bytes a connection may hold: its partial line or frame plus the
	 * replies libuv has not handed to the kernel (daemon/conn.h). */
	size_t conn_buffer;
	io_limits lines; /* Graphite/Influx line and name limits */
	io_precision influx_precision;
	rpc_limits rpc;	       /* frame size, depth, element counts */
	int forecast_every;    /* refresh the forecast every k samples */
	int default_period;    /* seasonal period in steps, 1 = none */
	double default_step;   /* seconds; 0 = learn per series */
	int learn_samples;     /* samples that fix a learned step, 2..16 */
	int batch_max;	       /* series per ssm_model_step_batch call */
	int threads;	       /* stepping threads incl. the loop, 0 = cores */
	int share_rows;	       /* model.share_rows, 0 = learnt */
	int slice_us;	       /* model.slice_us, 0 = the kernel's */
	size_t history_ring;   /* samples kept per series for `history` */
	size_t max_series;     /* new series beyond this are refused */
	int max_connections;   /* open client connections, 0 = no limit */
	double idle_timeout_s; /* close silent clients, 0 = never */
	/* Slow senders: a line or frame in progress for min_rate_window_s
	 * must have brought min_rate bytes/s (0 = no check). */
	double min_rate;
	double min_rate_window_s;
	/* rpc.token: TCP RPC clients must `auth` with it first ("" = none;
	 * the unix socket is guarded by its mode and SO_PEERCRED instead). */
	const char *rpc_token;
	/* Its [series "GLOB"] blocks give period and step per series
	 * (cfg_series_match); NULL = none. */
	const struct cfg *cfg;
	/* Persistence (daemon/persist.h): store_path "" = none, samples
	 * live in the history ring and nothing survives a restart. */
	const char *store_path;
	store_opts store;	 /* writer, group commit, retention */
	size_t store_max_queue;	 /* bytes awaiting COMMIT: past it, line
				    connections are not read (srv_hold) */
	double snapshot_s;	 /* snapshot a moved series this often */
	double checkpoint_s;	 /* checkpoint file period (daemon/ckpt.h),
				    0 = off */
	double forecast_every_s; /* store a forecast at most this often */
	double rebuild_window_s; /* history replayed on a model change */
	int state_dump; /* clean stop: write <store_path>.dump (daemon/dump.h)
			 */
} srv_settings;

/* Counters served by `stats`; monotonic since start. */
typedef struct srv_stats {
	uint64_t lines;	       /* Graphite + Influx lines read */
	uint64_t lines_bad;    /* lines that did not parse */
	uint64_t lines_long;   /* lines over max_line, discarded */
	uint64_t samples;      /* samples accepted */
	uint64_t stepped;      /* samples the model has stepped */
	uint64_t rejected;     /* samples refused (order, value, limit) */
	uint64_t out_of_order; /* of which out of order or duplicate */
	uint64_t irregular;    /* stepped with a gap */
	uint64_t resets;       /* non-finite state resets */
	uint64_t anomalies;    /* samples outside their interval */
	uint64_t forecasts;    /* forecast refreshes */
	uint64_t ticks;	       /* ticks that stepped something */
	uint64_t batches;      /* ssm_model_step_batch calls */
	uint64_t batch_max;    /* largest batch seen */
	uint64_t pool_rounds;  /* rounds stepped by the compute pool */
	uint64_t tick_max;     /* most samples stepped in one tick */
	uint64_t tick_paused;  /* ticks that paused line reads when full */
	/* Seconds spent in ticks that stepped, start to end (the sink
	 * included): by the clock, and the loop thread's CPU time. Their
	 * difference is time the loop waited for a core mid-tick. */
	double tick_wall_s, tick_cpu_s;
	uint64_t rpc_requests;	/* requests answered */
	uint64_t rpc_errors;	/* of which errors */
	uint64_t notifications; /* notifications queued */
	uint64_t connections;	/* accepted */
	uint64_t slow_clients;	/* closed for exceeding their output bound */
	uint64_t bad_frames;	/* RPC connections closed for a bad frame */
	uint64_t refused;      /* over limits.max_connections (or fd_clients) */
	uint64_t idle_closed;  /* silent past limits.idle_timeout_s */
	uint64_t slow_senders; /* input slower than limits.min_rate */
	uint64_t over_buffer;  /* input held past limits.conn_buffer */
	uint64_t accept_errors;	 /* accept() failed (EMFILE, ENFILE, ...) */
	uint64_t series_refused; /* new series past limits.max_series */
	uint64_t holds;		 /* line reads paused for store.max_queue */
	/* The catch-up after a crash restart (daemon/persist.h): series
	 * restored behind their stored samples, and those samples. */
	uint64_t behind_series, behind_samples;
} srv_stats;

#define SRV_VERSION "0.1.0"

typedef struct srv {
	uv_loop_t *loop;
	srv_settings set;
	const ssm_model *model;
	const char *model_desc; /* path, or "untrained default" */
	srv_registry reg;
	srv_tick tick;
	srv_subs subs;
	rpc_buf reply;	/* the response being encoded */
	char *name_buf; /* parser output, lines.max_name + 1 bytes */
	char *scratch;	/* Influx parser scratch */
	size_t scratch_cap;
	char *rbuf; /* read buffer shared by the line protocols */
	srv_listener listeners[4];
	srv_conn *conns;    /* every open connection */
	size_t nconns;	    /* how many */
	int conn_limit_hit; /* logged once per episode at the limit */
	int held; /* line connections not read: the store's queue is full */
	srv_conn *paused;   /* ... or not until the tick has run (conn.h) */
	int accept_failing; /* logged once per episode of accept errors */
	size_t fd_clients;  /* clients RLIMIT_NOFILE leaves room for, 0 = any */
	uint64_t refused_logged; /* uv_now() of the last series refusal log */
	uv_timer_t idle;	 /* closes silent and slow connections */
	/* uv_now() when the last poll phase returned (recorded by a check
	 * handle, daemon/guard.c): every byte that had arrived by then was
	 * read, so silence is measured up to it, not up to a late timer. */
	uv_check_t polled_check;
	uint64_t polled;
	uint64_t next_conn_id;
	uv_signal_t sig[2];	     /* SIGTERM, SIGINT */
	struct srv_persist *persist; /* NULL without a store */
	/* The read thread (daemon/reader.h): NULL without a store, or when
	 * it could not start (reads then run on the loop). */
	struct srv_reader *reader;
	/* Series restored behind their stored samples (daemon/catchup.h);
	 * NULL once all have caught up. */
	struct srv_catchup *catchup;
	srv_sd_listen *sd;  /* sockets passed by systemd, or NULL */
	srv_sd_watchdog wd; /* WATCHDOG=1 from this loop, when asked */
	srv_stats st;
	srv_hist step_latency; /* seconds per srv_tick_run that stepped */
	/* Seconds from submit to COMMIT per store batch: the store's
	 * completion callback observes store_result.total_ns * 1e-9 here.
	 * /metrics shows it once it has an observation. */
	srv_hist commit_latency;
	struct srv_pages *pages; /* HTTP endpoint (daemon/pages.h), or NULL */
	double started;		 /* Unix seconds */
	double now;		 /* Unix seconds at the current read callback */
	int stopping;
} srv;

/* Responses above this are refused with a "limit" error, 5 (a `list` of
 * millions of series wants a pattern or a limit). */
#define SRV_REPLY_MAX (256u << 20)

/* Builds everything but the listeners. 0 or -1 (logged). */
int srv_init(srv *s, uv_loop_t *loop, const srv_settings *set,
	     const ssm_model *m, const char *model_desc);
/* Binds every configured listener and installs the signal handlers. */
int srv_start(srv *s);
/* Stops accepting, steps what is pending, closes every connection and
 * handle; the loop then ends by itself. Idempotent. */
void srv_stop(srv *s);
/* After uv_run returned: frees what srv_init allocated. */
void srv_release(srv *s);

/* Wall clock in Unix seconds, for timestamps given as -1 or 0 ("now"). */
double srv_now(void);

/* What the config says for a new series' name: period (>= 1), step (0 =
 * learn) and horizons served (0 = the model's). */
void srv_series_params(const srv *s, const char *name, int *period,
		       double *step_s, int *horizon);

#endif
