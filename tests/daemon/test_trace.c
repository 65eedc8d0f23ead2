/*
 * tests/daemon/test_trace.c: STATECAST_TRACE (daemon/trace.h): off without
 * the variable (nothing recorded, nothing written); on, every event is
 * written as "<us> <kind> <a> <b> <cpu> <preempts> <wait>" in order with
 * non-decreasing times and CPU times, the run delay read only for the
 * kinds of SRV_TRACE_WAIT_KINDS, and events past SRV_TRACE_MAX are
 * counted as dropped, not kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/trace.h"
#include "tests/harness.h"

static char path[64];

static void test_off(void)
{
	uint64_t dropped = 1;

	unsetenv("STATECAST_TRACE");
	CHECK(srv_trace_open() == 0);
	CHECK(srv_trace_on == 0);
	srv_trace(SRV_TR_TICK, 1, 2);
	CHECK(srv_trace_count(&dropped) == 0);
	CHECK(dropped == 0);
	CHECK(srv_trace_close() == 0);
	CHECK(access(path, F_OK) != 0);
}

static void test_on(void)
{
	FILE *f;
	char kind, line[256];
	double t, last = 0;
	long long a, b, cpu, pre, wait, last_cpu = 0;
	int n = 0, order = 1, fields = 1, waits = 1;
	volatile double spin = 0;
	int i;

	setenv("STATECAST_TRACE", path, 1);
	CHECK(srv_trace_open() == 0);
	CHECK(srv_trace_on == 1);
	srv_trace(SRV_TR_READ, 512, 20);
	srv_trace(SRV_TR_TICK, 20, 1);
	for (i = 0; i < 1000000; i++) /* some CPU time between events */
		spin += i;
	srv_trace(SRV_TR_NOTIFY, 1090, 0);
	srv_trace(SRV_TR_TICKEND, 300, -7);
	CHECK(srv_trace_count(NULL) == 4);
	CHECK(srv_trace_close() == 0);
	CHECK(srv_trace_on == 0);
	srv_trace(SRV_TR_TICK, 1, 1); /* closed: not recorded */
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lf %c %lld %lld %lld %lld %lld", &t, &kind,
			   &a, &b, &cpu, &pre, &wait) != 7) {
			fields = 0;
			break;
		}
		/* The run delay: read at tick events (when the kernel has
		 * schedstats: else -1), never at reads or notifications. */
		if ((kind == 'r' || kind == 'N') ? wait != -1 || pre != -1
						 : wait < -1 || pre < 0)
			waits = 0;
		if (cpu < last_cpu)
			order = 0;
		last_cpu = cpu;
		static const char kinds[] = "rTNE";
		static const long long as[] = {512, 20, 1090, 300};
		static const long long bs[] = {20, 1, 0, -7};
		if (n < 4) {
			CHECK(kind == kinds[n]);
			CHECK(a == as[n]);
			CHECK(b == bs[n]);
		}
		if (t < last)
			order = 0;
		last = t;
		n++;
	}
	fclose(f);
	CHECK(fields);
	CHECK(waits);
	CHECK(n == 4);
	CHECK(order);
	CHECK(last > 0);
	CHECK(last_cpu > 0);
	unlink(path);
}

static void test_full(void)
{
	FILE *f;
	char line[128];
	uint64_t dropped = 0, i;
	int saw = 0;

	setenv("STATECAST_TRACE", path, 1);
	CHECK(srv_trace_open() == 0);
	for (i = 0; i < SRV_TRACE_MAX + 5; i++)
		srv_trace(SRV_TR_POLL, (int64_t)i, 0);
	CHECK(srv_trace_count(&dropped) == SRV_TRACE_MAX);
	CHECK(dropped == 5);
	CHECK(srv_trace_close() == 0);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (strcmp(line, "# 5 events dropped\n") == 0)
			saw = 1;
	fclose(f);
	CHECK(saw);
	unlink(path);
}

static void test_unwritable(void)
{
	setenv("STATECAST_TRACE", "/nonexistent-dir/trace.txt", 1);
	CHECK(srv_trace_open() == 0);
	srv_trace(SRV_TR_SINK, 1, 0);
	CHECK(srv_trace_close() == -1);
	CHECK(srv_trace_on == 0);
}

int main(void)
{
	snprintf(path, sizeof path, "/tmp/statecast-trace-test.%ld",
		 (long)getpid());
	unlink(path);
	TH_RUN(test_off);
	TH_RUN(test_on);
	TH_RUN(test_full);
	TH_RUN(test_unwritable);
	unsetenv("STATECAST_TRACE");
	return th_summary();
}
