/*
 * bench/store_decl.c: the store's cost of declaring new series, the
 * writer's share of creating a series at ingest (bench/ing100k.sh).
 *
 *   store_decl N [PER_BATCH] [DIR]
 *
 * Declares N new series (names "bench.sN", tags "", step 60 s) through the
 * public store API, PER_BATCH (default 256, the rows a daemon tick holds at
 * most) to a batch, each batch committed before the next is submitted
 * (store_flush), so the transactions are the same whatever the machine's
 * speed and callgrind counts the same work every run:
 *
 *   valgrind --tool=callgrind --toggle-collect=store__writer_main \
 *       build/bench/store_decl 20000
 *
 * Prints one line: n=, per_batch=, wall_s=, cpu_us_per_series= (the
 * process' CPU, every thread, getrusage), and the series the database
 * holds at the end (rows=). Uses only io/store.h, so it builds against a
 * base revision as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "io/store.h"

static int closed;

static void on_closed(void *ud)
{
	(void)ud;
	closed = 1;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static double wall_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0,
	     per = argc > 2 ? atol(argv[2]) : 256;
	char dir[] = "/tmp/statecast-decl.XXXXXX", path[64], name[32];
	const char *d = argc > 3 ? argv[3] : NULL;
	uv_loop_t loop;
	store *s;
	store_reader *r;
	int64_t rows = -1;
	double w0, c0, w1, c1;
	long i = 0, k;
	int rc;

	if (n <= 0 || per <= 0) {
		fprintf(stderr, "usage: store_decl N [PER_BATCH] [DIR]\n");
		return 2;
	}
	if (!d && !(d = mkdtemp(dir))) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/db", d);
	uv_loop_init(&loop);
	if ((rc = store_open(&s, &loop, path, NULL)) != 0) {
		fprintf(stderr, "store_open: %s\n", store_strerror(rc));
		return 1;
	}
	w0 = wall_s();
	c0 = cpu_s();
	while (i < n) {
		store_batch *b = store_batch_new();
		for (k = 0; k < per && i < n; k++, i++) {
			snprintf(name, sizeof name, "bench.s%ld", i);
			store_batch_series(b, store_next_series_id(s) + i, name,
					   "", 60.0, 1, 1.7e9);
		}
		if ((rc = store_submit(s, b, 0, NULL, NULL)) != 0 ||
		    (rc = store_flush(s, 60000)) != 0) {
			fprintf(stderr, "store: %s\n", store_strerror(rc));
			return 1;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	w1 = wall_s();
	c1 = cpu_s();
	store_close(s, on_closed, NULL);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	uv_loop_close(&loop);
	if (store_reader_open(&r, path) == 0) {
		store_count(r, "series", &rows);
		store_reader_free(r);
	}
	printf("n=%ld per_batch=%ld wall_s=%.3f cpu_us_per_series=%.2f "
	       "rows=%lld\n",
	       n, per, w1 - w0, (c1 - c0) / (double)n * 1e6, (long long)rows);
	if (d == dir) { /* ours: the database and whatever SQLite left */
		static const char *const ext[] = {"", "-wal", "-shm",
						  "-journal"};
		char f[96];
		for (k = 0; k < 4; k++) {
			snprintf(f, sizeof f, "%s%s", path, ext[k]);
			unlink(f);
		}
		rmdir(dir);
	}
	return rows == n ? 0 : 1;
}
