/*
 * daemon/subscribe.c: subscriptions and notifications (see subscribe.h).
 */
#include "daemon/subscribe.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/methods.h"
#include "daemon/server.h"
#include "daemon/trace.h"
#include "io/grow.h"

/* Notifications larger than this are a bug (H x Q floats are bounded). */
#define NOTIFY_MAX (8u << 20)

void srv_subs_init(srv_subs *u)
{
	memset(u, 0, sizeof *u);
	u->next_id = 1;
	u->gen = 2;
	rpc_buf_init(&u->buf, NOTIFY_MAX);
}

static void sub_free(srv_sub *x)
{
	free(x->pattern);
	free(x);
}

void srv_subs_release(srv_subs *u)
{
	while (u->head) {
		srv_sub *x = u->head;
		u->head = x->next;
		sub_free(x);
	}
	rpc_buf_release(&u->buf);
	u->n = 0;
}

/* The subscriptions changed: every series' cached match is stale. After
 * 2^31 changes gen would come back to values series still hold, so then
 * every series forgets its match (0 is never a current gen). */
static void changed(srv *s)
{
	size_t i;

	s->subs.gen += 2;
	if (s->subs.gen != 0)
		return;
	s->subs.gen = 2;
	for (i = 0; i < s->reg.n; i++)
		s->reg.all[i]->sub_gen = 0;
}

uint64_t srv_subscribe(srv *s, srv_conn *c, const char *pattern, size_t len,
		       int forecasts, int anomalies)
{
	srv_sub *x = calloc(1, sizeof *x);

	if (!x)
		return 0;
	x->pattern = malloc(len + 1);
	if (!x->pattern) {
		free(x);
		return 0;
	}
	memcpy(x->pattern, pattern, len);
	x->pattern[len] = '\0';
	x->id = s->subs.next_id++;
	x->c = c;
	x->forecasts = forecasts;
	x->anomalies = anomalies;
	x->next = s->subs.head;
	s->subs.head = x;
	s->subs.n++;
	c->nsubs++;
	changed(s);
	return x->id;
}

/* Removes the subscriptions selected by (c, id); id 0 = all of c's. */
static int remove_subs(srv *s, srv_conn *c, uint64_t id)
{
	srv_sub **pp = &s->subs.head;
	int removed = 0;

	while (*pp) {
		srv_sub *x = *pp;
		if (x->c == c && (id == 0 || x->id == id)) {
			*pp = x->next;
			sub_free(x);
			s->subs.n--;
			c->nsubs--;
			removed++;
		} else {
			pp = &x->next;
		}
	}
	if (removed)
		changed(s);
	return removed;
}

int srv_unsubscribe(srv *s, srv_conn *c, uint64_t id)
{
	if (id == 0)
		return -1;
	return remove_subs(s, c, id) ? 0 : -1;
}

/* Takes c off the pending list (it is closing: its bytes are dropped). */
static void unlist(srv *s, srv_conn *c)
{
	srv_conn **pp;

	if (!c->nlen)
		return;
	for (pp = &s->subs.pending; *pp; pp = &(*pp)->nnext)
		if (*pp == c) {
			*pp = c->nnext;
			break;
		}
	c->nlen = 0;
	c->nnext = NULL;
}

void srv_subs_drop_conn(srv *s, srv_conn *c)
{
	unlist(s, c);
	if (c->nsubs)
		remove_subs(s, c, 0);
}

void srv_subs_flush(srv *s)
{
	while (s->subs.pending) {
		srv_conn *c = s->subs.pending;
		s->subs.pending = c->nnext;
		c->nnext = NULL;
		if (!c->closing)
			srv_conn_write(c, c->nbuf, c->nlen);
		c->nlen = 0;
	}
}

/* Appends one encoded notification to c's pending bytes; -1 when out of
 * memory (the connection is closed: its reader would miss it). */
static int append(srv *s, srv_conn *c, const rpc_buf *b)
{
	if (io_grow(&c->nbuf, &c->ncap, c->nlen + b->len, 1, 4096)) {
		srv_conn_close(c, "out of memory");
		return -1;
	}
	if (!c->nlen) {
		c->nnext = s->subs.pending;
		s->subs.pending = c;
	}
	memcpy(c->nbuf + c->nlen, b->p, b->len);
	c->nlen += b->len;
	return 0;
}

/*
 * Sends the notification encoded by put() to every live subscription that
 * matches the series and wants this kind. The map is encoded per
 * subscription because it names the subscription id; the forecast itself
 * is the bulk and costs one pass over H x Q floats.
 */
static void notify(srv *s, srv_series *se, int forecast, double t, double value,
		   float score)
{
	rpc_buf *b = &s->subs.buf;
	srv_sub *x;

	if (!srv_subs_watched(s, se))
		return;
	for (x = s->subs.head; x; x = x->next) {
		if (x->c->closing || !(forecast ? x->forecasts : x->anomalies))
			continue;
		/* One subscription that matches: it is the one. */
		if (s->subs.n > 1 && fnmatch(x->pattern, se->name, 0) != 0)
			continue;
		rpc_buf_reset(b);
		if (forecast) {
			rpc_put_notify(b, "forecast");
			srv_put_forecast(b, s, se, x->id);
		} else {
			rpc_put_notify(b, "anomaly");
			srv_put_anomaly(b, s, se, t, value, score, x->id);
		}
		if (b->err)
			continue;
		s->st.notifications++;
		srv_trace(
		    SRV_TR_NOTIFY, (int64_t)b->len,
		    (int64_t)uv_stream_get_write_queue_size(&x->c->h.stream));
		append(s, x->c, b);
	}
}

int srv_subs_watched(srv *s, srv_series *se)
{
	const srv_sub *x;
	uint32_t g = s->subs.gen;

	if (!s->subs.head)
		return 0;
	if ((se->sub_gen & ~1u) != g) {
		for (x = s->subs.head; x; x = x->next)
			if (fnmatch(x->pattern, se->name, 0) == 0)
				break;
		se->sub_gen = g | (x != NULL);
	}
	return (int)(se->sub_gen & 1);
}

void srv_subs_forecast(srv *s, srv_series *se)
{
	if (s->subs.head)
		notify(s, se, 1, 0, 0, 0);
}

void srv_subs_anomaly(srv *s, srv_series *se, double t, double value,
		      float score)
{
	if (s->subs.head)
		notify(s, se, 0, t, value, score);
}
