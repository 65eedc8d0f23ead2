/*
 * daemon/trace.c: the loop thread's event trace (see trace.h).
 */
#include "daemon/trace.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct tr_ev {
	int64_t us_ns; /* CLOCK_MONOTONIC, nanoseconds */
	int64_t a, b;
	int64_t cpu_us, wait_us; /* wait_us -1: not read */
	int64_t preempts;
	int kind;
} tr_ev;

int srv_trace_on;
static tr_ev *evs;
static uint64_t nev, ndropped;
static char *path;
static int sched_fd = -1; /* /proc/thread-self/schedstat of the loop */

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
	/* Opened on the thread that records (the loop: main's thread). */
	sched_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	nev = ndropped = 0;
	srv_trace_on = 1;
	return 0;
}

/* The thread's run delay (ns runnable without a core), in us; -1 when
 * unreadable. schedstat: "<cpu ns> <run delay ns> <timeslices>". */
static int64_t run_delay_us(void)
{
	char buf[96];
	ssize_t n;
	unsigned long long cpu, delay;

	if (sched_fd < 0)
		return -1;
	n = pread(sched_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &cpu, &delay) != 2)
		return -1;
	return (int64_t)(delay / 1000);
}

void srv_trace__ev(int kind, int64_t a, int64_t b)
{
	struct timespec ts;
	struct rusage ru;
	int64_t wait = -1, pre = -1;
	tr_ev *e;

	if (nev >= SRV_TRACE_MAX) {
		ndropped++;
		return;
	}
	/* The run delay and the switches first, the clocks after them: the
	 * two reads are system calls, where a woken thread of higher claim
	 * takes the core (at their return), and a wait there must fall
	 * before the event's time, in the phase this event closes, as the
	 * run delay read here counts it. Read the other way round, a
	 * preemption inside them (lat16: 5-17 ms at load 7, after a pool
	 * round's end) showed as the loop asleep in the next phase, its
	 * delay counted in the phase before. */
	if (strchr(SRV_TRACE_WAIT_KINDS, kind)) {
		wait = run_delay_us();
		if (getrusage(RUSAGE_THREAD, &ru) == 0)
			pre = ru.ru_nivcsw;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e = &evs[nev++];
	e->us_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	e->kind = kind;
	e->a = a;
	e->b = b;
	/* getrusage's user and system times are sampled at the scheduler
	 * tick: only the thread's clock has the precision a phase of a
	 * few hundred microseconds needs. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	e->cpu_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	e->preempts = pre;
	e->wait_us = wait;
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
				"%" PRId64 ".%03d %c %" PRId64 " %" PRId64
				" %" PRId64 " %" PRId64 " %" PRId64 "\n",
				evs[i].us_ns / 1000, (int)(evs[i].us_ns % 1000),
				evs[i].kind, evs[i].a, evs[i].b, evs[i].cpu_us,
				evs[i].preempts, evs[i].wait_us);
		if (ndropped)
			fprintf(f, "# %" PRIu64 " events dropped\n", ndropped);
		if (fclose(f) != 0)
			rc = -1;
	}
	free(evs);
	free(path);
	evs = NULL;
	path = NULL;
	if (sched_fd >= 0)
		close(sched_fd);
	sched_fd = -1;
	return rc;
}
