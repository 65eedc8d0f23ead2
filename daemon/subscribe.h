/*
 * daemon/subscribe.h: subscriptions and the notifications they receive.
 *
 * A subscription is a glob (fnmatch(3), no flags: `*` crosses dots) owned
 * by one RPC connection. On every forecast refresh of a matching series the
 * connection receives [2, "forecast", MAP], MAP being the `forecast` result
 * plus "subscription": id; when a sample falls outside the interval of the
 * forecast that predicted it, [2, "anomaly", MAP] (see docs/RPC.md).
 *
 * Workload: notifications are encoded once per event and copied to every
 * matching connection. Whether any subscription matches a series is
 * remembered in the series (srv_series.sub_gen) until the subscriptions
 * change (srv_subs.gen), so a refresh of an unwatched series costs a
 * compare, not an fnmatch per subscription; a watched one is matched
 * against each subscription (tens, for the watchers a daemon has). The
 * tick asks srv_subs_watched() too, to step watched series first. A connection
 * over its output bound is closed by srv_conn_write(); its subscriptions are
 * skipped from then on and removed by srv_subs_drop_conn() from its close
 * callback.
 *
 * Batching: a notification is appended to its connection's pending bytes
 * (srv_conn.nbuf) and the connection listed once; srv_subs_flush() hands
 * each listed connection's bytes to one srv_conn_write (one write(2), one
 * wake-up of the reader) instead of one per notification. The tick
 * flushes after each stepped chunk and at its end, so a notification
 * waits at most for the rest of its chunk's bookkeeping (tens of
 * microseconds), and nothing is pending between ticks. The output bound
 * is judged per flush, on the bytes libuv still queues plus the batch.
 */
#ifndef STATECAST_DAEMON_SUBSCRIBE_H
#define STATECAST_DAEMON_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "io/rpc.h"

struct srv;
struct srv_conn;
struct srv_series;

typedef struct srv_sub {
	uint64_t id;
	struct srv_conn *c;
	char *pattern;
	int forecasts; /* send forecast notifications */
	int anomalies; /* send anomaly notifications */
	struct srv_sub *next;
} srv_sub;

typedef struct srv_subs {
	srv_sub *head;
	size_t n;
	uint64_t next_id;
	rpc_buf buf;		  /* one notification being encoded */
	struct srv_conn *pending; /* connections with bytes to flush */
	/* Even, from 2; += 2 whenever a subscription is added or removed,
	 * which makes every series' cached match (sub_gen) stale. */
	uint32_t gen;
} srv_subs;

void srv_subs_init(srv_subs *u);
void srv_subs_release(srv_subs *u);

/* A new subscription for connection c; its id (> 0), or 0 when out of
 * memory. */
uint64_t srv_subscribe(struct srv *s, struct srv_conn *c, const char *pattern,
		       size_t len, int forecasts, int anomalies);
/* Removes c's subscription id: 0, or -1 when c has no such id. */
int srv_unsubscribe(struct srv *s, struct srv_conn *c, uint64_t id);
/* Removes every subscription of c (c is closing). */
void srv_subs_drop_conn(struct srv *s, struct srv_conn *c);

/* Whether some subscription matches the series' name: 1 or 0, looked up
 * (fnmatch per subscription) only the first time after the subscriptions
 * changed, then read from the series. */
int srv_subs_watched(struct srv *s, struct srv_series *se);
/* The series' forecast was just refreshed. */
void srv_subs_forecast(struct srv *s, struct srv_series *se);
/* Writes every connection's pending notifications (one write each). */
void srv_subs_flush(struct srv *s);
/* The sample (t, value) scored `score` against the series' current
 * forecast, which is still the one that predicted it. */
void srv_subs_anomaly(struct srv *s, struct srv_series *se, double t,
		      double value, float score);

#endif
