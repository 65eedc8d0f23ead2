/*
 * daemon/reload.c: settings from the configuration, and SIGHUP reloads
 * (see reload.h). Runs on the loop thread only, like every other user of
 * srv_settings, so applying a value needs no lock.
 */
#include "daemon/reload.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "ssm/nominal.h"

void srv_settings_from(const cfg *c, srv_settings *t)
{
	memset(t, 0, sizeof *t);
	t->listen_graphite = &c->listen.graphite;
	t->listen_influx = &c->listen.influx;
	t->listen_rpc = &c->listen.rpc;
	t->listen_socket = c->listen.socket;
	t->subscriber_queue = c->limits.subscriber_queue;
	t->conn_buffer = c->limits.conn_buffer;
	io_limits_default(&t->lines);
	t->lines.max_line = c->limits.max_line;
	t->lines.max_name = c->limits.max_name;
	t->lines.max_tags = c->limits.max_tags;
	t->lines.max_skew_s = c->ingest.max_skew_s;
	t->influx_precision = (io_precision)c->ingest.influx_precision;
	rpc_limits_default(&t->rpc);
	t->rpc.max_frame = c->limits.rpc_max_frame;
	t->rpc.max_depth = c->limits.rpc_max_depth;
	t->rpc.max_elems = (uint32_t)c->limits.rpc_max_elems;
	t->forecast_every = c->model.forecast_every;
	t->default_period = c->model.period;
	t->default_step = c->model.step_s;
	t->learn_samples = SSM_LEARN_SAMPLES;
	t->batch_max = BATCH_MAX;
	t->threads = c->model.threads;
	t->share_rows = c->model.share_rows;
	t->slice_us = c->model.slice_us;
	t->history_ring = HISTORY_RING;
	t->max_series = (size_t)c->limits.max_series;
	t->max_connections = c->limits.max_connections;
	t->idle_timeout_s = c->limits.idle_timeout_s;
	t->min_rate = (double)c->limits.min_rate;
	t->min_rate_window_s = c->limits.min_rate_window_s;
	t->cfg = c;
	t->rpc_token = c->rpc.token;
	t->store_path = c->store.path;
	store_opts_default(&t->store);
	t->store.synchronous = c->store.synchronous;
	t->store.commit_ms = c->store.commit_ms;
	t->store.commit_rows = c->store.commit_rows;
	t->store.sample_retention_s = c->store.retention_s;
	t->store.forecast_retention_s = c->store.forecast_retention_s;
	t->store.retry_rows = (size_t)c->store.retry_rows;
	t->store.log_max_samples = (size_t)c->store.log_max_samples;
	t->store.compact_step = (size_t)c->store.compact_step;
	/* 0 = checkpoints by time only; the file then keeps the default. */
	t->store.checkpoint_bytes = (int64_t)c->store.wal_size;
	if (c->store.wal_size)
		t->store.journal_size_limit =
		    STORE_WAL_KEEP((int64_t)c->store.wal_size);
	t->store.writer_priority = c->store.writer_priority == CFG_WPRIO_BATCH
				       ? STORE_PRIO_BATCH
				       : STORE_PRIO_IDLE;
	t->store_max_queue = c->store.max_queue;
	/* The idle writer's starvation guard (io/store.h): raised at a
	 * quarter of the bound, three quarters before the senders are held,
	 * where snapshots also slow down (persist.c); lowered at a
	 * sixteenth, so it does not flap around one value. */
	t->store.writer_raise_bytes = c->store.max_queue / 4;
	t->store.writer_lower_bytes = c->store.max_queue / 16;
	/* A byte bound on the file (the store counts it in the file's own
	 * pages, whatever size the database was created with). */
	t->store.max_bytes = (int64_t)c->store.max_size;
	t->snapshot_s = c->store.snapshot_s;
	t->checkpoint_s = c->store.checkpoint_s;
	t->forecast_every_s = c->store.forecast_every_s;
	t->rebuild_window_s = c->store.rebuild_window_s;
	t->state_dump = c->store.state_dump;
}

