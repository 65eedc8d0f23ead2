/*
 * tests/io/store_fixture.h: what the store tests share: a temp dir holding a
 * real database file, a uv loop driven until a condition holds, and a
 * completion recorder. Header-only (static) so each test binary stays one
 * file plus the harness.
 */
#ifndef STATECAST_TESTS_IO_STORE_FIXTURE_H
#define STATECAST_TESTS_IO_STORE_FIXTURE_H

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "io/store.h"

typedef struct fx {
	char dir[64];
	char path[128];
	uv_loop_t loop;
	uv_timer_t tick;
} fx;

static inline void fx_tick(uv_timer_t *t)
{
	(void)t; /* only wakes the loop so run_until re-checks */
}

static inline void fx_init(fx *f)
{
	strcpy(f->dir, "/tmp/sc_store_XXXXXX");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(f->path, sizeof(f->path), "%s/statecast.db", f->dir);
	uv_loop_init(&f->loop);
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_start(&f->tick, fx_tick, 2, 2);
}

/* Run the loop until pred(ud) or about timeout_ms; returns pred's value. */
static inline int fx_run_until(fx *f, int (*pred)(void *), void *ud,
			       int timeout_ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;

	while (!pred(ud) && uv_hrtime() < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	return pred(ud);
}

static int fx_closed_flag;
static inline void fx_on_closed(void *ud)
{
	(void)ud;
	fx_closed_flag = 1;
}
static inline int fx_is_closed(void *ud)
{
	(void)ud;
	return fx_closed_flag;
}

/* Close the store and run the loop until its handle is closed. */
static inline void fx_close_store(fx *f, store *s)
{
	fx_closed_flag = 0;
	store_close(s, fx_on_closed, NULL);
	fx_run_until(f, fx_is_closed, NULL, 30000);
}

/* The first column of the first row of sql on the database at path (an
 * integer), -1 when there is none. */
static inline int64_t fx_scalar(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static inline int fx_count_cb(void *ud, const store_sample *sm, size_t n)
{
	(void)sm;
	*(int64_t *)ud += (int64_t)n;
	return 0;
}

/* Samples stored of one series (through store_history: chunks + log),
 * -1 on error. */
static inline int64_t fx_series_samples(const char *path, int64_t sid)
{
	store_reader *r;
	int64_t n = 0;

	if (store_reader_open(&r, path) != 0)
		return -1;
	if (store_history(r, sid, -INFINITY, INFINITY, 0, fx_count_cb, &n) != 0)
		n = -1;
	store_reader_free(r);
	return n;
}

static inline void fx_walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static inline void fx_release(fx *f)
{
	char p[200];
	const char *suf[] = {"", "-wal", "-shm", "-journal"};
	size_t i;

	uv_walk(&f->loop, fx_walk_close, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_loop_close(&f->loop);
	for (i = 0; i < sizeof(suf) / sizeof(suf[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suf[i]);
		unlink(p);
	}
	rmdir(f->dir);
}

/* For a crash test's child: sqlite3_progress_handler(db, N, fx_kill_after,
 * &left) kills the process (SIGKILL, no cleanup) at the left-th callback,
 * i.e. after about left x N SQLite VM instructions. */
static inline int fx_kill_after(void *ud)
{
	long *left = ud;

	if (--*left <= 0)
		raise(SIGKILL);
	return 0;
}

/* Runs child(path, budget) in a child process killed by fx_kill_after
 * after `budget` callbacks, ever later (budget grows by budget / grow + 1
 * up to max), calling check(path, ud) after each kill, until a child
 * exits (its work ended before its kill). Returns that child's wait
 * status (0 if none exited); *kills counts the SIGKILLs. */
static inline int fx_crash_loop(const char *path, long grow, long max,
				void (*child)(const char *, long),
				void (*check)(const char *, void *), void *ud,
				int *kills)
{
	long budget;
	int status = 0;

	*kills = 0;
	for (budget = 1; budget < max; budget += budget / grow + 1) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid == 0)
			child(path, budget);
		waitpid(pid, &status, 0);
		if (WIFEXITED(status))
			return status;
		*kills += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		check(path, ud);
	}
	return 0;
}

/* A completion recorder: one per batch. */
typedef struct done_rec {
	int called;
	int order;
	store_result r;
} done_rec;

static int fx_order;
static inline void fx_on_done(void *ud, const store_result *r)
{
	done_rec *d = ud;

	d->called++;
	d->order = ++fx_order;
	d->r = *r;
}

typedef struct all_done {
	done_rec *d;
	int n;
} all_done;

static inline int fx_all_called(void *ud)
{
	all_done *a = ud;
	int i;

	for (i = 0; i < a->n; i++)
		if (!a->d[i].called)
			return 0;
	return 1;
}

#endif
