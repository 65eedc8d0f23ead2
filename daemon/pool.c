/*
 * daemon/pool.c: the tick's compute pool (see pool.h).
 *
 * No mutex. Until pool15 one mutex guarded the run, and it was nearly all
 * of the loop's sleeps on a contended mutex at 50,000 samples/s (50-67 in
 * 10 s, bench/results/lat11-mutex.md): the helper woken by a round's
 * broadcast retook the mutex inside its condition wait just as the loop
 * wanted it, and a helper preempted while holding it (its core taken by
 * another program) kept the loop asleep until it ran again. Now:
 *
 * - The jobs left are one 64-bit word (claim: lo | hi << 32). The caller
 *   takes lo, a helper hi - 1, each by a compare-and-swap, so a job is
 *   claimed once; a preempted helper holds at most the job it claimed,
 *   never the others. The caller publishes a run by storing the word
 *   (after fn, ctx and fin are set); a helper reads fn and ctx only after
 *   its claim succeeded, and the caller starts no next run before every
 *   job is reported, so they cannot change under a helper. A claim that
 *   loaded the word in one run and swaps in another can only succeed
 *   when the word is the same, i.e. that job is unclaimed now: the claim
 *   is then of the current run, whose fn and ctx the helper reads after.
 * - A helper that finished a job writes its index into the next fin slot
 *   (slot from nfin, then the index: the caller reads slots in order and
 *   waits at one still -1), bumps done_seq and wakes the caller if it
 *   said it might sleep (caller_waits).
 * - Sleeps are futexes, without a lock to retake on waking: a helper
 *   sleeps on run_seq, the caller on done_seq. No lost wake-up: a
 *   sleeper announces itself (sleepers, caller_waits), then checks for
 *   work, then sleeps only if the futex word is still the value it read
 *   before the check; a waker publishes the work, bumps the word, then
 *   reads the announcement. All of these are sequentially consistent, so
 *   of the sleeper's check and the waker's read of the announcement at
 *   least one sees the other's write: either the sleeper sees the work,
 *   or the waker sees the sleeper and wakes it (and a wake that comes
 *   before the sleeper is in the kernel finds the word changed: the
 *   futex returns at once). tests/daemon/test_pool.c's many small runs
 *   would hang on a lost wake-up and count a job run twice or never.
 * - A helper that found no job spins SRV_POOL_SPIN_NS (3 us) for the next
 *   run before it sleeps; the caller never spins (a helper's job is
 *   hundreds of microseconds, and on two cores a spinning loop would keep
 *   the helper it waits for off a core).
 *
 * The caller claims jobs from the front of the run, the helpers from its
 * end, until they meet. The tick lists a round's series in about the same
 * order round after round (the order they arrive in), so more of them are
 * stepped by the same thread as in the last round and find their state in
 * that core's caches: a state last written on the other core costs the
 * step 1.09x at 1,000 series (states in L3), 1.19x at 64 (in L2), 1.02x
 * at 20,000 (from memory either way; bench/migrate_step.sh). Claimed in one
 * order by everyone, 46-53% of the rows of a 1k x 200 run changed threads
 * from one step to the next; from both ends 31-34% (load 22: how far
 * the loop gets before the helper wakes varies from round to round;
 * bench/results/par9.md).
 */
#include "daemon/pool.h"

#include "daemon/sched.h"
#include "io/futex.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct srv_pool_helper {
	srv_pool *p;
	void *ws;
} srv_pool_helper;

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Claims the next job from the front (the caller) or the back (a helper):
 * its index, or -1 when none is left. */
static int claim(srv_pool *p, int back)
{
	unsigned long long c = atomic_load(&p->claim), n;
	unsigned lo, hi;

	do {
		lo = (unsigned)c;
		hi = (unsigned)(c >> 32);
		if (lo >= hi)
			return -1;
		n = back ? (unsigned long long)lo | (unsigned long long)(hi - 1)
							<< 32
			 : c + 1;
	} while (!atomic_compare_exchange_weak(&p->claim, &c, n));
	return back ? (int)(hi - 1) : (int)lo;
}

/* A helper finished job j: into the caller's list, and the caller woken
 * if it may be asleep (see the lost wake-up argument above). */
static void publish(srv_pool *p, int j)
{
	int slot = atomic_fetch_add(&p->nfin, 1);

	atomic_store(&p->fin[slot], j);
	atomic_fetch_add(&p->done_seq, 1);
	if (atomic_load(&p->caller_waits))
		io_futex_wake(&p->done_seq, 1);
}

