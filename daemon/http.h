/*
 * daemon/http.h: statecastd's HTTP endpoint (/metrics and the / status page)
 * on libmicrohttpd, which runs its own threads.
 *
 * The seam between the threads: the HTTP threads never touch the registry or
 * anything else of the loop's. They serve immutable page snapshots that the
 * loop thread renders and publishes:
 *
 *   HTTP thread                          loop thread
 *   request for page P
 *     marks P wanted, calls want() ----> (io_wake_send; coalesces)
 *     waits up to wait_ms for a          srv_http_wanted() -> {P}
 *     snapshot of P newer than the       renders P into a malloc'd buffer
 *     request                      <---- srv_http_publish(P, buf)
 *     takes a reference to the latest snapshot, serves it, drops the
 *     reference when libmicrohttpd has sent it (the last reference frees it)
 *
 * So a scrape sees numbers as fresh as the loop can make them, a stalled
 * loop (a long restore) costs a request at most wait_ms before it gets the
 * previous snapshot (or 503 when there has never been one), and rendering
 * happens only when someone asks. One mutex guards the snapshot pointers and
 * reference counts; it is never held while rendering or sending.
 *
 * Lifetime: srv_http_stop() wakes waiting requests, stops libmicrohttpd and
 * joins its threads, after which want() is never called again. Call it
 * before closing whatever want() signals (the io_wake).
 */
#ifndef STATECAST_DAEMON_HTTP_H
#define STATECAST_DAEMON_HTTP_H

#include <stddef.h>

enum srv_http_page {
	SRV_HTTP_METRICS = 0, /* GET /metrics: Prometheus text format */
	SRV_HTTP_STATUS = 1,  /* GET /: the HTML status page */
	SRV_HTTP_NPAGES = 2,
};

typedef struct srv_http_config {
	const char *host; /* numeric IPv4 or IPv6 address to bind */
	int port;	  /* 0 = an ephemeral port (see srv_http_port) */
	/* Called on an HTTP thread when a page is wanted; must be
	 * thread-safe and quick (io_wake_send). NULL: pages are only
	 * published on the owner's own schedule. */
	void (*want)(void *arg);
	void *want_arg;
	int wait_ms;	     /* wait for a fresh snapshot, default 1000 */
	int max_connections; /* concurrent connections, default 16 */
} srv_http_config;

typedef struct srv_http srv_http;

/* Binds and starts serving. 0 or a negative errno (-EADDRINUSE, -EINVAL
 * for a host that is not a numeric address, -ENOMEM, -EIO otherwise). */
int srv_http_start(srv_http **out, const srv_http_config *c);
/* The bound port (the ephemeral one when configured as 0). */
int srv_http_port(const srv_http *h);

/* Owner thread: the pages asked for since the last call, as a bit mask
 * (1 << SRV_HTTP_METRICS ...); clears it. */
unsigned srv_http_wanted(srv_http *h);

/* Owner thread: makes body (malloc'd, len bytes) the page's snapshot. The
 * server owns body from here on, also on error. 0 or -EINVAL/-ENOMEM. */
int srv_http_publish(srv_http *h, int page, char *body, size_t len);

/* Stops serving, joins the HTTP threads, frees everything. NULL is fine. */
void srv_http_stop(srv_http *h);

#endif
