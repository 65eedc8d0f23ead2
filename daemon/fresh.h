/*
 * daemon/fresh.h: a series' forecast, made when someone reads it.
 *
 * Every step makes a forecast (f_t, has_forecast, the counters, as
 * model.forecast_every says), but with model.forecast_every = 1 (the
 * default) the tick writes it into the series' buffer (fq, fmean) only
 * where it is read at the tick's end: a series a subscription watches
 * (pushed) or whose stored forecast row is due (srv_persist_fc_due_at;
 * one step in five at a 60 s step and store.forecast_every_s 5m). The
 * other steps pass no output for the series (ssm_model_step_batch: about
 * 18% fewer instructions, and no 768-byte write per sample) and mark the
 * buffer stale (srv_series.fc_stale); the state gives the forecast later,
 * to the bit (ssm_model_forecast), until the series' next step. (Making
 * the stored rows' forecasts here at the sink instead re-read each state
 * from memory after the tick and cost what the pruning saved:
 * bench/results/lazy1.md.) Every reader of
 * the buffer makes it current first, through srv_forecast_fresh, next to
 * the crash restart's catch-up (daemon/catchup.h) where there is one: the
 * RPC forecast and info and subscription pushes (srv_put_forecast),
 * /metrics' forecasts and the status page's charts (daemon/pages.c), the
 * store's forecast rows (daemon/persist.c, once per
 * store.forecast_every_s of a series' time). The next sample's anomaly
 * score reads horizon 1 from the state (srv_forecast_interval). A dump or
 * checkpoint writes the slot as it is; a restore marks it stale when the
 * last step made the forecast (daemon/dump.c). A step that makes no
 * forecast (model.forecast_every > 1) makes a stale one current first: the
 * state moves on. Loop thread only.
 */
#ifndef STATECAST_DAEMON_FRESH_H
#define STATECAST_DAEMON_FRESH_H

struct srv;
struct srv_series;

/* se's fq and fmean become the forecast of f_t (no-op when they are). */
void srv_forecast_fresh(struct srv *s, struct srv_series *se);

#endif
