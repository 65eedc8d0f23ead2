/*
 * tests/io/test_store_crash.c: kill -9 of a writer process at random moments,
 * 50 times, with the real model. Each cycle a child recovers from the
 * database (snapshot + replay), then keeps stepping 8 series and pushing
 * their samples with STORE_ACK, reporting every acknowledgement to the
 * parent through a pipe, with a snapshot now and then; the parent kills it
 * with SIGKILL after a random delay and checks:
 *  - PRAGMA integrity_check is ok;
 *  - every series' stored samples are exactly seq 1..max (no gap: COMMITs
 *    land in FIFO order and are all-or-nothing) and max >= the highest
 *    acknowledged seq (no acknowledged sample lost);
 *  - stored values are the values pushed;
 *  - the state recovered from snapshot + replay (stepped one series at a
 *    time) is bit-for-bit the state of a reference that stepped every
 *    sample without ever stopping.
 * The child steps its series as one batch (B = 8), the parent one at a
 * time, so this also holds the model to batch-shape bit-exactness. Odd
 * cycles compact the sample log into chunks after nearly every commit
 * (store_opts.log_max_samples), so kills also land inside compactions
 * (between reading the log, writing chunks and deleting log rows).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "io/store_int.h"
#include "ssm/model.h"
#include "ssm/rng.h"
#include "tests/harness.h"
#include "tests/io/store_fixture.h"

#define NS     8
#define CYCLES 50

static ssm_model *model;
static size_t nfl;

static double value_of(int64_t sid, int64_t seq)
{
	/* Deterministic, seasonal plus a jump: the state moves. */
	return 10.0 * (double)sid + sin((double)seq * 0.3) * 3.0 +
	       (seq % 97 == 0 ? 25.0 : 0.0) + 0.01 * (double)(seq % 13);
}

static double t_of(int64_t seq)
{
	return 1.6e9 + 10.0 * (double)seq;
}

/* ---- recovery into states (parent and child use the same code) ---- */

typedef struct restored {
	float *st[NS + 1];
	int64_t seen[NS + 1];
	void *ws;
	int bad;
} restored;

static int r_series(void *ud, const store_series_info *si, int mode,
		    const io_snap *snap, int snap_err)
{
	restored *r = ud;

	if (si->id < 1 || si->id > NS || snap_err ||
	    mode == STORE_RESTORE_REBUILD) {
		r->bad = 1;
		return 1;
	}
	if (mode == STORE_RESTORE_SNAPSHOT) {
		if (snap->nfloats != nfl) {
			r->bad = 1;
			return 1;
		}
		io_snap_copy_state(snap, r->st[si->id]);
		r->seen[si->id] = (int64_t)snap->seen;
	} else {
		ssm_state_init(model, r->st[si->id], si->period, si->step_s);
		r->seen[si->id] = 0;
	}
	return 0;
}

static int r_samples(void *ud, int64_t sid, const store_sample *s, size_t n)
{
	restored *r = ud;
	size_t i;

	for (i = 0; i < n; i++) {
		ssm_sample in = {s[i].t, s[i].value};
		if (s[i].seq != r->seen[sid] + 1)
			r->bad = 1;
		ssm_model_step(model, r->st[sid], &in, NULL, r->ws);
		r->seen[sid] = s[i].seq;
	}
	return 0;
}

static void restored_init(restored *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 1; i <= NS; i++) {
		r->st[i] = calloc(nfl, sizeof(float));
		ssm_state_init(model, r->st[i], 1, 10.0);
	}
	r->ws = malloc(ssm_model_workspace_bytes(model, NS));
}

static void restored_release(restored *r)
{
	int i;

	for (i = 1; i <= NS; i++)
		free(r->st[i]);
	free(r->ws);
}

static int recover(const char *path, restored *r)
{
	store_recover_cb cb = {r_series, r_samples, NULL, r, NULL, 0};

	return store_recover(path, ssm_model_hash(model), 0, &cb, NULL);
}

/* ---- the child: push until killed ---- */

typedef struct child {
	store *s;
	restored r;
	int fd;
	int inflight;
	uint64_t tick;
	ssm_rng rng;
} child;

typedef struct ack_msg {
	int64_t seq; /* every series got this seq in the acked batch */
} ack_msg;

static void child_push(child *c);

typedef struct pending {
	child *c;
	int64_t seq;
} pending;

