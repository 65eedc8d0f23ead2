/*
 * daemon/ckpt.c: the periodic checkpoint file (see ckpt.h).
 *
 * Workload: every series' slot (~7.2 KB with the default model) once per
 * store.checkpoint_s, written by the loop thread in slices of about
 * n * CKPT_TICK_MS / (checkpoint_s * 1000) series (1,700 slots, 12 MB,
 * every 100 ms at 1M series and 60 s): a pwritev from the slab (the
 * kernel copies into the page cache, no staging buffer) and one CRC-32C
 * pass per slot. The writebacks and the fsync, the calls that may wait
 * for the disk (the fsync for seconds), run on a thread of the
 * checkpoint's own (daemon/bg.h: not libuv's pool, whose completions can
 * stall the loop).
 */
#include "daemon/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon/bg.h"
#include "daemon/log.h"
#include "daemon/persist.h"
#include "io/snapshot.h"

enum { IDLE = 0, WRITING, SYNCING, RECORDING, STOPPED };

/* The writeback of what the last slices wrote, started on the
 * checkpoint's thread (sync_file_range, which may wait for the disk's
 * queue). Its own descriptor (a dup) and its own allocation: the
 * generation may be abandoned while it runs (its file closed), and the
 * completion frees it (c NULL: the writer went first). */
typedef struct wbreq {
	srv_bg_job job;
	struct srv_ckpt *c;
	int fd;
	uint64_t s0, s1, m0, m1; /* slots' and records' byte ranges */
} wbreq;

struct srv_ckpt {
	srv *s;
	int phase;
	uint64_t recorded; /* the generation the database names */
	uint64_t gen;	   /* the one being written */
	uint64_t moved;	   /* the moved counter when it began */
	double began;	   /* srv_now() when it began */
	double last_begin; /* -1 = never */
	/* WRITING: the series listed at the start, the next to write. */
	srv_series **list;
	size_t n, next, cap;
	io_dump_hdr h;
	uint64_t meta_at; /* file offset of the next record */
	uint32_t meta_crc;
	int fd;
	unsigned char *recbuf;
	size_t reccap;
	/* The thread the writebacks and the fsync run on. */
	srv_bg *bg;
	/* SYNCING: the thread's job and result. */
	srv_bg_job sync;
	int sync_err;
	const char *sync_step;
	int stop_after; /* srv_ckpt_stop ran while syncing */
	uint64_t done;	/* generations recorded */
	/* WRITING: the bytes written and not yet handed to a writeback
	 * (slots [wb_s0, wb_s1), records [wb_m0, meta_at)); wb: the one in
	 * flight, NULL = none. */
	uint64_t wb_s0, wb_s1, wb_m0;
	wbreq *wb;
};

void srv_ckpt_path(const srv *s, uint64_t gen, char *buf, size_t cap)
{
	if (gen == 0)
		snprintf(buf, cap, "%s.ckpt.tmp", s->set.store_path);
	else
		snprintf(buf, cap, "%s.ckpt%u", s->set.store_path,
			 (unsigned)(gen & 1));
}

srv_ckpt *srv_ckpt_new(srv *s, uint64_t recorded)
{
	srv_ckpt *c = calloc(1, sizeof *c);
	int rc;

	if (!c)
		return NULL;
	if ((rc = srv_bg_start(&c->bg, s->loop, "ckpt-sync")) < 0) {
		srv_log(LOG_WARNING,
			"checkpoint: cannot start its thread (%s): no "
			"checkpoints are written",
			strerror(-rc));
		free(c);
		return NULL;
	}
	c->s = s;
	c->recorded = recorded;
	c->fd = -1;
	c->last_begin = -1;
	return c;
}

/* Drops the generation being written. */
static void abandon(srv_ckpt *c, const char *why)
{
	char tmp[4200];

	if (c->phase != WRITING)
		return;
	close(c->fd);
	c->fd = -1;
	srv_ckpt_path(c->s, 0, tmp, sizeof tmp);
	unlink(tmp);
	free(c->list);
	c->list = NULL;
	c->n = c->next = c->cap = 0;
	c->phase = IDLE;
	srv_log(LOG_INFO, "checkpoint %016llx abandoned (%s)",
		(unsigned long long)c->gen, why);
}

