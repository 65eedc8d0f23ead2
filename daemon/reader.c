/*
 * daemon/reader.c: see reader.h.
 *
 * Workload: a dashboard's `history` poll (tens of series every few
 * seconds, each one indexed range read of a few ms at 100k series) and a
 * status page or two a minute (50 such reads and a render). One thread is
 * enough: the reads are short and the machine has two cores, one of which
 * the loop needs.
 */
#include "daemon/reader.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/log.h"
#include "daemon/server.h"

typedef struct srv_reader srv_reader;

struct srv_reader {
	srv_bg *bg;
	store_reader *rd; /* the read thread's */
	store *st;	  /* the writer's: store_flush only */
	size_t queued;	  /* bounded jobs submitted, done not yet run */
	uint64_t run, busy;
	/* srv_reader_close has begun: no submit; the jobs still queued skip
	 * their commit wait (run gets st NULL), so that a stop does not
	 * wait up to SRV_HISTORY_FLUSH_MS for each. Written by the loop,
	 * read by the read thread. */
	atomic_int closing;
};

static void job_work(srv_bg_job *b)
{
	srv_read_job *j = b->data;
	srv_reader *r = j->s->reader;

	j->run(j, r->rd, atomic_load(&r->closing) ? NULL : r->st);
}

static void job_done(srv_bg_job *b)
{
	srv_read_job *j = b->data;
	srv_reader *r = j->s->reader;

	if (j->bounded)
		r->queued--;
	r->run++;
	j->done(j->s, j);
}

int srv_reader_open(srv *s, store *st, const char *path)
{
	srv_reader *r = calloc(1, sizeof *r);
	int rc;

	if (!r) {
		srv_log(LOG_WARNING, "reads on the loop thread: out of memory");
		return -1;
	}
	rc = store_reader_open(&r->rd, path);
	if (rc) {
		srv_log(LOG_WARNING, "reads on the loop thread: %s: %s", path,
			store_strerror(rc));
		free(r);
		return -1;
	}
	rc = srv_bg_start(&r->bg, s->loop, "store-reader");
	if (rc) {
		srv_log(LOG_WARNING, "reads on the loop thread: thread: %s",
			uv_strerror(rc));
		store_reader_free(r->rd);
		free(r);
		return -1;
	}
	r->st = st;
	s->reader = r;
	return 0;
}

void srv_reader_close(srv *s)
{
	srv_reader *r = s->reader;

	if (!r)
		return;
	/* Runs what is queued, with r still reachable from the dones,
	 * which must not queue more (srv_bg_stop's rule). */
	atomic_store(&r->closing, 1);
	srv_bg_stop(r->bg);
	store_reader_free(r->rd);
	free(r);
	s->reader = NULL;
}

int srv_reader_on(const srv *s)
{
	return s->reader != NULL;
}

int srv_reader_submit(srv *s, srv_read_job *j, int bounded)
{
	srv_reader *r = s->reader;

	if (!r || atomic_load(&r->closing))
		return -ENODEV;
	if (bounded && r->queued >= SRV_READ_QUEUE) {
		r->busy++;
		return -EAGAIN;
	}
	j->s = s;
	j->bounded = bounded;
	r->queued += bounded != 0;
	j->bg.work = job_work;
	j->bg.done = job_done;
	j->bg.data = j;
	srv_bg_submit(r->bg, &j->bg);
	return 0;
}

void srv_reader_note_busy(srv *s)
{
	if (s->reader)
		s->reader->busy++;
}

void srv_reader_counts(const srv *s, uint64_t *run, uint64_t *busy,
		       size_t *queued)
{
	const srv_reader *r = s->reader;

	*run = r ? r->run : 0;
	*busy = r ? r->busy : 0;
	*queued = r ? r->queued : 0;
}