/* The first helper up for run seq times its wake-up, even when the run is
 * over: a late helper is what is measured. t_run_ns[seq & 1] is run seq's
 * only while run_seq still reads seq (the caller writes run seq + 2's
 * after run_seq has moved on). */
static void time_wake(srv_pool *p, unsigned seq)
{
	long long t0 = atomic_load(&p->t_run_ns[seq & 1]), d = mono_ns() - t0;
	unsigned long long w = atomic_load(&p->woke), n;

	if (atomic_load(&p->run_seq) != seq)
		return;
	n = (unsigned long long)seq << 32 |
	    (d < 0	    ? 0
	     : d > UINT_MAX ? UINT_MAX
			    : (unsigned long long)d);
	/* Only a later run's sample replaces one (a very late helper of an
	 * earlier run does not). */
	while ((int)(seq - (unsigned)(w >> 32)) > 0 &&
	       !atomic_compare_exchange_weak(&p->woke, &w, n))
		;
}

/* A helper's wait for a run it has not seen (or the stop): spin for
 * SRV_POOL_SPIN_NS, then sleep on run_seq. The new run_seq. */
static unsigned helper_wait(srv_pool *p, unsigned seen)
{
	long long end = mono_ns() + SRV_POOL_SPIN_NS;
	unsigned s;
	int i;

	do {
		for (i = 0; i < 64; i++) {
			s = atomic_load(&p->run_seq);
			if (s != seen) {
				atomic_fetch_add_explicit(&p->spin_hits, 1,
							  memory_order_relaxed);
				return s;
			}
			cpu_relax();
		}
	} while (mono_ns() < end);
	for (;;) {
		atomic_fetch_add(&p->sleepers, 1);
		s = atomic_load(&p->run_seq);
		if (s == seen) {
			atomic_fetch_add_explicit(&p->helper_sleeps, 1,
						  memory_order_relaxed);
			io_futex_wait(&p->run_seq, seen, NULL);
			s = atomic_load(&p->run_seq);
		}
		atomic_fetch_sub(&p->sleepers, 1);
		if (s != seen)
			return s;
	}
}

static void *helper_main(void *arg)
{
	srv_pool_helper *h = arg;
	srv_pool *p = h->p;
	/* Runs are numbered from 1: a helper whose thread starts after the
	 * first run began still joins it. */
	unsigned seen = 0;

	/* Named, so that ps -T and /proc tell it from the store's writer. */
	pthread_setname_np(pthread_self(), "pool-helper");
	/* A helper woken for a round is waited for by the loop: it asks
	 * for the loop's slice (the kernel took it from the caller; a
	 * refusal here would leave the kernel's default). */
	if (p->slice_us > 0)
		(void)srv_sched_set_slice(p->slice_us);
	for (;;) {
		int j;

		seen = helper_wait(p, seen);
		if (atomic_load(&p->stopping))
			break;
		time_wake(p, seen);
		while ((j = claim(p, 1)) >= 0) {
			p->fn(p->ctx, j, h->ws);
			publish(p, j);
		}
	}
	return NULL;
}

int srv_pool_init(srv_pool *p, int nthreads, size_t ws_bytes, int slice_us)
{
	srv_pool_helper *hs;
	int i;

	memset(p, 0, sizeof *p);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 16)
		nthreads = 16;
	p->nthreads = 1;
	p->wake_s = SRV_POOL_WAKE0;
	if (slice_us > 0) {
		p->slice_rc = srv_sched_set_slice(slice_us);
		p->slice_us = p->slice_rc == 0 ? slice_us : 0;
	}
	if (nthreads == 1)
		return 0;
	p->th = calloc((size_t)nthreads - 1, sizeof *p->th);
	p->ws = calloc((size_t)nthreads - 1, sizeof *p->ws);
	hs = calloc((size_t)nthreads - 1, sizeof *hs);
	p->helpers = hs;
	if (!p->th || !p->ws || !hs)
		return -1;
	p->nhelpers = nthreads - 1;
	for (i = 0; i < nthreads - 1; i++) {
		p->ws[i] = malloc(ws_bytes + 1);
		if (!p->ws[i])
			return -1;
		hs[i].p = p;
		hs[i].ws = p->ws[i];
		if (pthread_create(&p->th[i], NULL, helper_main, &hs[i]))
			return -1;
		p->started++;
		p->nthreads++;
	}
	return 0;
}

