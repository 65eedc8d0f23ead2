/*
 * daemon/sink.c: the in-memory sink (see sink.h): samples go to each
 * series' history ring, pushes are acknowledged as soon as the samples are
 * stepped; or, when store.path is set, the SQLite store (daemon/persist.c).
 */
#include "daemon/sink.h"

#include "daemon/persist.h"
#include "daemon/server.h"

void srv_sink_tick(struct srv *s, const srv_tick_out *o)
{
	size_t i;

	if (s->persist) {
		srv_persist_tick(s, o);
		return;
	}
	for (i = 0; i < o->nsamples; i++) {
		srv_series *se = o->samples[i].s;
		srv_history *h;
		if (!se->dropped && (h = srv_series_history(&s->reg, se)))
			srv_history_append(h, o->samples[i].t,
					   o->samples[i].value);
	}
	for (i = 0; i < o->npushes; i++)
		srv_push_complete(s, o->pushes[i], 0);
}

size_t srv_sink_history(struct srv *s, const struct srv_series *se, double from,
			double to, size_t max,
			void (*fn)(void *arg, double t, double v), void *arg)
{
	if (s->persist)
		return srv_persist_history(s, se, from, to, max, fn, arg);
	return se->hist ? srv_history_range(se->hist, from, to, max, fn, arg)
			: 0;
}
