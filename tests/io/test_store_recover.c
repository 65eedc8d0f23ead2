/*
 * tests/io/test_store_recover.c: recovery iteration over real files: the
 * snapshot is used when its model hash matches and the samples after it are
 * replayed in seq order; no snapshot replays everything; a changed model or
 * a corrupt snapshot rebuilds from the window; progress is reported; a
 * series the caller holds from a checkpoint (known seq) replays only what
 * follows it, unless its snapshot is newer, from chunks and log alike; the
 * checkpoint's meta row.
 */
#include <math.h>

#include "io/store_int.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

#define HASH 0x5eed5eedULL

typedef struct seen_series {
	int64_t id;
	int mode, snap_err;
	uint64_t snap_seen;
	float state0;
	int64_t first_seq, last_seq;
	int nsamples, in_order;
} seen_series;

typedef struct rec_acc {
	seen_series s[8];
	int n;
	uint64_t last_done, last_total;
	int progress_calls;
} rec_acc;

static int on_series(void *ud, const store_series_info *si, int mode,
		     const io_snap *snap, int snap_err)
{
	rec_acc *a = ud;
	seen_series *x = &a->s[a->n++];

	memset(x, 0, sizeof(*x));
	x->id = si->id;
	x->mode = mode;
	x->snap_err = snap_err;
	x->in_order = 1;
	if (snap) {
		float st[4];
		x->snap_seen = snap->seen;
		io_snap_copy_state(snap, st);
		x->state0 = st[0];
	}
	return 0;
}

static int on_samples(void *ud, int64_t sid, const store_sample *sm, size_t n)
{
	rec_acc *a = ud;
	seen_series *x = &a->s[a->n - 1];
	size_t i;

	if (x->id != sid)
		x->in_order = 0;
	for (i = 0; i < n; i++) {
		if (x->nsamples == 0)
			x->first_seq = sm[i].seq;
		else if (sm[i].seq != x->last_seq + 1)
			x->in_order = 0;
		x->last_seq = sm[i].seq;
		x->nsamples++;
	}
	return 0;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	rec_acc *a = ud;

	a->progress_calls++;
	a->last_done = done;
	a->last_total = total;
}

static void add_series(store_batch *b, int64_t id, int nsamples)
{
	char name[32];
	int i;

	snprintf(name, sizeof(name), "s%lld", (long long)id);
	store_batch_series(b, id, name, "", 1.0, 1, 0);
	/* t = 1000 + seq: the last t is 1000 + nsamples. */
	for (i = 1; i <= nsamples; i++)
		store_batch_sample(b, id, i, 1000.0 + i, i);
}

static void test_recover_modes(void)
{
	fx f;
	store *s;
	store_batch *b;
	sqlite3 *db;
	rec_acc a;
	store_recover_cb cb = {on_series, on_samples, on_progress, &a, NULL, 0};
	store_recover_stats st;
	float state[4] = {42, 1, 2, 3};

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	add_series(b, 1, 600); /* snapshot at 550, matching hash */
	add_series(b, 2, 40);  /* no snapshot */
	add_series(b, 3, 100); /* snapshot of another model */
	add_series(b, 4, 100); /* corrupt snapshot */
	add_series(b, 5, 0);   /* nothing at all */
	store_batch_snapshot(b, 1, "m", HASH, 1550, 550, state, 4);
	store_batch_snapshot(b, 3, "m0", HASH + 1, 1090, 90, state, 4);
	store_batch_snapshot(b, 4, "m", HASH, 1090, 90, state, 4);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	/* Flip one payload byte of series 4's blob. */
	CHECK_EQ_INT(sqlite3_open(f.path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db,
				  "UPDATE snapshots SET state = "
				  "substr(state,1,44) || x'ff' || "
				  "substr(state,46) WHERE series_id=4",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 25.0, &cb, &st), 0);
	CHECK_EQ_INT(a.n, 5);
	CHECK_EQ_INT(st.series, 5);
	CHECK_EQ_INT(st.from_snapshot, 1);
	CHECK_EQ_INT(st.full_replay, 2);
	CHECK_EQ_INT(st.rebuilt, 2);
	CHECK_EQ_INT(st.corrupt, 1);
	CHECK_EQ_INT(st.max_series_id, 5);
	/* 1: snapshot, then 551..600 (crossing a chunk boundary: 50 rows). */
	CHECK_EQ_INT(a.s[0].mode, STORE_RESTORE_SNAPSHOT);
	CHECK_EQ_INT(a.s[0].snap_seen, 550);
	CHECK(a.s[0].state0 == 42.0f);
	CHECK_EQ_INT(a.s[0].first_seq, 551);
	CHECK_EQ_INT(a.s[0].last_seq, 600);
	CHECK_EQ_INT(a.s[0].nsamples, 50);
	CHECK(a.s[0].in_order);
	/* 2: full replay 1..40. */
	CHECK_EQ_INT(a.s[1].mode, STORE_RESTORE_FULL);
	CHECK_EQ_INT(a.s[1].first_seq, 1);
	CHECK_EQ_INT(a.s[1].nsamples, 40);
	CHECK(a.s[1].in_order);
	/* 3: other model: t >= 1100 - 25 -> seq 75..100. */
	CHECK_EQ_INT(a.s[2].mode, STORE_RESTORE_REBUILD);
	CHECK_EQ_INT(a.s[2].snap_err, 0);
	CHECK_EQ_INT(a.s[2].first_seq, 75);
	CHECK_EQ_INT(a.s[2].nsamples, 26);
	/* 4: corrupt: rebuilt the same way, with the decode error. */
	CHECK_EQ_INT(a.s[3].mode, STORE_RESTORE_REBUILD);
	CHECK_EQ_INT(a.s[3].snap_err, IO_SNAP_ECHECKSUM);
	CHECK_EQ_INT(a.s[3].nsamples, 26);
	CHECK_EQ_INT(a.s[4].mode, STORE_RESTORE_FULL);
	CHECK_EQ_INT(a.s[4].nsamples, 0);
	CHECK(a.progress_calls >= 1);
	CHECK_EQ_INT(a.last_done, 5);
	CHECK_EQ_INT(a.last_total, 5);
	CHECK_EQ_INT(st.samples_replayed, 50 + 40 + 26 + 26);
	fx_release(&f);
}

