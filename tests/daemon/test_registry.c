/*
 * tests/daemon/test_registry.c: the registry's open-addressing map against
 * a naive twin (a flat array searched by strcmp), through random adds,
 * drops and lookups, so that every backward shift of a removal is checked
 * by the lookups after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "daemon/registry.h"
#include "daemon/slabfill.h"
#include "tests/harness.h"

#define NAMES 3000

static unsigned rnd(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 8) & 0xffffff;
}

static void name_of(char *buf, size_t n, int i)
{
	/* Lengths 1..40 cover the hash's tail and word loops. */
	snprintf(buf, n, "%.*s%d", i % 33, "web.host.cpu.user.percent.xyzwvu",
		 i);
}

/* Every name's lookup agrees with the twin (live[i] = present). */
static int agrees(const srv_registry *r, const char *live)
{
	char name[64];
	int i;

	for (i = 0; i < NAMES; i++) {
		srv_series *s;
		name_of(name, sizeof name, i);
		s = srv_registry_find(r, name, strlen(name));
		if ((s != NULL) != (live[i] != 0))
			return 0;
		if (s && (strcmp(s->name, name) != 0 || r->all[s->index] != s))
			return 0;
	}
	return 1;
}

static void test_random_ops_match_twin(void)
{
	srv_registry r;
	char live[NAMES] = {0}, name[64];
	unsigned x = 12345;
	size_t n = 0;
	int op, bad = 0;

	CHECK_EQ_INT(srv_registry_init(&r, NULL, 0), 0);
	for (op = 0; op < 40000; op++) {
		int i = (int)(rnd(&x) % NAMES);
		srv_series *s;
		name_of(name, sizeof name, i);
		s = srv_registry_find(&r, name, strlen(name));
		if ((s != NULL) != (live[i] != 0))
			bad++;
		/* Adds outnumber drops 3 to 1 until most names live; half of
		 * them by the one-probe add, which must also refuse a name
		 * that is present. */
		if (!s && rnd(&x) % 4 != 0) {
			int dup = -1;
			if (op % 2 ? !srv_registry_add(&r, name, strlen(name),
						       0, 0)
				   : (!srv_registry_add_new(
					  &r, name, strlen(name), 0, 0, &dup) ||
				      dup != 0))
				bad++;
			live[i] = 1;
			n++;
		} else if (s && op % 2) {
			int dup = 0;
			if (srv_registry_add_new(&r, name, strlen(name), 0, 0,
						 &dup) ||
			    dup != 1)
				bad++;
		} else if (s && rnd(&x) % 4 == 0) {
			srv_registry_drop(&r, s);
			live[i] = 0;
			n--;
		}
		if (op % 97 == 0)
			srv_registry_reap(&r);
		if (op % 4999 == 0 && !agrees(&r, live))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(r.n, n);
	CHECK(agrees(&r, live));
	/* The load stays under 3/4. */
	CHECK(r.n <= r.nslots / 4 * 3);
	srv_registry_release(&r);
}

static void test_drop_all_leaves_empty_map(void)
{
	srv_registry r;
	char live[NAMES] = {0}, name[64];
	int i;
	size_t k;

	CHECK_EQ_INT(srv_registry_init(&r, NULL, 0), 0);
	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof name, i);
		CHECK(srv_registry_add(&r, name, strlen(name), 0, 0) != NULL);
	}
	/* Drop in an order unrelated to insertion. */
	for (i = 0; i < NAMES; i++) {
		int j = (i * 1237) % NAMES;
		name_of(name, sizeof name, j);
		srv_registry_drop(&r,
				  srv_registry_find(&r, name, strlen(name)));
	}
	srv_registry_reap(&r);
	CHECK_EQ_INT(r.n, 0);
	for (k = 0; k < r.nslots; k++)
		CHECK(r.slots[k].s == NULL);
	CHECK(agrees(&r, live));
	srv_registry_release(&r);
}

static void test_reserve_keeps_entries(void)
{
	srv_registry r;
	char live[NAMES], name[64];
	int i;

	CHECK_EQ_INT(srv_registry_init(&r, NULL, 0), 0);
	for (i = 0; i < 100; i++) {
		name_of(name, sizeof name, i);
		CHECK(srv_registry_add(&r, name, strlen(name), 0, 0) != NULL);
	}
	srv_registry_reserve(&r, 100000);
	CHECK(r.nslots / 4 * 3 >= 100000);
	CHECK(r.cap >= 100000);
	memset(live, 0, sizeof live);
	memset(live, 1, 100);
	CHECK(agrees(&r, live));
	srv_registry_release(&r);
}