void srv_ckpt_stop(srv_ckpt *c)
{
	if (!c)
		return;
	abandon(c, "stopping");
	/* A generation being fsynced is dropped once its fsync returns
	 * (srv_bg_stop waits for it and runs sync_done); one being recorded
	 * is committed by store_close, and reported. */
	if (c->phase == SYNCING || c->phase == RECORDING)
		c->stop_after = 1;
	else
		c->phase = STOPPED;
	srv_bg_stop(c->bg);
	c->bg = NULL;
}

void srv_ckpt_free(srv_ckpt *c)
{
	if (!c)
		return;
	abandon(c, "stopping");
	/* Normally stopped already (srv_persist_close): its dones ran. */
	srv_bg_stop(c->bg);
	c->bg = NULL;
	if (c->wb)
		c->wb->c = NULL; /* its completion frees it */
	free(c->list);
	free(c->recbuf);
	free(c);
}

uint64_t srv_ckpt_generations(const srv_ckpt *c)
{
	return c ? c->done : 0;
}

void srv_ckpt_forget(srv_ckpt *c, const srv_series *se)
{
	(void)se;
	/* The list holds pointers, and a dropped series is freed at the
	 * next reap: the generation cannot go on. Drops are rare. */
	if (c)
		abandon(c, "a series was dropped");
}

/* A fresh generation number (<= INT64_MAX, as SQLite stores it) whose
 * parity differs from the recorded one's, so that its file does not
 * replace the recorded generation's before the database names it. */
static uint64_t new_gen(uint64_t recorded)
{
	uint64_t g = 0;

	if (getrandom(&g, sizeof g, 0) != (ssize_t)sizeof g)
		g = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() << 1 ^
		    (uint64_t)clock();
	g &= INT64_MAX;
	g = (g & ~(uint64_t)1) | ((recorded & 1) ^ 1);
	if (g < 2)
		g += 2;
	return g;
}

static int fit(const srv_series *se)
{
	return se->state && !se->learn && se->store_id > 0 && se->store_seq;
}

/* Lists the series, lays the file out and creates it. */
static void begin(srv_ckpt *c, uint64_t moved)
{
	srv *s = c->s;
	srv_registry *r = &s->reg;
	char tmp[4200];
	size_t i;

	c->last_begin = srv_now();
	if (c->cap < r->n) {
		srv_series **l = realloc(c->list, r->n * sizeof *l);
		if (!l)
			return;
		c->list = l;
		c->cap = r->n;
	}
	memset(&c->h, 0, sizeof c->h);
	c->n = 0;
	for (i = 0; i < r->n; i++) {
		srv_series *se = r->all[i];
		if (!fit(se))
			continue;
		c->list[c->n++] = se;
		c->h.meta_bytes += io_dump_rec_size((uint32_t)strlen(se->name));
	}
	if (c->n == 0)
		return;
	c->gen = new_gen(c->recorded);
	c->h.version = IO_DUMP_VERSION;
	c->h.generation = c->gen;
	c->h.model_hash = ssm_model_hash(s->model);
	c->h.count = c->n;
	c->h.state_floats = (uint32_t)r->state_floats;
	c->h.slot_floats = (uint32_t)srv__dump_slot_floats(s);
	c->h.slot_bytes = (uint32_t)r->slab.slot_bytes;
	c->h.per_chunk = (uint32_t)r->slab.per_chunk;
	io_dump_layout(&c->h, (uint64_t)sysconf(_SC_PAGESIZE));
	srv_ckpt_path(s, 0, tmp, sizeof tmp);
	c->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		srv_log(LOG_WARNING, "checkpoint: cannot create %s: %s", tmp,
			strerror(errno));
		return;
	}
	c->next = 0;
	c->meta_at = c->h.meta_off;
	c->meta_crc = 0;
	c->wb_s0 = c->wb_s1 = c->h.slots_off;
	c->wb_m0 = c->h.meta_off;
	c->moved = moved;
	c->began = c->last_begin;
	c->phase = WRITING;
	srv_log(LOG_INFO, "checkpoint %016llx: writing %zu series",
		(unsigned long long)c->gen, c->n);
}

