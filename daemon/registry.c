/*
 * daemon/registry.c: the series hash map (see registry.h).
 */
#include "daemon/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

int srv_registry_init(srv_registry *r, const ssm_model *m, size_t history_cap)
{
	memset(r, 0, sizeof *r);
	r->model = m;
	r->history_cap = history_cap;
	r->nbuckets = 1024;
	r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
	return r->buckets ? 0 : -1;
}

static void series_free(srv_series *s)
{
	free(s->name);
	free(s->state);
	free(s->fq);
	free(s->fmean);
	srv_history_release(&s->hist);
	free(s);
}

void srv_registry_release(srv_registry *r)
{
	size_t i;

	srv_registry_reap(r);
	for (i = 0; i < r->n; i++)
		series_free(r->all[i]);
	free(r->all);
	free(r->buckets);
	memset(r, 0, sizeof *r);
}

srv_series *srv_registry_find(const srv_registry *r, const char *name,
			      size_t len)
{
	uint64_t h = fnv1a(name, len);
	srv_series *s;

	for (s = r->buckets[h & (r->nbuckets - 1)]; s; s = s->next)
		if (s->hash == h && strncmp(s->name, name, len) == 0 &&
		    s->name[len] == '\0')
			return s;
	return NULL;
}

/* Doubling keeps chains short; a failed allocation just leaves them longer. */
static void grow_buckets(srv_registry *r)
{
	size_t nb = r->nbuckets * 2, i;
	srv_series **b = calloc(nb, sizeof *b);

	if (!b)
		return;
	for (i = 0; i < r->n; i++) {
		srv_series *s = r->all[i];
		s->next = b[s->hash & (nb - 1)];
		b[s->hash & (nb - 1)] = s;
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = nb;
}

srv_series *srv_registry_add(srv_registry *r, const char *name, size_t len,
			     int period, double step_s)
{
	srv_series *s;
	size_t slot;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		srv_series **all = realloc(r->all, cap * sizeof *all);
		if (!all)
			return NULL;
		r->all = all;
		r->cap = cap;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->name = malloc(len + 1);
	if (!s->name) {
		free(s);
		return NULL;
	}
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	s->hash = fnv1a(name, len);
	s->period = period > 0 ? period : 1;
	s->step_s = step_s;
	s->last_t = -INFINITY;
	s->last_value = NAN;
	s->stepped_t = -INFINITY;
	srv_history_init(&s->hist, r->history_cap);
	s->index = r->n;
	r->all[r->n++] = s;
	slot = s->hash & (r->nbuckets - 1);
	s->next = r->buckets[slot];
	r->buckets[slot] = s;
	if (r->n > r->nbuckets)
		grow_buckets(r);
	return s;
}

void srv_registry_drop(srv_registry *r, srv_series *s)
{
	srv_series **pp = &r->buckets[s->hash & (r->nbuckets - 1)];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	r->all[s->index] = r->all[r->n - 1];
	r->all[s->index]->index = s->index;
	r->n--;
	s->dropped = 1;
	s->next = r->grave;
	r->grave = s;
}

void srv_registry_reap(srv_registry *r)
{
	while (r->grave) {
		srv_series *s = r->grave;
		r->grave = s->next;
		series_free(s);
	}
}

int srv_series_start(const srv_registry *r, srv_series *s)
{
	const ssm_model *m = r->model;
	size_t H = (size_t)ssm_model_horizon(m);
	size_t Q = (size_t)ssm_model_nquantiles(m);
	int err = SSM_ENOMEM;

	s->state = malloc(ssm_model_state_floats(m) * sizeof *s->state);
	s->fq = malloc(H * Q * sizeof *s->fq);
	s->fmean = malloc(H * sizeof *s->fmean);
	if (s->state && s->fq && s->fmean) {
		err = ssm_state_init(m, s->state, s->period, s->step_s);
		if (err == 0)
			return 0;
	}
	/* Leave the series as it was: still learning, nothing allocated. */
	free(s->state);
	free(s->fq);
	free(s->fmean);
	s->state = s->fq = s->fmean = NULL;
	return err;
}