static void test_lengths_and_prefixes_differ(void)
{
	srv_registry r;
	/* Same first 8 bytes, then a NUL inside the key: the bytes the hash
	 * zero-pads must still tell these apart. */
	const char a[] = "abcdefgh", b[] = "abcdefgh\0", c[] = "abcdefg";

	CHECK_EQ_INT(srv_registry_init(&r, NULL, 0), 0);
	CHECK(srv_registry_hash(a, 8) != srv_registry_hash(b, 9));
	CHECK(srv_registry_hash(a, 7) == srv_registry_hash(c, 7));
	CHECK(srv_registry_add(&r, a, 8, 0, 0) != NULL);
	CHECK(srv_registry_find(&r, a, 8) != NULL);
	CHECK(srv_registry_find(&r, b, 9) == NULL);
	CHECK(srv_registry_find(&r, c, 7) == NULL);
	CHECK(srv_registry_find(&r, "", 0) == NULL);
	CHECK(srv_registry_add(&r, "", 0, 0, 0) != NULL);
	CHECK(srv_registry_find(&r, "", 0) != NULL);
	srv_registry_release(&r);
}

/* The map's key holds the name's length up to SRV_KEY_LEN_MAX: past it
 * lengths share the key's top value, and names whose hashes differ only
 * above the key's 44 bits share a key's hash part; either way a lookup
 * compares the names themselves. */
static void test_long_names_share_a_key(void)
{
	srv_registry r;
	size_t L = SRV_KEY_LEN_MAX + 2, i;
	char *a = malloc(L + 2), *b = malloc(L + 2);

	CHECK(a && b);
	if (!a || !b)
		goto out;
	for (i = 0; i < L + 1; i++)
		a[i] = b[i] = (char)('a' + i % 26);
	CHECK(srv_registry_key(1, L) == srv_registry_key(1, L + 1));
	CHECK(srv_registry_key(1, 7) != srv_registry_key(1, 8));
	CHECK(srv_registry_key(5, 7) == srv_registry_key(5 | 1ull << 50, 7));
	CHECK(srv_registry_key(5, 7) % 1024 == 5);
	CHECK_EQ_INT(srv_registry_init(&r, NULL, 0), 0);
	CHECK(srv_registry_add(&r, a, L, 0, 0) != NULL);
	CHECK(srv_registry_find(&r, a, L) != NULL);
	CHECK(srv_registry_find(&r, b, L + 1) == NULL);
	CHECK(srv_registry_find(&r, b, L - 1) == NULL);
	b[L - 1] ^= 1;
	CHECK(srv_registry_find(&r, b, L) == NULL);
	CHECK(srv_registry_add(&r, b, L + 1, 0, 0) != NULL);
	CHECK(srv_registry_find(&r, b, L + 1) != NULL);
	CHECK(srv_registry_find(&r, a, L) != NULL);
	CHECK_EQ_INT(r.n, 2);
	srv_registry_release(&r);
out:
	free(a);
	free(b);
}

/* A restore's slab faulted in by the slab-fill thread: every slot handed
 * out is zero and the registry's own (distinct, inside its chunks), whether
 * taken while the filler runs or after the prefault ended; slots left over stay
 * the slab's, and a release with chunks still mapped ahead frees them. */