/* Series [i, i + k) of the list: slots (in runs that stop at chunk ends)
 * and records. 0 or -1 (errno). */
static int write_slice(srv_ckpt *c, size_t i, size_t k)
{
	const io_dump_hdr *h = &c->h;
	size_t j, need = 0, off = 0, nf = h->slot_floats;

	for (j = i; j < i + k;) {
		size_t in = h->per_chunk - j % h->per_chunk;
		size_t run = in < i + k - j ? in : i + k - j;
		off_t at =
		    (off_t)(h->slots_off + j / h->per_chunk * h->chunk_bytes +
			    j % h->per_chunk * h->slot_bytes);
		if (srv__dump_slots(c->fd, c->list + j, run, h->slot_bytes, at))
			return -1;
		j += run;
		c->wb_s1 = (uint64_t)at + run * h->slot_bytes;
	}
	for (j = i; j < i + k; j++)
		need += io_dump_rec_size((uint32_t)strlen(c->list[j]->name));
	if (need > c->reccap) {
		unsigned char *b = realloc(c->recbuf, need);
		if (!b)
			return -1;
		c->recbuf = b;
		c->reccap = need;
	}
	for (j = i; j < i + k; j++) {
		io_dump_rec rec;
		srv__dump_rec_of(c->list[j], &rec);
		rec.slot_crc =
		    io_crc32c(0, c->list[j]->state, nf * sizeof(float));
		io_dump_rec_encode(&rec, c->recbuf + off);
		off += io_dump_rec_size(rec.name_len);
	}
	if (srv__dump_pwrite(c->fd, c->recbuf, off, (off_t)c->meta_at))
		return -1;
	c->meta_crc = io_crc32c(c->meta_crc, c->recbuf, off);
	c->meta_at += off;
	return 0;
}

/* Starts the writeback of the ranges (asynchronous: the final fsync
 * waits for it and writes what is left). Without it the kernel writes a
 * dirty page back once it is 30 s old (vm.dirty_expire_centisecs) or the
 * dirty pages pass its background threshold, so the fsync after the last
 * slice could find up to 30 s of slices dirty, and every series' record
 * aged by that fsync. */
static void wb_work(srv_bg_job *j)
{
	wbreq *q = j->data;
	unsigned fl = SYNC_FILE_RANGE_WRITE;

	if (q->s1 > q->s0)
		sync_file_range(q->fd, (off64_t)q->s0, (off64_t)(q->s1 - q->s0),
				fl);
	if (q->m1 > q->m0)
		sync_file_range(q->fd, (off64_t)q->m0, (off64_t)(q->m1 - q->m0),
				fl);
}

static void wb_done(srv_bg_job *j)
{
	wbreq *q = j->data;

	close(q->fd);
	if (q->c)
		q->c->wb = NULL;
	free(q);
}

/* Hands what the slices wrote since the last writeback to a new one,
 * unless one is in flight (the next tick takes it all then). */
static void writeback(srv_ckpt *c)
{
	wbreq *q;

	if (c->wb || (c->wb_s1 == c->wb_s0 && c->meta_at == c->wb_m0))
		return;
	q = calloc(1, sizeof *q);
	if (!q)
		return; /* the fsync writes it */
	q->fd = dup(c->fd);
	if (q->fd < 0) {
		free(q);
		return;
	}
	q->c = c;
	q->s0 = c->wb_s0;
	q->s1 = c->wb_s1;
	q->m0 = c->wb_m0;
	q->m1 = c->meta_at;
	q->job.work = wb_work;
	q->job.done = wb_done;
	q->job.data = q;
	srv_bg_submit(c->bg, &q->job);
	c->wb = q;
	c->wb_s0 = c->wb_s1;
	c->wb_m0 = c->meta_at;
}