static void on_ack(void *ud, const store_result *res)
{
	pending *p = ud;
	child *c = p->c;
	ack_msg m = {p->seq};

	if (res->status == 0) {
		if (write(c->fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(3);
	}
	free(p);
	c->inflight--;
	child_push(c);
}

static void child_push(child *c)
{
	while (c->inflight < 4) {
		store_batch *b = store_batch_new();
		float *states[NS];
		ssm_sample in[NS];
		pending *p = malloc(sizeof(*p));
		int i;
		int64_t seq = c->r.seen[1] + 1;

		for (i = 0; i < NS; i++) {
			int64_t sid = i + 1;
			states[i] = c->r.st[sid];
			in[i].t = t_of(seq);
			in[i].value = value_of(sid, seq);
			store_batch_sample(b, sid, seq, in[i].t, in[i].value);
		}
		ssm_model_step_batch(model, NS, states, in, NULL, NULL,
				     c->r.ws);
		for (i = 1; i <= NS; i++)
			c->r.seen[i] = seq;
		/* Snapshot at an irregular cadence, per series. */
		for (i = 1; i <= NS; i++)
			if (ssm_rng_u64(&c->rng) % 11 == 0)
				store_batch_snapshot(b, i, "default",
						     ssm_model_hash(model),
						     t_of(seq), (uint64_t)seq,
						     c->r.st[i], (uint32_t)nfl);
		p->c = c;
		p->seq = seq;
		c->inflight++;
		store_submit(c->s, b, STORE_ACK, on_ack, p);
	}
}

static void child_main(const char *path, int fd, uint64_t seed)
{
	uv_loop_t loop;
	child c;
	store_batch *b;
	store_opts o;
	int i;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	ssm_rng_init(&c.rng, seed);
	uv_loop_init(&loop);
	store_opts_default(&o);
	o.commit_ms = 5;
	if (seed % 2 == 0) /* cycle + 1: odd cycles */
		o.log_max_samples = 40;
	if (store_open(&c.s, &loop, path, &o) != 0)
		_exit(4);
	restored_init(&c.r);
	if (recover(path, &c.r) != 0 || c.r.bad)
		_exit(5);
	for (i = 2; i <= NS; i++)
		if (c.r.seen[i] != c.r.seen[1])
			_exit(6); /* the series move in lockstep */
	b = store_batch_new();
	for (i = 1; i <= NS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		store_batch_series(b, i, name, "", 10.0, 1, 0);
	}
	store_submit(c.s, b, 0, NULL, NULL);
	{ /* recovered: the parent starts its random countdown now */
		ack_msg ready = {0};
		if (write(fd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready))
			_exit(3);
	}
	child_push(&c);
	uv_run(&loop, UV_RUN_DEFAULT);
	_exit(7);
}

/* ---- the parent ---- */

typedef struct chk {
	int64_t sid, n, expect;
	int ok;
} chk;

static int chk_samples(void *ud, const store_sample *sm, size_t n)
{
	chk *c = ud;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sm[i].seq != c->expect++ || sm[i].t != t_of(sm[i].seq) ||
		    sm[i].value != value_of(c->sid, sm[i].seq))
			c->ok = 0;
		c->n = sm[i].seq;
	}
	return 0;
}

static int check_series(store_reader *rd, int64_t sid, int64_t *max)
{
	chk c = {sid, 0, 1, 1};

	if (store_history(rd, sid, -INFINITY, INFINITY, 0, chk_samples, &c))
		c.ok = 0;
	*max = c.n;
	return c.ok;
}