static void test_prefault_slots(void)
{
	ssm_model *m = NULL;
	srv_registry r;
	char name[64];
	int i, bad = 0, round;

	CHECK_EQ_INT(ssm_model_new_default(&m, 1), 0);
	if (!m)
		return;
	for (round = 0; round < 2; round++) {
		size_t per, want;
		CHECK_EQ_INT(srv_registry_init(&r, m, 0), 0);
		per = r.slab.per_chunk;
		want = 2 * per + per / 2; /* three chunks, the last half */
		srv_registry_reserve(&r, want);
		srv_registry_prefault(&r);
		CHECK(r.slab.ahead != NULL);
		/* Round 1 ends first, round 0 fills as the filler runs. */
		if (round)
			srv_registry_prefault_end(&r);
		/* Round 0 stops half way: the release unmaps the rest. */
		for (i = 0; i < (int)(round ? want + per : per + 3); i++) {
			srv_series *s;
			size_t k, nf = r.state_floats;
			name_of(name, sizeof name, i);
			s = srv_registry_add(&r, name, strlen(name), 1, 60);
			if (!s || srv_series_alloc(&r, s)) {
				bad++;
				break;
			}
			for (k = 0; k < nf; k++)
				bad += s->state[k] != 0.0f;
			/* Fill it: a slot shared with another would show in
			 * the checks below. */
			for (k = 0; k < nf; k++)
				s->state[k] = (float)i;
		}
		for (i = 0; i < (int)r.n; i++) {
			const srv_series *s = r.all[i];
			bad += s->state[0] != (float)i ||
			       s->state[r.state_floats - 1] != (float)i;
		}
		if (round) /* every chunk mapped ahead was taken, one more */
			CHECK(r.slab.ahead == NULL && r.slab.nchunks == 4);
		else
			CHECK(r.slab.ahead != NULL && r.slab.nchunks == 2);
		srv_registry_prefault_end(&r);
		srv_registry_release(&r);
	}
	CHECK_EQ_INT(bad, 0);
	ssm_model_free(m);
}

/* A restore that fills fewer slots than it announced (series without a
 * step have none) ends the prefault with chunks posted, more than its lead
 * ahead of the last slot filled: the end returns (a hang here is this
 * test's timeout) and unmaps the chunks mapped ahead and not handed out
 * (a checkpoint restart announces every series: srv_persist_open), and
 * the slab maps fresh ones after it. */
/* The default model and a registry of its slots: 0, or -1 (checked). */
static int model_registry(ssm_model **m, srv_registry *r)
{
	*m = NULL;
	CHECK_EQ_INT(ssm_model_new_default(m, 1), 0);
	if (!*m)
		return -1;
	CHECK_EQ_INT(srv_registry_init(r, *m, 0), 0);
	return 0;
}

static void test_prefault_end_early(void)
{
	ssm_model *m = NULL;
	srv_registry r;
	char name[64];
	size_t per;
	int i, bad = 0;

	if (model_registry(&m, &r))
		return;
	per = r.slab.per_chunk;
	srv_registry_reserve(&r, 8 * per);
	srv_registry_prefault(&r);
	for (i = 0; i < (int)(3 * per); i++) {
		srv_series *s;
		name_of(name, sizeof name, i);
		s = srv_registry_add(&r, name, strlen(name), 1, 60);
		bad += !s || srv_series_alloc(&r, s) != 0;
		if (i == (int)per + 1)
			srv_registry_prefault_end(&r); /* must return */
		if (s && s->state)
			s->state[0] = (float)i;
	}
	CHECK_EQ_INT(bad, 0);
	/* The chunks mapped ahead and not handed out were unmapped: the
	 * third came from a plain mmap. */
	CHECK(r.slab.ahead == NULL && r.slab.nchunks == 3);
	for (i = 0; i < (int)r.n; i++)
		bad += r.all[i]->state[0] != (float)i;
	CHECK_EQ_INT(bad, 0);
	srv_registry_release(&r);
	ssm_model_free(m);
}

/* Pages of [p, p + len) resident (p page-aligned). */
static size_t resident_pages(const void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE),
	       n = (len + page - 1) / page;
	size_t i, k = 0;
	unsigned char *v = malloc(n);

	if (!v || mincore((void *)p, len, v) != 0) {
		free(v);
		return (size_t)-1;
	}
	for (i = 0; i < n; i++)
		k += v[i] & 1;
	free(v);
	return k;
}

/* This process's resident pages (/proc/self/statm). */
static long rss_pages(void)
{
	long size = 0, res = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = -1;
		fclose(f);
	}
	return res;
}

/* A restore's chunks posted to the slab-fill thread: the first
 * AHEAD_CHUNKS (4) at once, one more as each is taken, never all of them
 * (that evicted the page cache a 1M restore reads: restore3.md). Each chunk
 * is resident when the slab hands it out, before any slot of it is
 * written (the filler did it), and the process holds the lead's chunks,
 * not the announcement's. srv_slabfill_sync(fill, 0) lets the filler end
 * what was posted, so the counts are exact. */