static void sync_work(srv_bg_job *j)
{
	srv_ckpt *c = j->data;
	char tmp[4200], path[4200];

	srv_ckpt_path(c->s, 0, tmp, sizeof tmp);
	srv_ckpt_path(c->s, c->gen, path, sizeof path);
	c->sync_err = 0;
	c->sync_step = "fsync";
	if (fsync(c->fd)) {
		c->sync_err = errno;
		return;
	}
	c->sync_step = "rename";
	if (rename(tmp, path)) {
		c->sync_err = errno;
		return;
	}
	c->sync_step = "fsync the directory of";
	if (srv__dump_fsync_dir(path))
		c->sync_err = errno ? errno : EIO;
}

static void sync_done(srv_bg_job *j)
{
	srv_ckpt *c = j->data;
	char tmp[4200], path[4200];

	close(c->fd);
	c->fd = -1;
	srv_ckpt_path(c->s, 0, tmp, sizeof tmp);
	srv_ckpt_path(c->s, c->gen, path, sizeof path);
	if (c->sync_err == 0 && !c->stop_after &&
	    srv__persist_record_ckpt(c->s, c->gen) == 0) {
		c->phase = RECORDING;
		return;
	}
	if (c->sync_err)
		srv_log(LOG_WARNING, "checkpoint: %s %s: %s", c->sync_step,
			path, strerror(c->sync_err));
	unlink(tmp);
	unlink(path); /* never named by the database */
	c->phase = c->stop_after ? STOPPED : IDLE;
}

/* Every slot and record written: the header, then fsync and rename on
 * the checkpoint's thread. */
static void finish(srv_ckpt *c)
{
	unsigned char hdr[IO_DUMP_HDR_BYTES];

	free(c->list);
	c->list = NULL;
	c->cap = 0;
	c->h.meta_crc = c->meta_crc;
	io_dump_hdr_encode(&c->h, hdr);
	/* The last chunk's unused tail stays a hole, as in the dump. */
	if (ftruncate(c->fd, (off_t)c->h.file_bytes) ||
	    srv__dump_pwrite(c->fd, hdr, sizeof hdr, 0)) {
		srv_log(LOG_WARNING, "checkpoint: write: %s", strerror(errno));
		c->phase = WRITING; /* abandon() cleans up */
		abandon(c, "write failed");
		return;
	}
	c->phase = SYNCING;
	c->sync.work = sync_work;
	c->sync.done = sync_done;
	c->sync.data = c;
	srv_bg_submit(c->bg, &c->sync);
}

void srv_ckpt_tick(srv_ckpt *c, uint64_t moved)
{
	srv *s = c->s;
	double per = s->set.checkpoint_s;
	size_t k, i;

	if (c->phase == IDLE && per > 0 && moved != c->moved &&
	    (c->last_begin < 0 || srv_now() - c->last_begin >= per))
		begin(c, moved);
	if (c->phase != WRITING)
		return;
	if (c->next == c->n) {
		/* The fsync must not run beside a writeback of the same
		 * file's descriptor: the next tick finishes. */
		if (!c->wb)
			finish(c);
		return;
	}
	if (!(per > 0))
		per =
		    1; /* not reloadable; never 0 here, but never divide by 0 */
	/* The slice that keeps the generation on its period. */
	k = (size_t)((double)c->n * CKPT_TICK_MS / (per * 1000.0)) + 1;
	if (k > c->n - c->next)
		k = c->n - c->next;
	/* A series restored behind its stored samples steps them first:
	 * its record names the seq its state holds (daemon/catchup.h). */
	srv_persist_catch_up_list(s, c->list + c->next, k);
	/* Between ticks nothing waits to be stepped; if a series did, its
	 * state would lag its counters: try again at the next tick. */
	for (i = c->next; i < c->next + k; i++)
		if (c->list[i]->tick_round)
			return;
	if (write_slice(c, c->next, k)) {
		srv_log(LOG_WARNING, "checkpoint: write: %s", strerror(errno));
		abandon(c, "write failed");
		return;
	}
	c->next += k;
	writeback(c);
	if (c->next == c->n && !c->wb)
		finish(c);
}

