/*
 * daemon/pages.h: statecastd's HTTP pages, glued to the loop.
 *
 * Owns the HTTP endpoint (daemon/http.h) and a wake-up (io/wake.h, not a
 * uv_async_t) through which the HTTP threads ask for fresh pages. On the
 * loop thread, its callback
 * gathers numbers from srv (counters, the registry's series, histograms)
 * into the renderers' views (daemon/metrics.h, daemon/status_page.h),
 * renders, and publishes the text. So the registry is read only by the
 * loop thread, and only when someone asks for a page.
 *
 * Settings (config/table.c): listen.http (off when ""), metrics.forecasts
 * (glob; "" = export no forecast), metrics.max_forecast_series,
 * http.status_series.
 *
 * Cost of one render: /metrics walks every series once (a fnmatch each,
 * only when metrics.forecasts is set); / walks every series once to pick
 * the shown ones (anomalous first, then by name), copies their view, and
 * reads at most SRV_PAGES_SPARK recent samples of each shown series: with
 * a store on the read thread (daemon/reader.h), which renders the page
 * too and hands it back for publishing (one render at a time; a request
 * meanwhile gets the next); without one from the in-memory ring, here.
 * During a crash restart's catch-up neither steps every series behind at
 * once (seconds at 1M series, with live ingest and RPC waiting): /metrics
 * steps at most SRV_PAGES_CATCHUP samples and marks the rest, / ranks the
 * series caught up and counts the others (docs/STATE_DUMP.md).
 */
#ifndef STATECAST_DAEMON_PAGES_H
#define STATECAST_DAEMON_PAGES_H

#include <stddef.h>

struct srv;

#define SRV_PAGES_SPARK 120 /* history samples per sparkline */
/* Stored samples one /metrics render (or one RPC list, rpc_methods.c)
 * steps at most for matching series still catching up after a crash
 * restart (one background slice, some 10-30 ms of the loop); the rest are
 * shown as catching up. */
#define SRV_PAGES_CATCHUP 2048

/* Binds listen.http and starts serving; 0 when done or disabled, -1 when
 * the address cannot be bound (logged): a startup misconfiguration. */
int srv_pages_start(struct srv *s);
/* Stops the HTTP threads, then closes the async handle. Idempotent. */
void srv_pages_stop(struct srv *s);
/* After uv_run returned: frees what srv_pages_start allocated. */
void srv_pages_release(struct srv *s);

/* Renders one page (SRV_HTTP_METRICS or SRV_HTTP_STATUS) on the loop
 * thread. NULL on allocation failure; free() the result. */
char *srv_pages_render(struct srv *s, int page, size_t *len);

#endif