void srv_pool_release(srv_pool *p)
{
	int i;

	atomic_store(&p->stopping, 1);
	atomic_fetch_add(&p->run_seq, 1);
	io_futex_wake(&p->run_seq, INT_MAX);
	for (i = 0; i < p->started; i++)
		pthread_join(p->th[i], NULL);
	for (i = 0; p->ws && i < p->nhelpers; i++)
		free(p->ws[i]);
	free(p->ws);
	free(p->th);
	free(p->helpers);
	free(p->fin);
	memset(p, 0, sizeof *p);
}

/* One run's wake-up sample into the estimate (see srv_pool_worth). */
static void learn_wake(srv_pool *p, double d)
{
	if (!(d >= 0))
		return;
	p->wake_s += (d - p->wake_s) / (d > p->wake_s ? 2 : 16);
	p->nwake++;
}

/* The caller waits for a helper's job: sleeps on done_seq unless the next
 * slot to report (fin[reported], which exists: a job is still out) has
 * come in since (see the lost wake-up argument above). */
static void caller_wait(srv_pool *p, int reported)
{
	unsigned v = atomic_load(&p->done_seq);

	atomic_store(&p->caller_waits, 1);
	if (atomic_load(&p->fin[reported]) < 0) {
		atomic_fetch_add_explicit(&p->caller_sleeps, 1,
					  memory_order_relaxed);
		io_futex_wait(&p->done_seq, v, NULL);
	}
	atomic_store(&p->caller_waits, 0);
}

int srv_pool_run(srv_pool *p, int njobs, srv_pool_job_fn fn,
		 srv_pool_done_fn done, void *ctx, void *caller_ws)
{
	int reported = 0, own = 0, j;
	unsigned seq = atomic_load(&p->run_seq) + 1;

	if (njobs < 0)
		njobs = 0;
	/* No helper touches fin between runs (none can claim a job). */
	if (p->capfin < njobs) {
		_Atomic int *f = realloc(p->fin, (size_t)njobs * sizeof *f);
		if (!f)
			return -1;
		p->fin = f;
		p->capfin = njobs;
	}
	for (j = 0; j < njobs; j++)
		atomic_store_explicit(&p->fin[j], -1, memory_order_relaxed);
	atomic_store_explicit(&p->nfin, 0, memory_order_relaxed);
	p->fn = fn;
	p->ctx = ctx;
	/* The previous run's wake-up sample: its first helper's delay, or,
	 * when none has woken for it yet, the time since it was offered
	 * (a lower bound: it was signalled that long ago). */
	if (seq > 1 && p->started > 0) {
		unsigned long long w = atomic_load(&p->woke);
		long long t0 = atomic_load(&p->t_run_ns[(seq - 1) & 1]);
		learn_wake(p, (unsigned)(w >> 32) == seq - 1
				  ? (double)(unsigned)w * 1e-9
				  : (double)(mono_ns() - t0) * 1e-9);
	}
	atomic_store(&p->t_run_ns[seq & 1], mono_ns());
	/* Published: from here helpers may claim. */
	atomic_store(&p->claim, (unsigned long long)njobs << 32);
	atomic_fetch_add(&p->run_seq, 1);
	if (atomic_load(&p->sleepers))
		io_futex_wake(&p->run_seq, INT_MAX);
	for (;;) {
		int f;

		/* Report what the helpers finished, in the order they did. */
		while (reported < njobs &&
		       (f = atomic_load(&p->fin[reported])) >= 0) {
			reported++;
			done(ctx, f);
		}
		j = claim(p, 0);
		if (j >= 0) {
			fn(ctx, j, caller_ws);
			done(ctx, j);
			own++;
			continue;
		}
		if (own + reported == njobs)
			break;
		caller_wait(p, reported);
	}
	/* Every job reported: no helper will read fn, ctx or fin of this
	 * run again (one that wakes now finds lo >= hi). */
	return 0;
}

int srv_pool_worth(srv_pool *p, double work_s)
{
	double T = p->nthreads, save = work_s * (T - 1) / T;

	if (p->nthreads < 2)
		return 0;
	if (save > SRV_POOL_MARGIN * p->wake_s)
		return 1;
	if (save >= SRV_POOL_WAKE0)
		p->wake_s -= p->wake_s / 1024;
	return 0;
}