/* Known states (a checkpoint's records): KNOWN mode and the samples after
 * the known seq, whatever the snapshot, unless the snapshot is newer (then
 * it wins: retention may have deleted samples up to its seen); series not
 * known as before; ids absent from the database are ignored. And the
 * checkpoint's generation: recorded by a batch, read back at open. */
static void test_recover_known(void)
{
	fx f;
	store *s;
	store_batch *b;
	rec_acc a;
	store_known known[] = {{1, 580}, {2, 10}, {3, 0}, {9, 5}};
	store_recover_cb cb = {on_series, on_samples, NULL, &a, known, 4};
	store_recover_stats st;
	float state[4] = {7, 1, 2, 3};

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK_EQ_INT(store_checkpoint_generation(s), 0);
	b = store_batch_new();
	add_series(b, 1, 600); /* snapshot at 550 < known 580 */
	add_series(b, 2, 40);  /* snapshot at 30 > known 10 */
	add_series(b, 3, 20);  /* no snapshot, known at 0 */
	add_series(b, 4, 20);  /* snapshot, not known */
	store_batch_snapshot(b, 1, "m", HASH, 1550, 550, state, 4);
	store_batch_snapshot(b, 2, "m", HASH, 1030, 30, state, 4);
	store_batch_snapshot(b, 4, "m", HASH, 1010, 10, state, 4);
	CHECK_EQ_INT(store_batch_checkpoint(b, 0), STORE_EINVAL);
	CHECK_EQ_INT(store_batch_checkpoint(b, 0x1234567890abcdefULL), 0);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
	CHECK_EQ_INT(a.n, 4);
	CHECK_EQ_INT(st.known, 2);
	CHECK_EQ_INT(st.from_snapshot, 2);
	CHECK_EQ_INT(a.s[0].mode, STORE_RESTORE_KNOWN);
	CHECK_EQ_INT(a.s[0].first_seq, 581);
	CHECK_EQ_INT(a.s[0].nsamples, 20);
	CHECK(a.s[0].in_order);
	CHECK_EQ_INT(a.s[1].mode, STORE_RESTORE_SNAPSHOT);
	CHECK_EQ_INT(a.s[1].snap_seen, 30);
	CHECK(a.s[1].state0 == 7.0f);
	CHECK_EQ_INT(a.s[1].first_seq, 31);
	CHECK_EQ_INT(a.s[2].mode, STORE_RESTORE_KNOWN);
	CHECK_EQ_INT(a.s[2].first_seq, 1);
	CHECK_EQ_INT(a.s[2].nsamples, 20);
	CHECK_EQ_INT(a.s[3].mode, STORE_RESTORE_SNAPSHOT);
	CHECK_EQ_INT(a.s[3].first_seq, 11);
	CHECK_EQ_INT(st.samples_replayed, 20 + 10 + 20 + 10);

	/* The generation survives a reopen (unlike the dump's row). */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK(store_checkpoint_generation(s) == 0x1234567890abcdefULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	CHECK(store_checkpoint_generation(s) == 0x1234567890abcdefULL);
	fx_close_store(&f, s);
	fx_release(&f);
}

static int64_t count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t n = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return n;
}

