/*
 * daemon/trace.c: the loop thread's event trace (see trace.h).
 */
#include "daemon/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct tr_ev {
	int64_t us_ns; /* CLOCK_MONOTONIC, nanoseconds */
	int64_t a, b;
	int kind;
} tr_ev;

int srv_trace_on;
static tr_ev *evs;
static uint64_t nev, ndropped;
static char *path;

int srv_trace_open(void)
{
	const char *p = getenv("STATECAST_TRACE");

	if (!p || !p[0] || srv_trace_on)
		return 0;
	evs = malloc((size_t)SRV_TRACE_MAX * sizeof *evs);
	path = malloc(strlen(p) + 1);
	if (!evs || !path) {
		free(evs);
		free(path);
		evs = NULL;
		path = NULL;
		return -1;
	}
	strcpy(path, p);
	nev = ndropped = 0;
	srv_trace_on = 1;
	return 0;
}

void srv_trace__ev(int kind, int64_t a, int64_t b)
{
	struct timespec ts;
	tr_ev *e;

	if (nev >= SRV_TRACE_MAX) {
		ndropped++;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e = &evs[nev++];
	e->us_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	e->kind = kind;
	e->a = a;
	e->b = b;
}

uint64_t srv_trace_count(uint64_t *dropped)
{
	if (dropped)
		*dropped = ndropped;
	return nev;
}

int srv_trace_close(void)
{
	FILE *f;
	uint64_t i;
	int rc = 0;

	if (!srv_trace_on)
		return 0;
	srv_trace_on = 0;
	f = fopen(path, "w");
	if (!f) {
		rc = -1;
	} else {
		for (i = 0; i < nev; i++)
			fprintf(f,
				"%" PRId64 ".%03d %c %" PRId64 " %" PRId64 "\n",
				evs[i].us_ns / 1000, (int)(evs[i].us_ns % 1000),
				evs[i].kind, evs[i].a, evs[i].b);
		if (ndropped)
			fprintf(f, "# %" PRIu64 " events dropped\n", ndropped);
		if (fclose(f) != 0)
			rc = -1;
	}
	free(evs);
	free(path);
	evs = NULL;
	path = NULL;
	return rc;
}
