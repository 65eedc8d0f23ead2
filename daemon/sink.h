/*
 * daemon/sink.h: the seam between the loop and persistence.
 *
 * Once per tick, after the model steps, srv_sink_tick() receives the tick's
 * accepted samples (arrival order), the series whose forecast was refreshed
 * (each once, its latest forecast in series->fq/fmean), the series that
 * stepped stored samples again (srv_ingest_replay: a crash restart's
 * replay; their refreshes are not among the refreshed, their forecasts
 * were stored by the run before) and the `push` requests whose samples
 * are all among those samples. The sink owns the
 * pushes from then on and must call srv_push_complete() for each exactly
 * once: 0 when the samples are durable, else a negative error, which the
 * client receives instead of an acknowledgement.
 *
 * The implementation in daemon/sink.c keeps samples in each series'
 * in-memory history ring and completes pushes at once: nothing survives a
 * restart. The SQLite store replaces it with a writer thread that completes
 * the pushes after their COMMIT (from its wake-up's callback on the loop,
 * io/wake.h).
 *
 * Dropped series may appear in the arrays (series->dropped): skip them. The
 * arrays and the series are valid only during the call.
 */
#ifndef STATECAST_DAEMON_SINK_H
#define STATECAST_DAEMON_SINK_H

#include <stddef.h>

#include "daemon/tick.h"

struct srv;
struct srv_series;
typedef struct srv_push srv_push;

typedef struct srv_tick_out {
	const srv_sample *samples;
	size_t nsamples;
	struct srv_series *const *refreshed;
	size_t nrefreshed;
	struct srv_series *const *replayed; /* distinct series, this tick */
	size_t nreplayed;
	srv_push *const *pushes;
	size_t npushes;
} srv_tick_out;

void srv_sink_tick(struct srv *s, const srv_tick_out *o);

/* Sends the push's reply (an error when err < 0) and frees it. In
 * daemon/rpc_methods.c. */
void srv_push_complete(struct srv *s, srv_push *p, int err);

/* Calls fn for each stored sample of the series with from <= t <= to,
 * oldest first, at most max; returns how many. */
size_t srv_sink_history(struct srv *s, const struct srv_series *se, double from,
			double to, size_t max,
			void (*fn)(void *arg, double t, double v), void *arg);

#endif