/* Known states against samples in chunks and in the log: the walk seeks
 * into a known series' chunks only when its last chunk ends after the
 * known seq (io/store_recover.c); the samples handed on are the same
 * either way: every seq after the known one, chunks then log, in order. */
static void test_recover_known_chunks(void)
{
	fx f;
	store *s;
	store_batch *b;
	store_opts o;
	rec_acc a;
	/* 1: chunks 1..100, log 101..120, known at the chunks' end;
	 * 2: chunks 1..50, nothing after, known at 50;
	 * 3: chunks 1..30, log 31..40, known inside the chunks;
	 * 4: chunks 1..10, log 11..15, known past everything stored;
	 * 5: chunks 1..21, log 22..25, known one before the chunks' end. */
	store_known known[] = {{1, 100}, {2, 50}, {3, 20}, {4, 15}, {5, 20}};
	store_recover_cb cb = {on_series, on_samples, NULL, &a, known, 5};
	store_recover_stats st;
	int i;

	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = 1; /* compacted after every commit */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	add_series(b, 1, 100);
	add_series(b, 2, 50);
	add_series(b, 3, 30);
	add_series(b, 4, 10);
	add_series(b, 5, 21);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(count_rows(f.path, "SELECT count(*) FROM sample_log"), 0);
	CHECK(count_rows(f.path, "SELECT count(*) FROM sample_chunks") >= 5);
	/* The rest stays in the log (default threshold). */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	for (i = 101; i <= 120; i++)
		store_batch_sample(b, 1, i, 1000.0 + i, i);
	for (i = 31; i <= 40; i++)
		store_batch_sample(b, 3, i, 1000.0 + i, i);
	for (i = 11; i <= 15; i++)
		store_batch_sample(b, 4, i, 1000.0 + i, i);
	for (i = 22; i <= 25; i++)
		store_batch_sample(b, 5, i, 1000.0 + i, i);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK(count_rows(f.path, "SELECT count(*) FROM sample_log") >= 1);

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
	CHECK_EQ_INT(a.n, 5);
	CHECK_EQ_INT(st.known, 5);
	for (i = 0; i < 5; i++) {
		CHECK_EQ_INT(a.s[i].mode, STORE_RESTORE_KNOWN);
		CHECK(a.s[i].in_order);
	}
	CHECK_EQ_INT(a.s[0].first_seq, 101);
	CHECK_EQ_INT(a.s[0].last_seq, 120);
	CHECK_EQ_INT(a.s[0].nsamples, 20);
	CHECK_EQ_INT(a.s[1].nsamples, 0);
	CHECK_EQ_INT(a.s[2].first_seq, 21);
	CHECK_EQ_INT(a.s[2].last_seq, 40);
	CHECK_EQ_INT(a.s[2].nsamples, 20);
	CHECK_EQ_INT(a.s[3].nsamples, 0);
	CHECK_EQ_INT(a.s[4].first_seq, 21);
	CHECK_EQ_INT(a.s[4].last_seq, 25);
	CHECK_EQ_INT(a.s[4].nsamples, 5);
	CHECK_EQ_INT(st.samples_replayed, 45);
	fx_release(&f);
}

static int abort_series(void *ud, const store_series_info *si, int mode,
			const io_snap *snap, int snap_err)
{
	on_series(ud, si, mode, snap, snap_err);
	return si->id == 2;
}

static void test_recover_abort_and_empty(void)
{
	fx f;
	store *s;
	store_batch *b;
	rec_acc a;
	store_recover_cb cb = {on_series, on_samples, NULL, &a, NULL, 0};
	store_recover_cb ab = {abort_series, on_samples, NULL, &a, NULL, 0};
	store_recover_stats st;

	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
	CHECK_EQ_INT(st.series, 0);
	b = store_batch_new();
	add_series(b, 1, 3);
	add_series(b, 2, 3);
	add_series(b, 3, 3);
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &ab, &st), STORE_EABORT);
	CHECK_EQ_INT(st.series, 2);
	CHECK_EQ_INT(store_recover(f.path, HASH, -1, &cb, &st), STORE_EINVAL);
	fx_release(&f);
}

