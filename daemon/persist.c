/*
 * daemon/persist.c: the store-backed sink, recovery and snapshots (see
 * persist.h).
 */
#include "daemon/persist.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/catchup.h"
#include "daemon/ckpt.h"
#include "daemon/dump.h"
#include "daemon/fresh.h"
#include "daemon/log.h"
#include "daemon/privdrop.h"
#include "daemon/reader.h"
#include "daemon/sdnotify.h"
#include "daemon/server.h"
#include "daemon/trace.h"
#include "io/grow.h"
#include "io/progress.h"

/* Samples replayed between two tick runs at start-up: large enough for
 * wide batches across series (a round is shared with the compute pool
 * from 96 rows: a run of N samples of series with k samples each is k
 * rounds of N/k series), small enough to bound the pending arrays. 1024
 * (rounds whose states stay in cache) measured 0.86x the CPU in two
 * interleaved pairs and 1.00x in three more (bench/results/crash4.md):
 * not kept, since it stops sharing rounds from 11 samples a series. */
#ifndef REPLAY_CHUNK /* -DREPLAY_CHUNK=N: A/B builds */
#define REPLAY_CHUNK 8192
#endif
/* Series snapshotted per batch at shutdown. */
#define CLOSE_SNAPSHOT_SLICE 8192
/* A queue that held this much is trimmed from the heap once it empties
 * (61 MB less RSS after a 200k-series ingest). */
#define TRIM_AFTER_BYTES (64u << 20)

typedef struct srv_persist {
	store *st;
	store_reader *rd;
	int64_t next_id;
	uint64_t hash;
	size_t nfloats;
	int replaying;
	int closed;
	uv_timer_t timer;
	size_t cursor;
	double snap_due; /* series the snapshot timer owes, fraction kept */
	/* Ids whose declaration was in a failed batch: declared again. */
	int64_t *redecl;
	size_t nredecl, capredecl;
	uint64_t lines_dropped, pushes_failed;
	uint64_t batches_failed; /* completions with an error, ever */
	/* Recovery: the series being restored. */
	srv_series *cur;
	srv_series *sync; /* the series whose samples the walk steps itself
			     (daemon/catchup.h: they did not fit) */
	int rebuild_first;
	int made_dir; /* make_parent() created the store's directory */
	size_t pending;
	/* Batches submitted whose completion has not run yet; their bytes
	 * are the store's count (store_queued_bytes). */
	size_t inflight;
	size_t queued_peak; /* most queued bytes since the last malloc_trim */
	io_progress prog;   /* restore progress: log lines and STATUS= */
	/* The checkpoint (daemon/ckpt.h): writer, its slice timer, samples
	 * stored (what tells it something moved), and at start-up the
	 * generation loaded. */
	srv_ckpt *ck;
	uv_timer_t ck_timer;
	int ck_timer_on;
	uint64_t moved;
	srv_ckpt_restore cr;
	/* store_open is running: its log lines (a schema-3 sample table's
	 * conversion, minutes on a big database) also extend systemd's
	 * start timeout. Schema 6's forecasts move after open, in the
	 * writer's idle time (io/store_fc.c): their lines are log lines
	 * only. Atomic: the store's writer thread logs once open returns. */
	atomic_int opening;
} srv_persist;

/* One submitted batch, for its completion. */
typedef struct pbatch {
	srv *s;
	srv_push **push;
	size_t npush;
	int64_t *decl;
	size_t ndecl, capdecl;
	size_t nsamples;
	uint64_t ckpt_gen; /* names this checkpoint (srv_ckpt_recorded) */
} pbatch;

static double now_s(void)
{
	return srv_now();
}

/* CPU seconds of the whole process (every thread): the restore's phases
 * are logged with their wall and CPU time, which a loaded machine tells
 * apart. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A restore phase's end: its wall and CPU seconds since the last mark
 * appended to buf. */
typedef struct phases {
	double w, c;
	char buf[256];
	size_t len;
} phases;

static void phase(phases *ph, const char *name)
{
	double w = now_s(), c = cpu_s();

	if (ph->len < sizeof ph->buf)
		ph->len += (size_t)snprintf(
		    ph->buf + ph->len, sizeof ph->buf - ph->len,
		    "%s%s %.2f s (CPU %.2f)", ph->len ? ", " : "", name,
		    w - ph->w, c - ph->c);
	ph->w = w;
	ph->c = c;
}

static void pbatch_free(pbatch *c)
{
	free(c->push);
	free(c->decl);
	free(c);
}

static void on_done(void *ud, const store_result *r)
{
	pbatch *c = ud;
	srv *s = c->s;
	srv_persist *p = s->persist;
	size_t i;

	srv_trace(SRV_TR_STORE, (int64_t)r->rows,
		  (int64_t)(r->total_ns / 1000));
	/* /metrics: submit -> COMMIT of every committed batch. */
	if (r->status == 0)
		srv_hist_observe(&s->commit_latency,
				 (double)r->total_ns * 1e-9);
	for (i = 0; i < c->npush; i++)
		srv_push_complete(s, c->push[i], r->status);
	if (p) {
		p->inflight--;
		/* Read again at half the bound: no flapping per batch. The
		 * writer took this batch (and maybe later ones) out of the
		 * count before this callback. */
		if (s->held &&
		    store_queued_bytes(p->st) <= s->set.store_max_queue / 2)
			srv_hold(s, 0);
		if (p->inflight == 0 && p->queued_peak >= TRIM_AFTER_BYTES) {
			/* The batches of a backlog were freed, but the heap
			 * keeps their pages (the series allocated meanwhile
			 * pin its top): hand them back to the system. */
			malloc_trim(0);
			p->queued_peak = 0;
		}
	}
	if (c->ckpt_gen && p)
		srv_ckpt_recorded(p->ck, c->ckpt_gen, r->status);
	if (r->status != 0 && p) {
		p->batches_failed++;
		if (c->npush)
			p->pushes_failed += c->npush;
		else
			p->lines_dropped += c->nsamples;
		for (i = 0; i < c->ndecl; i++) {
			if (io_grow(&p->redecl, &p->capredecl, p->nredecl + 1,
				    sizeof *p->redecl, 64))
				break;
			p->redecl[p->nredecl++] = c->decl[i];
		}
	}
	pbatch_free(c);
	srv_trace(SRV_TR_STOREEND, 0, 0);
}

