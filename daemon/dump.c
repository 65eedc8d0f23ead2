/*
 * daemon/dump.c: writing the registry to a state dump and mapping it back
 * (see dump.h).
 *
 * Workload: once per clean stop and once per start, every series (up to
 * millions, ~7 GB of slots at 1M): the write is pwritev() straight from the
 * slab slots (no staging copy), the load is mmap of each chunk (no fresh
 * memory to zero, no copy: the pages are the page cache's until a series
 * is next stepped, which copies that page alone) plus one CRC pass over
 * every slot, read from the file in pieces by two threads (and the caller
 * once it waits), before any record is trusted.
 */
#include "daemon/dump.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/snapshot.h"
#include "io/statedump.h"

/* iovecs per pwritev (IOV_MAX is 1024 on Linux). */
#define WRITE_IOV 1024

size_t srv__dump_slot_floats(const srv *s)
{
	size_t H = (size_t)ssm_model_horizon(s->model);
	size_t Q = (size_t)ssm_model_nquantiles(s->model);

	return s->reg.state_floats + H * Q + H;
}

const char *srv_dump_unfit(const srv *s)
{
	size_t i;

	if (!s->reg.slab.slot_bytes || !s->reg.n)
		return "no series";
	for (i = 0; i < s->reg.n; i++) {
		const srv_series *se = s->reg.all[i];
		if (!se->state || se->learn)
			return "a series is still learning its step";
		if (!se->store_id)
			return "a series is not declared in the store";
		if (se->tick_round)
			return "a series has samples waiting";
	}
	return NULL;
}

void srv__dump_rec_of(const srv_series *se, io_dump_rec *r)
{
	memset(r, 0, sizeof *r);
	r->store_id = se->store_id;
	r->seq = se->store_seq;
	r->snap_seq = se->snap_seq;
	r->last_t = se->last_t;
	r->stepped_t = se->stepped_t;
	r->last_value = se->last_value;
	r->step_s = se->step_s;
	r->f_t = se->f_t;
	r->store_fc_t = se->store_fc_t;
	r->period = se->period;
	r->horizon = se->horizon;
	r->since_forecast = se->since_forecast;
	r->flags = se->has_forecast ? IO_DUMP_HAS_FORECAST : 0;
	r->name = se->name;
	r->name_len = (uint32_t)strlen(se->name);
}

int srv__dump_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