static void test_kill9_cycles(void)
{
	fx f;
	int cycle, i, fails_int = 0, fails_gap = 0, fails_lost = 0,
		      fails_state = 0, fails_recover = 0, exits = 0;
	int64_t acked = 0, max_seen = 0, total_acks = 0;
	float *ref[NS + 1];
	int64_t ref_seen = 0;
	void *ws;
	ssm_rng rng;

	CHECK_EQ_INT(ssm_model_new_default(&model, 1234), 0);
	nfl = ssm_model_state_floats(model);
	ws = malloc(ssm_model_workspace_bytes(model, NS));
	for (i = 1; i <= NS; i++) {
		ref[i] = calloc(nfl, sizeof(float));
		ssm_state_init(model, ref[i], 1, 10.0);
	}
	ssm_rng_init(&rng, 99);
	fx_init(&f);
	{ /* the schema exists before the first child can be killed */
		store *s;
		CHECK_EQ_INT(store_open(&s, &f.loop, f.path, NULL), 0);
		fx_close_store(&f, s);
	}
	for (cycle = 0; cycle < CYCLES; cycle++) {
		int pfd[2], status;
		pid_t pid;
		uint64_t delay_ms = 5 + ssm_rng_u64(&rng) % 60, t_end;
		store_reader *rd;
		restored r;
		int64_t m;

		CHECK_EQ_INT(pipe(pfd), 0);
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			child_main(f.path, pfd[1], (uint64_t)cycle + 1);
		}
		close(pfd[1]);
		/* Wait until the child has recovered (under a sanitizer that
		 * takes a while), except every tenth cycle, which kills it
		 * during its start or recovery; then read acks while it runs
		 * and kill it after the random delay. */
		if (cycle % 10 != 3) {
			/* The ready message, then the first acknowledgement:
			 * the countdown starts once the child has acknowledged
			 * something, so every such cycle kills it with acked
			 * samples behind it however slow the machine is (a
			 * fixed wall-clock delay alone let loaded sanitizer
			 * runs end cycles before any ack). */
			int got;
			for (got = 0; got < 2; got++) {
				struct pollfd pf = {pfd[0], POLLIN, 0};
				ack_msg msg;
				if (poll(&pf, 1, 60000) <= 0 ||
				    read(pfd[0], &msg, sizeof(msg)) !=
					(ssize_t)sizeof(msg))
					break;
				if (got == 1)
					total_acks++;
				if (msg.seq > acked)
					acked = msg.seq;
			}
		}
		t_end = uv_hrtime() + delay_ms * 1000000u;
		for (;;) {
			struct pollfd pf = {pfd[0], POLLIN, 0};
			int64_t now = (int64_t)uv_hrtime();
			int left = (int)(((int64_t)t_end - now) / 1000000);
			ack_msg msg;
			if (left <= 0)
				break;
			if (poll(&pf, 1, left) > 0) {
				ssize_t k = read(pfd[0], &msg, sizeof(msg));
				if (k == (ssize_t)sizeof(msg)) {
					total_acks++;
					if (msg.seq > acked)
						acked = msg.seq;
				} else if (k == 0) {
					break; /* child died early */
				}
			}
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		{ /* acks written before the kill */
			ack_msg msg;
			while (read(pfd[0], &msg, sizeof(msg)) ==
			       (ssize_t)sizeof(msg)) {
				total_acks++;
				if (msg.seq > acked)
					acked = msg.seq;
			}
		}
		close(pfd[0]);
		if (!WIFSIGNALED(status)) {
			exits++;
			fprintf(stderr, "cycle %d: child exited %d\n", cycle,
				WEXITSTATUS(status));
			continue;
		}
		/* 1. integrity */
		if (store_reader_open(&rd, f.path) == 0) {
			if (store_integrity_check(rd) != 0)
				fails_int++;
			store_reader_free(rd);
		} else if (acked > 0) {
			fails_int++;
		}
		/* 2. contiguous, values intact, nothing acked lost */
		if (store_reader_open(&rd, f.path) == 0) {
			for (i = 1; i <= NS; i++) {
				if (!check_series(rd, i, &m))
					fails_gap++;
				if (m < acked)
					fails_lost++;
				if (i == 1 && m > max_seen)
					max_seen = m;
			}
			store_reader_free(rd);
		}
		/* 3. reference catches up with what is stored */
		for (; ref_seen < max_seen; ref_seen++) {
			int64_t seq = ref_seen + 1;
			for (i = 1; i <= NS; i++) {
				ssm_sample in = {t_of(seq), value_of(i, seq)};
				ssm_model_step(model, ref[i], &in, NULL, ws);
			}
		}
		/* 4. recovered state == reference, bit for bit */
		restored_init(&r);
		{
			int rc = recover(f.path, &r);
			if (rc != 0 || r.bad) {
				fails_recover++;
				fprintf(stderr,
					"cycle %d: recover %s, bad %d\n", cycle,
					store_strerror(rc), r.bad);
			}
		}
		for (i = 1; i <= NS; i++)
			if (r.seen[i] != ref_seen ||
			    memcmp(r.st[i], ref[i], nfl * sizeof(float)) != 0)
				fails_state++;
		restored_release(&r);
	}
	printf("  %d cycles, %lld acks, highest acked seq %lld, stored %lld, "
	       "state %zu floats\n",
	       CYCLES, (long long)total_acks, (long long)acked,
	       (long long)max_seen, nfl);
	CHECK_EQ_INT(exits, 0);
	CHECK_EQ_INT(fails_int, 0);
	CHECK_EQ_INT(fails_gap, 0);
	CHECK_EQ_INT(fails_lost, 0);
	CHECK_EQ_INT(fails_recover, 0);
	CHECK_EQ_INT(fails_state, 0);
	/* The test did push and acknowledge: at least one new ack in each
	 * cycle that was not killed during start-up. */
	CHECK(acked >= CYCLES - CYCLES / 10);
	for (i = 1; i <= NS; i++)
		free(ref[i]);
	free(ws);
	ssm_model_free(model);
	fx_release(&f);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	TH_RUN(test_kill9_cycles);
	return th_summary();
}