static int declare(store_batch *b, pbatch *c, srv_series *se)
{
	if (store_batch_series(b, se->store_id, se->name, "", se->step_s,
			       se->period, now_s()))
		return -1;
	se->store_step_s = se->step_s;
	se->store_period = se->period;
	if (c) {
		/* Geometric: a tick may declare thousands of new series. */
		if (io_grow(&c->decl, &c->capdecl, c->ndecl + 1,
			    sizeof *c->decl, 16))
			return -1;
		c->decl[c->ndecl++] = se->store_id;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A failed batch lost series declarations: declare them again. */
static void redeclare(srv *s, store_batch *b, pbatch *c)
{
	srv_persist *p = s->persist;
	size_t i;

	qsort(p->redecl, p->nredecl, sizeof *p->redecl, cmp_i64);
	for (i = 0; i < s->reg.n; i++) {
		srv_series *se = s->reg.all[i];
		if (se->store_id &&
		    bsearch(&se->store_id, p->redecl, p->nredecl,
			    sizeof *p->redecl, cmp_i64))
			declare(b, c, se);
	}
	p->nredecl = 0;
}

static int submit(srv *s, store_batch *b, pbatch *c, unsigned flags)
{
	size_t i, q;
	srv_persist *p = s->persist;
	int rc;

	rc = store_submit(p->st, b, flags, on_done, c);
	if (rc == 0) {
		p->inflight++;
		q = store_queued_bytes(p->st);
		if (q > p->queued_peak)
			p->queued_peak = q;
		if (s->set.store_max_queue && q > s->set.store_max_queue)
			srv_hold(s, 1);
	} else {
		/* Closing: the batch is gone, answer what waits on it. */
		for (i = 0; i < c->npush; i++)
			srv_push_complete(s, c->push[i], rc);
		pbatch_free(c);
	}
	return rc;
}

/* The series' forecast is due in the store (store.forecast_every_s of
 * series time since the last one stored), once it has a store id. */
static int forecast_due(const srv *s, const srv_series *se)
{
	return se->has_forecast && srv_persist_fc_due_at(s, se, se->f_t);
}

int srv_persist_fc_due_at(const srv *s, const srv_series *se, double t)
{
	return s->persist && s->set.forecast_every_s > 0 && !se->dropped &&
	       t - se->store_fc_t >= s->set.forecast_every_s;
}

static int fc_latest(void *ud, const store_forecast_row *f)
{
	double *t = ud;

	if (f->t > *t)
		*t = f->t;
	return 0;
}

/*
 * Replay, once a refresh of a replayed sample passes the spacing rule: the
 * series' state may come from a checkpoint record, whose store_fc_t is
 * that of the record's time, while the run before the crash stored
 * forecasts after it, with the very samples now replayed (in their
 * COMMIT). The latest of those is read from the database, so the spacing
 * goes on from it as after a snapshot restore (whose store_fc_t was read
 * so already). Only a series whose replay reaches store_fc_t +
 * forecast_every_s can have one, so a restart reads a handful, not one
 * per series: the replay's refreshes cannot stand for the stored ones,
 * the run before may have stepped the same samples in other groups.
 * l: the series that stepped stored samples in this tick, the walk's
 * replay or the catch-up's after the daemon serves (daemon/catchup.h),
 * whose refreshes are not stored; before the rule decides what a live
 * sample of the same tick stores.
 */
static void replay_fc_spacing(srv *s, srv_series *const *l, size_t n)
{
	srv_persist *p = s->persist;
	size_t i;
	double t;

	for (i = 0; i < n && s->set.forecast_every_s > 0 && p->rd; i++) {
		srv_series *se = l[i];
		if (se->dropped || !se->store_id || !forecast_due(s, se))
			continue;
		t = se->store_fc_t;
		if (store_forecasts(p->rd, se->store_id,
				    nextafter(se->store_fc_t, INFINITY),
				    INFINITY, fc_latest, &t) == 0)
			se->store_fc_t = t;
	}
}

void srv_persist_tick(srv *s, const srv_tick_out *o)
{
	srv_persist *p = s->persist;
	int H = ssm_model_horizon(s->model), Q = ssm_model_nquantiles(s->model);
	store_batch *b;
	pbatch *c;
	size_t i, nfc = 0;

	replay_fc_spacing(s, o->replayed, o->nreplayed);
	srv__catchup_ticked(s);
	if (p->replaying) {
		/* Already stored: rec_samples() set each series' store_seq
		 * to the seq it read. */
		for (i = 0; i < o->npushes; i++)
			srv_push_complete(s, o->pushes[i], 0);
		return;
	}
	b = store_batch_new();
	c = calloc(1, sizeof *c);
	if (c && o->npushes) {
		c->push = malloc(o->npushes * sizeof *c->push);
		if (c->push) {
			memcpy(c->push, o->pushes,
			       o->npushes * sizeof *c->push);
			c->npush = o->npushes;
		}
	}
	if (!b || !c || c->npush != o->npushes) {
		srv_log(LOG_ERR, "out of memory: %zu samples not stored",
			o->nsamples);
		for (i = 0; i < o->npushes; i++)
			srv_push_complete(s, o->pushes[i], STORE_ENOMEM);
		store_batch_free(b);
		if (c)
			pbatch_free(c);
		return;
	}
	c->s = s;
	/* The batch's arrays at their final size at once: grown by doubling
	 * from empty each tick they cost a realloc copy of everything
	 * appended, 178 instructions a sample (bench/results/loop4.md).
	 * Counted before the samples below give new series their store id
	 * (a new series' first forecast is stored in its first tick), so at
	 * least the forecasts stored. On failure the appends grow the arrays
	 * as before. */
	for (i = 0; i < o->nrefreshed; i++)
		nfc += forecast_due(s, o->refreshed[i]);
	store_batch_reserve(b, o->nsamples, nfc, H, Q);
	if (p->nredecl)
		redeclare(s, b, c);
	for (i = 0; i < o->nsamples; i++) {
		srv_series *se = o->samples[i].s;
		if (se->dropped)
			continue;
		if (!se->store_id) {
			se->store_id = p->next_id++;
			declare(b, c, se);
		}
		se->store_seq++;
		store_batch_sample(b, se->store_id, (int64_t)se->store_seq,
				   o->samples[i].t, o->samples[i].value);
		c->nsamples++;
	}
	p->moved += c->nsamples;
	for (i = 0; i < o->nrefreshed && nfc; i++) {
		srv_series *se = o->refreshed[i];
		if (!se->store_id || !forecast_due(s, se))
			continue;
		srv_forecast_fresh(s, se);
		store_batch_forecast(b, se->store_id, se->f_t, H, Q,
				     ssm_model_quantiles(s->model), se->fq,
				     se->fmean);
		se->store_fc_t = se->f_t;
	}
	if (store_batch_rows(b) == 0 && c->npush == 0) {
		store_batch_free(b);
		pbatch_free(c);
		return;
	}
	/* A client waits on a push: it must hear of a failure, so such a
	 * batch is not retried; line ingest is. */
	submit(s, b, c, c->npush ? STORE_ACK : STORE_RETRY);
}

/* Snapshot up to count series from the cursor (those that moved). */
static void snapshot_some(srv *s, size_t count)
{
	srv_persist *p = s->persist;
	store_batch *b;
	pbatch *c;
	size_t k, n = s->reg.n;

	if (!n || p->closed)
		return;
	if (s->st.behind_series) {
		/* A snapshot names the seq its state holds: the slice's
		 * series catch up first (the registry's order wraps). */
		size_t a = p->cursor % n, m = count < n ? count : n;
		size_t first = m < n - a ? m : n - a;
		srv_persist_catch_up_list(s, s->reg.all + a, first);
		srv_persist_catch_up_list(s, s->reg.all, m - first);
	}
	b = store_batch_new();
	c = calloc(1, sizeof *c);
	if (!b || !c) {
		store_batch_free(b);
		free(c);
		return;
	}
	c->s = s;
	for (k = 0; k < count && k < n; k++) {
		srv_series *se = s->reg.all[p->cursor++ % n];
		if (!se->state || !se->store_id ||
		    se->snap_seq == se->store_seq)
			continue;
		/* The row's step and period, when they changed since its
		 * declaration (the step is learnt after it), go with it. */
		if (se->step_s != se->store_step_s ||
		    se->period != se->store_period)
			declare(b, c, se);
		store_batch_snapshot(b, se->store_id, s->model_desc, p->hash,
				     se->stepped_t, se->store_seq, se->state,
				     (uint32_t)p->nfloats);
		se->snap_seq = se->store_seq;
	}
	if (store_batch_rows(b) == 0) {
		store_batch_free(b);
		pbatch_free(c);
		return;
	}
	submit(s, b, c, STORE_RETRY);
}

/* Snapshots only bound the replay after a restart; samples are what must
 * reach the disk. At 1M series the default cadence is 16,700 snapshots of
 * 6.4 KB a second, more than the writer keeps up with beside ingest: the
 * queue filled with them, Graphite reads stopped (store.max_queue) and
 * ingest fell to a crawl (bench/results/hotpath.md). So while the queue
 * holds more than a quarter of store.max_queue, snapshots go at a tenth of
 * their pace (replay stays bounded, at ten times snapshot_s) and leave the
 * writer to the samples. */
#define SNAPSHOT_BACKLOG_DIV  4
#define SNAPSHOT_BACKLOG_SLOW 10

size_t srv__snapshot_slice(double *due, size_t n, double per)
{
	size_t k;

	*due += (double)n / (per > 1 ? per : 1);
	if (*due > (double)n) /* series dropped meanwhile */
		*due = (double)n;
	/* The sum of n / per over per seconds falls short of n by rounding
	 * (600 x 100 / 600 = 99.99...): a hair more makes it whole. */
	k = (size_t)(*due + 1e-9);
	*due -= (double)k;
	return k;
}

static void on_timer(uv_timer_t *t)
{
	srv *s = t->data;
	srv_persist *p = s->persist;
	double per = s->set.snapshot_s;
	size_t k;

	if (store_queued_bytes(p->st) >
	    s->set.store_max_queue / SNAPSHOT_BACKLOG_DIV)
		per *= SNAPSHOT_BACKLOG_SLOW;
	k = srv__snapshot_slice(&p->snap_due, s->reg.n, per);
	if (!k)
		return;
	srv_trace(SRV_TR_SNAP, (int64_t)k, 0);
	snapshot_some(s, k);
	srv_trace(SRV_TR_SNAPEND, 0, 0);
}

int srv__persist_record_ckpt(srv *s, uint64_t gen)
{
	srv_persist *p = s->persist;
	store_batch *b;
	pbatch *c;

	if (!p || p->closed || !p->st)
		return -1;
	b = store_batch_new();
	c = calloc(1, sizeof *c);
	if (!b || !c || store_batch_checkpoint(b, gen)) {
		store_batch_free(b);
		free(c);
		return -1;
	}
	c->s = s;
	c->ckpt_gen = gen;
	/* Retried like line ingest: it stays behind any batch of samples
	 * waiting to be retried, which its records may cover. */
	return submit(s, b, c, STORE_RETRY) ? -1 : 0;
}

static void on_ckpt_timer(uv_timer_t *t)
{
	srv *s = t->data;

	srv_trace(SRV_TR_CKPT, 0, 0);
	srv_ckpt_tick(s->persist->ck, s->persist->moved);
	srv_trace(SRV_TR_CKPTEND, 0, 0);
}

/* ---- recovery ---- */

static int rec_series(void *ud, const store_series_info *si, int mode,
		      const io_snap *snap, int snap_err)
{
	srv *s = ud;
	srv_persist *p = s->persist;
	int dup;
	srv_series *se;

	if (mode == STORE_RESTORE_KNOWN) {
		/* State, forecast and counters from the checkpoint; replay
		 * follows. */
		p->rebuild_first = 0;
		return srv_ckpt_series(s, &p->cr, si, &p->cur);
	}
	se = srv_registry_add_new(&s->reg, si->name, strlen(si->name),
				  si->period, si->step_s, &dup);
	if (dup) {
		srv_log(LOG_ERR, "store: series %s stored twice", si->name);
		p->cur = NULL;
		return 0;
	}
	if (!se)
		return -1;
	se->store_id = si->id;
	/* The spacing of stored forecasts goes on from the last one stored;
	 * the replay below stores none (already stored or never made). */
	se->store_fc_t = si->forecast_t;
	se->store_step_s = si->step_s;
	se->store_period = si->period;
	p->cur = se;
	p->rebuild_first = mode == STORE_RESTORE_REBUILD;
	if (snap_err)
		srv_log(LOG_WARNING,
			"store: series %s: snapshot unusable (%s), rebuilding "
			"from history",
			si->name, io_snap_strerror(snap_err));
	if (mode == STORE_RESTORE_SNAPSHOT && si->step_s > 0 &&
	    snap->nfloats == p->nfloats) {
		/* The snapshot is the whole state: no initialisation to
		 * overwrite. */
		if (srv_series_alloc(&s->reg, se))
			return -1;
		io_snap_copy_state(snap, se->state);
		se->stepped_t = snap->t;
	} else if (si->step_s > 0 && srv_series_start(&s->reg, se)) {
		return -1;
	}
	if (mode != STORE_RESTORE_SNAPSHOT)
		return 0;
	/* The sequence continues from the snapshot in any case: the
	 * samples up to it are not replayed. */
	se->n_samples = se->store_seq = se->snap_seq = snap->seen;
	se->last_t = snap->t;
	if (!se->state || snap->nfloats != p->nfloats)
		srv_log(LOG_ERR,
			"store: series %s: snapshot does not fit the model, "
			"state starts afresh",
			si->name);
	return 0;
}

static int rec_samples(void *ud, int64_t sid, const store_sample *sm, size_t n)
{
	srv *s = ud;
	srv_persist *p = s->persist;
	srv_series *se = p->cur;
	size_t i;

	if (!se || se->store_id != sid)
		return 0;
	if (p->rebuild_first && n) {
		se->n_samples = se->store_seq = (uint64_t)(sm[0].seq - 1);
		p->rebuild_first = 0;
	}
	if (!n)
		return 0;
	/* Kept for the catch-up once the daemon serves (daemon/catchup.h):
	 * the sequence goes on after the last stored seq, as below. */
	if (se != p->sync && srv__catchup_add(s, se, sm, n) == 0) {
		se->store_seq = (uint64_t)sm[n - 1].seq;
		return 0;
	}
	if (se != p->sync) {
		srv__catchup_take_back(s, se);
		p->sync = se;
	}
	for (i = 0; i < n; i++) {
		int rc = srv_ingest_replay(s, se, sm[i].t, sm[i].value);
		/* The sequence continues from the stored seq, not from a
		 * count of replayed samples: a refused push (failed commit)
		 * leaves a gap, and counting would hand out stored seqs
		 * again, whose INSERT OR IGNORE would drop acknowledged
		 * samples. */
		se->store_seq = (uint64_t)sm[i].seq;
		if (rc != SRV_ACCEPTED) {
			srv_log(LOG_ERR,
				"store: series %s: stored sample "
				"seq %lld refused on replay: %s",
				se->name, (long long)sm[i].seq,
				srv_reject_reason(rc));
			continue;
		}
		if (++p->pending >= REPLAY_CHUNK) {
			srv_tick_run(s);
			p->pending = 0;
		}
	}
	return 0;
}

/* Restore progress (io/progress.h) as log lines and systemd STATUS=,
 * extending the start timeout while series are still being restored. */
static void rec_status(void *ud, const char *text)
{
	(void)ud;
	srv_log(LOG_INFO, "%s", text);
	srv_sd_status(30 * 1000000ull, "%s", text);
}

/* io/progress paces the reports; rec_status() logs and notifies them. */
static void rec_progress(void *ud, uint64_t done, uint64_t total)
{
	srv *s = ud;

	/* The first report (done 0) comes before the first series. */
	if (done == 0) {
		/* Every series may need a fresh slot: the checkpoint's have
		 * theirs (its chunks, adopted), but one whose SQLite snapshot
		 * is newer than its record takes the snapshot into a fresh
		 * slot (51,666 of a 1M crash's, none of them counted by
		 * total - known: the loop thread then zeroed their ~370 MB
		 * itself, bench/results/crash9-profile.md). Announcing all
		 * costs little: the helper keeps a few chunks ahead of the
		 * filling, and srv_registry_prefault_end unmaps the rest. */
		srv_registry_reserve(&s->reg, s->reg.n + total);
		/* The slots' pages are faulted in on another thread while
		 * this one fills them (the restore's largest cost). */
		srv_registry_prefault(&s->reg);
	}
	s->persist->prog.total = total;
	io_progress_update(&s->persist->prog, done);
}

/* ---- the state dump (daemon/dump.h, docs/STATE_DUMP.md) ---- */

static void dump_path(const srv *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.dump", s->set.store_path);
}

static void dump_progress(void *ud, uint64_t done, uint64_t total)
{
	srv *s = ud;

	s->persist->prog.total = total;
	io_progress_update(&s->persist->prog, done);
}

/*
 * Restores every series from the state dump when the database vouches for
 * it (store_dump_generation, which store_open has already cleared: a
 * crash from here on restarts from the database). 1 = restored, 0 = not
 * (the registry is empty again). The file is removed either way: once its
 * record is gone it can never be used again (the mapping keeps it alive
 * until exit).
 */
static int restore_dump(srv *s, uint64_t *count)
{
	srv_persist *p = s->persist;
	uint64_t gen = store_dump_generation(p->st);
	char path[4096 + 8], tmp[4096 + 16], why[256];
	int64_t n = 0;
	int dirty = 0, rc;
	struct stat sb;

	dump_path(s, path, sizeof path);
	/* What a stop killed while dumping left behind. */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	if (gen == 0) {
		if (stat(path, &sb) == 0) {
			srv_log(LOG_NOTICE,
				"state dump %s is stale (not the last clean "
				"stop's, or used already): ignored and removed",
				path);
			unlink(path);
		}
		return 0;
	}
	if (store_count(p->rd, "series", &n) != 0) {
		srv_log(LOG_WARNING,
			"state dump %s: cannot count the "
			"database's series: restoring from the "
			"database",
			path);
		unlink(path);
		return 0;
	}
	rc = srv_dump_load(s, path, gen, p->hash, (uint64_t)n, &dirty, why,
			   sizeof why, dump_progress, s);
	unlink(path);
	if (rc == 0) {
		*count = (uint64_t)n;
		return 1;
	}
	srv_log(LOG_WARNING,
		"state dump %s rejected (%s): restoring from the database",
		path, why);
	if (dirty) {
		srv_registry_release(&s->reg);
		srv_registry_init(&s->reg, s->model, s->set.history_ring);
	}
	return 0;
}

static uint64_t new_generation(void)
{
	uint64_t g = 0;

	while (g == 0)
		if (getrandom(&g, sizeof g, 0) != (ssize_t)sizeof g)
			g = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	return g;
}

/* At a clean stop, with every accepted sample committed: the dump instead
 * of the final snapshots. 1 = written (to be recorded once the store has
 * closed), 0 = not (the caller snapshots as before). */
static int write_dump(srv *s, uint64_t *gen)
{
	srv_persist *p = s->persist;
	const char *unfit = srv_dump_unfit(s);
	char path[4096 + 8], why[512];
	store_stats st;
	double t0 = now_s();

	if (!s->set.state_dump)
		return 0;
	store_get_stats(p->st, &st);
	if (!unfit && (st.queued_rows || st.retry_rows || st.in_error))
		unfit = "the store has rows not committed";
	if (!unfit && p->nredecl)
		unfit = "series declarations to repeat";
	/* A failed batch leaves states that hold samples the database does
	 * not: the final snapshots keep what a crash after the next start
	 * would restore equal to them, the dump would not. */
	if (!unfit && p->batches_failed)
		unfit = "commits failed during this run";
	if (unfit) {
		srv_log(LOG_NOTICE,
			"state dump skipped (%s): final snapshots "
			"instead",
			unfit);
		return 0;
	}
	dump_path(s, path, sizeof path);
	*gen = new_generation();
	/* About a minute per million series on a slow disk. */
	srv_sd_status(30 * 1000000ull + (uint64_t)s->reg.n * 60,
		      "stopping: state dump of %zu series", s->reg.n);
	if (srv_dump_write(s, path, *gen, p->hash, why, sizeof why)) {
		srv_log(LOG_WARNING,
			"state dump not written (%s): final snapshots instead",
			why);
		return 0;
	}
	srv_log(LOG_INFO, "state dump of %zu series written to %s in %.2f s",
		s->reg.n, path, now_s() - t0);
	return 1;
}

/* After store_close: the database's last transaction names the dump, unless
 * a commit failed after it was written (then it is removed). */
static void record_dump(srv *s, uint64_t gen, uint64_t failed_before)
{
	srv_persist *p = s->persist;
	char path[4096 + 8];
	int rc;

	dump_path(s, path, sizeof path);
	if (p->batches_failed != failed_before) {
		srv_log(LOG_WARNING,
			"state dump %s removed: a commit failed "
			"while stopping",
			path);
		unlink(path);
		return;
	}
	rc = store_mark_dump(s->set.store_path, gen);
	if (rc) {
		srv_log(LOG_WARNING,
			"state dump %s removed: cannot record it in the "
			"database: %s",
			path, store_strerror(rc));
		unlink(path);
	}
}

/* The checkpoint gen cannot be used: logged, removed (it cannot become
 * usable again) and, when the registry holds part of it, the registry
 * emptied. */
static void ckpt_rejected(srv *s, uint64_t gen, const char *why, int dirty)
{
	char path[4200];

	srv_ckpt_path(s, gen, path, sizeof path);
	srv_log(LOG_WARNING,
		"checkpoint %s rejected (%s): restoring from the database",
		path, why);
	unlink(path);
	if (dirty) {
		srv_registry_release(&s->reg);
		srv_registry_init(&s->reg, s->model, s->set.history_ring);
	}
}

/*
 * Maps the checkpoint the database names as the slab (daemon/ckpt.h). 1 =
 * loaded (p->cr: the known states for store_recover), 0 = not (logged
 * when there was one; the registry is empty again).
 */
static int load_ckpt(srv *s)
{
	srv_persist *p = s->persist;
	uint64_t gen = store_checkpoint_generation(p->st);
	char why[256];
	int dirty = 0;

	if (gen == 0 || s->set.checkpoint_s <= 0)
		return 0;
	if (srv_ckpt_load(s, gen, p->hash, &p->cr, &dirty, why, sizeof why) ==
	    0) {
		srv_log(LOG_INFO, "checkpoint %016llx: %zu series mapped",
			(unsigned long long)gen, p->cr.n);
		return 1;
	}
	ckpt_rejected(s, gen, why, dirty);
	return 0;
}

/* Checkpoint files the database does not name: what a crash left while
 * writing one (.tmp), or a generation written and never recorded. */
static void clean_ckpt(srv *s)
{
	uint64_t gen = store_checkpoint_generation(s->persist->st);
	char path[4200];

	srv_ckpt_path(s, 0, path, sizeof path);
	unlink(path);
	srv_ckpt_path(s, gen ? gen ^ 1 : 2, path, sizeof path);
	unlink(path);
	if (gen == 0 || s->set.checkpoint_s <= 0) {
		srv_ckpt_path(s, 3, path, sizeof path);
		unlink(path);
	}
}

/* The data directory of a fresh install (./var by default): one level. */
static int make_parent(const char *path)
{
	char dir[4096];
	char *slash;

	if (strlen(path) >= sizeof dir)
		return -1;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0)
		return -1;
	srv_log(LOG_NOTICE, "created %s for the store", dir);
	return 0;
}

static void store_log(void *ud, const char *msg)
{
	srv_persist *p = ud;

	srv_log(LOG_WARNING, "store: %s", msg);
	/* A store opening on a schema-3 database converts its samples
	 * before it returns (store__convert_legacy): each line tells
	 * systemd the start is alive, or TimeoutStartSec (90 s in
	 * systemd/statecastd.service) would kill it mid-way. */
	if (atomic_load_explicit(&p->opening, memory_order_relaxed))
		srv_sd_status(30 * 1000000ull, "store: %s", msg);
}

int srv_persist_open(srv *s)
{
	srv_persist *p = calloc(1, sizeof *p);
	store_recover_cb cb = {rec_series, rec_samples, rec_progress,
			       s,	   NULL,	0};
	store_recover_stats rs;
	uint64_t from_dump = 0;
	store_opts o = s->set.store;
	double t0 = now_s();
	phases ph = {t0, cpu_s(), {0}, 0};
	int rc;

	if (!p)
		return -1;
	s->persist = p;
	p->hash = ssm_model_hash(s->model);
	p->nfloats = ssm_model_state_floats(s->model);
	o.log = store_log;
	o.log_ud = p;
	atomic_store(&p->opening, 1);
	rc = store_open(&p->st, s->loop, s->set.store_path, &o);
	if (rc == STORE_EOPEN && make_parent(s->set.store_path) == 0) {
		p->made_dir = 1;
		rc = store_open(&p->st, s->loop, s->set.store_path, &o);
	}
	atomic_store(&p->opening, 0);
	if (rc) {
		srv_log(LOG_ERR, "cannot open store %s: %s", s->set.store_path,
			store_strerror(rc));
		free(p);
		s->persist = NULL;
		return -1;
	}
	p->replaying = 1;
	if (srv__catchup_new(s))
		srv_log(LOG_WARNING, "restore: out of memory for the "
				     "catch-up: replaying before serving");
	io_progress_init(&p->prog, NULL, "restore (series)", 0);
	p->prog.interval_s = 2.0;
	p->prog.sink = rec_status;
	memset(&rs, 0, sizeof rs);
	phase(&ph, "open");
	rc = store_reader_open(&p->rd, s->set.store_path);
	if (rc == 0 && restore_dump(s, &from_dump)) {
		rs.series = from_dump;
		phase(&ph, "dump");
	} else if (rc == 0) {
		int ck = load_ckpt(s);
		char why[256];
		if (ck) {
			cb.known = p->cr.known;
			cb.nknown = p->cr.n;
		}
		phase(&ph, "map");
		rc = store_recover(s->set.store_path, p->hash,
				   s->set.rebuild_window_s, &cb, &rs);
		srv_registry_prefault_end(&s->reg);
		phase(&ph, "walk");
		/* The slots were checked while the database was walked
		 * (srv_ckpt_load): only now are the states known good. */
		if (ck && rc == 0 &&
		    srv_ckpt_check_wait(&p->cr, why, sizeof why)) {
			srv_tick_run(s); /* nothing pending points at them */
			srv_ckpt_restore_release(&p->cr);
			ckpt_rejected(s, store_checkpoint_generation(p->st),
				      why, 1);
			srv__catchup_reset(s);
			p->cur = p->sync = NULL;
			cb.known = NULL;
			cb.nknown = 0;
			rc = store_recover(s->set.store_path, p->hash,
					   s->set.rebuild_window_s, &cb, &rs);
			srv_registry_prefault_end(&s->reg);
		}
		if (p->cr.max_id > rs.max_series_id)
			rs.max_series_id = p->cr.max_id;
		srv_ckpt_restore_release(&p->cr);
		phase(&ph, "check");
	}
	clean_ckpt(s);
	if (p->prog.done > 0)
		io_progress_done(&p->prog);
	srv_tick_run(s);
	phase(&ph, "last round");
	p->replaying = 0;
	p->pending = 0;
	p->cur = p->sync = NULL;
	if (rc) {
		srv_log(LOG_ERR, "cannot restore from %s: %s",
			s->set.store_path, store_strerror(rc));
		srv__catchup_reset(s);
		return -1;
	}
	p->next_id = store_next_series_id(p->st);
	if (rs.max_series_id >= p->next_id)
		p->next_id = rs.max_series_id + 1;
	srv_log(LOG_INFO,
		"restored %llu series from %s in %.2f s: %llu from the state "
		"dump, %llu from the checkpoint, %llu from snapshots, %llu "
		"replayed in full, %llu rebuilt (model changed or snapshot "
		"unusable), %llu samples replayed",
		(unsigned long long)rs.series, s->set.store_path, now_s() - t0,
		(unsigned long long)from_dump, (unsigned long long)rs.known,
		(unsigned long long)rs.from_snapshot,
		(unsigned long long)rs.full_replay,
		(unsigned long long)rs.rebuilt,
		(unsigned long long)rs.samples_replayed);
	srv_log(LOG_INFO, "restore phases: %s", ph.buf);
	/* Serving from here: the samples kept are stepped on use and in
	 * the background (daemon/catchup.h); the slots mapped from the
	 * dump or checkpoint are copied into private memory in the
	 * background too, ahead of their first writes (registry.h). */
	srv_registry_warm(&s->reg);
	srv__catchup_start(s, t0);
	uv_timer_init(s->loop, &p->timer);
	p->timer.data = s;
	uv_timer_start(&p->timer, on_timer, 1000, 1000);
	uv_unref((uv_handle_t *)&p->timer);
	if (s->set.checkpoint_s > 0) {
		p->ck = srv_ckpt_new(s, store_checkpoint_generation(p->st));
		if (p->ck) {
			uv_timer_init(s->loop, &p->ck_timer);
			p->ck_timer.data = s;
			uv_timer_start(&p->ck_timer, on_ckpt_timer,
				       CKPT_TICK_MS, CKPT_TICK_MS);
			uv_unref((uv_handle_t *)&p->ck_timer);
			p->ck_timer_on = 1;
		}
	}
	/* `history` and the status page read on a thread of their own
	 * (daemon/reader.h); on failure they read here, as before. */
	srv_reader_open(s, p->st, s->set.store_path);
	return 0;
}

int srv_persist_give(srv *s, uid_t uid, gid_t gid)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	const char *db = s->set.store_path;
	char path[4096 + 8];
	size_t i;
	int rc, ret = 0;

	if (!s->persist)
		return 0;
	for (i = 0; i < sizeof suffix / sizeof *suffix + 1; i++) {
		if (i < sizeof suffix / sizeof *suffix) {
			snprintf(path, sizeof path, "%s%s", db, suffix[i]);
		} else { /* the directory, only when we made it */
			char *slash;
			if (!s->persist->made_dir)
				break;
			snprintf(path, sizeof path, "%s", db);
			slash = strrchr(path, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		rc = srv_priv_give(path, uid, gid);
		if (rc < 0) {
			srv_log(LOG_ERR, "cannot give %s to uid %u: %s", path,
				(unsigned)uid, strerror(-rc));
			ret = rc;
		}
	}
	return ret;
}

typedef struct hist_arg {
	void (*fn)(void *arg, double t, double v);
	void *arg;
	size_t n;
} hist_arg;

static int hist_cb(void *ud, const store_sample *sm, size_t n)
{
	hist_arg *h = ud;
	size_t i;

	for (i = 0; i < n; i++)
		h->fn(h->arg, sm[i].t, sm[i].value);
	h->n += n;
	return 0;
}

size_t srv_store_points(store_reader *rd, int64_t store_id, double from,
			double to, size_t max,
			void (*fn)(void *arg, double t, double v), void *arg)
{
	hist_arg h = {fn, arg, 0};

	/* The store's range is [from, to); history's is [from, to]. */
	store_history(rd, store_id, from, nextafter(to, INFINITY), max, hist_cb,
		      &h);
	return h.n;
}

size_t srv_persist_history(srv *s, const srv_series *se, double from, double to,
			   size_t max,
			   void (*fn)(void *arg, double t, double v), void *arg)
{
	srv_persist *p = s->persist;

	if (!se->store_id || !p->rd || max == 0)
		return 0;
	/* Read-your-writes: what was accepted before this request is
	 * committed first (a short wait; none while writes fail). */
	if (p->st)
		store_flush(p->st, SRV_HISTORY_FLUSH_MS);
	return srv_store_points(p->rd, se->store_id, from, to, max, fn, arg);
}

void srv_persist_drop(srv *s, srv_series *se)
{
	srv_persist *p = s->persist;
	store_batch *b;

	if (!p || !se->store_id || p->closed)
		return;
	/* Behind: its samples are stepped (and skipped: it is dropped)
	 * rather than kept for a series that is gone. */
	srv_persist_catch_up(s, se, 1);
	srv_ckpt_forget(p->ck, se);
	b = store_batch_new();
	if (b && store_batch_drop_series(b, se->store_id) == 0)
		store_submit(p->st, b, STORE_RETRY, NULL, NULL);
	else
		store_batch_free(b);
	se->store_id = 0;
}

/* Under load, up to store.max_queue of rows wait for the writer when the
 * stop begins: tens of seconds of commits. They commit first (a snapshot
 * must not be ordered before the samples it covers), waited for in steps
 * that each extend systemd's stop timeout while rows still commit, rather
 * than one wait that TimeoutStopSec may cut short. Gives up when a step
 * commits nothing (writes failing or stuck): store_close has the rest. */
static void drain_queue(srv_persist *p)
{
	store_stats st;
	uint64_t before;
	int rc;

	for (;;) {
		store_get_stats(p->st, &st);
		if (st.queued_rows == 0)
			return;
		srv_sd_status(30 * 1000000ull,
			      "stopping: committing %llu queued rows",
			      (unsigned long long)st.queued_rows);
		before = st.rows_committed;
		rc = store_flush(p->st, 5000);
		if (rc != STORE_EBUSY)
			return;
		store_get_stats(p->st, &st);
		if (st.rows_committed == before)
			return;
	}
}

void srv_persist_close(srv *s)
{
	srv_persist *p = s->persist;
	store_stats st;
	size_t k;
	uint64_t gen = 0, failed_before;
	int dumped, leave = srv__catchup_leave(s);

	if (!p || p->closed || !p->st)
		return;
	/* Its reads flush the store: it goes first (the reads queued run
	 * to their end, their replies queued before the connections go). */
	srv_reader_close(s);
	/* The dump and the final snapshots write every state: the series
	 * still behind catch up first (docs/STATE_DUMP.md), unless that is
	 * a long stop; then neither is written (daemon/catchup.h). */
	if (leave)
		srv_log(LOG_NOTICE,
			"stopping with %llu series behind (%llu samples to "
			"step): no state dump nor final snapshots, the next "
			"start replays them from the database",
			(unsigned long long)s->st.behind_series,
			(unsigned long long)s->st.behind_samples);
	else
		srv_persist_catch_up_all(s);
	/* On failure the slices below stop at their first flush, as
	 * before. */
	drain_queue(p);
	/* The dump replaces the final snapshots: the database keeps the
	 * periodic ones, from which replay is exact, in case the dump is
	 * never used (docs/STATE_DUMP.md). */
	dumped = !leave && write_dump(s, &gen);
	/* In slices, each committed before the next is built: one batch of
	 * every state would double the daemon's memory while it stops (9 GB
	 * more at 1M series). A slice that cannot commit in time is left to
	 * store_close like the rest. */
	for (k = 0; !dumped && !leave && k < s->reg.n;
	     k += CLOSE_SNAPSHOT_SLICE) {
		size_t done = k + CLOSE_SNAPSHOT_SLICE < s->reg.n
				  ? k + CLOSE_SNAPSHOT_SLICE
				  : s->reg.n;
		/* Stopping 1M series takes tens of seconds: each slice that
		 * commits buys another 30 s from TimeoutStopSec. */
		srv_sd_status(30 * 1000000ull,
			      "stopping: snapshots of %zu of %zu series", done,
			      s->reg.n);
		snapshot_some(s, CLOSE_SNAPSHOT_SLICE);
		if (store_flush(p->st, 60000) != 0)
			break;
	}
	p->closed = 1;
	uv_close((uv_handle_t *)&p->timer, NULL);
	srv_ckpt_stop(p->ck);
	if (p->ck_timer_on)
		uv_close((uv_handle_t *)&p->ck_timer, NULL);
	store_get_stats(p->st, &st);
	failed_before = p->batches_failed;
	/* Blocks until everything queued is committed (or failed), and
	 * answers the pushes waiting on it before the connections close. */
	store_close(p->st, NULL, NULL);
	p->st = NULL;
	if (dumped)
		record_dump(s, gen, failed_before);
	if (st.commit_failures)
		srv_log(LOG_WARNING,
			"store: %llu failed commits, %llu line samples "
			"dropped, %llu pushes refused",
			(unsigned long long)st.commit_failures,
			(unsigned long long)p->lines_dropped,
			(unsigned long long)p->pushes_failed);
}

void srv_persist_free(srv *s)
{
	srv_persist *p = s->persist;

	if (!p)
		return;
	srv__catchup_free(s);
	store_reader_free(p->rd);
	srv_ckpt_free(p->ck);
	free(p->redecl);
	free(p);
	s->persist = NULL;
}

size_t srv_persist_queued(const srv *s)
{
	return s->persist && s->persist->st ? store_queued_bytes(s->persist->st)
					    : 0;
}

int srv_persist_stats(srv *s, store_stats *st)
{
	srv_persist *p = s->persist;

	if (!p || !p->st)
		return -1;
	store_get_stats(p->st, st);
	return 0;
}
