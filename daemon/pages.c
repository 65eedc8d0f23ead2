/* daemon/pages.c: see pages.h. */
#include "daemon/pages.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg.h"
#include "daemon/fresh.h"
#include "daemon/http.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/persist.h"
#include "daemon/reader.h"
#include "daemon/server.h"
#include "daemon/sink.h"
#include "daemon/status_page.h"
#include "daemon/topk.h"
#include "io/wake.h"

struct srv_pages {
	srv_http *http;
	io_wake wake; /* the HTTP threads' want() (io/wake.h) */
	int wake_open;
	io_tb tb;
	/* A status page is rendering on the read thread; asked again
	 * meanwhile (rendered once that one is published). */
	int status_busy, status_again;
};

static void want_status(srv *s);

static void on_want(void *arg)
{
	io_wake_send(arg); /* thread-safe; coalesces */
}

static void on_wake(io_wake *wk)
{
	srv *s = wk->data;
	unsigned w = srv_http_wanted(s->pages->http);
	int p;

	for (p = 0; p < SRV_HTTP_NPAGES; p++) {
		size_t len;
		char *body;

		if (!(w & (1u << p)))
			continue;
		if (p == SRV_HTTP_STATUS) {
			want_status(s);
			continue;
		}
		body = srv_pages_render(s, p, &len);
		if (!body) {
			srv_log(LOG_WARNING, "out of memory rendering %s",
				p == SRV_HTTP_METRICS ? "/metrics" : "/");
			continue;
		}
		srv_http_publish(s->pages->http, p, body, len);
	}
}

int srv_pages_start(srv *s)
{
	const cfg *c = s->set.cfg;
	srv_http_config hc;
	struct srv_pages *p;
	int rc;

	if (!c || !c->listen.http.enabled)
		return 0;
	p = calloc(1, sizeof *p);
	if (!p) {
		srv_log(LOG_ERR, "out of memory starting HTTP");
		return -1;
	}
	s->pages = p;
	io_tb_init(&p->tb);
	p->wake.data = s;
	rc = io_wake_open(&p->wake, s->loop, on_wake);
	p->wake_open = p->wake.fd >= 0; /* srv_pages_stop closes it */
	if (rc < 0) {
		srv_log(LOG_ERR, "cannot start http: wake-up: %s",
			uv_strerror(rc));
		return -1;
	}
	memset(&hc, 0, sizeof hc);
	hc.host = c->listen.http.host;
	hc.port = c->listen.http.port;
	hc.want = on_want;
	hc.want_arg = &p->wake;
	rc = srv_http_start(&p->http, &hc);
	if (rc < 0) {
		srv_log(LOG_ERR, "cannot listen http on %s:%d: %s",
			c->listen.http.host, c->listen.http.port,
			strerror(-rc));
		return -1;
	}
	srv_log(LOG_INFO, "listening http on %s%s%s:%d",
		strchr(hc.host, ':') ? "[" : "", hc.host,
		strchr(hc.host, ':') ? "]" : "", srv_http_port(p->http));
	return 0;
}

void srv_pages_stop(srv *s)
{
	struct srv_pages *p = s->pages;

	if (!p)
		return;
	/* No want() can run after this: then the handle may close. */
	srv_http_stop(p->http);
	p->http = NULL;
	if (p->wake_open) {
		io_wake_close(&p->wake, NULL);
		p->wake_open = 0;
	}
}

void srv_pages_release(srv *s)
{
	if (!s->pages)
		return;
	io_tb_release(&s->pages->tb);
	free(s->pages);
	s->pages = NULL;
}

static uint64_t open_connections(const srv *s)
{
	const srv_conn *c;
	uint64_t n = 0;

	for (c = s->conns; c; c = c->next)
		n++;
	return n;
}

/* Size of SQLite's WAL beside store.path, -1 when there is none (no
 * store configured, or nothing written yet). */
