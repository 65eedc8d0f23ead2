/*
 * daemon/order.h: replies in request order on one connection while some
 * of them are produced off the loop thread (daemon/reader.h).
 *
 * docs/RPC.md promises that requests on one connection are answered in
 * order (`push` excepted). A `history` read that runs on the read thread
 * answers later than a `ping` that follows it, so the connection keeps a
 * FIFO of reply slots: srv_order_reserve() appends an empty slot for the
 * deferred reply; a reply produced at once (srv_order_write) goes to the
 * client directly when no slot is open before it, else a copy waits behind
 * the slots; srv_order_fill() fills a slot and writes every reply at the
 * head that is ready. `push` replies and notifications bypass this (they
 * are not bound by the order).
 *
 * Bounds: the copies held behind an open slot count against
 * limits.conn_buffer, as bytes libuv has queued do: past it the client is
 * pipelining faster than it reads and the connection is closed (counted in
 * stats.slow_clients). Slots a connection may hold open at once are
 * bounded by the caller (SRV_READ_PER_CONN).
 *
 * Threads: the loop thread only. Ownership: the slots belong to the
 * connection; a slot stays valid while the reservation's holder keeps a
 * reference to the connection (srv_conn_ref), and srv_order_release (from
 * the connection's last unref) frees what is left.
 */
#ifndef STATECAST_DAEMON_ORDER_H
#define STATECAST_DAEMON_ORDER_H

#include <stddef.h>

struct srv_conn;
typedef struct srv_slot srv_slot;

/* An empty slot at the tail of c's order; NULL when out of memory. */
srv_slot *srv_order_reserve(struct srv_conn *c);
/* Fills sl with buf (malloc'd, len bytes; ownership passes here, NULL = no
 * reply, e.g. the connection is gone) and writes the replies now at the
 * head. */
void srv_order_fill(struct srv_conn *c, srv_slot *sl, char *buf, size_t len);
/* A reply produced now: written at once, or copied behind the open slots.
 * 0, or -1 when the connection is closing or was closed (out of memory,
 * or the held bytes past limits.conn_buffer). */
int srv_order_write(struct srv_conn *c, const void *data, size_t len);
/* Open slots on c (reserved, not yet filled). */
size_t srv_order_open(const struct srv_conn *c);
/* Frees every slot: the connection's last reference is going. */
void srv_order_release(struct srv_conn *c);

#endif