void srv_ckpt_recorded(srv_ckpt *c, uint64_t gen, int status)
{
	char path[4200];

	if (!c || c->phase != RECORDING || gen != c->gen)
		return;
	if (status == 0) {
		/* The previous generation is no longer named. */
		if (c->recorded && (c->recorded & 1) != (gen & 1)) {
			srv_ckpt_path(c->s, c->recorded, path, sizeof path);
			unlink(path);
		}
		c->recorded = gen;
		c->done++;
		srv_log(LOG_INFO,
			"checkpoint %016llx of %llu series recorded in %.2f s",
			(unsigned long long)gen, (unsigned long long)c->h.count,
			srv_now() - c->began);
	} else {
		srv_ckpt_path(c->s, gen, path, sizeof path);
		unlink(path);
		srv_log(LOG_WARNING,
			"checkpoint %016llx not recorded (%s): removed",
			(unsigned long long)gen, store_strerror(status));
	}
	c->phase = c->stop_after ? STOPPED : IDLE;
}

/* ---- start-up ---- */

typedef srv__kent kent;

static int cmp_kent(const void *a, const void *b)
{
	const kent *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * (ckpt.h) The records come in the registry's order, which is
 * the ids' (series are created, and restored, in id order) except where a
 * drop moved the last series into its hole: one ascending run with a few
 * entries out of place. Those are taken out (an entry larger than the next
 * one, or not larger than the last kept), sorted alone and merged back
 * from the end; a sorted file costs one pass instead of qsort's
 * n log n compares. Any input comes out sorted: the run kept is strictly
 * ascending by construction, whatever is taken out is sorted.
 */
void srv__ckpt_sort(kent *k, size_t n)
{
	size_t i, nr = 0, no = 0, j;
	kent *out;

	for (i = 1; i < n && k[i - 1].id < k[i].id; i++)
		;
	if (i >= n)
		return;
	out = malloc(n * sizeof *out);
	if (!out) {
		qsort(k, n, sizeof *k, cmp_kent);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((nr == 0 || k[i].id > k[nr - 1].id) &&
		    (i + 1 == n || k[i].id < k[i + 1].id))
			k[nr++] = k[i];
		else
			out[no++] = k[i];
	}
	qsort(out, no, sizeof *out, cmp_kent);
	/* Merge from the end: k[nr..n) is free, and the write index never
	 * passes the run's read index. */
	j = n;
	while (no) {
		if (nr && k[nr - 1].id > out[no - 1].id)
			k[--j] = k[--nr];
		else
			k[--j] = out[--no];
	}
	free(out);
}

int srv_ckpt_load(srv *s, uint64_t gen, uint64_t hash, srv_ckpt_restore *cr,
		  int *dirty, char *why, size_t whylen)
{
	char path[4200];
	kent *k = NULL;
	size_t i, n;

	memset(cr, 0, sizeof *cr);
	*dirty = 0;
	if (s->reg.n || s->reg.slab.nchunks) {
		snprintf(why, whylen, "the registry is not empty");
		return -1;
	}
	srv_ckpt_path(s, gen, path, sizeof path);
	if (srv__dump_open_bg(s, path, gen, hash, UINT64_MAX, &cr->v, why,
			      whylen))
		return -1;
	n = (size_t)cr->v.h.count;
	if (n > UINT32_MAX) {
		snprintf(why, whylen, "too many series");
		goto fail;
	}
	k = malloc((n ? n : 1) * sizeof *k);
	cr->known = malloc((n ? n : 1) * sizeof *cr->known);
	cr->rec = malloc((n ? n : 1) * sizeof *cr->rec);
	if (!k || !cr->known || !cr->rec) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		int64_t id;
		uint64_t seq;
		srv__dump_rec_key(&cr->v, i, &id, &seq);
		k[i] = (kent){id, seq, (uint32_t)i};
	}
	srv__ckpt_sort(k, n);
	for (i = 0; i < n; i++) {
		if (i && k[i].id == k[i - 1].id) {
			snprintf(why, whylen, "series id %lld twice",
				 (long long)k[i].id);
			goto fail;
		}
		cr->known[i] = (store_known){k[i].id, k[i].seq};
		cr->rec[i] = k[i].rec;
	}
	cr->n = n;
	cr->max_id = n ? k[n - 1].id : 0;
	free(k);
	*dirty = 1;
	if (srv__dump_adopt(s, &cr->v, why, whylen)) {
		srv_ckpt_restore_release(cr);
		return -1;
	}
	return 0;
fail:
	free(k);
	srv_ckpt_restore_release(cr);
	return -1;
}

