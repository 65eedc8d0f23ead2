/*
 * io/model_file.c: model file encoding and decoding (see model_file.h).
 *
 * Decoding checks in the order a reader would want the blame: complete
 * msgpack (else truncated), magic, version, checksum, structure,
 * architecture, then each tensor's shape and finiteness.
 */
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/grow.h"
#include "io/model_file.h"
#include "io/rpc.h"

const char *io_model_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case IO_MF_EIO:
		return "cannot read or write the model file";
	case IO_MF_ETRUNC:
		return "model file truncated";
	case IO_MF_EMAGIC:
		return "not a statecast model file (wrong magic)";
	case IO_MF_EVERSION:
		return "unsupported model file version";
	case IO_MF_ECHECKSUM:
		return "model file checksum mismatch (corrupted)";
	case IO_MF_EFORMAT:
		return "malformed model file structure";
	case IO_MF_ESHAPE:
		return "tensor shape mismatch";
	case IO_MF_ENONFINITE:
		return "non-finite weight in model file";
	case IO_MF_ENOMEM:
		return "out of memory";
	case IO_MF_EARCH:
		return "invalid architecture in model file";
	}
	return "unknown error";
}

static uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static const char *kind_name(int kind)
{
	switch (kind) {
	case SSM_LAYER_S4D:
		return "s4d";
	case SSM_LAYER_MAMBA:
		return "mamba";
	case SSM_LAYER_HIPPO:
		return "hippo";
	}
	return "?";
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_kv_int(msgpack_packer *pk, const char *k, int v)
{
	pack_cstr(pk, k);
	msgpack_pack_int(pk, v);
}

static void pack_body(msgpack_packer *pk, const ssm_model *m,
		      const ssm_model_arch *a)
{
	int i, l, nt = ssm_model_ntensors(m);
	unsigned char *le = NULL;

	msgpack_pack_map(pk, 2);
	pack_cstr(pk, "arch");
	msgpack_pack_map(pk, 6);
	pack_kv_int(pk, "horizon", a->horizon);
	pack_kv_int(pk, "gate", a->gate);
	pack_kv_int(pk, "max_period", a->max_period);
	pack_cstr(pk, "quantiles");
	msgpack_pack_array(pk, (size_t)a->nquantiles);
	for (i = 0; i < a->nquantiles; i++)
		msgpack_pack_float(pk, a->quantiles[i]);
	pack_kv_int(pk, "d_model", a->d_model);
	pack_cstr(pk, "layers");
	msgpack_pack_array(pk, (size_t)a->nlayers);
	for (l = 0; l < a->nlayers; l++) {
		msgpack_pack_map(pk, 4);
		pack_cstr(pk, "kind");
		pack_cstr(pk, kind_name(a->layer[l].kind));
		pack_kv_int(pk, "n_state", a->layer[l].n_state);
		pack_kv_int(pk, "expand", a->layer[l].expand);
		pack_kv_int(pk, "d_conv", a->layer[l].d_conv);
	}
	pack_cstr(pk, "tensors");
	msgpack_pack_array(pk, (size_t)nt);
	for (i = 0; i < nt; i++) {
		const ssm_tensor *t = ssm_model_tensor(m, i);
		size_t j;
		int dd;

		msgpack_pack_array(pk, 3);
		pack_cstr(pk, t->name);
		msgpack_pack_array(pk, (size_t)t->ndim);
		for (dd = 0; dd < t->ndim; dd++)
			msgpack_pack_int(pk, t->shape[dd]);
		/* Little-endian bytes whatever the host order. */
		le = realloc(le, t->n * 4 + 1);
		for (j = 0; le && j < t->n; j++) {
			uint32_t u;

			memcpy(&u, &t->data[j], 4);
			le[4 * j] = (unsigned char)u;
			le[4 * j + 1] = (unsigned char)(u >> 8);
			le[4 * j + 2] = (unsigned char)(u >> 16);
			le[4 * j + 3] = (unsigned char)(u >> 24);
		}
		msgpack_pack_bin(pk, t->n * 4);
		if (le)
			msgpack_pack_bin_body(pk, le, t->n * 4);
	}
	free(le);
}

int io__model_encode(const ssm_model *m, const ssm_model_arch *arch,
		     unsigned version, void **buf, size_t *len)
{
	msgpack_sbuffer body, file;
	msgpack_packer pk;

	msgpack_sbuffer_init(&body);
	msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
	pack_body(&pk, m, arch);
	msgpack_sbuffer_init(&file);
	msgpack_packer_init(&pk, &file, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	pack_cstr(&pk, IO_MODEL_MAGIC);
	msgpack_pack_unsigned_int(&pk, version);
	msgpack_pack_uint64(&pk, fnv1a64(body.data, body.size));
	msgpack_pack_bin(&pk, body.size);
	msgpack_pack_bin_body(&pk, body.data, body.size);
	msgpack_sbuffer_destroy(&body);
	if (!file.data) {
		msgpack_sbuffer_destroy(&file);
		return IO_MF_ENOMEM;
	}
	/* The sbuffer's memory is malloc'd: hand it over as is. */
	*buf = file.data;
	*len = file.size;
	return 0;
}

int io_model_save_mem(const ssm_model *m, void **buf, size_t *len)
{
	int i;
	size_t j;

	for (i = 0; i < ssm_model_ntensors(m); i++) {
		const ssm_tensor *t = ssm_model_tensor(m, i);
		for (j = 0; j < t->n; j++)
			if (!isfinite(t->data[j]))
				return IO_MF_ENONFINITE;
	}
	return io__model_encode(m, ssm_model_get_arch(m), IO_MODEL_VERSION, buf,
				len);
}

int io_model_save(const ssm_model *m, const char *path)
{
	char tmp[4096];
	void *buf;
	size_t len;
	FILE *f;
	int err, ok;

	if ((err = io_model_save_mem(m, &buf, &len)) != 0)
		return err;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		free(buf);
		return IO_MF_EIO;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		free(buf);
		return IO_MF_EIO;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	free(buf);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return IO_MF_EIO;
	}
	return 0;
}

/* ---- decoding ---- */

typedef struct dctx {
	char *msg;
	size_t msglen;
} dctx;

__attribute__((format(printf, 3, 4))) static int fail(dctx *c, int err,
						      const char *fmt, ...)
{
	va_list ap;

	if (c->msg && c->msglen) {
		va_start(ap, fmt);
		vsnprintf(c->msg, c->msglen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int str_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++)
		if (str_is(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

/* A non-negative integer that fits an int, or -1. */
static int as_int(const msgpack_object *o)
{
	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > 1000000000ULL)
		return -1;
	return (int)o->via.u64;
}

static int decode_arch(dctx *c, const msgpack_object *ao, ssm_model_arch *a)
{
	const msgpack_object *q, *ly;
	uint32_t i;

	memset(a, 0, sizeof *a);
	q = map_get(ao, "quantiles");
	ly = map_get(ao, "layers");
	a->horizon = as_int(map_get(ao, "horizon"));
	a->d_model = as_int(map_get(ao, "d_model"));
	a->max_period = as_int(map_get(ao, "max_period"));
	a->gate = as_int(map_get(ao, "gate"));
	if (a->horizon < 0 || a->d_model < 0 || a->max_period < 0 ||
	    a->gate < 0 || !q || q->type != MSGPACK_OBJECT_ARRAY || !ly ||
	    ly->type != MSGPACK_OBJECT_ARRAY)
		return fail(c, IO_MF_EFORMAT,
			    "arch needs horizon, max_period, gate, d_model, "
			    "quantiles, layers");
	if (q->via.array.size > SSM_MAX_Q ||
	    ly->via.array.size > SSM_MAX_LAYERS)
		return fail(c, IO_MF_EARCH,
			    "%u quantiles / %u layers exceed this build's "
			    "limits (%d / %d)",
			    q->via.array.size, ly->via.array.size, SSM_MAX_Q,
			    SSM_MAX_LAYERS);
	a->nquantiles = (int)q->via.array.size;
	for (i = 0; i < q->via.array.size; i++) {
		const msgpack_object *e = &q->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_FLOAT32 &&
		    e->type != MSGPACK_OBJECT_FLOAT64)
			return fail(c, IO_MF_EFORMAT, "quantile %u not a float",
				    i);
		a->quantiles[i] = (float)e->via.f64;
	}
	a->nlayers = (int)ly->via.array.size;
	for (i = 0; i < ly->via.array.size; i++) {
		const msgpack_object *e = &ly->via.array.ptr[i];
		const msgpack_object *k = map_get(e, "kind");
		ssm_layer_spec *s = &a->layer[i];

		if (!k)
			return fail(c, IO_MF_EFORMAT, "layer %u has no kind",
				    i);
		if (str_is(k, "s4d"))
			s->kind = SSM_LAYER_S4D;
		else if (str_is(k, "mamba"))
			s->kind = SSM_LAYER_MAMBA;
		else if (str_is(k, "hippo"))
			s->kind = SSM_LAYER_HIPPO;
		else
			return fail(c, IO_MF_EARCH, "layer %u: unknown kind",
				    i);
		s->n_state = as_int(map_get(e, "n_state"));
		s->expand = as_int(map_get(e, "expand"));
		s->d_conv = as_int(map_get(e, "d_conv"));
		if (s->n_state < 0 || s->expand < 0 || s->d_conv < 0)
			return fail(c, IO_MF_EFORMAT,
				    "layer %u: n_state, expand, d_conv must "
				    "be non-negative integers",
				    i);
	}
	if (ssm_model_arch_check(a) != 0)
		return fail(c, IO_MF_EARCH,
			    "architecture rejected: horizon %d, %d quantiles, "
			    "d_model %d, %d layers",
			    a->horizon, a->nquantiles, a->d_model, a->nlayers);
	return 0;
}

static int shape_str(char *s, size_t n, const int *shape, int ndim)
{
	size_t used = 0;
	int i;

	s[0] = 0;
	for (i = 0; i < ndim && used < n; i++)
		used += (size_t)snprintf(s + used, n - used, "%s%d",
					 i ? "x" : "", shape[i]);
	return 0;
}

static int decode_tensors(dctx *c, const msgpack_object *to, ssm_model *m)
{
	int nt = ssm_model_ntensors(m), seen[256] = {0};
	uint32_t i;

	if (nt > 256)
		return fail(c, IO_MF_EARCH, "too many tensors");
	if (!to || to->type != MSGPACK_OBJECT_ARRAY)
		return fail(c, IO_MF_EFORMAT, "no tensor list");
	for (i = 0; i < to->via.array.size; i++) {
		const msgpack_object *e = &to->via.array.ptr[i], *nm, *sh, *bn;
		const ssm_tensor *t = NULL;
		char name[SSM_TENSOR_NAME_MAX], want[64], got[64];
		int shape[4], ndim, j, ti = -1;
		size_t k, n = 1;

		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3)
			return fail(c, IO_MF_EFORMAT, "tensor %u malformed", i);
		nm = &e->via.array.ptr[0];
		sh = &e->via.array.ptr[1];
		bn = &e->via.array.ptr[2];
		if (nm->type != MSGPACK_OBJECT_STR ||
		    nm->via.str.size >= sizeof name ||
		    sh->type != MSGPACK_OBJECT_ARRAY ||
		    bn->type != MSGPACK_OBJECT_BIN)
			return fail(c, IO_MF_EFORMAT, "tensor %u malformed", i);
		memcpy(name, nm->via.str.ptr, nm->via.str.size);
		name[nm->via.str.size] = 0;
		for (j = 0; j < nt; j++)
			if (strcmp(ssm_model_tensor(m, j)->name, name) == 0)
				ti = j;
		if (ti < 0)
			return fail(c, IO_MF_ESHAPE,
				    "tensor %s is not part of the architecture",
				    name);
		if (seen[ti]++)
			return fail(c, IO_MF_ESHAPE, "tensor %s appears twice",
				    name);
		t = ssm_model_tensor(m, ti);
		ndim = (int)sh->via.array.size;
		if (ndim > 4)
			return fail(c, IO_MF_ESHAPE, "tensor %s has %d dims",
				    name, ndim);
		for (j = 0; j < ndim; j++) {
			shape[j] = as_int(&sh->via.array.ptr[j]);
			if (shape[j] < 0)
				return fail(c, IO_MF_EFORMAT,
					    "tensor %s: bad dimension", name);
			n *= (size_t)shape[j];
		}
		shape_str(want, sizeof want, t->shape, t->ndim);
		shape_str(got, sizeof got, shape, ndim);
		if (ndim != t->ndim ||
		    memcmp(shape, t->shape, sizeof(int) * (size_t)ndim) != 0)
			return fail(
			    c, IO_MF_ESHAPE,
			    "tensor %s is %s, the architecture wants %s", name,
			    got, want);
		if (bn->via.bin.size != n * 4)
			return fail(c, IO_MF_ESHAPE,
				    "tensor %s: %u bytes of data for shape %s",
				    name, bn->via.bin.size, got);
		for (k = 0; k < n; k++) {
			const unsigned char *b =
			    (const unsigned char *)bn->via.bin.ptr + 4 * k;
			uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
				     (uint32_t)b[2] << 16 |
				     (uint32_t)b[3] << 24;
			float v;

			memcpy(&v, &u, 4);
			if (!isfinite(v))
				return fail(c, IO_MF_ENONFINITE,
					    "tensor %s element %zu is %g", name,
					    k, (double)v);
			t->data[k] = v;
		}
	}
	for (i = 0; i < (uint32_t)nt; i++)
		if (!seen[i])
			return fail(c, IO_MF_ESHAPE, "tensor %s is missing",
				    ssm_model_tensor(m, (int)i)->name);
	return 0;
}

/*
 * msgpack-c preallocates every container from its declared count, so a few
 * bytes declaring 2^32 elements make it ask for ~100 GB (fuzz_model found
 * this in the header). The pre-scan of io/rpc.h refuses, before msgpack-c
 * runs, a file whose containers declare more objects in total than
 * max(file size, 1M): a real model file has a few hundred (tensors are
 * bins). Payload lengths are not capped here: a truncated file must still
 * reach msgpack-c and be reported as truncated.
 */
static int bounded(dctx *c, const void *p, size_t n)
{
	size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
	rpc_limits lim = {SIZE_MAX, 16,
			  cap < UINT32_MAX ? (uint32_t)cap : UINT32_MAX};
	rpc_scan s;
	size_t fl;
	int r;

	rpc_scan_init(&s);
	r = rpc_scan_frame(&s, p, n, &lim, &fl);
	if (r == RPC_ECOUNT || r == RPC_EDEPTH)
		return fail(c, IO_MF_EFORMAT,
			    "msgpack containers declare too much (%s)",
			    rpc_strerror(r));
	return 0;
}

static int decode_body(dctx *c, const char *p, size_t n, ssm_model **out)
{
	msgpack_unpacked u;
	size_t off = 0;
	ssm_model_arch a;
	ssm_model *m = NULL;
	const msgpack_object *ao, *to;
	int err;

	msgpack_unpacked_init(&u);
	if ((err = bounded(c, p, n)) != 0)
		goto out;
	if (msgpack_unpack_next(&u, p, n, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != n) {
		err = fail(c, IO_MF_EFORMAT, "body is not one msgpack map");
		goto out;
	}
	ao = map_get(&u.data, "arch");
	to = map_get(&u.data, "tensors");
	if (!ao || !to) {
		err = fail(c, IO_MF_EFORMAT, "body needs arch and tensors");
		goto out;
	}
	if ((err = decode_arch(c, ao, &a)) != 0)
		goto out;
	if (ssm_model_new(&m, &a) != 0) {
		err = fail(c, IO_MF_EARCH, "cannot build the architecture");
		goto out;
	}
	if ((err = decode_tensors(c, to, m)) != 0)
		goto out;
	if (ssm_model_refresh(m) != 0) {
		err = fail(c, IO_MF_ENONFINITE, "derived weights not finite");
		goto out;
	}
	*out = m;
	m = NULL;
	err = 0;
out:
	ssm_model_free(m);
	msgpack_unpacked_destroy(&u);
	return err;
}

int io_model_load_mem(const void *buf, size_t len, ssm_model **out, char *msg,
		      size_t msglen)
{
	dctx c = {msg, msglen};
	msgpack_unpacked u;
	msgpack_unpack_return r;
	const msgpack_object *f;
	/* fixarray(4), fixstr(15), the magic's characters. */
	static const char hdr[] = "\x94\xaf" IO_MODEL_MAGIC;
	size_t off = 0, n;
	uint64_t sum;
	int err;

	if (!out || (!buf && len))
		return IO_MF_EFORMAT;
	*out = NULL;
	if (msg && msglen)
		msg[0] = 0;
	/* The header's bytes are fixed: blame the magic before parsing. */
	n = len < sizeof hdr - 1 ? len : sizeof hdr - 1;
	if (memcmp(buf, hdr, n) != 0)
		return fail(&c, IO_MF_EMAGIC, "no \"%s\" header",
			    IO_MODEL_MAGIC);
	msgpack_unpacked_init(&u);
	if ((err = bounded(&c, buf, len)) != 0)
		goto out;
	r = msgpack_unpack_next(&u, buf, len, &off);
	if (r == MSGPACK_UNPACK_CONTINUE) {
		err = fail(&c, IO_MF_ETRUNC, "file ends after %zu bytes", len);
		goto out;
	}
	if ((r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) ||
	    u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size < 1 ||
	    !str_is(&u.data.via.array.ptr[0], IO_MODEL_MAGIC)) {
		err =
		    fail(&c, IO_MF_EMAGIC, "no \"%s\" header", IO_MODEL_MAGIC);
		goto out;
	}
	f = u.data.via.array.ptr;
	if (u.data.via.array.size != 4 ||
	    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		err = fail(&c, IO_MF_EFORMAT,
			   "header is not [magic, "
			   "version, checksum, body]");
		goto out;
	}
	if (f[1].via.u64 != IO_MODEL_VERSION) {
		err = fail(&c, IO_MF_EVERSION,
			   "file version %llu, this build reads version %d",
			   (unsigned long long)f[1].via.u64, IO_MODEL_VERSION);
		goto out;
	}
	if (f[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    f[3].type != MSGPACK_OBJECT_BIN || off != len) {
		err = fail(&c, IO_MF_EFORMAT,
			   "header is not [magic, "
			   "version, checksum, body]");
		goto out;
	}
	sum = fnv1a64(f[3].via.bin.ptr, f[3].via.bin.size);
	if (sum != f[2].via.u64) {
		err = fail(&c, IO_MF_ECHECKSUM,
			   "checksum %016llx, body hashes to %016llx",
			   (unsigned long long)f[2].via.u64,
			   (unsigned long long)sum);
		goto out;
	}
	err = decode_body(&c, f[3].via.bin.ptr, f[3].via.bin.size, out);
out:
	msgpack_unpacked_destroy(&u);
	return err;
}

int io_model_load(const char *path, ssm_model **out, char *msg, size_t msglen)
{
	dctx c = {msg, msglen};
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int err;

	if (out)
		*out = NULL;
	if (!f)
		return fail(&c, IO_MF_EIO, "%s: %s", path, strerror(errno));
	for (;;) {
		if (io_grow(&buf, &cap, len + 1, 1, 65536)) {
			free(buf);
			fclose(f);
			return IO_MF_ENOMEM;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return fail(&c, IO_MF_EIO, "%s: read error", path);
	}
	fclose(f);
	err = io_model_load_mem(buf, len, out, msg, msglen);
	free(buf);
	return err;
}