int srv__dump_slots(int fd, srv_series *const *ser, size_t end, size_t sb,
		    off_t off)
{
	struct iovec iov[WRITE_IOV];
	size_t i = 0;

	while (i < end) {
		size_t k, n = end - i < WRITE_IOV ? end - i : WRITE_IOV;
		size_t left = n * sb;
		struct iovec *v = iov;
		int cnt = (int)n;
		for (k = 0; k < n; k++) {
			iov[k].iov_base = ser[i + k]->state;
			iov[k].iov_len = sb;
		}
		while (left) {
			ssize_t w = pwritev(fd, v, cnt, off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += w;
			left -= (size_t)w;
			/* A short write: skip what went out. */
			while (cnt && (size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				v++;
				cnt--;
			}
			if (cnt && w) {
				v->iov_base = (char *)v->iov_base + w;
				v->iov_len -= (size_t)w;
			}
		}
		i += n;
	}
	return 0;
}

int srv__dump_fsync_dir(const char *path)
{
	char dir[4096];
	char *slash;
	int fd, rc;

	if (strlen(path) >= sizeof dir)
		return -1;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int srv_dump_write(srv *s, const char *path, uint64_t gen, uint64_t hash,
		   char *why, size_t whylen)
{
	srv_registry *r = &s->reg;
	io_dump_hdr h;
	unsigned char *meta = NULL, hdr[IO_DUMP_HDR_BYTES];
	char tmp[4096 + 8];
	size_t i, off, nf = srv__dump_slot_floats(s);
	int fd = -1;
	const char *step = "open";

	memset(&h, 0, sizeof h);
	h.version = IO_DUMP_VERSION;
	h.generation = gen;
	h.model_hash = hash;
	h.count = r->n;
	h.state_floats = (uint32_t)r->state_floats;
	h.slot_floats = (uint32_t)nf;
	h.slot_bytes = (uint32_t)r->slab.slot_bytes;
	h.per_chunk = (uint32_t)r->slab.per_chunk;
	for (i = 0; i < r->n; i++)
		h.meta_bytes +=
		    io_dump_rec_size((uint32_t)strlen(r->all[i]->name));
	io_dump_layout(&h, (uint64_t)sysconf(_SC_PAGESIZE));
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	meta = malloc(h.meta_bytes ? h.meta_bytes : 1);
	if (!meta) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (i = off = 0; i < r->n; i++) {
		io_dump_rec rec;
		srv__dump_rec_of(r->all[i], &rec);
		rec.slot_crc =
		    io_crc32c(0, r->all[i]->state, nf * sizeof(float));
		io_dump_rec_encode(&rec, meta + off);
		off += io_dump_rec_size(rec.name_len);
	}
	h.meta_crc = io_crc32c(0, meta, h.meta_bytes);
	io_dump_hdr_encode(&h, hdr);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	step = "write";
	for (i = 0; i < r->n; i += r->slab.per_chunk) {
		size_t end =
		    i + r->slab.per_chunk < r->n ? i + r->slab.per_chunk : r->n;
		off_t at = (off_t)(h.slots_off +
				   i / r->slab.per_chunk * h.chunk_bytes);
		if (srv__dump_slots(fd, r->all + i, end - i, r->slab.slot_bytes,
				    at))
			goto fail;
	}
	/* The last chunk's unused tail stays a hole: mapped, it reads as
	 * zeros like the slab's own fresh slots. */
	if (srv__dump_pwrite(fd, meta, h.meta_bytes, (off_t)h.meta_off) ||
	    ftruncate(fd, (off_t)h.file_bytes) ||
	    srv__dump_pwrite(fd, hdr, sizeof hdr, 0))
		goto fail;
	step = "fsync";
	if (fsync(fd))
		goto fail;
	close(fd);
	fd = -1;
	step = "rename";
	if (rename(tmp, path) || srv__dump_fsync_dir(path))
		goto fail;
	free(meta);
	return 0;
fail:
	snprintf(why, whylen, "%s %s: %s", step, tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(meta);
	return -1;
}

/* ---- loading ---- */

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* The check of every slot's CRC (srv__dump_check_start): the slots are
 * read from the file with pread, a piece of PIECE_BYTES at a time into a
 * buffer of the reading thread's own, so the slab's private copies may be
 * written (a replay after a checkpoint's record) while it runs: it reads
 * the file's bytes, never the copies. Two threads take the pieces in file
 * order from one counter, and srv__dump_check_wait's caller takes the rest
 * with them rather than waiting (no thread is left with half the file
 * while a core idles). A shared mapping of the slots' section read the
 * same pages at twice the CPU, page tables and their teardown included
 * (walk18: 0.31-0.36 s against 0.17-0.18 s per 1.43 GB cached, with a
 * munmap of 0.23-0.32 s more; bench/results/walk18.md). */
struct srv__dump_check {
	const io_dump_hdr *h;
	int fd;		     /* the file, closed once the check is done */
	const uint32_t *crc; /* per slot */
	size_t per_piece;    /* slots a piece, >= 1, within one chunk */
	size_t pieces_per_chunk, npieces;
	atomic_size_t next;  /* the next piece to check */
	atomic_size_t bad;   /* smallest failing slot + 1 found, 0 = none */
	atomic_int read_err; /* errno of a failed read, -1 short; 0 = none */
	pthread_t th[2];
	int started[2];
	int done;
};

/* A piece's size: it fits in the L2 cache, so the CRC reads what the copy
 * has just written, and a 1M-series file is ~25,000 preads. */
#define PIECE_BYTES ((size_t)256 << 10)

static void set_bad(srv__dump_check *k, size_t slot)
{
	size_t b = atomic_load(&k->bad);

	while ((b == 0 || slot + 1 < b) &&
	       !atomic_compare_exchange_weak(&k->bad, &b, slot + 1))
		;
}

/* Checks pieces until none is left or one failed. */
static void *verify_pieces(void *arg)
{
	srv__dump_check *k = arg;
	const io_dump_hdr *h = k->h;
	size_t len = k->per_piece * h->slot_bytes, p, i;
	unsigned char *buf = malloc(len);

	if (!buf) {
		int zero = 0;
		atomic_compare_exchange_strong(&k->read_err, &zero, ENOMEM);
		return NULL;
	}
	while ((p = atomic_fetch_add(&k->next, 1)) < k->npieces &&
	       !atomic_load(&k->bad) && !atomic_load(&k->read_err)) {
		size_t c = p / k->pieces_per_chunk;
		size_t first =
		    c * h->per_chunk + (p % k->pieces_per_chunk) * k->per_piece;
		size_t end = (c + 1) * h->per_chunk;
		size_t n;
		off_t off = (off_t)(h->slots_off + c * h->chunk_bytes +
				    (first - c * h->per_chunk) * h->slot_bytes);
		if (end > first + k->per_piece)
			end = first + k->per_piece;
		if (end > h->count)
			end = (size_t)h->count;
		n = end - first;
		errno = 0;
		if (pread_all(k->fd, buf, n * h->slot_bytes, off)) {
			int zero = 0, e = errno ? errno : -1;
			atomic_compare_exchange_strong(&k->read_err, &zero, e);
			break;
		}
		for (i = 0; i < n; i++)
			if (io_crc32c(0, buf + i * h->slot_bytes,
				      (size_t)h->slot_floats * 4) !=
			    k->crc[first + i]) {
				set_bad(k, first + i);
				break;
			}
	}
	free(buf);
	return NULL;
}

/* Checks the header against what this daemon and database expect. */
static int check_hdr(const srv *s, const io_dump_hdr *h, uint64_t gen,
		     uint64_t hash, uint64_t count, uint64_t size, char *why,
		     size_t whylen)
{
	const srv_registry *r = &s->reg;

	if (h->generation != gen)
		snprintf(why, whylen,
			 "stale: generation %016llx, the database expects "
			 "%016llx",
			 (unsigned long long)h->generation,
			 (unsigned long long)gen);
	else if (h->model_hash != hash)
		snprintf(why, whylen,
			 "written by another model (hash %016llx, "
			 "this model %016llx)",
			 (unsigned long long)h->model_hash,
			 (unsigned long long)hash);
	else if (h->state_floats != r->state_floats ||
		 h->slot_floats != srv__dump_slot_floats(s) ||
		 h->slot_bytes != r->slab.slot_bytes ||
		 h->per_chunk != r->slab.per_chunk)
		snprintf(why, whylen, "slot layout differs from this build's");
	else if (count != UINT64_MAX && h->count != count)
		snprintf(why, whylen, "holds %llu series, the database %llu",
			 (unsigned long long)h->count,
			 (unsigned long long)count);
	else if (size != h->file_bytes)
		snprintf(why, whylen,
			 "truncated or extended: %llu bytes, "
			 "header says %llu",
			 (unsigned long long)size,
			 (unsigned long long)h->file_bytes);
	else
		return 0;
	return -1;
}

/* Decodes every record; offsets[i] = record i's offset in meta. */
static int decode_recs(const io_dump_hdr *h, const unsigned char *meta,
		       size_t *offsets, uint32_t *crc, char *why, size_t whylen)
{
	size_t i, off = 0, used;
	io_dump_rec rec;

	for (i = 0; i < h->count; i++) {
		int rc = io_dump_rec_decode(meta + off, h->meta_bytes - off,
					    &rec, &used);
		if (rc) {
			snprintf(why, whylen, "record %zu: %s", i,
				 io_dump_strerror(rc));
			return -1;
		}
		offsets[i] = off;
		crc[i] = rec.slot_crc;
		off += used;
	}
	if (off != h->meta_bytes) {
		snprintf(why, whylen, "records end before the section");
		return -1;
	}
	return 0;
}

static int map_chunks(int fd, const io_dump_hdr *h, unsigned char **chunks)
{
	size_t c, n = (size_t)io_dump_nchunks(h);
	size_t len = (size_t)h->per_chunk * h->slot_bytes;

	for (c = 0; c < n; c++) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			       fd, (off_t)(h->slots_off + c * h->chunk_bytes));
		if (p == MAP_FAILED) {
			while (c--)
				munmap(chunks[c], len);
			return -1;
		}
		/* Reads ahead what the page cache no longer holds, for
		 * every chunk at once: the disk sees one deep queue. */
		madvise(p, len, MADV_WILLNEED);
		chunks[c] = p;
	}
	return 0;
}

int srv__dump_adopt(srv *s, srv_dump_view *v, char *why, size_t whylen)
{
	srv_registry *r = &s->reg;
	const io_dump_hdr *h = &v->h;
	size_t c, n = v->nchunks;

	v->adopted = 1; /* from here on the slab or this function unmaps */
	for (c = 0; c < n; c++) {
		size_t k = c + 1 < n ? h->per_chunk
				     : (size_t)(h->count - c * h->per_chunk);
		if (srv_slab_adopt(&r->slab, v->chunks[c], k)) {
			/* The ones not adopted are still ours to unmap. */
			for (; c < n; c++)
				munmap(v->chunks[c],
				       (size_t)h->per_chunk * h->slot_bytes);
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	}
	return 0;
}

float *srv__dump_slot(const srv_dump_view *v, size_t i)
{
	return (float *)(void *)(v->chunks[i / v->h.per_chunk] +
				 (i % v->h.per_chunk) * v->h.slot_bytes);
}

void srv__dump_rec(const srv_dump_view *v, size_t i, io_dump_rec *rec)
{
	size_t used;

	/* Checked by srv__dump_open. */
	io_dump_rec_decode(v->meta + v->offsets[i],
			   v->h.meta_bytes - v->offsets[i], rec, &used);
}

void srv__dump_rec_prefetch(const srv_dump_view *v, size_t i)
{
	const unsigned char *p = v->meta + v->offsets[i];

	/* The fixed part (IO_DUMP_REC_BYTES) and the name's start. */
	__builtin_prefetch(p, 0, 1);
	__builtin_prefetch(p + 64, 0, 1);
	__builtin_prefetch(p + 128, 0, 1);
}

void srv__dump_rec_key(const srv_dump_view *v, size_t i, int64_t *store_id,
		       uint64_t *seq)
{
	io_dump_rec_key(v->meta + v->offsets[i], store_id, seq);
}

void srv__dump_apply(srv_registry *r, srv_series *se, const io_dump_rec *rec,
		     float *slot)
{
	srv_series_set_slot(r, se, slot);
	se->store_id = rec->store_id;
	se->n_samples = se->store_seq = rec->seq;
	se->snap_seq = rec->snap_seq;
	se->last_t = rec->last_t;
	se->stepped_t = rec->stepped_t;
	se->last_value = rec->last_value;
	se->f_t = rec->f_t;
	se->store_fc_t = rec->store_fc_t;
	se->horizon = rec->horizon;
	se->since_forecast = rec->since_forecast;
	se->has_forecast = (rec->flags & IO_DUMP_HAS_FORECAST) != 0;
	/* The slot's forecast may have been left to the state (fc_stale is
	 * not recorded): when the last step made it, the state gives it, the
	 * same bits (daemon/fresh.h). */
	se->fc_stale = se->has_forecast && se->since_forecast == 0;
	se->store_step_s = rec->step_s;
	se->store_period = rec->period;
}

/* The registry from the checked records, in the file's order. */
static int build(srv *s, const srv_dump_view *v,
		 void (*progress)(void *, uint64_t, uint64_t), void *ud,
		 char *why, size_t whylen)
{
	srv_registry *r = &s->reg;
	const io_dump_hdr *h = &v->h;
	uint64_t step = h->count / 100 ? h->count / 100 : 1;
	io_dump_rec rec;
	size_t i;

	for (i = 0; i < h->count; i++) {
		srv_series *se;
		srv__dump_rec(v, i, &rec);
		if (srv_registry_find(r, rec.name, rec.name_len)) {
			snprintf(why, whylen, "series %.*s twice",
				 (int)rec.name_len, rec.name);
			return -1;
		}
		se = srv_registry_add(r, rec.name, rec.name_len, rec.period,
				      rec.step_s);
		if (!se) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		srv__dump_apply(r, se, &rec, srv__dump_slot(v, i));
		/* The database's row may predate the step (learnt after the
		 * declaration, never snapshotted since): unknown here, so the
		 * series' next snapshot declares it with itself, as a restart
		 * through that snapshot needs. */
		se->store_step_s = 0;
		se->store_period = 0;
		if (progress && (i + 1) % step == 0)
			progress(ud, i + 1, h->count);
	}
	return 0;
}

void srv__dump_view_release(srv_dump_view *v)
{
	char why[64];
	size_t c;

	if (v->check) {
		/* Its threads read the file, not the slab: joined before
		 * anything is unmapped all the same. */
		srv__dump_check_wait(v, why, sizeof why);
		free((void *)v->check->crc);
		free(v->check);
	}
	if (!v->adopted && v->chunks)
		for (c = 0; c < v->nchunks; c++)
			if (v->chunks[c])
				munmap(v->chunks[c], (size_t)v->h.per_chunk *
							 v->h.slot_bytes);
	if (v->meta_map)
		munmap(v->meta_map, v->meta_map_len);
	free(v->offsets);
	free(v->chunks);
	memset(v, 0, sizeof *v);
}

/* Maps the records' section read-only (MAP_POPULATE: the page cache's
 * pages in one call) where it was read into a buffer: at 1M series that
 * copy of ~130 MB, and the buffer's first touch, were most of the map
 * phase's loop-thread time (bench/results/crash7-profile.md). The file is
 * never written once renamed into place (daemon/ckpt.h, dump.h), like the
 * slots that are mapped from it too. 0 or -1 (errno). */
static int map_meta(int fd, const io_dump_hdr *h, srv_dump_view *v)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t from = h->meta_off / page * page;
	size_t len = (size_t)(h->meta_off - from + h->meta_bytes);
	void *p;

	if (len == 0)
		len = 1;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
		 (off_t)from);
	if (p == MAP_FAILED)
		return -1;
	v->meta_map = p;
	v->meta_map_len = len;
	v->meta = (unsigned char *)p + (h->meta_off - from);
	return 0;
}

/* Opens, checks everything but the slots and maps path (srv__dump_open);
 * *crc: the slots' CRCs from the records. */
static int open_view(const srv *s, const char *path, uint64_t gen,
		     uint64_t hash, uint64_t count, srv_dump_view *v,
		     uint32_t **crcp, int *fdp, char *why, size_t whylen)
{
	unsigned char hdr[IO_DUMP_HDR_BYTES];
	uint32_t *crc = NULL;
	io_dump_hdr *h = &v->h;
	struct stat sb;
	int fd, rc = -1, err;

	memset(v, 0, sizeof *v);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)sb.st_size < IO_DUMP_HDR_BYTES ||
	    pread_all(fd, hdr, sizeof hdr, 0)) {
		snprintf(why, whylen, "truncated: %llu bytes",
			 (unsigned long long)sb.st_size);
		goto out;
	}
	if ((err = io_dump_hdr_decode(hdr, sizeof hdr, h)) != 0) {
		snprintf(why, whylen, "header: %s", io_dump_strerror(err));
		goto out;
	}
	if (check_hdr(s, h, gen, hash, count, (uint64_t)sb.st_size, why,
		      whylen))
		goto out;
	v->nchunks = (size_t)io_dump_nchunks(h);
	v->offsets = malloc((h->count ? h->count : 1) * sizeof *v->offsets);
	crc = malloc((h->count ? h->count : 1) * sizeof *crc);
	v->chunks = calloc(v->nchunks ? v->nchunks : 1, sizeof *v->chunks);
	if (!v->offsets || !crc || !v->chunks) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (map_meta(fd, h, v)) {
		snprintf(why, whylen, "cannot map the records: %s",
			 strerror(errno));
		goto out;
	}
	if (io_crc32c(0, v->meta, h->meta_bytes) != h->meta_crc) {
		snprintf(why, whylen, "records: checksum mismatch");
		goto out;
	}
	if (decode_recs(h, v->meta, v->offsets, crc, why, whylen))
		goto out;
	if (map_chunks(fd, h, v->chunks)) {
		snprintf(why, whylen, "cannot map: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc) {
		close(fd);
		free(crc);
		srv__dump_view_release(v);
		return rc;
	}
	*crcp = crc;
	*fdp = fd;
	return 0;
}

/* Starts the check of every slot (struct srv__dump_check); takes crc and
 * fd (closed once the check is done). */
static int check_start(srv_dump_view *v, uint32_t *crc, int fd, char *why,
		       size_t whylen)
{
	const io_dump_hdr *h = &v->h;
	srv__dump_check *k = calloc(1, sizeof *k);
	int i;

	if (!k) {
		close(fd);
		free(crc);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	k->h = h;
	k->fd = fd;
	k->crc = crc;
	k->per_piece =
	    PIECE_BYTES / h->slot_bytes ? PIECE_BYTES / h->slot_bytes : 1;
	if (k->per_piece > h->per_chunk)
		k->per_piece = h->per_chunk;
	k->pieces_per_chunk = (h->per_chunk + k->per_piece - 1) / k->per_piece;
	/* Whole chunks, then the last one's pieces up to count. */
	k->npieces =
	    h->count / h->per_chunk * k->pieces_per_chunk +
	    (h->count % h->per_chunk + k->per_piece - 1) / k->per_piece;
	atomic_init(&k->next, 0);
	atomic_init(&k->bad, 0);
	atomic_init(&k->read_err, 0);
	v->check = k;
	for (i = 0; i < 2; i++)
		k->started[i] =
		    pthread_create(&k->th[i], NULL, verify_pieces, k) == 0;
	return 0;
}

int srv__dump_check_wait(srv_dump_view *v, char *why, size_t whylen)
{
	srv__dump_check *k = v->check;
	size_t bad;
	int i, e;

	if (!k)
		return 0;
	if (!k->done) {
		/* The pieces left, here too; then the threads' last ones. */
		verify_pieces(k);
		for (i = 0; i < 2; i++)
			if (k->started[i])
				pthread_join(k->th[i], NULL);
		k->done = 1;
		close(k->fd);
		k->fd = -1;
	}
	bad = atomic_load(&k->bad);
	e = atomic_load(&k->read_err);
	if (bad) {
		snprintf(why, whylen, "slot %zu: checksum mismatch", bad - 1);
		return -1;
	}
	if (e) {
		snprintf(why, whylen, "slots: cannot read: %s",
			 e > 0 ? strerror(e) : "file too short");
		return -1;
	}
	return 0;
}

int srv__dump_open_bg(const srv *s, const char *path, uint64_t gen,
		      uint64_t hash, uint64_t count, srv_dump_view *v,
		      char *why, size_t whylen)
{
	uint32_t *crc;
	int fd;

	if (open_view(s, path, gen, hash, count, v, &crc, &fd, why, whylen))
		return -1;
	if (check_start(v, crc, fd, why, whylen)) {
		srv__dump_view_release(v);
		return -1;
	}
	return 0;
}

int srv__dump_open(const srv *s, const char *path, uint64_t gen, uint64_t hash,
		   uint64_t count, srv_dump_view *v, char *why, size_t whylen)
{
	if (srv__dump_open_bg(s, path, gen, hash, count, v, why, whylen))
		return -1;
	/* Every slot's checksum before anything is trusted. */
	if (srv__dump_check_wait(v, why, whylen)) {
		srv__dump_view_release(v);
		return -1;
	}
	return 0;
}

int srv_dump_load(srv *s, const char *path, uint64_t gen, uint64_t hash,
		  uint64_t count, int *dirty, char *why, size_t whylen,
		  void (*progress)(void *ud, uint64_t done, uint64_t total),
		  void *ud)
{
	srv_dump_view v;
	int rc;

	*dirty = 0;
	if (s->reg.n || s->reg.slab.nchunks) {
		snprintf(why, whylen, "the registry is not empty");
		return -1;
	}
	if (srv__dump_open(s, path, gen, hash, count, &v, why, whylen))
		return -1;
	*dirty = 1;
	srv_registry_reserve(&s->reg, (size_t)v.h.count);
	rc = srv__dump_adopt(s, &v, why, whylen);
	if (rc == 0)
		rc = build(s, &v, progress, ud, why, whylen);
	srv__dump_view_release(&v); /* the registry owns the chunks now */
	return rc;
}
