/*
 * io/store_batch.c: building batches on the loop thread.
 *
 * A batch is what one loop tick hands to the writer: a few flat arrays that
 * grow geometrically, so appending a sample is a store into an array. Data
 * the loop keeps mutating (forecast arrays, state blocks) is copied here;
 * encoding and checksumming the snapshot is left to the writer thread.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "io/store_int.h"

/* The batch's arrays grow by io_grow; a failure is the store's ENOMEM.
 * Inline, so that an append into room already there (a reserved batch)
 * costs a compare, not a call. */
static inline int grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	return io_grow(p, cap, need, elem, 16) ? STORE_ENOMEM : 0;
}

store_batch *store_batch_new(void)
{
	return calloc(1, sizeof(store_batch));
}

void store_batch_free(store_batch *b)
{
	if (!b)
		return;
	free(b->ser);
	free(b->smp);
	free(b->fc);
	free(b->snap);
	free(b->drop);
	free(b->fpool);
	free(b->cpool);
	free(b);
}

void store__batch_release_all(store_batch *b)
{
	store_batch *n;

	for (; b; b = n) {
		n = b->next;
		store_batch_free(b);
	}
}

size_t store_batch_rows(const store_batch *b)
{
	return b->ndrop + b->nser + b->nsmp + b->nfc + b->nsnap +
	       (b->ckpt_gen != 0);
}

size_t store_batch_bytes(const store_batch *b)
{
	return sizeof *b + b->cser * sizeof *b->ser + b->csmp * sizeof *b->smp +
	       b->cfc * sizeof *b->fc + b->csnap * sizeof *b->snap +
	       b->cdrop * sizeof *b->drop + b->cf * sizeof *b->fpool + b->cc;
}

/* Exactly `need` elements when the array holds fewer, not a power of two
 * of `first`: io_grow's doubling is for arrays of unknown size. */
static int reserve(void *p, size_t *cap, size_t need, size_t elem)
{
	void **pp = p;
	void *n;

	if (need <= *cap)
		return 0;
	if (need > SIZE_MAX / elem)
		return STORE_ENOMEM;
	n = realloc(*pp, need * elem);
	if (!n)
		return STORE_ENOMEM;
	*pp = n;
	*cap = need;
	return 0;
}

int store_batch_reserve(store_batch *b, size_t samples, size_t forecasts, int H,
			int Q)
{
	size_t per;

	if (!b || (forecasts && (H < 1 || Q < 1 || H > 100000 || Q > 1000)))
		return STORE_EINVAL;
	per = forecasts ? (size_t)Q + (size_t)Q * H + (size_t)H : 0;
	if (samples > SIZE_MAX - b->nsmp || forecasts > SIZE_MAX - b->nfc ||
	    (per && forecasts > (SIZE_MAX - b->nf) / per))
		return STORE_ENOMEM;
	if (reserve(&b->smp, &b->csmp, b->nsmp + samples, sizeof *b->smp) ||
	    reserve(&b->fc, &b->cfc, b->nfc + forecasts, sizeof *b->fc) ||
	    reserve(&b->fpool, &b->cf, b->nf + forecasts * per,
		    sizeof *b->fpool))
		return STORE_ENOMEM;
	return 0;
}

static int put_str(store_batch *b, const char *str, size_t *off)
{
	size_t n = strlen(str) + 1;

	if (grow(&b->cpool, &b->cc, b->nc + n, 1))
		return STORE_ENOMEM;
	memcpy(b->cpool + b->nc, str, n);
	*off = b->nc;
	b->nc += n;
	return 0;
}

static int put_floats(store_batch *b, size_t n, size_t *off)
{
	if (grow(&b->fpool, &b->cf, b->nf + n, sizeof(float)))
		return STORE_ENOMEM;
	*off = b->nf;
	b->nf += n;
	return 0;
}

int store_batch_series(store_batch *b, int64_t id, const char *name,
		       const char *tags, double step_s, int period,
		       double created)
{
	sb_series *r;

	if (!b || !name || id <= 0 || !(step_s >= 0) || !isfinite(step_s) ||
	    period < 1)
		return STORE_EINVAL;
	if (grow(&b->ser, &b->cser, b->nser + 1, sizeof(*r)))
		return STORE_ENOMEM;
	r = &b->ser[b->nser];
	r->id = id;
	r->step_s = step_s;
	r->period = period;
	r->created = created;
	if (put_str(b, name, &r->name_off) ||
	    put_str(b, tags ? tags : "", &r->tags_off))
		return STORE_ENOMEM;
	b->nser++;
	return 0;
}