static int64_t wal_bytes(const cfg *c)
{
	char path[4096];
	struct stat st;

	if (!c || !c->store.path || !c->store.path[0])
		return -1;
	if ((size_t)snprintf(path, sizeof path, "%s-wal", c->store.path) >=
	    sizeof path)
		return -1;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/*
 * The forecasts metrics.forecasts exports, at most cap, in registry order,
 * one pass. A matching series still behind its stored samples after a
 * crash restart (daemon/persist.h) would export the forecast of its
 * record: stale. Up to SRV_PAGES_CATCHUP of such samples are stepped for
 * this scrape (one tick after the pass), for series within the cap; the
 * series beyond that budget are left out, counted (m->fc_catching_up) and
 * listed within the cap with their last stored time (m->bh), and the
 * background catch-up reaches them: a scrape
 * that matches 1M series behind does not stall the loop for the seconds
 * stepping them all takes. fc and bh hold cap entries. 0, or -1 when out
 * of memory.
 */
static int pick_forecasts(srv *s, const char *glob, size_t cap, srv_metrics *m,
			  srv_metrics_forecast *fc, srv_metrics_behind *bh)
{
	srv_series **sel = malloc(cap * sizeof *sel);
	srv_series **step = NULL;
	size_t i, nsel = 0, nstep = 0, budget = SRV_PAGES_CATCHUP;

	if (s->st.behind_series)
		step = malloc(SRV_PAGES_CATCHUP * sizeof *step);
	if (!sel || (s->st.behind_series && !step)) {
		free(sel);
		free(step);
		return -1;
	}
	for (i = 0; i < s->reg.n; i++) {
		srv_series *se = s->reg.all[i];
		size_t n = 0;
		double last_t = 0;
		int behind;

		if (fnmatch(glob, se->name, 0) != 0)
			continue;
		behind = step && srv_persist_behind(s, se, &n, &last_t);
		if (!behind && !se->has_forecast)
			continue;
		if (behind && n > budget) {
			m->fc_catching_up++;
			if (nsel + m->nbh < cap) {
				bh[m->nbh].series = se->name;
				bh[m->nbh++].stored_t = last_t;
			}
			continue;
		}
		if (nsel + m->nbh == cap) {
			m->fc_omitted++;
			continue;
		}
		if (behind) {
			budget -= n;
			step[nstep++] = se;
		}
		sel[nsel++] = se;
	}
	if (nstep)
		srv_persist_catch_up_list(s, step, nstep);
	/* A stepped series may still have no forecast (a record without
	 * one and too few samples): left out, so up to cap - 1 may be
	 * exported while others are omitted; rare and harmless. */
	for (i = 0; i < nsel; i++) {
		srv_series *se = sel[i];
		srv_metrics_forecast *f = &fc[m->nfc];

		if (!se->has_forecast)
			continue;
		srv_forecast_fresh(s, se);
		m->nfc++;
		f->series = se->name;
		f->H = ssm_model_horizon(s->model);
		f->Q = ssm_model_nquantiles(s->model);
		f->levels = ssm_model_quantiles(s->model);
		f->q = se->fq;
		f->mean = se->fmean;
		f->origin_t = se->f_t;
		f->step_s = se->step_s;
		f->anomaly = se->anomaly;
		f->last_value = se->last_value;
	}
	free(sel);
	free(step);
	return 0;
}

static void render_metrics(srv *s, io_tb *b)
{
	const cfg *c = s->set.cfg;
	const char *glob =
	    c && c->metrics.forecasts ? c->metrics.forecasts : "";
	size_t cap = c ? (size_t)c->metrics.max_forecast_series : 0;
	srv_metrics_forecast *fc = NULL;
	srv_metrics_behind *bh = NULL;
	srv_metrics_count ingested, dropped[4];
	store_stats ss;
	srv_metrics m;

	memset(&m, 0, sizeof m);
	m.version = SRV_VERSION;
	m.start_time_s = s->started;
	ingested.label = NULL;
	ingested.n = s->st.samples;
	m.ingested = &ingested;
	m.ningested = 1;
	dropped[0] = (srv_metrics_count){"parse_error", s->st.lines_bad};
	dropped[1] = (srv_metrics_count){"line_too_long", s->st.lines_long};
	dropped[2] = (srv_metrics_count){"out_of_order", s->st.out_of_order};
	dropped[3] =
	    (srv_metrics_count){"refused", s->st.rejected - s->st.out_of_order};
	m.dropped = dropped;
	m.ndropped = 4;
	m.series = s->reg.n;
	m.connections = open_connections(s);
	m.subscribers = s->subs.n;
	m.step_latency = &s->step_latency;
	m.commit_latency = s->commit_latency.count ? &s->commit_latency : NULL;
	m.wal_bytes = wal_bytes(c);
	if (srv_persist_stats(s, &ss) == 0) {
		m.has_store = 1;
		m.behind_series = s->st.behind_series;
		m.slab_warmed_bytes = srv_registry_warmed(&s->reg);
		m.behind_samples = s->st.behind_samples;
		m.compactions = ss.compactions;
		m.compact_steps = ss.compact_steps;
		m.compacted = ss.compacted;
		m.compact_s = (double)ss.compact_ns / 1e9;
		m.compact_step_max_s = (double)ss.compact_step_max_ns / 1e9;
		m.fc_moving = ss.fc_moving;
		m.fc_moved = ss.fc_moved;
		m.fc_move_left = ss.fc_move_left;
	}
	if (glob[0] && cap > 0) {
		fc = malloc(cap * sizeof *fc);
		bh = malloc(cap * sizeof *bh);
		if (!fc || !bh || pick_forecasts(s, glob, cap, &m, fc, bh))
			b->failed = 1;
	}
	m.fc = fc;
	m.bh = bh;
	srv_metrics_render(b, &m);
	free(fc);
	free(bh);
}

/* Shown first: higher anomaly score, then name order. */
static int before(const srv_series *a, const srv_series *b)
{
	if (a->anomaly != b->anomaly)
		return a->anomaly > b->anomaly;
	return strcmp(a->name, b->name) < 0;
}

/* The k series shown, best first, through a bounded heap (daemon/topk.h:
 * O(n log k); insertion into a sorted prefix was O(n k) when series arrive
 * in display order, some 1e9 moves at 1M series and k = 1000).
 * Series still behind their stored samples after a crash restart are not
 * ranked: their anomaly is their record's, and stepping them all here
 * would stall the loop; the background catch-up reaches them. */
static size_t pick_shown(srv *s, srv_series **top, size_t k)
{
	size_t i, nb;
	double t;
	srv_topk h;

	srv_topk_init(&h, top, k, before);
	for (i = 0; i < s->reg.n && k > 0; i++) {
		srv_series *se = s->reg.all[i];

		if (!srv_topk_wants(&h, se))
			continue;
		if (s->st.behind_series && srv_persist_behind(s, se, &nb, &t))
			continue;
		srv_topk_add(&h, se);
	}
	return srv_topk_sort(&h);
}

typedef struct spark_acc {
	double *t, *v;
	size_t n;
} spark_acc;

static void spark_add(void *arg, double t, double v)
{
	spark_acc *a = arg;

	if (a->n < SRV_PAGES_SPARK) {
		a->t[a->n] = t;
		a->v[a->n] = v;
		a->n++;
	}
}

/* A sparkline holds about the last SRV_PAGES_SPARK samples of a series:
 * those from SRV_PAGES_SPARK nominal steps before its last sample. */
static double spark_from(const srv_series *se)
{
	if (se->step_s > 0 && isfinite(se->last_t))
		return se->last_t - (SRV_PAGES_SPARK - 1) * se->step_s;
	return -INFINITY;
}

/*
 * The status page's view, gathered on the loop thread from the registry:
 * copies of everything the renderer reads (names, counters, forecasts,
 * the model's levels), so that with the read thread (daemon/reader.h) the
 * sparklines' store reads and the render run there, the series untouched.
 * One allocation per array; n shown series.
 */
typedef struct status_view {
	srv_read_job j;
	srv_status st;
	srv_status_series *ss;
	int64_t *ids;  /* [n] store ids (0: none), read thread */
	double *from;  /* [n] sparkline range starts */
	double *tv;    /* [n][2][SRV_PAGES_SPARK] times, values */
	float *fc;     /* [n][H * Q + H] forecast quantiles, means */
	float *levels; /* [Q] */
	char *text;    /* names and the model's description, NUL-ended */
	char *body;    /* the rendered page (read thread) */
	size_t len;
} status_view;

static void view_free(status_view *w)
{
	if (!w)
		return;
	free(w->ss);
	free(w->ids);
	free(w->from);
	free(w->tv);
	free(w->fc);
	free(w->levels);
	free(w->text);
	free(w->body);
	free(w);
}

/* Gathers the view of the k shown series; async: their sparklines are
 * left to the read thread (ids, from), else read here through the sink.
 * NULL when out of memory. */
static status_view *gather(srv *s, size_t k, int async)
{
	int H = ssm_model_horizon(s->model), Q = ssm_model_nquantiles(s->model);
	size_t n, i, text = strlen(s->model_desc) + 1, at,
		     fcn = (size_t)H * Q + H;
	status_view *w = calloc(1, sizeof *w);
	srv_series **top = k ? malloc(k * sizeof *top) : NULL;
	srv_status *st;

	if (!w || (k && !top)) {
		free(top);
		free(w);
		return NULL;
	}
	n = pick_shown(s, top, k);
	for (i = 0; i < n; i++)
		text += strlen(top[i]->name) + 1;
	w->ss = calloc(n ? n : 1, sizeof *w->ss);
	w->ids = calloc(n ? n : 1, sizeof *w->ids);
	w->from = calloc(n ? n : 1, sizeof *w->from);
	w->tv = malloc((n ? n : 1) * 2 * SRV_PAGES_SPARK * sizeof *w->tv);
	w->fc = malloc((n ? n : 1) * (fcn ? fcn : 1) * sizeof *w->fc);
	w->levels = malloc((Q ? (size_t)Q : 1) * sizeof *w->levels);
	w->text = malloc(text);
	if (!w->ss || !w->ids || !w->from || !w->tv || !w->fc || !w->levels ||
	    !w->text) {
		free(top);
		view_free(w);
		return NULL;
	}
	if (Q)
		memcpy(w->levels, ssm_model_quantiles(s->model),
		       (size_t)Q * sizeof *w->levels);
	at = strlen(s->model_desc) + 1;
	memcpy(w->text, s->model_desc, at);
	for (i = 0; i < n; i++) {
		srv_series *se = top[i];
		srv_status_series *ss = &w->ss[i];
		io_chart *ch = &ss->chart;
		double *t = w->tv + i * 2 * SRV_PAGES_SPARK;
		float *f = w->fc + i * fcn;
		size_t len = strlen(se->name) + 1;

		memcpy(w->text + at, se->name, len);
		ss->name = w->text + at;
		at += len;
		ss->anomaly = se->anomaly;
		ss->samples = se->n_samples;
		ss->anomalies = se->n_anomalies;
		ch->t = t;
		ch->v = t + SRV_PAGES_SPARK;
		w->ids[i] = se->store_id;
		w->from[i] = spark_from(se);
		if (!async) {
			spark_acc a = {t, t + SRV_PAGES_SPARK, 0};
			srv_sink_history(s, se, w->from[i], INFINITY,
					 SRV_PAGES_SPARK, spark_add, &a);
			ch->n = a.n;
		}
		if (se->has_forecast && se->step_s > 0) {
			srv_forecast_fresh(s, se);
			memcpy(f, se->fq, (size_t)H * Q * sizeof *f);
			memcpy(f + (size_t)H * Q, se->fmean,
			       (size_t)H * sizeof *f);
			ch->H = H;
			ch->Q = Q;
			ch->levels = w->levels;
			ch->q = f;
			ch->mean = f + (size_t)H * Q;
			ch->origin_t = se->f_t;
			ch->step_s = se->step_s;
		}
	}
	free(top);
	st = &w->st;
	st->version = SRV_VERSION;
	st->model = w->text;
	st->now = srv_now();
	st->start_time_s = s->started;
	st->series = s->reg.n;
	st->samples = s->st.samples;
	st->dropped = s->st.rejected + s->st.lines_bad + s->st.lines_long;
	st->catching_up = s->st.behind_series;
	st->catching_up_samples = s->st.behind_samples;
	st->s = w->ss;
	st->n = n;
	st->refresh_s = 15;
	return w;
}

/* Renders the page into w->body (NULL when out of memory). */
static void view_render(status_view *w)
{
	io_tb b;

	io_tb_init(&b);
	srv_status_render(&b, &w->st);
	w->body = io_tb_detach(&b, &w->len);
}

/* Loop thread: serves the rendered page from now on, and frees w. */
static void view_publish(struct srv_pages *p, status_view *w)
{
	if (w->body) {
		srv_http_publish(p->http, SRV_HTTP_STATUS, w->body, w->len);
		w->body = NULL;
	} else {
		srv_log(LOG_WARNING, "out of memory rendering /");
	}
	view_free(w);
}

/* Read thread: the sparklines from the store, then the page. */
static void status_run(srv_read_job *j, store_reader *rd, store *st)
{
	status_view *w = (status_view *)j;
	size_t i;

	/* What was accepted before the request shows (one commit for
	 * every sparkline; a timeout shows what is committed). */
	if (st)
		store_flush(st, SRV_HISTORY_FLUSH_MS);
	for (i = 0; i < w->st.n; i++) {
		io_chart *ch = &w->ss[i].chart;
		double *t = w->tv + i * 2 * SRV_PAGES_SPARK;
		spark_acc a = {t, t + SRV_PAGES_SPARK, 0};

		if (w->ids[i])
			srv_store_points(rd, w->ids[i], w->from[i], INFINITY,
					 SRV_PAGES_SPARK, spark_add, &a);
		ch->n = a.n;
	}
	view_render(w);
}

/* Loop thread: publishes the page; one more render if asked meanwhile. */
static void status_done(srv *s, srv_read_job *j)
{
	status_view *w = (status_view *)j;
	struct srv_pages *p = s->pages;

	if (p && p->http)
		view_publish(p, w);
	else
		view_free(w);
	if (!p)
		return;
	p->status_busy = 0;
	if (p->status_again) {
		p->status_again = 0;
		want_status(s);
	}
}

/* The status page wanted: rendered on the read thread when it runs (one
 * render at a time: a request meanwhile gets the next one), else here. */
static void want_status(srv *s)
{
	struct srv_pages *p = s->pages;
	const cfg *c = s->set.cfg;
	size_t k = c ? (size_t)c->http.status_series : 0;
	status_view *w;

	if (p->status_busy) {
		p->status_again = 1;
		return;
	}
	if (!p->http)
		return;
	w = gather(s, k, srv_reader_on(s));
	if (!w) {
		srv_log(LOG_WARNING, "out of memory rendering /");
		return;
	}
	w->j.run = status_run;
	w->j.done = status_done;
	if (srv_reader_on(s) && srv_reader_submit(s, &w->j, 0) == 0) {
		p->status_busy = 1;
		return;
	}
	if (srv_reader_on(s)) /* closing: the sparklines were not read */
		w->st.n = 0;
	view_render(w);
	view_publish(p, w);
}

/* Loop thread, synchronously (srv_pages_render): the page, its sparklines
 * read here through the sink. */
static void render_status(srv *s, io_tb *b)
{
	const cfg *c = s->set.cfg;
	status_view *w = gather(s, c ? (size_t)c->http.status_series : 0, 0);

	if (!w) {
		b->failed = 1;
		return;
	}
	srv_status_render(b, &w->st);
	view_free(w);
}

char *srv_pages_render(srv *s, int page, size_t *len)
{
	io_tb b;

	io_tb_init(&b);
	if (page == SRV_HTTP_METRICS)
		render_metrics(s, &b);
	else
		render_status(s, &b);
	return io_tb_detach(&b, len);
}
