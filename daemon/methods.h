/*
 * daemon/methods.h: the msgpack-RPC methods of statecastd.
 *
 * docs/RPC.md is the reference for every method's parameters, result and
 * error codes; this file's functions implement it. Requests are answered in
 * arrival order per connection except `push`, whose reply waits for its
 * samples to reach the sink (and, with the store, their COMMIT).
 */
#ifndef STATECAST_DAEMON_METHODS_H
#define STATECAST_DAEMON_METHODS_H

#include <stddef.h>
#include <stdint.h>

#include "io/rpc.h"

struct srv;
struct srv_conn;
struct srv_series;

/* One complete frame (from rpc_scan_frame) received on c. Returns 0, or -1
 * when the frame is not msgpack-RPC and the connection must close. */
int srv_rpc_frame(struct srv *s, struct srv_conn *c, const char *frame,
		  size_t len);

/* The `forecast` result map of a series with has_forecast set; sub > 0
 * adds "subscription": sub (for notifications). */
void srv_put_forecast(rpc_buf *b, struct srv *s, struct srv_series *se,
		      uint64_t sub);
/* The `anomaly` notification map (see docs/RPC.md). */
void srv_put_anomaly(rpc_buf *b, const struct srv *s,
		     const struct srv_series *se, double t, double value,
		     float score, uint64_t sub);

#endif