static void test_prefault_posts_lead(void)
{
	ssm_model *m = NULL;
	srv_registry r;
	char name[64];
	size_t per, chunk_pages, page = (size_t)sysconf(_SC_PAGESIZE);
	long rss0, rss1, rss2;
	int i, bad = 0;

	if (model_registry(&m, &r))
		return;
	per = r.slab.per_chunk;
	chunk_pages = per * r.slab.slot_bytes / page;
	srv_registry_reserve(&r, 8 * per);
	rss0 = rss_pages();
	srv_registry_prefault(&r);
	if (!r.slab.fill) { /* no MADV_POPULATE_WRITE or no thread */
		CHECK(r.slab.ahead == NULL);
		goto out;
	}
	CHECK(r.slab.ahead != NULL && r.slab.nchunks == 0);
	srv_slabfill_sync(r.slab.fill, 0);
	rss1 = rss_pages();
	/* Four chunks faulted in (within a tenth: the test's own pages). */
	CHECK(rss1 - rss0 > (long)(4 * chunk_pages - chunk_pages / 10));
	CHECK(rss1 - rss0 < (long)(5 * chunk_pages - chunk_pages / 10));
	/* Slots handed out, never written: their pages are resident only if
	 * the filler faulted them in. Five chunks taken, each synced. */
	for (i = 0; i < (int)(5 * per); i++) {
		srv_series *s;
		name_of(name, sizeof name, i);
		s = srv_registry_add(&r, name, strlen(name), 1, 60);
		if (!s || srv_series_alloc(&r, s)) {
			bad++;
			break;
		}
		if (i % per == 0) {
			srv_slabfill_sync(r.slab.fill, 0);
			bad +=
			    resident_pages(r.slab.chunks[r.slab.nchunks - 1],
					   chunk_pages * page) != chunk_pages;
		}
	}
	CHECK_EQ_INT(bad, 0);
	/* Chunks 0-4 taken, 5-7 posted (7 is the last): all 8. */
	CHECK(r.slab.nchunks == 5 && r.slab.ahead != NULL);
	rss2 = rss_pages();
	CHECK(rss2 - rss0 > (long)(8 * chunk_pages - chunk_pages / 10));
	/* Three chunks faulted in and never handed out: unmapped. */
	srv_registry_prefault_end(&r);
	CHECK(r.slab.ahead == NULL && r.slab.expect == 0);
	CHECK(rss_pages() < rss2 - (long)(3 * chunk_pages - chunk_pages / 10));
out:
	srv_registry_release(&r);
	ssm_model_free(m);
}

/* Ingest with the slab-fill thread: series learning their step have
 * slots posted ahead of them (the lead, across chunks mapped ahead), the
 * slots handed out later are those chunks' (zero, one per series), and a
 * release while the thread may still be faulting in unmaps cleanly. */
