/*
 * daemon/catchup.c: the catch-up after a crash restart (see catchup.h) and
 * the hooks of persist.h that drive it.
 */
#include "daemon/catchup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "daemon/log.h"
#include "daemon/persist.h"
#include "daemon/server.h"
#include "io/grow.h"

/* Replay steps one tick of a list or of the stop holds at most. */
#define LIST_TICK 8192

/* One series behind: its samples are tv[2 * off ...], n (t, value) pairs. */
typedef struct ent {
	srv_series *se; /* NULL once caught up or dropped */
	size_t off, n;
} ent;

struct srv_catchup {
	double *tv; /* t, value, t, value, ... */
	size_t ntv, captv;
	ent *e;
	size_t ne, cape;
	uint32_t *map; /* 1 + index into e by the series' address; 0 free */
	size_t mask;
	size_t cursor;	   /* background: next entry to look at */
	size_t queued;	   /* replay steps queued since the last tick */
	size_t slice;	   /* samples per background slice, 0 = none */
	uint64_t stop_max; /* srv__catchup_leave's bound */
	int full;	   /* the walk stopped keeping samples */
	int started;	   /* the daemon serves */
	int idle_on;	   /* idle handle initialised */
	uv_idle_t idle;	   /* the background, one slice per loop iteration */
	double t0, t_ready, c_ready;
	uint64_t series0, samples0;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int srv__catchup_new(srv *s)
{
	srv_catchup *c = calloc(1, sizeof *c);
	const char *env = getenv("STATECAST_CATCHUP_SLICE");
	const char *stop = getenv("STATECAST_CATCHUP_STOP_MAX");

	if (!c)
		return -1;
	c->slice = SRV_CATCHUP_SLICE;
	if (env && *env)
		c->slice = (size_t)strtoul(env, NULL, 10);
	c->stop_max = SRV_CATCHUP_STOP_MAX;
	if (stop && *stop)
		c->stop_max = strtoull(stop, NULL, 10);
	s->catchup = c;
	return 0;
}

static void release(srv_catchup *c)
{
	free(c->tv);
	free(c->e);
	free(c->map);
	c->tv = NULL;
	c->e = NULL;
	c->map = NULL;
	c->ntv = c->captv = c->ne = c->cape = 0;
}

int srv__catchup_add(srv *s, srv_series *se, const store_sample *sm, size_t n)
{
	srv_catchup *c = s->catchup;
	ent *e;
	size_t i;

	if (!c || c->full)
		return -1;
	if (c->ntv + n > SRV_CATCHUP_MAX_SAMPLES) {
		c->full = 1;
		srv_log(LOG_NOTICE,
			"restore: %zu samples kept for the catch-up: the walk "
			"steps the rest itself",
			c->ntv);
		return -1;
	}
	if (io_grow(&c->tv, &c->captv, 2 * (c->ntv + n), sizeof *c->tv,
		    1 << 16))
		return -1;
	if (!c->ne || c->e[c->ne - 1].se != se) {
		if (io_grow(&c->e, &c->cape, c->ne + 1, sizeof *c->e, 1024))
			return -1;
		c->e[c->ne++] = (ent){se, c->ntv, 0};
	}
	e = &c->e[c->ne - 1];
	for (i = 0; i < n; i++) {
		c->tv[2 * (c->ntv + i)] = sm[i].t;
		c->tv[2 * (c->ntv + i) + 1] = sm[i].value;
	}
	c->ntv += n;
	e->n += n;
	return 0;
}

/* Queues entry i's samples (stored: not handed to the sink). */
static void queue_ent(srv *s, srv_catchup *c, ent *e)
{
	srv_series *se = e->se;
	size_t j;

	for (j = 0; j < e->n; j++) {
		int rc = srv_ingest_replay(s, se, c->tv[2 * (e->off + j)],
					   c->tv[2 * (e->off + j) + 1]);
		if (rc != SRV_ACCEPTED)
			srv_log(LOG_ERR,
				"store: series %s: stored sample at t=%.17g "
				"refused on replay: %s",
				se->name, c->tv[2 * (e->off + j)],
				srv_reject_reason(rc));
	}
	c->queued += e->n;
	e->se = NULL;
	if (c->started) {
		s->st.behind_series--;
		s->st.behind_samples -= e->n;
	}
}

void srv__catchup_take_back(srv *s, srv_series *se)
{
	srv_catchup *c = s->catchup;
	ent *e;

	if (!c || !c->ne || c->e[c->ne - 1].se != se)
		return;
	e = &c->e[c->ne - 1];
	queue_ent(s, c, e);
	c->ntv = e->off;
	c->ne--;
	srv_tick_run(s);
}

void srv__catchup_reset(srv *s)
{
	srv_catchup *c = s->catchup;

	if (!c)
		return;
	release(c);
	c->full = 0;
}

static size_t slot_of(const srv_catchup *c, const srv_series *se)
{
	uint64_t h = (uint64_t)(uintptr_t)se * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & c->mask;
}

/* The entry of se if it is behind, else NULL. */
static ent *find(srv_catchup *c, const srv_series *se)
{
	size_t i;

	if (!se) /* done entries hold NULL */
		return NULL;
	for (i = slot_of(c, se); c->map[i]; i = (i + 1) & c->mask)
		if (c->e[c->map[i] - 1].se == se)
			return &c->e[c->map[i] - 1];
	return NULL;
}

static void on_close(uv_handle_t *h)
{
	free(h->data);
}

/* Everything caught up: logged and freed (the handle's close callback
 * frees the struct). */
static void finish(srv *s)
{
	srv_catchup *c = s->catchup;
	double w = srv_now(), cpu = cpu_s();

	s->catchup = NULL;
	s->st.behind_series = s->st.behind_samples = 0;
	srv_log(LOG_INFO,
		"restore: caught up %llu series (%llu samples) %.2f s after "
		"ready, %.2f s after the start (CPU %.2f since ready)",
		(unsigned long long)c->series0, (unsigned long long)c->samples0,
		w - c->t_ready, w - c->t0, cpu - c->c_ready);
	release(c);
	if (c->idle_on) {
		c->idle.data = c;
		uv_close((uv_handle_t *)&c->idle, on_close);
	} else {
		free(c);
	}
}

void srv__catchup_ticked(srv *s)
{
	srv_catchup *c = s->catchup;

	if (!c)
		return;
	c->queued = 0;
	if (c->started && s->st.behind_series == 0)
		finish(s);
}

/* After a tick that may not have reached the sink (nothing stepped). */
static void maybe_finish(srv *s)
{
	if (s->catchup && s->catchup->started && s->st.behind_series == 0)
		finish(s);
}

/* Queues the next behind series in walk order up to max samples (at
 * least one series); the samples queued. */
static size_t queue_next(srv *s, srv_catchup *c, size_t max)
{
	size_t got = 0;

	while (c->cursor < c->ne && got < max) {
		ent *e = &c->e[c->cursor++];
		if (!e->se)
			continue;
		got += e->n;
		queue_ent(s, c, e);
	}
	return got;
}

static void on_idle(uv_idle_t *h)
{
	srv *s = h->data;
	srv_catchup *c = s->catchup;

	if (!c)
		return;
	queue_next(s, c, c->slice);
	srv_tick_run(s);
	maybe_finish(s);
}

void srv__catchup_start(srv *s, double t0)
{
	srv_catchup *c = s->catchup;
	size_t i, cap = 4;

	if (!c)
		return;
	if (c->ne == 0) {
		release(c);
		free(c);
		s->catchup = NULL;
		return;
	}
	while (cap < 2 * c->ne)
		cap *= 2;
	c->map = calloc(cap, sizeof *c->map);
	if (!c->map) {
		/* Nothing can find them: step them all now, as before
		 * (not started: the ticks do not end the catch-up). */
		srv_log(LOG_WARNING, "restore: out of memory for the catch-up: "
				     "replaying before serving");
		while (queue_next(s, c, LIST_TICK))
			srv_tick_run(s);
		srv_tick_run(s);
		release(c);
		free(c);
		s->catchup = NULL;
		return;
	}
	c->mask = cap - 1;
	for (i = 0; i < c->ne; i++) {
		size_t k = slot_of(c, c->e[i].se);
		while (c->map[k])
			k = (k + 1) & c->mask;
		c->map[k] = (uint32_t)(i + 1);
	}
	c->started = 1;
	c->t0 = t0;
	c->t_ready = srv_now();
	c->c_ready = cpu_s();
	c->series0 = s->st.behind_series = c->ne;
	c->samples0 = s->st.behind_samples = c->ntv;
	srv_log(LOG_INFO,
		"restore: ready %.2f s after the start with %llu series behind "
		"(%llu samples to step: on use, and %s)",
		c->t_ready - t0, (unsigned long long)c->series0,
		(unsigned long long)c->samples0,
		c->slice ? "in the background" : "not in the background");
	if (c->slice) {
		uv_idle_init(s->loop, &c->idle);
		c->idle.data = s;
		c->idle_on = 1;
		uv_idle_start(&c->idle, on_idle);
	}
}

void srv__catchup_free(srv *s)
{
	srv_catchup *c = s->catchup;

	/* With a handle it was closed by srv_persist_close's catch-up. */
	if (!c || c->idle_on)
		return;
	release(c);
	free(c);
	s->catchup = NULL;
}

/* ---- the hooks (persist.h) ---- */

void srv_persist_catch_up(srv *s, srv_series *se, int run)
{
	srv_catchup *c = s->catchup;
	ent *e;

	if (!c || !c->started)
		return;
	if (s->st.behind_series && (e = find(c, se)) != NULL)
		queue_ent(s, c, e);
	if (run && c->queued && se->tick_round) {
		srv_tick_run(s);
		maybe_finish(s);
	}
}

void srv_persist_catch_up_list(srv *s, srv_series *const *l, size_t n)
{
	size_t i;
	ent *e;

	for (i = 0; i < n && s->catchup && s->catchup->started; i++) {
		srv_catchup *c = s->catchup;
		if (s->st.behind_series && (e = find(c, l[i])) != NULL)
			queue_ent(s, c, e);
		if (c->queued >= LIST_TICK) {
			srv_tick_run(s);
			maybe_finish(s);
		}
	}
	if (s->catchup && s->catchup->started && s->catchup->queued) {
		srv_tick_run(s);
		maybe_finish(s);
	}
}

void srv_persist_catch_up_all(srv *s)
{
	while (s->catchup && s->catchup->started) {
		srv_catchup *c = s->catchup;
		/* Entries before the cursor are done (queued by the
		 * background or on use): none left after it means none. */
		if (!queue_next(s, c, LIST_TICK) && !c->queued) {
			finish(s);
			return;
		}
		srv_tick_run(s);
		maybe_finish(s);
	}
}

int srv_persist_behind(srv *s, const srv_series *se, size_t *n, double *last_t)
{
	srv_catchup *c = s->catchup;
	ent *e;

	if (!c || !c->started || !s->st.behind_series ||
	    (e = find(c, se)) == NULL)
		return 0;
	*n = e->n;
	*last_t = c->tv[2 * (e->off + e->n - 1)];
	return 1;
}

int srv__catchup_leave(srv *s)
{
	srv_catchup *c = s->catchup;

	return c && c->started && s->st.behind_series &&
	       s->st.behind_samples > c->stop_max;
}
