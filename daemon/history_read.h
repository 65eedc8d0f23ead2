/*
 * daemon/history_read.h: the `history` RPC's store read on the read thread
 * (daemon/reader.h), its reply in the connection's order (daemon/order.h).
 *
 * The loop has looked the series up and checked the parameters; the job
 * carries the series' store id and name (copies), the range and the
 * limit. On the read thread it commits what is queued (read-your-writes,
 * as the loop did: docs/RPC.md `history`), reads the range on the thread's
 * own connection and encodes the whole reply; on the loop its done fills
 * the request's slot and drops its reference to the connection.
 */
#ifndef STATECAST_DAEMON_HISTORY_READ_H
#define STATECAST_DAEMON_HISTORY_READ_H

#include <stddef.h>
#include <stdint.h>

struct srv;
struct srv_conn;
struct srv_series;

/*
 * Queues the read of se's samples with from <= t <= to, at most max, for
 * request id on c. 0 when queued (the reply follows in c's order), else an
 * RPC_CODE_* (6: busy, SRV_READ_QUEUE or SRV_READ_PER_CONN reads waiting;
 * 5: out of memory) with msg filled for the caller's error reply.
 */
int srv_history_defer(struct srv *s, struct srv_conn *c, uint32_t id,
		      const struct srv_series *se, double from, double to,
		      size_t max, char *msg, size_t msgn);

#endif