static void test_fill_ahead_of_learning(void)
{
	ssm_model *m = NULL;
	srv_registry r;
	char name[64];
	size_t per, n;
	float *ref;
	int i, bad = 0;

	if (model_registry(&m, &r))
		return;
	per = r.slab.per_chunk;
	n = 2 * per + per / 3; /* three chunks' worth */
	/* A started state as a slot that was never written gives it. */
	ref = calloc(r.state_floats, sizeof *ref);
	CHECK(ref && ssm_state_init(m, ref, 1, 60) == 0);
	if (!ref)
		return;
	for (i = 0; i < (int)n; i++) {
		srv_series *s;
		name_of(name, sizeof name, i);
		s = srv_registry_add(&r, name, strlen(name), 1, 60);
		bad += !s || srv_series_learn_buf(&r, s) != 0;
		if (!s)
			continue;
		/* Counted from the second sample on, once. */
		bad += r.learning != (size_t)i;
		s->n_learn = 1;
		bad += srv_series_learn_buf(&r, s) != 0;
		s->n_learn = 2;
		bad += srv_series_learn_buf(&r, s) != 0;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(r.learning == n);
	if (r.slab.fill) { /* MADV_POPULATE_WRITE and a thread to be had */
		/* The first chunk and two mapped ahead, all posted. */
		CHECK(r.slab.nchunks == 1 && r.slab.nspare == 2);
		CHECK(r.slab.ready + r.slab.spare_ready >= n);
	}
	/* Learnt: each takes its slot; half of them, then a release. */
	for (i = 0; i < (int)n; i++) {
		srv_series *s = r.all[i];
		srv_series_learn_done(&r, s);
		if (i % 2 || srv_series_start(&r, s)) {
			bad += i % 2 == 0;
			continue;
		}
		bad += memcmp(s->state, ref, r.state_floats * sizeof *ref) != 0;
		s->state[r.state_floats - 1] = (float)i;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(r.learning == 0 && r.slab.lead == 0);
	for (i = 0; i < (int)n; i += 2)
		bad += r.all[i]->state[r.state_floats - 1] != (float)i;
	CHECK_EQ_INT(bad, 0);
	/* The spares taken in order: the second chunk is the first spare. */
	CHECK(r.slab.nchunks == 2);
	free(ref);
	srv_registry_release(&r);
	ssm_model_free(m);
}

/* The pattern of a warm-up file's float at index i. */
static float warm_val(size_t i)
{
	return (float)(i % 1021) + 0.25f;
}

/* A restore's adopted chunks (private mappings of a file, as the state
 * dump's) warmed up by the slab-fill thread while slots are written: every
 * byte stays what the file or the write put there, the file is never
 * written, and the bytes warmed are the full chunk's and, of the last, its
 * slots in use rounded to pages (not the file's hole past them). */
static void test_warm_adopted_chunks(void)
{
	ssm_model *m = NULL;
	srv_registry r;
	char path[] = "/tmp/statecast-test-warm.XXXXXX";
	size_t per, sb, len, clen, last, page = (size_t)sysconf(_SC_PAGESIZE);
	size_t i, nf, want, got = 0, bad = 0;
	unsigned char *c[2];
	float *buf;
	int fd, k;

	if (model_registry(&m, &r))
		return;
	per = r.slab.per_chunk;
	sb = r.slab.slot_bytes;
	len = per * sb;
	clen = (len + page - 1) / page * page;
	last = per / 2;
	nf = clen / sizeof(float);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	buf = malloc(clen);
	CHECK(buf != NULL);
	if (fd < 0 || !buf) {
		free(buf);
		return;
	}
	unlink(path);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nf; i++)
			buf[i] = warm_val(k * nf + i);
		CHECK((size_t)pwrite(fd, buf, clen, (off_t)(k * clen)) == clen);
		c[k] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
			    (off_t)(k * clen));
		CHECK(c[k] != MAP_FAILED);
	}
	CHECK_EQ_INT(srv_slab_adopt(&r.slab, c[0], per), 0);
	CHECK_EQ_INT(srv_slab_adopt(&r.slab, c[1], last), 0);
	/* One slot written before the warm-up, one while it runs. */
	((float *)(void *)c[0])[3] = -1.0f;
	srv_registry_warm(&r);
	((float *)(void *)(c[1] + sb))[0] = -2.0f;
	want = len + (last * sb + page - 1) / page * page;
	for (i = 0; i < 100000 && got < want; i++) {
		got = srv_registry_warmed(&r);
		if (got < want)
			usleep(1000);
	}
	CHECK_EQ_INT((long long)got, (long long)want);
	for (k = 0; k < 2; k++) {
		const float *f = (const float *)(void *)c[k];
		size_t n = (k ? last * sb : len) / sizeof(float);
		for (i = 0; i < n; i++) {
			float w = warm_val(k * nf + i);
			if (k == 0 && i == 3)
				w = -1.0f;
			if (k == 1 && i == sb / sizeof(float))
				w = -2.0f;
			bad += f[i] != w;
		}
		/* The file holds its own bytes: the writes were private. */
		CHECK((size_t)pread(fd, buf, clen, (off_t)(k * clen)) == clen);
		for (i = 0; i < nf; i++)
			bad += buf[i] != warm_val(k * nf + i);
	}
	CHECK_EQ_INT((long long)bad, 0);
	srv_registry_release(&r); /* unmaps the adopted chunks */
	close(fd);
	free(buf);
	ssm_model_free(m);
}

int main(void)
{
	TH_RUN(test_random_ops_match_twin);
	TH_RUN(test_drop_all_leaves_empty_map);
	TH_RUN(test_reserve_keeps_entries);
	TH_RUN(test_lengths_and_prefixes_differ);
	TH_RUN(test_long_names_share_a_key);
	TH_RUN(test_prefault_slots);
	TH_RUN(test_prefault_end_early);
	TH_RUN(test_prefault_posts_lead);
	TH_RUN(test_fill_ahead_of_learning);
	TH_RUN(test_warm_adopted_chunks);
	return th_summary();
}