/* Many series, for the readers' segments: ids dense, then a gap, then
 * sparse; every third with a snapshot (a large one, past a block, for one
 * of them); each with its own samples. The callbacks see every series once,
 * in id order, each followed by its own samples only. */
typedef struct many_acc {
	int64_t last_id, cur;
	int n, bad, from_snap;
	int64_t samples;
	int stop_at; /* series count at which to abort, 0 = never */
	/* The known states handed to store_recover: a KNOWN series' index
	 * (si->known) must name its own entry. */
	const store_known *known;
	size_t nknown;
} many_acc;

#define MANY	 3000
#define BIG_SNAP (300 * 1024) /* floats: 1.2 MB, more than a block */

static int64_t many_id(int i)
{
	return i < 2000 ? i + 1 : 100000 + (int64_t)(i - 2000) * 37;
}

static int many_series(void *ud, const store_series_info *si, int mode,
		       const io_snap *snap, int snap_err)
{
	many_acc *a = ud;
	char name[32];

	snprintf(name, sizeof(name), "m%lld", (long long)si->id);
	a->bad += si->id <= a->last_id || strcmp(si->name, name) != 0 ||
		  snap_err != 0;
	a->last_id = a->cur = si->id;
	if (mode == STORE_RESTORE_KNOWN)
		a->bad +=
		    si->known >= a->nknown || a->known[si->known].id != si->id;
	if (mode == STORE_RESTORE_SNAPSHOT) {
		float x[2];
		uint32_t k = snap->nfloats;
		memcpy(&x[0], snap->payload, sizeof(float));
		memcpy(&x[1], snap->payload + (size_t)(k - 1) * sizeof(float),
		       sizeof(float));
		a->bad += x[0] != (float)si->id || x[1] != (float)si->id ||
			  snap->seen != 2;
		a->from_snap++;
	}
	return ++a->n == a->stop_at;
}

static int many_samples(void *ud, int64_t sid, const store_sample *sm, size_t n)
{
	many_acc *a = ud;
	size_t i;

	a->bad += sid != a->cur;
	for (i = 0; i < n; i++)
		a->bad += sm[i].value != (double)sid;
	a->samples += (int64_t)n;
	return 0;
}

static void test_recover_many_in_order(void)
{
	fx f;
	store *s;
	store_batch *b;
	many_acc a;
	store_recover_cb cb = {many_series, many_samples, NULL, &a, NULL, 0};
	store_recover_stats st;
	float *state = malloc(BIG_SNAP * sizeof(float));
	int64_t want_samples = 0;
	int i, j, nsnap = 0;

	CHECK(state != NULL);
	if (!state)
		return;
	fx_init(&f);
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	for (i = 0; i < MANY; i++) {
		int64_t id = many_id(i);
		int ns = 1 + i % 5;
		char name[32];
		snprintf(name, sizeof(name), "m%lld", (long long)id);
		store_batch_series(b, id, name, "", 1.0, 1, 0);
		for (j = 1; j <= ns; j++)
			store_batch_sample(b, id, j, 1000.0 + j, (double)id);
		if (i % 3 == 0 && ns >= 2) {
			uint32_t k = i == 1500 ? BIG_SNAP : 16;
			state[0] = state[k - 1] = (float)id;
			store_batch_snapshot(b, id, "m", HASH, 1002, 2, state,
					     k);
			nsnap++;
			want_samples += ns - 2;
		} else {
			want_samples += ns;
		}
	}
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);

	memset(&a, 0, sizeof(a));
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
	CHECK_EQ_INT(a.bad, 0);
	CHECK_EQ_INT(a.n, MANY);
	CHECK_EQ_INT(a.from_snap, nsnap);
	CHECK_EQ_INT(a.samples, want_samples);
	CHECK_EQ_INT(st.max_series_id, many_id(MANY - 1));
	CHECK_EQ_INT(st.samples_replayed, want_samples);

	/* The log read in windows of a few samples (each reader walks
	 * hundreds of them): the same replay. */
	{
		size_t w = store__log_window;
		store__log_window = 7;
		memset(&a, 0, sizeof(a));
		CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
		store__log_window = w;
		CHECK_EQ_INT(a.bad, 0);
		CHECK_EQ_INT(a.n, MANY);
		CHECK_EQ_INT(a.samples, want_samples);
		CHECK_EQ_INT(st.samples_replayed, want_samples);
	}

	/* Aborted in the middle: no hang, the error, nothing after it. */
	memset(&a, 0, sizeof(a));
	a.stop_at = 1234;
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), STORE_EABORT);
	CHECK_EQ_INT(a.n, 1234);
	CHECK_EQ_INT(a.bad, 0);
	free(state);
	fx_release(&f);
}