static void report(void *ctx, const char *file, int line, const char *msg)
{
	(void)ctx;
	if (file && line > 0)
		srv_log(LOG_ERR, "reload: %s:%d: %s", file, line, msg);
	else
		srv_log(LOG_ERR, "reload: %s", msg);
}

typedef struct diff_ctx {
	int applied, restart;
} diff_ctx;

static void on_change(void *ctx, const char *name, const char *old_v,
		      const char *new_v, int reloadable)
{
	diff_ctx *d = ctx;

	if (reloadable) {
		d->applied++;
		srv_log(LOG_NOTICE, "reload: %s: %s -> %s", name, old_v, new_v);
	} else {
		d->restart++;
		srv_log(LOG_WARNING,
			"reload: %s: %s -> %s takes effect at the next start",
			name, old_v, new_v);
	}
}

/* Copies the reloadable values of nc into the running settings. The
 * pointers of the running settings keep pointing into the start-up cfg. */
static void apply(srv_reload *r, const cfg *nc)
{
	srv_settings *t = &r->s->set, ns;

	/* One mapping from cfg to settings (srv_settings_from), then only
	 * the reloadable fields are taken from it. */
	srv_settings_from(nc, &ns);
	t->subscriber_queue = ns.subscriber_queue;
	t->lines.max_tags = ns.lines.max_tags;
	t->lines.max_skew_s = ns.lines.max_skew_s;
	t->influx_precision = ns.influx_precision;
	t->rpc.max_depth = ns.rpc.max_depth;
	t->rpc.max_elems = ns.rpc.max_elems;
	t->forecast_every = ns.forecast_every;
	/* Spacing counts from each series' last stored forecast, so a new
	 * value holds from the next refresh on. */
	t->forecast_every_s = ns.forecast_every_s;
	t->max_series = ns.max_series;
	t->max_connections = ns.max_connections;
	srv_fd_budget(r->s); /* a larger max_connections may want more fds */
	t->idle_timeout_s = ns.idle_timeout_s;
	t->min_rate = ns.min_rate;
	t->min_rate_window_s = ns.min_rate_window_s;
	t->conn_buffer = ns.conn_buffer;
	/* ns points into nc, which is released after this: copy the token. */
	snprintf(r->token, sizeof r->token, "%s",
		 ns.rpc_token ? ns.rpc_token : "");
	t->rpc_token = r->token;
	srv_log_set_level(LOG_ERR + nc->log.level);
}

static void on_hup(uv_signal_t *h, int signum)
{
	srv_reload *r = h->data;
	diff_ctx d = {0, 0};
	cfg nc;
	int rc;

	(void)signum;
	rc = cfg_load(&nc, r->path, r->ov, r->nov, report, NULL);
	if (rc) {
		srv_log(LOG_ERR, "reload: %s: nothing changed",
			cfg_strerror(rc));
		return;
	}
	cfg_diff(r->boot, &nc, on_change, &d);
	apply(r, &nc);
	cfg_release(&nc);
	r->reloads++;
	srv_log(LOG_NOTICE,
		"reload of %s done: %d setting(s) applied, %d need a restart",
		r->path ? r->path : "the built-in defaults", d.applied,
		d.restart);
}

int srv_reload_start(srv_reload *r, srv *s, uv_loop_t *loop, const cfg *boot,
		     const char *path, const char *const *ov, int nov)
{
	int rc;

	memset(r, 0, sizeof *r);
	r->s = s;
	r->boot = boot;
	r->path = path;
	r->ov = ov;
	r->nov = nov;
	rc = uv_signal_init(loop, &r->sig);
	if (rc)
		return rc;
	r->sig.data = r;
	rc = uv_signal_start(&r->sig, on_hup, SIGHUP);
	uv_unref((uv_handle_t *)&r->sig);
	return rc;
}

void srv_reload_close(srv_reload *r)
{
	if (!uv_is_closing((uv_handle_t *)&r->sig))
		uv_close((uv_handle_t *)&r->sig, NULL);
}