/* The walk comes to the known series in id order, known[]'s: the series
 * CKPT_AHEAD calls after known[lo] is, but for the few whose SQLite
 * snapshot is newer than their record (they go through rec_series, and
 * only shift the guess), known[lo + CKPT_AHEAD]. Its record was prefetched
 * CKPT_AHEAD calls ago: its name's hash gives the registry slot to
 * prefetch now. Records and table are both cache misses otherwise, one
 * each per series on the loop thread (bench/results/crash9-profile.md).
 * The decoded record and the hash are kept in cr->ring for the series'
 * own call, which decoded and hashed it a second time (crash15). */
#define CKPT_AHEAD 8

/* known[i]'s record and its name's hash: decoded here, or kept by ahead(). */
static const srv_ckpt_ahead *rec_at(srv_ckpt_restore *cr, size_t i)
{
	srv_ckpt_ahead *a = &cr->ring[i % SRV_CKPT_RING];

	if (a->at != i + 1) {
		srv__dump_rec(&cr->v, cr->rec[i], &a->rec);
		a->hash = srv_registry_hash(a->rec.name, a->rec.name_len);
		a->at = i + 1;
	}
	return a;
}

static void ahead(srv *s, srv_ckpt_restore *cr, size_t lo)
{
	if (lo + 2 * CKPT_AHEAD < cr->n)
		srv__dump_rec_prefetch(&cr->v, cr->rec[lo + 2 * CKPT_AHEAD]);
	if (lo + CKPT_AHEAD < cr->n)
		srv_registry_prefetch_slot(&s->reg,
					   rec_at(cr, lo + CKPT_AHEAD)->hash);
}

int srv_ckpt_series(srv *s, srv_ckpt_restore *cr, const store_series_info *si,
		    srv_series **out)
{
	size_t lo = si->known, len = strlen(si->name);
	const srv_ckpt_ahead *a;
	srv_series *se;
	int dup;

	/* The walk found the series at known[si->known]. */
	*out = NULL;
	if (lo >= cr->n || cr->known[lo].id != si->id)
		return 0;
	ahead(s, cr, lo);
	a = rec_at(cr, lo);
	/* Ids are never handed out twice (srv_persist_open starts after
	 * the file's largest), so this is a damaged database or file. */
	if (a->rec.name_len != len || memcmp(a->rec.name, si->name, len)) {
		srv_log(LOG_ERR,
			"checkpoint: series id %lld is %s in the database, "
			"%.*s in the checkpoint",
			(long long)si->id, si->name, (int)a->rec.name_len,
			a->rec.name);
		return 0;
	}
	se = srv_registry_add_hashed(&s->reg, si->name, len, a->hash,
				     a->rec.period, a->rec.step_s, &dup);
	if (!se)
		return dup ? 0 : -1;
	srv__dump_apply(&s->reg, se, &a->rec,
			srv__dump_slot(&cr->v, cr->rec[lo]));
	/* What the database's row holds, not what the series knows: a step
	 * learnt after the declaration reaches the row only with a snapshot
	 * (persist.c), and a restart through that snapshot needs it there. */
	se->store_step_s = si->step_s;
	se->store_period = si->period;
	*out = se;
	return 0;
}

int srv_ckpt_check_wait(srv_ckpt_restore *cr, char *why, size_t whylen)
{
	return srv__dump_check_wait(&cr->v, why, whylen);
}

void srv_ckpt_restore_release(srv_ckpt_restore *cr)
{
	srv__dump_view_release(&cr->v);
	free(cr->known);
	free(cr->rec);
	memset(cr, 0, sizeof *cr);
}
