/*
 * daemon/server.c: building, starting and stopping the daemon's state
 * (see server.h).
 */
#include "daemon/server.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfg.h"
#include "daemon/log.h"
#include "daemon/pages.h"
#include "daemon/persist.h"
#include "io/influx.h"

#define LINE_READ_BUF (64u * 1024)

double srv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void srv_series_params(const srv *s, const char *name, int *period,
		       double *step_s, int *horizon)
{
	const cfg_series *r =
	    s->set.cfg ? cfg_series_match(s->set.cfg, name) : NULL;

	*period = s->set.default_period;
	*step_s = s->set.default_step;
	*horizon = 0;
	if (r && (r->set & CFG_SER_HORIZON))
		*horizon = r->horizon;
	if (r && (r->set & CFG_SER_PERIOD))
		*period = r->period;
	if (r && (r->set & CFG_SER_STEP))
		*step_s = r->step_s;
	if (*period < 1)
		*period = 1;
}

int srv_init(srv *s, uv_loop_t *loop, const srv_settings *set,
	     const ssm_model *m, const char *model_desc)
{
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->set = *set;
	if (s->set.forecast_every < 1)
		s->set.forecast_every = 1;
	if (s->set.learn_samples < 2)
		s->set.learn_samples = 2;
	if (s->set.learn_samples > SSM_LEARN_MAX)
		s->set.learn_samples = SSM_LEARN_MAX;
	s->model = m;
	s->model_desc = model_desc;
	s->started = srv_now();
	srv_hist_init_latency(&s->step_latency);
	srv_hist_init_latency(&s->commit_latency);
	srv_subs_init(&s->subs);
	rpc_buf_init(&s->reply, SRV_REPLY_MAX);
	s->name_buf = malloc(s->set.lines.max_name + 1);
	s->scratch_cap = io_influx_scratch_size(&s->set.lines);
	s->scratch = malloc(s->scratch_cap);
	s->rbuf = malloc(LINE_READ_BUF);
	if (!s->name_buf || !s->scratch || !s->rbuf ||
	    srv_registry_init(&s->reg, m, s->set.history_ring) ||
	    srv_tick_init(s)) {
		srv_log(LOG_ERR, "out of memory at start");
		return -1;
	}
	return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
	srv *s = h->data;

	srv_log(LOG_NOTICE, "%s received, shutting down",
		signum == SIGTERM ? "SIGTERM" : "SIGINT");
	srv_stop(s);
}

int srv_start(srv *s)
{
	const srv_settings *t = &s->set;
	const cfg_addr *tcp[3] = {t->listen_graphite, t->listen_influx,
				  t->listen_rpc};
	const srv_proto proto[3] = {SRV_GRAPHITE, SRV_INFLUX, SRV_RPC};
	const int signo[2] = {SIGTERM, SIGINT};
	int i;

	for (i = 0; i < 3; i++) {
		if (!tcp[i] || !tcp[i]->enabled)
			continue;
		if (srv_listen(s, &s->listeners[i], proto[i], tcp[i]->host,
			       tcp[i]->port))
			return -1;
	}
	if (t->listen_socket && t->listen_socket[0] &&
	    srv_listen(s, &s->listeners[3], SRV_RPC, t->listen_socket, -1))
		return -1;
	if (srv_pages_start(s))
		return -1;
	srv_idle_start(s);
	for (i = 0; i < 2; i++) {
		uv_signal_init(s->loop, &s->sig[i]);
		s->sig[i].data = s;
		uv_signal_start(&s->sig[i], on_signal, signo[i]);
	}
	return 0;
}

void srv_stop(srv *s)
{
	srv_conn *c;
	int i;

	if (s->stopping)
		return;
	s->stopping = 1;
	srv_sd_stopping();
	srv_sd_watchdog_close(&s->wd, NULL);
	for (i = 0; i < 4; i++)
		srv_listener_close(&s->listeners[i]);
	srv_pages_stop(s);
	/* What was read is stepped and handed to the sink before the
	 * connections go, so every accepted push gets its reply queued. */
	srv_tick_run(s);
	/* Final snapshots and COMMIT; waiting pushes are answered. */
	srv_persist_close(s);
	for (c = s->conns; c; c = c->next)
		srv_conn_close(c, NULL);
	for (i = 0; i < 2; i++)
		if (s->sig[i].loop)
			uv_close((uv_handle_t *)&s->sig[i], NULL);
	uv_close((uv_handle_t *)&s->tick.check, NULL);
	if (s->tick.prep.loop)
		uv_close((uv_handle_t *)&s->tick.prep, NULL);
	srv_idle_stop(s);
}

void srv_release(srv *s)
{
	srv_persist_free(s);
	srv_pages_release(s);
	srv_tick_release(s);
	srv_registry_release(&s->reg);
	srv_subs_release(&s->subs);
	rpc_buf_release(&s->reply);
	free(s->name_buf);
	free(s->scratch);
	free(s->rbuf);
}