int store_batch_drop_series(store_batch *b, int64_t id)
{
	if (!b || id <= 0)
		return STORE_EINVAL;
	if (grow(&b->drop, &b->cdrop, b->ndrop + 1, sizeof(int64_t)))
		return STORE_ENOMEM;
	b->drop[b->ndrop++] = id;
	return 0;
}

int store_batch_sample(store_batch *b, int64_t series_id, int64_t seq, double t,
		       double value)
{
	sb_sample *r;

	if (!b || series_id <= 0 || seq <= 0 || !isfinite(t))
		return STORE_EINVAL;
	if (grow(&b->smp, &b->csmp, b->nsmp + 1, sizeof(*r)))
		return STORE_ENOMEM;
	r = &b->smp[b->nsmp++];
	r->sid = series_id;
	r->seq = seq;
	r->t = t;
	r->v = value;
	return 0;
}

int store_batch_forecast(store_batch *b, int64_t series_id, double t, int H,
			 int Q, const float *levels, const float *q,
			 const float *mean)
{
	sb_forecast *r;
	size_t off;
	float *f, *p;
	int h, k, mid = 1;

	if (!b || series_id <= 0 || !isfinite(t) || H < 1 || Q < 1 ||
	    H > 100000 || Q > 1000 || !levels || !q || !mean)
		return STORE_EINVAL;
	/* The shipped models' mean is their median, the middle quantile,
	 * bit for bit (ssm/kern_serve.c): such a row stores its mean as an
	 * empty blob, which readers take as the middle quantile's row
	 * (schema 6; a quarter of the row, bench/results/thr6-cut.md). The
	 * bits are compared, so a NaN or a -0 is kept as it was. */
	if (Q % 2 == 0)
		mid = 0;
	for (h = 0; mid && h < H; h++)
		mid =
		    !memcmp(&mean[h], &q[(size_t)h * Q + Q / 2], sizeof(float));
	if (grow(&b->fc, &b->cfc, b->nfc + 1, sizeof(*r)) ||
	    put_floats(b, (size_t)Q + (size_t)Q * H + (mid ? 0 : H), &off))
		return STORE_ENOMEM;
	f = b->fpool + off;
	memcpy(f, levels, (size_t)Q * sizeof(float));
	/* ssm_forecast is horizon-major; stored quantile-major so that one
	 * quantile's path over the horizons is one contiguous array. The
	 * default model's three quantiles by a loop of its own (q read in
	 * order, three write streams): 664 instructions a forecast at H 48
	 * against 1,065 with the general loop (callgrind). */
	p = f + Q;
	if (Q == 3)
		for (h = 0; h < H; h++, q += 3) {
			p[h] = q[0];
			p[H + h] = q[1];
			p[2 * (size_t)H + h] = q[2];
		}
	else
		for (k = 0; k < Q; k++)
			for (h = 0; h < H; h++)
				p[(size_t)k * H + h] = q[(size_t)h * Q + k];
	if (!mid)
		memcpy(f + Q + (size_t)Q * H, mean, (size_t)H * sizeof(float));
	r = &b->fc[b->nfc++];
	r->sid = series_id;
	r->t = t;
	r->H = H;
	r->Q = Q;
	r->mean_mid = mid;
	r->off = off;
	return 0;
}

int store_batch_checkpoint(store_batch *b, uint64_t gen)
{
	if (!b || !gen || gen > INT64_MAX)
		return STORE_EINVAL;
	b->ckpt_gen = gen;
	return 0;
}

int store_batch_snapshot(store_batch *b, int64_t series_id,
			 const char *model_id, uint64_t model_hash, double t,
			 uint64_t seen, const float *state, uint32_t nfloats)
{
	sb_snapshot *r;
	size_t off, moff;

	if (!b || series_id <= 0 || !model_id || (nfloats && !state) ||
	    nfloats > IO_SNAP_MAX_FLOATS)
		return STORE_EINVAL;
	if (grow(&b->snap, &b->csnap, b->nsnap + 1, sizeof(*r)) ||
	    put_floats(b, nfloats, &off) || put_str(b, model_id, &moff))
		return STORE_ENOMEM;
	if (nfloats)
		memcpy(b->fpool + off, state, (size_t)nfloats * sizeof(float));
	r = &b->snap[b->nsnap++];
	r->sid = series_id;
	r->hash = model_hash;
	r->seen = seen;
	r->t = t;
	r->n = nfloats;
	r->off = off;
	r->mid_off = moff;
	return 0;
}