/* Known states over many segments (each reader scans the series,
 * snapshots and chunks of its segments in id order, merged by id): series
 * known or not, with a snapshot newer or older than the record or none,
 * samples in chunks and in the log, records of dropped series and past
 * everything stored: every series gets exactly the samples after its
 * record (or its snapshot, or all), in order, from the series' rows. */
static void test_recover_known_many(void)
{
	fx f;
	store *s;
	store_batch *b;
	store_opts o;
	many_acc a;
	store_known *known = calloc(MANY, sizeof *known);
	store_recover_cb cb = {many_series, many_samples, NULL, &a, NULL, 0};
	store_recover_stats st;
	float state[16];
	int64_t want_samples = 0;
	int i, j, nk = 0, nsnap = 0, nknown = 0;

	CHECK(known != NULL);
	if (!known)
		return;
	fx_init(&f);
	store_opts_default(&o);
	o.log_max_samples = 1; /* compacted after every commit */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, &o), 0);
	b = store_batch_new();
	for (i = 0; i < MANY; i++) {
		int64_t id = many_id(i);
		char name[32];
		snprintf(name, sizeof(name), "m%lld", (long long)id);
		store_batch_series(b, id, name, "", 1.0, 1, 0);
		for (j = 1; j <= 1 + i % 5; j++)
			store_batch_sample(b, id, j, 1000.0 + j, (double)id);
		if (i % 5 == 0 && i % 5 + 1 >= 2) {
			state[0] = state[15] = (float)id;
			store_batch_snapshot(b, id, "m", HASH, 1002, 2, state,
					     16);
		}
	}
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK_EQ_INT(count_rows(f.path, "SELECT count(*) FROM sample_log"), 0);
	/* More samples for one series in four, left in the log; a few
	 * series dropped (their records are ignored). */
	CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
	b = store_batch_new();
	for (i = 0; i < MANY; i += 4)
		for (j = 2 + i % 5; j <= 3 + i % 5; j++)
			store_batch_sample(b, many_id(i), j, 1000.0 + j,
					   (double)many_id(i));
	for (i = 7; i < MANY; i += 500)
		store_batch_drop_series(b, many_id(i));
	store_submit(s, b, 0, NULL, NULL);
	fx_close_store(&f, s);
	CHECK(count_rows(f.path, "SELECT count(*) FROM sample_log") >= 1);

	for (i = 0; i < MANY; i++) {
		int total = 1 + i % 5 + (i % 4 == 0 ? 2 : 0);
		int snap = i % 5 == 0 && 1 + i % 5 >= 2; /* seen 2 */
		int64_t ks = i % 3 ? i % 7 : -1;
		if (ks >= 0)
			known[nk++] = (store_known){many_id(i), (uint64_t)ks};
		if (i % 500 == 7)
			continue; /* dropped */
		if (ks >= 0 && (!snap || 2 <= ks)) {
			want_samples += total > ks ? total - ks : 0;
			nknown++;
		} else if (snap) {
			want_samples += total - 2;
			nsnap++;
		} else {
			want_samples += total;
		}
	}
	cb.known = known;
	cb.nknown = (size_t)nk;
	memset(&a, 0, sizeof(a));
	a.known = known;
	a.nknown = (size_t)nk;
	CHECK_EQ_INT(store_recover(f.path, HASH, 0, &cb, &st), 0);
	CHECK_EQ_INT(a.bad, 0);
	CHECK_EQ_INT(a.n, MANY - (MANY + 492) / 500);
	CHECK_EQ_INT(a.from_snap, nsnap);
	CHECK_EQ_INT(st.known, nknown);
	CHECK_EQ_INT(a.samples, want_samples);
	CHECK_EQ_INT(st.samples_replayed, want_samples);
	free(known);
	fx_release(&f);
}

int main(void)
{
	TH_RUN(test_recover_modes);
	TH_RUN(test_recover_known);
	TH_RUN(test_recover_known_chunks);
	TH_RUN(test_recover_abort_and_empty);
	TH_RUN(test_recover_many_in_order);
	TH_RUN(test_recover_known_many);
	return th_summary();
}
