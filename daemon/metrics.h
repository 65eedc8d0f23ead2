/*
 * daemon/metrics.h: the Prometheus text exposition of statecastd (/metrics).
 *
 * The loop thread fills an srv_metrics with plain numbers and views of the
 * exported forecasts, then srv_metrics_render() writes the text exposition
 * format 0.0.4 into a buffer that the HTTP thread serves (daemon/http.h).
 * Nothing here reads the registry or takes a lock: the caller gathers the
 * numbers on the thread that owns them, which keeps the HTTP thread away from
 * the registry.
 *
 * Forecasts are exported as gauge values (statecast_forecast is declared
 * "untyped", which Prometheus stores exactly as a gauge, because promtool's
 * linter rejects a "quantile" label outside summaries) without timestamps
 * (Prometheus rejects samples stamped in the future, and a forecast is about
 * the future): the scrape time is the forecast's issue time, and horizon h
 * means h nominal steps of the series after
 * statecast_forecast_origin_timestamp_seconds.
 *
 * The histogram (srv_hist) is single-writer: the thread that owns the
 * srv_metrics inputs observes into it, with no allocation.
 */
#ifndef STATECAST_DAEMON_METRICS_H
#define STATECAST_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "io/textbuf.h"

#define SRV_HIST_MAX 32 /* finite bucket bounds at most */

/* A cumulative-on-render histogram with fixed upper bounds (le). */
typedef struct srv_hist {
	int nb;			      /* finite bounds, <= SRV_HIST_MAX */
	double le[SRV_HIST_MAX];      /* increasing upper bounds */
	uint64_t n[SRV_HIST_MAX + 1]; /* per bucket, not cumulative; [nb] is
					 above the last bound */
	double sum;
	uint64_t count;
} srv_hist;

/* bounds: nb increasing finite values (nb <= SRV_HIST_MAX). 0 or -1. */
int srv_hist_init(srv_hist *h, const double *bounds, int nb);
/* Latency buckets 1, 2.5, 5 x 10^k seconds from 1 us to 10 s. */
void srv_hist_init_latency(srv_hist *h);
/* A NaN observation is ignored. */
void srv_hist_observe(srv_hist *h, double v);

/* One labelled counter, e.g. {"reason", "out_of_order", 12}. */
typedef struct srv_metrics_count {
	const char *label; /* label value (the name is per family); NULL:
			      the sample has no label */
	uint64_t n;
} srv_metrics_count;

/* The latest forecast of one exported series (views, not owned). */
typedef struct srv_metrics_forecast {
	const char *series;  /* any bytes; escaped, invalid UTF-8 replaced */
	int H, Q;	     /* horizons, quantile levels */
	const float *levels; /* [Q] quantile levels in (0, 1) */
	const float *q;	     /* [H * Q], q[h * Q + k] at horizon h + 1 */
	const float *mean;   /* [H] or NULL */
	double origin_t;     /* Unix seconds of the last stepped sample */
	double step_s;	     /* nominal step in seconds */
	float anomaly;	     /* score of the last sample, 0 = inside */
	double last_value;   /* the last sample's value (NaN: none) */
} srv_metrics_forecast;

/* A series matching metrics.forecasts still catching up after a crash
 * restart (daemon/catchup.h): its forecast is not current, so not
 * exported this scrape. */
typedef struct srv_metrics_behind {
	const char *series;
	double stored_t; /* Unix seconds of its last stored sample */
} srv_metrics_behind;

typedef struct srv_metrics {
	const char *version;
	double start_time_s; /* Unix seconds the daemon started */

	const srv_metrics_count *ingested; /* by protocol */
	int ningested;
	const srv_metrics_count *dropped; /* by reason */
	int ndropped;

	uint64_t series;      /* live series */
	uint64_t connections; /* open client connections, all protocols */
	uint64_t subscribers; /* forecast subscriptions */

	const srv_hist *step_latency;	/* seconds per tick step; NULL: none */
	const srv_hist *commit_latency; /* seconds per COMMIT; NULL: no store */
	int64_t wal_bytes;		/* -1: no store */
	/* The sample log's compaction (io/store.h store_stats), when
	 * has_store: rounds, steps, log samples moved, seconds in steps, the
	 * longest step. */
	int has_store;
	uint64_t compactions, compact_steps, compacted;
	double compact_s, compact_step_max_s;
	/* An upgrade's move of version 6's forecasts (io/store_fc.c), when
	 * has_store: 1 while it runs, rows moved, at most how many left. */
	int fc_moving;
	uint64_t fc_moved, fc_move_left;
	/* The catch-up after a crash restart (daemon/catchup.h), when
	 * has_store: series behind their stored samples, those samples. */
	uint64_t behind_series, behind_samples;
	uint64_t slab_warmed_bytes; /* srv_registry_warmed() */

	const srv_metrics_forecast *fc; /* exported forecasts */
	size_t nfc;
	uint64_t fc_omitted; /* matched metrics.forecasts beyond the cap */
	/* Matched, left out as still catching up (behind, beyond what one
	 * scrape steps): all of them, and the first nbh in registry order
	 * (nfc + nbh <= the cap). */
	uint64_t fc_catching_up;
	const srv_metrics_behind *bh;
	size_t nbh;
} srv_metrics;

/* Appends the whole exposition; check io_tb_ok(b) afterwards. */
void srv_metrics_render(io_tb *b, const srv_metrics *m);

/*
 * Building blocks, public for the renderers' tests and for other exporters.
 * A family header: "# HELP name help" and "# TYPE name type".
 */
void srv_prom_family(io_tb *b, const char *name, const char *type,
		     const char *help);
/* A label value between the quotes: \ " and newline escaped, bytes that are
 * not valid UTF-8 replaced by U+FFFD (Prometheus requires UTF-8). */
void srv_prom_label_value(io_tb *b, const char *v);
/* "name{k1="v1",k2="v2"} value\n"; kv holds nl (name, value) pairs;
 * nl = 0 writes no braces. */
void srv_prom_sample(io_tb *b, const char *name, const char *const *kv, int nl,
		     double value);
/* The same with the value already formatted (io_fmt_float for float32
 * values: "0.1" rather than the double "0.10000000149011612"). */
void srv_prom_sample_text(io_tb *b, const char *name, const char *const *kv,
			  int nl, const char *value);
/* The _bucket/_sum/_count lines of h (family header included). */
void srv_prom_histogram(io_tb *b, const char *name, const char *help,
			const srv_hist *h);

#endif
